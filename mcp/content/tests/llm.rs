//! The OpenAI-compatible client against a local HTTP server that checks the request the vendor
//! documents (`POST {base}/chat/completions`, `Authorization: Bearer <key>`, a JSON body with
//! `model` and `messages`) and answers as the API does: a 429 with `Retry-After` first, then a
//! chat completion.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use promptsales_mcp_content::llm::{LlmEndpoint, LlmError};
use promptsales_platform::Secret;
use serde_json::{Value, json};

const KEY: &str = "sk-test-0123456789";

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/v1")
}

fn endpoint(base: &str) -> LlmEndpoint {
    LlmEndpoint::new(
        base.parse().expect("url"),
        Secret::new(KEY.to_owned()),
        "gpt-4o-mini".into(),
        Duration::from_secs(5),
    )
    .expect("a client")
}

#[tokio::test]
async fn should_call_chat_completions_as_documented_and_retry_a_429() {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let router = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let seen = seen.clone();
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                if auth != Some(&format!("Bearer {KEY}")) {
                    return (StatusCode::UNAUTHORIZED, "bad key").into_response();
                }
                if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
                    return (StatusCode::BAD_REQUEST, "not JSON").into_response();
                }
                let roles: Vec<&str> = body["messages"]
                    .as_array()
                    .map(|m| m.iter().filter_map(|x| x["role"].as_str()).collect())
                    .unwrap_or_default();
                if body["model"] != "gpt-4o-mini" || roles != ["system", "user"] {
                    return (StatusCode::BAD_REQUEST, "bad body").into_response();
                }
                if n == 0 {
                    let mut r: Response = (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
                    r.headers_mut().insert("retry-after", "1".parse().expect("value"));
                    return r;
                }
                Json(json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
                    "choices": [{ "index": 0, "finish_reason": "stop",
                                  "message": { "role": "assistant", "content": "{\"ok\": true}" } }],
                    "usage": { "prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49 }
                }))
                .into_response()
            }
        }),
    );
    let base = serve(router).await;
    let completion = endpoint(&base)
        .complete("system text", "user text")
        .await
        .expect("a completion");
    assert_eq!(completion.text, "{\"ok\": true}");
    assert_eq!((completion.tokens_in, completion.tokens_out), (42, 7));
    assert_eq!(completion.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the 429 was retried once");
}

#[tokio::test]
async fn should_not_retry_a_refused_key_and_never_show_it() {
    let router = Router::new().route(
        "/v1/chat/completions",
        post(|| async { (StatusCode::UNAUTHORIZED, r#"{"error":{"message":"Incorrect API key"}}"#) }),
    );
    let base = serve(router).await;
    let ep = endpoint(&base);
    let err = ep.complete("s", "u").await.expect_err("refused");
    assert!(matches!(err, LlmError::Status { status: 401, .. }), "{err}");
    assert!(!format!("{err} {ep:?}").contains(KEY), "the key is never printed");
}

/// With a real key in the environment, the real API (skipped, and said so, without one).
#[tokio::test]
async fn should_call_the_real_api_when_a_key_is_given() {
    let Ok(key) = std::env::var("OPENAI_API_KEY") else {
        eprintln!("OPENAI_API_KEY not set: the real OpenAI call is not made");
        return;
    };
    let ep = LlmEndpoint::new(
        "https://api.openai.com/v1".parse().expect("url"),
        Secret::new(key),
        std::env::var("PROMPTSALES_LLM_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into()),
        Duration::from_secs(60),
    )
    .expect("a client");
    let c = ep
        .complete(
            "Answer with a JSON object {\"word\": \"...\"}.",
            "One word for coffee in Spanish.",
        )
        .await
        .expect("the real API answers");
    assert!(c.text.contains('{') && c.tokens_in > 0, "{c:?}");
}
