//! The monitoring twins (`sql/ads/postgres/queries/monitoring_*.sql`) on a PostgreSQL server of
//! their own: pg_stat_statements and auto_explain must be preloaded, which the shared test server
//! is not (and must not be reconfigured for). The test starts a private server, migrates the ads
//! schema into it, runs a known load and checks that the scripts show it.

use promptsales_platform::Store;
use promptsales_testkit::PrivatePg;
use sqlx::{Row, postgres::PgPoolOptions};
use uuid::Uuid;

const TOP_QUERIES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../sql/ads/postgres/queries/monitoring_top_queries.sql"
));
const EXPLAIN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../sql/ads/postgres/queries/monitoring_explain.sql"
));

#[tokio::test]
async fn should_rank_the_queries_of_a_load_by_total_and_mean_time_and_log_their_plans() {
    let pg = PrivatePg::start(&[
        ("shared_preload_libraries", "pg_stat_statements,auto_explain"),
        ("pg_stat_statements.track", "top"),
    ]);
    let url = pg.url("ads_monitoring");
    promptsales_platform::migrate::run(Store::Ads, &url)
        .await
        .expect("the ads migrations");
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(url.expose().as_str())
        .await
        .expect("connect");
    sqlx::raw_sql("CREATE EXTENSION pg_stat_statements; SELECT pg_stat_statements_reset();")
        .execute(&pool)
        .await
        .expect("pg_stat_statements");

    // The load: a brand with one campaign, the report 30 times and a lookup 50 times.
    let (brand, org, campaign) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    sqlx::query("INSERT INTO ads.brands (id, organization_id, name) VALUES ($1, $2, 'Monitored brand')")
        .bind(brand)
        .bind(org)
        .execute(&pool)
        .await
        .expect("brand");
    sqlx::query(
        "INSERT INTO ads.campaigns (id, organization_id, brand_id, name, objective, status, budget, currency,
                                    starts_at, ends_at, version)
         VALUES ($1, $2, $3, 'Monitored campaign', 'sales', 'active', 1000, 'USD', now(), now() + interval '30 days', 1)",
    )
    .bind(campaign)
    .bind(org)
    .bind(brand)
    .execute(&pool)
    .await
    .expect("campaign");
    for _ in 0..30 {
        sqlx::query("SELECT * FROM ads.pradsfn_negative_sentiment_report($1, NULL, $2, $3)")
            .bind(brand)
            .bind(chrono::NaiveDate::from_ymd_opt(2025, 10, 1))
            .bind(chrono::NaiveDate::from_ymd_opt(2025, 10, 28))
            .fetch_all(&pool)
            .await
            .expect("report");
    }
    for i in 0..50 {
        sqlx::query("SELECT count(*) FROM ads.campaigns WHERE name LIKE $1")
            .bind(format!("Monitored%{i}"))
            .fetch_one(&pool)
            .await
            .expect("lookup");
    }

    let rows = sqlx::query(TOP_QUERIES).fetch_all(&pool).await.expect("top queries");
    let listed: Vec<(String, i64, i64, String)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("ranked_by"),
                r.get::<i64, _>("rank"),
                r.get::<i64, _>("calls"),
                r.get::<String, _>("query"),
            )
        })
        .collect();
    for ranked_by in ["total", "mean"] {
        let ranks: Vec<i64> = listed.iter().filter(|l| l.0 == ranked_by).map(|l| l.1).collect();
        assert!(!ranks.is_empty() && ranks.len() <= 10, "{ranked_by}: {listed:?}");
        assert_eq!(ranks, (1..=ranks.len() as i64).collect::<Vec<_>>(), "{ranked_by}");
    }
    let total = |needle: &str| {
        listed
            .iter()
            .find(|l| l.0 == "total" && l.3.contains(needle))
            .unwrap_or_else(|| panic!("{needle} is not among the top queries: {listed:?}"))
            .2
    };
    assert_eq!(total("pradsfn_negative_sentiment_report"), 30);
    assert_eq!(
        total("FROM ads.campaigns WHERE name LIKE $1"),
        50,
        "constants normalised to $1"
    );
    assert!(
        listed.iter().all(|l| !l.3.contains("pg_stat_statements")),
        "the script leaves itself out"
    );
    let totals: Vec<f64> = rows
        .iter()
        .filter(|r| r.get::<String, _>("ranked_by") == "total")
        .map(|r| r.get::<rust_decimal::Decimal, _>("total_ms").try_into().expect("f64"))
        .collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "{totals:?}");

    // EXPLAIN (ANALYZE, BUFFERS) returns the plan; auto_explain writes the plain call's plan to
    // the server log.
    let results = sqlx::raw_sql(EXPLAIN).fetch_all(&pool).await.expect("explain script");
    let plan: Vec<String> = results
        .iter()
        .filter_map(|r| r.try_get::<String, _>("QUERY PLAN").ok())
        .collect();
    assert!(plan.iter().any(|l| l.contains("actual time=")), "{plan:?}");
    assert!(plan.iter().any(|l| l.contains("Buffers:")), "{plan:?}");
    assert!(
        plan.iter().any(|l| l.contains("sentiment_samples")),
        "the function is inlined, its tables show: {plan:?}"
    );
    let log = pg.log();
    assert!(
        log.contains("duration:") && log.contains("Query Text:") && log.contains("report_rows"),
        "auto_explain logged the report's plan:\n{log}"
    );
    pool.close().await;
}
