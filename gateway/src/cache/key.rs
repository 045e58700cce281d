//! The response cache key: everything a response depends on, hashed. One caller must never see a
//! response computed for another with different rights, so the key holds the caller's scope set
//! and organization (the subgraphs filter by both; the subject itself changes no read) besides
//! the operation, its variables and the supergraph.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What a cached response depends on.
pub struct KeyParts<'a> {
    pub query: &'a str,
    pub operation_name: Option<&'a str>,
    pub variables: Option<&'a Map<String, Value>>,
    pub scopes: &'a [String],
    pub organization: Option<uuid::Uuid>,
    pub schema_hash: u64,
}

/// The hex SHA-256 of the parts, each length-prefixed so no two different requests can run
/// together into the same bytes.
pub fn hash(parts: &KeyParts<'_>) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(parts.query.as_bytes());
    // An empty operation name means none, as the gateway reads it.
    field(
        parts
            .operation_name
            .filter(|n| !n.is_empty())
            .unwrap_or_default()
            .as_bytes(),
    );
    let mut variables = Vec::new();
    if let Some(v) = parts.variables.filter(|v| !v.is_empty()) {
        canonical(&Value::Object(v.clone()), &mut variables);
    }
    field(&variables);
    let mut scopes: Vec<&str> = parts.scopes.iter().map(String::as_str).collect();
    scopes.sort_unstable();
    scopes.dedup();
    field(scopes.join(" ").as_bytes());
    field(parts.organization.map(|o| o.to_string()).unwrap_or_default().as_bytes());
    field(&parts.schema_hash.to_be_bytes());
    format!("{:x}", hasher.finalize())
}

/// JSON with object keys sorted at every level, so `{"a":1,"b":2}` and `{"b":2,"a":1}` (the
/// same variables) give the same key; strings and numbers as serde_json writes them.
fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(k).expect("a string serialises"));
                out.push(b':');
                canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(v, out);
            }
            out.push(b']');
        }
        leaf => out.extend(serde_json::to_vec(leaf).expect("a JSON leaf serialises")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(variables: Value, scopes: &[&str], org: Option<u128>) -> String {
        let variables = variables.as_object().cloned();
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        hash(&KeyParts {
            query: "query Q($a: Int) { x(a: $a) }",
            operation_name: Some("Q"),
            variables: variables.as_ref(),
            scopes: &scopes,
            organization: org.map(uuid::Uuid::from_u128),
            schema_hash: 7,
        })
    }

    #[test]
    fn should_ignore_the_order_of_variables_and_scopes() {
        assert_eq!(
            key(
                json!({"a": 1, "b": {"y": 2, "x": [1, {"q": 1, "p": 2}]}}),
                &["ads:read", "crm:read"],
                None
            ),
            key(
                json!({"b": {"x": [1, {"p": 2, "q": 1}], "y": 2}, "a": 1}),
                &["crm:read", "ads:read"],
                None
            ),
        );
        assert_eq!(key(json!({}), &["a"], None), key(Value::Null, &["a", "a"], None));
    }

    #[test]
    fn should_separate_callers_with_other_rights_or_another_organization() {
        let base = key(json!({"a": 1}), &["ads:read"], None);
        assert_ne!(base, key(json!({"a": 1}), &["ads:read", "crm:pii"], None));
        assert_ne!(base, key(json!({"a": 1}), &["ads:read"], Some(1)));
        assert_ne!(
            key(json!({"a": 1}), &["ads:read"], Some(1)),
            key(json!({"a": 1}), &["ads:read"], Some(2))
        );
        assert_ne!(base, key(json!({"a": 2}), &["ads:read"], None));
        assert_ne!(base, key(json!({"a": "1"}), &["ads:read"], None));
    }
}
