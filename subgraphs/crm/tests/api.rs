//! The crm subgraph through its HTTP interface, in-process, on a private migrated database loaded
//! with the fixture (PII sealed under a test keyring the subgraph is given).

mod common;

use std::sync::Arc;

use axum::{body::Body, http::Request};
use common::{
    counting::Counting,
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
};
use promptsales_testkit::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

struct Subgraph {
    _db: TestDb,
    key: ClaimsKey,
    router: axum::Router,
    fixture: Fixture,
    counter: Arc<Counting>,
}

struct Reply {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Subgraph {
    async fn start() -> Subgraph {
        let db = TestDb::migrated(Store::Crm).await;
        let fixture = Fixture::new();
        PgWriter(db.pool().clone()).load(&fixture).await;
        let counter = Counting::new(Arc::new(PgStore::from_pool(db.pool().clone())));
        let key = ClaimsKey::random();
        let state = AppState {
            store: counter.clone() as Arc<dyn CrmStore>,
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
            _db: db,
            key,
            fixture,
            counter,
        }
    }

    async fn call(&self, claims: Option<&Claims>, query: &str, variables: Value) -> Reply {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(c) = claims {
            request = request.header(claims::HEADER, self.key.sign(c));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).expect("request"))
            .await
            .expect("call");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.expect("body");
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).expect("JSON body"),
        }
    }

    /// The body of a successful call (no errors).
    async fn ok(&self, claims: &Claims, query: &str, variables: Value) -> Value {
        let reply = self.call(Some(claims), query, variables).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body.get("errors").is_none(), "{}", reply.body);
        reply.body
    }

    fn org_a(&self, scopes: &[&str]) -> Claims {
        Claims {
            org: Some(self.fixture.org_a),
            ..Claims::staff("agent-a", scopes)
        }
    }

    fn org_b(&self, scopes: &[&str]) -> Claims {
        Claims {
            org: Some(self.fixture.org_b),
            ..Claims::staff("agent-b", scopes)
        }
    }
}

fn staff() -> Claims {
    Claims::staff("tester", &["crm:read", "etl:run"])
}

fn last_names(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["lastName"].as_str().expect("lastName").to_owned())
        .collect()
}

const PII: &str = "query($id: ID!) { customer(id: $id) { firstName email phone nationalId birthYear birthDate } }";

