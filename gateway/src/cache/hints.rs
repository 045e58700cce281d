//! `@cacheControl(maxAge)` hints of the supergraph (subgraphs apply the directive of
//! `promptsales_platform::gql::cacheControl`; `@composeDirective` carries it into the supergraph).
//! A response is as fresh as its least fresh part: each composite field it holds counts with its
//! own hint, else with its type's (the smallest over the object types an interface or union can
//! be, when each has one), else with the cache's default; see [`super::tags::Tags::max_age`].

use std::collections::HashMap;

use graphql_tools::static_graphql::schema::{Definition, Directive, Document, TypeDefinition, Value};

/// The directive's name in the supergraph.
const NAME: &str = "cacheControl";

#[derive(Debug, Default)]
pub struct CacheHints {
    types: HashMap<String, u64>,
    fields: HashMap<(String, String), u64>,
}

impl CacheHints {
    /// The hints the supergraph carries. A hint whose `maxAge` is not a non-negative integer is
    /// left out (and logged): it then counts as no hint, the default.
    pub fn new(supergraph: &Document) -> CacheHints {
        let mut hints = CacheHints::default();
        for def in &supergraph.definitions {
            let Definition::TypeDefinition(TypeDefinition::Object(object)) = def else {
                continue;
            };
            if let Some(age) = max_age(&object.directives, &object.name) {
                hints.types.insert(object.name.clone(), age);
            }
            for field in &object.fields {
                let at = format!("{}.{}", object.name, field.name);
                if let Some(age) = max_age(&field.directives, &at) {
                    hints.fields.insert((object.name.clone(), field.name.clone()), age);
                }
            }
        }
        hints
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.fields.is_empty()
    }

    /// The hint on the field `parent.field`.
    pub fn field(&self, parent: &str, field: &str) -> Option<u64> {
        if self.fields.is_empty() {
            return None;
        }
        self.fields.get(&(parent.to_owned(), field.to_owned())).copied()
    }

    /// The hint on the object type `name`.
    pub fn object(&self, name: &str) -> Option<u64> {
        self.types.get(name).copied()
    }
}

/// The smallest `maxAge` of the `@cacheControl` directives in `directives` (one per subgraph that
/// applied it).
fn max_age(directives: &[Directive], at: &str) -> Option<u64> {
    directives
        .iter()
        .filter(|d| d.name == NAME)
        .filter_map(|d| {
            let age = d
                .arguments
                .iter()
                .find(|(n, _)| n == "maxAge")
                .and_then(|(_, v)| match v {
                    Value::Int(n) => n.as_i64().and_then(|n| u64::try_from(n).ok()),
                    _ => None,
                });
            if age.is_none() {
                tracing::warn!(at, "@cacheControl without a usable maxAge: ignored");
            }
            age
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(sdl: &str) -> CacheHints {
        let doc = graphql_tools::parser::parse_schema::<String>(sdl)
            .expect("the test SDL parses")
            .into_static();
        CacheHints::new(&doc)
    }

    #[test]
    fn should_read_type_and_field_hints_and_keep_the_smallest_of_repeated_ones() {
        let h = hints(
            r#"
            directive @cacheControl(maxAge: Int!) on FIELD_DEFINITION | OBJECT
            type Channel @cacheControl(maxAge: 3600) @cacheControl(maxAge: 600) { id: ID! }
            type Campaign { id: ID! salesCount: Int @cacheControl(maxAge: 10) }
            type Query { channels: [Channel!]! }
            "#,
        );
        assert_eq!(h.object("Channel"), Some(600));
        assert_eq!(h.object("Campaign"), None);
        assert_eq!(h.field("Campaign", "salesCount"), Some(10));
        assert_eq!(h.field("Query", "channels"), None);
        assert!(!h.is_empty());
    }

    #[test]
    fn should_ignore_a_hint_without_a_usable_max_age() {
        let h = hints(
            r#"
            type A @cacheControl(maxAge: -5) { id: ID! }
            type B @cacheControl(maxAge: "soon") { id: ID! }
            "#,
        );
        assert!(h.is_empty());
    }
}
