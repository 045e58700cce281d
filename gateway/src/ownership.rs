//! Ownership of the entities a write names, checked before the write runs.
//!
//! A mutation of one subgraph may name an entity another subgraph owns: `createContentRequest`
//! (content) names a campaign (ads). The writing subgraph cannot see whether that campaign exists
//! or whose it is, so without a check a tenant could attach rows to another organization's
//! campaign, or to none. Each [`OwnershipRule`] says where such an id sits in a mutation's
//! arguments and which query field of the owner answers the entity to a caller (null when it
//! does not exist or belongs to another organization); before the mutation runs, the gateway asks
//! that field, as the caller's organization (or the organization the write names, for staff),
//! with the rule's read scopes only. An entity that does not come back refuses the mutation with
//! `FORBIDDEN`: nothing was written.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::gateway::{Request, select_operation};

/// One checked argument of one mutation field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnershipRule {
    /// The mutation field, e.g. `createContentRequest`.
    pub mutation: String,
    /// Where the entity's id sits among its arguments, dotted: `input.campaignId`.
    pub id_argument: String,
    /// Where the organization the write is for sits, if anywhere (`input.organizationId`): a
    /// staff caller's check runs as that organization.
    #[serde(default)]
    pub organization_argument: Option<String>,
    /// The query field that returns the entity by `id`, or null when the caller may not see it:
    /// `campaign`.
    pub lookup: String,
    /// The scopes the check runs with (read access to the owner): `[ads:read]`.
    pub scopes: Vec<String>,
}

/// The rules the gateway applies unless its configuration says otherwise.
pub fn default_rules() -> Vec<OwnershipRule> {
    vec![OwnershipRule {
        mutation: "createContentRequest".into(),
        id_argument: "input.campaignId".into(),
        organization_argument: Some("input.organizationId".into()),
        lookup: "campaign".into(),
        scopes: vec!["ads:read".into()],
    }]
}

/// One check to make before a mutation runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check<'r> {
    pub rule: &'r OwnershipRule,
    pub id: String,
    /// The organization the write names, if the rule reads one and it was given.
    pub organization: Option<String>,
}

impl Check<'_> {
    /// The query that asks the owner for the entity.
    pub fn request(&self) -> Request {
        let query = format!(
            "query OwnershipCheck($id: ID!) {{ entity: {}(id: $id) {{ __typename }} }}",
            self.rule.lookup
        );
        let mut variables = Map::new();
        variables.insert("id".into(), Value::String(self.id.clone()));
        Request {
            query: Some(query),
            operation_name: None,
            variables: Some(variables),
            extensions: None,
        }
    }

    /// What the client is told when the entity does not come back.
    pub fn refusal(&self) -> String {
        format!(
            "{}: {} {:?} does not exist or belongs to another organization; nothing was written",
            self.rule.mutation, self.rule.id_argument, self.id
        )
    }
}

/// The checks `doc`'s operation needs under `rules`: one per root field of a mutation that a
/// rule names and whose id argument is given as a string. A request that does not parse or is no
/// mutation needs none (it is refused or runs as usual).
pub fn checks<'r>(rules: &'r [OwnershipRule], request: &Request) -> Vec<Check<'r>> {
    use graphql_tools::static_graphql::query::{OperationDefinition as Op, Selection};
    let Some(query) = request.query.as_deref() else {
        return Vec::new();
    };
    if rules.is_empty() || !query.contains("mutation") {
        return Vec::new();
    }
    // Called for documents the gateway has already parsed and validated.
    let Ok(doc) = graphql_tools::parser::parse_query::<String>(query) else {
        return Vec::new();
    };
    let doc = doc.into_static();
    let Some(Op::Mutation(m)) = select_operation(&doc, request.operation_name.as_deref().filter(|n| !n.is_empty()))
    else {
        return Vec::new();
    };
    let empty = Map::new();
    let variables = request.variables.as_ref().unwrap_or(&empty);
    let mut out = Vec::new();
    for item in &m.selection_set.items {
        let Selection::Field(field) = item else { continue };
        for rule in rules.iter().filter(|r| r.mutation == field.name) {
            let args: Map<String, Value> = field
                .arguments
                .iter()
                .map(|(k, v)| (k.clone(), literal(v, variables)))
                .collect();
            let args = Value::Object(args);
            let Some(Value::String(id)) = at(&args, &rule.id_argument) else {
                continue;
            };
            let organization = rule
                .organization_argument
                .as_deref()
                .and_then(|path| at(&args, path))
                .and_then(Value::as_str)
                .map(str::to_owned);
            out.push(Check {
                rule,
                id: id.clone(),
                organization,
            });
        }
    }
    out
}

/// An argument's value with its variables put in.
fn literal(v: &graphql_tools::static_graphql::query::Value, variables: &Map<String, Value>) -> Value {
    use graphql_tools::static_graphql::query::Value as L;
    match v {
        L::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        L::List(items) => Value::Array(items.iter().map(|i| literal(i, variables)).collect()),
        L::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), literal(v, variables))).collect()),
        other => crate::gateway::to_json(other),
    }
}

fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(query: &str, variables: Value) -> Request {
        Request {
            query: Some(query.into()),
            variables: variables.as_object().cloned(),
            ..Request::default()
        }
    }

    #[test]
    fn should_find_the_id_in_literals_and_variables() {
        let rules = default_rules();
        let literal = request(
            r#"mutation { createContentRequest(input: { campaignId: "c1", organizationId: "o1" }) { id } }"#,
            Value::Null,
        );
        let found = checks(&rules, &literal);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].id.as_str(), found[0].organization.as_deref()),
            ("c1", Some("o1"))
        );
        let variables = request(
            "mutation($i: NewContentRequestInput!) { a: createContentRequest(input: $i) { id } }",
            json!({ "i": { "campaignId": "c2" } }),
        );
        let found = checks(&rules, &variables);
        assert_eq!((found[0].id.as_str(), found[0].organization.as_deref()), ("c2", None));
        assert!(checks(&rules, &request("{ campaign(id: \"x\") { id } }", Value::Null)).is_empty());
    }
}
