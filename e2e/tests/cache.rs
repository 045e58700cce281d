//! The gateway's response cache over the real subgraphs and the real local Redis
//! (`PROMPTSALES_REDIS_URL`), each test under a key prefix of its own that it deletes at the end;
//! the test that takes Redis down starts a private `redis-server` on a free port instead.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use promptsales_e2e::{READ_SCOPES, TestStack};
use promptsales_gateway::cache::CacheOptions;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const CAMPAIGNS: &str = "query Campaigns($n: Int!) { campaigns(first: $n) { edges { node { id name status } } } }";
const CAMPAIGN: &str = "query Campaign($id: ID!) { campaign(id: $id) { id name status version salesCount } }";

fn shared_redis_url() -> String {
    std::env::var("PROMPTSALES_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix on a Redis, deleted with [`Prefix::clean`].
struct Prefix {
    url: String,
    prefix: String,
}

impl Prefix {
    fn new(url: &str) -> Prefix {
        Prefix {
            url: url.to_owned(),
            prefix: format!("ps:test-{}:", uuid::Uuid::new_v4().simple()),
        }
    }

    async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("Redis answers")
    }

    /// The keys under this prefix that match `pattern` (after the prefix).
    async fn keys(&self, pattern: &str) -> Vec<String> {
        let mut con = self.connection().await;
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}{pattern}", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut con)
                .await
                .expect("scan");
            keys.extend(batch);
            if next == 0 {
                keys.sort();
                return keys;
            }
            cursor = next;
        }
    }

    async fn clean(&self) {
        let keys = self.keys("*").await;
        if !keys.is_empty() {
            let mut con = self.connection().await;
            let _: u64 = redis::cmd("DEL").arg(&keys).query_async(&mut con).await.expect("del");
        }
    }
}

async fn send(stack: &TestStack, query: &str, variables: &Value) -> (String, HeaderMap, Value) {
    let (status, headers, body) = stack.post_with_headers(query, variables.clone()).await;
    assert_eq!(status, 200, "{body}");
    let x_cache = headers
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no x-cache header: {headers:?}"))
        .to_owned();
    (x_cache, headers, body)
}