#[tokio::test]
async fn should_refuse_requests_without_the_gateways_signed_claims() {
    let sg = Subgraph::start().await;
    let reply = sg.call(None, "{ customers { totalCount } }", json!({})).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn should_mask_pii_for_callers_without_crm_pii_and_not_mark_the_response() {
    let sg = Subgraph::start().await;
    let ana = sg.fixture.person("Ana");
    let reply = sg
        .call(Some(&sg.org_a(&["crm:read"])), PII, json!({ "id": ana.id }))
        .await;
    assert!(reply.body.get("errors").is_none(), "{}", reply.body);
    let c = &reply.body["data"]["customer"];
    assert_eq!(c["email"], "A•••@e•••.com");
    assert_eq!(c["phone"], "+52 ••• ••• ••78");
    assert_eq!(c["nationalId"], "••••••PN01");
    assert_eq!(c["birthYear"], 1980);
    assert_eq!(c["birthDate"], Value::Null, "the full birth date is personal data");
    assert!(reply.body.get("extensions").is_none(), "{}", reply.body);
    assert!(reply.headers.get("x-promptsales-contains-pii").is_none());
}

#[tokio::test]
async fn should_decrypt_pii_for_crm_pii_and_mark_the_response_uncacheable() {
    let sg = Subgraph::start().await;
    let ana = sg.fixture.person("Ana");
    let (national_id, email, phone) = ana.pii.expect("Ana has PII");
    let reply = sg
        .call(Some(&sg.org_a(&["crm:read", "crm:pii"])), PII, json!({ "id": ana.id }))
        .await;
    let c = &reply.body["data"]["customer"];
    assert_eq!(c["email"], email, "{}", reply.body);
    assert_eq!(c["phone"], phone);
    assert_eq!(c["nationalId"], national_id);
    assert_eq!(c["birthDate"], "1980-01-01");
    assert_eq!(reply.body["extensions"]["containsPii"], true);
    assert_eq!(reply.headers["x-promptsales-contains-pii"], "true");
    assert_eq!(reply.headers["cache-control"], "private, no-store");

    // Without a PII field the same caller's response is not marked.
    let reply = sg
        .call(
            Some(&sg.org_a(&["crm:read", "crm:pii"])),
            "query($id: ID!) { customer(id: $id) { firstName } }",
            json!({ "id": ana.id }),
        )
        .await;
    assert!(reply.body.get("extensions").is_none(), "{}", reply.body);
}

#[tokio::test]
async fn should_return_null_pii_for_an_erased_customer() {
    let sg = Subgraph::start().await;
    let elena = sg.fixture.person("Elena");
    let body = sg
        .ok(&sg.org_a(&["crm:read", "crm:pii"]), PII, json!({ "id": elena.id }))
        .await;
    let c = &body["data"]["customer"];
    assert_eq!(
        (&c["email"], &c["phone"], &c["nationalId"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert!(body.get("extensions").is_none(), "nothing was revealed: {body}");
}

#[tokio::test]
async fn should_find_a_customer_by_email_and_national_id_through_the_blind_index() {
    let sg = Subgraph::start().await;
    let query = "query($f: CustomerFilter) { customers(filter: $f) { totalCount edges { node { id lastName } } } }";
    let body = sg
        .ok(
            &sg.org_a(&["crm:read", "crm:pii"]),
            query,
            json!({ "f": { "email": "  ANA.GARCIA@example.COM " } }),
        )
        .await;
    assert_eq!(body["data"]["customers"]["totalCount"], 1);
    assert_eq!(
        body["data"]["customers"]["edges"][0]["node"]["id"],
        sg.fixture.person("Ana").id.to_string()
    );
    let body = sg
        .ok(
            &sg.org_a(&["crm:read", "crm:pii"]),
            query,
            json!({ "f": { "nationalId": "dibr750505-hnlzrn02" } }),
        )
        .await;
    assert_eq!(last_names(&body["data"]["customers"]), ["Díaz"]);
    // The same e-mail in organization B is another customer.
    let body = sg
        .ok(
            &sg.org_b(&["crm:read", "crm:pii"]),
            query,
            json!({ "f": { "email": "ana.garcia@example.com" } }),
        )
        .await;
    assert_eq!(last_names(&body["data"]["customers"]), ["Gómez"]);
}

#[tokio::test]
async fn should_filter_customers_by_country_city_segment_and_name() {
    let sg = Subgraph::start().await;
    let query = "query($f: CustomerFilter) { customers(filter: $f) { totalCount edges { node { lastName } } } }";
    let a = sg.org_a(&["crm:read"]);
    let cases = [
        (json!({ "countryCode": "mx" }), vec!["Díaz", "García López"]),
        (json!({ "city": "guadalajara" }), vec!["García López"]),
        (json!({ "segment": "VIP" }), vec!["Díaz"]),
        (json!({ "search": "  garc  ana " }), vec!["García López"]),
        (json!({ "countryCode": "US", "segment": "NEW" }), vec!["Torres"]),
    ];
    for (filter, expected) in cases {
        let body = sg.ok(&a, query, json!({ "f": filter })).await;
        assert_eq!(last_names(&body["data"]["customers"]), expected, "{filter}");
    }
}

#[tokio::test]
async fn should_reject_invalid_filters_naming_the_field() {
    let sg = Subgraph::start().await;
    let query = "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }";
    let cases = [
        (json!({ "countryCode": "Mexico" }), "filter.countryCode", "iso3166"),
        (json!({ "email": "not-an-email" }), "filter.email", "email"),
        (json!({ "nationalId": "--" }), "filter.nationalId", "format"),
        (json!({ "search": "   " }), "filter.search", "min"),
        (json!({ "search": "a b c d e f" }), "filter.search", "max"),
        (json!({ "city": "" }), "filter.city", "length"),
    ];
    for (filter, field, rule) in cases {
        let reply = sg
            .call(Some(&sg.org_a(&["crm:read", "crm:pii"])), query, json!({ "f": filter }))
            .await;
        let e = &reply.body["errors"][0]["extensions"];
        assert_eq!(e["code"], "BAD_USER_INPUT", "{filter}: {}", reply.body);
        assert_eq!(
            (e["field"].as_str(), e["rule"].as_str()),
            (Some(field), Some(rule)),
            "{filter}"
        );
    }
    let reply = sg
        .call(Some(&staff()), "{ customer(id: \"nope\") { id } }", json!({}))
        .await;
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "id");
}

#[tokio::test]
async fn should_page_customers_by_name_and_reject_bad_cursors_and_sizes() {
    let sg = Subgraph::start().await;
    let query = "query($after: String) { customers(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { lastName } } } }";
    let mut names = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let body = sg.ok(&staff(), query, json!({ "after": after })).await;
        let conn = &body["data"]["customers"];
        assert_eq!(conn["totalCount"], 5);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 0);
        names.extend(last_names(conn));
        pages += 1;
        if !conn["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["Díaz", "García López", "Gómez", "Ruiz", "Torres"]);

    let reply = sg
        .call(
            Some(&staff()),
            "{ customers(after: \"bogus\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "after");
    let reply = sg
        .call(Some(&staff()), "{ customers(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(reply.body["errors"][0]["extensions"]["rule"], "max");
}

#[tokio::test]
async fn should_show_a_tenant_only_its_own_customers_and_campaign_figures() {
    let sg = Subgraph::start().await;
    let b = sg.org_b(&["crm:read"]);
    let body = sg
        .ok(
            &b,
            "{ customers { totalCount edges { node { lastName } } } }",
            json!({}),
        )
        .await;
    assert_eq!(last_names(&body["data"]["customers"]), ["Gómez"]);
    let body = sg
        .ok(
            &b,
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": sg.fixture.person("Ana").id }),
        )
        .await;
    assert_eq!(body["data"]["customer"], Value::Null);
    let query = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Campaign { salesTotal salesCount customers { totalCount } } } }";
    let reps = json!([{ "__typename": "Campaign", "id": sg.fixture.c1 }]);
    let body = sg.ok(&b, query, json!({ "r": reps })).await;
    let c1 = &body["data"]["_entities"][0];
    assert_eq!((&c1["salesTotal"], &c1["salesCount"]), (&json!("0"), &json!(0)));
    assert_eq!(c1["customers"]["totalCount"], 0);
}

#[tokio::test]
async fn should_total_a_campaigns_sales_leads_and_customers() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign {
        id salesTotal salesCount conversionRate customersReached
        salesByChannel { channel { id } salesCount quantity amountUsd }
        salesByMarket { market { id } salesCount quantity amountUsd }
        salesByChannelAndMarket { channel { id } market { id } amountUsd }
        customers(first: 2) { totalCount pageInfo { hasNextPage } edges { linkedAt reached channel { id } node { firstName } } }
        leads(status: CONVERTED) { totalCount edges { node { status customer { firstName } } } }
        interactions(first: 1) { totalCount edges { node { kind actor } } }
    } } }";
    let reps = json!([
        { "__typename": "Campaign", "id": f.c1 },
        { "__typename": "Campaign", "id": f.c2 },
    ]);
    let body = sg.ok(&sg.org_a(&["crm:read"]), query, json!({ "r": reps })).await;
    let c1 = &body["data"]["_entities"][0];
    assert_eq!(c1["salesTotal"], "280.50");
    assert_eq!(c1["salesCount"], 3);
    assert_eq!(c1["conversionRate"], "0.25");
    assert_eq!(c1["customersReached"], 2);
    assert_eq!(
        c1["salesByChannel"],
        json!([
            { "channel": { "id": f.social }, "salesCount": 2, "quantity": 5, "amountUsd": "230.00" },
            { "channel": { "id": f.email_channel }, "salesCount": 1, "quantity": 1, "amountUsd": "50.50" },
        ])
    );
    assert_eq!(
        c1["salesByMarket"],
        json!([
            { "market": { "id": f.mx }, "salesCount": 2, "quantity": 3, "amountUsd": "250.50" },
            { "market": { "id": f.us }, "salesCount": 1, "quantity": 3, "amountUsd": "30.00" },
        ])
    );
    assert_eq!(c1["salesByChannelAndMarket"].as_array().expect("cells").len(), 3);
    assert_eq!(c1["customers"]["totalCount"], 3);
    assert_eq!(c1["customers"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(c1["customers"]["edges"][0]["node"]["firstName"], "Carla");
    assert_eq!(c1["customers"]["edges"][0]["reached"], false);
    assert_eq!(c1["customers"]["edges"][1]["node"]["firstName"], "Bruno");
    assert_eq!(c1["leads"]["totalCount"], 1);
    assert_eq!(c1["leads"]["edges"][0]["node"]["customer"]["firstName"], "Ana");
    assert_eq!(c1["interactions"]["totalCount"], 3);
    assert_eq!(c1["interactions"]["edges"][0]["node"]["kind"], "MESSAGE");
    let c2 = &body["data"]["_entities"][1];
    assert_eq!((&c2["salesTotal"], &c2["conversionRate"]), (&json!("0"), &Value::Null));
    assert_eq!(c2["customers"]["totalCount"], 1);
}

#[tokio::test]
async fn should_page_a_customers_interactions_and_purchases() {
    let sg = Subgraph::start().await;
    let query = "query($id: ID!, $after: String) { customer(id: $id) {
        interactions(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind campaign { id } } } }
        purchases { totalCount edges { node { amountUsd originalCurrency campaign { id } product { id } } } } } }";
    let ana = sg.fixture.person("Ana").id;
    let body = sg.ok(&staff(), query, json!({ "id": ana, "after": null })).await;
    let c = &body["data"]["customer"];
    assert_eq!(c["interactions"]["totalCount"], 3);
    assert_eq!(c["interactions"]["edges"][0]["node"]["kind"], "VISIT");
    assert_eq!(c["interactions"]["edges"][0]["node"]["campaign"], Value::Null);
    assert_eq!(c["purchases"]["totalCount"], 2);
    assert_eq!(c["purchases"]["edges"][1]["node"]["amountUsd"], "200.00");
    let cursor = c["interactions"]["pageInfo"]["endCursor"].clone();
    let body = sg.ok(&staff(), query, json!({ "id": ana, "after": cursor })).await;
    let rest = &body["data"]["customer"]["interactions"];
    assert_eq!(rest["edges"].as_array().expect("edges").len(), 1);
    assert_eq!(rest["edges"][0]["node"]["kind"], "VIEW");
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn should_resolve_entity_references_in_batches_with_unknown_and_deleted_ones_null() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Customer { lastName } ... on Lead { status } ... on Interaction { kind }
        ... on Sale { amountUsd } } }";
    let deleted_sale = f.sales.iter().find(|s| s.deleted_at.is_some()).expect("refund").id;
    let reps = json!([
        { "__typename": "Customer", "id": f.person("Bruno").id },
        { "__typename": "Customer", "id": f.person("Diego").id },
        { "__typename": "Customer", "id": Uuid::nil() },
        { "__typename": "Lead", "id": f.leads[0].id },
        { "__typename": "Interaction", "id": f.interactions[3].id },
        { "__typename": "Sale", "id": f.sales[0].id },
        { "__typename": "Sale", "id": deleted_sale },
        { "__typename": "Customer", "id": f.person("Fernando").id },
    ]);
    let body = sg.ok(&sg.org_a(&["crm:read"]), query, json!({ "r": reps })).await;
    let e = &body["data"]["_entities"];
    assert_eq!(e[0]["lastName"], "Díaz");
    assert_eq!(e[1], Value::Null, "deleted");
    assert_eq!(e[2], Value::Null, "unknown");
    assert_eq!(e[3]["status"], "CONVERTED");
    assert_eq!(e[4]["kind"], "MESSAGE");
    assert_eq!(e[5]["amountUsd"], "200.00");
    assert_eq!(e[6], Value::Null, "refunded");
    assert_eq!(e[7], Value::Null, "another tenant's");
}

