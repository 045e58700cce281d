//! The PostgreSQL twins of the teaching queries in `sql/ads/postgres/queries/`, run as they are
//! on the seeded ads store (promptsales_testkit::SeededStores, small profile). Each test computes
//! the expected rows independently, in Rust over plain rows, and compares.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use promptsales_testkit::SeededStores;
use rust_decimal::{Decimal, RoundingStrategy};
use sqlx::{PgPool, Row, postgres::PgRow};
use uuid::Uuid;

macro_rules! script {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../sql/ads/postgres/queries/",
            $name
        ))
    };
}

async fn run(pool: &PgPool, sql: &str) -> Vec<PgRow> {
    sqlx::query(sql).fetch_all(pool).await.expect("the script runs")
}

fn col<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(row: &'r PgRow, name: &str) -> T {
    row.try_get(name).unwrap_or_else(|e| panic!("column {name}: {e}"))
}

#[tokio::test]
async fn should_list_the_targeted_markets_without_recent_sales_as_except_computes() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let rows = run(pool, script!("except_markets_without_sales.sql")).await;
    let got: BTreeSet<(Uuid, String)> = rows.iter().map(|r| (col(r, "campaign_id"), col(r, "market"))).collect();
    assert_eq!(got.len(), rows.len(), "EXCEPT returns each pair once");

    let targeted: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT cm.campaign_id, m.code FROM ads.campaign_markets cm
         JOIN ads.campaigns c ON c.id = cm.campaign_id JOIN ads.markets m ON m.id = cm.market_id
         WHERE cm.deleted_at IS NULL AND c.deleted_at IS NULL AND c.status = 'active'",
    )
    .fetch_all(pool)
    .await
    .expect("links");
    let results: Vec<(Uuid, String, i64, NaiveDate)> = sqlx::query_as(
        "SELECT r.campaign_id, m.code, r.sales, r.day FROM ads.ad_results r JOIN ads.markets m ON m.id = r.market_id
         WHERE r.deleted_at IS NULL",
    )
    .fetch_all(pool)
    .await
    .expect("results");
    let today = results.iter().map(|r| r.3).max().expect("results exist");
    let sold: BTreeSet<(Uuid, String)> = results
        .into_iter()
        .filter(|(_, _, sales, day)| *sales > 0 && *day > today - Duration::days(28))
        .map(|(c, m, _, _)| (c, m))
        .collect();
    let expected: BTreeSet<(Uuid, String)> = targeted.into_iter().filter(|p| !sold.contains(p)).collect();
    assert!(
        !expected.is_empty(),
        "some active campaign sold nothing lately in a market it targets"
    );
    assert_eq!(got, expected);
}

#[tokio::test]
async fn should_list_the_pairs_that_sold_in_both_peaks_as_intersect_computes() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let rows = run(pool, script!("intersect_peak_season_pairs.sql")).await;
    let got: Vec<(String, String)> = rows.iter().map(|r| (col(r, "channel"), col(r, "market"))).collect();

    let raw: Vec<(String, String, NaiveDate, i64)> = sqlx::query_as(
        "SELECT ch.code, m.code, r.day, r.sales FROM ads.ad_results r
         JOIN ads.channels ch ON ch.id = r.channel_id JOIN ads.markets m ON m.id = r.market_id
         WHERE r.deleted_at IS NULL",
    )
    .fetch_all(pool)
    .await
    .expect("results");
    let in_month = |month: u32| -> BTreeSet<(String, String)> {
        use chrono::Datelike;
        raw.iter()
            .filter(|(_, _, day, sales)| *sales > 0 && day.month() == month)
            .map(|(ch, m, _, _)| (ch.clone(), m.clone()))
            .collect()
    };
    let expected: BTreeSet<_> = in_month(12).intersection(&in_month(8)).cloned().collect();
    assert!(!expected.is_empty(), "some pairs sell in both peaks");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(got.len(), expected.len(), "each pair once");
}

