//! Shapes the merged subgraph data into the response the client asked for: walks the client's own
//! operation (aliases, fragments on interfaces and unions, `@skip`/`@include`), fills
//! `__typename`, drops what subgraphs returned only for the gateway's joins, and propagates nulls
//! of non-null fields to the nearest nullable parent as the GraphQL spec requires.

use std::collections::{HashMap, HashSet};

use graphql_tools::static_graphql::query::{
    Directive, Field, FragmentDefinition, Selection, SelectionSet, TypeCondition,
};
use serde_json::{Map, Value};

use crate::{
    response::GraphqlError,
    schema::{FieldType, Kind, SchemaIndex},
};

/// A non-null position resolved to null: the enclosing nullable position becomes null.
struct Propagate;

pub struct Shaper<'a> {
    pub schema: &'a SchemaIndex,
    pub fragments: HashMap<&'a str, &'a FragmentDefinition>,
    pub variables: &'a Map<String, Value>,
    pub errors: &'a mut Vec<GraphqlError>,
    /// `Type.field` coordinates the caller may not see: null, whatever the subgraphs returned
    /// (a key or `@requires` field is fetched for joins even when the caller may not see it).
    pub denied: &'a HashSet<(String, String)>,
}

impl Shaper<'_> {
    /// The response's `data` for the root type `root` (null when a non-null root field is null).
    pub fn shape_root(&mut self, root: &str, selection: &SelectionSet, data: &Value) -> Value {
        let mut path = Vec::new();
        match self.object(root, selection, data, &mut path) {
            Ok(v) => v,
            Err(Propagate) => Value::Null,
        }
    }

    fn object(
        &mut self,
        type_name: &str,
        selection: &SelectionSet,
        data: &Value,
        path: &mut Vec<Value>,
    ) -> Result<Value, Propagate> {
        let mut grouped: Vec<(String, Vec<Field>)> = Vec::new();
        self.collect(type_name, selection, &mut grouped);
        let mut out = Map::new();
        for (key, fields) in grouped {
            let field = &fields[0];
            if field.name == "__typename" {
                out.insert(key, Value::from(type_name));
                continue;
            }
            let Some(field_type) = self.schema.field(type_name, &field.name).cloned() else {
                // Introspection meta-fields and anything the schema does not name are left out.
                continue;
            };
            let denied = !self.denied.is_empty() && self.denied.contains(&(type_name.to_owned(), field.name.clone()));
            let value = if denied {
                &Value::Null
            } else {
                data.get(&key).unwrap_or(&Value::Null)
            };
            path.push(Value::from(key.clone()));
            let sub: Vec<&SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
            let completed = self.complete(&field_type, &sub, value, path, &field.name, type_name);
            path.pop();
            out.insert(key, completed?);
        }
        Ok(Value::Object(out))
    }

    fn complete(
        &mut self,
        ty: &FieldType,
        sub: &[&SelectionSet],
        value: &Value,
        path: &mut Vec<Value>,
        field: &str,
        parent: &str,
    ) -> Result<Value, Propagate> {
        match ty {
            FieldType::NonNull(inner) => {
                let v = self.complete(inner, sub, value, path, field, parent)?;
                if v.is_null() {
                    self.null_error(path, parent, field);
                    return Err(Propagate);
                }
                Ok(v)
            }
            FieldType::List(inner) => {
                let Value::Array(items) = value else {
                    return Ok(Value::Null);
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push(Value::from(i));
                    let r = self.complete(inner, sub, item, path, field, parent);
                    path.pop();
                    match r {
                        Ok(v) => out.push(v),
                        // The list itself is nullable here (a non-null list is handled above).
                        Err(Propagate) => return Ok(Value::Null),
                    }
                }
                Ok(Value::Array(out))
            }
            FieldType::Named(name) => {
                if value.is_null() {
                    return Ok(Value::Null);
                }
                match self.schema.kind(name) {
                    Some(Kind::Object | Kind::Interface | Kind::Union) => {
                        let concrete = match self.schema.kind(name) {
                            Some(Kind::Object) => name.as_str(),
                            _ => value.get("__typename").and_then(Value::as_str).unwrap_or(name),
                        };
                        let concrete = concrete.to_owned();
                        let merged = merge_selections(sub);
                        match self.object(&concrete, &merged, value, path) {
                            Ok(v) => Ok(v),
                            Err(Propagate) => Ok(Value::Null),
                        }
                    }
                    _ => Ok(value.clone()),
                }
            }
        }
    }

    /// Records "cannot return null" unless an error at, above or below this path already explains it.
    fn null_error(&mut self, path: &[Value], parent: &str, field: &str) {
        let explained = self.errors.iter().any(|e| {
            e.path.as_ref().is_some_and(|p| {
                let n = p.len().min(path.len());
                p[..n] == path[..n]
            })
        });
        if !explained {
            self.errors.push(
                GraphqlError::new(format!("Cannot return null for non-nullable field {parent}.{field}."))
                    .with_path(path.to_vec()),
            );
        }
    }

    /// CollectFields of the spec: response keys in order, each with the fields that share it.
    fn collect(&self, type_name: &str, selection: &SelectionSet, out: &mut Vec<(String, Vec<Field>)>) {
        for item in &selection.items {
            match item {
                Selection::Field(f) => {
                    if !self.included(&f.directives) {
                        continue;
                    }
                    let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, list)) => list.push(f.clone()),
                        None => out.push((key, vec![f.clone()])),
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
                    let Some(def) = self.fragments.get(spread.fragment_name.as_str()) else {
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

/// The sub-selections of fields that share a response key, as one selection set.
fn merge_selections(sub: &[&SelectionSet]) -> SelectionSet {
    let mut merged = sub[0].clone();
    for s in &sub[1..] {
        merged.items.extend(s.items.iter().cloned());
    }
    merged
}
