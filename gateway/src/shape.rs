//! Shapes the merged subgraph data into the response the client asked for: walks the client's own
//! operation (aliases, fragments on interfaces and unions, `@skip`/`@include`), fills
//! `__typename`, drops what subgraphs returned only for the gateway's joins, and propagates nulls
//! of non-null fields to the nearest nullable parent as the GraphQL spec requires.
//!
//! The response is written straight into JSON bytes as the walk goes, with no tree in between:
//! a nullable position remembers where its value began, and when a non-null field below it turns
//! out null, what was written since is cut off and `null` written instead.

use std::{
    collections::{HashMap, HashSet},
    rc::Rc,
};

use graphql_tools::static_graphql::query::{
    Directive, Field, FragmentDefinition, Selection, SelectionSet, TypeCondition,
};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::{
    response::GraphqlError,
    schema::{FieldType, Kind, SchemaIndex},
    value::{NULL, Val, write_str},
};

/// A non-null position resolved to null: the enclosing nullable position becomes null.
struct Propagate;

/// One step of the response path being shaped; turned into JSON only when an error needs it, so
/// the common path allocates nothing per field.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl Step<'_> {
    fn to_json(self) -> Value {
        match self {
            Step::Key(k) => Value::from(k),
            Step::Index(i) => Value::from(i),
        }
    }

    fn matches(self, v: &Value) -> bool {
        match (self, v) {
            (Step::Key(k), Value::String(s)) => k == s,
            (Step::Index(i), Value::Number(n)) => n.as_u64() == Some(i as u64),
            _ => false,
        }
    }
}

pub struct Shaper<'a> {
    schema: &'a SchemaIndex,
    fragments: HashMap<&'a str, &'a FragmentDefinition>,
    variables: &'a Map<String, Value>,
    errors: &'a mut Vec<GraphqlError>,
    /// `Type.field` coordinates the caller may not see: null, whatever the subgraphs returned
    /// (a key or `@requires` field is fetched for joins even when the caller may not see it).
    denied: &'a HashSet<(String, String)>,
    /// The fields of each (selections, concrete type) pair, collected once per request: every
    /// item of a list shares its selections, so without this each item would collect them again.
    groups: FxHashMap<GroupKey, (Vec<usize>, Rc<[Group<'a>]>)>,
    /// The response being written.
    out: Vec<u8>,
}

/// The selection sets (by address) and the schema's own name of the concrete type.
type GroupKey = (usize, usize, usize);

/// One response key of an object: what CollectFields gives for it, resolved against the schema.
struct Group<'a> {
    key: &'a str,
    /// `"key":` as JSON, preceded by a comma unless it is the object's first member.
    prefix: Box<[u8]>,
    /// `None` for `__typename`.
    field: Option<GroupField<'a>>,
    /// The sub-selections of every field that shares the key.
    sub: Vec<&'a SelectionSet>,
}

struct GroupField<'a> {
    name: &'a str,
    ty: &'a FieldType,
    /// The kind of the named type inside the list and non-null wrappers, looked up once.
    kind: Option<Kind>,
    /// The caller may not see it (see [`Shaper::denied`]).
    denied: bool,
}

/// The fields of one selection that share a response key, in document order.
type Grouped<'a> = Vec<(&'a str, Vec<&'a Field>)>;

