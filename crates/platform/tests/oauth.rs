//! The client-credentials token source against a local token endpoint that checks the request
//! as RFC 6749 §4.4 and §2.3.1 describe it, and answers as the test tells it.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use promptsales_platform::{
    Secret,
    oauth::{ClientAuth, ClientCredentials, TokenError, TokenSource},
};

/// What the endpoint answers, one per request (the last one repeats).
#[derive(Clone)]
enum Answer {
    Token {
        token: &'static str,
        kind: &'static str,
        expires_in: Option<u64>,
    },
    Status(u16, &'static str),
}

/// One token request as the endpoint saw it: the Authorization header and the form fields.
type Seen = (Option<String>, Vec<(String, String)>);

#[derive(Default)]
struct Endpoint {
    answers: Mutex<VecDeque<Answer>>,
    /// Each request as seen: the Authorization header and the form fields.
    seen: Mutex<Vec<Seen>>,
}

async fn token(State(e): State<Arc<Endpoint>>, headers: HeaderMap, body: String) -> Response {
    assert_eq!(
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/x-www-form-urlencoded"),
        "a token request is a form"
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().expect("test setup").to_owned());
    e.seen.lock().expect("test setup").push((auth, form));
    // Two callers at once must still send one request: hold the answer a moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = {
        let mut answers = e.answers.lock().expect("test setup");
        if answers.len() > 1 {
            answers.pop_front()
        } else {
            answers.front().cloned()
        }
    };
    match answer.expect("the test gives at least one answer") {
        Answer::Token {
            token,
            kind,
            expires_in,
        } => {
            let mut body = serde_json::json!({ "access_token": token, "token_type": kind });
            if let Some(s) = expires_in {
                body["expires_in"] = s.into();
            }
            axum::Json(body).into_response()
        }
        Answer::Status(code, body) => {
            let mut r = (StatusCode::from_u16(code).expect("test setup"), body.to_owned()).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, "application/json".parse().expect("test setup"));
            if code == 429 {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, "0".parse().expect("test setup"));
            }
            r
        }
    }
}

async fn serve(answers: Vec<Answer>) -> (Arc<Endpoint>, reqwest::Url) {
    let endpoint = Arc::new(Endpoint {
        answers: Mutex::new(answers.into()),
        ..Default::default()
    });
    let app = Router::new()
        .route("/oauth2/token", post(token))
        .with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("test setup");
    let url = format!("http://{}/oauth2/token", listener.local_addr().expect("test setup"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("test setup") });
    (endpoint, url.parse().expect("test setup"))
}

