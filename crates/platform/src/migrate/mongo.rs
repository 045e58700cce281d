//! MongoDB: declarative migrations. A file lists collections with their `$jsonSchema` validator and
//! indexes; applying it creates each missing collection with its validator (or `collMod`s an
//! existing one) and creates its indexes by name. Every step is idempotent, so a run that stops
//! half-way is finished by the next one; MongoDB has no transactional DDL to do better. A lease
//! document keeps two migrators apart.

use std::time::{Duration, Instant};

use bson::{Bson, Document, doc};
use mongodb::{Client, Database, options::ClientOptions};
use serde::Deserialize;

use super::{Applied, Error, Result, embedded};
use crate::{
    config::StoreUrl,
    store::{Backend, Store},
};

const HISTORY: &str = "_schema_migrations";
const LEASE: Duration = Duration::from_secs(300);

/// A migration file of the MongoDB store.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MongoMigration {
    /// What this migration changes, and why.
    pub description: String,
    /// The collections it creates or changes.
    pub collections: Vec<CollectionSpec>,
}

/// One collection: its validator and its indexes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CollectionSpec {
    pub name: String,
    /// `{"$jsonSchema": {...}}` in Extended JSON.
    pub validator: serde_json::Value,
    #[serde(default = "strict")]
    pub validation_level: String,
    #[serde(default = "error")]
    pub validation_action: String,
    #[serde(default)]
    pub indexes: Vec<IndexSpec>,
}

fn strict() -> String {
    "strict".into()
}

fn error() -> String {
    "error".into()
}

/// An index of a collection, created by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IndexSpec {
    pub name: String,
    /// Fields in order, `1`/`-1` (or `"text"`, `"2dsphere"`).
    pub key: serde_json::Value,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub sparse: bool,
    pub partial_filter_expression: Option<serde_json::Value>,
    pub expire_after_seconds: Option<i64>,
}

impl MongoMigration {
    /// Parses and checks a migration file: the validator must be a `$jsonSchema` document and
    /// every index must have keys.
    pub fn parse(path: &str, content: &str) -> Result<Self> {
        let bad = |reason: String| Error::BadFile {
            file: path.to_owned(),
            reason,
        };
        let migration: MongoMigration = serde_json::from_str(content).map_err(|e| bad(e.to_string()))?;
        for c in &migration.collections {
            let validator = c
                .validator_document()
                .map_err(|e| bad(format!("collection {}: {e}", c.name)))?;
            if !matches!(validator.get("$jsonSchema"), Some(Bson::Document(_))) {
                return Err(bad(format!(
                    "collection {}: the validator must be {{\"$jsonSchema\": {{…}}}}",
                    c.name
                )));
            }
            for index in &c.indexes {
                index
                    .document()
                    .map_err(|e| bad(format!("collection {} index {}: {e}", c.name, index.name)))?;
            }
        }
        Ok(migration)
    }
}

fn to_document(value: &serde_json::Value) -> std::result::Result<Document, String> {
    match Bson::try_from(value.clone()).map_err(|e| e.to_string())? {
        Bson::Document(d) => Ok(d),
        other => Err(format!("expected an object, found {other}")),
    }
}

impl CollectionSpec {
    /// The validator as BSON (Extended JSON decoded).
    pub fn validator_document(&self) -> std::result::Result<Document, String> {
        to_document(&self.validator)
    }

    /// The `$jsonSchema` of the validator.
    pub fn json_schema(&self) -> std::result::Result<Document, String> {
        self.validator_document()?
            .get_document("$jsonSchema")
            .cloned()
            .map_err(|e| e.to_string())
    }
}

impl IndexSpec {
    /// The index as `createIndexes` takes it.
    pub fn document(&self) -> std::result::Result<Document, String> {
        let key = to_document(&self.key)?;
        if key.is_empty() {
            return Err("an index needs at least one key".into());
        }
        let mut index = doc! { "name": &self.name, "key": key };
        if self.unique {
            index.insert("unique", true);
        }
        if self.sparse {
            index.insert("sparse", true);
        }
        if let Some(filter) = &self.partial_filter_expression {
            index.insert("partialFilterExpression", to_document(filter)?);
        }
        if let Some(seconds) = self.expire_after_seconds {
            index.insert("expireAfterSeconds", seconds);
        }
        Ok(index)
    }
}

