//! The concurrency pairs of `sql/crm/postgres/scripts/05_concurrency.sql`, driven from several real
//! connections. Every function has a gate (an advisory lock the test holds): the sessions park at
//! their critical point, the test waits until all of them are parked, then opens the gate, so each
//! anomaly happens on every run, not by luck of timing. The broken function shows the anomaly, the
//! fixed one never does, over many repetitions where a repetition is cheap.

use std::{
    io::Write as _,
    net::Ipv4Addr,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use promptsales_platform::Store;
use promptsales_testkit::{PrivatePg, SeededStores, TestDb};
use rand::Rng;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

const SCRIPT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../sql/crm/postgres/scripts/05_concurrency.sql"
));

async fn lab() -> SeededStores {
    let stores = SeededStores::small().await;
    sqlx::raw_sql(SCRIPT)
        .execute(stores.crm.pool())
        .await
        .expect("05_concurrency.sql runs");
    stores
}

async fn connect(db: &TestDb) -> PgConnection {
    PgConnection::connect(db.url().expose().as_str())
        .await
        .expect("connect to the test database")
}

async fn pid(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await
        .expect("backend pid")
}

/// The advisory lock the functions stop at, held exclusively by its own connection.
struct Gate {
    conn: PgConnection,
    key: i64,
}

impl Gate {
    async fn close(db: &TestDb) -> Gate {
        let mut conn = connect(db).await;
        let key: i64 = rand::rng().random();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut conn)
            .await
            .expect("close the gate");
        Gate { conn, key }
    }

    /// Waits until every session of `pids` waits on a lock (the gate, or a row another parked
    /// session holds), then lets them go.
    async fn open_when_parked(mut self, pool: &PgPool, pids: &[i32]) {
        wait_until_waiting(pool, pids).await;
        let released: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .fetch_one(&mut self.conn)
            .await
            .expect("open the gate");
        assert!(released, "the gate was held");
    }
}

async fn wait_until_waiting(pool: &PgPool, pids: &[i32]) {
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1) AND wait_event_type = 'Lock'",
        )
        .bind(pids)
        .fetch_one(pool)
        .await
        .expect("pg_stat_activity");
        if waiting as usize == pids.len() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "only {waiting} of {} sessions parked",
            pids.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until this database's deadlock counter is `expected` (backends report their statistics
/// when idle or when they exit, up to a second late), and fails if it is ever above it.
async fn deadlocks_reach(pool: &PgPool, expected: i64) {
    let started = Instant::now();
    loop {
        let seen: i64 = sqlx::query_scalar("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            .fetch_one(pool)
            .await
            .expect("pg_stat_database");
        assert!(seen <= expected, "{seen} deadlocks, expected {expected}");
        if seen == expected {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{seen} deadlocks counted, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Customers with a loyalty account, in id order (the order the fixed functions lock in).
async fn accounts(pool: &PgPool, n: i64) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT customer_id FROM crm_lab.loyalty_accounts ORDER BY customer_id LIMIT $1")
        .bind(n)
        .fetch_all(pool)
        .await
        .expect("accounts")
}

async fn points(pool: &PgPool, customer: Uuid) -> i64 {
    sqlx::query_scalar("SELECT points FROM crm_lab.loyalty_accounts WHERE customer_id = $1")
        .bind(customer)
        .fetch_one(pool)
        .await
        .expect("points")
}

async fn total(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT sum(points)::bigint FROM crm_lab.loyalty_accounts")
        .fetch_one(pool)
        .await
        .expect("total")
}

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned())
}

/// Three transfers A→B, B→C, C→A, each in its own transaction, parked after their first lock.
async fn three_transfers(db: &TestDb, function: &str) -> Vec<Result<(), sqlx::Error>> {
    let pool = db.pool();
    let ids = accounts(pool, 3).await;
    let gate = Gate::close(db).await;
    let mut pids = Vec::new();
    let mut tasks = Vec::new();
    for (from, to) in [(ids[0], ids[1]), (ids[1], ids[2]), (ids[2], ids[0])] {
        let mut conn = connect(db).await;
        pids.push(pid(&mut conn).await);
        let sql = format!("SELECT crm_lab.{function}($1, $2, 10, $3)");
        let key = gate.key;
        tasks.push(tokio::spawn(async move {
            let mut tx = conn.begin().await?;
            sqlx::query(&sql)
                .bind(from)
                .bind(to)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }));
    }
    gate.open_when_parked(pool, &pids).await;
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("the transfer task"));
    }
    // The connections are closed; once their backends are gone their statistics (the deadlock
    // counter) have been reported.
    let started = Instant::now();
    loop {
        let alive: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)")
            .bind(&pids)
            .fetch_one(pool)
            .await
            .expect("pg_stat_activity");
        if alive == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the sessions did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    results
}

