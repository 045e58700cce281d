//! Answers `__schema`, `__type` and `__typename` from the API schema (the consumer schema: the
//! supergraph without its federation internals and `@inaccessible` elements, with the
//! introspection types the planner adds to it).
//!
//! The answer is read straight off the schema document, with no second schema built beside it:
//! a schema library would check the document again and could refuse what GraphQL allows (a
//! covariant interface field such as `Book.similar: [Book]` for `Similar.similar: [Product]`),
//! so any supergraph the planner accepts can be introspected. What the walk needs of the
//! document (every referenced type defined, interfaces that exist) is checked once at load.

use std::{collections::HashMap, sync::Arc};

use graphql_tools::static_graphql::{
    query::{self as q, FragmentDefinition, Selection, SelectionSet, TypeCondition},
    schema::{self as s, Definition, Document, TypeDefinition},
};
use serde_json::{Map, Value};

use crate::{
    response::{Data, GraphqlError, Response},
    shape::included,
};

/// The consumer schema, indexed for introspection.
pub struct Introspection {
    doc: Arc<Document>,
    /// Type name → position in `doc.definitions`.
    types: HashMap<String, usize>,
    /// Interface name → the object types implementing it, in document order.
    implementations: HashMap<String, Vec<String>>,
    directives: Vec<usize>,
    query: String,
    mutation: Option<String>,
    subscription: Option<String>,
    description: Option<String>,
}

