//! A token issuer for tests: an ES256 key made per stack, its JWKS served on port 0, and access
//! tokens (`typ: at+jwt`) for any subject, scopes and organization. A stack built with
//! [`crate::Builder::with_auth`] makes its gateway trust it, so tests exercise real bearer tokens
//! end to end (what an MCP server forwards) instead of the anonymous scopes.
//!
//! It also answers the client credentials grant (`POST /token`, client authentication in the
//! form) for one client, [`CLIENT_ID`] with a secret made per issuer, allowed [`CLIENT_SCOPES`]:
//! what the ETL workflow's OAuth2 credential and the agenda worker's client ask a real
//! authorization server.

use std::net::SocketAddr;

use std::collections::HashMap;

use axum::{
    Form, Json, Router,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::{elliptic_curve::sec1::ToEncodedPoint, pkcs8::EncodePrivateKey};
use serde_json::{Value, json};

/// The issuer (`iss`) of the test tokens.
pub const ISSUER: &str = "https://id.promptsales.test/";
/// The audience (`aud`) the test gateway accepts.
pub const AUDIENCE: &str = "promptsales-gateway";
const KID: &str = "test-es256";
/// The one client of the `/token` endpoint.
pub const CLIENT_ID: &str = "etl-test";
/// The scopes that client may ask for: the ETL's, and `ads:write` for the agenda worker's steps.
pub const CLIENT_SCOPES: &[&str] = &["etl:run", "ads:read", "crm:read", "sales:read", "ads:write"];

/// The test issuer: its signing key and where its JWKS is served.
pub struct Issuer {
    encoding: EncodingKey,
    addr: SocketAddr,
    client_secret: String,
    task: tokio::task::JoinHandle<()>,
}

impl Issuer {
    pub async fn start() -> Issuer {
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let der = secret.to_pkcs8_der().expect("PKCS#8");
        let point = secret.public_key().to_encoded_point(false);
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": KID,
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound address");
        let encoding = EncodingKey::from_ec_der(der.as_bytes());
        let client_secret = URL_SAFE_NO_PAD.encode(rand_bytes());
        let (key, secret) = (encoding.clone(), client_secret.clone());
        let app = Router::new()
            .route(
                "/jwks.json",
                get(move || {
                    let jwk = jwk.clone();
                    async move { Json(json!({ "keys": [jwk] })) }
                }),
            )
            .route(
                "/token",
                post(move |Form(form): Form<HashMap<String, String>>| {
                    let (key, secret) = (key.clone(), secret.clone());
                    async move { grant(&key, &secret, &form) }
                }),
            );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Issuer {
            encoding,
            addr,
            client_secret,
            task,
        }
    }

    /// The gateway's `auth` section trusting this issuer (tokens required).
    pub fn auth_options(&self) -> promptsales_gateway::auth::AuthOptions {
        serde_json::from_value(json!({
            "issuers": [{
                "issuer": ISSUER,
                "audiences": [AUDIENCE],
                "jwks_url": format!("http://{}/jwks.json", self.addr),
                "algorithms": ["ES256"],
            }],
        }))
        .expect("valid auth options")
    }

    /// An access token for `subject` with `scopes`, bound to `organization` when given, valid
    /// for `ttl_secs`.
    pub fn token(&self, subject: &str, scopes: &[&str], organization: Option<&str>, ttl_secs: i64) -> String {
        sign(&self.encoding, subject, scopes, organization, ttl_secs)
    }

    /// The client credentials endpoint.
    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The secret of [`CLIENT_ID`].
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }
}

fn sign(key: &EncodingKey, subject: &str, scopes: &[&str], organization: Option<&str>, ttl_secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let mut claims: Value = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + ttl_secs,
        "scope": scopes.join(" "),
    });
    if let Some(org) = organization {
        claims["org"] = json!(org);
    }
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(KID.into());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, &claims, key).expect("signs")
}

/// The client credentials grant (RFC 6749 §4.4) for [`CLIENT_ID`], its secret in the form.
fn grant(key: &EncodingKey, secret: &str, form: &HashMap<String, String>) -> Response {
    let refuse = |status: StatusCode, error: &str| (status, Json(json!({ "error": error }))).into_response();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(secret)
    {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let scopes: Vec<&str> = match form.get("scope") {
        Some(s) if !s.trim().is_empty() => s.split_whitespace().collect(),
        _ => CLIENT_SCOPES.to_vec(),
    };
    if scopes.iter().any(|s| !CLIENT_SCOPES.contains(s)) {
        return refuse(StatusCode::BAD_REQUEST, "invalid_scope");
    }
    let token = sign(key, CLIENT_ID, &scopes, None, 600);
    Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": 600, "scope": scopes.join(" ") }))
        .into_response()
}

fn rand_bytes() -> [u8; 32] {
    use p256::elliptic_curve::rand_core::RngCore;
    let mut bytes = [0u8; 32];
    p256::elliptic_curve::rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
