//! PostgreSQL: one transaction per store, so a store is either seeded completely or left as it was.
//!
//! Inside it, for speed: the seeded tables are truncated (which also lets COPY write frozen rows,
//! sparing a later vacuum and the hint-bit writes of the first reads), their `touch_updated_at`
//! triggers are disabled (`updated_at` then comes from the column DEFAULT, still set by the
//! store), and the indexes, keys and foreign keys of the big tables are dropped, the rows
//! COPYed, and the keys, indexes and foreign keys recreated from the definitions PostgreSQL gave
//! for them (`pg_get_constraintdef`, `pg_get_indexdef`) before the drop. Building an index once over
//! sorted data is several times cheaper than maintaining it row by row, and one validation query
//! per foreign key replaces a lookup (and a row lock) per inserted row. Because DDL is
//! transactional, a failure anywhere — or a killed process — rolls all of it back: no table is
//! ever left without its indexes, constraints or triggers.
//!
//! Why not one connection per table: dropping a foreign key locks the referenced table (e.g.
//! crm.customers) exclusively until commit, so the child tables of one parent cannot load in
//! parallel transactions anyway; the stores load in parallel instead.

use std::{str::FromStr, time::Instant};

use indicatif::ProgressBar;
use promptsales_platform::{Store, StoreUrl};
use sqlx::{Connection, Executor, PgConnection, postgres::PgConnectOptions};
use tokio::sync::mpsc::Receiver;

use super::{Chunk, Error, Result, TableStat};

/// One table to load and where its rows come from.
pub struct PgTable {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    /// Drop and recreate secondary indexes and foreign keys around the load.
    pub heavy: bool,
    pub rows: Receiver<Chunk>,
    pub bar: ProgressBar,
}

pub async fn connect(store: Store, url: &StoreUrl) -> Result<PgConnection> {
    let options =
        PgConnectOptions::from_str(url.expose().as_str()).map_err(|e| Error::Connect(e.to_string(), store))?;
    let options = options.application_name("promptsales-seed");
    PgConnection::connect_with(&options)
        .await
        .map_err(|e| Error::Connect(format!("{url}: {e}"), store))
}

fn pg(store: Store, context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let context = context.into();
    move |source| Error::Postgres { store, context, source }
}

/// Fails with [`Error::NotEmpty`] naming the first seeded table that has rows.
pub async fn ensure_empty(store: Store, conn: &mut PgConnection, tables: &[&'static str]) -> Result<()> {
    for table in tables {
        let has_rows: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {table})"))
            .fetch_one(&mut *conn)
            .await
            .map_err(pg(store, format!("checking {table}")))?;
        if has_rows {
            return Err(Error::NotEmpty {
                store,
                table: (*table).to_owned(),
            });
        }
    }
    Ok(())
}

/// Definitions to restore after the load, in the order they are restored.
#[derive(Default)]
struct Dropped {
    indexes: Vec<String>,
    /// Primary keys and unique constraints: (table, name, definition).
    keys: Vec<(String, String, String)>,
    /// Foreign keys: (table, name, definition).
    foreign_keys: Vec<(String, String, String)>,
}

impl Dropped {
    fn is_empty(&self) -> bool {
        self.indexes.is_empty() && self.keys.is_empty() && self.foreign_keys.is_empty()
    }
}

async fn drop_constraint(
    store: Store,
    conn: &mut PgConnection,
    (table, name, def): (String, String, String),
    into: &mut Vec<(String, String, String)>,
) -> Result<()> {
    if into.iter().any(|(t, n, _)| *t == table && *n == name) {
        return Ok(()); // already dropped: a foreign key between two heavy tables
    }
    conn.execute(format!("ALTER TABLE {table} DROP CONSTRAINT {name}").as_str())
        .await
        .map_err(pg(store, format!("dropping {name}")))?;
    into.push((table, name, def));
    Ok(())
}

/// Drops every index of `table` and the foreign keys that point at it or from it, remembering
/// their definitions. Keys go too: building a primary key or unique index once, by sorting the
/// loaded rows, is several times cheaper than inserting hundreds of thousands of random UUIDs and
/// HMACs into a B-tree one by one, which is what COPY otherwise spends most of its time on.
async fn drop_secondary(store: Store, conn: &mut PgConnection, table: &str, out: &mut Dropped) -> Result<()> {
    // Foreign keys first, both ways: a key cannot be dropped while a foreign key depends on it.
    let fks: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint
          WHERE contype = 'f' AND (conrelid = $1::regclass OR confrelid = $1::regclass) ORDER BY 1, 2",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(pg(store, format!("reading the foreign keys of {table}")))?;
    for fk in fks {
        drop_constraint(store, conn, fk, &mut out.foreign_keys).await?;
    }
    let keys: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint
          WHERE contype IN ('p', 'u') AND conrelid = $1::regclass ORDER BY contype, 2",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(pg(store, format!("reading the keys of {table}")))?;
    // Indexes that back no constraint (read before the keys go, so they are told apart).
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i
          WHERE i.indrelid = $1::regclass
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
          ORDER BY 1",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(pg(store, format!("reading the indexes of {table}")))?;
    for key in keys {
        drop_constraint(store, conn, key, &mut out.keys).await?;
    }
    for (name, def) in indexes {
        conn.execute(format!("DROP INDEX {name}").as_str())
            .await
            .map_err(pg(store, format!("dropping {name}")))?;
        out.indexes.push(def);
    }
    Ok(())
}

