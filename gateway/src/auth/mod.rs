//! The gateway as an OAuth2 resource server: every request's `Authorization: Bearer …` token is
//! a JWT validated against the JWKS of the issuer it names. The issuer must be configured, the
//! algorithm allowed for it and consistent with the key (`none` and HMAC are never accepted, so a
//! public key can never be used as an HMAC secret), the key found by `kid`, the signature valid,
//! `exp` present and not passed, `nbf` honoured and `aud` one of the issuer's audiences.
//!
//! JWKS are fetched lazily (an identity provider that is down at startup does not stop the
//! gateway; its tokens are refused until its keys arrive), cached for a while, and refetched
//! when a token names an unknown `kid` (key rotation), at most once per interval per issuer so
//! that made-up `kid`s cannot turn the gateway against the identity provider.
//!
//! Tokens are never logged; refusals say only a short reason.

mod jwks;

use std::{collections::HashMap, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, AlgorithmFamily, Validation, errors::ErrorKind};
use promptsales_platform::{claims::ClaimsKey, redis::Redis};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use self::jwks::Jwks;

/// The `auth` section of the gateway's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthOptions {
    /// The identity providers whose tokens are accepted; a token's `iss` picks one.
    pub issuers: Vec<IssuerOptions>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[serde(default = "defaults::leeway_secs")]
    pub leeway_secs: u64,
    /// Whether every request needs a token. When false, a request without an `Authorization`
    /// header runs with `http.anonymous_scopes` (a request with a bad token is still refused).
    #[serde(default = "defaults::required")]
    pub required: bool,
    /// How long fetched keys are used before they are fetched again, in seconds.
    #[serde(default = "defaults::jwks_cache_secs")]
    pub jwks_cache_secs: u64,
    /// The least time between two fetches of one issuer's JWKS (on an unknown `kid`, or while
    /// the endpoint fails), in seconds.
    #[serde(default = "defaults::jwks_min_refresh_secs")]
    pub jwks_min_refresh_secs: u64,
    /// How long one JWKS fetch may take, in milliseconds.
    #[serde(default = "defaults::jwks_timeout_ms")]
    pub jwks_timeout_ms: u64,
}

/// One trusted token issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerOptions {
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one of them.
    pub audiences: Vec<String>,
    /// Where its signing keys are published (a JSON Web Key Set).
    pub jwks_url: String,
    /// Signature algorithms accepted from it. HMAC (`HS*`) is refused: the gateway holds no
    /// shared secrets.
    #[serde(default = "defaults::algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Also accept tokens whose header `typ` is `JWT` (or absent), for identity providers that
    /// do not type their access tokens `at+jwt` as RFC 9068 asks (Keycloak, Entra ID). Off by
    /// default: an ID token of a trusted issuer (`typ: JWT`) must not pass as an access token.
    #[serde(default)]
    pub accept_jwt_typ: bool,
}

mod defaults {
    use jsonwebtoken::Algorithm;

    pub fn leeway_secs() -> u64 {
        30
    }
    pub fn required() -> bool {
        true
    }
    pub fn jwks_cache_secs() -> u64 {
        600
    }
    pub fn jwks_min_refresh_secs() -> u64 {
        30
    }
    pub fn jwks_timeout_ms() -> u64 {
        5000
    }
    pub fn algorithms() -> Vec<Algorithm> {
        vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
    }
}

/// Tokens larger than this are refused before they are parsed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// An `auth` section that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InvalidAuth {
    #[error("auth.issuers is empty: no token could be accepted")]
    NoIssuers,
    #[error("auth.issuers: {0:?} is listed twice")]
    DuplicateIssuer(String),
    #[error("auth.issuers[{0}]: audiences is empty")]
    NoAudiences(String),
    #[error("auth.issuers[{0}]: algorithms is empty")]
    NoAlgorithms(String),
    #[error("auth.issuers[{0}]: {1:?} is not accepted (HMAC needs a shared secret; use RS*, PS*, ES* or EdDSA)")]
    Hmac(String, Algorithm),
    #[error("auth.issuers[{0}]: jwks_url {1:?} is not an http(s) URL")]
    JwksUrl(String, String),
}

