//! Automatic persisted queries through the HTTP front (Apollo's protocol), registered in the
//! local Redis under a prefix per test.

mod fixtures;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use fixtures::Stack;
use promptsales_gateway::{
    apq::{ApqOptions, PersistedQueries},
    config::HttpOptions,
    server::{self, Services},
};
use promptsales_platform::redis::{KeySpace, Redis, RedisOptions};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const ME: &str = "{ me { username } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn redis() -> Redis {
    Redis::new(&RedisOptions {
        prefix: format!("ps:test-{}:", uuid::Uuid::new_v4().simple()),
        timeout_ms: 2000,
        ..RedisOptions::default()
    })
    .expect("redis client")
}

async fn stack_with_apq(redis: &Redis) -> (Stack, Router) {
    let stack = Stack::start().await;
    let services = Services {
        apq: Some(PersistedQueries::new(&ApqOptions::default(), redis.clone())),
        ..Services::default()
    };
    let router = server::router_with_services(
        stack.gateway.clone(),
        stack.key.clone(),
        HttpOptions::default(),
        services,
    );
    (stack, router)
}

fn extensions(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

async fn post(router: &Router, body: Value) -> (StatusCode, Value) {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    send(router, request).await
}

async fn get_by_hash(router: &Router, hash: &str) -> (StatusCode, Value) {
    let query = [("extensions", extensions(hash).to_string())];
    let encoded = url_encoded(&query);
    let request = Request::get(format!("/graphql?{encoded}"))
        .header("apollo-require-preflight", "true")
        .body(Body::empty())
        .expect("request");
    send(router, request).await
}

/// `name=value&…` with the values percent-encoded.
fn url_encoded(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| {
            let encoded: String = value
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{name}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn should_answer_not_found_then_register_then_run_by_hash_alone() {
    let redis = redis();
    let (_stack, router) = stack_with_apq(&redis).await;
    let hash = sha256(ME);
    let (status, body) = post(&router, json!({ "extensions": extensions(&hash) })).await;
    assert_eq!(status, StatusCode::OK, "Apollo clients expect 200: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    let (status, body) = post(&router, json!({ "query": ME, "extensions": extensions(&hash) })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "data": { "me": { "username": "ada" } } }));
    let stored = redis.keys().key(KeySpace::Apq, &[&hash]);
    let ttl: i64 = redis
        .query("pttl", redis::cmd("PTTL").arg(&stored))
        .await
        .expect("pttl");
    assert!(ttl > 86_000_000, "kept a day: {ttl} ms");
    let (status, body) = post(&router, json!({ "extensions": extensions(&hash) })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "data": { "me": { "username": "ada" } } }));
    let _: () = redis.query("del", redis::cmd("DEL").arg(&stored)).await.expect("del");
}

#[tokio::test]
async fn should_refuse_a_query_that_does_not_hash_to_the_hash_sent_and_register_nothing() {
    let redis = redis();
    let (_stack, router) = stack_with_apq(&redis).await;
    let claimed = sha256("{ topProducts { name } }");
    let (status, body) = post(&router, json!({ "query": ME, "extensions": extensions(&claimed) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_HASH_MISMATCH",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains(&sha256(ME)) && message.contains(&claimed), "{message}");
    let (_, body) = post(&router, json!({ "extensions": extensions(&claimed) })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );
    for bad in [
        json!({ "version": 2, "sha256Hash": claimed }),
        json!({ "version": 1, "sha256Hash": "abc" }),
    ] {
        let (status, body) = post(&router, json!({ "query": ME, "extensions": { "persistedQuery": bad } })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}

#[tokio::test]
async fn should_run_a_get_with_only_the_hash_once_it_is_registered() {
    let redis = redis();
    let (_stack, router) = stack_with_apq(&redis).await;
    let hash = sha256(ME);
    let (status, body) = get_by_hash(&router, &hash).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );
    // Another gateway (a second router on the same Redis) registers it.
    let (_other_stack, other) = stack_with_apq(&redis).await;
    let (status, _) = post(&other, json!({ "query": ME, "extensions": extensions(&hash) })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = get_by_hash(&router, &hash).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "data": { "me": { "username": "ada" } } }));
    let stored = redis.keys().key(KeySpace::Apq, &[&hash]);
    let _: () = redis.query("del", redis::cmd("DEL").arg(&stored)).await.expect("del");
}

#[tokio::test]
async fn should_register_only_documents_that_parse_pass_the_limits_and_validate() {
    let redis = redis();
    let (_stack, router) = stack_with_apq(&redis).await;
    // The probe stored arbitrary text under its hash (free storage in Redis for a day).
    let not_graphql = "this is not a GraphQL document, just text to keep";
    let invalid = "{ nope }";
    let too_big = format!("{{ me {{ {} }} }}", "username ".repeat(2000));
    for (text, code) in [
        (not_graphql.to_owned(), "GRAPHQL_PARSE_FAILED"),
        (invalid.to_owned(), "GRAPHQL_VALIDATION_FAILED"),
        (too_big, "LIMIT_EXCEEDED"),
    ] {
        let hash = sha256(&text);
        let (status, body) = post(&router, json!({ "query": text, "extensions": extensions(&hash) })).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
        let stored: Option<String> = redis
            .query("get", redis::cmd("GET").arg(redis.keys().key(KeySpace::Apq, &[&hash])))
            .await
            .expect("get");
        assert_eq!(stored, None, "{code}: nothing was registered");
        let (_, body) = post(&router, json!({ "extensions": extensions(&hash) })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
            "{body}"
        );
    }
    // A valid document still registers.
    let hash = sha256(ME);
    let (status, _) = post(&router, json!({ "query": ME, "extensions": extensions(&hash) })).await;
    assert_eq!(status, 200);
    let (status, body) = post(&router, json!({ "extensions": extensions(&hash) })).await;
    assert_eq!(
        (status, &body["data"]["me"]["username"]),
        (StatusCode::OK, &json!("ada")),
        "{body}"
    );
}
