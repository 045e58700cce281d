//! The gateway's security suite: the attacks of the outside probe (issue #24) replayed through
//! the HTTP interface against the fixture subgraphs, one test per category. Each asserts the
//! refusal and its error code, never a time. Categories that need more than the fixture stack
//! live beside their subject: JWT attacks and keys planted in Redis in `auth.rs`, persisted
//! queries in `apq.rs`, cache headers and erasure in the e2e crate's `cache.rs`, PII lookups in
//! the crm subgraph's tests, claims header lifetimes in `promptsales_platform::claims`.

mod fixtures;

use axum::{body::Body, http::Request};
use fixtures::Stack;
use promptsales_gateway::{Options, config::HttpOptions, server};
use serde_json::{Value, json};

fn post(body: &Value) -> Request<Body> {
    Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

/// The probe's document: one field repeated 14,500 times (~70 KB), with a comment of its own so
/// that no cache has seen it.
fn repeated_field_document(field: &str, tag: &str) -> String {
    let fields = format!("{field} ").repeat(14_500);
    format!("# {tag}\n{{ topProducts {{ {fields} }} }}")
}

#[tokio::test]
async fn should_refuse_a_document_of_thousands_of_fields_before_validating_it() {
    let stack = Stack::start().await;
    let query = repeated_field_document("name", &uuid::Uuid::new_v4().to_string());
    assert!(query.len() > 70_000, "the probe's size: {}", query.len());
    let (status, headers, body) = stack.send(post(&json!({ "query": query }))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(headers["content-type"], "application/graphql-response+json");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("1000 selections"),
        "{body}"
    );
    // A field the schema lacks (a validation error) is refused the same way: by count, first.
    let invalid = repeated_field_document("nope", &uuid::Uuid::new_v4().to_string());
    let (status, _, body) = stack.send(post(&json!({ "query": invalid }))).await;
    assert_eq!((status.as_u16(), code(&body)), (400, "LIMIT_EXCEEDED"), "{body}");
    assert!(stack.seen.lock().expect("lock").is_empty(), "no subgraph was asked");
}

#[tokio::test]
async fn should_answer_health_checks_while_expensive_documents_are_refused() {
    let stack = Stack::start().await;
    let floods: Vec<_> = (0..3)
        .map(|_| {
            let router = stack.router.clone();
            let query = repeated_field_document("price", &uuid::Uuid::new_v4().to_string());
            tokio::spawn(async move {
                use tower::ServiceExt;
                let response = router
                    .oneshot(post(&json!({ "query": query })))
                    .await
                    .expect("infallible");
                response.status().as_u16()
            })
        })
        .collect();
    let (status, _, body) = stack
        .send(Request::get("/healthz").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, 200, "{body}");
    for flood in floods {
        assert_eq!(flood.await.expect("joined"), 400);
    }
}

#[tokio::test]
async fn should_validate_documents_off_the_async_workers_on_a_single_threaded_runtime() {
    // The whole check runs on a blocking thread, so even a runtime with one worker answers.
    let stack = Stack::start().await;
    let query = format!(
        "# {}\n{{ topProducts {{ {} }} }}",
        uuid::Uuid::new_v4(),
        "name price weight ".repeat(300)
    );
    let body = stack.query(&query).await;
    assert!(body["data"]["topProducts"][0]["name"].is_string(), "{body}");
}

#[tokio::test]
async fn should_refuse_fragment_cycles_through_fields_as_validation_errors_not_internal_errors() {
    let stack = Stack::start().await;
    let query = "{ topProducts { ...P } }
        fragment P on Product { reviews { ...R } }
        fragment R on Review { product { ...P } }";
    let (status, _, body) = stack.send(post(&json!({ "query": query }))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let deeper = "{ me { ...U } } fragment U on User { reviews { author { reviews { author { ...U } } } } }";
    let (status, _, body) = stack.send(post(&json!({ "query": deeper }))).await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
}

#[tokio::test]
async fn should_coerce_variables_at_the_gateway_and_refuse_wrong_types_with_400() {
    let stack = Stack::start().await;
    let query = "query($n: Int!) { topProducts(first: $n) { name } }";
    for (given, expected) in [
        (json!({ "n": "five" }), "$n must be an integer"),
        (json!({ "n": null }), "$n must not be null"),
        (json!({ "n": 2.5 }), "$n must be an integer"),
        (json!({}), "$n of the non-null type Int! was not given"),
    ] {
        let (status, _, body) = stack.send(post(&json!({ "query": query, "variables": given }))).await;
        assert_eq!(status, 400, "{given}: {body}");
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{given}: {message}");
        assert!(body.get("data").is_none(), "a request error has no data: {body}");
    }
    assert!(stack.seen.lock().expect("lock").is_empty(), "no subgraph was asked");
    let body = stack.query_with(query, json!({ "n": 1 })).await;
    assert_eq!(body["data"]["topProducts"].as_array().map(Vec::len), Some(1), "{body}");
}

#[tokio::test]
async fn should_refuse_nul_characters_in_arguments_before_any_subgraph_sees_them() {
    let stack = Stack::start().await;
    let literal = r#"{ search(term: "lov\u0000e") { __typename } }"#;
    let (status, _, body) = stack.send(post(&json!({ "query": literal }))).await;
    assert_eq!((status.as_u16(), code(&body)), (400, "BAD_USER_INPUT"), "{body}");
    let variable = "query($t: String!) { search(term: $t) { __typename } }";
    let (status, _, body) = stack
        .send(post(&json!({ "query": variable, "variables": { "t": "lov\u{0}e" } })))
        .await;
    assert_eq!((status.as_u16(), code(&body)), (400, "BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("NUL"),
        "{body}"
    );
    assert!(stack.seen.lock().expect("lock").is_empty(), "no subgraph was asked");
}

#[tokio::test]
async fn should_answer_an_oversized_body_with_a_graphql_error_and_413() {
    let mut stack = Stack::start().await;
    let http = HttpOptions {
        max_body_bytes: 1024,
        ..HttpOptions::default()
    };
    stack.router = server::router(stack.gateway.clone(), stack.key.clone(), http);
    let padding = "x".repeat(4096);
    let (status, headers, body) = stack
        .send(post(&json!({ "query": format!("# {padding}\n{{ me {{ id }} }}") })))
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(headers["content-type"], "application/graphql-response+json");
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE", "{body}");
}

#[tokio::test]
async fn should_refuse_introspection_unless_a_configuration_turns_it_on() {
    // The default is the deployment's: closed. `make up` and the test stacks open it.
    let stack = Stack::start_with(Options::default()).await;
    let (status, _, body) = stack
        .send(post(&json!({ "query": "{ __schema { types { name } } }" })))
        .await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (400, "INTROSPECTION_DISABLED"),
        "{body}"
    );
}

#[tokio::test]
async fn should_replace_client_request_ids_that_are_too_long_or_hold_odd_characters() {
    let stack = Stack::start().await;
    let with_id = |id: &str| {
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("x-request-id", id)
            .body(Body::from(json!({ "query": "{ me { id } }" }).to_string()))
            .expect("request")
    };
    let kept = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let (_, headers, _) = stack.send(with_id(kept)).await;
    assert_eq!(headers["x-request-id"], kept);
    for planted in ["x".repeat(4096), "id' OR 1=1 -- <script>".to_owned()] {
        let (status, headers, _) = stack.send(with_id(&planted)).await;
        assert_eq!(status, 200);
        let given = headers["x-request-id"].to_str().expect("ascii");
        assert_ne!(given, planted);
        assert!(uuid::Uuid::parse_str(given).is_ok(), "a fresh id: {given}");
    }
    let seen = stack.seen.lock().expect("lock");
    assert!(
        seen.iter()
            .filter_map(|s| s.request_id.as_deref())
            .all(|id| id.len() <= 128 && !id.contains(' ')),
        "subgraphs got only usable ids"
    );
}