#[tokio::test]
async fn should_pick_one_victim_of_a_three_way_deadlock_and_none_when_locks_are_ordered() {
    let stores = lab().await;
    let pool = stores.crm.pool();
    let before = total(pool).await;

    let results = three_transfers(&stores.crm, "transfer_points_broken").await;
    let victims: Vec<Option<String>> = results.iter().filter_map(|r| r.as_ref().err()).map(sqlstate).collect();
    assert_eq!(
        victims,
        [Some("40P01".to_owned())],
        "exactly one deadlock victim: {results:?}"
    );
    assert_eq!(total(pool).await, before, "the victim's transfer rolled back whole");
    deadlocks_reach(pool, 1).await;

    let ids = accounts(pool, 3).await;
    let mut each = Vec::new();
    for id in &ids {
        each.push(points(pool, *id).await);
    }
    let results = three_transfers(&stores.crm, "transfer_points_fixed").await;
    assert!(results.iter().all(Result::is_ok), "ordered locking: {results:?}");
    assert_eq!(total(pool).await, before);
    for (id, was) in ids.iter().zip(each) {
        assert_eq!(points(pool, *id).await, was, "each account gave 10 and received 10");
    }
    // Ordered locking added none (the sessions have ended, so the counter is final).
    deadlocks_reach(pool, 1).await;
}

#[tokio::test]
async fn should_lose_an_update_when_broken_and_never_when_locked_or_versioned() {
    let stores = lab().await;
    let db = &stores.crm;
    let pool = db.pool();
    let customer = accounts(pool, 1).await[0];
    const ROUNDS: usize = 12;

    for (function, lost_every_time) in [("add_points_broken", true), ("add_points_fixed", false)] {
        for round in 0..ROUNDS {
            let before = points(pool, customer).await;
            let gate = Gate::close(db).await;
            let mut pids = Vec::new();
            let mut tasks = Vec::new();
            for _ in 0..2 {
                let mut conn = connect(db).await;
                pids.push(pid(&mut conn).await);
                let sql = format!("SELECT crm_lab.{function}($1, 10, $2)");
                let key = gate.key;
                tasks.push(tokio::spawn(async move {
                    sqlx::query(&sql).bind(customer).bind(key).execute(&mut conn).await
                }));
            }
            gate.open_when_parked(pool, &pids).await;
            for t in tasks {
                t.await.expect("task").expect("the update commits");
            }
            let after = points(pool, customer).await;
            let expected = if lost_every_time { before + 10 } else { before + 20 };
            assert_eq!(after, expected, "{function}, round {round}: two +10 from {before}");
        }
    }

    // Optimistic: both read the same version; one write wins, the other is told and retries.
    for round in 0..ROUNDS {
        let before = points(pool, customer).await;
        let version: i32 = sqlx::query_scalar("SELECT version FROM crm_lab.loyalty_accounts WHERE customer_id = $1")
            .bind(customer)
            .fetch_one(pool)
            .await
            .expect("version");
        let gate = Gate::close(db).await;
        let mut pids = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let mut conn = connect(db).await;
            pids.push(pid(&mut conn).await);
            let key = gate.key;
            tasks.push(tokio::spawn(async move {
                let mut seen = version;
                let mut conflicts = 0;
                loop {
                    let new: Option<i32> = sqlx::query_scalar("SELECT crm_lab.add_points_optimistic($1, 10, $2, $3)")
                        .bind(customer)
                        .bind(seen)
                        .bind(if conflicts == 0 { Some(key) } else { None })
                        .fetch_one(&mut conn)
                        .await
                        .expect("optimistic update");
                    if new.is_some() {
                        return conflicts;
                    }
                    conflicts += 1;
                    seen = sqlx::query_scalar("SELECT version FROM crm_lab.loyalty_accounts WHERE customer_id = $1")
                        .bind(customer)
                        .fetch_one(&mut conn)
                        .await
                        .expect("re-read the version");
                }
            }));
        }
        gate.open_when_parked(pool, &pids).await;
        let mut conflicts = Vec::new();
        for t in tasks {
            conflicts.push(t.await.expect("task"));
        }
        conflicts.sort();
        assert_eq!(
            conflicts,
            [0, 1],
            "round {round}: one write won, the other retried once"
        );
        assert_eq!(points(pool, customer).await, before + 20, "round {round}");
    }
}

