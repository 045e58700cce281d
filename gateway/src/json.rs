//! Walking and merging the response tree: entity locations along plan paths, `requires`
//! projections, the planner's input/output rewrites, and deep merges of subgraph results.

use std::borrow::Cow;

use hive_router_query_planner::{
    ast::selection_item::SelectionItem,
    planner::plan_nodes::{FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment},
};
use serde_json::Value;

use crate::{schema::SchemaIndex, value::Val};

/// A concrete place in the response: at each level, the position of a member in its object or
/// of an item in its list. Merges only ever append members, so a location stays valid while the
/// response grows; [`path`] gives its keys and indexes for an error.
pub type Location = Vec<u32>;

/// Every non-null object reached along a flatten path (`products.@.reviews.@|[Review]`).
pub fn locations(root: &Val, path: &[FlattenNodePathSegment], schema: &SchemaIndex) -> Vec<Location> {
    let mut out = Vec::new();
    let mut here = Vec::new();
    walk(root, path, schema, &mut here, &mut out);
    out
}

fn walk(
    value: &Val,
    path: &[FlattenNodePathSegment],
    schema: &SchemaIndex,
    here: &mut Location,
    out: &mut Vec<Location>,
) {
    let Some((first, rest)) = path.split_first() else {
        match value {
            Val::Object(_) => out.push(here.clone()),
            // A list at the end of a path (no trailing `@`): its items are the entities.
            Val::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    here.push(i as u32);
                    walk(item, path, schema, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
        return;
    };
    match (first, value) {
        (FlattenNodePathSegment::Field(key), Val::Object(members)) => {
            if let Some(i) = members.iter().position(|(k, _)| k == key) {
                here.push(i as u32);
                walk(&members[i].1, rest, schema, here, out);
                here.pop();
            }
        }
        // One `@` stands for every list level of the field: `[[Book]]` is `bookGrid.@`.
        (FlattenNodePathSegment::List, Val::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                here.push(i as u32);
                match item {
                    Val::List(_) => walk(item, path, schema, here, out),
                    _ => walk(item, rest, schema, here, out),
                }
                here.pop();
            }
        }
        (FlattenNodePathSegment::TypeCondition(types), Val::Object(_)) => {
            let typename = value.typename().unwrap_or_default();
            if types.iter().any(|t| schema.applies(t, typename)) {
                walk(value, rest, schema, here, out);
            }
        }
        _ => {}
    }
}

fn child<'v, 'a>(value: &'v Val<'a>, i: u32) -> Option<&'v Val<'a>> {
    match value {
        Val::Object(members) => members.get(i as usize).map(|(_, v)| v),
        Val::List(items) => items.get(i as usize),
        _ => None,
    }
}

pub fn get<'v, 'a>(root: &'v Val<'a>, at: &[u32]) -> Option<&'v Val<'a>> {
    at.iter().try_fold(root, |v, i| child(v, *i))
}

pub fn get_mut<'v, 'a>(root: &'v mut Val<'a>, at: &[u32]) -> Option<&'v mut Val<'a>> {
    at.iter().try_fold(root, |v, i| match v {
        Val::Object(members) => members.get_mut(*i as usize).map(|(_, v)| v),
        Val::List(items) => items.get_mut(*i as usize),
        _ => None,
    })
}

/// The response path of a location: member keys and list indexes.
pub fn path(root: &Val, at: &[u32]) -> Vec<Value> {
    let mut out = Vec::with_capacity(at.len());
    let mut here = root;
    for i in at {
        match here {
            Val::Object(members) => match members.get(*i as usize) {
                Some((k, v)) => {
                    out.push(Value::from(k.as_ref()));
                    here = v;
                }
                None => break,
            },
            Val::List(items) => match items.get(*i as usize) {
                Some(v) => {
                    out.push(Value::from(*i));
                    here = v;
                }
                None => break,
            },
            _ => break,
        }
    }
    out
}

/// The entity representation of `object` that a `requires` selection asks for; `None` when the
/// object is of none of the types the selection names.
pub fn project<'a>(object: &Val<'a>, requires: &[SelectionItem], schema: &SchemaIndex) -> Option<Val<'a>> {
    let Val::Object(_) = object else {
        return None;
    };
    let typename = object.typename()?;
    let mut out = Vec::new();
    let mut matched = false;
    for item in requires {
        match item {
            SelectionItem::InlineFragment(f)
                if schema.applies(&f.type_condition, typename) || f.type_condition == typename =>
            {
                matched = true;
                project_into(object, &f.selections.items, schema, &mut out);
            }
            SelectionItem::Field(_) => {
                matched = true;
                project_into(object, std::slice::from_ref(item), schema, &mut out);
            }
            _ => {}
        }
    }
    matched.then_some(Val::Object(out))
}

