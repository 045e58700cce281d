//! Data-subject rights through the crm subgraph's HTTP interface, in-process, on a private
//! migrated database loaded with the fixture: `exportCustomerData` returns everything held on a
//! customer with PII in clear, and `eraseCustomer` leaves no plaintext and no usable ciphertext of
//! that customer anywhere in the database while every per-campaign total and every other
//! customer stays as it was.

mod common;

use std::sync::Arc;

use axum::{body::Body, http::Request};
use common::{
    fixture::Fixture,
    load::{PgWriter, Writer},
};
use promptsales_crm::{
    AppState, Config, app,
    store::{CrmStore, PgStore},
};
use promptsales_platform::{
    Store,
    claims::{self, Claims, ClaimsKey},
    crypto::{DataKey, WrappedKey, aad},
};
use promptsales_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

struct Subgraph {
    db: TestDb,
    key: ClaimsKey,
    router: axum::Router,
    fixture: Fixture,
}

struct Reply {
    headers: axum::http::HeaderMap,
    body: Value,
}

const EXPORT: &str = "query($id: ID!) { exportCustomerData(customerId: $id) {
    customerId erased erasedAt
    profile { organizationId firstName lastName birthDate segment countryCode region city latitude longitude
              preferredLanguage email phone nationalId marketingConsent createdAt deletedAt }
    campaignLinks { campaignId channelId linkedAt reached deletedAt }
    leads { id campaignId status score deletedAt }
    interactions { id campaignId kind actor occurredAt note deletedAt }
    purchases { id campaignId channelId marketId productId quantity amountUsd originalAmount originalCurrency
                fxRateToUsd soldAt deletedAt }
} }";

const ERASE: &str = "mutation($id: ID!) { eraseCustomer(customerId: $id) { customerId erasedAt alreadyErased } }";

const TOTALS: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Campaign { id salesTotal salesCount customersReached conversionRate
                      salesByChannel { channel { id } salesCount quantity amountUsd } } } }";

impl Subgraph {
    async fn start() -> Subgraph {
        let db = TestDb::migrated(Store::Crm).await;
        let fixture = Fixture::new();
        PgWriter(db.pool().clone()).load(&fixture).await;
        let key = ClaimsKey::random();
        let state = AppState {
            store: Arc::new(PgStore::from_pool(db.pool().clone())) as Arc<dyn CrmStore>,
            claims_key: key.clone(),
            keyring: fixture.keyring.clone(),
        };
        let config = Config {
            port: 0,
            crm_url: None,
            dev_graphiql: false,
        };
        Subgraph {
            router: app(state, &config),
            db,
            key,
            fixture,
        }
    }

    fn pool(&self) -> &PgPool {
        self.db.pool()
    }

    async fn call(&self, claims: &Claims, query: &str, variables: Value) -> Reply {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header(claims::HEADER, self.key.sign(claims))
            .body(Body::from(
                json!({ "query": query, "variables": variables }).to_string(),
            ))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("call");
        assert_eq!(response.status().as_u16(), 200);
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.expect("body");
        Reply {
            headers,
            body: serde_json::from_slice(&bytes).expect("JSON body"),
        }
    }

    async fn ok(&self, claims: &Claims, query: &str, variables: Value) -> Value {
        let reply = self.call(claims, query, variables).await;
        assert!(reply.body.get("errors").is_none(), "{}", reply.body);
        reply.body["data"].clone()
    }

    async fn export(&self, customer: Uuid) -> Value {
        self.ok(&admin(), EXPORT, json!({ "id": customer })).await["exportCustomerData"].clone()
    }

    async fn totals(&self) -> Value {
        let f = &self.fixture;
        let reps: Vec<Value> = [f.c1, f.c2, f.c3]
            .iter()
            .map(|c| json!({ "__typename": "Campaign", "id": c }))
            .collect();
        self.ok(&Claims::staff("t", &["crm:read"]), TOTALS, json!({ "r": reps }))
            .await
    }
}

fn admin() -> Claims {
    Claims::staff("privacy-officer", &["admin", "crm:pii"])
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("none")
}

/// Rows of the whole database (every schema but the catalogs) whose text, JSON or bytes contain
/// `needle`, as `schema.table.column`.
async fn occurrences(pool: &PgPool, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE t.table_type = 'BASE TABLE'
           AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
           AND c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'json', 'bytea')",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    assert!(columns.len() > 20, "the scan must see the crm tables: {columns:?}");
    let mut found = Vec::new();
    for (schema, table, column, kind) in columns {
        // Identifiers come from the catalog, quoted; the needle is bound.
        let test = if kind == "bytea" {
            format!("position(convert_to($1, 'UTF8') in \"{column}\") > 0")
        } else {
            format!("strpos(\"{column}\"::text, $1) > 0")
        };
        let sql = format!("SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE {test}");
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(needle)
            .fetch_one(pool)
            .await
            .expect("scan");
        if n > 0 {
            found.push(format!("{schema}.{table}.{column}"));
        }
    }
    found
}

