//! Who is calling a tool. Over HTTP the token is the request's `Authorization: Bearer …` header:
//! rmcp's streamable HTTP service puts the request's `http::request::Parts` into the extensions
//! of the request context it hands to the handler (rmcp 3.11,
//! `transport/streamable_http_server/tower.rs`), so each call carries its own caller even when
//! two users share one server. Over stdio there is no request: the process's token is used.
//!
//! The token is never verified here and never logged: the gateway verifies it on every call the
//! server makes, and nothing here trusts what it claims.

use http::request::Parts;
use promptsales_platform::Secret;
use rmcp::{RoleServer, service::RequestContext};
use sha2::{Digest, Sha256};

/// A caller: its bearer token and, over HTTP, the request id of its request.
#[derive(Clone)]
pub struct Caller {
    token: Secret<String>,
    pub request_id: Option<String>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// Why no caller could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    #[error(
        "send `Authorization: Bearer <token>` with the request (a token from the PromptSales authorization server)"
    )]
    MissingHttpToken,
    #[error("the Authorization header is not a bearer token")]
    NotBearer,
    #[error("no token: start the server with PROMPTSALES_MCP_TOKEN set (see `promptsales token`)")]
    MissingStdioToken,
}

impl Caller {
    pub fn new(token: Secret<String>) -> Caller {
        Caller {
            token,
            request_id: None,
        }
    }

    /// The caller of a request: the bearer token of its HTTP request when it came over HTTP,
    /// else `stdio_token`.
    pub fn of(ctx: &RequestContext<RoleServer>, stdio_token: Option<&Secret<String>>) -> Result<Caller, CallerError> {
        match ctx.extensions.get::<Parts>() {
            Some(parts) => Caller::from_parts(parts),
            None => stdio_token
                .map(|t| Caller::new(t.clone()))
                .ok_or(CallerError::MissingStdioToken),
        }
    }

    /// The caller of an HTTP request.
    pub fn from_parts(parts: &Parts) -> Result<Caller, CallerError> {
        let token = bearer(&parts.headers)?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|id| promptsales_platform::service::is_usable_request_id(id))
            .map(str::to_owned);
        Ok(Caller {
            token: Secret::new(token),
            request_id,
        })
    }

    /// The token, to put in the `Authorization` header of a gateway request (only there).
    pub fn token(&self) -> &Secret<String> {
        &self.token
    }

    /// A one-way digest of the token: the identity of the cache entries this caller may read.
    pub fn token_digest(&self) -> [u8; 32] {
        Sha256::digest(self.token.expose().as_bytes()).into()
    }

    /// Seconds until the token's own `exp`, when it has one. Read without verifying: it is only
    /// used to keep a cached answer no longer than the token lives (a forged `exp` changes the
    /// token, hence the cache key, so it can never extend anything).
    pub fn seconds_left(&self, now: i64) -> Option<i64> {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let payload = self.token.expose().split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        claims.get("exp")?.as_i64().map(|exp| exp - now)
    }
}

/// The bearer token of an `Authorization` header.
pub fn bearer(headers: &http::HeaderMap) -> Result<String, CallerError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(CallerError::MissingHttpToken)?
        .to_str()
        .map_err(|_| CallerError::NotBearer)?;
    let (scheme, token) = value.split_once(' ').ok_or(CallerError::NotBearer)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(CallerError::NotBearer);
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(auth: Option<&str>) -> Parts {
        let mut builder = http::Request::builder().uri("/mcp");
        if let Some(a) = auth {
            builder = builder.header("authorization", a);
        }
        builder.body(()).expect("a request").into_parts().0
    }

    #[test]
    fn should_take_the_bearer_token_of_the_request() {
        let caller = Caller::from_parts(&parts(Some("Bearer abc.def.ghi"))).expect("a caller");
        assert_eq!(caller.token().expose(), "abc.def.ghi");
        assert_eq!(
            Caller::from_parts(&parts(None)).expect_err("no token"),
            CallerError::MissingHttpToken
        );
        assert_eq!(
            Caller::from_parts(&parts(Some("Basic x"))).expect_err("basic"),
            CallerError::NotBearer
        );
        assert_eq!(
            Caller::from_parts(&parts(Some("Bearer "))).expect_err("empty"),
            CallerError::NotBearer
        );
    }

    #[test]
    fn should_read_the_tokens_expiry_without_trusting_it_for_more() {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let payload = URL_SAFE_NO_PAD.encode(br#"{"exp":1000}"#);
        let caller = Caller::new(Secret::new(format!("h.{payload}.s")));
        assert_eq!(caller.seconds_left(400), Some(600));
        assert_eq!(Caller::new(Secret::new("opaque".into())).seconds_left(0), None);
        assert!(!format!("{caller:?}").contains(&payload), "the token is never printed");
    }
}