impl AuthOptions {
    /// Checks what serde cannot, at startup.
    pub fn validate(&self) -> Result<(), InvalidAuth> {
        if self.issuers.is_empty() {
            return Err(InvalidAuth::NoIssuers);
        }
        for (i, issuer) in self.issuers.iter().enumerate() {
            let name = issuer.issuer.clone();
            if self.issuers[..i].iter().any(|o| o.issuer == issuer.issuer) {
                return Err(InvalidAuth::DuplicateIssuer(name));
            }
            if issuer.audiences.is_empty() {
                return Err(InvalidAuth::NoAudiences(name));
            }
            if issuer.algorithms.is_empty() {
                return Err(InvalidAuth::NoAlgorithms(name));
            }
            if let Some(alg) = issuer.algorithms.iter().find(|a| a.family() == AlgorithmFamily::Hmac) {
                return Err(InvalidAuth::Hmac(name, *alg));
            }
            let url = reqwest::Url::parse(&issuer.jwks_url).ok();
            if !url.is_some_and(|u| matches!(u.scheme(), "http" | "https")) {
                return Err(InvalidAuth::JwksUrl(name, issuer.jwks_url.clone()));
            }
        }
        Ok(())
    }
}

/// Why a request was not authenticated. The text is the `error_description` the client gets:
/// short, and never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("the Authorization header is not a bearer token")]
    NotBearer,
    #[error("the token is too large")]
    TooLarge,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's issuer is not trusted")]
    UnknownIssuer,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token is not an access token")]
    TokenType,
    #[error("the token's signing key is unknown")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is not meant for this API")]
    Audience,
    #[error("the token lacks the {0} claim")]
    MissingClaim(String),
    #[error("the token's {0} claim is invalid")]
    InvalidClaim(&'static str),
}

impl AuthError {
    /// A short, fixed name for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::NotBearer => "not_bearer",
            AuthError::TooLarge => "too_large",
            AuthError::Malformed => "malformed",
            AuthError::UnknownIssuer => "unknown_issuer",
            AuthError::Algorithm => "algorithm",
            AuthError::TokenType => "token_type",
            AuthError::UnknownKey => "unknown_key",
            AuthError::Signature => "signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::Audience => "audience",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::InvalidClaim(_) => "invalid_claim",
        }
    }
}

/// The caller a valid token identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub scopes: Vec<String>,
    /// `None` for staff tokens, which carry no organization.
    pub organization: Option<Uuid>,
}

/// Validates bearer tokens.
pub struct Authenticator {
    options: AuthOptions,
    issuers: HashMap<String, Issuer>,
}

struct Issuer {
    options: IssuerOptions,
    jwks: Jwks,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .field("required", &self.options.required)
            .finish()
    }
}

impl Authenticator {
    /// Fetches nothing: keys are fetched on first use (or by [`Authenticator::prefetch`]).
    pub fn new(options: AuthOptions) -> Result<Authenticator, crate::gateway::Error> {
        // Like the subgraph client: the web roots plus `PROMPTSALES_TLS_CA`, never unverified.
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(true)
            .timeout(Duration::from_millis(options.jwks_timeout_ms));
        for root in promptsales_platform::tls::extra_roots_or_none() {
            builder = builder.add_root_certificate(reqwest::Certificate::from_der(&root)?);
        }
        let client = builder.build()?;
        let issuers = options
            .issuers
            .iter()
            .map(|o| {
                let jwks = Jwks::new(
                    &o.jwks_url,
                    client.clone(),
                    Duration::from_secs(options.jwks_cache_secs),
                    Duration::from_secs(options.jwks_min_refresh_secs),
                );
                (
                    o.issuer.clone(),
                    Issuer {
                        options: o.clone(),
                        jwks,
                    },
                )
            })
            .collect();
        Ok(Authenticator { options, issuers })
    }

    /// Shares every issuer's fetched keys with the other gateways through `redis`
    /// (`ps:jwks:v1:{issuer}`, for `jwks_cache_secs`), read there before the endpoint is asked.
    /// Each copy is authenticated with a key derived from `key`, the claims key every gateway
    /// holds: a copy written by anyone else is ignored.
    pub fn with_shared_keys(mut self, redis: &Redis, key: &ClaimsKey) -> Authenticator {
        let mac_key = key.derive("gateway/jwks-share/v1");
        for (name, issuer) in &mut self.issuers {
            issuer.jwks.share(redis.clone(), name, mac_key);
        }
        self
    }

