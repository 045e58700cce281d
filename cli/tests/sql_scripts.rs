//! The teaching scripts of `sql/sales/scripts/` run with `psql -v ON_ERROR_STOP=1`, as a team runs
//! them by hand, against a seeded `promptsales` (small profile, private clone per test), and their
//! key outputs are checked against what the test computes itself. Deadlocks and query monitoring
//! need dblink (a superuser) and `shared_preload_libraries = pg_stat_statements`: they run in a
//! private PostgreSQL the test starts and removes, loaded with a dump of the seeded store.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use promptsales_platform::Store;
use promptsales_testkit::{PrivatePg, SeededStores, TestDb};
use sqlx::PgPool;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sql/sales/scripts")
        .join(name)
}

/// A table psql printed: its header cells and its rows' cells.
type Table = (Vec<String>, Vec<Vec<String>>);

/// What one psql run printed.
struct Run {
    stdout: String,
    stderr: String,
}

impl Run {
    /// Every table psql printed in aligned format.
    fn tables(&self) -> Vec<Table> {
        let lines: Vec<&str> = self.stdout.lines().collect();
        let mut tables = Vec::new();
        let mut i = 0;
        while i + 1 < lines.len() {
            let rule = lines[i + 1];
            if !rule.is_empty() && rule.starts_with('-') && rule.chars().all(|c| c == '-' || c == '+') {
                let header: Vec<String> = lines[i].split('|').map(|c| c.trim().to_owned()).collect();
                let mut rows: Vec<Vec<String>> = Vec::new();
                let mut j = i + 2;
                let mut continued = false;
                while j < lines.len() && !lines[j].trim().is_empty() && !lines[j].starts_with('(') {
                    let cells: Vec<String> = lines[j].split('|').map(|c| c.trim().to_owned()).collect();
                    // A multi-line value ends its cell with `+`; the next line continues the row.
                    let ends_continued = cells.iter().any(|c| c.ends_with('+'));
                    match rows.last_mut() {
                        Some(row) if continued => {
                            for (cell, more) in row.iter_mut().zip(cells) {
                                if let Some(stripped) = cell.strip_suffix('+') {
                                    *cell = stripped.trim_end().to_owned();
                                }
                                if !more.is_empty() {
                                    cell.push('\n');
                                    cell.push_str(&more);
                                }
                            }
                        }
                        _ => rows.push(cells),
                    }
                    continued = ends_continued;
                    j += 1;
                }
                tables.push((header, rows));
                i = j;
            } else {
                i += 1;
            }
        }
        tables
    }

    /// The values of the column named `column` in every table that has one, in order.
    fn column(&self, column: &str) -> Vec<String> {
        self.tables()
            .into_iter()
            .filter_map(|(header, rows)| header.iter().position(|h| h == column).map(|at| (at, rows)))
            .flat_map(|(at, rows)| rows.into_iter().filter_map(move |r| r.get(at).cloned()))
            .collect()
    }

    /// The single value of `column` (the script prints it in exactly one row).
    fn value(&self, column: &str) -> String {
        let values = self.column(column);
        assert_eq!(
            values.len(),
            1,
            "one `{column}` expected, got {values:?}\n{}",
            self.stdout
        );
        values.into_iter().next().expect("one value")
    }
}

/// Runs a script as a team would: `psql -X -v ON_ERROR_STOP=1 -f <script>`; it must succeed.
fn psql(url: &str, name: &str, vars: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-v", "ON_ERROR_STOP=1"]);
    for (k, v) in vars {
        cmd.arg("-v").arg(format!("{k}={v}"));
    }
    let out = cmd
        .arg("-d")
        .arg(url)
        .arg("-f")
        .arg(script(name))
        .output()
        .expect("run psql");
    let run = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{}\n--- stderr\n{}",
        out.status,
        run.stdout,
        run.stderr
    );
    run
}

