//! The content subgraph through its HTTP interface, in-process, over the PostgreSQL twin loaded
//! with the shared fixture (tests/support).

mod support;

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, header},
};
use promptsales_content::{
    AppState, Config, app,
    store::{ContentStore, PgStore, document::Collection},
};
use promptsales_platform::claims::{self, Claims, ClaimsKey};
use promptsales_testkit::TestDb;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Fixture, counting::Counting};
use tower::ServiceExt;
use uuid::Uuid;

struct Subgraph {
    _db: TestDb,
    pg: Arc<PgStore>,
    fixture: Fixture,
    key: ClaimsKey,
    router: axum::Router,
}

struct Reply {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Subgraph {
    async fn start() -> Subgraph {
        Subgraph::start_with(|s| s).await
    }

    /// Starts over the fixture, the store wrapped by `wrap` (a counting decorator, say).
    async fn start_with(wrap: impl FnOnce(Arc<dyn ContentStore>) -> Arc<dyn ContentStore>) -> Subgraph {
        let (db, pg, fixture) = support::postgres().await;
        let key = ClaimsKey::random();
        let config = Config {
            port: 0,
            content_url: None,
            public_url: None,
            dev_graphiql: false,
            model_dir: None,
            index_dir: None,
            embedding_cache: false,
        };
        let state = AppState::new(wrap(pg.clone()), key.clone(), &config);
        Subgraph {
            router: app(state, &config),
            _db: db,
            pg,
            fixture,
            key,
        }
    }

    async fn call(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("call");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("body")
            .to_vec();
        Reply { status, headers, body }
    }

