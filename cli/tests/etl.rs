//! The ETL workflow (etl/promptsales-etl.json) imported into and executed by the pinned n8n CLI,
//! through `promptsales etl run-once`, against the small seed served by the real subgraphs and
//! gateway (`TestStack`, bearer tokens from its issuer's client credentials endpoint, the response
//! cache on the machine's Redis under a per-test prefix). After each run the summaries, daily
//! metrics and breakdowns must equal a recomputation by SQL straight over the source stores.
//!
//! n8n is installed by scripts/dev-services.sh into .tools/n8n; without it these tests fail and
//! say so (they are never skipped silently).

use std::{
    collections::BTreeMap,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use promptsales_e2e::TestStack;
use promptsales_platform::Store;
use rust_decimal::Decimal;
use sqlx::{PgPool, Row};
use uuid::Uuid;

const REDIS: &str = "redis://127.0.0.1:6379";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Etl {
    stack: TestStack,
    folder: tempfile::TempDir,
    lock_key: String,
    prefix: String,
}

/// One run's record in `sales.etl_runs`.
#[derive(Debug)]
struct Run {
    status: String,
    rows_read: i64,
    rows_written: i64,
    by_source: serde_json::Value,
}

impl Run {
    fn read(&self, source: &str) -> i64 {
        self.by_source[source]["read"].as_i64().unwrap_or(-1)
    }
}

impl Etl {
    async fn start() -> Etl {
        let n8n = repo().join(".tools/n8n/node_modules/.bin/n8n");
        assert!(
            n8n.is_file(),
            "n8n is not installed at {}: run scripts/dev-services.sh",
            n8n.display()
        );
        let prefix = format!("ps:test-{}:", Uuid::new_v4());
        let stack = TestStack::builder().with_auth().redis(REDIS, &prefix).start().await;
        Etl {
            lock_key: format!("{prefix}lock:etl"),
            prefix,
            stack,
            folder: tempfile::tempdir().expect("a temporary n8n folder"),
        }
    }

    fn sales(&self) -> &PgPool {
        self.stack.stores.db(Store::Sales).pool()
    }

    fn command(&self) -> Command {
        let (token_url, client_id, secret) = self.stack.client_credentials();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsales"));
        cmd.current_dir(repo())
            .args(["etl", "run-once"])
            .env("N8N_USER_FOLDER", self.folder.path())
            .env("PROMPTSALES_GATEWAY_URL", self.stack.gateway_url())
            .env("PROMPTSALES_ETL_TOKEN_URL", token_url)
            .env("PROMPTSALES_ETL_CLIENT_ID", client_id)
            .env("PROMPTSALES_ETL_CLIENT_SECRET", secret)
            .env("PROMPTSALES_REDIS_URL", REDIS)
            .env("PROMPTSALES_ETL_LOCK_KEY", &self.lock_key)
            // The test's changes are committed before each run starts: nothing to wait for.
            .env("PROMPTSALES_ETL_SAFETY_LAG_SECS", "0")
            // Small pages, so the small seed is read in many pages.
            .env("PROMPTSALES_ETL_PAGE_SIZE", "500")
            .env(
                "PROMPTSALES_SALES_URL",
                self.stack.stores.db(Store::Sales).url().expose().as_str(),
            );
        cmd
    }

    /// Runs the workflow once and returns the run it recorded.
    async fn run_once(&self) -> Run {
        let output = self.command().output().expect("promptsales runs");
        assert!(
            output.status.success(),
            "etl run-once failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        self.last_run().await
    }

    async fn last_run(&self) -> Run {
        let row = sqlx::query(
            "SELECT status, rows_read, rows_written, rows_by_source FROM sales.etl_runs ORDER BY started_at DESC LIMIT 1",
        )
        .fetch_one(self.sales())
        .await
        .expect("a run was recorded");
        Run {
            status: row.get("status"),
            rows_read: row.get("rows_read"),
            rows_written: row.get("rows_written"),
            by_source: row.get("rows_by_source"),
        }
    }

    /// The summaries equal a direct recomputation over the sources, campaign by campaign and day by day.
    async fn assert_converged(&self) {
        let (want, want_days) = recompute(&self.stack).await;
        let got = loaded(self.sales()).await;
        assert_eq!(got.len(), want.len(), "one summary per campaign");
        for (id, w) in &want {
            assert_eq!(got.get(id), Some(w), "summary of campaign {id}");
        }
        let got_days = loaded_days(self.sales()).await;
        assert_eq!(got_days, want_days, "daily metrics");
    }
}

impl Drop for Etl {
    fn drop(&mut self) {
        if let Ok(client) = redis::Client::open(REDIS)
            && let Ok(mut conn) = client.get_connection()
        {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.prefix))
                .query(&mut conn)
                .unwrap_or_default();
            for key in keys {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(key).query(&mut conn);
            }
        }
    }
}

