//! The ads subgraph over the seeder's `small` profile (promptsales_testkit::SeededStores): real
//! shaped data, with its ads whose audience turns negative, cross-checked against plain SQL.

mod common;

use std::{sync::Arc, time::Instant};

use axum::{body::Body, http::Request};
use chrono::Duration;
use common::counting::CountingStore;
use promptsales_ads::{AppState, Config, app, store::PgStore};
use promptsales_platform::claims::{self, Claims, ClaimsKey};
use promptsales_testkit::SeededStores;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

struct Seeded {
    stores: SeededStores,
    key: ClaimsKey,
    router: axum::Router,
    counting: Arc<CountingStore>,
}

impl Seeded {
    async fn start() -> Seeded {
        let stores = SeededStores::small().await;
        let key = ClaimsKey::random();
        let counting = Arc::new(CountingStore::new(Arc::new(PgStore::from_pool(
            stores.ads.pool().clone(),
        ))));
        let config = Config {
            port: 0,
            ads_url: None,
            dev_graphiql: false,
        };
        let state = AppState {
            store: counting.clone(),
            claims_key: key.clone(),
        };
        Seeded {
            router: app(state, &config),
            stores,
            key,
            counting,
        }
    }

    async fn data(&self, claims: &Claims, query: &str, variables: Value) -> Value {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header(claims::HEADER, self.key.sign(claims))
            .body(Body::from(
                json!({ "query": query, "variables": variables }).to_string(),
            ))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("call");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
        let body: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }
}

fn staff() -> Claims {
    Claims::staff("tester", &["ads:read"])
}

fn dec(v: &Value) -> Decimal {
    v.as_str().expect("decimal string").parse().expect("decimal")
}

fn uuid(v: &Value) -> Uuid {
    v.as_str().expect("id").parse().expect("uuid")
}

#[tokio::test]
async fn should_find_the_seeded_ads_whose_audience_turned_negative() {
    let sg = Seeded::start().await;
    let since = (SeededStores::now() - Duration::days(14)).date_naive();
    let query = "query($since: Date) { negativeSentimentAds(since: $since, first: 100) { totalCount edges { node {
        ad { id } campaign { id organization { id } } polaritySince polarityBefore negativeMentions
        dominantNegativeType influencerReactionsBefore influencerReactionsSince influencerReactionDrop } } } }";
    let data = sg.data(&staff(), query, json!({ "since": since.to_string() })).await;
    let edges = data["negativeSentimentAds"]["edges"].as_array().expect("edges").clone();
    assert!(
        !edges.is_empty(),
        "the small seed has ads that turned negative in its last two weeks"
    );
    let pool = sg.stores.ads.pool();
    for edge in &edges {
        let n = &edge["node"];
        assert!(dec(&n["polaritySince"]) < Decimal::ZERO);
        assert!(n["dominantNegativeType"].is_string(), "{n}");
        let negative: i64 = sqlx::query_scalar(
            "SELECT sum(negative_count)::bigint FROM ads.sentiment_samples
             WHERE ad_id = $1 AND day >= $2 AND deleted_at IS NULL",
        )
        .bind(uuid(&n["ad"]["id"]))
        .bind(since)
        .fetch_one(pool)
        .await
        .expect("negative mentions");
        assert_eq!(n["negativeMentions"], negative);
    }
    // The seed's turned ads placed with influencers lose them; over the seeded year, some window
    // shows it (the last two weeks need not).
    let mut drops = Vec::new();
    for months in 1..=12 {
        let since = (SeededStores::now() - Duration::days(30 * months)).date_naive();
        let data = sg.data(&staff(), query, json!({ "since": since.to_string() })).await;
        for edge in data["negativeSentimentAds"]["edges"].as_array().expect("edges") {
            let n = &edge["node"];
            if !n["influencerReactionDrop"].is_null() {
                assert!(dec(&n["influencerReactionsBefore"]) > Decimal::ZERO, "{n}");
                drops.push(dec(&n["influencerReactionDrop"]));
            }
        }
    }
    assert!(drops.iter().any(|d| *d > Decimal::ZERO), "{drops:?}");
    // A tenant sees only its own.
    let org = uuid(&edges[0]["node"]["campaign"]["organization"]["id"]);
    let tenant = Claims {
        org: Some(org),
        ..staff()
    };
    let data = sg.data(&tenant, query, json!({ "since": since.to_string() })).await;
    let own = data["negativeSentimentAds"]["edges"].as_array().expect("edges");
    assert!(!own.is_empty());
    assert!(
        own.iter()
            .all(|e| uuid(&e["node"]["campaign"]["organization"]["id"]) == org)
    );
}

#[tokio::test]
async fn should_report_the_seeded_results_as_the_facts_add_up() {
    let sg = Seeded::start().await;
    let query = "{ campaigns(first: 50) { edges { node { id results { totals { views sales cost revenue } } } } } }";
    sg.counting.reset();
    let data = sg.data(&staff(), query, json!({})).await;
    assert_eq!(
        sg.counting.calls(),
        2,
        "the page and one call for every campaign's totals"
    );
    let pool = sg.stores.ads.pool();
    for edge in data["campaigns"]["edges"].as_array().expect("edges") {
        let node = &edge["node"];
        let (views, sales, cost, revenue): (i64, i64, Decimal, Decimal) = sqlx::query_as(
            "SELECT coalesce(sum(views), 0)::bigint, coalesce(sum(sales), 0)::bigint,
                    coalesce(sum(cost), 0), coalesce(sum(revenue), 0)
             FROM ads.ad_results WHERE campaign_id = $1 AND deleted_at IS NULL",
        )
        .bind(uuid(&node["id"]))
        .fetch_one(pool)
        .await
        .expect("sums");
        let totals = &node["results"]["totals"];
        assert_eq!(
            (totals["views"].as_i64(), totals["sales"].as_i64()),
            (Some(views), Some(sales))
        );
        assert_eq!((dec(&totals["cost"]), dec(&totals["revenue"])), (cost, revenue));
    }
}

#[tokio::test]
async fn should_fetch_the_seeded_campaign_page_with_relations_in_four_store_calls() {
    let sg = Seeded::start().await;
    let query = "{ campaigns(first: 50) { totalCount edges { node {
        id name status budget brand { id }
        channels { budgetShare channel { code name } }
        markets { code name }
        ads { name format headline } } } } }";
    sg.counting.reset();
    let data = sg.data(&staff(), query, json!({})).await;
    let page = data["campaigns"]["edges"].as_array().expect("edges").len();
    assert_eq!(data["campaigns"]["totalCount"], page, "the small seed fits in one page");
    assert_eq!(sg.counting.calls(), 4);
    let mut times = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        sg.data(&staff(), query, json!({})).await;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "small seed, page of {page} campaigns with channels, markets and ads: min {:?}, median {:?}, p90 {:?}, max {:?} (30 runs)",
        times[0], times[15], times[27], times[29]
    );
}