/// Repeats the request until it is a hit (entries are stored just after the miss is answered).
async fn until_hit(stack: &TestStack, query: &str, variables: &Value) -> (HeaderMap, Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (x_cache, headers, body) = send(stack, query, variables).await;
        if x_cache == "hit" {
            return (headers, body);
        }
        assert!(
            Instant::now() < deadline,
            "never a hit; last x-cache: {x_cache}, {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn cache_control(headers: &HeaderMap) -> &str {
    headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn first_campaign(stack: &TestStack) -> (String, String) {
    let body = stack.query(CAMPAIGNS, json!({ "n": 20 })).await;
    let node = &body["data"]["campaigns"]["edges"][0]["node"];
    let id = node["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    (id, node["status"].as_str().expect("status").to_owned())
}

#[tokio::test]
async fn should_answer_a_repeated_query_from_the_cache_with_the_same_body() {
    let prefix = Prefix::new(&shared_redis_url());
    let stack = TestStack::builder().redis(&prefix.url, &prefix.prefix).start().await;
    let variables = json!({ "n": 3 });

    let (x_cache, headers, first) = send(&stack, CAMPAIGNS, &variables).await;
    assert_eq!(x_cache, "miss");
    assert!(first.get("errors").is_none(), "{first}");
    // No token: every such caller gets this same answer.
    assert_eq!(cache_control(&headers), "private, max-age=60");
    let (headers, cached) = until_hit(&stack, CAMPAIGNS, &variables).await;
    assert_eq!(cached, first);
    assert!(cache_control(&headers).starts_with("private, max-age="), "{headers:?}");
    assert_eq!(prefix.keys("resp:v1:*").await.len(), 1);
    assert!(!prefix.keys("tag:v1:Campaign").await.is_empty(), "tagged by type");

    // Other variables are another entry.
    let (x_cache, _, other) = send(&stack, CAMPAIGNS, &json!({ "n": 2 })).await;
    assert_eq!(x_cache, "miss");
    assert_ne!(other, first);

    // Introspection is never cached.
    let (x_cache, headers, _) = send(&stack, "{ __schema { queryType { name } } }", &json!({})).await;
    assert_eq!(
        (x_cache.as_str(), cache_control(&headers)),
        ("bypass", "private, no-store")
    );
    prefix.clean().await;
}

#[tokio::test]
async fn should_keep_reference_data_as_long_as_its_cache_control_hints_say() {
    let prefix = Prefix::new(&shared_redis_url());
    let stack = TestStack::builder().redis(&prefix.url, &prefix.prefix).start().await;
    let reference = "{ channels { code name } markets { code name } }";

    // Channel and Market carry @cacheControl(maxAge: 3600) in the ads subgraph; the supergraph
    // carries it to the gateway.
    let (x_cache, headers, body) = send(&stack, reference, &json!({})).await;
    assert_eq!(x_cache, "miss");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(cache_control(&headers), "private, max-age=3600");
    let (headers, cached) = until_hit(&stack, reference, &json!({})).await;
    assert_eq!(cached, body);
    let left: u64 = cache_control(&headers)
        .trim_start_matches("private, max-age=")
        .parse()
        .unwrap_or_else(|_| panic!("{headers:?}"));
    assert!(
        (3590..=3600).contains(&left),
        "a hit says what is left of the hour: {left}"
    );

    // Beside a field without a hint, the default holds for the whole response.
    let mixed = "{ channels { code } campaigns(first: 1) { edges { node { id } } } }";
    let (x_cache, headers, _) = send(&stack, mixed, &json!({})).await;
    assert_eq!(x_cache, "miss");
    assert_eq!(cache_control(&headers), "private, max-age=60");
    prefix.clean().await;
}

#[tokio::test]
async fn should_never_serve_one_scope_set_the_entry_of_another() {
    let prefix = Prefix::new(&shared_redis_url());
    let reader = TestStack::builder().redis(&prefix.url, &prefix.prefix).start().await;
    let mut more: Vec<&str> = READ_SCOPES.to_vec();
    more.push("ads:write");
    let writer = TestStack::builder()
        .scopes(&more)
        .redis(&prefix.url, &prefix.prefix)
        .start()
        .await;
    let ads_only = TestStack::builder()
        .scopes(&["ads:read"])
        .redis(&prefix.url, &prefix.prefix)
        .start()
        .await;
    let (id, _) = first_campaign(&reader).await;
    let variables = json!({ "id": id });

    let (x_cache, _, read) = send(&reader, CAMPAIGN, &variables).await;
    assert_eq!(x_cache, "miss");
    until_hit(&reader, CAMPAIGN, &variables).await;
    // The same operation, one more scope: its own entry.
    let (x_cache, _, written) = send(&writer, CAMPAIGN, &variables).await;
    assert_eq!(x_cache, "miss", "another scope set never gets the reader's entry");
    assert_eq!(written, read, "the same data, computed for this caller");
    until_hit(&writer, CAMPAIGN, &variables).await;
    // Fewer scopes: salesCount is refused, and a response with errors is never stored.
    for _ in 0..2 {
        let (x_cache, headers, body) = send(&ads_only, CAMPAIGN, &variables).await;
        assert_eq!(
            (x_cache.as_str(), cache_control(&headers)),
            ("bypass", "private, no-store")
        );
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    }
    // The reader's list and campaign, the writer's campaign; nothing of the refused answers.
    assert_eq!(prefix.keys("resp:v1:*").await.len(), 3);
    // Without etl:run or admin, no invalidation.
    let (status, _) = reader
        .post_json("/cache/invalidate", json!({ "type": "Campaign" }))
        .await;
    assert_eq!(status, 403);
    prefix.clean().await;
}

#[tokio::test]
async fn should_never_store_a_response_that_carried_personal_data() {
    let prefix = Prefix::new(&shared_redis_url());
    let mut scopes: Vec<&str> = READ_SCOPES.to_vec();
    scopes.push("crm:pii");
    let stack = TestStack::builder()
        .scopes(&scopes)
        .redis(&prefix.url, &prefix.prefix)
        .start()
        .await;
    let (id, _) = first_campaign(&stack).await;
    let query = "query($id: ID!) { campaign(id: $id) { id customers(first: 3) { edges { node { id email } } } } }";
    let variables = json!({ "id": id });
    let before = prefix.keys("*").await;
    for _ in 0..3 {
        let (x_cache, headers, body) = send(&stack, query, &variables).await;
        assert_eq!(
            (x_cache.as_str(), cache_control(&headers)),
            ("bypass", "private, no-store")
        );
        let email = body["data"]["campaign"]["customers"]["edges"][0]["node"]["email"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"));
        assert!(!email.contains('•'), "in clear with crm:pii: {email}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(prefix.keys("*").await, before, "nothing of it reached Redis");
    prefix.clean().await;
}

#[tokio::test]
async fn should_show_a_mutation_in_the_next_read_and_let_the_etl_invalidate() {
    let prefix = Prefix::new(&shared_redis_url());
    let mut scopes: Vec<&str> = READ_SCOPES.to_vec();
    scopes.extend(["ads:write", "etl:run"]);
    let stack = TestStack::builder()
        .scopes(&scopes)
        .redis(&prefix.url, &prefix.prefix)
        .start()
        .await;
    let (id, status) = first_campaign(&stack).await;
    let variables = json!({ "id": id });
    send(&stack, CAMPAIGN, &variables).await;
    let (_, before) = until_hit(&stack, CAMPAIGN, &variables).await;
    until_hit(&stack, CAMPAIGNS, &json!({ "n": 20 })).await;

    let next = match status.as_str() {
        "DRAFT" => "SCHEDULED",
        "SCHEDULED" | "PAUSED" => "ACTIVE",
        "ACTIVE" => "PAUSED",
        other => panic!("the first campaign is {other}: no transition to test with"),
    };
    let (x_cache, headers, changed) = send(
        &stack,
        "mutation($id: ID!, $s: CampaignStatus!, $v: Int!) { updateCampaignStatus(id: $id, status: $s, expectedVersion: $v) { id status version } }",
        &json!({ "id": id, "s": next, "v": before["data"]["campaign"]["version"] }),
    )
    .await;
    assert!(changed.get("errors").is_none(), "{changed}");
    assert_eq!(
        (x_cache.as_str(), cache_control(&headers)),
        ("bypass", "private, no-store")
    );

    // Both the campaign and the list that held it were dropped before the mutation answered.
    let (x_cache, _, after) = send(&stack, CAMPAIGN, &variables).await;
    assert_eq!(x_cache, "miss");
    assert_eq!(after["data"]["campaign"]["status"], next, "{after}");
    let (x_cache, _, list) = send(&stack, CAMPAIGNS, &json!({ "n": 20 })).await;
    assert_eq!(x_cache, "miss");
    assert_eq!(list["data"]["campaigns"]["edges"][0]["node"]["status"], next, "{list}");

    // The ETL drops one entity: the entries holding it go, the others stay.
    until_hit(&stack, CAMPAIGN, &variables).await;
    let other = json!({ "n": 1 });
    send(&stack, CAMPAIGNS, &other).await;
    until_hit(&stack, CAMPAIGNS, &other).await;
    let (code, body) = stack
        .post_json("/cache/invalidate", json!({ "type": "Campaign", "ids": [id] }))
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(body["dropped"].as_u64().is_some_and(|n| n >= 2), "{body}");
    assert_eq!(send(&stack, CAMPAIGN, &variables).await.0, "miss");
    let (code, body) = stack.post_json("/cache/invalidate", json!({ "type": "Campain" })).await;
    assert_eq!(code, 400, "a typo is refused: {body}");
    prefix.clean().await;
}

#[tokio::test]
async fn should_serve_the_stale_entry_when_a_subgraph_is_down() {
    let prefix = Prefix::new(&shared_redis_url());
    let mut options = CacheOptions::default();
    options.redis.url = Some(prefix.url.clone());
    options.redis.prefix = prefix.prefix.clone();
    options.redis.timeout_ms = 500;
    options.default_max_age_secs = 1;
    options.grace_secs = 60;
    let mut stack = TestStack::builder().cache(options).start().await;
    let (id, _) = first_campaign(&stack).await;
    let variables = json!({ "id": id });
    let (_, _, fresh) = send(&stack, CAMPAIGN, &variables).await;
    until_hit(&stack, CAMPAIGN, &variables).await;

    tokio::time::sleep(Duration::from_millis(1100)).await;
    stack.stop("crm").await;
    let (x_cache, headers, body) = send(&stack, CAMPAIGN, &variables).await;
    assert_eq!(x_cache, "stale", "{body}");
    assert_eq!(body, fresh, "the last good answer, not a partial one");
    assert_eq!(cache_control(&headers), "private, max-age=0");

    // What was never cached gets the partial answer with its error.
    let (x_cache, _, partial) = send(
        &stack,
        "query($id: ID!) { campaign(id: $id) { id salesCount } }",
        &variables,
    )
    .await;
    assert_eq!(x_cache, "bypass");
    assert_eq!(
        partial["errors"][0]["extensions"]["code"], "SUBGRAPH_REQUEST_FAILED",
        "{partial}"
    );
    prefix.clean().await;
}

/// The campaign with what content, crm and sales add to it (all nullable).
const PAGE: &str = "query Page($id: ID!) { campaign(id: $id) { id name status \
                    contentRequests { id status } logs { id } salesTotal salesCount summary { revenue } } }";

#[tokio::test]
async fn should_never_store_a_partial_answer_and_serve_the_last_complete_one_while_a_subgraph_is_down() {
    let prefix = Prefix::new(&shared_redis_url());
    let mut options = CacheOptions::default();
    options.redis.url = Some(prefix.url.clone());
    options.redis.prefix = prefix.prefix.clone();
    options.redis.timeout_ms = 500;
    options.default_max_age_secs = 1;
    options.grace_secs = 60;
    let mut stack = TestStack::builder().cache(options).start().await;
    let body = stack.query(CAMPAIGNS, json!({ "n": 2 })).await;
    let ids: Vec<Value> = (0..2)
        .map(|i| body["data"]["campaigns"]["edges"][i]["node"]["id"].clone())
        .collect();
    let (cached, never_cached) = (json!({ "id": ids[0] }), json!({ "id": ids[1] }));

    let (x_cache, _, complete) = send(&stack, PAGE, &cached).await;
    assert_eq!(x_cache, "miss");
    assert!(complete.get("errors").is_none(), "{complete}");
    until_hit(&stack, PAGE, &cached).await;
    let entries = prefix.keys("resp:v1:*").await.len();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    stack.stop("content").await;

    // Past its freshness, the last complete answer is served rather than the partial one.
    let (x_cache, headers, body) = send(&stack, PAGE, &cached).await;
    assert_eq!((x_cache.as_str(), body), ("stale", complete.clone()));
    assert_eq!(cache_control(&headers), "private, max-age=0");

    // A page never answered complete gets its partial answer, every time: it is not stored.
    for _ in 0..2 {
        let (x_cache, headers, partial) = send(&stack, PAGE, &never_cached).await;
        assert_eq!(
            (x_cache.as_str(), cache_control(&headers)),
            ("bypass", "private, no-store")
        );
        let campaign = &partial["data"]["campaign"];
        assert!(
            campaign["name"].is_string() && campaign["salesCount"].is_number(),
            "{partial}"
        );
        assert!(
            campaign["contentRequests"].is_null() && campaign["logs"].is_null(),
            "{partial}"
        );
        assert_eq!(partial["errors"].as_array().map(Vec::len), Some(2), "{partial}");
    }
    assert_eq!(
        prefix.keys("resp:v1:*").await.len(),
        entries,
        "no entry for a partial answer"
    );

    // Back: complete answers, stored again.
    stack.restart("content").await;
    for variables in [&cached, &never_cached] {
        let (x_cache, _, body) = send(&stack, PAGE, variables).await;
        assert_eq!(x_cache, "miss", "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        let (_, hit) = until_hit(&stack, PAGE, variables).await;
        assert_eq!(hit, body);
    }
    prefix.clean().await;
}

/// A private `redis-server` on a free port, killed on drop.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    }

    async fn start(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on {port}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        PrivateRedis {
            port,
            child: Some(child),
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn should_answer_exactly_as_uncached_while_redis_is_down_and_cache_again_after() {
    let mut server = PrivateRedis::start(PrivateRedis::free_port()).await;
    let url = format!("redis://127.0.0.1:{}", server.port);
    let mut options = CacheOptions::default();
    options.redis.url = Some(url);
    options.redis.prefix = "ps:".to_owned();
    options.redis.timeout_ms = 100;
    options.redis.breaker_failures = 3;
    options.redis.breaker_cooldown_ms = 300;
    let stack = TestStack::builder().cache(options).start().await;
    let (id, _) = first_campaign(&stack).await;
    let variables = json!({ "id": id });
    let (_, _, reference) = send(&stack, CAMPAIGN, &variables).await;
    let (_, cached) = until_hit(&stack, CAMPAIGN, &variables).await;
    assert_eq!(cached, reference);

    server.stop();
    for round in 0..20 {
        let (x_cache, _, body) = send(&stack, CAMPAIGN, &variables).await;
        assert_eq!(body, reference, "round {round}: the uncached answer, without an error");
        assert_eq!(x_cache, "miss", "round {round}");
        let (_, _, list) = send(&stack, CAMPAIGNS, &json!({ "n": 2 })).await;
        assert!(list.get("errors").is_none(), "round {round}: {list}");
    }

    // Back on the same port, empty: the breaker closes by itself and entries are stored again.
    let _server = PrivateRedis::start(server.port).await;
    let (_, again) = until_hit(&stack, CAMPAIGN, &variables).await;
    assert_eq!(again, reference);
}

#[tokio::test]
async fn should_drop_cached_answers_about_a_customer_when_the_customer_is_erased() {
    const CUSTOMER: &str = "query Customer($id: ID!) { customer(id: $id) { id firstName lastName city } }";
    let prefix = Prefix::new(&shared_redis_url());
    let mut scopes = READ_SCOPES.to_vec();
    scopes.extend(["admin", "crm:pii"]);
    let stack = TestStack::builder()
        .scopes(&scopes)
        .redis(&prefix.url, &prefix.prefix)
        .start()
        .await;
    let list = stack
        .query("{ customers(first: 1) { edges { node { id } } } }", json!({}))
        .await;
    let id = list["data"]["customers"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{list}"))
        .to_owned();
    let variables = json!({ "id": id });
    let (_, before) = until_hit(&stack, CUSTOMER, &variables).await;
    assert!(before["data"]["customer"]["firstName"].is_string(), "{before}");
    // The erasure receipt is no Customer: dropping by returned types alone kept the entry.
    let erased = stack
        .query(
            "mutation($id: ID!) { eraseCustomer(customerId: $id) { customerId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(erased["data"]["eraseCustomer"]["customerId"], id.as_str(), "{erased}");
    let (x_cache, _, after) = send(&stack, CUSTOMER, &variables).await;
    assert_ne!(
        x_cache, "hit",
        "the erased customer's cached answer was dropped: {after}"
    );
    assert_ne!(after, before, "the answer reflects the erasure");
    prefix.clean().await;
}