    async fn post(&self, claims: Option<&Claims>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(c) = claims {
            request = request.header(claims::HEADER, self.key.sign(c));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        let reply = self.call(request.body(Body::from(body)).expect("request")).await;
        (reply.status, serde_json::from_slice(&reply.body).expect("JSON body"))
    }

    /// `data` of a query that must succeed.
    async fn data(&self, claims: &Claims, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(Some(claims), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }

    async fn get(&self, claims: Option<&Claims>, path: &str, if_none_match: Option<&str>) -> Reply {
        let mut request = Request::get(path);
        if let Some(c) = claims {
            request = request.header(claims::HEADER, self.key.sign(c));
        }
        if let Some(etag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        self.call(request.body(Body::empty()).expect("request")).await
    }

    fn tenant(&self, org: Uuid) -> Claims {
        Claims {
            org: Some(org),
            ..staff()
        }
    }
}

fn staff() -> Claims {
    Claims::staff(
        &Uuid::new_v4().to_string(),
        &["content:read", "content:write", "etl:run"],
    )
}

fn ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

fn strs(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

#[tokio::test]
async fn should_refuse_requests_without_the_gateways_signed_claims() {
    let sg = Subgraph::start().await;
    let (status, body) = sg.post(None, "{ images { totalCount } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let path = format!("/images/{}", sg.fixture.stock[0]);
    assert_eq!(sg.get(None, &path, None).await.status, 401);
    let forged = ClaimsKey::random().sign(&staff());
    let request = Request::get(&path)
        .header(claims::HEADER, forged)
        .body(Body::empty())
        .expect("request");
    assert_eq!(sg.call(request).await.status, 401);
    assert_eq!(sg.get(None, "/readyz", None).await.status, 200);
}

#[tokio::test]
async fn should_page_images_newest_first_with_their_hashtags_and_urls() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($after: String) { images(first: 4, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id url stock organizationId tags hashtags { tag usageCount }
                       file { contentType sha256 } usageRights { license allowedChannels } } } } }";
    let tenant = sg.tenant(f.org_a);
    let first = sg.data(&tenant, query, json!({})).await;
    let page = &first["images"];
    assert_eq!(page["totalCount"], 5);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let [a1, a2, a3] = f.images_a;
    assert_eq!(ids(page), strs(&[a3, a2, a1, f.stock[1]]));
    let node = &page["edges"][0]["node"];
    assert_eq!(node["url"], format!("/images/{a3}"));
    assert_eq!(node["stock"], false);
    assert_eq!(node["organizationId"], f.org_a.to_string());
    assert_eq!(node["tags"], json!(["summer", "beach", "students"]));
    assert_eq!(
        node["hashtags"],
        json!([{ "tag": "summer", "usageCount": 40 }, { "tag": "beach", "usageCount": 30 },
               { "tag": "students", "usageCount": 10 }])
    );
    let after = page["pageInfo"]["endCursor"].clone();
    let last = sg.data(&tenant, query, json!({ "after": after })).await;
    assert_eq!(ids(&last["images"]), strs(&[f.stock[0]]));
    assert_eq!(last["images"]["pageInfo"]["hasNextPage"], false);
    let stock = &last["images"]["edges"][0]["node"];
    assert_eq!(
        (stock["stock"].clone(), stock["organizationId"].clone()),
        (json!(true), Value::Null)
    );
    assert_eq!(
        stock["hashtags"].as_array().expect("hashtags").len(),
        2,
        "`sunset` is no vocabulary hashtag"
    );
}

#[tokio::test]
async fn should_filter_images_by_hashtag() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($tag: String) { images(hashtag: $tag) { totalCount edges { node { id } } } }";
    let data = sg.data(&sg.tenant(f.org_a), query, json!({ "tag": "summer" })).await;
    assert_eq!(ids(&data["images"]), strs(&[f.images_a[2], f.images_a[0], f.stock[0]]));
    let data = sg.data(&sg.tenant(f.org_a), query, json!({ "tag": "#coffee" })).await;
    assert_eq!(data["images"]["totalCount"], 3, "a leading # is ignored");
}

#[tokio::test]
async fn should_show_each_tenant_its_own_images_and_the_stock_library_only() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($id: ID!) { image(id: $id) { id } }";
    for (org, image, visible) in [
        (f.org_a, f.images_a[0], true),
        (f.org_b, f.images_a[0], false),
        (f.org_b, f.stock[0], true),
        (f.org_a, f.image_b, false),
        (f.org_a, f.image_a_deleted, false),
    ] {
        let data = sg.data(&sg.tenant(org), query, json!({ "id": image })).await;
        assert_eq!(data["image"].is_object(), visible, "{org} sees {image}: {visible}");
    }
    let list = "{ contentRequests { totalCount } campaignLogs { totalCount } integrations { totalCount } }";
    let data = sg.data(&sg.tenant(f.org_b), list, json!({})).await;
    assert_eq!(
        [&data["contentRequests"], &data["campaignLogs"], &data["integrations"]].map(|c| c["totalCount"].clone()),
        [json!(1), json!(1), json!(1)]
    );
}

#[tokio::test]
async fn should_serve_image_bytes_with_their_type_hash_and_immutable_caching() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let a1 = f.images_a[0];
    let tenant = sg.tenant(f.org_a);
    let meta = sg
        .data(
            &tenant,
            "query($id: ID!) { image(id: $id) { url file { sha256 sizeBytes } } }",
            json!({ "id": a1 }),
        )
        .await;
    let url = meta["image"]["url"].as_str().expect("url").to_owned();
    let reply = sg.get(Some(&tenant), &url, None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "image/png");
    assert!(reply.body.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG bytes");
    assert_eq!(reply.body, f.bytes_of(a1));
    let sha = format!("{:x}", Sha256::digest(&reply.body));
    assert_eq!(
        meta["image"]["file"]["sha256"], sha,
        "the bytes hash to the recorded SHA-256"
    );
    assert_eq!(meta["image"]["file"]["sizeBytes"], reply.body.len());
    let etag = format!("\"{sha}\"");
    assert_eq!(reply.headers[header::ETAG], etag.as_str());
    assert_eq!(
        reply.headers[header::CACHE_CONTROL],
        "private, max-age=31536000, immutable"
    );
    assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let again = sg.get(Some(&tenant), &url, Some(&etag)).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.headers[header::ETAG], etag.as_str());
    let changed = sg.get(Some(&tenant), &url, Some("\"0000\"")).await;
    assert_eq!(changed.status, 200);

