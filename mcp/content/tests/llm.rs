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
use promptsales_mcp_content::llm::{Credentials, LlmEndpoint, LlmError};
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
        Credentials::ApiKey(Secret::new(KEY.to_owned())),
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
        Credentials::ApiKey(Secret::new(key)),
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

/// A provider behind OAuth2 client credentials: the token endpoint checks the client
/// (`client_secret_basic`) and issues numbered tokens; the API takes only the newest one, so the
/// first completion fetches a token, the second reuses it, and after the provider revokes it the
/// refused call renews it once and succeeds.
#[tokio::test]
async fn should_use_a_client_credentials_token_and_renew_a_revoked_one() {
    use axum::extract::State;
    #[derive(Default)]
    struct Provider {
        issued: AtomicU32,
        api_calls: AtomicU32,
    }
    async fn token(State(p): State<Arc<Provider>>, headers: HeaderMap, body: String) -> Response {
        let basic = format!("Basic {}", base64_of("content-mcp:cc-secret"));
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str())
            || !body.contains("grant_type=client_credentials")
            || !body.contains("scope=chat")
        {
            return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
        }
        let n = p.issued.fetch_add(1, Ordering::SeqCst) + 1;
        Json(json!({"access_token": format!("at-{n}"), "token_type": "Bearer", "expires_in": 3600})).into_response()
    }
    async fn chat(State(p): State<Arc<Provider>>, headers: HeaderMap) -> Response {
        let calls = p.api_calls.fetch_add(1, Ordering::SeqCst);
        // The provider revokes the first token after its second use.
        let valid = format!("Bearer at-{}", if calls < 2 { 1 } else { 2 });
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(valid.as_str()) {
            return (StatusCode::UNAUTHORIZED, "token revoked").into_response();
        }
        Json(json!({
            "model": "provider-model",
            "choices": [{ "message": { "role": "assistant", "content": "{}" } }],
            "usage": { "prompt_tokens": 1, "completion_tokens": 1 }
        }))
        .into_response()
    }
    let provider = Arc::new(Provider::default());
    let router = Router::new()
        .route("/oauth2/token", post(token))
        .route("/v1/chat/completions", post(chat))
        .with_state(provider.clone());
    let base = serve(router).await;
    let credentials = Credentials::from_json(&format!(
        r#"{{"client_id": "content-mcp", "client_secret": "cc-secret", "scope": "chat",
            "token_url": "{}/oauth2/token"}}"#,
        base.trim_end_matches("/v1")
    ))
    .expect("client credentials");
    let ep = LlmEndpoint::new(
        base.parse().expect("url"),
        credentials,
        "m".into(),
        Duration::from_secs(5),
    )
    .expect("a client");
    ep.complete("s", "u").await.expect("first call");
    ep.complete("s", "u").await.expect("second call, same token");
    assert_eq!(provider.issued.load(Ordering::SeqCst), 1, "one token for two calls");
    ep.complete("s", "u").await.expect("the revoked token is renewed once");
    assert_eq!(provider.issued.load(Ordering::SeqCst), 2);
    assert_eq!(
        provider.api_calls.load(Ordering::SeqCst),
        4,
        "the refused call and its retry"
    );
    assert!(!format!("{ep:?}").contains("cc-secret"), "the secret is never printed");
}

#[test]
fn should_read_both_credential_documents_and_say_what_is_missing() {
    assert!(matches!(
        Credentials::from_json(r#"{"api_key": "sk-1"}"#),
        Ok(Credentials::ApiKey(_))
    ));
    let cc = Credentials::from_json(
        r#"{"client_id": "a", "client_secret": "b", "token_url": "https://id.example/token", "auth": "client_secret_post"}"#,
    );
    assert!(
        matches!(cc, Ok(Credentials::ClientCredentials(ref c)) if c.client_id == "a"),
        "{cc:?}"
    );
    for (doc, says) in [
        ("sk-plain", "not a JSON object"),
        ("[]", "not a JSON object"),
        (r#"{"client_id": "a"}"#, "client_secret"),
        (r#"{"api_key": ""}"#, "non-empty"),
        (
            r#"{"client_id": "a", "client_secret": "b", "token_url": "ftp://x/t"}"#,
            "http(s)",
        ),
        (
            r#"{"client_id": "a", "client_secret": "b", "token_url": "https://x/t", "auth": "jwt"}"#,
            "client_secret_basic",
        ),
    ] {
        let err = Credentials::from_json(doc).expect_err(doc);
        assert!(err.contains(says), "{doc}: {err}");
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