/// An introspection object being resolved.
#[derive(Clone, Copy)]
enum Obj<'s> {
    Schema,
    /// A named type.
    Named(&'s TypeDefinition),
    /// A list or non-null wrapper (its `ofType` is inside).
    Wrapper(&'s s::Type),
    Field(&'s s::Field),
    Input(&'s s::InputValue),
    EnumValue(&'s s::EnumValue),
    Directive(&'s s::DirectiveDefinition),
}

impl Obj<'_> {
    fn typename(&self) -> &'static str {
        match self {
            Obj::Schema => "__Schema",
            Obj::Named(_) | Obj::Wrapper(_) => "__Type",
            Obj::Field(_) => "__Field",
            Obj::Input(_) => "__InputValue",
            Obj::EnumValue(_) => "__EnumValue",
            Obj::Directive(_) => "__Directive",
        }
    }
}

fn type_name(t: &TypeDefinition) -> &str {
    match t {
        TypeDefinition::Scalar(x) => &x.name,
        TypeDefinition::Object(x) => &x.name,
        TypeDefinition::Interface(x) => &x.name,
        TypeDefinition::Union(x) => &x.name,
        TypeDefinition::Enum(x) => &x.name,
        TypeDefinition::InputObject(x) => &x.name,
    }
}

fn named(t: &s::Type) -> &str {
    match t {
        s::Type::NamedType(n) => n,
        s::Type::ListType(inner) | s::Type::NonNullType(inner) => named(inner),
    }
}

/// `@deprecated(reason:)`: whether it is there, and its reason (the spec's default when absent).
fn deprecation(directives: &[s::Directive]) -> Option<String> {
    let d = directives.iter().find(|d| d.name == "deprecated")?;
    Some(
        d.arguments
            .iter()
            .find(|(n, _)| n == "reason")
            .and_then(|(_, v)| match v {
                q::Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "No longer supported".to_owned()),
    )
}

impl Introspection {
    /// Indexes `doc`; refuses a schema whose fields, arguments, members or interfaces name a
    /// type it does not define (introspection could not describe them, nor the gateway shape them).
    pub fn new(doc: Arc<Document>) -> Result<Introspection, String> {
        let mut types = HashMap::new();
        let mut directives = Vec::new();
        let mut implementations: HashMap<String, Vec<String>> = HashMap::new();
        let (mut query, mut mutation, mut subscription) = (None, None, None);
        // The supergraph's schema description is not carried into the API schema.
        let description = None;
        for (i, def) in doc.definitions.iter().enumerate() {
            match def {
                Definition::SchemaDefinition(sd) => {
                    query = sd.query.clone();
                    mutation = sd.mutation.clone();
                    subscription = sd.subscription.clone();
                }
                Definition::TypeDefinition(td) => {
                    if let TypeDefinition::Object(o) = td {
                        for interface in &o.implements_interfaces {
                            implementations
                                .entry(interface.clone())
                                .or_default()
                                .push(o.name.clone());
                        }
                    }
                    types.insert(type_name(td).to_owned(), i);
                }
                Definition::DirectiveDefinition(_) => directives.push(i),
                _ => {}
            }
        }
        let has = |n: &str| types.contains_key(n);
        let query = query.unwrap_or_else(|| "Query".to_owned());
        if !has(&query) {
            return Err(format!("the API schema has no query type {query}"));
        }
        let mutation = mutation.or_else(|| has("Mutation").then(|| "Mutation".to_owned()));
        let subscription = subscription.or_else(|| has("Subscription").then(|| "Subscription".to_owned()));
        let intro = Introspection {
            doc,
            types,
            implementations,
            directives,
            query,
            mutation,
            subscription,
            description,
        };
        intro.check()?;
        Ok(intro)
    }

    /// Every type reference resolves.
    fn check(&self) -> Result<(), String> {
        let missing = |owner: String, t: &str| -> Result<(), String> {
            if self.types.contains_key(t) {
                Ok(())
            } else {
                Err(format!(
                    "{owner} refers to type {t}, which the API schema does not define"
                ))
            }
        };
        for def in &self.doc.definitions {
            let Definition::TypeDefinition(td) = def else { continue };
            let owner = type_name(td);
            let fields: &[s::Field] = match td {
                TypeDefinition::Object(o) => &o.fields,
                TypeDefinition::Interface(i) => &i.fields,
                // The planner's API schema keeps `@inaccessible` members in a union's list (and
                // interfaces in `implements`) while dropping their definitions: those are left
                // out where they are listed, not refused.
                TypeDefinition::Union(_) => continue,
                TypeDefinition::InputObject(i) => {
                    for f in &i.fields {
                        missing(format!("{owner}.{}", f.name), named(&f.value_type))?;
                    }
                    continue;
                }
                _ => continue,
            };
            for f in fields {
                missing(format!("{owner}.{}", f.name), named(&f.field_type))?;
                for a in &f.arguments {
                    missing(format!("{owner}.{}({}:)", f.name, a.name), named(&a.value_type))?;
                }
            }
        }
        Ok(())
    }

    fn definition(&self, name: &str) -> Option<&TypeDefinition> {
        match self.doc.definitions.get(*self.types.get(name)?)? {
            Definition::TypeDefinition(td) => Some(td),
            _ => None,
        }
    }

    /// Runs the introspection operation `operation_name` of `query` (already validated).
    pub async fn execute(&self, query: &str, operation_name: Option<&str>, variables: &Map<String, Value>) -> Response {
        let doc = match graphql_tools::parser::parse_query::<String>(query) {
            Ok(d) => d.into_static(),
            Err(e) => {
                return Response::request_error(GraphqlError::new(e.to_string()).with_code("GRAPHQL_PARSE_FAILED"));
            }
        };
        let Some(op) = crate::gateway::select_operation(&doc, operation_name) else {
            return Response::request_error(GraphqlError::new("no such operation").with_code("BAD_REQUEST"));
        };
        let (selection, root) = match op {
            q::OperationDefinition::SelectionSet(s) => (s, self.query.as_str()),
            q::OperationDefinition::Query(o) => (&o.selection_set, self.query.as_str()),
            q::OperationDefinition::Mutation(o) => (&o.selection_set, self.mutation.as_deref().unwrap_or("Mutation")),
            q::OperationDefinition::Subscription(o) => {
                (&o.selection_set, self.subscription.as_deref().unwrap_or("Subscription"))
            }
        };
        let fragments = doc
            .definitions
            .iter()
            .filter_map(|d| match d {
                q::Definition::Fragment(f) => Some((f.name.as_str(), f)),
                q::Definition::Operation(_) => None,
            })
            .collect();
        let walk = Walk {
            intro: self,
            fragments,
            variables,
        };
        let mut data = Map::new();
        for (key, fields) in walk.collect(root, &[selection]) {
            let field = fields[0];
            let value = match field.name.as_str() {
                "__typename" => Value::from(root),
                "__schema" => walk.object(Obj::Schema, &fields),
                "__type" => match walk
                    .argument(field, "name")
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(|n| self.definition(n))
                {
                    Some(td) => walk.object(Obj::Named(td), &fields),
                    None => Value::Null,
                },
                // Data fields are refused before this (they go to the subgraphs).
                _ => continue,
            };
            data.insert(key.to_owned(), value);
        }
        Response {
            data: Some(Data::Json(Value::Object(data))),
            errors: Vec::new(),
        }
    }
}

struct Walk<'a> {
    intro: &'a Introspection,
    fragments: HashMap<&'a str, &'a FragmentDefinition>,
    variables: &'a Map<String, Value>,
}

impl<'a> Walk<'a> {
    /// CollectFields over the introspection type `type_name`.
    fn collect(&self, type_name: &str, selections: &[&'a SelectionSet]) -> Vec<(&'a str, Vec<&'a q::Field>)> {
        let mut out: Vec<(&'a str, Vec<&'a q::Field>)> = Vec::new();
        for s in selections {
            self.collect_into(type_name, s, &mut out);
        }
        out
    }

    fn collect_into(&self, type_name: &str, selection: &'a SelectionSet, out: &mut Vec<(&'a str, Vec<&'a q::Field>)>) {
        for item in &selection.items {
            match item {
                Selection::Field(f) if included(&f.directives, self.variables) => {
                    let key = f.alias.as_deref().unwrap_or(&f.name);
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, list)) => list.push(f),
                        None => out.push((key, vec![f])),
                    }
                }
                Selection::InlineFragment(i) if included(&i.directives, self.variables) => {
                    let applies = match &i.type_condition {
                        None => true,
                        Some(TypeCondition::On(c)) => c == type_name,
                    };
                    if applies {
                        self.collect_into(type_name, &i.selection_set, out);
                    }
                }
                Selection::FragmentSpread(sp) if included(&sp.directives, self.variables) => {
                    if let Some(def) = self.fragments.get(sp.fragment_name.as_str()) {
                        let TypeCondition::On(c) = &def.type_condition;
                        if c == type_name {
                            self.collect_into(type_name, &def.selection_set, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// An argument's value, variables resolved (JSON).
    fn argument(&self, field: &q::Field, name: &str) -> Option<Value> {
        let (_, v) = field.arguments.iter().find(|(n, _)| n == name)?;
        Some(self.value(v))
    }

    fn value(&self, v: &q::Value) -> Value {
        match v {
            q::Value::Variable(n) => self.variables.get(n).cloned().unwrap_or(Value::Null),
            q::Value::Null => Value::Null,
            q::Value::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
            q::Value::Float(f) => Value::from(*f),
            q::Value::String(s) => Value::from(s.as_str()),
            q::Value::Boolean(b) => Value::from(*b),
            q::Value::Enum(e) => Value::from(e.as_str()),
            q::Value::List(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            q::Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), self.value(v))).collect()),
        }
    }

    fn include_deprecated(&self, field: &q::Field) -> bool {
        self.argument(field, "includeDeprecated")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// The object `obj` under the sub-selections of `fields` (the fields sharing one key).
    fn object(&self, obj: Obj<'a>, fields: &[&'a q::Field]) -> Value {
        let selections: Vec<&'a SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
        let mut out = Map::new();
        for (key, group) in self.collect(obj.typename(), &selections) {
            out.insert(key.to_owned(), self.resolve(obj, group[0], &group));
        }
        Value::Object(out)
    }

    fn list(&self, items: impl IntoIterator<Item = Obj<'a>>, fields: &[&'a q::Field]) -> Value {
        Value::Array(items.into_iter().map(|o| self.object(o, fields)).collect())
    }

    fn named_type(&self, name: &str, fields: &[&'a q::Field]) -> Value {
        match self.intro.definition(name) {
            Some(td) => self.object(Obj::Named(td), fields),
            None => Value::Null,
        }
    }

    fn type_ref(&self, t: &'a s::Type, fields: &[&'a q::Field]) -> Value {
        match t {
            s::Type::NamedType(n) => self.named_type(n, fields),
            wrapper => self.object(Obj::Wrapper(wrapper), fields),
        }
    }

    fn resolve(&self, obj: Obj<'a>, field: &'a q::Field, group: &[&'a q::Field]) -> Value {
        let intro = self.intro;
        let name = field.name.as_str();
        if name == "__typename" {
            return Value::from(obj.typename());
        }
        let text = |t: &Option<String>| t.as_ref().map_or(Value::Null, |s| Value::from(s.as_str()));
        let deprecated = |d: &[s::Directive]| {
            let reason = deprecation(d);
            (Value::from(reason.is_some()), reason.map_or(Value::Null, Value::from))
        };
        match obj {
            Obj::Schema => match name {
                "description" => text(&intro.description),
                "types" => self.list(
                    intro.doc.definitions.iter().filter_map(|d| match d {
                        Definition::TypeDefinition(td) => Some(Obj::Named(td)),
                        _ => None,
                    }),
                    group,
                ),
                "queryType" => self.named_type(&intro.query, group),
                "mutationType" => intro
                    .mutation
                    .as_deref()
                    .map_or(Value::Null, |m| self.named_type(m, group)),
                "subscriptionType" => intro
                    .subscription
                    .as_deref()
                    .map_or(Value::Null, |m| self.named_type(m, group)),
                "directives" => self.list(
                    intro
                        .directives
                        .iter()
                        .filter_map(|i| match &intro.doc.definitions[*i] {
                            Definition::DirectiveDefinition(d) => Some(Obj::Directive(d)),
                            _ => None,
                        }),
                    group,
                ),
                _ => Value::Null,
            },
            Obj::Wrapper(t) => match (name, t) {
                ("kind", s::Type::ListType(_)) => Value::from("LIST"),
                ("kind", _) => Value::from("NON_NULL"),
                ("ofType", s::Type::ListType(inner) | s::Type::NonNullType(inner)) => self.type_ref(inner, group),
                // name, description, fields, … are null on wrappers.
                _ => Value::Null,
            },
            Obj::Named(td) => self.resolve_type(td, name, field, group),
            Obj::Field(f) => match name {
                "name" => Value::from(f.name.as_str()),
                "description" => text(&f.description),
                "args" => {
                    let all = self.include_deprecated(field);
                    self.list(
                        f.arguments
                            .iter()
                            .filter(|a| all || deprecation(&a.directives).is_none())
                            .map(Obj::Input),
                        group,
                    )
                }
                "type" => self.type_ref(&f.field_type, group),
                "isDeprecated" => deprecated(&f.directives).0,
                "deprecationReason" => deprecated(&f.directives).1,
                _ => Value::Null,
            },
            Obj::Input(a) => match name {
                "name" => Value::from(a.name.as_str()),
                "description" => text(&a.description),
                "type" => self.type_ref(&a.value_type, group),
                "defaultValue" => a
                    .default_value
                    .as_ref()
                    .map_or(Value::Null, |v| Value::from(v.to_string())),
                "isDeprecated" => deprecated(&a.directives).0,
                "deprecationReason" => deprecated(&a.directives).1,
                _ => Value::Null,
            },
            Obj::EnumValue(v) => match name {
                "name" => Value::from(v.name.as_str()),
                "description" => text(&v.description),
                "isDeprecated" => deprecated(&v.directives).0,
                "deprecationReason" => deprecated(&v.directives).1,
                _ => Value::Null,
            },
            Obj::Directive(d) => match name {
                "name" => Value::from(d.name.as_str()),
                "description" => text(&d.description),
                "locations" => Value::Array(d.locations.iter().map(|l| Value::from(l.as_str())).collect()),
                "args" => {
                    let all = self.include_deprecated(field);
                    self.list(
                        d.arguments
                            .iter()
                            .filter(|a| all || deprecation(&a.directives).is_none())
                            .map(Obj::Input),
                        group,
                    )
                }
                "isRepeatable" => Value::from(d.repeatable),
                _ => Value::Null,
            },
        }
    }

    fn resolve_type(&self, td: &'a TypeDefinition, name: &str, field: &'a q::Field, group: &[&'a q::Field]) -> Value {
        let intro = self.intro;
        let text = |t: &Option<String>| t.as_ref().map_or(Value::Null, |s| Value::from(s.as_str()));
        let visible_fields = |fields: &'a [s::Field]| {
            let all = self.include_deprecated(field);
            // `__schema`/`__type` are meta-fields of the query type, not fields of it.
            self.list(
                fields
                    .iter()
                    .filter(|f| !f.name.starts_with("__"))
                    .filter(|f| all || deprecation(&f.directives).is_none())
                    .map(Obj::Field),
                group,
            )
        };
        // Only the types the API schema defines (see `check`).
        let interfaces = |names: &[String]| {
            Value::Array(
                names
                    .iter()
                    .filter(|n| intro.types.contains_key(n.as_str()))
                    .map(|n| self.named_type(n, group))
                    .collect(),
            )
        };
        match (name, td) {
            ("kind", _) => Value::from(match td {
                TypeDefinition::Scalar(_) => "SCALAR",
                TypeDefinition::Object(_) => "OBJECT",
                TypeDefinition::Interface(_) => "INTERFACE",
                TypeDefinition::Union(_) => "UNION",
                TypeDefinition::Enum(_) => "ENUM",
                TypeDefinition::InputObject(_) => "INPUT_OBJECT",
            }),
            ("name", _) => Value::from(type_name(td)),
            ("description", TypeDefinition::Scalar(x)) => text(&x.description),
            ("description", TypeDefinition::Object(x)) => text(&x.description),
            ("description", TypeDefinition::Interface(x)) => text(&x.description),
            ("description", TypeDefinition::Union(x)) => text(&x.description),
            ("description", TypeDefinition::Enum(x)) => text(&x.description),
            ("description", TypeDefinition::InputObject(x)) => text(&x.description),
            ("specifiedByURL", TypeDefinition::Scalar(x)) => x
                .directives
                .iter()
                .find(|d| d.name == "specifiedBy")
                .and_then(|d| d.arguments.iter().find(|(n, _)| n == "url"))
                .map_or(Value::Null, |(_, v)| self.value(v)),
            ("fields", TypeDefinition::Object(o)) => visible_fields(&o.fields),
            ("fields", TypeDefinition::Interface(i)) => visible_fields(&i.fields),
            ("interfaces", TypeDefinition::Object(o)) => interfaces(&o.implements_interfaces),
            ("interfaces", TypeDefinition::Interface(i)) => interfaces(&i.implements_interfaces),
            ("possibleTypes", TypeDefinition::Union(u)) => interfaces(&u.types),
            ("possibleTypes", TypeDefinition::Interface(i)) => {
                interfaces(intro.implementations.get(&i.name).map_or(&[][..], Vec::as_slice))
            }
            ("enumValues", TypeDefinition::Enum(e)) => {
                let all = self.include_deprecated(field);
                self.list(
                    e.values
                        .iter()
                        .filter(|v| all || deprecation(&v.directives).is_none())
                        .map(Obj::EnumValue),
                    group,
                )
            }
            ("inputFields", TypeDefinition::InputObject(i)) => {
                let all = self.include_deprecated(field);
                self.list(
                    i.fields
                        .iter()
                        .filter(|f| all || deprecation(&f.directives).is_none())
                        .map(Obj::Input),
                    group,
                )
            }
            ("isOneOf", TypeDefinition::InputObject(i)) => Value::from(i.directives.iter().any(|d| d.name == "oneOf")),
            _ => Value::Null,
        }
    }
}