    let stock = sg
        .get(Some(&sg.tenant(f.org_b)), &format!("/images/{}", f.stock[0]), None)
        .await;
    assert_eq!(stock.status, 200, "the stock library is everyone's");
    assert_eq!(sg.get(Some(&sg.tenant(f.org_b)), &url, None).await.status, 404);
    let deleted = format!("/images/{}", f.image_a_deleted);
    assert_eq!(sg.get(Some(&tenant), &deleted, None).await.status, 404);
    assert_eq!(sg.get(Some(&tenant), "/images/not-a-uuid", None).await.status, 400);
    let no_scope = Claims::staff("etl", &["etl:run"]);
    assert_eq!(sg.get(Some(&no_scope), &url, None).await.status, 403);
}

#[tokio::test]
async fn should_list_hashtags_by_use() {
    let sg = Subgraph::start().await;
    let query = "query($after: String, $category: String) {
        hashtags(first: 3, after: $after, category: $category) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { id tag category usageCount } } } }";
    let data = sg.data(&staff(), query, json!({})).await;
    let page = &data["hashtags"];
    assert_eq!(page["totalCount"], 4);
    assert_eq!(page["edges"][0]["node"]["tag"], "summer");
    assert_eq!(page["edges"][0]["node"]["usageCount"], 40);
    let rest = sg
        .data(&staff(), query, json!({ "after": page["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(rest["hashtags"]["edges"][0]["node"]["tag"], "students");
    assert_eq!(rest["hashtags"]["pageInfo"]["hasNextPage"], false);
    let season = sg.data(&staff(), query, json!({ "category": "season" })).await;
    assert_eq!(season["hashtags"]["totalCount"], 2);
}

#[tokio::test]
async fn should_list_content_requests_and_read_one_with_its_images() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let [r1, r2] = f.requests_a;
    let list = "query($campaign: ID, $status: ContentRequestStatus) {
        contentRequests(campaignId: $campaign, status: $status) { totalCount edges { node { id status } } } }";
    let tenant = sg.tenant(f.org_a);
    let data = sg.data(&tenant, list, json!({ "campaign": f.campaign_a })).await;
    assert_eq!(ids(&data["contentRequests"]), strs(&[r2, r1]));
    assert_eq!(data["contentRequests"]["edges"][0]["node"]["status"], "IN_PROGRESS");
    let data = sg.data(&tenant, list, json!({ "status": "OPEN" })).await;
    assert_eq!(ids(&data["contentRequests"]), strs(&[r1]));
    let data = sg.data(&tenant, list, json!({ "campaign": f.campaign_b })).await;
    assert_eq!(data["contentRequests"]["totalCount"], 0);

    let one = "query($id: ID!) { contentRequest(id: $id) {
        id organizationId requestedBy campaign { id } campaignDescription status createdAt deletedAt
        targetAudiences { name ageMin ageMax locales interests countryCodes } images { id } } }";
    let data = sg.data(&tenant, one, json!({ "id": r1 })).await;
    let request = &data["contentRequest"];
    assert_eq!(request["campaign"]["id"], f.campaign_a.to_string());
    assert_eq!(request["organizationId"], f.org_a.to_string());
    assert_eq!(request["deletedAt"], Value::Null);
    assert_eq!(
        request["targetAudiences"][0],
        json!({ "name": "Students", "ageMin": 18, "ageMax": 24, "locales": ["es-MX", "en-US"],
                "interests": ["music"], "countryCodes": ["MX", "US"] })
    );
    assert_eq!(ids_of(&request["images"]), strs(&[f.images_a[1], f.images_a[0]]));
    let hidden = sg.data(&sg.tenant(f.org_b), one, json!({ "id": r1 })).await;
    assert_eq!(hidden["contentRequest"], Value::Null);
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn should_list_campaign_logs_with_their_messages() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($campaign: ID) { campaignLogs(campaignId: $campaign) { totalCount
        edges { node { id population channelCode messageCount campaign { id } messages { at locale text } } } } }";
    let data = sg.data(&staff(), query, json!({ "campaign": f.campaign_b })).await;
    let log = &data["campaignLogs"]["edges"][0]["node"];
    assert_eq!(data["campaignLogs"]["totalCount"], 1);
    assert_eq!(log["id"], f.log_b.to_string());
    assert_eq!(
        log["messages"],
        json!([{ "at": "2025-03-01T10:40:00+00:00", "locale": "es-MX", "text": "Hi" }])
    );
    assert_eq!(
        (log["population"].clone(), log["messageCount"].clone()),
        (json!("Students"), json!(1))
    );
    let data = sg.data(&sg.tenant(f.org_a), query, json!({})).await;
    assert_eq!(data["campaignLogs"]["totalCount"], 2);
}