async fn apply(db: &Database, migration: &MongoMigration) -> Result<()> {
    let existing = db.list_collection_names().await?;
    for c in &migration.collections {
        let validator = c.validator_document().map_err(|reason| Error::BadFile {
            file: c.name.clone(),
            reason,
        })?;
        let command = if existing.contains(&c.name) {
            doc! { "collMod": &c.name, "validator": validator,
            "validationLevel": &c.validation_level, "validationAction": &c.validation_action }
        } else {
            doc! { "create": &c.name, "validator": validator,
            "validationLevel": &c.validation_level, "validationAction": &c.validation_action }
        };
        db.run_command(command).await?;
        if !c.indexes.is_empty() {
            let indexes = c
                .indexes
                .iter()
                .map(|i| i.document().map(Bson::Document))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|reason| Error::BadFile {
                    file: c.name.clone(),
                    reason,
                })?;
            db.run_command(doc! { "createIndexes": &c.name, "indexes": indexes })
                .await?;
        }
    }
    Ok(())
}

/// Takes the migration lease, or fails when another live migrator holds it.
async fn acquire_lease(db: &Database, store: Store, holder: &str) -> Result<()> {
    let now = bson::DateTime::now();
    let until = bson::DateTime::from_millis(now.timestamp_millis() + LEASE.as_millis() as i64);
    let leases = db.collection::<Document>("_schema_migrations_lease");
    let taken = leases
        .update_one(
            doc! { "_id": "migrate", "$or": [ { "until": { "$lt": now } }, { "holder": holder } ] },
            doc! { "$set": { "holder": holder, "until": until } },
        )
        .await?;
    if taken.matched_count == 1 {
        return Ok(());
    }
    match leases
        .insert_one(doc! { "_id": "migrate", "holder": holder, "until": until })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if matches!(*e.kind, mongodb::error::ErrorKind::Write(_)) => Err(Error::Locked(store)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn run(store: Store, url: &StoreUrl) -> Result<(Vec<Applied>, usize)> {
    let options = ClientOptions::parse(url.expose().as_str()).await?;
    let client = Client::with_options(options)?;
    let db = client.database(url.database().expect("checked by StoreUrl::check_for"));
    let holder = uuid::Uuid::new_v4().to_string();
    acquire_lease(&db, store, &holder).await?;

    let history = db.collection::<Document>(HISTORY);
    let mut recorded = Vec::new();
    let mut cursor = history.find(doc! {}).await?;
    while cursor.advance().await? {
        let d = cursor.deserialize_current()?;
        recorded.push((
            d.get_i64("_id").unwrap_or_default(),
            d.get_str("checksum").unwrap_or_default().to_owned(),
        ));
    }
    let files = embedded(store, Backend::Mongo)?;
    for (version, checksum) in &recorded {
        match files.iter().find(|f| f.version == *version) {
            None => {
                return Err(Error::Unknown {
                    store,
                    version: *version,
                });
            }
            Some(f) if hex(&f.checksum) != *checksum => {
                return Err(Error::Edited {
                    store,
                    version: *version,
                });
            }
            Some(_) => {}
        }
    }

    let mut applied = Vec::new();
    for file in files.iter().filter(|f| !recorded.iter().any(|(v, _)| *v == f.version)) {
        let started = Instant::now();
        let migration = MongoMigration::parse(&file.path, file.content)?;
        apply(&db, &migration).await?;
        let elapsed = started.elapsed();
        history
            .insert_one(doc! {
                "_id": file.version, "description": &file.description, "checksum": hex(&file.checksum),
                "execution_ms": elapsed.as_millis() as i64, "applied_at": bson::DateTime::now(),
            })
            .await?;
        applied.push(Applied {
            version: file.version,
            description: file.description.clone(),
            elapsed,
        });
    }
    db.collection::<Document>("_schema_migrations_lease")
        .delete_one(doc! { "_id": "migrate", "holder": &holder })
        .await?;
    Ok((applied, recorded.len()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
