//! PostgreSQL: the sqlx migrator (transaction per file, checksums, advisory lock) over the files
//! embedded at build time.

use std::{collections::HashMap, str::FromStr, time::Duration};

use sqlx::{
    Connection, PgConnection, Postgres,
    migrate::{Migrate, MigrateDatabase, MigrateError, Migrator},
    postgres::PgConnectOptions,
};

use super::{Applied, Error, Result};
use crate::{config::StoreUrl, store::Store};

static CONTENT: Migrator = sqlx::migrate!("../../sql/content/postgres");
static ADS: Migrator = sqlx::migrate!("../../sql/ads/postgres");
static CRM: Migrator = sqlx::migrate!("../../sql/crm/postgres");
static SALES: Migrator = sqlx::migrate!("../../sql/sales/postgres");

/// The PostgreSQL migrations of a store.
pub fn migrator(store: Store) -> &'static Migrator {
    match store {
        Store::Content => &CONTENT,
        Store::Ads => &ADS,
        Store::Crm => &CRM,
        Store::Sales => &SALES,
    }
}

/// Creates the database `url` names when the server has none of that name.
pub async fn ensure_database(url: &StoreUrl) -> Result<()> {
    let raw = url.expose().as_str();
    if Postgres::database_exists(raw).await? {
        return Ok(());
    }
    match Postgres::create_database(raw).await {
        Ok(()) => Ok(()),
        // Another migrator created it between our check and our create: that is what we wanted.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn run(store: Store, url: &StoreUrl) -> Result<(Vec<Applied>, usize)> {
    ensure_database(url).await?;
    let options = PgConnectOptions::from_str(url.expose().as_str())?;
    let mut conn = PgConnection::connect_with(&options).await?;
    conn.ensure_migrations_table().await?;
    let before: Vec<i64> = conn
        .list_applied_migrations()
        .await?
        .iter()
        .map(|m| m.version)
        .collect();

    let migrator = migrator(store);
    migrator.run(&mut conn).await.map_err(|e| match e {
        MigrateError::VersionMismatch(version) => Error::Edited { store, version },
        MigrateError::VersionMissing(version) => Error::Unknown { store, version },
        other => Error::PostgresMigrate(other),
    })?;

    let times: HashMap<i64, i64> = sqlx::query_as("SELECT version, execution_time FROM _sqlx_migrations")
        .fetch_all(&mut conn)
        .await?
        .into_iter()
        .collect();
    conn.close().await?;
    let applied = migrator
        .iter()
        .filter(|m| !before.contains(&m.version))
        .map(|m| Applied {
            version: m.version,
            description: m.description.to_string(),
            elapsed: Duration::from_nanos(times.get(&m.version).copied().unwrap_or(0).max(0).unsigned_abs()),
        })
        .collect();
    Ok((applied, before.len()))
}