#[tokio::test]
async fn should_list_integrations_without_ever_returning_credentials() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($after: String) { integrations(first: 1, after: $after) { totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id name kind endpoint authMethod enabled hasCredentials credentialsKeyId } } } }";
    let tenant = sg.tenant(f.org_a);
    let (_, body) = sg.post(Some(&tenant), query, json!({})).await;
    let page = &body["data"]["integrations"];
    assert_eq!(page["totalCount"], 2);
    assert_eq!(
        page["edges"][0]["node"],
        json!({ "id": f.integrations_a[1].to_string(), "name": "Webhook", "kind": "webhook",
                "endpoint": "https://webhook.example.com/api", "authMethod": "none", "enabled": true,
                "hasCredentials": false, "credentialsKeyId": null })
    );
    let rest = sg
        .data(&tenant, query, json!({ "after": page["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(
        rest["integrations"]["edges"][0]["node"],
        json!({ "id": f.integrations_a[0].to_string(), "name": "mailchimp", "kind": "mailchimp",
                "endpoint": "https://mailchimp.example.com/api", "authMethod": "api_key", "enabled": true,
                "hasCredentials": true, "credentialsKeyId": "kek-2025" })
    );
    assert_eq!(rest["integrations"]["pageInfo"]["hasNextPage"], false);
    let (_, sdl) = sg.post(Some(&staff()), "{ _service { sdl } }", json!({})).await;
    let sdl = sdl["data"]["_service"]["sdl"].as_str().expect("sdl");
    assert!(
        !sdl.contains("credentialsEnc") && !sdl.contains("ciphertext"),
        "no field can carry them"
    );
    let (_, body) = sg
        .post(
            Some(&tenant),
            "{ integrations { edges { node { secret } } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_array());
}

#[tokio::test]
async fn should_feed_changes_since_a_time_oldest_first_with_tombstones() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let etl = Claims::staff("etl", &["etl:run", "content:read"]);
    for (field, total, deleted) in [
        ("imagesUpdatedSince", 7, f.image_a_deleted),
        ("contentRequestsUpdatedSince", 4, f.request_a_deleted),
        ("campaignLogsUpdatedSince", 4, f.log_a_deleted),
    ] {
        let query = format!(
            "query($after: String) {{ {field}(since: \"2000-01-01T00:00:00Z\", first: 3, after: $after) {{
                totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ id updatedAt deletedAt }} }} }} }}"
        );
        let mut nodes = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = sg.data(&etl, &query, json!({ "after": after })).await;
            let page = &data[field];
            assert_eq!(page["totalCount"], total);
            nodes.extend(
                page["edges"]
                    .as_array()
                    .expect("edges")
                    .iter()
                    .map(|e| e["node"].clone()),
            );
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(nodes.len(), total, "{field}: every change once");
        let times: Vec<&str> = nodes.iter().map(|n| n["updatedAt"].as_str().expect("time")).collect();
        let parsed: Vec<chrono::DateTime<chrono::Utc>> =
            times.iter().map(|t| t.parse().expect("an RFC 3339 time")).collect();
        assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "{field}: oldest change first");
        let tombstone = nodes
            .iter()
            .find(|n| n["id"] == deleted.to_string())
            .expect("the deleted document is in the feed");
        assert!(tombstone["deletedAt"].is_string());
    }
    let (_, body) = sg
        .post(
            Some(&Claims::staff("etl", &["etl:run"])),
            "{ imagesUpdatedSince(since: \"not a time\") { totalCount } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_array());
}