#[tokio::test]
async fn should_upsert_the_staged_channel_plan_and_report_each_action() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    // The three most recently started active campaigns, and all their links (tombstones too).
    let active: Vec<(Uuid, DateTime<Utc>)> =
        sqlx::query_as("SELECT id, starts_at FROM ads.campaigns WHERE deleted_at IS NULL AND status = 'active'")
            .fetch_all(pool)
            .await
            .expect("campaigns");
    let mut active = active;
    active.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let picked: Vec<Uuid> = active.iter().take(3).map(|c| c.0).collect();
    assert_eq!(picked.len(), 3);
    let links: Vec<(Uuid, String, Decimal, bool)> = sqlx::query_as(
        "SELECT cc.campaign_id, ch.code, cc.budget_share, cc.deleted_at IS NULL
         FROM ads.campaign_channels cc JOIN ads.channels ch ON ch.id = cc.channel_id
         WHERE cc.campaign_id = ANY($1)",
    )
    .bind(&picked)
    .fetch_all(pool)
    .await
    .expect("links");
    let mut expected: BTreeMap<(Uuid, String), (String, Option<Decimal>, Decimal)> = BTreeMap::new();
    for (campaign, code, share, live) in &links {
        if *live {
            let after = (share * Decimal::new(9, 1)).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
            expected.insert((*campaign, code.clone()), ("UPDATE".into(), Some(*share), after));
        }
    }
    for campaign in &picked {
        let x = links.iter().find(|(c, code, _, _)| c == campaign && code == "x");
        match x {
            Some((_, _, _, true)) => {}
            Some((_, _, _, false)) => {
                expected.insert((*campaign, "x".into()), ("UPDATE".into(), None, Decimal::new(1, 1)));
            }
            None => {
                expected.insert((*campaign, "x".into()), ("INSERT".into(), None, Decimal::new(1, 1)));
            }
        }
    }
    assert!(expected.values().any(|e| e.0 == "INSERT"), "X is new to some campaign");

    let rows = run(pool, script!("merge_channel_plan.sql")).await;
    let got: BTreeMap<(Uuid, String), (String, Option<Decimal>, Decimal)> = rows
        .iter()
        .map(|r| {
            (
                (col(r, "campaign_id"), col(r, "channel")),
                (col(r, "action"), col(r, "share_before"), col(r, "share_after")),
            )
        })
        .collect();
    assert_eq!(got, expected);

    // The table now holds the plan, and every campaign's shares still add up to at most 1.
    let after: Vec<(Uuid, String, Decimal)> = sqlx::query_as(
        "SELECT cc.campaign_id, ch.code, cc.budget_share FROM ads.campaign_channels cc
         JOIN ads.channels ch ON ch.id = cc.channel_id WHERE cc.campaign_id = ANY($1) AND cc.deleted_at IS NULL",
    )
    .bind(&picked)
    .fetch_all(pool)
    .await
    .expect("links after");
    let after: BTreeMap<(Uuid, String), Decimal> = after.into_iter().map(|(c, code, s)| ((c, code), s)).collect();
    let planned: BTreeMap<(Uuid, String), Decimal> = expected.iter().map(|(k, v)| (k.clone(), v.2)).collect();
    assert_eq!(after, planned);
    for campaign in &picked {
        let sum: Decimal = after.iter().filter(|((c, _), _)| c == campaign).map(|(_, s)| *s).sum();
        assert!(sum <= Decimal::ONE, "{campaign}: {sum}");
    }
}

#[tokio::test]
async fn should_print_budget_lines_without_the_padding_ltrim_removes() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let rows = run(pool, script!("ltrim_budget_line.sql")).await;
    let expected: Vec<(Uuid, String, Decimal, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, currency::text, budget, starts_at FROM ads.campaigns WHERE deleted_at IS NULL AND status = 'active'",
    )
    .fetch_all(pool)
    .await
    .expect("campaigns");
    let mut expected = expected;
    expected.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
    assert!(!expected.is_empty());
    let got: Vec<(Uuid, String)> = rows
        .iter()
        .map(|r| (col(r, "campaign_id"), col(r, "budget_text")))
        .collect();
    let want: Vec<(Uuid, String)> = expected
        .iter()
        .map(|(id, currency, budget, _)| (*id, format!("{currency} {budget:.2}")))
        .collect();
    assert_eq!(got, want);
    for r in &rows {
        let padded: String = col(r, "budget_padded");
        assert!(padded.starts_with(' '), "to_char pads on the left: {padded:?}");
    }
}

#[tokio::test]
async fn should_count_calls_to_action_whatever_their_case() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let rows = run(pool, script!("lower_calls_to_action.sql")).await;
    let got: BTreeMap<String, i64> = rows.iter().map(|r| (col(r, "call_to_action"), col(r, "ads"))).collect();
    assert_eq!(got.len(), rows.len(), "one row per normalised call to action");
    let counts: Vec<i64> = rows.iter().map(|r| col(r, "ads")).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most used first");

    let raw: Vec<Option<String>> = sqlx::query_scalar("SELECT call_to_action FROM ads.ads WHERE deleted_at IS NULL")
        .fetch_all(pool)
        .await
        .expect("ads");
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for cta in raw.into_iter().flatten() {
        *expected.entry(cta.trim().to_lowercase()).or_default() += 1;
    }
    assert!(expected.len() > 1);
    assert_eq!(got, expected);
}

/// Sums of cost and views per (campaign, channel code), over live results of live campaigns.
async fn cost_and_views(pool: &PgPool) -> BTreeMap<(Uuid, String), (Decimal, i64)> {
    let raw: Vec<(Uuid, String, Decimal, i64)> = sqlx::query_as(
        "SELECT r.campaign_id, ch.code, r.cost, r.views FROM ads.ad_results r
         JOIN ads.campaigns c ON c.id = r.campaign_id AND c.deleted_at IS NULL
         JOIN ads.channels ch ON ch.id = r.channel_id WHERE r.deleted_at IS NULL",
    )
    .fetch_all(pool)
    .await
    .expect("results");
    let mut sums: BTreeMap<(Uuid, String), (Decimal, i64)> = BTreeMap::new();
    for (campaign, code, cost, views) in raw {
        let e = sums.entry((campaign, code)).or_default();
        e.0 += cost;
        e.1 += views;
    }
    sums
}

