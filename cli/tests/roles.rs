//! `promptsales roles apply|drop` on private copies of the four stores (small seed) with a random
//! role prefix: each service role reaches its own tables and nothing else, runs no DDL, and a
//! second apply changes nothing; `drop` removes the roles (also when an assertion fails).

use std::{os::unix::fs::PermissionsExt, path::Path, process::Command};

use promptsales_platform::Store;
use promptsales_testkit::{SeededStores, TestDb};
use sqlx::{Connection, PgConnection};

fn command(stores: &SeededStores, prefix: &str, secrets: &Path, action: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsales"));
    cmd.args(["roles", action, "--prefix", prefix, "--secrets-dir"])
        .arg(secrets);
    for (store, db) in [
        (Store::Content, &stores.content),
        (Store::Ads, &stores.ads),
        (Store::Crm, &stores.crm),
        (Store::Sales, &stores.sales),
    ] {
        cmd.env(
            format!("PROMPTSALES_{}_URL", store.name().to_uppercase()),
            db.url().expose().as_str(),
        );
        cmd.env_remove(format!("PROMPTSALES_ROLE_PASSWORD_{}", store.name().to_uppercase()));
    }
    cmd
}

fn run(stores: &SeededStores, prefix: &str, secrets: &Path, action: &str) -> String {
    let out = command(stores, prefix, secrets, action)
        .output()
        .expect("run promptsales");
    assert!(
        out.status.success(),
        "roles {action} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Drops the test's roles however the test ends (roles are cluster-wide: a leftover would stay).
struct Roles<'a> {
    stores: &'a SeededStores,
    prefix: String,
    secrets: tempfile::TempDir,
}

impl Drop for Roles<'_> {
    fn drop(&mut self) {
        let out = command(self.stores, &self.prefix, self.secrets.path(), "drop").output();
        if !matches!(&out, Ok(o) if o.status.success()) {
            eprintln!("dropping roles {}*: {out:?}", self.prefix);
        }
    }
}

impl Roles<'_> {
    fn password(&self, service: &str) -> String {
        let file = self
            .secrets
            .path()
            .join("roles")
            .join(format!("{}{service}.password", self.prefix));
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    }

    /// A connection as the `service` role to `db`.
    async fn connect(&self, service: &str, db: &TestDb) -> Result<PgConnection, sqlx::Error> {
        let mut url = db.url().expose().clone();
        url.set_username(&format!("{}{service}", self.prefix)).expect("a user");
        url.set_password(Some(&self.password(service))).expect("a password");
        PgConnection::connect(url.as_str()).await
    }
}

async fn refused(conn: &mut PgConnection, sql: &str) -> String {
    let e = sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .expect_err(&format!("`{sql}` must be refused"));
    let message = e.to_string();
    assert!(
        message.contains("permission denied") || message.contains("must be owner"),
        "`{sql}`: {message}"
    );
    message
}