#[tokio::test]
async fn should_give_an_incorrect_summary_when_broken_and_never_in_one_snapshot() {
    let stores = lab().await;
    let db = &stores.crm;
    let pool = db.pool();
    // A customer of the first segment the report reads, and one of the last.
    let (first, last): (Uuid, Uuid) = sqlx::query_as(
        "SELECT (SELECT customer_id FROM crm_lab.loyalty_accounts ORDER BY segment, customer_id LIMIT 1),
                (SELECT customer_id FROM crm_lab.loyalty_accounts ORDER BY segment DESC, customer_id LIMIT 1)",
    )
    .fetch_one(pool)
    .await
    .expect("two customers");
    let segments: i64 = sqlx::query_scalar("SELECT count(DISTINCT segment) FROM crm_lab.loyalty_accounts")
        .fetch_one(pool)
        .await
        .expect("segments");
    assert!(segments >= 2, "the report reads more than one segment");
    let truth = total(pool).await;
    const ROUNDS: usize = 12;

    for (function, isolation) in [
        ("points_total_broken", "READ COMMITTED"),
        ("points_total_fixed", "REPEATABLE READ"),
    ] {
        for round in 0..ROUNDS {
            let gate = Gate::close(db).await;
            let mut conn = connect(db).await;
            let reader = pid(&mut conn).await;
            let sql = format!("SELECT crm_lab.{function}($1)");
            let start = format!("START TRANSACTION ISOLATION LEVEL {isolation} READ ONLY");
            let key = gate.key;
            let report = tokio::spawn(async move {
                // query, not raw_sql: raw_sql's future is not Send across tokio::spawn.
                sqlx::query(&start).execute(&mut conn).await?;
                let sum: i64 = sqlx::query_scalar(&sql).bind(key).fetch_one(&mut conn).await?;
                sqlx::query("COMMIT").execute(&mut conn).await?;
                Ok::<_, sqlx::Error>(sum)
            });
            // The report has read the first segment; a transfer to the last one commits now.
            wait_until_waiting(pool, &[reader]).await;
            let mut writer = connect(db).await;
            sqlx::query("SELECT crm_lab.transfer_points_fixed($1, $2, 10)")
                .bind(first)
                .bind(last)
                .execute(&mut writer)
                .await
                .expect("the transfer commits");
            gate.open_when_parked(pool, &[]).await;
            let reported = report.await.expect("task").expect("the report");
            assert_eq!(total(pool).await, truth, "transfers keep the total");
            if function == "points_total_broken" {
                assert_eq!(reported, truth + 10, "round {round}: the moved points counted twice");
            } else {
                assert_eq!(reported, truth, "round {round}: one snapshot, the true total");
            }
        }
    }

    // The fixed report refuses to run where it would be wrong.
    let err = sqlx::query("SELECT crm_lab.points_total_fixed()")
        .execute(pool)
        .await
        .expect_err("READ COMMITTED is refused");
    assert!(err.to_string().contains("REPEATABLE READ"), "{err}");
}

