//! `promptsales migrate` through its real interface (the binary), against the real PostgreSQL.

use std::{collections::BTreeMap, process::Output};

use promptsales_platform::{Store, StoreUrl};
use promptsales_testkit::{TestDb, schema};

fn promptsales(args: &[&str], urls: &[(Store, &StoreUrl)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"));
    cmd.args(args);
    for store in Store::ALL {
        cmd.env_remove(format!("PROMPTSALES_{}_URL", store.name().to_uppercase()));
    }
    for (store, url) in urls {
        cmd.env(
            format!("PROMPTSALES_{}_URL", store.name().to_uppercase()),
            url.expose().as_str(),
        );
    }
    cmd.output().expect("run promptsales")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The tables each store must have: those the data-model issue names.
fn expected_tables(store: Store) -> &'static [&'static str] {
    match store {
        Store::Ads => &[
            "ad_placements",
            "ad_results",
            "ads",
            "brands",
            "campaign_channels",
            "campaign_markets",
            "campaigns",
            "channels",
            "influencers",
            "markets",
            "products",
            "sentiment_samples",
        ],
        Store::Crm => &[
            "campaign_customers",
            "customer_keys",
            "customers",
            "event_log",
            "interactions",
            "leads",
            "sales",
        ],
        Store::Content => &[
            "campaign_logs",
            "content_requests",
            "generation_logs",
            "hashtags",
            "image_blobs",
            "images",
            "integrations",
        ],
        Store::Sales => &[
            "agenda_alerts",
            "agenda_steps",
            "ai_usage",
            "approvals",
            "audit_log",
            "brands",
            "campaign_channel_metrics",
            "campaign_daily_metrics",
            "campaign_market_metrics",
            "campaign_plans",
            "campaign_summaries",
            "contacts",
            "etl_runs",
            "etl_src_ad_results",
            "etl_src_campaign_channels",
            "etl_src_campaign_customers",
            "etl_src_campaign_markets",
            "etl_src_campaigns",
            "etl_src_sentiment_samples",
            "etl_stage",
            "etl_watermarks",
            "oauth_clients",
            "oauth_signing_keys",
            "organizations",
            "portal_users",
            "products",
            "scheduled_tasks",
            "subscription_plans",
            "subscriptions",
            "task_reminders",
        ],
    }
}

async fn tables(db: &TestDb, store: Store) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
    )
    .bind(store.name())
    .fetch_all(db.pool())
    .await
    .expect("list tables")
}

#[tokio::test]
async fn should_create_every_table_in_four_fresh_databases_and_change_nothing_when_run_again() {
    let dbs: Vec<(Store, TestDb)> = futures_join(Store::ALL.map(|s| async move { (s, TestDb::empty(s).await) })).await;
    let urls: Vec<(Store, &StoreUrl)> = dbs.iter().map(|(s, db)| (*s, db.url())).collect();

    let first = promptsales(&["migrate"], &urls);
    assert!(first.status.success(), "first run failed: {}", text(&first.stderr));
    let out = text(&first.stdout);
    for (store, db) in &dbs {
        assert!(
            out.contains(&format!("{store:<8} PostgreSQL applied 0001 init")),
            "{out}"
        );
        assert_eq!(tables(db, *store).await, expected_tables(*store), "tables of {store}");
    }
    let mut before = BTreeMap::new();
    for (store, db) in &dbs {
        before.insert(*store, schema::dump(db.pool(), store.name()).await);
    }

    let second = promptsales(&["migrate"], &urls);
    assert!(second.status.success(), "second run failed: {}", text(&second.stderr));
    let out = text(&second.stdout);
    assert!(!out.contains(" applied 0"), "nothing may be applied twice: {out}");
    // Every migration of every store is already applied, whatever their number.
    assert_eq!(out.matches("0 applied now, ").count(), 4, "{out}");
    for (store, db) in &dbs {
        assert_eq!(
            schema::dump(db.pool(), store.name()).await,
            before[store],
            "{store} changed on a second run"
        );
    }
}

/// Runs the futures concurrently (the four stores are independent).
async fn futures_join<F: std::future::Future<Output = T>, T>(futures: [F; 4]) -> Vec<T> {
    let [a, b, c, d] = futures;
    let (a, b, c, d) = tokio::join!(a, b, c, d);
    vec![a, b, c, d]
}

#[tokio::test]
async fn should_migrate_only_the_stores_named() {
    let db = TestDb::empty(Store::Crm).await;
    let out = promptsales(&["migrate", "--store", "crm"], &[(Store::Crm, db.url())]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.contains("up to date")).count(),
        1,
        "{stdout}"
    );
    assert!(stdout.contains(&db.url().to_string()), "{stdout}");
}

#[tokio::test]
async fn should_refuse_to_continue_when_an_applied_migration_was_edited() {
    let db = TestDb::migrated(Store::Sales).await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00'::bytea WHERE version = 1")
        .execute(db.pool())
        .await
        .expect("tamper");
    let out = promptsales(&["migrate", "--store", "sales"], &[(Store::Sales, db.url())]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("migration 1 of sales was applied with another content"),
        "{err}"
    );
}

