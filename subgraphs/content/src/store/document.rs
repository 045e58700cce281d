//! What both adapters share about a document: its canonical (plain JSON) form, the validators
//! MongoDB enforces plus the cross-field rules it cannot, and the split of a document into the
//! PostgreSQL twin's promoted columns and `doc` (sql/content/README.md).
//!
//! The canonical form is the MongoDB document with UUIDs (binData subtype 4) as strings, dates
//! as RFC 3339 UTC strings with milliseconds (the form the twin keeps inside `doc`), decimals as
//! strings and other binary values in PostgreSQL's `bytea` hex input form. The twin's
//! `to_jsonb(row) - 'doc' || doc` is the same shape, so one serde model reads both stores.

use std::{collections::HashMap, sync::OnceLock};

use bson::{Bson, Document, doc};
use chrono::{DateTime, SecondsFormat, Utc};
use promptsales_platform::{
    Backend, Store,
    migrate::{MongoMigration, embedded},
    mongo_schema::{self, Violation},
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{NewCampaignLog, NewContentRequest, Result, StoreError};

/// A collection of the content store (a table of the twin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    Images,
    ImageBlobs,
    Hashtags,
    ContentRequests,
    CampaignLogs,
    Integrations,
    GenerationLogs,
}

impl Collection {
    /// In an order that loads without dangling references.
    pub const ALL: [Collection; 7] = [
        Collection::Images,
        Collection::ImageBlobs,
        Collection::Hashtags,
        Collection::ContentRequests,
        Collection::CampaignLogs,
        Collection::Integrations,
        Collection::GenerationLogs,
    ];

    /// The MongoDB collection name, also the twin's table name in schema `content`.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Images => "images",
            Collection::ImageBlobs => "image_blobs",
            Collection::Hashtags => "hashtags",
            Collection::ContentRequests => "content_requests",
            Collection::CampaignLogs => "campaign_logs",
            Collection::Integrations => "integrations",
            Collection::GenerationLogs => "generation_logs",
        }
    }

    /// Top-level fields the twin keeps as columns; every other field goes to `doc`.
    fn promoted(self) -> &'static [&'static str] {
        const TIMES: [&str; 3] = ["created_at", "updated_at", "deleted_at"];
        match self {
            Collection::Images => &["organization_id", "format", "hashtags", TIMES[0], TIMES[1], TIMES[2]],
            Collection::ImageBlobs => &["data", "sha256"],
            Collection::Hashtags => &["tag", "category", "usage_count", TIMES[0], TIMES[1], TIMES[2]],
            Collection::ContentRequests => &[
                "organization_id",
                "campaign_id",
                "status",
                "requested_by",
                TIMES[0],
                TIMES[1],
                TIMES[2],
            ],
            Collection::CampaignLogs => &[
                "organization_id",
                "campaign_id",
                "population",
                "channel_code",
                "status",
                "content_request_id",
                "reviewed_by",
                "reviewed_at",
                "review_note",
                TIMES[0],
                TIMES[1],
                TIMES[2],
            ],
            Collection::Integrations => &[
                "organization_id",
                "name",
                "kind",
                "auth_method",
                "credentials_enc",
                "credentials_key_id",
                "enabled",
                TIMES[0],
                TIMES[1],
                TIMES[2],
            ],
            Collection::GenerationLogs => &[
                "organization_id",
                "request_id",
                "kind",
                "model",
                "tokens_in",
                "tokens_out",
                "latency_ms",
                "cost_usd",
                TIMES[0],
                TIMES[1],
            ],
        }
    }

    /// The twin's column for `_id`.
    fn id_column(self) -> &'static str {
        match self {
            Collection::ImageBlobs => "image_id",
            _ => "id",
        }
    }
}

/// `$jsonSchema` of each collection, from the migrations compiled into the binary (a later
/// migration's validator replaces an earlier one, as its `collMod` does on the server).
fn validators() -> &'static HashMap<String, Document> {
    static VALIDATORS: OnceLock<HashMap<String, Document>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let files = embedded(Store::Content, Backend::Mongo)
            .expect("the content migrations are compiled in and checked by the migration tests");
        let mut map = HashMap::new();
        for file in files {
            let migration =
                MongoMigration::parse(&file.path, file.content).expect("the migration tests parse every file");
            for c in migration.collections {
                let schema = c.json_schema().expect("MongoMigration::parse checked the $jsonSchema");
                map.insert(c.name, schema);
            }
        }
        map
    })
}

/// Checks a whole document as MongoDB would (its `$jsonSchema`), plus what the validator cannot
/// say: UUIDs are binData subtype 4, and the cross-field rules of sql/content/README.md (those
/// that need another document, such as a blob's image existing, are the adapters' to check).
pub fn validate(collection: Collection, document: &Document) -> Result<()> {
    let schema = validators()
        .get(collection.name())
        .ok_or_else(|| StoreError::Shape(format!("no validator for {}", collection.name())))?;
    let mut violations = mongo_schema::validate(schema, document).map_err(StoreError::Shape)?;
    check_uuids(document, &mut violations);
    check_cross_field(collection, document, &mut violations);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(violations))
    }
}