#[tokio::test]
async fn should_never_show_a_dirty_read_in_postgresql_even_at_read_uncommitted() {
    // PostgreSQL accepts READ UNCOMMITTED and runs it as READ COMMITTED: a snapshot holds only
    // committed rows. The dirty read itself is shown by the T-SQL demo
    // (sql/crm/mssql/scripts/05_concurrency.sql), which SQL Server does allow.
    let stores = lab().await;
    let db = &stores.crm;
    let customer = accounts(db.pool(), 1).await[0];
    let mut writer = connect(db).await;
    let mut reader = connect(db).await;
    for round in 0..10 {
        let committed = points(db.pool(), customer).await;
        let mut tx = writer.begin().await.expect("begin");
        sqlx::query("UPDATE crm_lab.loyalty_accounts SET points = points + 5000 WHERE customer_id = $1")
            .bind(customer)
            .execute(&mut *tx)
            .await
            .expect("uncommitted write");
        sqlx::raw_sql("START TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
            .execute(&mut reader)
            .await
            .expect("read uncommitted");
        let level: String = sqlx::query_scalar("SELECT current_setting('transaction_isolation')")
            .fetch_one(&mut reader)
            .await
            .expect("level");
        assert_eq!(level, "read uncommitted", "the level is accepted as asked");
        let seen: i64 = sqlx::query_scalar("SELECT crm_lab.read_points($1)")
            .bind(customer)
            .fetch_one(&mut reader)
            .await
            .expect("read");
        sqlx::raw_sql("COMMIT").execute(&mut reader).await.expect("commit");
        tx.rollback().await.expect("rollback");
        assert_eq!(seen, committed, "round {round}: no dirty read");
    }
}

// --- the two-computer deadlock ------------------------------------------------------------------

/// Two network namespaces, each joined to the host by a veth pair: two "computers" with their own
/// address. Deleted on drop (deleting a namespace deletes the veth end in it and its peer).
struct Computers {
    names: [String; 2],
    /// The host ends of the veth links.
    links: [String; 2],
    /// (host side, namespace side) of each link.
    addrs: [(Ipv4Addr, Ipv4Addr); 2],
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"))
}

impl Computers {
    /// `None` unless we are root and network namespaces work here.
    fn create() -> Option<Computers> {
        let uid = run(Command::new("id").arg("-u"));
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return None;
        }
        let tag: u32 = rand::rng().random_range(0..0xff_ffff);
        let octet = |shift: u32| ((tag >> shift) & 0xff) as u8;
        let (b, c) = (64 + octet(0) % 128, octet(8) & 0xfe);
        let computers = Computers {
            names: [format!("ps_a{tag:06x}"), format!("ps_b{tag:06x}")],
            links: [format!("vh0{tag:06x}"), format!("vh1{tag:06x}")],
            addrs: [
                (Ipv4Addr::new(10, b, c, 1), Ipv4Addr::new(10, b, c, 2)),
                (Ipv4Addr::new(10, b, c + 1, 1), Ipv4Addr::new(10, b, c + 1, 2)),
            ],
        };
        for (i, name) in computers.names.iter().enumerate() {
            let (host, guest) = computers.addrs[i];
            let (host_if, guest_if) = (computers.links[i].clone(), format!("vg{i}{tag:06x}"));
            let steps: Vec<Vec<String>> = vec![
                vec!["netns".into(), "add".into(), name.clone()],
                vec![
                    "link".into(),
                    "add".into(),
                    host_if.clone(),
                    "type".into(),
                    "veth".into(),
                    "peer".into(),
                    "name".into(),
                    guest_if.clone(),
                ],
                vec![
                    "link".into(),
                    "set".into(),
                    guest_if.clone(),
                    "netns".into(),
                    name.clone(),
                ],
                vec![
                    "addr".into(),
                    "add".into(),
                    format!("{host}/30"),
                    "dev".into(),
                    host_if.clone(),
                ],
                vec!["link".into(), "set".into(), host_if.clone(), "up".into()],
                vec![
                    "-n".into(),
                    name.clone(),
                    "addr".into(),
                    "add".into(),
                    format!("{guest}/30"),
                    "dev".into(),
                    guest_if.clone(),
                ],
                vec![
                    "-n".into(),
                    name.clone(),
                    "link".into(),
                    "set".into(),
                    guest_if.clone(),
                    "up".into(),
                ],
                vec![
                    "-n".into(),
                    name.clone(),
                    "link".into(),
                    "set".into(),
                    "lo".into(),
                    "up".into(),
                ],
            ];
            for step in steps {
                let out = run(Command::new("ip").args(&step));
                if !out.status.success() {
                    eprintln!(
                        "network namespaces unavailable (ip {}: {}); falling back to loopback",
                        step.join(" "),
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                    return None; // Drop removes what was made.
                }
            }
        }
        Some(computers)
    }
}

impl Drop for Computers {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).output();
        }
        // Gone with their peers already, unless creation stopped before a peer moved.
        for link in &self.links {
            let _ = Command::new("ip").args(["link", "del", link]).output();
        }
    }
}

