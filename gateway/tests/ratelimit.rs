//! Per-client rate limits through the HTTP front: counters in the local Redis under a prefix per
//! test, clients told apart by peer address (no token), and a private Redis that is stopped to
//! show that the limiter fails open.

mod fixtures;

use std::{net::SocketAddr, process::Stdio, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use fixtures::Stack;
use promptsales_gateway::{
    config::HttpOptions,
    ratelimit::{RateLimitOptions, RateLimiter},
    server::{self, Services},
};
use promptsales_platform::redis::{Redis, RedisOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

fn redis_at(url: Option<String>) -> Redis {
    Redis::new(&RedisOptions {
        url,
        prefix: format!("ps:test-{}:", uuid::Uuid::new_v4().simple()),
        timeout_ms: 500,
        ..RedisOptions::default()
    })
    .expect("redis client")
}

fn limited_router(stack: &Stack, yaml: &str, redis: Redis) -> Router {
    let options: RateLimitOptions = serde_yaml_ng::from_str(yaml).expect("yaml");
    let services = Services {
        rate_limit: Some(RateLimiter::new(options, redis).expect("valid options")),
        ..Services::default()
    };
    server::router_with_services(
        stack.gateway.clone(),
        stack.key.clone(),
        HttpOptions::default(),
        services,
    )
}

/// A query from `ip`, over POST, or over GET when `get`.
async fn send(router: &Router, ip: [u8; 4], get: bool) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = if get {
        Request::get("/graphql?query=%7Bme%7Busername%7D%7D")
            .header("apollo-require-preflight", "true")
            .body(Body::empty())
    } else {
        Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "query": "{ me { username } }" }).to_string()))
    }
    .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    let response = router.clone().oneshot(request).await.expect("infallible");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, headers, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test]
async fn should_refuse_the_request_past_the_limit_with_429_and_retry_after_and_spare_other_clients() {
    let stack = Stack::start().await;
    let router = limited_router(&stack, "requests: 3\nwindow_secs: 60", redis_at(None));
    let client = [10, 0, 0, 1];
    for get in [false, true, false] {
        let (status, _, body) = send(&router, client, get).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({ "data": { "me": { "username": "ada" } } }));
    }
    for get in [false, true] {
        let (status, headers, body) = send(&router, client, get).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        let retry: u64 = headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=120).contains(&retry), "Retry-After: {retry}");
        assert_eq!(headers["content-type"], "application/graphql-response+json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    let (status, _, body) = send(&router, [10, 0, 0, 2], false).await;
    assert_eq!(status, StatusCode::OK, "another client has its own count: {body}");
}

#[tokio::test]
async fn should_give_a_named_client_its_own_limit() {
    let stack = Stack::start().await;
    let yaml = "requests: 1\nwindow_secs: 60\nclients: {\"10.0.0.9\": 4}";
    let router = limited_router(&stack, yaml, redis_at(None));
    for _ in 0..4 {
        assert_eq!(send(&router, [10, 0, 0, 9], false).await.0, StatusCode::OK);
    }
    assert_eq!(
        send(&router, [10, 0, 0, 9], false).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(send(&router, [10, 0, 0, 8], false).await.0, StatusCode::OK);
    assert_eq!(
        send(&router, [10, 0, 0, 8], false).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Stops the private Redis also when an assertion fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port for a private Redis.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn should_let_requests_through_when_redis_is_down() {
    let port = free_port();
    let server = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on the PATH");
    let mut server = KillOnDrop(server);
    let redis = redis_at(Some(format!("redis://127.0.0.1:{port}")));
    // Until the private server answers.
    for _ in 0..100 {
        if redis.query::<String>("ping", &redis::cmd("PING")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stack = Stack::start().await;
    let router = limited_router(&stack, "requests: 2\nwindow_secs: 60", redis);
    let client = [10, 0, 0, 3];
    assert_eq!(send(&router, client, false).await.0, StatusCode::OK);
    assert_eq!(send(&router, client, false).await.0, StatusCode::OK);
    assert_eq!(
        send(&router, client, false).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the limit is enforced while Redis is up"
    );
    server.0.kill().expect("stop the private Redis");
    server.0.wait().expect("the private Redis stopped");
    for _ in 0..10 {
        let (status, _, body) = send(&router, client, false).await;
        assert_eq!(status, StatusCode::OK, "fail open: {body}");
    }
}