fn violation(path: impl Into<String>, rule: &'static str, message: &str) -> Violation {
    Violation {
        path: path.into(),
        rule,
        message: message.to_owned(),
    }
}

fn check_uuids(document: &Document, out: &mut Vec<Violation>) {
    for key in [
        "_id",
        "organization_id",
        "campaign_id",
        "requested_by",
        "request_id",
        "content_request_id",
    ] {
        if let Some(value @ Bson::Binary(_)) = document.get(key)
            && read_uuid(value).is_none()
        {
            out.push(violation(key, "uuid", "must be a UUID (binData subtype 4, 16 bytes)"));
        }
    }
}

fn as_i64(value: Option<&Bson>) -> Option<i64> {
    match value? {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        _ => None,
    }
}

fn check_cross_field(collection: Collection, d: &Document, out: &mut Vec<Violation>) {
    match collection {
        Collection::Images => {
            let content_type = d.get_document("file").ok().and_then(|f| f.get_str("content_type").ok());
            if let (Ok(format), Some(content_type)) = (d.get_str("format"), content_type)
                && content_type != format!("image/{format}")
            {
                out.push(violation(
                    "format",
                    "agreesWithContentType",
                    "must agree with file.content_type",
                ));
            }
        }
        Collection::ContentRequests => {
            for (i, audience) in d.get_array("target_audiences").into_iter().flatten().enumerate() {
                if let Bson::Document(a) = audience
                    && let (Some(min), Some(max)) = (as_i64(a.get("age_min")), as_i64(a.get("age_max")))
                    && min > max
                {
                    out.push(violation(
                        format!("target_audiences.{i}.age_min"),
                        "atMostAgeMax",
                        "must not be above age_max",
                    ));
                }
            }
        }
        Collection::Integrations => {
            let enc = match d.get("credentials_enc") {
                Some(Bson::Binary(b)) => Some(b.bytes.len()),
                _ => None,
            };
            let key = matches!(d.get("credentials_key_id"), Some(Bson::String(_)));
            let none = d.get_str("auth_method") == Ok("none");
            if enc.is_some() != key {
                out.push(violation(
                    "credentials_key_id",
                    "pairedWithCredentials",
                    "must be set exactly when credentials_enc is",
                ));
            }
            if enc.is_some_and(|n| n < 28) {
                out.push(violation(
                    "credentials_enc",
                    "minBytes",
                    "must hold at least 28 bytes (AES-256-GCM nonce and tag)",
                ));
            }
            if none && enc.is_some() {
                out.push(violation(
                    "credentials_enc",
                    "noneWithoutCredentials",
                    "must be null when auth_method is none",
                ));
            }
            if d.get_bool("enabled") == Ok(true) && !none && enc.is_none() {
                out.push(violation(
                    "enabled",
                    "credentialsRequired",
                    "an enabled integration needs its credentials",
                ));
            }
        }
        Collection::ImageBlobs => {
            if let (Ok(data), Ok(sha)) = (d.get_binary_generic("data"), d.get_str("sha256"))
                && hex(&Sha256::digest(data)) != sha
            {
                out.push(violation("sha256", "hashOfData", "must be the SHA-256 of data"));
            }
        }
        Collection::Hashtags | Collection::CampaignLogs | Collection::GenerationLogs => {}
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A UUID as MongoDB stores it: binData subtype 4 (bson's standard UUID representation).
pub fn uuid(id: Uuid) -> Bson {
    Bson::from(bson::Uuid::from(id))
}

/// The UUID a BSON value holds: binData subtype 4 of 16 bytes, nothing else.
pub fn read_uuid(value: &Bson) -> Option<Uuid> {
    match value {
        Bson::Binary(b) => b.to_uuid().ok().map(Uuid::from),
        _ => None,
    }
}

/// A time as a BSON date (millisecond precision).
pub fn date(t: DateTime<Utc>) -> Bson {
    Bson::DateTime(bson::DateTime::from_chrono(t))
}

/// The canonical form of a BSON value (see the module documentation).
pub fn to_plain(value: &Bson) -> Value {
    match value {
        Bson::Double(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Bson::String(s) => Value::String(s.clone()),
        Bson::Array(items) => Value::Array(items.iter().map(to_plain).collect()),
        Bson::Document(d) => Value::Object(d.iter().map(|(k, v)| (k.clone(), to_plain(v))).collect()),
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Null => Value::Null,
        Bson::Int32(n) => Value::from(*n),
        Bson::Int64(n) => Value::from(*n),
        Bson::DateTime(t) => Value::String(t.to_chrono().to_rfc3339_opts(SecondsFormat::Millis, true)),
        Bson::Binary(b) => match read_uuid(value) {
            Some(id) => Value::String(id.to_string()),
            None => Value::String(format!("\\x{}", hex(&b.bytes))),
        },
        Bson::Decimal128(d) => Value::String(d.to_string()),
        other => other.clone().into_relaxed_extjson(),
    }
}

/// Reads a document into a model type through its canonical form.
pub fn from_document<T: DeserializeOwned>(document: Document) -> Result<T> {
    from_plain(to_plain(&Bson::Document(document)))
}

/// Reads a canonical document into a model type.
pub fn from_plain<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| StoreError::Shape(e.to_string()))
}

/// The twin's row for a document, as JSON for `jsonb_populate_record(NULL::content.<table>, …)`:
/// `_id` under the id column, each promoted field under its column, every other field in `doc`.
pub fn twin_row(collection: Collection, document: &Document) -> Value {
    let mut row = Map::new();
    let mut rest = Map::new();
    for (key, value) in document {
        if key == "_id" {
            row.insert(collection.id_column().to_owned(), to_plain(value));
        } else if collection.promoted().contains(&key.as_str()) {
            row.insert(key.clone(), to_plain(value));
        } else {
            rest.insert(key.clone(), to_plain(value));
        }
    }
    if collection != Collection::ImageBlobs {
        row.insert("doc".to_owned(), Value::Object(rest));
    }
    // A log written before review statuses existed has none: it was sent (migration 0002).
    if collection == Collection::CampaignLogs && !row.contains_key("status") {
        row.insert("status".to_owned(), Value::String(LOG_SENT.to_owned()));
    }
    Value::Object(row)
}

/// The status of a campaign log whose document has none.
pub const LOG_SENT: &str = "sent";

impl NewCampaignLog {
    /// The whole MongoDB document of the new log, `now` standing for the times the store sets.
    pub fn document(&self, now: DateTime<Utc>) -> Document {
        let messages: Vec<Bson> = self
            .messages
            .iter()
            .map(|m| Bson::Document(doc! { "at": date(m.at), "locale": &m.locale, "text": &m.text }))
            .collect();
        doc! {
            "_id": uuid(self.id),
            "organization_id": uuid(self.organization_id),
            "campaign_id": uuid(self.campaign_id),
            "population": &self.population,
            "channel_code": &self.channel_code,
            "messages": messages,
            "status": &self.status,
            "content_request_id": self.content_request_id.map_or(Bson::Null, uuid),
            "created_at": date(now),
            "updated_at": date(now),
            "deleted_at": Bson::Null,
        }
    }
}

impl NewContentRequest {
    /// The whole MongoDB document of the new request, `now` standing for the times the store sets.
    pub fn document(&self, now: DateTime<Utc>) -> Document {
        let audiences: Vec<Bson> = self
            .target_audiences
            .iter()
            .map(|a| {
                Bson::Document(doc! {
                    "name": &a.name,
                    "age_min": a.age_min,
                    "age_max": a.age_max,
                    "locales": &a.locales,
                    "interests": &a.interests,
                    "country_codes": &a.country_codes,
                })
            })
            .collect();
        doc! {
            "_id": uuid(self.id),
            "organization_id": uuid(self.organization_id),
            "campaign_id": uuid(self.campaign_id),
            "campaign_description": &self.campaign_description,
            "target_audiences": audiences,
            "status": "open",
            "requested_by": uuid(self.requested_by),
            "created_at": date(now),
            "updated_at": date(now),
            "deleted_at": Bson::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_split_a_document_into_promoted_columns_and_doc() {
        let id = Uuid::new_v4();
        let d = doc! { "_id": uuid(id), "tag": "summer", "category": "season", "usage_count": 3_i64,
        "created_at": date(DateTime::UNIX_EPOCH), "updated_at": date(DateTime::UNIX_EPOCH), "deleted_at": Bson::Null };
        let row = twin_row(Collection::Hashtags, &d);
        assert_eq!(row["id"], id.to_string());
        assert_eq!(row["tag"], "summer");
        assert_eq!(row["created_at"], "1970-01-01T00:00:00.000Z");
        assert_eq!(row["doc"], serde_json::json!({}));
    }

    #[test]
    fn should_name_the_rule_a_request_breaks() {
        let request = NewContentRequest {
            id: Uuid::new_v4(),
            organization_id: Uuid::new_v4(),
            campaign_id: Uuid::new_v4(),
            requested_by: Uuid::new_v4(),
            campaign_description: "Too short".into(),
            target_audiences: vec![super::super::TargetAudience {
                name: "Students".into(),
                age_min: 30,
                age_max: 20,
                locales: vec!["es-MX".into()],
                interests: vec![],
                country_codes: vec!["MX".into()],
            }],
        };
        let Err(StoreError::Invalid(found)) = validate(Collection::ContentRequests, &request.document(Utc::now()))
        else {
            panic!("should be invalid")
        };
        let found: Vec<(&str, &str)> = found.iter().map(|v| (v.path.as_str(), v.rule)).collect();
        assert_eq!(
            found,
            [
                ("campaign_description", "minLength"),
                ("target_audiences.0.age_min", "atMostAgeMax")
            ]
        );
    }

    #[test]
    fn should_refuse_uuids_of_another_binary_subtype() {
        use bson::{Binary, spec::BinarySubtype};

        let mut d = doc! { "_id": Bson::Binary(Binary { subtype: BinarySubtype::Generic, bytes: vec![0; 16] }) };
        d.insert("sha256", "00");
        let mut out = Vec::new();
        check_uuids(&d, &mut out);
        assert_eq!(out[0].rule, "uuid");
    }
}