/// Runs one psql client per computer (or both on loopback), each calling `function` to move 10
/// points between the two accounts in opposite directions; parks both at the gate, then opens it.
/// Returns both clients' outputs.
async fn two_clients(pg: &PrivatePg, computers: Option<&Computers>, function: &str, ids: [Uuid; 2]) -> [Output; 2] {
    let admin = pg.pool("crm_lab").await;
    let gate_db_url = pg.url("crm_lab");
    let mut gate_conn = PgConnection::connect(gate_db_url.expose().as_str())
        .await
        .expect("gate connection");
    let key: i64 = rand::rng().random();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut gate_conn)
        .await
        .expect("close the gate");
    let mut children = Vec::new();
    for (i, (from, to)) in [(ids[0], ids[1]), (ids[1], ids[0])].into_iter().enumerate() {
        let host = computers.map_or(Ipv4Addr::LOCALHOST, |c| c.addrs[i].0);
        let mut cmd = match computers {
            Some(c) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", &c.names[i], "psql"]);
                cmd
            }
            None => Command::new("psql"),
        };
        cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(host.to_string())
            .args(["-p", &pg.port().to_string(), "-U", "postgres", "-d", "crm_lab"])
            .args([
                "-v",
                &format!("from={from}"),
                "-v",
                &format!("to={to}"),
                "-v",
                &format!("gate={key}"),
            ])
            .env("PGAPPNAME", format!("client_{i}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start psql");
        // psql interpolates (and quotes) its variables only in what it reads, not in -c.
        let mut input = child.stdin.take().expect("psql input");
        writeln!(
            input,
            "SELECT crm_lab.{function}(:'from'::uuid, :'to'::uuid, 10, :'gate'::bigint);"
        )
        .expect("write to psql");
        drop(input);
        children.push(child);
    }
    // Both clients parked: on the gate, after their first update.
    let started = Instant::now();
    loop {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT application_name, host(client_addr) FROM pg_stat_activity
             WHERE application_name IN ('client_0', 'client_1') AND wait_event_type = 'Lock'
             ORDER BY application_name",
        )
        .fetch_all(&admin)
        .await
        .expect("pg_stat_activity");
        if rows.len() == 2 {
            if let Some(c) = computers {
                let seen: Vec<Option<String>> = rows.into_iter().map(|r| r.1).collect();
                let expected: Vec<Option<String>> = c.addrs.iter().map(|a| Some(a.1.to_string())).collect();
                assert_eq!(seen, expected, "each client connects from its own computer's address");
            }
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the clients did not park: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut gate_conn)
        .await
        .expect("open the gate");
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("psql finishes"))
        .collect();
    admin.close().await;
    outputs.try_into().expect("two clients")
}

#[tokio::test]
async fn should_deadlock_two_clients_on_different_computers_and_not_when_fixed() {
    // A private server: it must listen on the namespaces' links, which the shared one must not be
    // reconfigured for. Without root (or without network namespaces) both clients run on
    // loopback instead: still two processes and two connections, not two addresses.
    let computers = Computers::create();
    let mut listen = vec!["127.0.0.1".to_owned()];
    if let Some(c) = &computers {
        listen.extend(c.addrs.iter().map(|a| a.0.to_string()));
    }
    let listen = listen.join(",");
    let pg = PrivatePg::start(&[("listen_addresses", listen.as_str())]);
    if let Some(c) = &computers {
        for (_, guest) in &c.addrs {
            pg.trust_host(&format!("{guest}/32"));
        }
    } else {
        eprintln!("two-computer deadlock: not root or no network namespaces, both clients on loopback");
    }
    let url = pg.url("crm_lab");
    promptsales_platform::migrate::run(Store::Crm, &url)
        .await
        .expect("the crm migrations");
    let pool = pg.pool("crm_lab").await;
    let org = Uuid::new_v4();
    for name in ["Ana", "Luis"] {
        sqlx::query(
            "INSERT INTO crm.customers (id, organization_id, first_name, last_name, country_code)
             VALUES ($1, $2, $3, 'Lab', 'MX')",
        )
        .bind(Uuid::new_v4())
        .bind(org)
        .bind(name)
        .execute(&pool)
        .await
        .expect("customer");
    }
    sqlx::raw_sql(SCRIPT).execute(&pool).await.expect("05_concurrency.sql");
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT customer_id FROM crm_lab.loyalty_accounts ORDER BY customer_id")
        .fetch_all(&pool)
        .await
        .expect("accounts");
    let ids = [ids[0], ids[1]];

    let out = two_clients(&pg, computers.as_ref(), "transfer_points_broken", ids).await;
    let failed: Vec<String> = out
        .iter()
        .filter(|o| !o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    assert_eq!(failed.len(), 1, "one victim: {out:?}");
    assert!(failed[0].contains("deadlock detected"), "{}", failed[0]);
    deadlocks_reach(&pool, 1).await;

    for function in ["transfer_points_fixed", "transfer_points_retrying"] {
        let out = two_clients(&pg, computers.as_ref(), function, ids).await;
        assert!(out.iter().all(|o| o.status.success()), "{function}: {out:?}");
        if function == "transfer_points_retrying" {
            let notices: String = out
                .iter()
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .collect();
            assert!(notices.contains("deadlock victim on attempt 1, retrying"), "{notices}");
        }
    }
    // Ordered locking added none; the retrying pair still deadlocked once, and recovered.
    deadlocks_reach(&pool, 2).await;
    let total: i64 = sqlx::query_scalar("SELECT sum(points)::bigint FROM crm_lab.loyalty_accounts")
        .fetch_one(&pool)
        .await
        .expect("total");
    assert_eq!(total, 2000, "every transfer applied whole or not at all");
    pool.close().await;
}
