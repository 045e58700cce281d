//! The PromptAds link and the analytics of `sql/crm/postgres/scripts/` on the seeded stores
//! (small profile, private clones): 01 run with psql by a superuser as a DBA would, then the
//! report read by the application role, which is not a superuser, through its own mapping
//! (`password_required 'false'`); 03 run with psql by the application role. The answers are
//! checked against what the test computes from the two stores itself, and the plan costs the
//! script recorded must show the materialized views cheaper.

use std::{collections::BTreeMap, process::Command};

use promptsales_testkit::{SeededStores, TestDb};
use rust_decimal::Decimal;
use sqlx::Row;
use uuid::Uuid;

fn script(name: &str) -> String {
    format!("{}/../../sql/crm/postgres/scripts/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `psql -X -v ON_ERROR_STOP=1 -f <script>` with variables; must succeed. Returns stdout.
fn psql(url: &str, name: &str, vars: &[(&str, &str)]) -> String {
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
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed:\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The URL of `db` as the server's superuser (`PROMPTSALES_TEST_PG_SUPERUSER`, default
/// `postgres`), which the shared test server accepts with trust authentication.
fn superuser_url(db: &TestDb) -> String {
    let mut url = db.url().expose().clone();
    let user = std::env::var("PROMPTSALES_TEST_PG_SUPERUSER").unwrap_or_else(|_| "postgres".to_owned());
    url.set_username(&user).expect("a URL with a user");
    url.set_password(None).expect("a URL with a password");
    url.to_string()
}

/// Links the crm clone to the ads clone (01_linked_promptads.sql) as the superuser.
fn link(stores: &SeededStores) -> String {
    let ads = stores.ads.url().expose();
    let app_role = stores.crm.url().expose().username().to_owned();
    psql(
        &superuser_url(&stores.crm),
        "01_linked_promptads.sql",
        &[
            ("ads_host", ads.host_str().expect("host")),
            ("ads_port", &ads.port().unwrap_or(5432).to_string()),
            ("ads_dbname", stores.ads.name()),
            ("ads_user", &app_role),
            ("app_role", &app_role),
        ],
    )
}

#[tokio::test]
async fn should_join_ads_results_with_crm_sales_through_postgres_fdw_as_a_non_superuser() {
    let stores = SeededStores::small().await;
    let out = link(&stores);
    assert!(
        out.contains("Foreign Scan"),
        "the plan reads PromptAds remotely:\n{out}"
    );
    assert!(out.contains("Remote SQL"), "{out}");

    let crm = stores.crm.pool();
    let superuser: bool = sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        .fetch_one(crm)
        .await
        .expect("role");
    assert!(
        !superuser,
        "the report is read by a non-superuser through its own mapping"
    );

    let rows = sqlx::query(
        "SELECT campaign_id, campaign_name, views, spend_usd, crm_sales, crm_revenue_usd
         FROM crm.campaign_results_vs_sales",
    )
    .fetch_all(crm)
    .await
    .expect("the report through the link");
    let got: BTreeMap<Uuid, (String, Decimal, Decimal, i64, Decimal)> = rows
        .iter()
        .map(|r| {
            (
                r.get("campaign_id"),
                (
                    r.get("campaign_name"),
                    r.get("views"),
                    r.get("spend_usd"),
                    r.get("crm_sales"),
                    r.get("crm_revenue_usd"),
                ),
            )
        })
        .collect();

    // The same from each store on its own.
    let campaigns: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, name FROM ads.campaigns WHERE deleted_at IS NULL")
        .fetch_all(stores.ads.pool())
        .await
        .expect("campaigns");
    let results: Vec<(Uuid, i64, Decimal)> =
        sqlx::query_as("SELECT campaign_id, views, cost FROM ads.ad_results WHERE deleted_at IS NULL")
            .fetch_all(stores.ads.pool())
            .await
            .expect("results");
    let sales: Vec<(Uuid, Decimal)> = sqlx::query_as(
        "SELECT campaign_id, amount_usd FROM crm.sales WHERE deleted_at IS NULL AND campaign_id IS NOT NULL",
    )
    .fetch_all(crm)
    .await
    .expect("sales");
    let mut expected: BTreeMap<Uuid, (String, Decimal, Decimal, i64, Decimal)> = campaigns
        .into_iter()
        .map(|(id, name)| (id, (name, Decimal::ZERO, Decimal::ZERO, 0, Decimal::ZERO)))
        .collect();
    for (campaign, views, cost) in results {
        if let Some(e) = expected.get_mut(&campaign) {
            e.1 += Decimal::from(views);
            e.2 += cost;
        }
    }
    for (campaign, amount) in sales {
        if let Some(e) = expected.get_mut(&campaign) {
            e.3 += 1;
            e.4 += amount;
        }
    }
    assert!(expected.len() > 10, "the seed has campaigns");
    assert!(expected.values().any(|e| e.3 > 0), "and CRM sales attributed to them");
    assert_eq!(got, expected);
}

#[tokio::test]
async fn should_rank_correlations_and_answer_the_same_from_materialized_views_at_a_lower_cost() {
    let stores = SeededStores::small().await;
    link(&stores);
    let out = psql(stores.crm.url().expose().as_str(), "03_campaign_analytics.sql", &[]);
    assert!(out.contains("times_cheaper"), "{out}");
    let crm = stores.crm.pool();

    // The views hold exactly what the base tables say.
    for (view, live) in [
        ("crm.mv_campaign_cells", "crm.campaign_cells_live"),
        ("crm.mv_sales_distance", "crm.sales_distance_live"),
    ] {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {view}"))
            .fetch_one(crm)
            .await
            .expect("count");
        assert!(rows > 20, "{view} has rows");
        let differ: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM ((TABLE {view} EXCEPT ALL TABLE {live}) UNION ALL (TABLE {live} EXCEPT ALL TABLE {view})) d"
        ))
        .fetch_one(crm)
        .await
        .expect("compare");
        assert_eq!(differ, 0, "{view} = {live}");
    }
    for question in [
        "crm.behaviour_purchase_correlations",
        "crm.revenue_by_period",
        "crm.revenue_by_distance_band",
    ] {
        let differ: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM ((SELECT * FROM {question}(true) EXCEPT ALL SELECT * FROM {question}(false))
             UNION ALL (SELECT * FROM {question}(false) EXCEPT ALL SELECT * FROM {question}(true))) d"
        ))
        .fetch_one(crm)
        .await
        .expect("compare");
        assert_eq!(differ, 0, "{question}: the same answer from the views");
    }

    // Pearson's r per channel for spend against purchases, computed here from the cells.
    let cells: Vec<(String, Decimal, i64)> = sqlx::query_as(
        "SELECT ch.code, c.spend_usd, c.purchases FROM crm.mv_campaign_cells c JOIN promptads.channels ch ON ch.id = c.channel_id",
    )
    .fetch_all(crm)
    .await
    .expect("cells");
    let mut by_channel: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (channel, spend, purchases) in cells {
        let x: f64 = spend.try_into().expect("f64");
        by_channel.entry(channel).or_default().push((x, purchases as f64));
    }
    let correlations: Vec<(String, String, i64, Option<Decimal>, i64)> = sqlx::query_as(
        "SELECT scope_code, metric, cells, r, rank_in_scope FROM crm.behaviour_purchase_correlations(true)
         WHERE scope = 'channel'",
    )
    .fetch_all(crm)
    .await
    .expect("correlations");
    let mut checked = 0;
    for (channel, points) in &by_channel {
        if points.len() < 3 {
            continue;
        }
        let n = points.len() as f64;
        let (sx, sy) = points.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        let (sxy, sxx, syy) = points.iter().fold((0.0, 0.0, 0.0), |a, p| {
            (a.0 + p.0 * p.1, a.1 + p.0 * p.0, a.2 + p.1 * p.1)
        });
        let denominator = ((n * sxx - sx * sx) * (n * syy - sy * sy)).sqrt();
        let row = correlations
            .iter()
            .find(|c| &c.0 == channel && c.1 == "spend")
            .unwrap_or_else(|| panic!("spend correlation of {channel}"));
        assert_eq!(row.2, points.len() as i64);
        if denominator > 0.0 {
            let r = (n * sxy - sx * sy) / denominator;
            let got: f64 = row.3.expect("r").try_into().expect("f64");
            assert!((got - r).abs() < 1e-3, "{channel}: {got} vs {r}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "correlations checked for several channels");
    // Ranks within a channel start at 1 and follow |r|.
    for channel in by_channel.keys() {
        let mut ranked: Vec<(i64, f64)> = correlations
            .iter()
            .filter(|c| &c.0 == channel)
            .filter_map(|c| c.3.map(|r| (c.4, f64::try_from(r.abs()).expect("f64"))))
            .collect();
        ranked.sort_by_key(|a| a.0);
        assert!(ranked.first().is_none_or(|f| f.0 == 1), "{channel}: {ranked:?}");
        assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "{channel}: {ranked:?}");
    }

    // The recorded estimated costs: every question is cheaper from the views.
    let costs: Vec<(String, Decimal, Decimal)> = sqlx::query_as(
        "SELECT question, cost_base_tables, cost_materialized FROM crm.analytics_plan_costs ORDER BY question",
    )
    .fetch_all(crm)
    .await
    .expect("costs");
    assert_eq!(costs.len(), 3);
    for (question, before, after) in &costs {
        eprintln!("estimated cost, {question}: base tables {before}, materialized views {after}");
        assert!(after < before, "{question}: {after} is not below {before}");
    }

    // A new sale reaches the view with a concurrent refresh (readers are not blocked by it).
    let moved: u64 = sqlx::query(
        "INSERT INTO crm.sales (id, organization_id, customer_id, campaign_id, channel_id, market_id, product_id, ad_id,
                                quantity, amount_usd, original_amount, original_currency, fx_rate_to_usd, sold_at)
         SELECT $1, organization_id, customer_id, campaign_id, channel_id, market_id, product_id, ad_id,
                quantity, amount_usd, original_amount, original_currency, fx_rate_to_usd, sold_at
         FROM crm.sales s
         WHERE deleted_at IS NULL AND EXISTS (
             SELECT 1 FROM crm.mv_campaign_cells c
             WHERE c.campaign_id = s.campaign_id AND c.channel_id = s.channel_id AND c.market_id = s.market_id
               AND c.month = date_trunc('month', s.sold_at AT TIME ZONE 'UTC')::date)
         ORDER BY id LIMIT 1",
    )
    .bind(Uuid::new_v4())
    .execute(crm)
    .await
    .expect("a new sale")
    .rows_affected();
    assert_eq!(moved, 1);
    let total = || async {
        sqlx::query_scalar::<_, i64>("SELECT sum(purchases)::bigint FROM crm.mv_campaign_cells")
            .fetch_one(crm)
            .await
            .expect("total")
    };
    let before = total().await;
    sqlx::query("REFRESH MATERIALIZED VIEW CONCURRENTLY crm.mv_campaign_cells")
        .execute(crm)
        .await
        .expect("concurrent refresh");
    assert_eq!(total().await, before + 1);
}
