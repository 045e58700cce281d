//! SQL Server: TDS bulk load (`INSERT BULK`), table by table in dependency order.
//!
//! Rows carry every column in table order, `updated_at` included: a bulk load fires no trigger, so
//! the seeder supplies the load time the `touch_updated_at` trigger would have written.
//! `CHECK_CONSTRAINTS` keeps the CHECK and FOREIGN KEY constraints checked and trusted (without it
//! SQL Server skips them and marks them untrusted, and the optimiser stops relying on them);
//! `TABLOCK` allows minimally logged loads; `KEEP_NULLS` stores NULL rather than a column default.
//!
//! The platform's `bulk_insert_mssql` sends the same rows but with no options, hence this variant.

use std::{future::Future, pin::Pin, time::Instant};

use chrono::{DateTime, Utc};
use promptsales_platform::{Store, StoreUrl, bulk::TdsRow, mssql};
use tiberius::{SqlBulkCopyOption, SqlBulkCopyOptions};

use super::{Error, Result, TableStat};
use crate::rows::{FullRow, Tds};

/// A table's rows, ready for a bulk load.
pub trait MssqlTable: Send + Sync {
    fn table(&self) -> &'static str;
    fn load<'a>(
        &'a self,
        client: &'a mut mssql::Client,
        stamp: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = tiberius::Result<u64>> + Send + 'a>>;
}

/// Rows kept in memory.
pub struct Rows<R>(pub Vec<R>);

impl<R: FullRow + 'static> MssqlTable for Rows<R> {
    fn table(&self) -> &'static str {
        R::TABLE
    }

    fn load<'a>(
        &'a self,
        client: &'a mut mssql::Client,
        stamp: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = tiberius::Result<u64>> + Send + 'a>> {
        Box::pin(bulk(client, &self.0, stamp))
    }
}

async fn bulk<R: FullRow>(client: &mut mssql::Client, rows: &[R], stamp: DateTime<Utc>) -> tiberius::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let options: SqlBulkCopyOptions =
        SqlBulkCopyOption::CheckConstraints | SqlBulkCopyOption::TableLock | SqlBulkCopyOption::KeepNulls;
    let mut request = client.bulk_insert_with_options(R::TABLE, R::ALL, options, &[]).await?;
    for row in rows {
        let mut tds = TdsRow::default();
        promptsales_platform::bulk::Row::write(&Tds { row, stamp }, &mut tds);
        request.send(tds.into_row()).await?;
    }
    Ok(request.finalize().await?.total())
}

/// Loads `tables` in order (parents before children). With `reset`, deletes their rows first, in
/// reverse order (SQL Server cannot TRUNCATE a table that a foreign key references).
pub async fn load(
    store: Store,
    url: &StoreUrl,
    tables: Vec<Box<dyn MssqlTable>>,
    reset: bool,
) -> Result<Vec<TableStat>> {
    let database = url
        .database()
        .ok_or_else(|| Error::Connect("the URL names no database".into(), store))?;
    let mut client = mssql::connect(url, database, "promptsales-seed")
        .await
        .map_err(|e| Error::Connect(e.to_string(), store))?;
    let err = |context: String| move |source| Error::Mssql { store, context, source };
    for t in tables.iter().rev() {
        let name = t.table();
        if reset {
            client
                .simple_query(format!("DELETE FROM {name}"))
                .await
                .map_err(err(format!("emptying {name}")))?;
        } else {
            let row = client
                .simple_query(format!("SELECT TOP (1) 1 FROM {name}"))
                .await
                .map_err(err(format!("checking {name}")))?
                .into_row()
                .await
                .map_err(err(format!("checking {name}")))?;
            if row.is_some() {
                return Err(Error::NotEmpty {
                    store,
                    table: name.to_owned(),
                });
            }
        }
    }
    let stamp = Utc::now();
    let mut stats = Vec::new();
    for t in &tables {
        let started = Instant::now();
        let rows = t
            .load(&mut client, stamp)
            .await
            .map_err(err(format!("bulk load into {}", t.table())))?;
        stats.push(TableStat {
            store,
            table: t.table(),
            rows,
            elapsed: started.elapsed(),
        });
    }
    Ok(stats)
}