fn url(db: &TestDb) -> String {
    db.url().expose().as_str().to_owned()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn should_fire_the_triggers_and_keep_the_summary_consistent_then_roll_back() {
    let stores = SeededStores::small().await;
    let pool = stores.sales.pool();
    let audit_before = count(pool, "SELECT count(*) FROM sales.audit_log").await;

    let run = psql(&url(&stores.sales), "01_triggers.sql", &[]);

    assert_eq!(run.value("updated_at moved"), "t");
    assert_eq!(run.value("created_at kept"), "t");
    assert_eq!(run.value("version bumped"), "t");
    assert_eq!(
        run.value("audit rows for the plan"),
        "1",
        "one status change, one audit row"
    );
    assert!(run.value("details").contains(r#""from": "#), "{}", run.stdout);
    assert!(
        run.stderr.contains("is append-only: UPDATE is not allowed"),
        "the audit row cannot be edited: {}",
        run.stderr
    );
    assert_eq!(
        run.column("summary matches daily rows"),
        ["t", "t", "t"],
        "after insert, update and delete"
    );
    // The sums the trigger produced, against the script's own daily figures: 3 days of
    // 5000·n views (n = 1..3) = 30000, then the last day (15000) deleted.
    assert_eq!(run.column("views"), ["30000", "30000", "15000"]);

    // Everything ran in one rolled-back transaction.
    assert_eq!(count(pool, "SELECT count(*) FROM sales.audit_log").await, audit_before);
    assert_eq!(count(pool, "SELECT count(*) FROM sales.campaign_summaries").await, 0);
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM pg_proc WHERE proname IN ('audit_plan_status_change', 'sync_summary_from_daily')"
        )
        .await,
        0
    );
    assert_eq!(
        count(pool, "SELECT count(*) FROM sales.campaign_plans WHERE version > 1").await,
        0
    );
}

#[tokio::test]
async fn should_walk_the_campaigns_with_a_cursor_and_match_the_set_based_answer() {
    let stores = SeededStores::small().await;
    let plans = count(
        stores.sales.pool(),
        "SELECT count(*) FROM sales.campaign_plans WHERE deleted_at IS NULL",
    )
    .await;
    assert!(plans > 10, "the small seed has more than one batch of plans");

    for batch in [10_i64, 7] {
        let run = psql(
            &url(&stores.sales),
            "02_cursors.sql",
            &[("batch_size", &batch.to_string())],
        );
        assert_eq!(run.value("cursor matches set-based"), "t", "{}", run.stdout);
        assert_eq!(run.value("plans walked"), plans.to_string());
        let batches = (plans + batch - 1) / batch;
        assert!(
            run.stderr
                .contains(&format!("cursor walk: {plans} plans in {batches} batches")),
            "{}",
            run.stderr
        );
        // Every FETCH printed a table with the same columns: full batches, the rest, then one
        // empty batch that tells the client the walk is over.
        let fetched: Vec<usize> = run
            .tables()
            .into_iter()
            .filter(|(h, _)| h.first().map(String::as_str) == Some("organization") && h.contains(&"title".into()))
            .map(|(_, rows)| rows.len())
            .collect();
        assert_eq!(fetched.iter().sum::<usize>() as i64, plans, "{fetched:?}");
        assert_eq!(fetched.last(), Some(&0), "the last FETCH is empty: {fetched:?}");
        assert!(fetched.iter().all(|&n| n as i64 <= batch), "{fetched:?}");
    }
}

#[tokio::test]
async fn should_list_tables_keys_indexes_sizes_and_dependencies_from_the_catalogs() {
    let stores = SeededStores::small().await;
    let pool = stores.sales.pool();
    let run = psql(&url(&stores.sales), "04_catalog_metadata.sql", &[]);

    let listed = run.column("table_name");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'sales' AND tablename NOT LIKE 'audit_log_%'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    assert!(tables.len() > 15);
    for t in &tables {
        assert!(listed.contains(t), "{t} is listed in section 1");
    }
    let constraints = run.column("constraint_name");
    for key in [
        "campaign_plans_pkey",
        "approvals_campaign_plan_id_organization_id_fkey",
        "campaign_daily_metrics_campaign_id_organization_id_fkey",
    ] {
        assert!(constraints.iter().any(|c| c == key), "{key}");
    }
    assert!(run.stdout.contains("PRIMARY KEY (id)"));
    assert!(run.column("kind").iter().any(|k| k == "partitioned table"));
    // The schema indexes every foreign key: the script would show `f` for one that is not.
    let indexed = run.column("indexed");
    assert!(indexed.iter().filter(|v| *v == "t").count() > 20, "{indexed:?}");
    assert!(
        !indexed.iter().any(|v| v == "f"),
        "an unindexed foreign key: {}",
        run.stdout
    );
    assert!(run.column("function").iter().any(|f| f == "sales.touch_updated_at()"));
    assert!(run.column("partition").iter().any(|p| p == "sales.audit_log_default"));
    assert_eq!(
        run.column("dependent_view"),
        ["plan_overview", "plan_overview"],
        "the view depends on plans and organizations"
    );
    let sizes = run.column("total_bytes");
    assert_eq!(
        sizes.len(),
        tables.len(),
        "one size row per table, partitions in their parent"
    );
}

#[tokio::test]
async fn should_answer_the_campaign_questions_with_each_kind_of_join() {
    let stores = SeededStores::small().await;
    let pool = stores.sales.pool();
    let run = psql(&url(&stores.sales), "06_campaign_joins.sql", &[]);

    let launched = count(
        pool,
        "SELECT count(*) FROM sales.campaign_plans WHERE status = 'launched' AND deleted_at IS NULL",
    )
    .await;
    assert!(launched > 0);
    assert_eq!(run.value("plans without a summary"), launched.to_string());
    assert_eq!(run.value("launched plans"), launched.to_string());
    let never = count(
        pool,
        "SELECT count(*) FROM sales.products pr WHERE pr.deleted_at IS NULL
         AND NOT EXISTS (SELECT FROM sales.campaign_plans p WHERE p.product_id = pr.id AND p.deleted_at IS NULL)",
    )
    .await;
    assert_eq!(run.value("products never advertised"), never.to_string());
    assert_eq!(run.value("right join = swapped left join"), "t");
    let orgs = count(
        pool,
        "SELECT count(*) FROM sales.organizations WHERE deleted_at IS NULL",
    )
    .await;
    assert_eq!(run.value("grid cells"), (orgs * 6).to_string());
    assert_eq!(run.value("organizations x statuses"), (orgs * 6).to_string());
    assert!(run.column("results").iter().any(|r| r == "not loaded yet"));
    assert!(run.column("results").iter().any(|r| r == "finished"));
    // The stand-in summaries went with the ROLLBACK.
    assert_eq!(count(pool, "SELECT count(*) FROM sales.campaign_summaries").await, 0);
}

/// The service roles of `promptsales roles apply`, with a random prefix, dropped however the test
/// ends (roles are cluster-wide).
struct Roles<'a> {
    stores: &'a SeededStores,
    prefix: String,
    secrets: tempfile::TempDir,
}

