//! Variable coercion at the gateway, as the GraphQL spec's `CoerceVariableValues` asks: every
//! variable the operation declares is checked against its type before anything is planned or
//! fetched, so a wrong type, a `null` for a non-null type, an unknown input field or an enum value
//! the schema lacks is a request error (400, `BAD_USER_INPUT`) that names the variable, instead of
//! a subgraph error after part of the plan ran. Strings holding NUL (`\u0000`) are refused here
//! too: no subgraph field accepts them, and PostgreSQL text cannot store them.
//!
//! Values are checked, not rewritten (the subgraphs coerce them again to their own types), except
//! that a missing variable with a default gets the default, which the plan then carries.

use std::collections::{HashMap, HashSet};

use graphql_tools::static_graphql::{
    query::{self as q, Type},
    schema::{Definition, Document, TypeDefinition},
};
use serde_json::{Map, Value};

use crate::gateway::to_json;

enum InputKind {
    /// A custom scalar: any value (its subgraph checks its format).
    Custom,
    Int,
    Float,
    String,
    Boolean,
    Id,
    Enum(HashSet<String>),
    /// Fields with their types and whether each has a default.
    Object(Vec<(String, Type, bool)>),
}

/// The input types of the consumer schema.
pub(crate) struct InputTypes {
    types: HashMap<String, InputKind>,
}

impl InputTypes {
    pub fn new(doc: &Document) -> InputTypes {
        let mut types = HashMap::from([
            ("Int".to_owned(), InputKind::Int),
            ("Float".to_owned(), InputKind::Float),
            ("String".to_owned(), InputKind::String),
            ("Boolean".to_owned(), InputKind::Boolean),
            ("ID".to_owned(), InputKind::Id),
        ]);
        for def in &doc.definitions {
            let Definition::TypeDefinition(td) = def else { continue };
            match td {
                TypeDefinition::Scalar(s) if !types.contains_key(&s.name) => {
                    types.insert(s.name.clone(), InputKind::Custom);
                }
                TypeDefinition::Enum(e) => {
                    let values = e.values.iter().map(|v| v.name.clone()).collect();
                    types.insert(e.name.clone(), InputKind::Enum(values));
                }
                TypeDefinition::InputObject(o) => {
                    let fields = o
                        .fields
                        .iter()
                        .map(|f| (f.name.clone(), f.value_type.clone(), f.default_value.is_some()))
                        .collect();
                    types.insert(o.name.clone(), InputKind::Object(fields));
                }
                _ => {}
            }
        }
        InputTypes { types }
    }

    /// The provided variables checked against the operation's definitions, with the defaults of
    /// missing ones filled in. `Err`: what is wrong, for the client.
    pub fn coerce(
        &self,
        defs: &[q::VariableDefinition],
        mut provided: Map<String, Value>,
    ) -> Result<Map<String, Value>, String> {
        for def in defs {
            match provided.get(&def.name) {
                Some(value) => self.check(&def.var_type, value, &format!("${}", def.name))?,
                None => match &def.default_value {
                    Some(v) => {
                        provided.insert(def.name.clone(), to_json(v));
                    }
                    None if matches!(def.var_type, Type::NonNullType(_)) => {
                        return Err(format!(
                            "variable ${} of the non-null type {} was not given",
                            def.name, def.var_type
                        ));
                    }
                    None => {}
                },
            }
        }
        Ok(provided)
    }

    fn check(&self, ty: &Type, value: &Value, path: &str) -> Result<(), String> {
        match (ty, value) {
            (Type::NonNullType(_), Value::Null) => Err(format!("{path} must not be null (its type is {ty})")),
            (Type::NonNullType(inner), v) => self.check(inner, v, path),
            (_, Value::Null) => Ok(()),
            (Type::ListType(inner), Value::Array(items)) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| self.check(inner, item, &format!("{path}[{i}]"))),
            // A single value stands for a list of one.
            (Type::ListType(inner), v) => self.check(inner, v, path),
            (Type::NamedType(name), v) => self.check_named(name, v, path),
        }
    }

    fn check_named(&self, name: &str, value: &Value, path: &str) -> Result<(), String> {
        let wrong = |expected: &str| {
            Err(format!(
                "{path} must be {expected} (type {name}), not {}",
                describe(value)
            ))
        };
        let Some(kind) = self.types.get(name) else {
            // Validation already refused variables of unknown types.
            return no_nul(value, path);
        };
        match kind {
            InputKind::Int => match value.as_i64() {
                Some(n) if i32::try_from(n).is_ok() => Ok(()),
                Some(_) => Err(format!("{path} must be an integer of 32 bits (type Int)")),
                None => wrong("an integer"),
            },
            InputKind::Float => match value {
                Value::Number(_) => Ok(()),
                _ => wrong("a number"),
            },
            InputKind::String => match value {
                Value::String(_) => no_nul(value, path),
                _ => wrong("a string"),
            },
            InputKind::Boolean => match value {
                Value::Bool(_) => Ok(()),
                _ => wrong("true or false"),
            },
            InputKind::Id => match value {
                Value::String(_) => no_nul(value, path),
                Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
                _ => wrong("a string or an integer"),
            },
            InputKind::Custom => no_nul(value, path),
            InputKind::Enum(values) => match value {
                Value::String(s) if values.contains(s) => Ok(()),
                Value::String(s) => Err(format!("{path}: {s:?} is not a value of the enum {name}")),
                _ => wrong("the name of an enum value"),
            },
            InputKind::Object(fields) => {
                let Value::Object(given) = value else {
                    return wrong("an object");
                };
                if let Some(unknown) = given.keys().find(|k| !fields.iter().any(|(f, _, _)| f == *k)) {
                    return Err(format!("{path}.{unknown} is not a field of the input type {name}"));
                }
                for (field, ty, has_default) in fields {
                    let at = format!("{path}.{field}");
                    match given.get(field) {
                        Some(v) => self.check(ty, v, &at)?,
                        None if matches!(ty, Type::NonNullType(_)) && !has_default => {
                            return Err(format!("{at} of the non-null type {ty} was not given"));
                        }
                        None => {}
                    }
                }
                Ok(())
            }
        }
    }
}

