//! Loading generated rows into the stores, by engine: PostgreSQL COPY, SQL Server TDS bulk load,
//! MongoDB `insert_many`. The engine is chosen by the scheme of each store's URL.

pub mod mongo;
pub mod mssql;
pub mod pg;

use std::time::Duration;

use promptsales_platform::Store;

/// A piece of one table's COPY text.
pub enum Chunk {
    Data {
        bytes: Vec<u8>,
        rows: u64,
    },
    /// The producer finished; without it a closed channel means the producer failed, and the
    /// load is rolled back instead of committing a partial table.
    End,
}

/// What was loaded into one table and how long its load took.
#[derive(Debug, Clone)]
pub struct TableStat {
    pub store: Store,
    pub table: &'static str,
    pub rows: u64,
    pub elapsed: Duration,
}

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the {store} store already holds data (table {table} has rows); run with --reset to empty the seeded tables first"
    )]
    NotEmpty { store: Store, table: String },
    #[error("{store} store: {context}: {source}")]
    Postgres {
        store: Store,
        context: String,
        source: sqlx::Error,
    },
    #[error("{store} store: {context}: {source}")]
    Mssql {
        store: Store,
        context: String,
        source: tiberius::error::Error,
    },
    #[error("{store} store: {context}: {source}")]
    Mongo {
        store: Store,
        context: String,
        source: mongodb::error::Error,
    },
    #[error("{store} store: cannot connect: {0}", store = .1)]
    Connect(String, Store),
    #[error("{store} store: the generator of {table} stopped before finishing")]
    ProducerFailed { store: Store, table: &'static str },
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