fn source(url: reqwest::Url, auth: ClientAuth) -> TokenSource {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("test setup");
    TokenSource::new(
        http,
        ClientCredentials {
            token_url: url,
            client_id: "content mcp".to_owned(),
            client_secret: Secret::new("s3cr:et&=".to_owned()),
            scope: Some("models.read chat".to_owned()),
            auth,
        },
    )
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn should_send_basic_client_authentication_and_share_one_token_between_callers() {
    let (endpoint, url) = serve(vec![Answer::Token {
        token: "t-1",
        kind: "Bearer",
        expires_in: Some(3600),
    }])
    .await;
    let tokens = Arc::new(source(url, ClientAuth::Basic));
    let (a, b) = tokio::join!(tokens.token(), tokens.token());
    assert_eq!(a.expect("test setup").expose(), "t-1");
    assert_eq!(b.expect("test setup").expose(), "t-1");
    assert_eq!(tokens.token().await.expect("test setup").expose(), "t-1");

    let seen = endpoint.seen.lock().expect("test setup");
    assert_eq!(seen.len(), 1, "one request for three callers while the token is valid");
    let (auth, form) = &seen[0];
    // RFC 6749 §2.3.1: each part form-urlencoded, then joined by ':' and base64-encoded.
    let expected = format!("Basic {}", STANDARD.encode("content+mcp:s3cr%3Aet%26%3D"));
    assert_eq!(auth.as_deref(), Some(expected.as_str()));
    assert_eq!(field(form, "grant_type"), Some("client_credentials"));
    assert_eq!(field(form, "scope"), Some("models.read chat"));
    assert_eq!(field(form, "client_secret"), None, "the secret is not also in the body");
}

#[tokio::test]
async fn should_send_the_client_in_the_form_with_post_authentication() {
    let (endpoint, url) = serve(vec![Answer::Token {
        token: "t-1",
        kind: "bearer",
        expires_in: None,
    }])
    .await;
    assert_eq!(
        source(url, ClientAuth::Post)
            .token()
            .await
            .expect("test setup")
            .expose(),
        "t-1"
    );
    let seen = endpoint.seen.lock().expect("test setup");
    let (auth, form) = &seen[0];
    assert_eq!(auth, &None);
    assert_eq!(field(form, "client_id"), Some("content mcp"));
    assert_eq!(field(form, "client_secret"), Some("s3cr:et&="));
}

#[tokio::test]
async fn should_renew_a_token_that_is_about_to_expire() {
    let (endpoint, url) = serve(vec![
        Answer::Token {
            token: "short",
            kind: "Bearer",
            expires_in: Some(1),
        },
        Answer::Token {
            token: "next",
            kind: "Bearer",
            expires_in: Some(3600),
        },
    ])
    .await;
    let tokens = source(url, ClientAuth::Basic);
    assert_eq!(tokens.token().await.expect("test setup").expose(), "short");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(tokens.token().await.expect("test setup").expose(), "next");
    assert_eq!(endpoint.seen.lock().expect("test setup").len(), 2);
}

#[tokio::test]
async fn should_ask_again_after_a_refused_token_is_forgotten() {
    let (endpoint, url) = serve(vec![
        Answer::Token {
            token: "revoked",
            kind: "Bearer",
            expires_in: Some(3600),
        },
        Answer::Token {
            token: "fresh",
            kind: "Bearer",
            expires_in: Some(3600),
        },
    ])
    .await;
    let tokens = source(url, ClientAuth::Basic);
    let first = tokens.token().await.expect("test setup");
    tokens.forget(&Secret::new("some other token".to_owned())).await;
    assert_eq!(
        tokens.token().await.expect("test setup").expose(),
        "revoked",
        "another token is not dropped"
    );
    tokens.forget(&first).await;
    assert_eq!(tokens.token().await.expect("test setup").expose(), "fresh");
    assert_eq!(endpoint.seen.lock().expect("test setup").len(), 2);
}

#[tokio::test]
async fn should_retry_rate_limits_and_server_errors() {
    let (endpoint, url) = serve(vec![
        Answer::Status(503, "{}"),
        Answer::Status(429, r#"{"error":"slow_down"}"#),
        Answer::Token {
            token: "t-3",
            kind: "Bearer",
            expires_in: Some(60),
        },
    ])
    .await;
    assert_eq!(
        source(url, ClientAuth::Basic)
            .token()
            .await
            .expect("test setup")
            .expose(),
        "t-3"
    );
    assert_eq!(endpoint.seen.lock().expect("test setup").len(), 3);
}

#[tokio::test]
async fn should_give_up_on_a_server_that_keeps_failing() {
    let (endpoint, url) = serve(vec![Answer::Status(502, "bad gateway")]).await;
    let err = source(url, ClientAuth::Basic).token().await.expect_err("an error");
    assert!(matches!(err, TokenError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("502"), "{err}");
    assert_eq!(
        endpoint.seen.lock().expect("test setup").len(),
        3,
        "the first attempt and two retries"
    );
}

#[tokio::test]
async fn should_pass_on_a_refusal_once_and_never_show_the_secret() {
    let (endpoint, url) = serve(vec![Answer::Status(
        401,
        r#"{"error":"invalid_client","error_description":"unknown client"}"#,
    )])
    .await;
    let err = source(url, ClientAuth::Basic).token().await.expect_err("an error");
    let text = err.to_string();
    assert!(matches!(err, TokenError::Refused { status: 401, .. }), "{text}");
    assert!(text.contains("invalid_client: unknown client"), "{text}");
    assert!(!text.contains("s3cr"), "the secret must not appear: {text}");
    assert_eq!(
        endpoint.seen.lock().expect("test setup").len(),
        1,
        "a refusal is not retried"
    );
}

#[tokio::test]
async fn should_refuse_a_token_that_is_not_a_bearer_token() {
    let (_, url) = serve(vec![Answer::Token {
        token: "m",
        kind: "mac",
        expires_in: Some(60),
    }])
    .await;
    let err = source(url, ClientAuth::Basic).token().await.expect_err("an error");
    assert!(matches!(err, TokenError::Malformed(_)), "{err}");
}

#[tokio::test]
async fn should_say_which_authentication_methods_exist() {
    assert_eq!("client_secret_basic".parse::<ClientAuth>(), Ok(ClientAuth::Basic));
    assert_eq!("post".parse::<ClientAuth>(), Ok(ClientAuth::Post));
    let err = "private_key_jwt".parse::<ClientAuth>().expect_err("an error");
    assert!(err.contains("client_secret_basic"), "{err}");
}
