//! MongoDB: `insert_many` per collection, in load order (images before their blobs, requests
//! before the generation logs naming them).
//!
//! MongoDB has no transaction across collections on a standalone server, so all-or-nothing is
//! kept another way: the collections are checked empty (or emptied with `--reset`) before the
//! first insert, and when an insert fails every collection this run wrote to is emptied again, so
//! a failed seed leaves the store empty rather than half filled. The collections, validators and
//! indexes themselves come from `promptsales migrate`; every document is checked by the store's
//! `$jsonSchema` validator on insert.

use std::time::Instant;

use bson::{Document, doc};
use mongodb::{Client, Database, options::ClientOptions};
use promptsales_platform::{Store, StoreUrl};

use super::{Error, Result, TableStat};

/// Documents sent per `insert_many` call: bounded memory on the wire, few round trips.
const BATCH: usize = 1_000;

async fn connect(store: Store, url: &StoreUrl) -> Result<Database> {
    let database = url
        .database()
        .ok_or_else(|| Error::Connect("the URL names no database".into(), store))?
        .to_owned();
    let mut options = ClientOptions::parse(url.expose().as_str())
        .await
        .map_err(|e| Error::Connect(format!("{url}: {e}"), store))?;
    options.app_name = Some("promptsales-seed".into());
    let client = Client::with_options(options).map_err(|e| Error::Connect(format!("{url}: {e}"), store))?;
    Ok(client.database(&database))
}

fn mongo(store: Store, context: impl Into<String>) -> impl FnOnce(mongodb::error::Error) -> Error {
    let context = context.into();
    move |source| Error::Mongo { store, context, source }
}

async fn empty(store: Store, db: &Database, collections: &[&'static str]) -> Result<()> {
    for name in collections.iter().rev() {
        db.collection::<Document>(name)
            .delete_many(doc! {})
            .await
            .map_err(mongo(store, format!("emptying {name}")))?;
    }
    Ok(())
}

/// Loads `collections` (in order); `reset` empties them first, otherwise a collection with
/// documents stops the load before anything is written.
pub async fn load(
    store: Store,
    url: &StoreUrl,
    collections: Vec<(&'static str, Vec<Document>)>,
    reset: bool,
) -> Result<Vec<TableStat>> {
    let db = connect(store, url).await?;
    let names: Vec<&'static str> = collections.iter().map(|(name, _)| *name).collect();
    if reset {
        empty(store, &db, &names).await?;
    } else {
        for name in &names {
            let found = db
                .collection::<Document>(name)
                .find_one(doc! {})
                .await
                .map_err(mongo(store, format!("checking {name}")))?;
            if found.is_some() {
                return Err(Error::NotEmpty {
                    store,
                    table: (*name).to_owned(),
                });
            }
        }
    }
    let mut stats = Vec::new();
    for (name, documents) in &collections {
        let started = Instant::now();
        let collection = db.collection::<Document>(name);
        for batch in documents.chunks(BATCH) {
            if let Err(e) = collection.insert_many(batch).await {
                let failure = mongo(store, format!("inserting into {name}"))(e);
                // Leave the store as empty as it was found; a failure here is reported after the
                // insert's own error, which is the one that matters.
                if let Err(cleanup) = empty(store, &db, &names).await {
                    tracing::error!(error = %cleanup, "could not empty the content store after a failed seed");
                }
                return Err(failure);
            }
        }
        stats.push(TableStat {
            store,
            table: name,
            rows: documents.len() as u64,
            elapsed: started.elapsed(),
        });
    }
    Ok(stats)
}