impl Roles<'_> {
    fn command(&self, action: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsales"));
        cmd.args(["roles", action, "--prefix", &self.prefix, "--secrets-dir"])
            .arg(self.secrets.path());
        for store in Store::ALL {
            let upper = store.name().to_uppercase();
            cmd.env(format!("PROMPTSALES_{upper}_URL"), url(self.stores.db(store)));
            cmd.env_remove(format!("PROMPTSALES_ROLE_PASSWORD_{upper}"));
        }
        cmd
    }
}

impl Drop for Roles<'_> {
    fn drop(&mut self) {
        let out = self.command("drop").output();
        if !matches!(&out, Ok(o) if o.status.success()) {
            eprintln!("dropping roles {}*: {out:?}", self.prefix);
        }
    }
}

#[tokio::test]
async fn should_refuse_a_write_once_its_grant_is_revoked() {
    let stores = SeededStores::small().await;
    let pool = stores.sales.pool();
    let roles = Roles {
        stores: &stores,
        prefix: format!("t{}_", &uuid::Uuid::new_v4().simple().to_string()[..10]),
        secrets: tempfile::tempdir().expect("temp dir"),
    };
    let applied = roles.command("apply").output().expect("run promptsales roles apply");
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    let etl = format!("{}etl", roles.prefix);

    let run = psql(
        &url(&stores.sales),
        "07_roles_and_grants.sql",
        &[("prefix", &roles.prefix)],
    );

    for refused in [
        "permission denied for table portal_users",
        "permission denied for table campaign_summaries",
        "permission denied for table campaign_plans",
        "permission denied for table oauth_clients",
    ] {
        assert!(run.stderr.contains(refused), "expected `{refused}`:\n{}", run.stderr);
    }
    assert_eq!(
        run.stderr.matches("ERROR:").count(),
        4,
        "only the four refusals: {}",
        run.stderr
    );
    // Before the revoke the ETL could insert, after it could not.
    assert_eq!(run.column("may_insert"), ["t", "f"]);
    assert!(run.stdout.contains("INSERT 0 1"));
    assert_eq!(run.value("ETL may insert again after ROLLBACK"), "t");
    assert_eq!(run.value("analyst column grant kept"), "f");
    // The privilege matrix: the ETL writes summaries but not plans; the analyst only reads.
    let matrix = run
        .tables()
        .into_iter()
        .find(|(h, _)| h.iter().any(|c| c == "analyst") && h.iter().any(|c| c == "etl"))
        .expect("the privilege matrix");
    let cell = |table: &str, role: &str| {
        let at = matrix.0.iter().position(|h| h == role).expect("role column");
        matrix
            .1
            .iter()
            .find(|r| r[0] == table)
            .map(|r| r[at].clone())
            .unwrap_or_else(|| panic!("{table} in the matrix"))
    };
    assert_eq!(cell("campaign_summaries", "etl"), "raw");
    assert_eq!(cell("campaign_plans", "etl"), "-");
    assert_eq!(cell("campaign_plans", "analyst"), "r");
    assert_eq!(cell("contacts", "analyst"), "-");
    assert_eq!(cell("audit_log", "gateway_audit"), "a");

    // The grants and memberships are as `roles apply` left them.
    let may_insert: bool = sqlx::query_scalar("SELECT has_table_privilege($1, 'sales.campaign_summaries', 'INSERT')")
        .bind(&etl)
        .fetch_one(pool)
        .await
        .expect("privilege");
    assert!(may_insert);
    let memberships: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname LIKE $1 || '%'",
    )
    .bind(&roles.prefix)
    .fetch_one(pool)
    .await
    .expect("memberships");
    assert_eq!(memberships, 0, "the script's SET ROLE memberships were rolled back");
}

