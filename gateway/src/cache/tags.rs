//! What a response holds, for invalidation: the object types its selection can return (whether
//! or not an object of them came back: a list that was empty may not be after a write) and the
//! entities, by type and id, that came back with their `id` selected.
//!
//! The type of each object comes from the client's selection walked over the schema index, so
//! no `__typename` has to be asked for; where a field's type is an interface or a union and no
//! `__typename` says which object it is, the object is counted as each type it could be (more
//! invalidation, never less).

use std::collections::{BTreeSet, HashMap};

use graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, OperationDefinition as Op, Selection, SelectionSet, TypeCondition,
};
use serde_json::Value;

use crate::schema::{FieldType, Kind, SchemaIndex};

/// The tags of one response.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tags {
    /// Object types the selection can return (the root operation types left out).
    pub types: BTreeSet<String>,
    /// `(type, id)` of the objects that came back with their id.
    pub entities: BTreeSet<(String, String)>,
    /// Types of which an object came back without its id: the response holds some entity of
    /// that type it cannot name, so dropping any one entity of the type must drop it too.
    pub unnamed: BTreeSet<String>,
    /// The smallest `@cacheControl` hint of the composite fields walked (see [`super::hints`]).
    pub hinted_max_age: Option<u64>,
    /// A composite field without a hint was walked: the cache's default applies too.
    pub unhinted: bool,
}

impl Tags {
    /// How long the response may be served: the smallest hint along it, and `default` for the
    /// fields without one (or when it holds no composite field at all).
    pub fn max_age(&self, default: u64) -> u64 {
        match self.hinted_max_age {
            Some(hinted) if !self.unhinted => hinted,
            Some(hinted) => hinted.min(default),
            None => default,
        }
    }
}

/// The tags of `data`, the response of `query`'s operation `operation_name`, or `None` when the
/// document does not parse, names no such operation or it is a subscription.
pub fn collect(schema: &SchemaIndex, query: &str, operation_name: Option<&str>, data: &Value) -> Option<Tags> {
    let doc: Document = graphql_tools::parser::parse_query::<String>(query).ok()?.into_static();
    let fragments: HashMap<&str, &FragmentDefinition> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            Definition::Operation(_) => None,
        })
        .collect();
    let op = crate::gateway::select_operation(&doc, operation_name.filter(|n| !n.is_empty()))?;
    let (root, selection) = match op {
        Op::SelectionSet(s) => (schema.query.clone(), s),
        Op::Query(q) => (schema.query.clone(), &q.selection_set),
        Op::Mutation(m) => (schema.mutation.clone()?, &m.selection_set),
        Op::Subscription(_) => return None,
    };
    let mut walker = Walker {
        schema,
        fragments,
        tags: Tags::default(),
    };
    walker.object(selection, &[root.as_str()], data, true);
    Some(walker.tags)
}

/// The entities a mutation names by argument: `xId: "…"` where `X` is an object type (the
/// argument `customerId` of `eraseCustomer` names a `Customer`), and `id: "…"` naming an object
/// of the field's own type. A write to an entity may change cached answers that hold it although
/// the mutation's selection never returns its type (`eraseCustomer` returns an erasure receipt):
/// those are dropped by the entity's tag. Values come from literals or `variables`.
pub fn named_by_arguments(
    schema: &SchemaIndex,
    query: &str,
    operation_name: Option<&str>,
    variables: &serde_json::Map<String, Value>,
) -> BTreeSet<(String, String)> {
    use graphql_tools::static_graphql::query::Value as Literal;
    let mut out = BTreeSet::new();
    let Ok(doc) = graphql_tools::parser::parse_query::<String>(query) else {
        return out;
    };
    let doc: Document = doc.into_static();
    let Some(Op::Mutation(m)) = crate::gateway::select_operation(&doc, operation_name.filter(|n| !n.is_empty())) else {
        return out;
    };
    let Some(mutation) = schema.mutation.as_deref() else {
        return out;
    };
    let id_of = |v: &Literal| -> Option<String> {
        match v {
            Literal::String(s) => Some(s.clone()),
            Literal::Int(n) => n.as_i64().map(|n| n.to_string()),
            Literal::Variable(name) => match variables.get(name)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            },
            _ => None,
        }
    };
    for item in &m.selection_set.items {
        let Selection::Field(field) = item else { continue };
        for (name, value) in &field.arguments {
            let type_name = if name == "id" {
                let mut t = schema.field(mutation, &field.name);
                while let Some(FieldType::NonNull(inner) | FieldType::List(inner)) = t {
                    t = Some(inner.as_ref());
                }
                match t {
                    Some(FieldType::Named(n)) => n.clone(),
                    _ => continue,
                }
            } else if let Some(stem) = name.strip_suffix("Id").filter(|s| !s.is_empty()) {
                let mut chars = stem.chars();
                let first = chars.next().expect("not empty");
                first.to_uppercase().chain(chars).collect()
            } else {
                continue;
            };
            if schema.kind(&type_name) == Some(Kind::Object)
                && let Some(id) = id_of(value)
            {
                out.insert((type_name, id));
            }
        }
    }
    out
}

