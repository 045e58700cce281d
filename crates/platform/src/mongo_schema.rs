//! Checks a document against a MongoDB `$jsonSchema` validator, for the subset of keywords our
//! validators use. Two users: the tests, which prove the validators accept and reject sample
//! documents although no MongoDB server runs here, and the PostgreSQL twin of the content store,
//! which checks each document against the very validator MongoDB would enforce before writing it.
//! A keyword outside the subset is an error, so a validator cannot silently mean more than this
//! checks.

use bson::{Bson, Document};
use regex::Regex;

/// One rule a document broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, as a dotted path (`file.size_bytes`, `hashtags.2`); empty for the document itself.
    pub path: String,
    /// The keyword that failed (`required`, `bsonType`, `pattern`, …).
    pub rule: &'static str,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.path.is_empty() { "document" } else { &self.path };
        write!(f, "{at}: {} ({})", self.message, self.rule)
    }
}

const KEYWORDS: &[&str] = &[
    "bsonType",
    "required",
    "properties",
    "additionalProperties",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "description",
    "title",
];

/// Every violation of `schema` by `document` (empty when it is valid). An unusable schema (unknown
/// keyword, bad regex) is reported as `Err`.
pub fn validate(schema: &Document, document: &Document) -> Result<Vec<Violation>, String> {
    let mut out = Vec::new();
    check(schema, &Bson::Document(document.clone()), "", &mut out)?;
    Ok(out)
}

fn type_matches(name: &str, value: &Bson) -> Result<bool, String> {
    Ok(match name {
        "double" => matches!(value, Bson::Double(_)),
        "string" => matches!(value, Bson::String(_)),
        "object" => matches!(value, Bson::Document(_)),
        "array" => matches!(value, Bson::Array(_)),
        "binData" => matches!(value, Bson::Binary(_)),
        "objectId" => matches!(value, Bson::ObjectId(_)),
        "bool" => matches!(value, Bson::Boolean(_)),
        "date" => matches!(value, Bson::DateTime(_)),
        "null" => matches!(value, Bson::Null),
        "int" => matches!(value, Bson::Int32(_)),
        "long" => matches!(value, Bson::Int64(_)),
        "decimal" => matches!(value, Bson::Decimal128(_)),
        "number" => matches!(
            value,
            Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
        ),
        other => return Err(format!("unknown bsonType `{other}`")),
    })
}

fn as_f64(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(v) => Some(f64::from(*v)),
        Bson::Int64(v) => Some(*v as f64),
        Bson::Double(v) => Some(*v),
        Bson::Decimal128(d) => d.to_string().parse().ok(),
        _ => None,
    }
}

