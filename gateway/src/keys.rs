//! The `@key`s each subgraph resolves its entities by, from the supergraph's `@join__type`s: an
//! entity representation is sent to a subgraph only when one of its keys there is complete (every
//! key field present and non-null). A null entity, or one whose key a failed or partial fetch left
//! null, is left out of the `_entities` batch and its place stays null; sent, it would make the
//! subgraph refuse the whole batch (a representation without its key matches no resolver).

use graphql_tools::parser::query::{Definition, OperationDefinition, Selection, SelectionSet};
use hive_router_query_planner::state::supergraph_state::SupergraphState;
use rustc_hash::FxHashMap as HashMap;

use crate::value::Val;

/// One key's fields; a field with sub-fields is an object whose own key fields must be there too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyField {
    pub name: String,
    pub fields: Vec<KeyField>,
}

/// The resolvable keys of each (type, subgraph name).
#[derive(Debug, Default)]
pub struct EntityKeys {
    keys: HashMap<(String, String), Vec<Vec<KeyField>>>,
}

impl EntityKeys {
    pub fn new(supergraph: &SupergraphState) -> EntityKeys {
        let mut keys: HashMap<(String, String), Vec<Vec<KeyField>>> = HashMap::default();
        for (type_name, definition) in &supergraph.definitions {
            for join in definition.join_types() {
                let (Some(key), true) = (&join.key, join.resolvable) else {
                    continue;
                };
                let Some(subgraph) = supergraph.known_subgraphs.get(&join.graph_id) else {
                    continue;
                };
                // A key that does not parse constrains nothing: the subgraph judges it.
                if let Some(fields) = parse(key) {
                    keys.entry((type_name.clone(), subgraph.clone()))
                        .or_default()
                        .push(fields);
                }
            }
        }
        EntityKeys { keys }
    }

    /// Whether `representation` (with its `__typename`) carries a complete key of its type in
    /// `subgraph`. Types the subgraph names no key for are not judged here.
    pub fn complete(&self, subgraph: &str, representation: &Val) -> bool {
        let Some(typename) = representation.typename() else {
            return false;
        };
        match self.keys.get(&(typename.to_owned(), subgraph.to_owned())) {
            Some(keys) => keys.iter().any(|key| present(representation, key)),
            None => true,
        }
    }
}

fn present(value: &Val, key: &[KeyField]) -> bool {
    key.iter().all(|field| match value.get(&field.name) {
        None | Some(Val::Null) => false,
        Some(v) if field.fields.is_empty() => !v.is_null(),
        Some(Val::List(items)) => items.iter().all(|i| present(i, &field.fields)),
        Some(v) => present(v, &field.fields),
    })
}

/// A field set such as `id organization { id }`.
fn parse(key: &str) -> Option<Vec<KeyField>> {
    let text = format!("{{{key}}}");
    let doc = graphql_tools::parser::parse_query::<String>(&text).ok()?;
    match doc.definitions.first()? {
        Definition::Operation(OperationDefinition::SelectionSet(s)) => Some(fields(s)),
        _ => None,
    }
}

fn fields(selection: &SelectionSet<'_, String>) -> Vec<KeyField> {
    let mut out = Vec::new();
    for item in &selection.items {
        match item {
            Selection::Field(f) if f.name != "__typename" => out.push(KeyField {
                name: f.name.clone(),
                fields: fields(&f.selection_set),
            }),
            // `... on T { … }` in a key over an abstract field: its fields may be absent for other types.
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(json: &'static str) -> Val<'static> {
        crate::value::parse(json.as_bytes()).expect("json")
    }

    fn keys(entries: &[(&str, &str, &str)]) -> EntityKeys {
        let mut keys: HashMap<(String, String), Vec<Vec<KeyField>>> = HashMap::default();
        for (t, s, k) in entries {
            keys.entry(((*t).to_owned(), (*s).to_owned()))
                .or_default()
                .push(parse(k).expect("key parses"));
        }
        EntityKeys { keys }
    }

    #[test]
    fn should_accept_a_representation_with_any_one_complete_key() {
        let k = keys(&[("Book", "a", "id"), ("Book", "a", "isbn")]);
        assert!(k.complete("a", &rep(r#"{"__typename":"Book","id":null,"isbn":"1"}"#)));
        assert!(k.complete("a", &rep(r#"{"__typename":"Book","id":"1"}"#)));
        assert!(!k.complete("a", &rep(r#"{"__typename":"Book","id":null,"isbn":null}"#)));
        assert!(!k.complete("a", &rep(r#"{"__typename":"Book"}"#)));
    }

    #[test]
    fn should_require_nested_key_fields_and_leave_unknown_types_to_the_subgraph() {
        let k = keys(&[("Seat", "a", "id venue { id }")]);
        assert!(k.complete("a", &rep(r#"{"__typename":"Seat","id":"1","venue":{"id":"v"}}"#)));
        assert!(!k.complete("a", &rep(r#"{"__typename":"Seat","id":"1","venue":{"id":null}}"#)));
        assert!(!k.complete("a", &rep(r#"{"__typename":"Seat","id":"1","venue":null}"#)));
        assert!(k.complete("b", &rep(r#"{"__typename":"Seat"}"#)));
    }
}