/// The seeded sales store, dumped into a database `promptsales` of the private server.
fn load_into(pg: &PrivatePg, seeded: &TestDb) {
    let created = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "CREATE DATABASE promptsales",
            "-d",
        ])
        .arg(pg.url("postgres").expose().as_str())
        .status()
        .expect("run psql");
    assert!(created.success());
    let mut dump = Command::new("pg_dump")
        .args(["--no-owner", "--no-privileges", "-d"])
        .arg(url(seeded))
        .stdout(Stdio::piped())
        .spawn()
        .expect("run pg_dump");
    let mut restore = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(pg.url("promptsales").expose().as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run psql");
    let mut from = dump.stdout.take().expect("dump output");
    let mut to = restore.stdin.take().expect("restore input");
    std::io::copy(&mut from, &mut to).expect("copy the dump");
    to.flush().expect("flush");
    drop(to);
    assert!(dump.wait().expect("pg_dump").success(), "pg_dump failed");
    assert!(restore.wait().expect("psql").success(), "restore failed");
}

#[tokio::test]
async fn should_detect_one_deadlock_and_monitor_queries_on_a_private_server() {
    let stores = SeededStores::small().await;
    let plans = count(stores.sales.pool(), "SELECT count(*) FROM sales.campaign_plans").await;
    let orgs = count(stores.sales.pool(), "SELECT count(*) FROM sales.organizations").await;
    let pg = PrivatePg::start(&[("shared_preload_libraries", "pg_stat_statements")]);
    load_into(&pg, &stores.sales);
    let target = pg.url("promptsales").expose().as_str().to_owned();
    let private = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&target)
        .await
        .expect("connect to the private server");
    sqlx::query("ANALYZE").execute(&private).await.expect("analyze");

    // Deadlocks: exactly one victim (B), A finished, one deadlock counted, none in part 2.
    let run = psql(&target, "03_deadlocks.sql", &[]);
    assert_eq!(run.value("A's result"), "UPDATE 1", "{}", run.stdout);
    assert_eq!(run.value("deadlock victim"), "B");
    assert!(run.stdout.contains("ERROR:  deadlock detected"), "{}", run.stdout);
    assert!(run.stdout.contains("waits for ShareLock on transaction"));
    assert_eq!(
        run.column("deadlocks in this database (pg_stat_database)"),
        ["1", "1"],
        "one deadlock in part 1, none added by ordered locking"
    );
    assert_eq!(run.column("B locked"), ["2"], "B waited and then locked both plans");
    assert!(pg.log().contains("deadlock detected"), "the server log reports it too");
    let budgets_changed = count(&private, "SELECT count(*) FROM sales.campaign_plans WHERE version > 1").await;
    assert_eq!(budgets_changed, 0, "both sessions rolled back");

    // Monitoring: statements normalised, the blocked session seen and cancelled, plans read.
    let run = psql(&target, "05_query_monitoring.sql", &[]);
    assert_eq!(run.value("tenant list calls"), orgs.to_string(), "{}", run.stdout);
    assert_eq!(run.value("n+1 calls"), plans.to_string());
    assert_eq!(
        run.value("n+1 entries"),
        "1",
        "one normalised entry for all the literals"
    );
    let (header, rows) = run
        .tables()
        .into_iter()
        .find(|(h, _)| h.iter().any(|c| c == "blocked_by"))
        .expect("the pg_stat_activity table");
    let at = |name: &str| header.iter().position(|h| h == name).expect("column");
    let waiter = rows
        .iter()
        .find(|r| r[at("application_name")] == "monitor_waiter")
        .expect("the waiter in pg_stat_activity");
    assert_eq!(waiter[at("blocked_by")], "{monitor_holder}");
    assert_eq!(waiter[at("wait_event_type")], "Lock");
    assert!(
        run.column("mode").iter().any(|m| m == "ShareLock") && run.column("granted").iter().any(|g| g == "f"),
        "the waiter's ungranted lock: {}",
        run.stdout
    );
    assert_eq!(run.value("waiter cancelled"), "t");
    assert!(run.stdout.contains("canceling statement due to user request"));
    assert!(run.stdout.contains("actual time="), "EXPLAIN ANALYZE ran");
    assert!(
        run.stdout.contains("Index Scan using"),
        "the index path with seq scans off"
    );
    let left = count(
        &private,
        "SELECT count(*) FROM pg_extension WHERE extname IN ('dblink', 'pg_stat_statements')",
    )
    .await;
    assert_eq!(left, 0, "the scripts drop the extensions they created");
    private.close().await;
}
