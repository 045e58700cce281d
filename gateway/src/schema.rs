//! What response shaping needs to know about the consumer schema (the supergraph without its
//! federation internals): each type's kind, each field's type, and the object types an interface
//! or union stands for.

use std::collections::BTreeSet;

use graphql_tools::static_graphql::schema::{Definition, Document, Type, TypeDefinition};
// Looked up for every field of every response, with keys from the schema (not from callers):
// FxHash, not the DoS-resistant default.
use rustc_hash::FxHashMap as HashMap;

/// A field's type with its list and non-null wrappers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    Named(String),
    List(Box<FieldType>),
    NonNull(Box<FieldType>),
}

impl FieldType {
    pub fn from_ast(t: &Type) -> FieldType {
        match t {
            Type::NamedType(n) => FieldType::Named(n.clone()),
            Type::ListType(inner) => FieldType::List(Box::new(FieldType::from_ast(inner))),
            Type::NonNullType(inner) => FieldType::NonNull(Box::new(FieldType::from_ast(inner))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Interface,
    Union,
    /// An enum: its values are checked against the ones the API schema keeps.
    Enum,
    Leaf,
    Input,
}

#[derive(Debug)]
pub struct TypeInfo {
    pub kind: Kind,
    /// Output fields of objects and interfaces; input fields of input objects.
    pub fields: HashMap<String, FieldType>,
    /// For interfaces and unions: the object types that can stand in their place.
    pub possible: BTreeSet<String>,
    /// For enums: the values of the API schema (`@inaccessible` ones are not among them). For
    /// input objects: the fields with a default value.
    pub values: BTreeSet<String>,
}

/// The consumer schema, indexed.
#[derive(Debug)]
pub struct SchemaIndex {
    pub types: HashMap<String, TypeInfo>,
    pub query: String,
    pub mutation: Option<String>,
    /// The supergraph's `@cacheControl` hints, for the response cache (filled by the gateway:
    /// the consumer schema this index is built from does not carry them).
    pub cache_hints: crate::cache::hints::CacheHints,
    /// The keys each subgraph resolves entities by (filled by the gateway from the supergraph).
    pub keys: crate::keys::EntityKeys,
}

impl SchemaIndex {
    pub fn new(doc: &Document) -> SchemaIndex {
        let mut types: HashMap<String, TypeInfo> = HashMap::default();
        let mut implements: Vec<(String, String)> = Vec::new();
        let mut query = "Query".to_owned();
        let mut mutation = None;
        for def in &doc.definitions {
            match def {
                Definition::SchemaDefinition(s) => {
                    if let Some(q) = &s.query {
                        query = q.clone();
                    }
                    mutation = s.mutation.clone();
                }
                Definition::TypeDefinition(td) => {
                    let (name, info) = match td {
                        TypeDefinition::Object(o) => {
                            for i in &o.implements_interfaces {
                                implements.push((i.clone(), o.name.clone()));
                            }
                            let fields = o
                                .fields
                                .iter()
                                .map(|f| (f.name.clone(), FieldType::from_ast(&f.field_type)));
                            (o.name.clone(), info(Kind::Object, fields.collect(), BTreeSet::new()))
                        }
                        TypeDefinition::Interface(i) => {
                            let fields = i
                                .fields
                                .iter()
                                .map(|f| (f.name.clone(), FieldType::from_ast(&f.field_type)));
                            (i.name.clone(), info(Kind::Interface, fields.collect(), BTreeSet::new()))
                        }
                        TypeDefinition::Union(u) => (
                            u.name.clone(),
                            info(Kind::Union, HashMap::default(), u.types.iter().cloned().collect()),
                        ),
                        TypeDefinition::Scalar(s) => {
                            (s.name.clone(), info(Kind::Leaf, HashMap::default(), BTreeSet::new()))
                        }
                        TypeDefinition::Enum(e) => {
                            let mut t = info(Kind::Enum, HashMap::default(), BTreeSet::new());
                            t.values = e.values.iter().map(|v| v.name.clone()).collect();
                            (e.name.clone(), t)
                        }
                        TypeDefinition::InputObject(i) => {
                            let fields = i
                                .fields
                                .iter()
                                .map(|f| (f.name.clone(), FieldType::from_ast(&f.value_type)));
                            let mut t = info(Kind::Input, fields.collect(), BTreeSet::new());
                            t.values = i
                                .fields
                                .iter()
                                .filter(|f| f.default_value.is_some())
                                .map(|f| f.name.clone())
                                .collect();
                            (i.name.clone(), t)
                        }
                    };
                    types.insert(name, info);
                }
                _ => {}
            }
        }
        if mutation.is_none() && types.contains_key("Mutation") {
            mutation = Some("Mutation".to_owned());
        }
        for (interface, object) in implements {
            if let Some(t) = types.get_mut(&interface) {
                t.possible.insert(object);
            }
        }
        // The planner's API schema keeps `@inaccessible` members in a union's list while dropping
        // their definitions: such a member is not a possible type of the API.
        let defined: BTreeSet<String> = types.keys().cloned().collect();
        for t in types.values_mut() {
            t.possible.retain(|p| defined.contains(p));
        }
        for leaf in ["String", "Int", "Float", "Boolean", "ID"] {
            types
                .entry(leaf.to_owned())
                .or_insert_with(|| info(Kind::Leaf, HashMap::default(), BTreeSet::new()));
        }
        SchemaIndex {
            types,
            query,
            mutation,
            cache_hints: Default::default(),
            keys: Default::default(),
        }
    }

    pub fn kind(&self, type_name: &str) -> Option<Kind> {
        self.types.get(type_name).map(|t| t.kind)
    }

    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldType> {
        self.types.get(type_name)?.fields.get(field)
    }

    /// Whether a fragment with type condition `condition` applies to an object of type `object`.
    pub fn applies(&self, condition: &str, object: &str) -> bool {
        condition == object || self.types.get(condition).is_some_and(|t| t.possible.contains(object))
    }
}

fn info(kind: Kind, fields: HashMap<String, FieldType>, possible: BTreeSet<String>) -> TypeInfo {
    TypeInfo {
        kind,
        fields,
        possible,
        values: BTreeSet::new(),
    }
}
