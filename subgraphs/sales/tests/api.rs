//! The sales subgraph through its HTTP interface, in-process, on a private migrated database.

use std::sync::Arc;

use axum::{body::Body, http::Request};
use promptsales_platform::{
    Store,
    claims::{self, Claims, ClaimsKey},
};
use promptsales_sales::{AppState, Config, app, store::PgStore};
use promptsales_testkit::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

struct Subgraph {
    db: TestDb,
    key: ClaimsKey,
    router: axum::Router,
}

impl Subgraph {
    async fn start() -> Subgraph {
        let db = TestDb::migrated(Store::Sales).await;
        let key = ClaimsKey::random();
        let state = AppState {
            store: Arc::new(PgStore::from_pool(db.pool().clone())),
            claims_key: key.clone(),
        };
        let config = Config {
            port: 0,
            sales_url: None,
            dev_graphiql: false,
        };
        Subgraph {
            router: app(state, &config),
            db,
            key,
        }
    }

    async fn post(&self, claims: Option<&Claims>, query: &str, variables: Value) -> (u16, Value) {
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
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("JSON body"))
    }

    async fn org(&self, name: &str) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO sales.organizations (id, name, country_code) VALUES ($1, $2, 'MX')")
            .bind(id)
            .bind(name)
            .execute(self.db.pool())
            .await
            .expect("insert organization");
        id
    }
}

fn staff() -> Claims {
    Claims::staff("tester", &["sales:read", "etl:run"])
}

#[tokio::test]
async fn should_refuse_requests_without_the_gateways_signed_claims() {
    let sg = Subgraph::start().await;
    let (status, body) = sg.post(None, "{ organizations { totalCount } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let forged = ClaimsKey::random().sign(&staff());
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header(claims::HEADER, forged)
        .body(Body::from(r#"{"query":"{ __typename }"}"#))
        .expect("request");
    assert_eq!(sg.router.clone().oneshot(request).await.expect("call").status(), 401);
}

#[tokio::test]
async fn should_page_organizations_by_name_with_a_total_count() {
    let sg = Subgraph::start().await;
    for name in ["Delta", "Alfa", "Charlie", "Bravo", "Echo"] {
        sg.org(name).await;
    }
    let query = "query($after: String) { organizations(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }";
    let mut names = Vec::new();
    let mut after = Value::Null;
    loop {
        let (status, body) = sg.post(Some(&staff()), query, json!({ "after": after })).await;
        assert_eq!(status, 200, "{body}");
        let conn = &body["data"]["organizations"];
        assert_eq!(conn["totalCount"], 5);
        names.extend(
            conn["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"]["name"].as_str().expect("name").to_owned()),
        );
        if !conn["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(names, ["Alfa", "Bravo", "Charlie", "Delta", "Echo"]);
}

#[tokio::test]
async fn should_show_a_tenant_only_its_own_organization() {
    let sg = Subgraph::start().await;
    let mine = sg.org("Mine").await;
    let theirs = sg.org("Theirs").await;
    let tenant = Claims {
        org: Some(mine),
        ..staff()
    };
    let (_, body) = sg
        .post(
            Some(&tenant),
            "{ organizations { totalCount edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["organizations"]["totalCount"], 1);
    assert_eq!(body["data"]["organizations"]["edges"][0]["node"]["name"], "Mine");
    let (_, body) = sg
        .post(
            Some(&tenant),
            "query($id: ID!) { organization(id: $id) { name } }",
            json!({ "id": theirs }),
        )
        .await;
    assert_eq!(body["data"]["organization"], Value::Null);
}

#[tokio::test]
async fn should_reject_bad_cursors_and_page_sizes_naming_the_argument() {
    let sg = Subgraph::start().await;
    let (_, body) = sg
        .post(
            Some(&staff()),
            "{ organizations(after: \"bogus\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
    let (_, body) = sg
        .post(
            Some(&staff()),
            "{ organizations(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "first");
    assert_eq!(body["errors"][0]["extensions"]["rule"], "max");
}

#[tokio::test]
async fn should_resolve_entity_references_in_batches() {
    let sg = Subgraph::start().await;
    let a = sg.org("Alfa").await;
    let b = sg.org("Bravo").await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id name } } }";
    let reps = json!([
        { "__typename": "Organization", "id": b },
        { "__typename": "Organization", "id": a },
        { "__typename": "Organization", "id": Uuid::nil() }
    ]);
    let (_, body) = sg.post(Some(&staff()), query, json!({ "r": reps })).await;
    let entities = &body["data"]["_entities"];
    assert_eq!(entities[0]["name"], "Bravo");
    assert_eq!(entities[1]["name"], "Alfa");
    assert_eq!(entities[2], Value::Null);
}

#[tokio::test]
async fn should_export_a_reviewed_federation_sdl() {
    let sg = Subgraph::start().await;
    let (_, body) = sg.post(Some(&staff()), "{ _service { sdl } }", json!({})).await;
    let sdl = body["data"]["_service"]["sdl"].as_str().expect("sdl").to_owned();
    assert!(sdl.contains("url: \"https://specs.apollo.dev/federation/v2"), "{sdl}");
    insta::assert_snapshot!("sales_sdl", sdl);
}
