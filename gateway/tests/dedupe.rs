//! In-flight deduplication of subgraph fetches (issue #26): identical query fetches that overlap
//! are sent once, callers with other claims never share an answer, mutations never share, and a
//! client that goes away does not cancel the answer others wait for. Each test slows a fixture
//! subgraph by a second, far longer than the requests take to reach it, so that they overlap,
//! then counts what the subgraph saw.

mod fixtures;

use std::time::Duration;

use axum::{Router, body::Body, http::Request};
use fixtures::Stack;
use promptsales_gateway::{Options, config::HttpOptions, server};
use serde_json::{Value, json};
use tower::ServiceExt;

const QUERY: &str = "{ topProducts { upc name price } }";

fn post(query: &str) -> Request<Body> {
    Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "query": query }).to_string()))
        .expect("request")
}

async fn send(router: Router, query: &'static str) -> Value {
    let response = router.oneshot(post(query)).await.expect("infallible");
    assert_eq!(response.status(), 200);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Sends `query` `n` times at once through `router` and returns the answers.
async fn burst(router: &Router, query: &'static str, n: usize) -> Vec<Value> {
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(send(router.clone(), query))).collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("joined"));
    }
    answers
}

fn fetches_of(stack: &Stack, subgraph: &str) -> usize {
    stack
        .seen
        .lock()
        .expect("lock")
        .iter()
        .filter(|s| s.subgraph == subgraph)
        .count()
}

/// A router over the stack's gateway whose anonymous callers hold `scopes`.
fn router_with_scopes(stack: &Stack, scopes: &[&str]) -> Router {
    let http = HttpOptions {
        anonymous_scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..HttpOptions::default()
    };
    server::router(stack.gateway.clone(), stack.key.clone(), http)
}

/// Only the fetch-level deduplication: identical queries run each on their own.
fn fetches_only() -> Options {
    Options {
        dedupe_subgraph_requests: true,
        dedupe_queries: false,
        introspection: true,
        ..Options::default()
    }
}

#[tokio::test]
async fn should_send_identical_overlapping_query_fetches_once_and_give_each_caller_the_answer() {
    let stack = Stack::start_with(fetches_only()).await;
    stack.slow_down("products", Duration::from_secs(1));
    let answers = burst(&stack.router, QUERY, 8).await;
    assert_eq!(fetches_of(&stack, "products"), 1, "one fetch for eight callers");
    let first = &answers[0];
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(
        first["data"]["topProducts"].as_array().map(Vec::len),
        Some(3),
        "{first}"
    );
    assert!(answers.iter().all(|a| a == first), "every caller got the same answer");
    // Once the answer is in, the next query is fetched afresh: nothing is cached by this.
    send(stack.router.clone(), QUERY).await;
    assert_eq!(fetches_of(&stack, "products"), 2);
}

#[tokio::test]
async fn should_never_share_an_answer_between_callers_with_other_claims() {
    let stack = Stack::start_with(fetches_only()).await;
    stack.slow_down("products", Duration::from_secs(1));
    let plain = router_with_scopes(&stack, &[]);
    let costs = router_with_scopes(&stack, &["products:cost"]);
    let (a, b) = tokio::join!(burst(&plain, QUERY, 4), burst(&costs, QUERY, 4));
    assert_eq!(fetches_of(&stack, "products"), 2, "one fetch per set of claims");
    let seen = stack.seen.lock().expect("lock").clone();
    let mut scopes: Vec<_> = seen.iter().map(|s| s.claims.scopes.clone()).collect();
    scopes.sort();
    assert_eq!(scopes, vec![vec![], vec!["products:cost".to_owned()]]);
    assert!(a.iter().all(|x| x == &a[0]) && b.iter().all(|x| x == &b[0]));
}

#[tokio::test]
async fn should_send_every_mutation_even_when_identical_ones_overlap() {
    let stack = Stack::start().await;
    stack.slow_down("accounts", Duration::from_secs(1));
    let answers = burst(
        &stack.router,
        r#"mutation { rename(id: "u1", name: "Ada") { name } }"#,
        4,
    )
    .await;
    assert_eq!(fetches_of(&stack, "accounts"), 4);
    assert!(
        answers.iter().all(|a| a["data"]["rename"]["name"] == "Ada"),
        "{answers:?}"
    );
}