    /// Whether requests without a token are refused.
    pub fn required(&self) -> bool {
        self.options.required
    }

    /// Fetches every issuer's keys once, logging failures; for startup, in the background.
    pub async fn prefetch(&self) {
        for (name, issuer) in &self.issuers {
            if let Err(e) = issuer.jwks.refresh(None).await {
                tracing::warn!(issuer = %name, error = %e, "JWKS not available yet; its tokens are refused until it is");
            }
        }
    }

    /// The caller of a request, from its `Authorization` header value. `Ok(None)`: no header,
    /// and tokens are optional.
    pub async fn authenticate(&self, authorization: Option<&[u8]>) -> Result<Option<Caller>, AuthError> {
        let Some(value) = authorization else {
            return if self.options.required {
                Err(AuthError::Missing)
            } else {
                Ok(None)
            };
        };
        if value.len() > MAX_TOKEN_BYTES + "Bearer ".len() {
            return Err(AuthError::TooLarge);
        }
        let value = std::str::from_utf8(value).map_err(|_| AuthError::NotBearer)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::NotBearer);
        }
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge);
        }
        self.verify(token).await.map(Some)
    }

    async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        // `none` and unknown algorithms do not parse into an `Algorithm`.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let issuer = self
            .issuers
            .get(&unverified_issuer(token)?)
            .ok_or(AuthError::UnknownIssuer)?;
        let alg = header.alg;
        if alg.family() == AlgorithmFamily::Hmac || !issuer.options.algorithms.contains(&alg) {
            return Err(AuthError::Algorithm);
        }
        let kid = header.kid.as_deref().ok_or(AuthError::UnknownKey)?;
        let key = issuer.jwks.key(kid).await.ok_or(AuthError::UnknownKey)?;
        if key.family != alg.family() || key.alg.is_some_and(|a| a != alg) {
            return Err(AuthError::Algorithm);
        }
        if !access_token_type(header.typ.as_deref(), issuer.options.accept_jwt_typ) {
            return Err(AuthError::TokenType);
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&issuer.options.issuer]);
        validation.set_audience(&issuer.options.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.options.leeway_secs;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<TokenClaims>(token, &key.key, &validation).map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => AuthError::Signature,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidAudience => AuthError::Audience,
            ErrorKind::InvalidIssuer => AuthError::UnknownIssuer,
            ErrorKind::InvalidAlgorithm => AuthError::Algorithm,
            ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
            _ => AuthError::Malformed,
        })?;
        data.claims.into_caller()
    }
}

/// The claims the gateway reads; `iss`, `aud`, `exp` and `nbf` are checked by jsonwebtoken.
#[derive(Deserialize)]
struct TokenClaims {
    #[serde(default)]
    sub: Option<String>,
    /// Space-separated scopes (RFC 8693, most identity providers).
    #[serde(default)]
    scope: Option<Value>,
    /// Scopes as an array (Okta) or a space-separated string (Entra ID).
    #[serde(default)]
    scp: Option<Value>,
    #[serde(default)]
    org: Option<Value>,
}

impl TokenClaims {
    fn into_caller(self) -> Result<Caller, AuthError> {
        let subject = match self.sub {
            None => return Err(AuthError::MissingClaim("sub".into())),
            Some(s) if s.is_empty() => return Err(AuthError::InvalidClaim("sub")),
            Some(s) => s,
        };
        let mut scopes = Vec::new();
        for (name, claim) in [("scope", self.scope), ("scp", self.scp)] {
            match claim {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => scopes.extend(s.split_whitespace().map(str::to_owned)),
                Some(Value::Array(items)) => {
                    for item in items {
                        let Value::String(s) = item else {
                            return Err(AuthError::InvalidClaim(name));
                        };
                        scopes.push(s);
                    }
                }
                Some(_) => return Err(AuthError::InvalidClaim(name)),
            }
        }
        scopes.sort();
        scopes.dedup();
        let organization = match self.org {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Uuid::parse_str(&s).map_err(|_| AuthError::InvalidClaim("org"))?),
            Some(_) => return Err(AuthError::InvalidClaim("org")),
        };
        Ok(Caller {
            subject,
            scopes,
            organization,
        })
    }
}

