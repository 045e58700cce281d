//! `promptsales migrate`: applies each store's DDL to the database its URL names, in the dialect
//! its scheme picks, once per version. Every runner records what it applied with a checksum and
//! refuses to continue when an applied file was edited afterwards (add a new file instead).
//!
//! - PostgreSQL: the sqlx migrator over `sql/<store>/postgres/`, each file in one transaction.
//! - SQL Server: our runner over `sql/<store>/mssql/` (`GO`-separated batches, one transaction per
//!   file, `dbo.schema_migrations`), since sqlx has no SQL Server driver.
//! - MongoDB: our runner over `sql/content/mongodb/*.json` (validators and indexes).

mod files;
mod mongo;
mod mssql;
mod postgres;

use std::time::Duration;

pub use files::{MigrationFile, embedded};
pub use mongo::{CollectionSpec, IndexSpec, MongoMigration};
pub use mssql::split_batches;

use crate::{
    config::{StoreUrl, UrlError},
    store::{Backend, Store},
};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a migration did not complete. Nothing is half-applied: a failing SQL file rolls back.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("PostgreSQL migration: {0}")]
    PostgresMigrate(#[from] sqlx::migrate::MigrateError),
    #[error("SQL Server: {0}")]
    Mssql(#[from] tiberius::error::Error),
    #[error("SQL Server connection: {0}")]
    MssqlConnect(#[from] crate::mssql::ConnectError),
    #[error("MongoDB: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("migration {version} of {store} failed in batch {batch} (line {line}): {source}")]
    Batch {
        store: Store,
        version: i64,
        batch: usize,
        line: usize,
        source: tiberius::error::Error,
    },
    #[error(
        "migration {version} of {store} was applied with another content; add a new migration instead of editing it"
    )]
    Edited { store: Store, version: i64 },
    #[error(
        "migration {version} of {store} is recorded in the database but unknown to this build (a newer build applied it?)"
    )]
    Unknown { store: Store, version: i64 },
    #[error("{file}: {reason}")]
    BadFile { file: String, reason: String },
    #[error("another migration of {0} holds the lock; retry when it ends")]
    Locked(Store),
}

/// What one run did to one store.
#[derive(Debug, Clone)]
pub struct Report {
    pub store: Store,
    pub backend: Backend,
    /// The URL with its password masked.
    pub target: String,
    /// Migrations applied by this run, in order.
    pub applied: Vec<Applied>,
    /// Migrations found already applied.
    pub already_applied: usize,
}

/// One migration applied by a run.
#[derive(Debug, Clone)]
pub struct Applied {
    pub version: i64,
    pub description: String,
    pub elapsed: Duration,
}

/// Applies the pending migrations of `store` to the database `url` names, creating that database
/// first when the server has no database of that name.
pub async fn run(store: Store, url: &StoreUrl) -> Result<Report> {
    url.check_for(store)?;
    let (applied, already_applied) = match url.backend() {
        Backend::Postgres => postgres::run(store, url).await?,
        Backend::Mssql => mssql::run(store, url).await?,
        Backend::Mongo => mongo::run(store, url).await?,
    };
    Ok(Report {
        store,
        backend: url.backend(),
        target: url.to_string(),
        applied,
        already_applied,
    })
}