#[test]
fn should_name_the_store_and_the_engine_when_a_url_cannot_hold_it() {
    let url = StoreUrl::parse("mongodb://127.0.0.1:9/promptsales").expect("valid");
    let out = promptsales(&["migrate", "--store", "sales"], &[(Store::Sales, &url)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("the sales store has no MongoDB adapter (it supports PostgreSQL)"),
        "{err}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"))
        .args(["migrate", "--ads-url", "mysql://h/x"])
        .output()
        .expect("run");
    assert!(
        text(&bad.stderr).contains("unsupported scheme `mysql`"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test]
async fn should_give_every_table_a_primary_key_and_every_foreign_key_an_index() {
    for store in Store::ALL {
        let db = TestDb::migrated(store).await;
        let unkeyed: Vec<String> = sqlx::query_scalar(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = $1
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')",
        )
        .bind(store.name())
        .fetch_all(db.pool())
        .await
        .expect("query");
        assert_eq!(unkeyed, Vec::<String>::new(), "{store}: tables without a primary key");
        // An index covers a foreign key when its leading columns are exactly the key's columns.
        let unindexed: Vec<String> = sqlx::query_scalar(
            "SELECT k.conrelid::regclass::text || '.' || k.conname FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE k.contype = 'f' AND n.nspname = $1 AND NOT c.relispartition AND NOT EXISTS (
                 SELECT 1 FROM pg_index i WHERE i.indrelid = k.conrelid
                   AND (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] @> k.conkey
                   AND (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] <@ k.conkey)",
        )
        .bind(store.name())
        .fetch_all(db.pool())
        .await
        .expect("query");
        assert_eq!(
            unindexed,
            Vec::<String>::new(),
            "{store}: foreign keys without an index"
        );
    }
}

#[tokio::test]
async fn should_keep_updated_at_in_the_store_not_in_the_caller() {
    let db = TestDb::migrated(Store::Sales).await;
    let id = uuid::Uuid::new_v4();
    let read = "SELECT extract(epoch FROM updated_at)::float8 FROM sales.organizations WHERE id = $1";
    sqlx::query(
        "INSERT INTO sales.organizations (id, name, legal_name, country_code, industry, updated_at)
         VALUES ($1, 'Acme', 'Acme S.A.', 'MX', 'retail', '2001-01-01')",
    )
    .bind(id)
    .execute(db.pool())
    .await
    .expect("insert");
    let inserted: f64 = sqlx::query_scalar(read)
        .bind(id)
        .fetch_one(db.pool())
        .await
        .expect("read");
    assert!(
        inserted > 1_700_000_000.0,
        "a caller back-dated updated_at to {inserted}"
    );
    sqlx::query("UPDATE sales.organizations SET deleted_at = now(), updated_at = '2001-01-01' WHERE id = $1")
        .bind(id)
        .execute(db.pool())
        .await
        .expect("tombstone");
    let after: f64 = sqlx::query_scalar(read)
        .bind(id)
        .fetch_one(db.pool())
        .await
        .expect("read");
    assert!(after >= inserted, "a tombstone must move updated_at forward");
}

#[tokio::test]
async fn should_match_the_reviewed_schema_of_each_store() {
    for store in Store::ALL {
        let db = TestDb::migrated(store).await;
        let dump = schema::dump(db.pool(), store.name()).await;
        insta::assert_snapshot!(format!("schema_{store}"), dump);
    }
}

/// Same contract on SQL Server: the T-SQL applies to a fresh database, and a second run is a no-op.
#[tokio::test]
#[ignore = "needs a SQL Server: set PROMPTSALES_MSSQL_URL"]
async fn should_apply_the_tsql_migrations_to_sql_server_once() {
    for store in [Store::Ads, Store::Crm] {
        let url = promptsales_testkit::remote::mssql_database();
        let first = promptsales(&["migrate", "--store", store.name()], &[(store, &url)]);
        let second = promptsales(&["migrate", "--store", store.name()], &[(store, &url)]);
        promptsales_testkit::remote::drop_mssql(&url).await;
        assert!(first.status.success(), "{store}: {}", text(&first.stderr));
        assert!(
            text(&first.stdout).contains("SQL Server applied 0001 init"),
            "{}",
            text(&first.stdout)
        );
        assert!(second.status.success(), "{store}: {}", text(&second.stderr));
        assert!(
            text(&second.stdout).contains("0 applied now, 1 already"),
            "{}",
            text(&second.stdout)
        );
    }
}

/// Same contract on MongoDB: validators and indexes apply, and a second run is a no-op.
#[tokio::test]
#[ignore = "needs a MongoDB: set PROMPTSALES_MONGO_URL"]
async fn should_apply_the_mongodb_migrations_once() {
    let url = promptsales_testkit::remote::mongo_database();
    let first = promptsales(&["migrate", "--store", "content"], &[(Store::Content, &url)]);
    let second = promptsales(&["migrate", "--store", "content"], &[(Store::Content, &url)]);
    promptsales_testkit::remote::drop_mongo(&url).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("MongoDB    applied 0001 init"),
        "{}",
        text(&first.stdout)
    );
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("0 applied now, 1 already"),
        "{}",
        text(&second.stdout)
    );
}
