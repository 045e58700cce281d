//! Walking and merging JSON trees: entity locations along plan paths, `requires` projections,
//! the planner's input/output rewrites, and deep merges of subgraph results.

use hive_router_query_planner::{
    ast::{selection_item::SelectionItem, selection_set::SelectionSet},
    planner::plan_nodes::{FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment},
};
use std::hash::Hasher;

use serde_json::{Map, Value};

use crate::schema::SchemaIndex;

/// A concrete place in the response: keys and list indexes.
pub type Location = Vec<Value>;

/// Every non-null object reached along a flatten path (`products.@.reviews.@|[Review]`).
pub fn locations(root: &Value, path: &[FlattenNodePathSegment], schema: &SchemaIndex) -> Vec<Location> {
    let mut out = Vec::new();
    let mut here = Vec::new();
    walk(root, path, schema, &mut here, &mut out);
    out
}

fn walk(
    value: &Value,
    path: &[FlattenNodePathSegment],
    schema: &SchemaIndex,
    here: &mut Location,
    out: &mut Vec<Location>,
) {
    let Some((first, rest)) = path.split_first() else {
        match value {
            Value::Object(_) => out.push(here.clone()),
            // A list at the end of a path (no trailing `@`): its items are the entities.
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    here.push(Value::from(i));
                    walk(item, path, schema, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
        return;
    };
    match (first, value) {
        (FlattenNodePathSegment::Field(key), Value::Object(map)) => {
            if let Some(next) = map.get(key) {
                here.push(Value::from(key.as_str()));
                walk(next, rest, schema, here, out);
                here.pop();
            }
        }
        (FlattenNodePathSegment::List, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                here.push(Value::from(i));
                walk(item, rest, schema, here, out);
                here.pop();
            }
        }
        (FlattenNodePathSegment::TypeCondition(types), Value::Object(map)) => {
            let typename = map.get("__typename").and_then(Value::as_str).unwrap_or_default();
            if types.iter().any(|t| schema.applies(t, typename)) {
                walk(value, rest, schema, here, out);
            }
        }
        _ => {}
    }
}

pub fn get<'v>(root: &'v Value, at: &[Value]) -> Option<&'v Value> {
    at.iter().try_fold(root, |v, seg| match seg {
        Value::String(k) => v.get(k.as_str()),
        Value::Number(n) => v.get(n.as_u64()? as usize),
        _ => None,
    })
}

pub fn get_mut<'v>(root: &'v mut Value, at: &[Value]) -> Option<&'v mut Value> {
    at.iter().try_fold(root, |v, seg| match seg {
        Value::String(k) => v.get_mut(k.as_str()),
        Value::Number(n) => v.get_mut(n.as_u64()? as usize),
        _ => None,
    })
}

/// The entity representation of `object` that a `requires` selection asks for; `None` when the
/// object is of none of the types the selection names.
pub fn project(object: &Value, requires: &SelectionSet, schema: &SchemaIndex) -> Option<Value> {
    let Value::Object(map) = object else {
        return None;
    };
    let typename = map.get("__typename").and_then(Value::as_str)?;
    let mut out = Map::new();
    let mut matched = false;
    for item in &requires.items {
        match item {
            SelectionItem::InlineFragment(f)
                if schema.applies(&f.type_condition, typename) || f.type_condition == typename =>
            {
                matched = true;
                project_into(map, &f.selections, schema, &mut out);
            }
            SelectionItem::Field(_) => {
                matched = true;
                project_into(
                    map,
                    &SelectionSet {
                        items: vec![item.clone()],
                    },
                    schema,
                    &mut out,
                );
            }
            _ => {}
        }
    }
    matched.then_some(Value::Object(out))
}