/// What a summary holds, as compared.
#[derive(Debug, PartialEq)]
struct Summary {
    status: String,
    deleted: bool,
    figures: [i64; 8],
    money: [Decimal; 2],
    channels: Vec<String>,
    markets: Vec<String>,
}

type Days = BTreeMap<(Uuid, chrono::NaiveDate), ([i64; 5], [Decimal; 2])>;

/// The summaries computed straight from the ads and crm stores.
async fn recompute(stack: &TestStack) -> (BTreeMap<Uuid, Summary>, Days) {
    let ads = stack.stores.db(Store::Ads).pool();
    let crm = stack.stores.db(Store::Crm).pool();
    let reached: BTreeMap<Uuid, i64> = sqlx::query_as::<_, (Uuid, i64)>(
        "SELECT campaign_id, count(*) FROM crm.campaign_customers WHERE deleted_at IS NULL AND reached GROUP BY 1",
    )
    .fetch_all(crm)
    .await
    .expect("crm")
    .into_iter()
    .collect();
    let rows = sqlx::query(
        "SELECT c.id, c.status, c.deleted_at IS NOT NULL AS deleted,
                coalesce(r.reach, 0)::int8 AS reach, coalesce(r.views, 0)::int8 AS views,
                coalesce(r.interactions, 0)::int8 AS interactions, coalesce(r.likes, 0)::int8 AS likes,
                coalesce(r.sales, 0)::int8 AS sales, coalesce(r.revenue, 0) AS revenue, coalesce(r.cost, 0) AS cost,
                coalesce(s.pos, 0)::int8 AS pos, coalesce(s.neg, 0)::int8 AS neg,
                coalesce((SELECT array_agg(DISTINCT ch.code ORDER BY ch.code) FROM ads.campaign_channels cc
                           JOIN ads.channels ch ON ch.id = cc.channel_id
                          WHERE cc.campaign_id = c.id AND cc.deleted_at IS NULL), '{}') AS channels,
                coalesce((SELECT array_agg(DISTINCT m.code ORDER BY m.code) FROM ads.campaign_markets cm
                           JOIN ads.markets m ON m.id = cm.market_id
                          WHERE cm.campaign_id = c.id AND cm.deleted_at IS NULL), '{}') AS markets
           FROM ads.campaigns c
           LEFT JOIN (SELECT campaign_id, sum(reach) reach, sum(views) views, sum(interactions) interactions,
                             sum(likes) likes, sum(sales) sales, sum(revenue) revenue, sum(cost) cost
                        FROM ads.ad_results WHERE deleted_at IS NULL GROUP BY 1) r ON r.campaign_id = c.id
           LEFT JOIN (SELECT campaign_id, sum(positive_count) pos, sum(negative_count) neg
                        FROM ads.sentiment_samples WHERE deleted_at IS NULL GROUP BY 1) s ON s.campaign_id = c.id",
    )
    .fetch_all(ads)
    .await
    .expect("ads");
    let summaries = rows
        .iter()
        .map(|r| {
            let id: Uuid = r.get("id");
            (
                id,
                Summary {
                    status: r.get("status"),
                    deleted: r.get("deleted"),
                    figures: [
                        r.get("reach"),
                        r.get("views"),
                        r.get("interactions"),
                        r.get("likes"),
                        r.get("sales"),
                        r.get("pos"),
                        r.get("neg"),
                        reached.get(&id).copied().unwrap_or(0),
                    ],
                    money: [r.get("revenue"), r.get("cost")],
                    channels: r.get("channels"),
                    markets: r.get("markets"),
                },
            )
        })
        .collect();
    let days = sqlx::query(
        "SELECT r.campaign_id, r.day, sum(r.reach)::int8 AS reach, sum(r.views)::int8 AS views,
                sum(r.interactions)::int8 AS interactions, sum(r.likes)::int8 AS likes, sum(r.sales)::int8 AS sales,
                sum(r.revenue) AS revenue, sum(r.cost) AS cost
           FROM ads.ad_results r JOIN ads.campaigns c ON c.id = r.campaign_id
          WHERE r.deleted_at IS NULL AND c.deleted_at IS NULL
          GROUP BY 1, 2",
    )
    .fetch_all(ads)
    .await
    .expect("ads days");
    (summaries, days_of(&days))
}