#[tokio::test]
async fn should_answer_fifty_campaign_references_with_a_constant_number_of_store_calls() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let mut reps: Vec<Value> = (0..47)
        .map(|_| json!({ "__typename": "Campaign", "id": Uuid::new_v4() }))
        .collect();
    for c in [f.c1, f.c2, f.c3] {
        reps.push(json!({ "__typename": "Campaign", "id": c }));
    }
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign {
        salesTotal salesCount conversionRate
        customers(first: 5) { totalCount edges { node { id lastName email interactions(first: 2) { totalCount } } } }
    } } }";
    sg.counter.reset();
    let body = sg
        .ok(
            &Claims::staff("t", &["crm:read", "crm:pii"]),
            query,
            json!({ "r": reps }),
        )
        .await;
    let entities = body["data"]["_entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 50);
    assert_eq!(entities[47]["salesTotal"], "280.50");
    assert_eq!(entities[49]["customers"]["edges"][0]["node"]["lastName"], "Gómez");
    // campaign_customers, customers_by_id, customer_keys, customer_interactions, campaign_sales,
    // campaign_funnels: one call each, whatever the number of campaigns.
    assert_eq!(
        sg.counter.calls(),
        6,
        "store calls for 50 campaigns: {:?}",
        sg.counter.log()
    );
}

