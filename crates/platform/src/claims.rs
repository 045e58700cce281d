//! The verified caller, as the gateway forwards it to subgraphs in one signed header,
//! `x-promptsales-claims`: a compact JWS (HS256) with the subject, scopes, optional organization
//! and the request id, valid for one minute. Subgraphs refuse any request without a valid one, so
//! a subgraph reached directly (bypassing the gateway) serves nobody.
//!
//! HS256 with a shared key keeps the check to one HMAC per request; the key is a deployment
//! secret (`PROMPTSALES_CLAIMS_KEY`) known only to the gateway and the subgraphs.

use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Name of the header that carries the claims.
pub const HEADER: &str = "x-promptsales-claims";
const ISSUER: &str = "promptsales-gateway";
const AUDIENCE: &str = "promptsales-subgraphs";
/// How long a signed header stays valid (one request's life, with clock skew to spare).
const LIFETIME_SECS: i64 = 60;

/// Who is calling and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The token's subject (a user or a client id).
    pub sub: String,
    /// Granted scopes, e.g. `ads:read crm:pii`.
    pub scopes: Vec<String>,
    /// The organization the caller belongs to; `None` for PromptSales staff, who see all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    /// The gateway's request id, for logs on both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
}

impl Claims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// A staff caller with the given scopes (tests and a subgraph's dev GraphiQL).
    pub fn staff(sub: &str, scopes: &[&str]) -> Claims {
        Claims {
            sub: sub.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            org: None,
            rid: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    #[serde(flatten)]
    claims: Claims,
}

/// Why a claims header was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("missing {HEADER} header: requests must come through the gateway")]
    Missing,
    #[error("invalid {HEADER} header: {0}")]
    Invalid(String),
    #[error("claims key: {0}")]
    Key(String),
}

/// The shared key that signs and verifies claims headers.
#[derive(Clone)]
pub struct ClaimsKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for ClaimsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimsKey(***)")
    }
}

impl ClaimsKey {
    /// From 32 or more secret bytes.
    pub fn new(secret: &[u8]) -> Result<ClaimsKey, Error> {
        if secret.len() < 32 {
            return Err(Error::Key("must be at least 32 bytes".into()));
        }
        Ok(ClaimsKey {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    /// From `PROMPTSALES_CLAIMS_KEY` (base64).
    pub fn from_env() -> Result<ClaimsKey, Error> {
        let b64 = std::env::var("PROMPTSALES_CLAIMS_KEY")
            .map_err(|_| Error::Key("PROMPTSALES_CLAIMS_KEY is not set".into()))?;
        let secret = STANDARD
            .decode(b64.trim())
            .map_err(|_| Error::Key("PROMPTSALES_CLAIMS_KEY is not base64".into()))?;
        ClaimsKey::new(&secret)
    }

    /// A random key (tests; a process that signs and verifies its own headers).
    pub fn random() -> ClaimsKey {
        let secret: [u8; 32] = rand::random();
        ClaimsKey::new(&secret).expect("32 bytes is long enough")
    }

    /// Signs claims for one request.
    pub fn sign(&self, claims: &Claims) -> String {
        self.sign_for(claims, LIFETIME_SECS)
    }

    /// Signs claims valid for `seconds` (a dev GraphiQL page keeps one for an hour).
    pub fn sign_for(&self, claims: &Claims, seconds: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let wire = Wire {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + seconds,
            claims: claims.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &wire, &self.encoding)
            .expect("HS256 signing of a serialisable value cannot fail")
    }

    /// Verifies a header value: signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, value: Option<&str>) -> Result<Claims, Error> {
        let token = value.ok_or(Error::Missing)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Wire>(token, &self.decoding, &validation)
            .map_err(|e| Error::Invalid(e.kind_name()))?;
        Ok(data.claims.claims)
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for jsonwebtoken::errors::Error {
    fn kind_name(&self) -> String {
        use jsonwebtoken::errors::ErrorKind::*;
        match self.kind() {
            ExpiredSignature => "expired".into(),
            InvalidSignature => "bad signature".into(),
            InvalidAlgorithm => "wrong algorithm".into(),
            InvalidIssuer => "wrong issuer".into(),
            InvalidAudience => "wrong audience".into(),
            _ => "malformed".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_verify_what_it_signed() {
        let key = ClaimsKey::random();
        let claims = Claims {
            org: Some(Uuid::nil()),
            rid: Some("r1".into()),
            ..Claims::staff("u1", &["ads:read"])
        };
        assert_eq!(key.verify(Some(&key.sign(&claims))).expect("valid"), claims);
    }

    #[test]
    fn should_refuse_missing_forged_and_expired_headers() {
        let key = ClaimsKey::random();
        let claims = Claims::staff("u1", &["admin"]);
        assert!(matches!(key.verify(None), Err(Error::Missing)));
        let forged = ClaimsKey::random().sign(&claims);
        assert_eq!(
            key.verify(Some(&forged)).expect_err("forged").to_string(),
            "invalid x-promptsales-claims header: bad signature"
        );
        let expired = key.sign_for(&claims, -120);
        assert_eq!(
            key.verify(Some(&expired)).expect_err("expired").to_string(),
            "invalid x-promptsales-claims header: expired"
        );
        assert!(key.verify(Some("not.a.jwt")).is_err());
    }

    #[test]
    fn should_refuse_short_keys() {
        assert!(ClaimsKey::new(&[0u8; 16]).is_err());
    }
}
