//! Coercion of the request's variables against the operation's variable definitions and the API
//! schema, before anything is planned or fetched: defaults filled in, a missing non-null variable
//! refused, and every value checked against its type. The API schema is the contract: an enum
//! value or input field it does not have (an `@inaccessible` one) is refused here, where a
//! subgraph, whose own schema has it, would accept it.

use graphql_tools::static_graphql::query as q;
use serde_json::{Map, Value};

use crate::schema::{FieldType, Kind, SchemaIndex};

/// Provided variables plus defaults, each checked against its declared type.
pub fn coerce(
    defs: &[q::VariableDefinition],
    mut provided: Map<String, Value>,
    schema: &SchemaIndex,
) -> Result<Map<String, Value>, String> {
    for def in defs {
        let ty = FieldType::from_ast(&def.var_type);
        match provided.get(&def.name) {
            Some(value) => check(&ty, value, schema, &format!("${}", def.name))?,
            None => match &def.default_value {
                Some(v) => {
                    provided.insert(def.name.clone(), to_json(v));
                }
                None if matches!(def.var_type, q::Type::NonNullType(_)) => {
                    return Err(format!("variable ${} of a non-null type was not given", def.name));
                }
                None => {}
            },
        }
    }
    Ok(provided)
}

fn check(ty: &FieldType, value: &Value, schema: &SchemaIndex, at: &str) -> Result<(), String> {
    match ty {
        FieldType::NonNull(inner) => {
            if value.is_null() {
                return Err(format!("{at} must not be null"));
            }
            check(inner, value, schema, at)
        }
        FieldType::List(inner) => match value {
            Value::Null => Ok(()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| check(inner, item, schema, &format!("{at}[{i}]"))),
            // A single value stands for a list of one (input coercion of lists).
            single => check(inner, single, schema, at),
        },
        FieldType::Named(name) => named(name, value, schema, at),
    }
}

fn named(name: &str, value: &Value, schema: &SchemaIndex, at: &str) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let fits = match name {
        "Int" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "Float" => value.is_number(),
        "String" => value.is_string(),
        "Boolean" => value.is_boolean(),
        "ID" => value.is_string() || value.is_i64() || value.is_u64(),
        _ => match schema.types.get(name) {
            Some(t) if t.kind == Kind::Enum => value.as_str().is_some_and(|v| t.values.contains(v)),
            Some(t) if t.kind == Kind::Input => {
                let Value::Object(fields) = value else {
                    return Err(format!("{at} must be an input object of type {name}"));
                };
                for (field, v) in fields {
                    let Some(ft) = t.fields.get(field) else {
                        return Err(format!("{at} has a field {field} that {name} does not define"));
                    };
                    check(ft, v, schema, &format!("{at}.{field}"))?;
                }
                for (field, ft) in &t.fields {
                    if matches!(ft, FieldType::NonNull(_)) && !fields.contains_key(field) && !t.values.contains(field) {
                        return Err(format!("{at} lacks the required field {field} of {name}"));
                    }
                }
                true
            }
            // Custom scalars: the subgraph that defines them judges their values.
            Some(t) if t.kind == Kind::Leaf => true,
            _ => {
                return Err(format!(
                    "{at} is of type {name}, which is not an input type of the schema"
                ));
            }
        },
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{at} got {value}, which is not a valid {name}"))
    }
}

/// A literal of the document as JSON (a default value).
fn to_json(v: &q::Value) -> Value {
    match v {
        q::Value::Variable(_) | q::Value::Null => Value::Null,
        q::Value::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        q::Value::Float(f) => Value::from(*f),
        q::Value::String(s) => Value::from(s.as_str()),
        q::Value::Boolean(b) => Value::from(*b),
        q::Value::Enum(e) => Value::from(e.as_str()),
        q::Value::List(items) => Value::Array(items.iter().map(to_json).collect()),
        q::Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}