struct Walker<'a> {
    schema: &'a SchemaIndex,
    fragments: HashMap<&'a str, &'a FragmentDefinition>,
    tags: Tags,
}

/// A field of a selection as it applies to one object.
struct Picked<'s> {
    key: &'s str,
    name: &'s str,
    selection: &'s SelectionSet,
}

impl<'a> Walker<'a> {
    /// The object types a value of type `type_name` can be.
    fn concrete(&self, type_name: &str) -> Vec<&'a str> {
        match self.schema.types.get_key_value(type_name) {
            Some((name, info)) if info.kind == Kind::Object => vec![name.as_str()],
            Some((_, info)) if matches!(info.kind, Kind::Interface | Kind::Union) => {
                info.possible.iter().map(String::as_str).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Walks `data` (an object, a list of them or null) against `selection`, the object being
    /// one of `candidates`.
    fn object(&mut self, selection: &'a SelectionSet, candidates: &[&'a str], data: &Value, root: bool) {
        let map = match data {
            Value::Array(items) => {
                for item in items {
                    self.object(selection, candidates, item, root);
                }
                return;
            }
            Value::Object(map) => map,
            _ => return,
        };
        // `__typename`, when the client asked for it, settles which object this is.
        let typename = map.get("__typename").and_then(Value::as_str);
        let candidates: Vec<&'a str> = match typename.and_then(|t| candidates.iter().find(|c| **c == t)) {
            Some(t) => vec![*t],
            None => candidates.to_vec(),
        };
        let mut picked = Vec::new();
        self.pick(selection, &candidates, &mut picked);
        if !root {
            let id = picked
                .iter()
                .find(|p| p.name == "id")
                .and_then(|p| match map.get(p.key) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                });
            for ty in &candidates {
                match &id {
                    Some(id) => self.tags.entities.insert(((*ty).to_owned(), id.clone())),
                    None => self.tags.unnamed.insert((*ty).to_owned()),
                };
            }
        }
        for field in picked {
            if field.name.starts_with("__") {
                continue;
            }
            let Some(field_type) = candidates.iter().find_map(|c| self.schema.field(c, field.name)) else {
                continue;
            };
            let named = named_type(field_type);
            let inner = self.concrete(named);
            if inner.is_empty() {
                continue;
            }
            self.hint(&candidates, field.name, &inner);
            self.tags.types.extend(inner.iter().map(|t| (*t).to_owned()));
            if let Some(value) = map.get(field.key) {
                self.object(field.selection, &inner, value, false);
            }
        }
    }

    /// Counts the freshness of the composite field `field` of one of `parents`, of one of the
    /// object types `inner`: its own hint, else its type's (all of `inner` must have one).
    fn hint(&mut self, parents: &[&str], field: &str, inner: &[&str]) {
        let hints = &self.schema.cache_hints;
        let hint = parents.iter().filter_map(|p| hints.field(p, field)).min().or_else(|| {
            inner
                .iter()
                .map(|t| hints.object(t))
                .collect::<Option<Vec<u64>>>()
                .and_then(|ages| ages.into_iter().min())
        });
        match hint {
            Some(age) => self.tags.hinted_max_age = Some(self.tags.hinted_max_age.map_or(age, |a| a.min(age))),
            None => self.tags.unhinted = true,
        }
    }

    /// The fields of `selection` that apply to an object that is one of `candidates`, through
    /// fragments.
    fn pick(&self, selection: &'a SelectionSet, candidates: &[&str], out: &mut Vec<Picked<'a>>) {
        let applies = |condition: &Option<TypeCondition>| match condition {
            None => true,
            Some(TypeCondition::On(on)) => candidates.iter().any(|c| self.schema.applies(on, c)),
        };
        for item in &selection.items {
            match item {
                Selection::Field(f) => out.push(Picked {
                    key: f.alias.as_deref().unwrap_or(&f.name),
                    name: &f.name,
                    selection: &f.selection_set,
                }),
                Selection::InlineFragment(i) if applies(&i.type_condition) => {
                    self.pick(&i.selection_set, candidates, out);
                }
                Selection::InlineFragment(_) => {}
                Selection::FragmentSpread(s) => {
                    if let Some(f) = self.fragments.get(s.fragment_name.as_str())
                        && applies(&Some(f.type_condition.clone()))
                    {
                        self.pick(&f.selection_set, candidates, out);
                    }
                }
            }
        }
    }
}

