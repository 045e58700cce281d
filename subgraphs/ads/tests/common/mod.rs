//! Test support: the fixture, its loaders, a counting store decorator, and stores on each engine
//! with the fixture loaded.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod counting;
pub mod fixture;
pub mod load;

use std::sync::Arc;

use promptsales_ads::store::{AdsStore, MssqlStore, PgStore};
use promptsales_platform::{Store, StoreUrl, migrate};
use promptsales_testkit::{TestDb, remote};

pub use fixture::Fixture;

/// A store with the fixture loaded, and what it takes to clean up after it.
pub struct Env {
    pub store: Arc<dyn AdsStore>,
    pub fixture: Fixture,
    guard: Guard,
}

enum Guard {
    Pg(TestDb),
    Mssql(StoreUrl),
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Mssql(url) = self {
            let url = url.clone();
            // Drop runs inside the test's runtime, which cannot be blocked on.
            let done = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("clean-up runtime")
                    .block_on(remote::drop_mssql(&url));
            });
            let _ = done.join();
        }
    }
}

impl Env {
    /// A private PostgreSQL database, migrated, with the fixture.
    pub async fn postgres() -> Env {
        let db = TestDb::migrated(Store::Ads).await;
        let fixture = Fixture::new();
        load::load_pg(db.pool(), &fixture).await;
        Env {
            store: Arc::new(PgStore::from_pool(db.pool().clone())),
            fixture,
            guard: Guard::Pg(db),
        }
    }

    /// A private database on the SQL Server of `PROMPTSALES_MSSQL_URL`, migrated with the T-SQL
    /// files, with the fixture.
    pub async fn sql_server() -> Env {
        let url = remote::mssql_database();
        let guard = Guard::Mssql(url.clone());
        migrate::run(Store::Ads, &url)
            .await
            .expect("migrate the SQL Server database");
        let fixture = Fixture::new();
        load::load_mssql(&url, &fixture).await;
        Env {
            store: Arc::new(MssqlStore::connect(&url).expect("SQL Server pool")),
            fixture,
            guard,
        }
    }

    /// The PostgreSQL test database, when this is one.
    pub fn pg(&self) -> Option<&TestDb> {
        match &self.guard {
            Guard::Pg(db) => Some(db),
            Guard::Mssql(_) => None,
        }
    }
}