#[tokio::test]
async fn should_band_each_channels_cpm_down_to_whole_dollars() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let rows = run(pool, script!("floor_cpm_per_channel.sql")).await;
    let got: BTreeMap<(Uuid, String), Decimal> = rows
        .iter()
        .map(|r| ((col(r, "campaign_id"), col(r, "channel")), col(r, "cpm_floor")))
        .collect();
    let expected: BTreeMap<(Uuid, String), Decimal> = cost_and_views(pool)
        .await
        .into_iter()
        .filter(|(_, (_, views))| *views > 0)
        .map(|(k, (cost, views))| (k, (Decimal::from(1000) * cost / Decimal::from(views)).floor()))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
    for r in &rows {
        let (exact, floor): (Decimal, Decimal) = (col(r, "cpm_exact"), col(r, "cpm_floor"));
        assert!(floor <= exact && exact - floor < Decimal::ONE, "{exact} {floor}");
    }
}

#[tokio::test]
async fn should_count_the_budget_runway_in_whole_days_rounded_up() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let rows = run(pool, script!("ceiling_budget_runway.sql")).await;
    let got: BTreeMap<Uuid, Decimal> = rows
        .iter()
        .map(|r| (col(r, "campaign_id"), col(r, "runway_days")))
        .collect();

    let raw: Vec<(Uuid, NaiveDate, Decimal)> =
        sqlx::query_as("SELECT campaign_id, day, cost FROM ads.ad_results WHERE deleted_at IS NULL")
            .fetch_all(pool)
            .await
            .expect("results");
    let today = raw.iter().map(|r| r.1).max().expect("results exist");
    let mut spent: BTreeMap<Uuid, (Decimal, Decimal)> = BTreeMap::new();
    for (campaign, day, cost) in &raw {
        let e = spent.entry(*campaign).or_default();
        e.0 += cost;
        if *day > today - Duration::days(7) {
            e.1 += cost;
        }
    }
    let budgets: Vec<(Uuid, Decimal)> =
        sqlx::query_as("SELECT id, budget FROM ads.campaigns WHERE deleted_at IS NULL AND status = 'active'")
            .fetch_all(pool)
            .await
            .expect("campaigns");
    let mut expected = BTreeMap::new();
    for (campaign, budget) in budgets {
        let Some((total, week)) = spent.get(&campaign) else {
            continue;
        };
        let daily = week / Decimal::from(7);
        if daily > Decimal::ZERO && budget > *total {
            expected.insert(campaign, ((budget - total) / daily).ceil());
        }
    }
    assert!(!expected.is_empty(), "active campaigns with budget left");
    assert_eq!(got, expected);
    let days: Vec<Decimal> = rows.iter().map(|r| col(r, "runway_days")).collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "shortest runway first");
}

#[tokio::test]
async fn should_pause_exactly_the_active_ads_that_turned_negative_last_week() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let raw: Vec<(Uuid, NaiveDate, i32, i32)> = sqlx::query_as(
        "SELECT ad_id, day, positive_count, negative_count FROM ads.sentiment_samples WHERE deleted_at IS NULL",
    )
    .fetch_all(pool)
    .await
    .expect("sentiment");
    let today = raw.iter().map(|r| r.1).max().expect("samples exist");
    let mut week: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
    for (ad, day, pos, neg) in &raw {
        if *day > today - Duration::days(7) {
            let e = week.entry(*ad).or_default();
            e.0 += i64::from(*pos);
            e.1 += i64::from(*neg);
        }
    }
    let active: BTreeSet<Uuid> =
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM ads.ads WHERE status = 'active' AND deleted_at IS NULL")
            .fetch_all(pool)
            .await
            .expect("ads")
            .into_iter()
            .collect();
    let expected: BTreeSet<Uuid> = week
        .iter()
        .filter(|(ad, (pos, neg))| neg > pos && active.contains(ad))
        .map(|(ad, _)| *ad)
        .collect();
    assert!(!expected.is_empty(), "the seed has ads that turned in their last week");

    let rows = run(pool, script!("update_from_select_pause_turned_ads.sql")).await;
    let paused: BTreeSet<Uuid> = rows.iter().map(|r| col(r, "ad_id")).collect();
    assert_eq!(paused, expected);
    assert!(rows.iter().all(|r| col::<String>(r, "status") == "paused"));
    let now_paused: BTreeSet<Uuid> =
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM ads.ads WHERE status = 'paused' AND id = ANY($1)")
            .bind(expected.iter().copied().collect::<Vec<_>>())
            .fetch_all(pool)
            .await
            .expect("paused")
            .into_iter()
            .collect();
    assert_eq!(now_paused, expected);
    // A second run finds nothing left to pause.
    assert!(
        run(pool, script!("update_from_select_pause_turned_ads.sql"))
            .await
            .is_empty()
    );
}