fn project_into<'a>(
    object: &Val<'a>,
    selection: &[SelectionItem],
    schema: &SchemaIndex,
    out: &mut Vec<(Cow<'a, str>, Val<'a>)>,
) {
    let Val::Object(members) = object else { return };
    let typename = object.typename().unwrap_or_default();
    for item in selection {
        match item {
            SelectionItem::Field(f) => {
                // A requires selection reads the member its field *name* names and writes it
                // under its *alias*: `comments: _internal_qp_alias_0` is the planner's
                // `_internal_qp_alias_0: comments(limit: 3)`, sent to the subgraph as `comments`
                // (the client's own `comments(limit: 1)` is another member).
                let Some((name, v)) = members.iter().find(|(k, _)| k == f.name.as_str()) else {
                    continue;
                };
                let key = f.selection_identifier();
                let projected = if f.selections.is_empty() {
                    v.clone()
                } else {
                    project_value(v, &f.selections.items, schema)
                };
                match (out.iter_mut().find(|(k, _)| k == key), projected) {
                    (Some((_, existing)), new @ Val::Object(_)) => merge(existing, new),
                    (Some((_, existing)), projected) => *existing = projected,
                    (None, projected) => {
                        let key = if f.alias.is_some() {
                            Cow::Owned(key.to_owned())
                        } else {
                            name.clone()
                        };
                        out.push((key, projected));
                    }
                }
            }
            SelectionItem::InlineFragment(f) => {
                if schema.applies(&f.type_condition, typename) || f.type_condition == typename {
                    project_into(object, &f.selections.items, schema, out);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

fn project_value<'a>(v: &Val<'a>, selection: &[SelectionItem], schema: &SchemaIndex) -> Val<'a> {
    match v {
        Val::Object(_) => {
            let mut out = Vec::new();
            project_into(v, selection, schema, &mut out);
            Val::Object(out)
        }
        Val::List(items) => Val::List(items.iter().map(|i| project_value(i, selection, schema)).collect()),
        other => other.clone(),
    }
}

/// Applies the planner's rewrites (set `__typename` of an interface object, rename an aliased key).
pub fn rewrite(value: &mut Val, rewrites: &[FetchRewrite], schema: &SchemaIndex) {
    for r in rewrites {
        match r {
            FetchRewrite::ValueSetter(s) => apply(value, &s.path, schema, &mut |members, key| {
                let new = Val::Str(Cow::Owned(s.set_value_to.clone()));
                match members.iter_mut().find(|(k, _)| k == key) {
                    Some((_, v)) => *v = new,
                    None => members.push((Cow::Owned(key.to_owned()), new)),
                }
            }),
            FetchRewrite::KeyRenamer(k) => apply(value, &k.path, schema, &mut |members, key| {
                let to = k.rename_key_to.as_str();
                let Some(i) = members.iter().position(|(name, _)| name == key) else {
                    return;
                };
                // Renamed in place; a member already holding the new name takes the value.
                match members.iter().position(|(name, _)| name == to) {
                    Some(j) if j != i => {
                        members[j].1 = std::mem::take(&mut members[i].1);
                        members.remove(i);
                    }
                    _ => members[i].0 = Cow::Owned(to.to_owned()),
                }
            }),
        }
    }
}

type Members<'a> = Vec<(Cow<'a, str>, Val<'a>)>;

fn apply<'a>(
    value: &mut Val<'a>,
    path: &[FetchNodePathSegment],
    schema: &SchemaIndex,
    action: &mut dyn FnMut(&mut Members<'a>, &str),
) {
    match value {
        Val::List(items) => items.iter_mut().for_each(|i| apply(i, path, schema, action)),
        Val::Object(members) => match path {
            [] => {}
            [FetchNodePathSegment::Key(key)] => action(members, key),
            [FetchNodePathSegment::Key(key), rest @ ..] => {
                if let Some((_, next)) = members.iter_mut().find(|(k, _)| k == key) {
                    apply(next, rest, schema, action);
                }
            }
            [FetchNodePathSegment::TypenameEquals(types), rest @ ..] => {
                let typename = value.typename().unwrap_or_default();
                if types.iter().any(|t| t == typename || schema.applies(t, typename)) {
                    apply(value, rest, schema, action);
                }
            }
        },
        _ => {}
    }
}

/// Deep-merges `src` into `dst`: objects key by key (new keys appended), lists of equal length
/// item by item. A null from one subgraph never erases a value another subgraph already gave.
pub fn merge<'a>(dst: &mut Val<'a>, src: Val<'a>) {
    match (dst, src) {
        (Val::Object(d), Val::Object(s)) => {
            for (k, v) in s {
                match d.iter_mut().find(|(dk, _)| *dk == k) {
                    Some((_, existing)) => merge(existing, v),
                    None => d.push((k, v)),
                }
            }
        }
        (Val::List(d), Val::List(s)) if d.len() == s.len() => {
            for (dv, sv) in d.iter_mut().zip(s) {
                merge(dv, sv);
            }
        }
        (_, Val::Null) => {}
        (d, s) => *d = s,
    }
}
