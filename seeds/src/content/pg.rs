//! The records as rows of the PostgreSQL jsonb twin (`sql/content/postgres/0001_init.sql`). Rows are
//! cut from the very MongoDB documents `documents()` returns, the way the README says an adapter
//! splits a document: `_id` to `id`, promoted fields to their columns, every other top-level field
//! into `doc`. So both stores receive the same values by construction.

use std::str::FromStr;

use bson::{Bson, Document, spec::BinarySubtype};
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use super::ContentSet;

/// Rows for one table, columns in the table's own order.
#[derive(Debug, Clone, PartialEq)]
pub struct PgTable {
    /// Schema-qualified, e.g. `content.images`.
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<PgValue>>,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum PgValue {
    Null,
    Bool(bool),
    Int(i64),
    Decimal(rust_decimal::Decimal),
    Text(String),
    Bytes(Vec<u8>),
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Json(serde_json::Value),
    TextArray(Vec<String>),
}

/// A table: its collection, and its columns in order (`id` is the document's `_id`, `doc` the rest).
struct Shape {
    table: &'static str,
    collection: &'static str,
    columns: &'static [&'static str],
}

const SHAPES: &[Shape] = &[
    Shape {
        table: "content.images",
        collection: "images",
        columns: &[
            "id",
            "organization_id",
            "format",
            "hashtags",
            "doc",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    },
    Shape {
        table: "content.image_blobs",
        collection: "image_blobs",
        columns: &["image_id", "data", "sha256"],
    },
    Shape {
        table: "content.hashtags",
        collection: "hashtags",
        columns: &[
            "id",
            "tag",
            "category",
            "usage_count",
            "doc",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    },
    Shape {
        table: "content.content_requests",
        collection: "content_requests",
        columns: &[
            "id",
            "organization_id",
            "campaign_id",
            "status",
            "requested_by",
            "doc",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    },
    Shape {
        table: "content.campaign_logs",
        collection: "campaign_logs",
        columns: &[
            "id",
            "organization_id",
            "campaign_id",
            "population",
            "channel_code",
            "doc",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    },
    Shape {
        table: "content.integrations",
        collection: "integrations",
        columns: &[
            "id",
            "organization_id",
            "name",
            "kind",
            "auth_method",
            "credentials_enc",
            "credentials_key_id",
            "enabled",
            "doc",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    },
    Shape {
        table: "content.generation_logs",
        collection: "generation_logs",
        columns: &[
            "id",
            "organization_id",
            "request_id",
            "kind",
            "model",
            "tokens_in",
            "tokens_out",
            "latency_ms",
            "cost_usd",
            "doc",
            "created_at",
            "updated_at",
        ],
    },
];

/// The twin's tables and their columns, in load order (parents first).
pub fn tables() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    SHAPES.iter().map(|s| (s.table, s.columns))
}

/// Which document field fills a column.
fn field(column: &str) -> &str {
    match column {
        "id" | "image_id" => "_id",
        other => other,
    }
}

fn time(t: &bson::DateTime) -> DateTime<Utc> {
    t.to_chrono()
}

/// A promoted field as a column value.
fn column(value: &Bson) -> PgValue {
    match value {
        Bson::Null => PgValue::Null,
        Bson::Boolean(b) => PgValue::Bool(*b),
        Bson::Int32(n) => PgValue::Int(i64::from(*n)),
        Bson::Int64(n) => PgValue::Int(*n),
        Bson::String(s) => PgValue::Text(s.clone()),
        Bson::DateTime(t) => PgValue::Time(time(t)),
        Bson::Binary(b) if b.subtype == BinarySubtype::Uuid => {
            PgValue::Uuid(Uuid::from_slice(&b.bytes).expect("subtype 4 holds 16 bytes"))
        }
        Bson::Binary(b) => PgValue::Bytes(b.bytes.clone()),
        Bson::Decimal128(d) => PgValue::Decimal(
            rust_decimal::Decimal::from_str(&d.to_string()).expect("our Decimal128 values come from rust_decimal"),
        ),
        Bson::Array(items) => PgValue::TextArray(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .expect("the only promoted array is hashtags (text[])")
                        .to_owned()
                })
                .collect(),
        ),
        other => panic!("no column type for {other:?}"),
    }
}

/// A value kept in `doc`: dates become RFC 3339 UTC strings with milliseconds, as the DDL's
/// `content.is_utc_timestamp` expects. Binary and decimal values are always promoted, never here.
fn json(value: &Bson) -> serde_json::Value {
    match value {
        Bson::Null => serde_json::Value::Null,
        Bson::Boolean(b) => (*b).into(),
        Bson::Int32(n) => (*n).into(),
        Bson::Int64(n) => (*n).into(),
        Bson::String(s) => s.clone().into(),
        Bson::DateTime(t) => time(t).to_rfc3339_opts(SecondsFormat::Millis, true).into(),
        Bson::Array(items) => items.iter().map(json).collect::<Vec<_>>().into(),
        Bson::Document(d) => d
            .iter()
            .map(|(k, v)| (k.clone(), json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => panic!("{other:?} cannot live in doc: the DDL promotes binary and decimal values"),
    }
}

fn row(shape: &Shape, document: &Document) -> Vec<PgValue> {
    let promoted: Vec<&str> = shape
        .columns
        .iter()
        .filter(|c| **c != "doc")
        .map(|c| field(c))
        .collect();
    shape
        .columns
        .iter()
        .map(|c| match *c {
            "doc" => PgValue::Json(
                document
                    .iter()
                    .filter(|(k, _)| !promoted.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), json(v)))
                    .collect::<serde_json::Map<_, _>>()
                    .into(),
            ),
            c => column(
                document
                    .get(field(c))
                    .unwrap_or_else(|| panic!("{}: no field for column {c}", shape.table)),
            ),
        })
        .collect()
}

pub(super) fn rows(set: &ContentSet) -> Vec<PgTable> {
    let documents = set.documents();
    SHAPES
        .iter()
        .map(|shape| {
            let (_, docs) = documents
                .iter()
                .find(|(name, _)| *name == shape.collection)
                .expect("documents() returns every collection");
            PgTable {
                table: shape.table,
                columns: shape.columns,
                rows: docs.iter().map(|d| row(shape, d)).collect(),
            }
        })
        .collect()
}