fn project_into(
    map: &Map<String, Value>,
    selection: &SelectionSet,
    schema: &SchemaIndex,
    out: &mut Map<String, Value>,
) {
    let typename = map.get("__typename").and_then(Value::as_str).unwrap_or_default();
    for item in &selection.items {
        match item {
            SelectionItem::Field(f) => {
                let key = f.selection_identifier();
                let Some(v) = map.get(key) else { continue };
                let projected = if f.selections.is_empty() {
                    v.clone()
                } else {
                    project_value(v, &f.selections, schema)
                };
                match (out.get_mut(key), projected) {
                    (Some(existing), Value::Object(new)) => merge(existing, Value::Object(new)),
                    (_, projected) => {
                        out.insert(key.to_owned(), projected);
                    }
                }
            }
            SelectionItem::InlineFragment(f) => {
                if schema.applies(&f.type_condition, typename) || f.type_condition == typename {
                    project_into(map, &f.selections, schema, out);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

fn project_value(v: &Value, selection: &SelectionSet, schema: &SchemaIndex) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            project_into(map, selection, schema, &mut out);
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| project_value(i, selection, schema)).collect()),
        other => other.clone(),
    }
}

/// Applies the planner's rewrites (set `__typename` of an interface object, rename an aliased key).
pub fn rewrite(value: &mut Value, rewrites: &[FetchRewrite], schema: &SchemaIndex) {
    for r in rewrites {
        match r {
            FetchRewrite::ValueSetter(s) => apply(value, &s.path, schema, &mut |parent, key| {
                parent.insert(key.to_owned(), Value::from(s.set_value_to.as_str()));
            }),
            FetchRewrite::KeyRenamer(k) => apply(value, &k.path, schema, &mut |parent, key| {
                if let Some(v) = parent.remove(key) {
                    parent.insert(k.rename_key_to.clone(), v);
                }
            }),
        }
    }
}

fn apply(
    value: &mut Value,
    path: &[FetchNodePathSegment],
    schema: &SchemaIndex,
    action: &mut dyn FnMut(&mut Map<String, Value>, &str),
) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|i| apply(i, path, schema, action)),
        Value::Object(map) => match path {
            [] => {}
            [FetchNodePathSegment::Key(key)] => action(map, key),
            [FetchNodePathSegment::Key(key), rest @ ..] => {
                if let Some(next) = map.get_mut(key) {
                    apply(next, rest, schema, action);
                }
            }
            [FetchNodePathSegment::TypenameEquals(types), rest @ ..] => {
                let typename = map.get("__typename").and_then(Value::as_str).unwrap_or_default();
                if types.iter().any(|t| t == typename || schema.applies(t, typename)) {
                    apply(value, rest, schema, action);
                }
            }
        },
        _ => {}
    }
}

/// A hash of a JSON value, for finding equal values without serialising them. Object keys are
/// hashed in their order: two equal objects built in different key orders only miss sharing.
pub fn fingerprint(value: &Value) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hash_value(value, &mut hasher);
    hasher.finish()
}

fn hash_value(value: &Value, h: &mut rustc_hash::FxHasher) {
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => {
            h.write_u8(1);
            h.write_u8(u8::from(*b));
        }
        Value::Number(n) => {
            h.write_u8(2);
            match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => h.write_i64(i),
                (None, Some(u), _) => h.write_u64(u),
                (None, None, Some(f)) => h.write_u64(f.to_bits()),
                _ => {}
            }
        }
        Value::String(s) => {
            h.write_u8(3);
            h.write(s.as_bytes());
            h.write_u8(0xff);
        }
        Value::Array(items) => {
            h.write_u8(4);
            h.write_usize(items.len());
            items.iter().for_each(|i| hash_value(i, h));
        }
        Value::Object(map) => {
            h.write_u8(5);
            h.write_usize(map.len());
            for (k, v) in map {
                h.write(k.as_bytes());
                h.write_u8(0xff);
                hash_value(v, h);
            }
        }
    }
}

/// Deep-merges `src` into `dst`: objects key by key, lists of equal length item by item. A null
/// from one subgraph never erases a value another subgraph already gave.
pub fn merge(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        d.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(s)) if d.len() == s.len() => {
            for (dv, sv) in d.iter_mut().zip(s) {
                merge(dv, sv);
            }
        }
        (_, Value::Null) => {}
        (d, s) => *d = s,
    }
}
