//! Bulk loading: how seeders and the ETL write many rows fast through the same connections the
//! services use. A [`Row`] writes its values, in the order of its table's [`Row::COLUMNS`], into a
//! [`RowSink`]; the sink is a PostgreSQL `COPY … FROM STDIN` text stream or a SQL Server bulk-load
//! row (TDS `INSERT BULK`), so one row type loads into either engine. Never a row-at-a-time loop.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

/// Receives the values of one row, in column order. Every method takes `impl Into<Option<T>>`,
/// so `sink.uuid(id)` and `sink.uuid(maybe_id)` both work and a `None` writes SQL NULL.
pub trait RowSink {
    fn bool(&mut self, v: impl Into<Option<bool>>);
    fn i16(&mut self, v: impl Into<Option<i16>>);
    fn i32(&mut self, v: impl Into<Option<i32>>);
    fn i64(&mut self, v: impl Into<Option<i64>>);
    fn f64(&mut self, v: impl Into<Option<f64>>);
    fn decimal(&mut self, v: impl Into<Option<Decimal>>);
    fn text<'a>(&mut self, v: impl Into<Option<&'a str>>);
    fn bytes<'a>(&mut self, v: impl Into<Option<&'a [u8]>>);
    fn uuid(&mut self, v: impl Into<Option<Uuid>>);
    fn date(&mut self, v: impl Into<Option<NaiveDate>>);
    fn time(&mut self, v: impl Into<Option<DateTime<Utc>>>);
    /// `jsonb` on PostgreSQL, `NVARCHAR(MAX)` holding JSON on SQL Server.
    fn json(&mut self, v: Option<&serde_json::Value>);
    /// `text[]` on PostgreSQL (SQL Server has no arrays: a JSON array in text).
    fn text_array<S: AsRef<str>>(&mut self, v: Option<&[S]>);
}

/// A row of one table, able to write itself into any sink.
pub trait Row: Send + Sync {
    /// Schema-qualified table name, e.g. `ads.campaigns`.
    const TABLE: &'static str;
    /// The columns [`Row::write`] fills, in the order it writes them.
    const COLUMNS: &'static [&'static str];
    fn write<S: RowSink>(&self, sink: &mut S);
}

/// Why a bulk load failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("PostgreSQL COPY into {table}: {source}")]
    Postgres { table: &'static str, source: sqlx::Error },
    #[error("SQL Server bulk load into {table}: {source}")]
    Mssql {
        table: &'static str,
        source: tiberius::error::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

mod pg_text;
pub use pg_text::CopyText;

mod mssql_row;
pub use mssql_row::TdsRow;

/// Sends a COPY when this much text is buffered (large enough to amortise the round trips, small
/// enough to keep memory flat).
const CHUNK: usize = 1 << 20;

/// The `COPY … FROM STDIN` statement of a row type.
pub fn copy_statement<R: Row>() -> String {
    format!("COPY {} ({}) FROM STDIN", R::TABLE, R::COLUMNS.join(", "))
}

/// Loads `rows` into PostgreSQL with one COPY on one pooled connection. Returns the row count.
pub async fn copy_rows<R: Row>(pool: &PgPool, rows: &[R]) -> Result<u64> {
    copy_batches(pool, std::iter::once(rows)).await
}

/// Loads several batches of rows with a single COPY (one transaction: all or nothing).
pub async fn copy_batches<'r, R: Row + 'r>(pool: &PgPool, batches: impl IntoIterator<Item = &'r [R]>) -> Result<u64> {
    let err = |source| Error::Postgres {
        table: R::TABLE,
        source,
    };
    let mut conn = pool.acquire().await.map_err(err)?;
    let mut copy = conn.copy_in_raw(&copy_statement::<R>()).await.map_err(err)?;
    let mut text = CopyText::with_capacity(CHUNK + CHUNK / 4);
    for batch in batches {
        for row in batch {
            row.write(&mut text);
            text.end_row();
            if text.len() >= CHUNK {
                copy.send(text.take()).await.map_err(err)?;
            }
        }
    }
    if !text.is_empty() {
        copy.send(text.take()).await.map_err(err)?;
    }
    copy.finish().await.map_err(err)
}

/// Loads rows into SQL Server with a TDS bulk load (`INSERT BULK`). `R::COLUMNS` must be every
/// column of the table, in table order (the bulk-load protocol sends whole rows).
pub async fn bulk_insert_mssql<R: Row>(client: &mut crate::mssql::Client, rows: &[R]) -> Result<u64> {
    let err = |source| Error::Mssql {
        table: R::TABLE,
        source,
    };
    let mut request = client.bulk_insert(R::TABLE).await.map_err(err)?;
    for row in rows {
        let mut tds = TdsRow::default();
        row.write(&mut tds);
        request.send(tds.into_row()).await.map_err(err)?;
    }
    let done = request.finalize().await.map_err(err)?;
    Ok(done.total())
}