/// Refuses NUL in any string of `value`.
fn no_nul(value: &Value, path: &str) -> Result<(), String> {
    let found = match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => return items.iter().try_for_each(|v| no_nul(v, path)),
        Value::Object(fields) => return fields.values().try_for_each(|v| no_nul(v, path)),
        _ => false,
    };
    if found {
        Err(format!(
            "{path} holds a NUL character (\\u0000), which no field accepts"
        ))
    } else {
        Ok(())
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SDL: &str = r#"
        scalar DateTime
        enum Segment { RETAIL WHOLESALE }
        input Filter { city: String, segment: Segment, ids: [ID!], since: DateTime, first: Int! = 10, need: Boolean! }
        type Query { x(f: Filter): Int }
    "#;

    fn coerce(vars: &str, given: Value) -> Result<Map<String, Value>, String> {
        let schema = graphql_tools::parser::parse_schema::<String>(SDL)
            .expect("sdl")
            .into_static();
        let op = format!("query({vars}) {{ x }}");
        let doc = graphql_tools::parser::parse_query::<String>(&op)
            .expect("query")
            .into_static();
        let q::Definition::Operation(q::OperationDefinition::Query(query)) = &doc.definitions[0] else {
            panic!("a query")
        };
        let Value::Object(given) = given else {
            panic!("an object")
        };
        InputTypes::new(&schema).coerce(&query.variable_definitions, given)
    }

    #[test]
    fn should_refuse_values_of_the_wrong_type() {
        assert!(
            coerce("$n: Int", json!({"n": "ten"}))
                .expect_err("refused")
                .contains("$n must be an integer")
        );
        assert!(coerce("$n: Int", json!({"n": 1.5})).is_err());
        assert!(
            coerce("$n: Int", json!({"n": 3_000_000_000i64}))
                .expect_err("refused")
                .contains("32 bits")
        );
        assert!(coerce("$s: String", json!({"s": 5})).is_err());
        assert!(coerce("$b: Boolean", json!({"b": "true"})).is_err());
        assert!(coerce("$f: Float", json!({"f": 2})).is_ok());
        assert!(coerce("$i: ID", json!({"i": 7})).is_ok());
        assert!(coerce("$i: ID", json!({"i": 7.5})).is_err());
    }

    #[test]
    fn should_refuse_null_and_absence_for_non_null_types() {
        assert!(
            coerce("$n: Int!", json!({"n": null}))
                .expect_err("refused")
                .contains("must not be null")
        );
        assert!(
            coerce("$n: Int!", json!({}))
                .expect_err("refused")
                .contains("was not given")
        );
        assert_eq!(coerce("$n: Int! = 3", json!({})).expect("default")["n"], json!(3));
        assert!(coerce("$n: Int", json!({"n": null})).is_ok());
    }

    #[test]
    fn should_check_input_objects_enums_and_lists() {
        let ok = json!({"f": {"city": "Lima", "segment": "RETAIL", "ids": ["a", 2], "need": true}});
        assert!(coerce("$f: Filter", ok).is_ok());
        let bad_enum = json!({"f": {"segment": "NOPE", "need": true}});
        assert!(
            coerce("$f: Filter", bad_enum)
                .expect_err("refused")
                .contains("not a value of the enum Segment")
        );
        let unknown = json!({"f": {"town": "Lima", "need": true}});
        assert!(
            coerce("$f: Filter", unknown)
                .expect_err("refused")
                .contains("$f.town is not a field")
        );
        let missing = json!({"f": {}});
        assert!(coerce("$f: Filter", missing).expect_err("refused").contains("$f.need"));
        let null_item = json!({"f": {"ids": ["a", null], "need": true}});
        assert!(
            coerce("$f: Filter", null_item)
                .expect_err("refused")
                .contains("$f.ids[1] must not be null")
        );
        let single = json!({"f": {"ids": "a", "need": false}});
        assert!(coerce("$f: Filter", single).is_ok());
        assert!(
            coerce("$f: Filter", json!({"f": "city"}))
                .expect_err("refused")
                .contains("must be an object")
        );
    }

    #[test]
    fn should_refuse_nul_characters_in_any_string() {
        assert!(
            coerce("$s: String", json!({"s": "a\u{0}b"}))
                .expect_err("refused")
                .contains("NUL")
        );
        let nested = json!({"f": {"city": "Li\u{0}ma", "need": true}});
        assert!(
            coerce("$f: Filter", nested)
                .expect_err("refused")
                .contains("$f.city holds a NUL")
        );
        assert!(coerce("$d: DateTime", json!({"d": "2026\u{0}"})).is_err());
    }
}