#[tokio::test]
async fn should_send_every_fetch_when_deduplication_is_switched_off() {
    let stack = Stack::start_with(Options {
        dedupe_subgraph_requests: false,
        dedupe_queries: false,
        ..Options::default()
    })
    .await;
    stack.slow_down("products", Duration::from_secs(1));
    burst(&stack.router, QUERY, 4).await;
    assert_eq!(fetches_of(&stack, "products"), 4);
}

#[tokio::test]
async fn should_still_answer_the_callers_who_joined_when_the_first_caller_goes_away() {
    let stack = Stack::start_with(fetches_only()).await;
    stack.slow_down("products", Duration::from_secs(2));
    let first = tokio::spawn(send(stack.router.clone(), QUERY));
    while fetches_of(&stack, "products") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The first caller's fetch is on its way; the second joins it, then the first goes away.
    let second = tokio::spawn(send(stack.router.clone(), QUERY));
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.abort();
    let answer = second.await.expect("the second caller is answered");
    assert_eq!(
        answer["data"]["topProducts"].as_array().map(Vec::len),
        Some(3),
        "{answer}"
    );
    assert_eq!(fetches_of(&stack, "products"), 1);
}

#[tokio::test]
async fn should_give_each_caller_the_subgraph_error_when_the_shared_fetch_fails() {
    let mut stack = Stack::start().await;
    stack.stop("products").await;
    let answers = burst(&stack.router, QUERY, 4).await;
    for answer in &answers {
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "SUBGRAPH_REQUEST_FAILED",
            "{answer}"
        );
    }
}

/// Only the operation-level deduplication: subgraph fetches are not shared.
fn queries_only() -> Options {
    Options {
        dedupe_subgraph_requests: false,
        dedupe_queries: true,
        introspection: true,
        ..Options::default()
    }
}

#[tokio::test]
async fn should_run_identical_overlapping_queries_once_and_answer_each_caller() {
    let stack = Stack::start_with(queries_only()).await;
    stack.slow_down("products", Duration::from_secs(1));
    let query = "{ topProducts { upc name inStock shippingEstimate } }";
    let answers = burst(&stack.router, query, 6).await;
    let first = &answers[0];
    assert!(first["errors"].is_null(), "{first}");
    assert!(answers.iter().all(|a| a == first), "every caller got the same answer");
    assert_eq!(fetches_of(&stack, "products"), 1, "the query ran once");
    assert_eq!(fetches_of(&stack, "inventory"), 1, "…and so did its entity fetch");
}

#[tokio::test]
async fn should_run_a_query_again_for_callers_with_other_claims_or_other_variables() {
    let stack = Stack::start_with(queries_only()).await;
    stack.slow_down("products", Duration::from_secs(1));
    let plain = router_with_scopes(&stack, &[]);
    let costs = router_with_scopes(&stack, &["products:cost"]);
    let (_, _, _) = tokio::join!(
        burst(&plain, QUERY, 3),
        burst(&costs, QUERY, 3),
        burst(&plain, "{ topProducts(first: 2) { upc name price } }", 3),
    );
    assert_eq!(fetches_of(&stack, "products"), 3, "one run per caller and document");
}

#[tokio::test]
async fn should_run_the_query_for_those_waiting_when_the_first_caller_goes_away() {
    let stack = Stack::start_with(queries_only()).await;
    stack.slow_down("products", Duration::from_secs(2));
    let first = tokio::spawn(send(stack.router.clone(), QUERY));
    while fetches_of(&stack, "products") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = tokio::spawn(send(stack.router.clone(), QUERY));
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.abort();
    let answer = second.await.expect("the second caller is answered");
    assert_eq!(
        answer["data"]["topProducts"].as_array().map(Vec::len),
        Some(3),
        "{answer}"
    );
    assert_eq!(fetches_of(&stack, "products"), 2, "the waiting caller ran it itself");
}