async fn bytes_occurrences(pool: &PgPool, needle: &[u8]) -> Vec<(Uuid, String)> {
    sqlx::query_as(
        "SELECT id, col FROM crm.customers,
             LATERAL (VALUES ('email_bidx', email_bidx), ('national_id_bidx', national_id_bidx),
                             ('email_enc', email_enc), ('phone_enc', phone_enc),
                             ('national_id_enc', national_id_enc)) AS v(col, val)
         WHERE val = $1",
    )
    .bind(needle)
    .fetch_all(pool)
    .await
    .expect("bytes scan")
}

#[tokio::test]
async fn should_export_everything_held_on_a_customer_with_pii_in_clear_and_never_cacheable() {
    let sg = Subgraph::start().await;
    let ana = sg.fixture.person("Ana");
    let reply = sg.call(&admin(), EXPORT, json!({ "id": ana.id })).await;
    assert!(reply.body.get("errors").is_none(), "{}", reply.body);
    assert_eq!(reply.headers["x-promptsales-contains-pii"], "true");
    assert_eq!(reply.headers["cache-control"], "private, no-store");
    assert_eq!(reply.body["extensions"]["containsPii"], true);
    let export = &reply.body["data"]["exportCustomerData"];
    assert_eq!(export["customerId"], json!(ana.id));
    assert_eq!(export["erased"], false);
    let profile = &export["profile"];
    assert_eq!(profile["firstName"], "Ana");
    assert_eq!(profile["lastName"], "García López");
    assert_eq!(profile["email"], "Ana.Garcia@example.com");
    assert_eq!(profile["phone"], "+523312345678");
    assert_eq!(profile["nationalId"], "GALA800101MJCRPN01");
    assert_eq!(profile["birthDate"], "1980-01-01");
    assert_eq!(profile["city"], "Guadalajara");
    assert_eq!(profile["segment"], "LOYAL");
    // Everything, including what lists hide: the deleted interaction and both of Ana's campaigns.
    assert_eq!(export["campaignLinks"].as_array().expect("links").len(), 2);
    assert_eq!(export["leads"].as_array().expect("leads").len(), 1);
    let interactions = export["interactions"].as_array().expect("interactions");
    assert_eq!(interactions.len(), 4);
    assert_eq!(interactions.iter().filter(|i| !i["deletedAt"].is_null()).count(), 1);
    let purchases = export["purchases"].as_array().expect("purchases");
    let amounts: Vec<&str> = purchases
        .iter()
        .map(|p| p["amountUsd"].as_str().expect("amount"))
        .collect();
    assert_eq!(amounts, ["200.00", "20.00"]);
    assert!(purchases[1]["campaignId"].is_null(), "the organic sale is there too");
}

#[tokio::test]
async fn should_refuse_export_and_erasure_without_admin_and_crm_pii_together() {
    let sg = Subgraph::start().await;
    let ana = sg.fixture.person("Ana").id;
    for scopes in [&["admin"][..], &["crm:pii", "crm:read"], &["crm:read", "crm:write"]] {
        let caller = Claims::staff("someone", scopes);
        let export = sg.call(&caller, EXPORT, json!({ "id": ana })).await.body;
        assert_eq!(code(&export), "FORBIDDEN", "{scopes:?}: {export}");
        assert!(export["data"]["exportCustomerData"].is_null());
        let erase = sg.call(&caller, ERASE, json!({ "id": ana })).await.body;
        assert_eq!(code(&erase), "FORBIDDEN", "{scopes:?}: {erase}");
    }
    assert_eq!(
        sg.export(ana).await["erased"],
        false,
        "a refused erasure erased nothing"
    );
}

#[tokio::test]
async fn should_keep_an_organizations_admin_to_its_own_customers() {
    let sg = Subgraph::start().await;
    let ana = sg.fixture.person("Ana").id;
    let other_org = Claims {
        org: Some(sg.fixture.org_b),
        ..admin()
    };
    let export = sg.ok(&other_org, EXPORT, json!({ "id": ana })).await;
    assert!(export["exportCustomerData"].is_null());
    let erase = sg.call(&other_org, ERASE, json!({ "id": ana })).await.body;
    assert_eq!(code(&erase), "NOT_FOUND", "{erase}");
    assert_eq!(sg.export(ana).await["erased"], false);
}