/// Coordinates the commits of several stores: each loader reports when its transaction is ready
/// to commit, then commits only if every store got that far. A failure in one store therefore
/// leaves all the PostgreSQL stores as they were (barring a crash between the commits).
pub struct CommitGate {
    pub ready: tokio::sync::mpsc::Sender<()>,
    pub decision: tokio::sync::watch::Receiver<Option<bool>>,
}

/// Loads `tables` (in order) into the store in one transaction; `reset` empties them first,
/// otherwise a table with rows stops the load.
pub async fn load(
    store: Store,
    url: &StoreUrl,
    tables: Vec<PgTable>,
    reset: bool,
    mut gate: CommitGate,
) -> Result<Vec<TableStat>> {
    let mut conn = connect(store, url).await?;
    let names: Vec<&'static str> = tables.iter().map(|t| t.table).collect();
    if !reset {
        ensure_empty(store, &mut conn, &names).await?;
    }
    let mut tx = conn.begin().await.map_err(pg(store, "BEGIN"))?;
    // Session settings of this transaction only: the server configuration is never changed.
    tx.execute("SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '256MB'")
        .await
        .map_err(pg(store, "settings"))?;
    if store == Store::Sales {
        // Truncating organizations cascades to the append-only ai_usage (it references them); a
        // reset is maintenance, the one case the guard lets through.
        tx.execute("SET LOCAL sales.maintenance = 'on'")
            .await
            .map_err(pg(store, "settings"))?;
    }
    // CASCADE: with --reset, rows of other tables that point at the seeded ones (ETL summaries)
    // go too; without it the tables are known to be empty.
    tx.execute(format!("TRUNCATE {} CASCADE", names.join(", ")).as_str())
        .await
        .map_err(pg(store, "TRUNCATE"))?;
    // After the truncation, so that CASCADE still sees every foreign key.
    let mut dropped = Dropped::default();
    for t in &tables {
        if t.heavy {
            drop_secondary(store, &mut tx, t.table, &mut dropped).await?;
        }
    }
    for t in &tables {
        tx.execute(format!("ALTER TABLE {} DISABLE TRIGGER USER", t.table).as_str())
            .await
            .map_err(pg(store, format!("disabling the triggers of {}", t.table)))?;
    }

    let mut stats = Vec::new();
    for mut t in tables {
        let started = Instant::now();
        let statement = format!("COPY {} ({}) FROM STDIN WITH (FREEZE)", t.table, t.columns.join(", "));
        let mut copy = tx
            .copy_in_raw(&statement)
            .await
            .map_err(pg(store, format!("COPY into {}", t.table)))?;
        let mut rows = 0;
        let mut finished = false;
        while let Some(chunk) = t.rows.recv().await {
            match chunk {
                Chunk::Data { bytes, rows: n } => {
                    copy.send(bytes)
                        .await
                        .map_err(pg(store, format!("COPY into {}", t.table)))?;
                    rows += n;
                    t.bar.inc(n);
                }
                Chunk::End => {
                    finished = true;
                    break;
                }
            }
        }
        if !finished {
            let _ = copy.abort("generator failed").await;
            return Err(Error::ProducerFailed { store, table: t.table });
        }
        copy.finish()
            .await
            .map_err(pg(store, format!("COPY into {}", t.table)))?;
        t.bar.finish();
        stats.push(TableStat {
            store,
            table: t.table,
            rows,
            elapsed: started.elapsed(),
        });
    }

    let started = Instant::now();
    for (table, name, def) in &dropped.keys {
        tx.execute(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}").as_str())
            .await
            .map_err(pg(store, format!("recreating {name}")))?;
    }
    for def in &dropped.indexes {
        tx.execute(def.as_str())
            .await
            .map_err(pg(store, format!("recreating `{def}`")))?;
    }
    for (table, name, def) in &dropped.foreign_keys {
        tx.execute(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}").as_str())
            .await
            .map_err(pg(store, format!("recreating {name}")))?;
    }
    for name in &names {
        tx.execute(format!("ALTER TABLE {name} ENABLE TRIGGER USER").as_str())
            .await
            .map_err(pg(store, format!("enabling the triggers of {name}")))?;
    }
    // Fresh statistics, so the first queries after a seed plan well.
    tx.execute(format!("ANALYZE {}", names.join(", ")).as_str())
        .await
        .map_err(pg(store, "ANALYZE"))?;
    let rebuilt = started.elapsed();
    let _ = gate.ready.send(()).await;
    let commit = gate
        .decision
        .wait_for(Option::is_some)
        .await
        .map(|d| *d == Some(true))
        .unwrap_or(false);
    if !commit {
        tx.rollback().await.map_err(pg(store, "ROLLBACK"))?;
        return Err(Error::Other(format!(
            "{store} store: rolled back because another store failed"
        )));
    }
    tx.commit().await.map_err(pg(store, "COMMIT"))?;
    if !dropped.is_empty() {
        stats.push(TableStat {
            store,
            table: "(indexes and foreign keys)",
            rows: 0,
            elapsed: rebuilt,
        });
    }
    Ok(stats)
}