#[tokio::test]
async fn should_resolve_entity_references_in_batches() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) {
        __typename
        ... on Image { id file { name } }
        ... on Hashtag { id tag }
        ... on ContentRequest { id status }
        ... on CampaignLog { id population }
        ... on Integration { id name }
        ... on Campaign { id contentRequests { id } logs { id } images { id } } } }";
    let reps = json!([
        { "__typename": "Image", "id": f.images_a[1] },
        { "__typename": "Image", "id": f.stock[0] },
        { "__typename": "Image", "id": Uuid::nil() },
        { "__typename": "Image", "id": f.image_b },
        { "__typename": "Hashtag", "id": f.hashtag("coffee") },
        { "__typename": "Hashtag", "id": f.hashtag("retro") },
        { "__typename": "ContentRequest", "id": f.requests_a[0] },
        { "__typename": "CampaignLog", "id": f.logs_a[1] },
        { "__typename": "Integration", "id": f.integrations_a[1] },
        { "__typename": "Campaign", "id": f.campaign_a },
        { "__typename": "Campaign", "id": Uuid::nil() }
    ]);
    let data = sg.data(&sg.tenant(f.org_a), query, json!({ "r": reps })).await;
    let e = &data["_entities"];
    assert_eq!(e[0]["id"], f.images_a[1].to_string());
    assert_eq!(e[1]["__typename"], "Image");
    assert_eq!(e[2], Value::Null, "unknown id");
    assert_eq!(e[3], Value::Null, "another tenant's image");
    assert_eq!(e[4]["tag"], "coffee");
    assert_eq!(e[5], Value::Null, "deleted hashtag");
    assert_eq!(e[6]["status"], "OPEN");
    assert_eq!(e[7]["population"], "Adults");
    assert_eq!(e[8]["name"], "Webhook");
    let campaign = &e[9];
    assert_eq!(
        ids_of(&campaign["contentRequests"]),
        strs(&[f.requests_a[1], f.requests_a[0]])
    );
    assert_eq!(ids_of(&campaign["logs"]), strs(&[f.logs_a[1], f.logs_a[0]]));
    assert_eq!(ids_of(&campaign["images"]), strs(&[f.images_a[1], f.images_a[0]]));
    assert_eq!(
        e[10],
        json!({ "__typename": "Campaign", "id": Uuid::nil().to_string(), "contentRequests": [], "logs": [], "images": [] })
    );
}

#[tokio::test]
async fn should_reject_bad_cursors_page_sizes_and_ids_naming_the_argument() {
    let sg = Subgraph::start().await;
    let cases = [
        ("{ images(after: \"bogus\") { totalCount } }", "after", "cursor"),
        (
            "{ integrations(after: \"djF8enp8MQ\") { totalCount } }",
            "after",
            "cursor",
        ),
        ("{ hashtags(first: 1000) { totalCount } }", "first", "max"),
        ("{ images(first: -1) { totalCount } }", "first", "min"),
        ("{ image(id: \"nope\") { id } }", "id", "uuid"),
        (
            "{ contentRequests(campaignId: \"nope\") { totalCount } }",
            "campaignId",
            "uuid",
        ),
    ];
    for (query, field, rule) in cases {
        let (_, body) = sg.post(Some(&staff()), query, json!({})).await;
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(ext["code"], "BAD_USER_INPUT", "{query}: {body}");
        assert_eq!(
            (ext["field"].as_str(), ext["rule"].as_str()),
            (Some(field), Some(rule)),
            "{query}"
        );
    }
    // A cursor of one list is not a cursor of another.
    let data = sg
        .data(&staff(), "{ hashtags(first: 1) { pageInfo { endCursor } } }", json!({}))
        .await;
    let cursor = data["hashtags"]["pageInfo"]["endCursor"].clone();
    let (_, body) = sg
        .post(
            Some(&staff()),
            "query($c: String) { images(after: $c) { totalCount } }",
            json!({ "c": cursor }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
}

const CREATE: &str = "mutation($input: NewContentRequestInput!) { createContentRequest(input: $input) {
    id organizationId requestedBy status campaign { id } campaignDescription targetAudiences { name interests } } }";