fn days_of(rows: &[sqlx::postgres::PgRow]) -> Days {
    rows.iter()
        .map(|r| {
            (
                (r.get("campaign_id"), r.get("day")),
                (
                    [
                        r.get("reach"),
                        r.get("views"),
                        r.get("interactions"),
                        r.get("likes"),
                        r.get("sales"),
                    ],
                    [r.get("revenue"), r.get("cost")],
                ),
            )
        })
        .collect()
}

async fn loaded(sales: &PgPool) -> BTreeMap<Uuid, Summary> {
    sqlx::query(
        "SELECT campaign_id, status, deleted_at IS NOT NULL AS deleted, reach, views, interactions, likes,
                sales_count, positive_reactions, negative_reactions, customers_reached, revenue, cost,
                channels, markets
           FROM sales.campaign_summaries",
    )
    .fetch_all(sales)
    .await
    .expect("summaries")
    .iter()
    .map(|r| {
        (
            r.get("campaign_id"),
            Summary {
                status: r.get("status"),
                deleted: r.get("deleted"),
                figures: [
                    r.get("reach"),
                    r.get("views"),
                    r.get("interactions"),
                    r.get("likes"),
                    r.get("sales_count"),
                    r.get("positive_reactions"),
                    r.get("negative_reactions"),
                    r.get("customers_reached"),
                ],
                money: [r.get("revenue"), r.get("cost")],
                channels: r.get("channels"),
                markets: r.get("markets"),
            },
        )
    })
    .collect()
}

async fn loaded_days(sales: &PgPool) -> Days {
    let rows = sqlx::query(
        "SELECT campaign_id, day, reach, views, interactions, likes, sales_count AS sales, revenue, cost
           FROM sales.campaign_daily_metrics",
    )
    .fetch_all(sales)
    .await
    .expect("daily metrics");
    days_of(&rows)
}

/// Changes 1 % of the ad results (and one campaign's status, and retracts one result); returns
/// how many ad results changed.
async fn change_one_percent(stack: &TestStack) -> i64 {
    let ads = stack.stores.db(Store::Ads).pool();
    let changed = sqlx::query(
        "UPDATE ads.ad_results r SET views = views + 7, reach = reach + 3
          WHERE (ad_id, channel_id, market_id, day) IN (
                SELECT ad_id, channel_id, market_id, day FROM ads.ad_results
                 WHERE deleted_at IS NULL ORDER BY md5(ad_id::text || day::text)
                 LIMIT (SELECT greatest(count(*) / 100, 1) FROM ads.ad_results))",
    )
    .execute(ads)
    .await
    .expect("update 1 %")
    .rows_affected() as i64;
    assert!(
        changed > 10,
        "the small seed has enough results to change 1 % of them ({changed})"
    );
    changed
}