async fn allowed(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` must be allowed: {e}"));
}

#[tokio::test]
async fn should_give_each_service_role_its_own_tables_only_and_no_ddl() {
    let stores = SeededStores::small().await;
    let roles = Roles {
        stores: &stores,
        prefix: format!("t{}_", &uuid::Uuid::new_v4().simple().to_string()[..10]),
        secrets: tempfile::tempdir().expect("temp dir"),
    };
    let first = run(&stores, &roles.prefix, roles.secrets.path(), "apply");
    assert_eq!(first.lines().count(), 9, "{first}");
    let password = roles.password("crm");
    let file = roles
        .secrets
        .path()
        .join("roles")
        .join(format!("{}crm.password", roles.prefix));
    assert_eq!(
        std::fs::metadata(&file).expect("file").permissions().mode() & 0o777,
        0o600
    );
    run(&stores, &roles.prefix, roles.secrets.path(), "apply");
    assert_eq!(roles.password("crm"), password, "a second apply keeps the password");

    let mut crm = roles
        .connect("crm", &stores.crm)
        .await
        .expect("crm connects to its store");
    let customers: i64 = sqlx::query_scalar("SELECT count(*) FROM crm.customers")
        .fetch_one(&mut crm)
        .await
        .expect("crm reads its customers");
    assert!(customers > 0);
    allowed(&mut crm, "UPDATE crm.customers SET segment = segment WHERE false").await;
    allowed(
        &mut crm,
        "INSERT INTO crm.event_log (entity, entity_id, action, actor)
         VALUES ('customer', gen_random_uuid(), 'viewed', 'roles-test')",
    )
    .await;
    refused(&mut crm, "DELETE FROM crm.event_log").await;
    refused(&mut crm, "CREATE TABLE crm.intruder (a int)").await;
    refused(&mut crm, "CREATE TABLE public.intruder (a int)").await;
    refused(&mut crm, "ALTER TABLE crm.customers ADD COLUMN x int").await;
    let denied = roles
        .connect("crm", &stores.sales)
        .await
        .expect_err("crm may not enter the sales store");
    assert!(
        denied.to_string().contains("permission denied for database"),
        "{denied}"
    );

    let mut audit = roles
        .connect("gateway_audit", &stores.sales)
        .await
        .expect("gateway connects");
    allowed(
        &mut audit,
        "INSERT INTO sales.audit_log (id, actor_subject, action, outcome)
         VALUES (gen_random_uuid(), 'roles-test', 'mutation', 'success')",
    )
    .await;
    refused(&mut audit, "SELECT count(*) FROM sales.audit_log").await;
    refused(&mut audit, "SELECT count(*) FROM sales.contacts").await;

    let mut sales = roles.connect("sales", &stores.sales).await.expect("sales connects");
    allowed(&mut sales, "SELECT count(*) FROM sales.contacts").await;
    allowed(&mut sales, "SELECT count(*) FROM sales.audit_log").await;
    refused(&mut sales, "UPDATE sales.audit_log SET outcome = outcome").await;
    refused(&mut sales, "SELECT count(*) FROM sales.oauth_signing_keys").await;
    refused(&mut sales, "SELECT count(*) FROM sales.audit_log_default").await;

    let mut etl = roles.connect("etl", &stores.sales).await.expect("etl connects");
    allowed(&mut etl, "SELECT count(*) FROM sales.etl_watermarks").await;
    refused(&mut etl, "SELECT count(*) FROM sales.contacts").await;

    let mut worker = roles.connect("worker", &stores.sales).await.expect("worker connects");
    allowed(
        &mut worker,
        "UPDATE sales.task_reminders SET lease_owner = NULL, lease_until = NULL",
    )
    .await;
    allowed(&mut worker, "SELECT count(*) FROM sales.agenda_alerts").await;
    refused(&mut worker, "UPDATE sales.campaign_plans SET title = title").await;
    refused(&mut worker, "SELECT count(*) FROM sales.portal_users").await;
    refused(&mut worker, "DELETE FROM sales.task_reminders").await;

    let mut analyst = roles.connect("analyst", &stores.sales).await.expect("analyst connects");
    allowed(&mut analyst, "SELECT count(*) FROM sales.campaign_plans").await;
    allowed(&mut analyst, "SELECT count(*) FROM sales.campaign_summaries").await;
    refused(&mut analyst, "SELECT count(*) FROM sales.contacts").await;
    refused(&mut analyst, "SELECT count(*) FROM sales.portal_users").await;
    refused(&mut analyst, "SELECT count(*) FROM sales.oauth_clients").await;
    refused(&mut analyst, "UPDATE sales.campaign_plans SET title = title").await;
    refused(&mut analyst, "CREATE TEMPORARY TABLE scratch (a int)").await;

    for (service, db) in [("ads", &stores.crm), ("content", &stores.ads), ("auth", &stores.crm)] {
        let denied = roles
            .connect(service, db)
            .await
            .expect_err("no role enters another store");
        assert!(
            denied.to_string().contains("permission denied for database"),
            "{service}: {denied}"
        );
    }
    drop((crm, audit, sales, etl, worker, analyst));

    let prefix = roles.prefix.clone();
    drop(roles);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_roles WHERE rolname LIKE $1 || '%'")
        .bind(&prefix)
        .fetch_one(stores.crm.pool())
        .await
        .expect("roles");
    assert_eq!(left, 0, "roles drop removed them");
}