fn named_type(t: &FieldType) -> &str {
    match t {
        FieldType::Named(n) => n,
        FieldType::List(inner) | FieldType::NonNull(inner) => named_type(inner),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SDL: &str = r#"
        type Query { campaign(id: ID!): Campaign  campaigns: [Campaign!]!  node(id: ID!): Node  search: [Result!]! }
        type Mutation { pause(id: ID!): Campaign! }
        interface Node { id: ID! }
        union Result = Campaign | Lead
        type Campaign implements Node { id: ID! name: String leads: [Lead!]! owner: User }
        type Lead implements Node { id: ID! email: String }
        type User { name: String }
    "#;

    fn schema() -> SchemaIndex {
        let doc = graphql_tools::parser::parse_schema::<String>(SDL)
            .expect("sdl")
            .into_static();
        SchemaIndex::new(&doc)
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn should_tag_selected_types_and_the_entities_that_came_back_with_ids() {
        let data = json!({"c": {"ident": "c1", "name": "A", "leads": [], "owner": {"name": "x"}}});
        let tags = collect(
            &schema(),
            "{ c: campaign(id: 1) { ident: id name leads { id } owner { name } } }",
            None,
            &data,
        )
        .expect("tags");
        // Lead is tagged although the list was empty: a new lead changes this response.
        assert_eq!(tags.types, set(&["Campaign", "Lead", "User"]));
        assert_eq!(tags.entities, [("Campaign".to_owned(), "c1".to_owned())].into());
        assert_eq!(tags.unnamed, set(&["User"]));
    }

    #[test]
    fn should_count_an_object_of_an_abstract_type_as_every_type_it_could_be() {
        let data = json!({"node": {"id": "n1"}, "search": [{"__typename": "Lead", "email": "e"}, {"__typename": "Campaign", "id": "c2"}]});
        let tags = collect(
            &schema(),
            "query Q { node(id: 1) { id } search { __typename ... on Campaign { id } ... on Lead { email } } }",
            Some("Q"),
            &data,
        )
        .expect("tags");
        assert_eq!(tags.types, set(&["Campaign", "Lead"]));
        assert!(tags.entities.contains(&("Campaign".to_owned(), "n1".to_owned())));
        assert!(tags.entities.contains(&("Lead".to_owned(), "n1".to_owned())));
        assert!(tags.entities.contains(&("Campaign".to_owned(), "c2".to_owned())));
        assert_eq!(tags.unnamed, set(&["Lead"]), "the lead came back without its id");
    }

    #[test]
    fn should_tag_what_a_mutation_returned_through_fragments() {
        let tags = collect(
            &schema(),
            "mutation M { pause(id: 1) { ...F } } fragment F on Campaign { id name }",
            Some("M"),
            &json!({"pause": {"id": "c9", "name": "x"}}),
        )
        .expect("tags");
        assert_eq!(tags.types, set(&["Campaign"]));
        assert_eq!(tags.entities, [("Campaign".to_owned(), "c9".to_owned())].into());
    }

    #[test]
    fn should_give_nothing_for_documents_it_cannot_read() {
        assert!(collect(&schema(), "{ campaign(", None, &Value::Null).is_none());
        assert!(
            collect(
                &schema(),
                "query A { campaigns { id } } query B { campaigns { id } }",
                None,
                &Value::Null
            )
            .is_none()
        );
    }

    #[test]
    fn should_take_the_smallest_hint_along_the_response_and_the_default_where_there_is_none() {
        let sdl = r#"
            directive @cacheControl(maxAge: Int!) on FIELD_DEFINITION | OBJECT
            type Query { reference: Reference! @cacheControl(maxAge: 7200) channels: [Channel!]! campaigns: [Campaign!]! }
            type Campaign { id: ID! }
            type Channel @cacheControl(maxAge: 3600) { id: ID! }
            type Market @cacheControl(maxAge: 600) { id: ID! }
            type Reference { channels: [Channel!]! markets: [Market!]! hot: [Channel!]! @cacheControl(maxAge: 5) }
        "#;
        let doc = graphql_tools::parser::parse_schema::<String>(sdl)
            .expect("sdl")
            .into_static();
        let mut schema = SchemaIndex::new(&doc);
        schema.cache_hints = crate::cache::hints::CacheHints::new(&doc);
        let age =
            |query: &str, data: serde_json::Value| collect(&schema, query, None, &data).expect("tags").max_age(60);
        // Only reference data: its own hints, the smallest of them.
        let data = json!({ "reference": { "channels": [{ "id": "c" }], "markets": [{ "id": "m" }] } });
        assert_eq!(age("{ reference { channels { id } markets { id } } }", data), 600);
        assert_eq!(age("{ channels { id } }", json!({ "channels": [{ "id": "c" }] })), 3600);
        // A field hint wins over its type's.
        let data = json!({ "reference": { "hot": [{ "id": "c" }] } });
        assert_eq!(age("{ reference { hot { id } } }", data), 5);
        // Anything without a hint keeps the default.
        let data = json!({ "channels": [{ "id": "c" }], "campaigns": [{ "id": "1" }] });
        assert_eq!(age("{ channels { id } campaigns { id } }", data), 60);
        assert_eq!(age("{ campaigns { id } }", json!({ "campaigns": [] })), 60);
    }
}