/// Whether a header `typ` marks an access token: `at+jwt` (RFC 9068; media types compare
/// case-insensitively and may carry the `application/` prefix), or, for issuers that allow it,
/// `JWT` or no `typ` at all.
fn access_token_type(typ: Option<&str>, accept_jwt: bool) -> bool {
    let Some(typ) = typ else {
        return accept_jwt;
    };
    let typ = typ.to_ascii_lowercase();
    let typ = typ.strip_prefix("application/").unwrap_or(&typ);
    typ == "at+jwt" || (accept_jwt && typ == "jwt")
}

/// The `iss` of a token whose signature is not checked yet: only to pick the keys that check it.
fn unverified_issuer(token: &str) -> Result<String, AuthError> {
    #[derive(Deserialize)]
    struct Peek {
        iss: Option<String>,
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| AuthError::Malformed)?;
    let peek: Peek = serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)?;
    peek.iss.ok_or_else(|| AuthError::MissingClaim("iss".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(yaml: &str) -> AuthOptions {
        serde_yaml_ng::from_str(yaml).expect("yaml")
    }

    #[test]
    fn should_apply_defaults_and_refuse_unusable_issuers() {
        let ok = options(
            "issuers: [{issuer: https://id.example.com/, audiences: [promptsales], jwks_url: https://id.example.com/jwks}]",
        );
        assert!(ok.validate().is_ok());
        assert!(ok.required);
        assert_eq!(ok.leeway_secs, 30);
        assert_eq!(
            ok.issuers[0].algorithms,
            [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
        );
        let hmac =
            options("issuers: [{issuer: a, audiences: [b], jwks_url: https://x/jwks, algorithms: [RS256, HS256]}]");
        assert!(matches!(hmac.validate(), Err(InvalidAuth::Hmac(..))));
        let no_aud = options("issuers: [{issuer: a, audiences: [], jwks_url: https://x/jwks}]");
        assert!(matches!(no_aud.validate(), Err(InvalidAuth::NoAudiences(_))));
        let bad_url = options("issuers: [{issuer: a, audiences: [b], jwks_url: file:///etc/jwks}]");
        assert!(matches!(bad_url.validate(), Err(InvalidAuth::JwksUrl(..))));
        assert!(matches!(options("issuers: []").validate(), Err(InvalidAuth::NoIssuers)));
        assert!(
            serde_yaml_ng::from_str::<AuthOptions>(
                "issuers: [{issuer: a, audiences: [b], jwks_url: https://x, algorithms: [none]}]"
            )
            .is_err()
        );
    }

    #[test]
    fn should_take_only_at_jwt_as_an_access_token_type_unless_the_issuer_allows_jwt() {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
            assert!(access_token_type(Some(typ), false), "{typ}");
        }
        for typ in [None, Some("JWT"), Some("application/jwt"), Some("id+jwt"), Some("")] {
            assert!(!access_token_type(typ, false), "{typ:?}");
        }
        for typ in [None, Some("JWT"), Some("application/jwt"), Some("at+jwt")] {
            assert!(access_token_type(typ, true), "{typ:?}");
        }
        assert!(!access_token_type(Some("logout+jwt"), true));
    }

    #[test]
    fn should_read_scopes_from_scope_or_scp_and_the_organization() {
        let claims: TokenClaims = serde_json::from_value(serde_json::json!({
            "sub": "u1", "scope": "ads:read crm:read", "scp": ["ads:read", "sales:read"],
            "org": "00000000-0000-0000-0000-000000000001"
        }))
        .expect("claims");
        let caller = claims.into_caller().expect("valid");
        assert_eq!(caller.scopes, ["ads:read", "crm:read", "sales:read"]);
        assert_eq!(caller.organization, Some(Uuid::from_u128(1)));
        let bad_org: TokenClaims =
            serde_json::from_value(serde_json::json!({ "sub": "u1", "org": "acme" })).expect("claims");
        assert_eq!(bad_org.into_caller(), Err(AuthError::InvalidClaim("org")));
    }
}