fn audience() -> Value {
    json!({ "name": "Runners", "ageMin": 20, "ageMax": 35, "locales": ["es-MX"], "countryCodes": ["MX"] })
}

#[tokio::test]
async fn should_create_a_content_request_for_the_callers_organization() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let tenant = sg.tenant(f.org_a);
    let input = json!({ "campaignId": f.campaign_a, "targetAudiences": [audience()],
                        "campaignDescription": "Marathon season: gels and shoes for early-morning runners." });
    let data = sg.data(&tenant, CREATE, json!({ "input": input })).await;
    let created = &data["createContentRequest"];
    assert_eq!(created["status"], "OPEN");
    assert_eq!(created["organizationId"], f.org_a.to_string());
    assert_eq!(created["requestedBy"], tenant.sub);
    assert_eq!(
        created["targetAudiences"],
        json!([{ "name": "Runners", "interests": [] }])
    );
    let read = sg
        .data(
            &tenant,
            "query($id: ID!) { contentRequest(id: $id) { id } }",
            json!({ "id": created["id"] }),
        )
        .await;
    assert_eq!(read["contentRequest"]["id"], created["id"]);

    let mut other = input.clone();
    other["organizationId"] = json!(f.org_b);
    let (_, body) = sg.post(Some(&tenant), CREATE, json!({ "input": other })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let (_, body) = sg.post(Some(&staff()), CREATE, json!({ "input": input })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.organizationId");
    let data = sg.data(&staff(), CREATE, json!({ "input": other })).await;
    assert_eq!(data["createContentRequest"]["organizationId"], f.org_b.to_string());
    let robot = Claims {
        org: Some(f.org_a),
        ..Claims::staff("etl-robot", &["content:write"])
    };
    let (_, body) = sg.post(Some(&robot), CREATE, json!({ "input": input })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn should_refuse_an_invalid_content_request_naming_field_and_rule_and_write_nothing() {
    let sg = Subgraph::start().await;
    let f = &sg.fixture;
    let tenant = sg.tenant(f.org_a);
    let count = "{ contentRequests { totalCount } }";
    let before = sg.data(&tenant, count, json!({})).await;
    let mut bad_age = audience();
    bad_age["ageMin"] = json!(12);
    let mut bad_locale = audience();
    bad_locale["locales"] = json!(["es-MX", "es-MX"]);
    let mut inverted = audience();
    inverted["ageMin"] = json!(40);
    let description = "A long enough description of the campaign.";
    let cases = [
        (
            json!({ "campaignId": f.campaign_a, "campaignDescription": "short", "targetAudiences": [audience()] }),
            "input.campaignDescription",
            "minLength",
        ),
        (
            json!({ "campaignId": f.campaign_a, "campaignDescription": description, "targetAudiences": [] }),
            "input.targetAudiences",
            "minItems",
        ),
        (
            json!({ "campaignId": f.campaign_a, "campaignDescription": description, "targetAudiences": [bad_age] }),
            "input.targetAudiences[0].ageMin",
            "minimum",
        ),
        (
            json!({ "campaignId": f.campaign_a, "campaignDescription": description, "targetAudiences": [audience(), bad_locale] }),
            "input.targetAudiences[1].locales",
            "uniqueItems",
        ),
        (
            json!({ "campaignId": f.campaign_a, "campaignDescription": description, "targetAudiences": [inverted] }),
            "input.targetAudiences[0].ageMin",
            "atMostAgeMax",
        ),
        (
            json!({ "campaignId": "nope", "campaignDescription": description, "targetAudiences": [audience()] }),
            "input.campaignId",
            "uuid",
        ),
    ];
    for (input, field, rule) in cases {
        let (_, body) = sg.post(Some(&tenant), CREATE, json!({ "input": input })).await;
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(ext["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(
            (ext["field"].as_str(), ext["rule"].as_str()),
            (Some(field), Some(rule)),
            "{body}"
        );
        assert_eq!(body["data"], Value::Null);
    }
    let after = sg.data(&tenant, count, json!({})).await;
    assert_eq!(before, after, "nothing was written");
    let read_only = Claims {
        org: Some(f.org_a),
        ..Claims::staff(&Uuid::new_v4().to_string(), &["content:read"])
    };
    let sdl_scopes = sg.data(&read_only, "{ _service { sdl } }", json!({})).await;
    assert!(
        sdl_scopes["_service"]["sdl"]
            .as_str()
            .expect("sdl")
            .contains("createContentRequest(input: NewContentRequestInput!): ContentRequest! @requiresScopes(scopes: [[\"content:write\"]])"),
        "the gateway enforces content:write on the mutation"
    );
}

/// One batched call per relation. A DataLoader batches what arrives within its short window, so a
/// slow (debug, loaded) machine may split a level in two; never one call per item.
fn assert_constant(calls: &[&'static str], kinds: &[&str]) {
    let mut seen: Vec<&str> = calls.to_vec();
    seen.sort_unstable();
    seen.dedup();
    let mut want = kinds.to_vec();
    want.sort_unstable();
    assert_eq!(seen, want, "{calls:?}");
    assert!(
        calls.len() <= 2 * kinds.len(),
        "a constant number of store calls, not one per item: {calls:?}"
    );
}

#[tokio::test]
async fn should_load_a_page_of_50_images_with_hashtags_in_two_store_calls() {
    let mut counting = None;
    let sg = Subgraph::start_with(|inner| {
        let c = Counting::new(inner);
        counting = Some(c.clone());
        c
    })
    .await;
    let counting = counting.expect("wrapped");
    let org = sg.fixture.org_a;
    sg.pg
        .import(Collection::Images, &support::more_images(50, Some(org)))
        .await
        .expect("more images");
    counting.reset();
    let query = "{ images(first: 50) { edges { node { id tags hashtags { tag usageCount } } } } }";
    let data = sg.data(&sg.tenant(org), query, json!({})).await;
    assert_eq!(data["images"]["edges"].as_array().expect("edges").len(), 50);
    assert_constant(&counting.calls(), &["images", "hashtags_by_tag"]);
}

#[tokio::test]
async fn should_resolve_50_campaigns_with_their_content_in_constant_store_calls() {
    let mut counting = None;
    let sg = Subgraph::start_with(|inner| {
        let c = Counting::new(inner);
        counting = Some(c.clone());
        c
    })
    .await;
    let counting = counting.expect("wrapped");
    let f = &sg.fixture;
    let mut reps: Vec<Value> = (0..48)
        .map(|_| json!({ "__typename": "Campaign", "id": Uuid::new_v4() }))
        .collect();
    reps.push(json!({ "__typename": "Campaign", "id": f.campaign_a }));
    reps.push(json!({ "__typename": "Campaign", "id": f.campaign_b }));
    counting.reset();
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign {
        id contentRequests { id images { id hashtags { tag } } } logs { id } images { id } } } }";
    let data = sg.data(&staff(), query, json!({ "r": reps })).await;
    assert_eq!(data["_entities"].as_array().expect("entities").len(), 50);
    assert_eq!(
        data["_entities"][49]["contentRequests"][0]["id"],
        f.request_b.to_string()
    );
    assert_constant(
        &counting.calls(),
        &[
            "campaign_logs_by_campaign",
            "content_requests_by_campaign",
            "hashtags_by_tag",
            "images_by_campaign",
            "images_by_request",
        ],
    );
}

#[tokio::test]
async fn should_export_a_reviewed_federation_sdl() {
    let sg = Subgraph::start().await;
    let data = sg.data(&staff(), "{ _service { sdl } }", json!({})).await;
    let sdl = data["_service"]["sdl"].as_str().expect("sdl").to_owned();
    assert!(sdl.contains("url: \"https://specs.apollo.dev/federation/v2"), "{sdl}");
    insta::assert_snapshot!("content_sdl", sdl);
}
