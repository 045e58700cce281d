//! The crm subgraph over the seeder's `small` profile (cloned per test), with the keyring the seeder
//! sealed it under: the PII it opens is what the seeder wrote (checked against the blind indexes the
//! seeder computed from its plaintext), and its campaign figures agree with the ads results.

use std::{collections::BTreeMap, sync::Arc};

use axum::{body::Body, http::Request};
use promptsales_crm::{
    AppState, Config, app,
    schema::pii::{mask_email, mask_national_id, mask_phone},
    store::PgStore,
};
use promptsales_platform::{
    claims::{self, Claims, ClaimsKey},
    crypto::{normalize_email, normalize_national_id},
};
use promptsales_testkit::SeededStores;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

/// The body of a call that must succeed (no errors).
async fn post(router: &axum::Router, key: &ClaimsKey, claims: &Claims, query: &str, variables: Value) -> Value {
    let body = call(router, key, claims, query, variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    body
}

/// The body of a call, errors and all.
async fn call(router: &axum::Router, key: &ClaimsKey, claims: &Claims, query: &str, variables: Value) -> Value {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header(claims::HEADER, key.sign(claims))
        .body(Body::from(
            json!({ "query": query, "variables": variables }).to_string(),
        ))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("call");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn router(stores: &SeededStores, key: &ClaimsKey) -> axum::Router {
    let state = AppState {
        store: Arc::new(PgStore::from_pool(stores.crm.pool().clone())),
        claims_key: key.clone(),
        keyring: Arc::new(SeededStores::keyring()),
    };
    let config = Config {
        port: 0,
        crm_url: None,
        dev_graphiql: false,
    };
    app(state, &config)
}

#[tokio::test]
async fn should_open_the_seeded_pii_to_what_the_seeder_indexed_and_find_it_by_email() {
    let stores = SeededStores::small().await;
    let key = ClaimsKey::random();
    let router = router(&stores, &key);
    let keyring = SeededStores::keyring();
    let query = "{ customers(first: 40) { edges { node { id organizationId email phone nationalId } } } }";
    let clear = post(
        &router,
        &key,
        &Claims::staff("t", &["crm:read", "crm:pii"]),
        query,
        json!({}),
    )
    .await;
    let masked = post(&router, &key, &Claims::staff("t", &["crm:read"]), query, json!({})).await;
    let clear = clear["data"]["customers"]["edges"].as_array().expect("edges").clone();
    let masked = masked["data"]["customers"]["edges"].as_array().expect("edges").clone();
    assert_eq!(clear.len(), 40);
    let mut opened = 0;
    for (c, m) in clear.iter().zip(&masked) {
        let (c, m) = (&c["node"], &m["node"]);
        let Some(email) = c["email"].as_str() else {
            continue; // erased customers hold no PII
        };
        let id: Uuid = c["id"].as_str().expect("id").parse().expect("uuid");
        let (email_bidx, national_id_bidx): (Vec<u8>, Vec<u8>) =
            sqlx::query_as("SELECT email_bidx, national_id_bidx FROM crm.customers WHERE id = $1")
                .bind(id)
                .fetch_one(stores.crm.pool())
                .await
                .expect("blind indexes");
        let national_id = c["nationalId"].as_str().expect("national id");
        assert_eq!(
            keyring
                .blind_index("crm.customers.email", &normalize_email(email))
                .to_vec(),
            email_bidx,
            "the e-mail opened is the one the seeder indexed"
        );
        assert_eq!(
            keyring
                .blind_index("crm.customers.national_id", &normalize_national_id(national_id))
                .to_vec(),
            national_id_bidx
        );
        let phone = c["phone"].as_str().expect("phone");
        assert_eq!(m["email"], mask_email(email));
        assert_eq!(m["phone"], mask_phone(phone));
        assert_eq!(m["nationalId"], mask_national_id(national_id));
        opened += 1;

        if opened <= 3 {
            let org = Some(c["organizationId"].as_str().expect("org").parse().expect("uuid"));
            let lookup = "query($e: String) { customers(filter: { email: $e }) { edges { node { id } } } }";
            // A lookup by a personal identifier re-identifies: `crm:read` alone is refused.
            let reader = Claims {
                org,
                ..Claims::staff("t", &["crm:read"])
            };
            let refused = call(&router, &key, &reader, lookup, json!({ "e": email.to_uppercase() })).await;
            assert_eq!(refused["data"]["customers"], serde_json::Value::Null, "{refused}");
            assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
            let tenant = Claims {
                org,
                ..Claims::staff("t", &["crm:read", "crm:pii"])
            };
            let found = post(&router, &key, &tenant, lookup, json!({ "e": email.to_uppercase() })).await;
            assert_eq!(found["data"]["customers"]["edges"][0]["node"]["id"], c["id"]);
        }
    }
    assert!(opened >= 30, "most seeded customers hold PII ({opened} of 40)");
}

#[tokio::test]
async fn should_agree_with_the_ads_results_per_campaign_channel_and_market() {
    let stores = SeededStores::small().await;
    let key = ClaimsKey::random();
    let router = router(&stores, &key);
    let campaigns: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT campaign_id FROM crm.sales WHERE campaign_id IS NOT NULL ORDER BY campaign_id LIMIT 25",
    )
    .fetch_all(stores.crm.pool())
    .await
    .expect("campaigns with sales");
    assert!(!campaigns.is_empty());
    let reps: Vec<Value> = campaigns
        .iter()
        .map(|c| json!({ "__typename": "Campaign", "id": c }))
        .collect();
    let body = post(
        &router,
        &key,
        &Claims::staff("t", &["crm:read"]),
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign { id salesTotal salesCount
            salesByChannelAndMarket { channel { id } market { id } salesCount amountUsd } } } }",
        json!({ "r": reps }),
    )
    .await;
    let mut crm: BTreeMap<(String, String, String), (i64, Decimal)> = BTreeMap::new();
    for c in body["data"]["_entities"].as_array().expect("entities") {
        let campaign = c["id"].as_str().expect("id").to_owned();
        let mut count = 0;
        for cell in c["salesByChannelAndMarket"].as_array().expect("cells") {
            let amount: Decimal = cell["amountUsd"].as_str().expect("decimal").parse().expect("decimal");
            let n = cell["salesCount"].as_i64().expect("count");
            count += n;
            crm.insert(
                (
                    campaign.clone(),
                    cell["channel"]["id"].as_str().expect("id").to_owned(),
                    cell["market"]["id"].as_str().expect("id").to_owned(),
                ),
                (n, amount),
            );
        }
        assert_eq!(c["salesCount"], count);
    }
    let ads: Vec<(Uuid, Uuid, Uuid, Decimal, Decimal)> = sqlx::query_as(
        "SELECT campaign_id, channel_id, market_id, sum(sales)::numeric, sum(revenue)
         FROM ads.ad_results WHERE campaign_id = ANY($1) AND deleted_at IS NULL
         GROUP BY campaign_id, channel_id, market_id HAVING sum(sales) > 0",
    )
    .bind(&campaigns)
    .fetch_all(stores.ads.pool())
    .await
    .expect("ads results");
    let ads: BTreeMap<(String, String, String), (i64, Decimal)> = ads
        .into_iter()
        .map(|(c, ch, m, n, r)| {
            let n = i64::try_from(n).expect("a count fits");
            ((c.to_string(), ch.to_string(), m.to_string()), (n, r))
        })
        .collect();
    assert_eq!(crm, ads, "crm sales and ads results per (campaign, channel, market)");
}
