//! The HTTP side: discovery, JWKS and the token endpoint (client credentials, RFC 6749 §4.4).

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, Header};
use promptsales_platform::crypto::Keyring;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    keys, secret, store,
    throttle::{Refused, Throttle},
};

/// What the server needs to run.
pub struct AppState {
    pub pool: PgPool,
    pub keyring: Arc<Keyring>,
    /// The `iss` of the tokens and the base of the published URLs.
    pub issuer: String,
    /// Lifetime of an access token.
    pub token_ttl: chrono::Duration,
    /// How long a retired key stays in the JWKS.
    pub grace: chrono::Duration,
    /// Verified against when the client is unknown, so timing does not tell which clients exist.
    pub dummy_hash: String,
    /// Bounds on client authentication tries.
    pub throttle: Throttle,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/jwks.json", get(jwks))
        .route("/token", post(token))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

async fn discovery(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let issuer = state.issuer.trim_end_matches('/');
    Json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{issuer}/jwks.json"),
        "token_endpoint": format!("{issuer}/token"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": [keys::ALGORITHM],
        "token_endpoint_auth_signing_alg_values_supported": [keys::ALGORITHM],
    }))
}

async fn jwks(State(state): State<Arc<AppState>>) -> Result<Response, OAuthError> {
    let keys = store::published_keys(&state.pool, state.grace)
        .await
        .map_err(OAuthError::internal)?;
    let mut response = Json(json!({ "keys": keys })).into_response();
    // Short, so a rotation reaches verifiers soon.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: &'static str,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: &'static str) -> Self {
        OAuthError {
            status,
            code,
            description,
        }
    }
    fn request(description: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    fn client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
    }
    fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "token endpoint");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"promptsales\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    scope: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<Uuid>,
    jti: String,
    client_id: &'a str,
}

/// The form's parameters; a repeated one is an error (RFC 6749 §3.2).
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(OAuthError::request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut params = BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if params.insert(name.into_owned(), value.into_owned()).is_some() {
            return Err(OAuthError::request("a parameter is repeated"));
        }
    }
    Ok(params)
}

/// Percent-decoding of one `application/x-www-form-urlencoded` value (RFC 6749 §2.3.1 encodes
/// the Basic credentials so).
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The client id and secret, from HTTP Basic or from the form (never both).
fn credentials(headers: &HeaderMap, params: &BTreeMap<String, String>) -> Result<(String, String), OAuthError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| OAuthError::client())?;
            let (scheme, encoded) = value.split_once(' ').ok_or_else(OAuthError::client)?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(OAuthError::client());
            }
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| OAuthError::client())?;
            let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::client())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(OAuthError::client)?;
            Some((form_decode(id), form_decode(secret)))
        }
    };
    let posted = (params.get("client_id"), params.get("client_secret"));
    match (basic, posted) {
        (Some(_), (_, Some(_))) => Err(OAuthError::request("use one client authentication method, not two")),
        (Some(basic), _) => Ok(basic),
        (None, (Some(id), Some(secret))) => Ok((id.clone(), secret.clone())),
        (None, _) => Err(OAuthError::client()),
    }
}

async fn token(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Result<Response, OAuthError> {
    let params = parse_form(&headers, &body)?;
    let (client_id, client_secret) = credentials(&headers, &params)?;
    let permit = match state.throttle.admit(&client_id) {
        Ok(permit) => permit,
        Err(refused) => return Ok(throttled(refused)),
    };
    let client = store::client(&state.pool, &client_id)
        .await
        .map_err(OAuthError::internal)?;
    let hash = client
        .as_ref()
        .map_or(state.dummy_hash.clone(), |c| c.secret_hash.clone());
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    let matches = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        secret::verify(&client_secret, &hash)
    })
    .await
    .map_err(OAuthError::internal)?;
    let client = match client {
        Some(client) if matches && client.disabled_at.is_none() => client,
        _ => {
            tracing::info!(client_id, "client authentication refused");
            state.throttle.record(&client_id, false);
            return Err(OAuthError::client());
        }
    };
    state.throttle.record(&client_id, true);
    match params.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::request("grant_type is missing")),
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            ));
        }
    }
    let scopes = granted_scopes(&client.scopes, params.get("scope").map(String::as_str))?;
    let sealed = store::active_key(&state.pool)
        .await
        .map_err(OAuthError::internal)?
        .ok_or_else(|| OAuthError::internal("no active signing key"))?;
    let key = keys::open(
        &state.keyring,
        &sealed.kid,
        &sealed.kek_id,
        &sealed.wrapped_dek,
        &sealed.private_key,
    )
    .map_err(OAuthError::internal)?;
    let now = chrono::Utc::now().timestamp();
    let scope = scopes.join(" ");
    let claims = Claims {
        iss: &state.issuer,
        sub: &client.client_id,
        aud: &client.audience,
        iat: now,
        nbf: now,
        exp: now + state.token_ttl.num_seconds(),
        scope: &scope,
        org: client.organization_id,
        jti: Uuid::new_v4().to_string(),
        client_id: &client.client_id,
    };
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(sealed.kid);
    // RFC 9068: the type of an OAuth 2.0 access token in JWT form.
    header.typ = Some("at+jwt".to_owned());
    let access_token = jsonwebtoken::encode(&header, &claims, &key).map_err(OAuthError::internal)?;
    tracing::debug!(client_id = %client.client_id, %scope, "token issued");
    let mut response = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.token_ttl.num_seconds(),
        scope,
    })
    .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// 429 for a try the throttle refused, with `Retry-After` (RFC 6585).
fn throttled(refused: Refused) -> Response {
    let (retry_after, description) = match refused {
        Refused::TooManyFailures(secs) => (secs, "too many failed authentications for this client; retry later"),
        Refused::Busy => (1, "too many authentications in progress; retry shortly"),
    };
    tracing::info!(?refused, "client authentication throttled");
    let body = json!({ "error": "slow_down", "error_description": description });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The requested scopes if all are allowed (all allowed when none is asked for), in the
/// client's order.
fn granted_scopes(allowed: &[String], requested: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let requested: Vec<&str> = requested.map(|s| s.split_whitespace().collect()).unwrap_or_default();
    if requested.is_empty() {
        return Ok(allowed.to_vec());
    }
    if let Some(_unknown) = requested.iter().find(|s| !allowed.iter().any(|a| a == *s)) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "a requested scope is not allowed for this client",
        ));
    }
    Ok(allowed
        .iter()
        .filter(|a| requested.contains(&a.as_str()))
        .cloned()
        .collect())
}