#[tokio::test]
async fn should_feed_the_etl_every_change_with_tombstones_and_masked_pii() {
    let sg = Subgraph::start().await;
    let query = "query($after: String) { salesUpdatedSince(since: \"2000-01-01T00:00:00Z\", first: 4, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id deletedAt amountUsd } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = sg.ok(&staff(), query, json!({ "after": after })).await;
        let conn = &body["data"]["salesUpdatedSince"];
        assert_eq!(conn["totalCount"], 6);
        seen.extend(
            conn["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"].clone()),
        );
        if !conn["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(
        seen.iter().filter(|n| !n["deletedAt"].is_null()).count(),
        1,
        "the refund"
    );

    let body = sg
        .ok(
            &staff(),
            "{ customersUpdatedSince(since: \"2000-01-01T00:00:00Z\") { totalCount edges { node { email deletedAt erasedAt } } }
               leadsUpdatedSince(since: \"2000-01-01T00:00:00Z\") { totalCount }
               interactionsUpdatedSince(since: \"2000-01-01T00:00:00Z\") { totalCount }
               campaignCustomersUpdatedSince(since: \"2000-01-01T00:00:00Z\", first: 4) {
                 totalCount pageInfo { hasNextPage } edges { node { campaign { id } customer { id } reached deletedAt } } } }",
            json!({}),
        )
        .await;
    let d = &body["data"];
    assert_eq!(d["customersUpdatedSince"]["totalCount"], 6);
    assert!(
        d["customersUpdatedSince"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .all(|e| e["node"]["email"].is_null() || e["node"]["email"].as_str().expect("str").contains('•')),
        "no PII in clear without crm:pii"
    );
    assert!(body.get("extensions").is_none());
    assert_eq!(d["leadsUpdatedSince"]["totalCount"], 5);
    assert_eq!(d["interactionsUpdatedSince"]["totalCount"], 5);
    assert_eq!(d["campaignCustomersUpdatedSince"]["totalCount"], 6);
    assert_eq!(d["campaignCustomersUpdatedSince"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn should_export_a_reviewed_federation_sdl() {
    let sg = Subgraph::start().await;
    let body = sg.ok(&staff(), "{ _service { sdl } }", json!({})).await;
    let sdl = body["data"]["_service"]["sdl"].as_str().expect("sdl").to_owned();
    assert!(sdl.contains("url: \"https://specs.apollo.dev/federation/v2"), "{sdl}");
    insta::assert_snapshot!("crm_sdl", sdl);
}