#[tokio::test]
async fn should_erase_a_customer_leaving_no_plaintext_nor_usable_ciphertext_and_every_total_as_it_was() {
    let sg = Subgraph::start().await;
    let pool = sg.pool();
    let ana = sg.fixture.person("Ana");
    let (nid, email, phone) = ana.pii.expect("Ana has PII");
    // A note that broke the rule (no PII in notes): erasure must not leave it behind.
    sqlx::query("UPDATE crm.interactions SET note = $2 WHERE customer_id = $1")
        .bind(ana.id)
        .bind(format!("Called Ana García López on {phone}"))
        .execute(pool)
        .await
        .expect("note");
    let (wrapped_before, email_enc_before, bidx_before): (Vec<u8>, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT k.wrapped_dek, c.email_enc, c.national_id_bidx
         FROM crm.customers c JOIN crm.customer_keys k ON k.customer_id = c.id WHERE c.id = $1",
    )
    .bind(ana.id)
    .fetch_one(pool)
    .await
    .expect("Ana's sealed data");
    let totals_before = sg.totals().await;
    let others = ["Bruno", "Carla", "Fernando"].map(|n| sg.fixture.person(n).id);
    let mut others_before = Vec::new();
    for id in others {
        others_before.push(sg.export(id).await);
    }
    let needles = [nid, email, phone, "García López", "Ana.Garcia"];
    assert!(
        !occurrences(pool, "García López").await.is_empty(),
        "the scan finds the name before the erasure"
    );

    let first = sg.ok(&admin(), ERASE, json!({ "id": ana.id })).await["eraseCustomer"].clone();
    assert_eq!(first["customerId"], json!(ana.id));
    assert_eq!(first["alreadyErased"], false);

    for needle in needles {
        assert_eq!(
            occurrences(pool, needle).await,
            Vec::<String>::new(),
            "`{needle}` is still stored"
        );
    }
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM crm.customer_keys WHERE customer_id = $1")
        .bind(ana.id)
        .fetch_one(pool)
        .await
        .expect("keys");
    assert_eq!(keys, 0, "the data key is shredded");
    assert_eq!(
        bytes_occurrences(pool, &bidx_before).await,
        Vec::new(),
        "Ana's national-id blind index is gone"
    );
    // A copy of the old ciphertext (a backup, say) opens under no key the system still holds.
    let remaining: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT key_id, wrapped_dek FROM crm.customer_keys")
        .fetch_all(pool)
        .await
        .expect("remaining keys");
    assert_eq!(remaining.len(), 4, "the other customers keep their keys");
    let ring = &sg.fixture.keyring;
    let email_aad = aad("crm.customers.email", ana.id);
    for (kek_id, sealed) in remaining {
        let key: DataKey = ring.unwrap(&WrappedKey { kek_id, sealed }).expect("other keys unwrap");
        assert!(key.open(&email_enc_before, &email_aad).is_err());
    }
    assert!(!wrapped_before.is_empty());

    assert_eq!(sg.totals().await, totals_before, "per-campaign totals hold");
    for (id, before) in others.iter().zip(&others_before) {
        assert_eq!(&sg.export(*id).await, before, "customer {id} is untouched");
    }
    let export = sg.export(ana.id).await;
    assert_eq!(export["erased"], true);
    assert_eq!(export["erasedAt"], first["erasedAt"]);
    assert!(export["profile"].is_null());
    assert_eq!(export["purchases"], json!([]));
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM crm.event_log WHERE entity = 'customer' AND entity_id = $1 AND action = 'erased'
           AND actor = 'privacy-officer'",
    )
    .bind(ana.id)
    .fetch_one(pool)
    .await
    .expect("events");
    assert_eq!(events, 1);

    let again = sg.ok(&admin(), ERASE, json!({ "id": ana.id })).await["eraseCustomer"].clone();
    assert_eq!(again["alreadyErased"], true);
    assert_eq!(
        again["erasedAt"], first["erasedAt"],
        "a repeat reports the first erasure"
    );
    assert_eq!(sg.totals().await, totals_before);
}

#[tokio::test]
async fn should_answer_not_found_for_an_unknown_customer_and_null_for_its_export() {
    let sg = Subgraph::start().await;
    let nobody = Uuid::new_v4();
    let erase = sg.call(&admin(), ERASE, json!({ "id": nobody })).await.body;
    assert_eq!(code(&erase), "NOT_FOUND", "{erase}");
    assert!(sg.export(nobody).await.is_null());
    let bad = sg.call(&admin(), ERASE, json!({ "id": "not-a-uuid" })).await.body;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
}
