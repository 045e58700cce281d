use std::str::FromStr;

use promptsales_platform::{Backend, Store, StoreUrl, migrate};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::{
    Connection, Executor, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// The PostgreSQL server tests use: `PROMPTSALES_TEST_PG_URL`, or the local one. The URL names the
/// maintenance database the kit connects to; test databases are created beside it.
pub fn server_url() -> StoreUrl {
    let raw = std::env::var("PROMPTSALES_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://promptsales@127.0.0.1:5432/postgres".to_owned());
    StoreUrl::parse(&raw).expect("PROMPTSALES_TEST_PG_URL must be a postgres:// URL")
}

async fn admin() -> PgConnection {
    let url = server_url();
    let options = PgConnectOptions::from_str(url.expose().as_str()).expect("valid test server URL");
    PgConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {url}: {e} (run `make test`, which starts it)"))
}

fn random_name(prefix: &str) -> String {
    let suffix: u64 = rand::rng().random();
    format!("{prefix}_{suffix:016x}")
}

/// Identifiers here are built by this module from `[a-z0-9_]` only; quoting keeps them exact anyway.
fn ident(name: &str) -> String {
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "unsafe name {name}"
    );
    format!("\"{name}\"")
}

/// A database private to one test, dropped (connections and all) when the value is dropped.
pub struct TestDb {
    name: String,
    url: StoreUrl,
    pool: PgPool,
}

impl TestDb {
    /// An empty database: nothing in it, not even the migrations table.
    pub async fn empty(store: Store) -> TestDb {
        let name = random_name(&format!("ps_test_{}", store.name()));
        let mut admin = admin().await;
        admin
            .execute(format!("CREATE DATABASE {}", ident(&name)).as_str())
            .await
            .expect("create test database");
        Self::open(name).await
    }

    /// A database with every migration of `store` applied, cloned from a template.
    pub async fn migrated(store: Store) -> TestDb {
        let template = ensure_template(store).await;
        Self::clone_of(store, &template).await
    }

    /// A new database cloned from the template database `template`.
    pub(crate) async fn clone_of(store: Store, template: &str) -> TestDb {
        let name = random_name(&format!("ps_test_{}", store.name()));
        let mut admin = admin().await;
        let sql = format!("CREATE DATABASE {} TEMPLATE {}", ident(&name), ident(template));
        // Cloning fails while another session is connected to the template (only briefly, while
        // another process is still finishing it); retry for a while.
        let mut attempt = 0;
        loop {
            match admin.execute(sql.as_str()).await {
                Ok(_) => break,
                Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("clone template {template}: {e}"),
            }
        }
        Self::open(name).await
    }

    async fn open(name: String) -> TestDb {
        let url = server_url().with_database(&name);
        let options = PgConnectOptions::from_str(url.expose().as_str()).expect("valid test database URL");
        let pool = PgPoolOptions::new().max_connections(4).connect_lazy_with(options);
        TestDb { name, url, pool }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database, for code under test that takes a store URL.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// A pool on this database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime does the async clean-up. FORCE ends the pool's open connections.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("clean-up runtime");
            rt.block_on(async {
                let mut admin = admin().await;
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&name));
                if let Err(e) = admin.execute(sql.as_str()).await {
                    eprintln!("warning: could not drop test database {name}: {e}");
                }
            });
        });
        let _ = done.join();
    }
}

/// The template of a store for the current migrations, built on first use (by whichever test
/// process gets there first; the others wait on an advisory lock).
async fn ensure_template(store: Store) -> String {
    let prefix = format!("ps_tpl_{}_", store.name());
    let digest = migrations_digest(&[store], "");
    let names = ensure_templates(&prefix, &digest, &[""], |urls| async move {
        migrate::run(store, &urls[0])
            .await
            .unwrap_or_else(|e| panic!("migrating the {store} template: {e}"));
    })
    .await;
    names.into_iter().next().expect("one template")
}

/// A short hex digest of the migrations of `stores` and of `extra` (anything else the templates
/// depend on, such as a seeds version).
pub(crate) fn migrations_digest(stores: &[Store], extra: &str) -> String {
    let mut hash = Sha256::new();
    for &store in stores {
        for f in &migrate::embedded(store, Backend::Postgres).expect("embedded migrations") {
            hash.update(f.checksum);
        }
    }
    hash.update(extra.as_bytes());
    hash.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Template databases named `{prefix}{suffix}{digest}` for each suffix, built together by `build`
/// (given their URLs, still under temporary names) unless they all exist already. Serialised
/// across test processes by an advisory lock per prefix; templates of older digests are dropped.
pub(crate) async fn ensure_templates<F, Fut>(prefix: &str, digest: &str, suffixes: &[&str], build: F) -> Vec<String>
where
    F: FnOnce(Vec<StoreUrl>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let names: Vec<String> = suffixes.iter().map(|s| format!("{prefix}{s}{digest}")).collect();
    let mut admin = admin().await;
    // One lock per prefix, held while checking and building its templates.
    let key = i64::from_be_bytes(Sha256::digest(prefix.as_bytes())[..8].try_into().expect("8 bytes"));
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut admin)
        .await
        .expect("template lock");
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = ANY($1)")
        .bind(&names)
        .fetch_one(&mut admin)
        .await
        .expect("look up templates");
    if existing as usize != names.len() {
        // Templates of older digests (and half-built ones) are of no further use.
        let stale: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1 || '%'")
            .bind(prefix)
            .fetch_all(&mut admin)
            .await
            .expect("list templates");
        for old in stale {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&old)).as_str())
                .await;
        }
        let building: Vec<String> = names.iter().map(|n| format!("{n}_building")).collect();
        for b in &building {
            admin
                .execute(format!("CREATE DATABASE {}", ident(b)).as_str())
                .await
                .expect("create template");
        }
        build(building.iter().map(|b| server_url().with_database(b)).collect()).await;
        for (b, n) in building.iter().zip(&names) {
            // The builder's pools may still be closing; FORCE is not available for RENAME, so wait.
            let mut attempt = 0;
            loop {
                match admin
                    .execute(format!("ALTER DATABASE {} RENAME TO {}", ident(b), ident(n)).as_str())
                    .await
                {
                    Ok(_) => break,
                    Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                        attempt += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("publish template {n}: {e}"),
                }
            }
        }
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut admin)
        .await
        .expect("template unlock");
    names
}