fn as_usize(schema: &Document, key: &str) -> Result<Option<usize>, String> {
    schema
        .get(key)
        .map(|v| {
            as_f64(v)
                .map(|n| n as usize)
                .ok_or_else(|| format!("`{key}` must be a number"))
        })
        .transpose()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check(schema: &Document, value: &Bson, path: &str, out: &mut Vec<Violation>) -> Result<(), String> {
    if let Some(unknown) = schema.keys().find(|k| !KEYWORDS.contains(&k.as_str())) {
        return Err(format!(
            "{}: keyword `{unknown}` is outside the supported subset",
            join(path, "")
        ));
    }
    let mut fail = |rule: &'static str, message: String| {
        out.push(Violation {
            path: path.to_owned(),
            rule,
            message,
        })
    };

    if let Some(types) = schema.get("bsonType") {
        let names: Vec<&str> = match types {
            Bson::String(s) => vec![s.as_str()],
            Bson::Array(a) => a.iter().filter_map(Bson::as_str).collect(),
            _ => return Err(format!("{path}: bsonType must be a string or an array of strings")),
        };
        let mut ok = false;
        for name in &names {
            ok |= type_matches(name, value)?;
        }
        if !ok {
            fail(
                "bsonType",
                format!("expected {}, found {}", names.join(" or "), type_name(value)),
            );
            return Ok(()); // the other keywords make no sense on a value of the wrong type
        }
    }
    if let Some(Bson::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        fail(
            "enum",
            format!("{value} is not one of {}", Bson::Array(allowed.clone())),
        );
    }
    if let Some(n) = as_f64(value) {
        if let Some(min) = schema.get("minimum").and_then(as_f64)
            && n < min
        {
            fail("minimum", format!("{n} is below the minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(as_f64)
            && n > max
        {
            fail("maximum", format!("{n} is above the maximum {max}"));
        }
    }
    if let Bson::String(s) = value {
        let chars = s.chars().count();
        if let Some(min) = as_usize(schema, "minLength")?
            && chars < min
        {
            fail("minLength", format!("{chars} characters, at least {min} required"));
        }
        if let Some(max) = as_usize(schema, "maxLength")?
            && chars > max
        {
            fail("maxLength", format!("{chars} characters, at most {max} allowed"));
        }
        if let Ok(pattern) = schema.get_str("pattern") {
            let re = Regex::new(pattern).map_err(|e| format!("{path}: bad pattern: {e}"))?;
            if !re.is_match(s) {
                fail("pattern", format!("{s:?} does not match {pattern}"));
            }
        }
    }
    if let Bson::Array(items) = value {
        if let Some(min) = as_usize(schema, "minItems")?
            && items.len() < min
        {
            fail("minItems", format!("{} items, at least {min} required", items.len()));
        }
        if let Some(max) = as_usize(schema, "maxItems")?
            && items.len() > max
        {
            fail("maxItems", format!("{} items, at most {max} allowed", items.len()));
        }
        if schema.get_bool("uniqueItems").unwrap_or(false)
            && let Some(dup) = items.iter().enumerate().find(|(i, v)| items[..*i].contains(v))
        {
            fail("uniqueItems", format!("{} appears more than once", dup.1));
        }
        if let Ok(item_schema) = schema.get_document("items") {
            for (i, item) in items.iter().enumerate() {
                check(item_schema, item, &join(path, &i.to_string()), out)?;
            }
        }
    }
    if let Bson::Document(doc) = value {
        let properties = schema.get_document("properties").ok();
        if let Ok(required) = schema.get_array("required") {
            for name in required.iter().filter_map(Bson::as_str) {
                if !doc.contains_key(name) {
                    out.push(Violation {
                        path: join(path, name),
                        rule: "required",
                        message: "is required but missing".into(),
                    });
                }
            }
        }
        for (key, field) in doc {
            match properties.and_then(|p| p.get_document(key).ok()) {
                Some(field_schema) => check(field_schema, field, &join(path, key), out)?,
                None => match schema.get("additionalProperties") {
                    Some(Bson::Boolean(false)) => out.push(Violation {
                        path: join(path, key),
                        rule: "additionalProperties",
                        message: "is not an allowed property".into(),
                    }),
                    Some(Bson::Document(extra)) => check(extra, field, &join(path, key), out)?,
                    _ => {}
                },
            }
        }
    }
    Ok(())
}

fn type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Binary(_) => "binData",
        Bson::ObjectId(_) => "objectId",
        Bson::Boolean(_) => "bool",
        Bson::DateTime(_) => "date",
        Bson::Null => "null",
        Bson::Int32(_) => "int",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        _ => "another BSON type",
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn schema() -> Document {
        doc! {
            "bsonType": "object",
            "required": ["_id", "tags", "size"],
            "additionalProperties": false,
            "properties": {
                "_id": { "bsonType": "string" },
                "tags": { "bsonType": "array", "minItems": 2, "uniqueItems": true,
                          "items": { "bsonType": "string", "pattern": "^[a-z]+$" } },
                "size": { "bsonType": ["int", "long"], "minimum": 0 },
                "kind": { "enum": ["png", "webp"] },
            }
        }
    }

    #[test]
    fn should_accept_a_valid_document() {
        let ok = doc! { "_id": "a", "tags": ["sun", "sea"], "size": 10_i64, "kind": "png" };
        assert_eq!(validate(&schema(), &ok).expect("usable schema"), vec![]);
    }

    #[test]
    fn should_report_each_broken_rule_at_its_path() {
        let bad = doc! { "tags": ["sun", "Sun!", "sun"], "size": -1, "kind": "gif", "extra": true };
        let found: Vec<String> = validate(&schema(), &bad)
            .expect("usable schema")
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            found,
            vec![
                "_id: is required but missing (required)",
                "tags: \"sun\" appears more than once (uniqueItems)",
                "tags.1: \"Sun!\" does not match ^[a-z]+$ (pattern)",
                "size: -1 is below the minimum 0 (minimum)",
                "kind: \"gif\" is not one of [\"png\", \"webp\"] (enum)",
                "extra: is not an allowed property (additionalProperties)",
            ]
        );
    }

    #[test]
    fn should_refuse_keywords_outside_the_subset() {
        let err = validate(&doc! { "type": "object" }, &doc! {}).expect_err("refused");
        assert!(err.contains("keyword `type` is outside the supported subset"), "{err}");
    }
}