#[tokio::test(flavor = "multi_thread")]
async fn should_load_the_summaries_then_only_what_changed() {
    let etl = Etl::start().await;

    let clock = Instant::now();
    let first = etl.run_once().await;
    eprintln!("first load: {first:?} in {:?}", clock.elapsed());
    assert_eq!(first.status, "succeeded");
    assert!(first.rows_read > 1000 && first.rows_written > 0, "{first:?}");
    etl.assert_converged().await;
    let summaries: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.campaign_summaries WHERE roi IS NOT NULL")
        .fetch_one(etl.sales())
        .await
        .expect("count");
    assert!(summaries > 0, "ROI is computed where there was a cost");

    // Nothing changed: nothing read, nothing written.
    let idle = etl.run_once().await;
    assert_eq!(
        (idle.status.as_str(), idle.rows_read, idle.rows_written),
        ("succeeded", 0, 0),
        "{idle:?}"
    );

    // 1 % of the results change: exactly those rows are read, and the summaries follow.
    let changed = change_one_percent(&etl.stack).await;
    let delta = etl.run_once().await;
    assert_eq!(delta.read("ads.ad_results"), changed, "{delta:?}");
    assert_eq!(delta.rows_read, changed, "only the changed rows are read: {delta:?}");
    assert!(delta.rows_written > 0);
    etl.assert_converged().await;

    // Deletions: a retracted result and a deleted campaign are applied.
    let ads = etl.stack.stores.db(Store::Ads).pool();
    sqlx::query(
        "UPDATE ads.ad_results SET deleted_at = now()
          WHERE (ad_id, channel_id, market_id, day) = (SELECT ad_id, channel_id, market_id, day FROM ads.ad_results
                                                        WHERE deleted_at IS NULL ORDER BY updated_at LIMIT 1)",
    )
    .execute(ads)
    .await
    .expect("retract a result");
    let gone: Uuid = sqlx::query_scalar(
        "UPDATE ads.campaigns SET deleted_at = now()
          WHERE id = (SELECT id FROM ads.campaigns WHERE deleted_at IS NULL ORDER BY id LIMIT 1) RETURNING id",
    )
    .fetch_one(ads)
    .await
    .expect("delete a campaign");
    let deletions = etl.run_once().await;
    assert_eq!(deletions.status, "succeeded");
    etl.assert_converged().await;
    let days: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.campaign_daily_metrics WHERE campaign_id = $1")
        .bind(gone)
        .fetch_one(etl.sales())
        .await
        .expect("count");
    assert_eq!(days, 0, "a deleted campaign keeps no daily metrics");
}

#[tokio::test(flavor = "multi_thread")]
async fn should_converge_when_a_run_is_killed_midway() {
    let etl = Etl::start().await;
    let mut child = etl
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("promptsales starts");
    // Kill the whole process group (the command and its n8n) once pages have landed.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let staged: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.etl_stage")
            .fetch_one(etl.sales())
            .await
            .expect("count");
        if staged > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no page was staged in 3 minutes");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the run ended before any page was staged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let killed = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status()
        .expect("kill");
    assert!(killed.success());
    let _ = child.wait();
    let dead = etl.last_run().await;
    assert_eq!(dead.status, "running", "killed before it applied anything: {dead:?}");
    let summaries: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.campaign_summaries")
        .fetch_one(etl.sales())
        .await
        .expect("count");
    assert_eq!(summaries, 0, "nothing of the killed run was applied");

    // The killed run's lock would expire by its TTL; the test does not wait for it.
    let client = redis::Client::open(REDIS).expect("redis");
    let mut conn = client.get_connection().expect("redis connection");
    let _: () = redis::cmd("DEL").arg(&etl.lock_key).query(&mut conn).expect("DEL");

    let rerun = etl.run_once().await;
    assert_eq!(rerun.status, "succeeded");
    etl.assert_converged().await;
    let closed: String = sqlx::query_scalar("SELECT error FROM sales.etl_runs WHERE status = 'failed'")
        .fetch_one(etl.sales())
        .await
        .expect("the killed run is closed as failed");
    assert!(closed.contains("did not finish"), "{closed}");
    let staged: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.etl_stage")
        .fetch_one(etl.sales())
        .await
        .expect("count");
    assert_eq!(staged, 0, "no page is left behind");
}