impl<'a> Shaper<'a> {
    pub fn new(
        schema: &'a SchemaIndex,
        fragments: HashMap<&'a str, &'a FragmentDefinition>,
        variables: &'a Map<String, Value>,
        errors: &'a mut Vec<GraphqlError>,
        denied: &'a HashSet<(String, String)>,
    ) -> Shaper<'a> {
        Shaper {
            schema,
            fragments,
            variables,
            errors,
            denied,
            groups: FxHashMap::default(),
            out: Vec::new(),
        }
    }

    /// The response's `data` for the root type `root`, as JSON (null when a non-null root field
    /// is null).
    /// `size_hint`: about how long the response will be (the subgraph bodies' total length).
    pub fn shape_root(mut self, root: &str, selection: &'a SelectionSet, data: &Val, size_hint: usize) -> Vec<u8> {
        let mut path = Vec::new();
        self.out.reserve(size_hint.clamp(256, 1 << 20));
        match self.object(root, &[selection], data, &mut path) {
            Ok(()) => self.out,
            Err(Propagate) => b"null".to_vec(),
        }
    }

    /// The response keys of an object of type `type_name` under `selections`, from the
    /// per-request memo when this pair was seen before.
    fn groups(&mut self, type_name: &str, selections: &[&'a SelectionSet]) -> Rc<[Group<'a>]> {
        let schema = self.schema;
        let Some((interned, _)) = schema.types.get_key_value(type_name) else {
            return self.group(type_name, selections).into();
        };
        let addresses = || selections.iter().map(|s| std::ptr::from_ref(*s) as usize);
        let key = (
            addresses().next().unwrap_or_default(),
            addresses().fold(selections.len(), |h, a| h.rotate_left(5) ^ a),
            std::ptr::from_ref(interned.as_str()).cast::<u8>() as usize,
        );
        if let Some((seen, groups)) = self.groups.get(&key)
            && seen.iter().copied().eq(addresses())
        {
            return groups.clone();
        }
        let groups: Rc<[Group<'a>]> = self.group(interned, selections).into();
        self.groups.insert(key, (addresses().collect(), groups.clone()));
        groups
    }

    fn group(&self, type_name: &str, selections: &[&'a SelectionSet]) -> Vec<Group<'a>> {
        let schema = self.schema;
        let mut grouped: Grouped<'a> = Vec::new();
        for selection in selections {
            self.collect(type_name, selection, &mut grouped);
        }
        let mut first_member = true;
        grouped
            .into_iter()
            .filter_map(|(key, fields)| {
                let first = fields[0];
                let field = if first.name == "__typename" {
                    None
                } else {
                    // Introspection meta-fields and anything the schema does not name are left out.
                    let ty = schema.field(type_name, &first.name)?;
                    let denied =
                        !self.denied.is_empty() && self.denied.contains(&(type_name.to_owned(), first.name.clone()));
                    Some(GroupField {
                        name: &first.name,
                        ty,
                        kind: schema.kind(named(ty)),
                        denied,
                    })
                };
                let mut prefix = Vec::with_capacity(key.len() + 4);
                if !std::mem::take(&mut first_member) {
                    prefix.push(b',');
                }
                write_str(&mut prefix, key);
                prefix.push(b':');
                Some(Group {
                    key,
                    prefix: prefix.into(),
                    field,
                    sub: fields.iter().map(|f| &f.selection_set).collect(),
                })
            })
            .collect()
    }

    /// `selections`: the sub-selections of every field that shares this object's response key
    /// (usually one), merged as CollectFields merges them.
    fn object(
        &mut self,
        type_name: &str,
        selections: &[&'a SelectionSet],
        data: &Val,
        path: &mut Vec<Step<'a>>,
    ) -> Result<(), Propagate> {
        let groups = self.groups(type_name, selections);
        self.out.push(b'{');
        // Subgraphs answer in the order of the selection, so each key is usually right after
        // the previous one.
        let mut hint = 0;
        for group in groups.iter() {
            self.out.extend_from_slice(&group.prefix);
            let Some(field) = &group.field else {
                write_str(&mut self.out, type_name);
                continue;
            };
            let value = if field.denied {
                &NULL
            } else {
                data.get_from(group.key, &mut hint).unwrap_or(&NULL)
            };
            path.push(Step::Key(group.key));
            let completed = self.complete(field.ty, field.kind, &group.sub, value, path, field.name, type_name);
            path.pop();
            completed?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Writes the completed value; says whether it was null.
    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        ty: &FieldType,
        kind: Option<Kind>,
        sub: &[&'a SelectionSet],
        value: &Val,
        path: &mut Vec<Step<'a>>,
        field: &str,
        parent: &str,
    ) -> Result<bool, Propagate> {
        match ty {
            FieldType::NonNull(inner) => {
                if self.complete(inner, kind, sub, value, path, field, parent)? {
                    self.null_error(path, parent, field);
                    return Err(Propagate);
                }
                Ok(false)
            }
            FieldType::List(inner) => {
                let Val::List(items) = value else {
                    self.out.extend_from_slice(b"null");
                    return Ok(true);
                };
                let start = self.out.len();
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    path.push(Step::Index(i));
                    let r = self.complete(inner, kind, sub, item, path, field, parent);
                    path.pop();
                    if r.is_err() {
                        // The list itself is nullable here (a non-null list is handled above).
                        self.out.truncate(start);
                        self.out.extend_from_slice(b"null");
                        return Ok(true);
                    }
                }
                self.out.push(b']');
                Ok(false)
            }
            FieldType::Named(name) => {
                if value.is_null() {
                    self.out.extend_from_slice(b"null");
                    return Ok(true);
                }
                match kind {
                    Some(kind @ (Kind::Object | Kind::Interface | Kind::Union)) => {
                        let concrete = match kind {
                            Kind::Object => name.as_str(),
                            _ => value.typename().unwrap_or(name),
                        };
                        // The API schema is the contract: an object type it does not have (an
                        // `@inaccessible` one), or one that is not a member of this abstract
                        // type, cannot be returned (result coercion of the spec).
                        if kind != Kind::Object && !self.schema.applies(name, concrete) {
                            self.coercion_error(path, format!("A subgraph resolved abstract type \"{name}\" to a type that is not one of its possible types."));
                            self.out.extend_from_slice(b"null");
                            return Ok(true);
                        }
                        let start = self.out.len();
                        match self.object(concrete, sub, value, path) {
                            Ok(()) => Ok(false),
                            Err(Propagate) => {
                                self.out.truncate(start);
                                self.out.extend_from_slice(b"null");
                                Ok(true)
                            }
                        }
                    }
                    Some(Kind::Enum) => {
                        let known = value.as_str().is_some_and(|v| {
                            self.schema
                                .types
                                .get(name.as_str())
                                .is_some_and(|t| t.values.contains(v))
                        });
                        if !known {
                            // The value itself is not shown: it may be one the API schema hides.
                            self.coercion_error(
                                path,
                                format!("Enum \"{name}\" cannot represent a value a subgraph returned."),
                            );
                            self.out.extend_from_slice(b"null");
                            return Ok(true);
                        }
                        value.write(&mut self.out);
                        Ok(false)
                    }
                    _ => {
                        value.write(&mut self.out);
                        Ok(false)
                    }
                }
            }
        }
    }

    /// Records "cannot return null" unless an error at, above or below this path already explains it.
    fn null_error(&mut self, path: &[Step<'a>], parent: &str, field: &str) {
        let explained = self.errors.iter().any(|e| {
            e.path.as_ref().is_some_and(|p| {
                let n = p.len().min(path.len());
                path[..n].iter().zip(&p[..n]).all(|(step, v)| step.matches(v))
            })
        });
        if !explained {
            self.errors.push(
                GraphqlError::new(format!("Cannot return null for non-nullable field {parent}.{field}."))
                    .with_path(path.iter().map(|s| s.to_json()).collect()),
            );
        }
    }

    /// A value the API schema cannot represent: null, with this error at its path.
    fn coercion_error(&mut self, path: &[Step<'a>], message: String) {
        self.errors.push(
            GraphqlError::new(message)
                .with_code("INVALID_SUBGRAPH_VALUE")
                .with_path(path.iter().map(|s| s.to_json()).collect()),
        );
    }

    /// CollectFields of the spec: response keys in order, each with the fields that share it.
    fn collect(&self, type_name: &str, selection: &'a SelectionSet, out: &mut Grouped<'a>) {
        for item in &selection.items {
            match item {
                Selection::Field(f) => {
                    if !self.included(&f.directives) {
                        continue;
                    }
                    let key = f.alias.as_deref().unwrap_or(&f.name);
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, list)) => list.push(f),
                        None => out.push((key, vec![f])),
                    }
                }
                Selection::InlineFragment(frag) => {
                    if !self.included(&frag.directives) {
                        continue;
                    }
                    let applies = match &frag.type_condition {
                        None => true,
                        Some(TypeCondition::On(cond)) => self.schema.applies(cond, type_name),
                    };
                    if applies {
                        self.collect(type_name, &frag.selection_set, out);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if !self.included(&spread.directives) {
                        continue;
                    }
                    let Some(&def) = self.fragments.get(spread.fragment_name.as_str()) else {
                        continue;
                    };
                    let TypeCondition::On(cond) = &def.type_condition;
                    if self.schema.applies(cond, type_name) {
                        self.collect(type_name, &def.selection_set, out);
                    }
                }
            }
        }
    }

    fn included(&self, directives: &[Directive]) -> bool {
        included(directives, self.variables)
    }
}

/// Whether `@skip` and `@include` keep a selection.
pub fn included(directives: &[Directive], variables: &Map<String, Value>) -> bool {
    directives.iter().all(|d| {
        let flag = d.arguments.iter().find(|(n, _)| n == "if").map(|(_, v)| match v {
            graphql_tools::static_graphql::query::Value::Boolean(b) => *b,
            graphql_tools::static_graphql::query::Value::Variable(name) => {
                variables.get(name).and_then(Value::as_bool).unwrap_or(false)
            }
            _ => false,
        });
        match d.name.as_str() {
            "skip" => flag != Some(true),
            "include" => flag != Some(false),
            _ => true,
        }
    })
}

/// The named type inside a field type's list and non-null wrappers.
fn named(ty: &FieldType) -> &str {
    match ty {
        FieldType::Named(name) => name,
        FieldType::List(inner) | FieldType::NonNull(inner) => named(inner),
    }
}
