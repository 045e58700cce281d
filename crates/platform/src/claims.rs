//! The verified caller, as the gateway forwards it to subgraphs in one signed header,
//! `x-promptsales-claims`: a compact JWS (HS256) with the subject, scopes and optional
//! organization, valid for one minute (the request id travels beside it in `x-request-id`). Subgraphs refuse any request without a valid one, so
//! a subgraph reached directly (bypassing the gateway) serves nobody.
//!
//! HS256 with a shared key keeps the check to one HMAC per request; the key is a deployment
//! secret (`PROMPTSALES_CLAIMS_KEY`) known only to the gateway and the subgraphs.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

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
/// The longest lifetime a header may claim, whoever signed it: a leaked header (from a log, say)
/// must not open the subgraphs for years. An hour is what a subgraph's dev GraphiQL page signs.
pub const MAX_LIFETIME_SECS: i64 = 3600;
/// Clock skew allowed between the signer and the verifier.
const LEEWAY_SECS: i64 = 5;

/// Who is calling and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Claims {
    /// The token's subject (a user or a client id).
    pub sub: String,
    /// Granted scopes, e.g. `ads:read crm:pii`.
    pub scopes: Vec<String>,
    /// The organization the caller belongs to; `None` for PromptSales staff, who see all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    /// A request id bound into the claims. The gateway leaves it out and sends the id in
    /// `x-request-id`, so that a caller's claims sign to one header per second (see
    /// [`ClaimsKey::sign`]); subgraphs take it from here when present, else from the header.
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
    /// Headers signed during the current second. Signing is deterministic, so a caller's next
    /// request in the same second gets the very header signing would give again, without the
    /// JSON encoding, HMAC and base64 of it (a few percent of the gateway's work per request).
    recent: Arc<Mutex<Recent>>,
    /// The root of keys derived for other purposes ([`ClaimsKey::derive`]), never the secret.
    derivation: [u8; 32],
}

#[derive(Default)]
struct Recent {
    second: i64,
    signed: HashMap<Claims, String>,
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{Mac, digest::KeyInit};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// How many distinct callers' headers one second keeps; beyond that, headers are signed afresh.
const RECENT_CAPACITY: usize = 4096;

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
            recent: Arc::default(),
            derivation: hmac_sha256(secret, b"promptsales/claims-key/derive/v1"),
        })
    }

    /// A 32-byte key for `purpose`, derived from this secret (HMAC-SHA256): for what the holders
    /// of the claims key must agree on besides the header, such as the integrity of the signing
    /// keys the gateways share through Redis. Knowing a derived key reveals neither the secret
    /// nor the keys of other purposes.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        hmac_sha256(&self.derivation, purpose.as_bytes())
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
        let now = chrono::Utc::now().timestamp();
        {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.second != now {
                recent.second = now;
                recent.signed.clear();
            }
            if let Some(header) = recent.signed.get(claims) {
                return header.clone();
            }
        }
        let header = self.sign_at(claims, now, LIFETIME_SECS);
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.second == now && recent.signed.len() < RECENT_CAPACITY {
            recent.signed.insert(claims.clone(), header.clone());
        }
        header
    }

    /// Signs claims valid for `seconds` (a dev GraphiQL page keeps one for an hour).
    pub fn sign_for(&self, claims: &Claims, seconds: i64) -> String {
        self.sign_at(claims, chrono::Utc::now().timestamp(), seconds)
    }

    fn sign_at(&self, claims: &Claims, now: i64, seconds: i64) -> String {
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
        validation.leeway = LEEWAY_SECS as u64;
        let data = jsonwebtoken::decode::<Wire>(token, &self.decoding, &validation)
            .map_err(|e| Error::Invalid(e.kind_name()))?;
        let Wire { iat, exp, claims, .. } = data.claims;
        if exp - iat > MAX_LIFETIME_SECS {
            return Err(Error::Invalid(format!("lifetime over {MAX_LIFETIME_SECS} s")));
        }
        if iat > chrono::Utc::now().timestamp() + LEEWAY_SECS {
            return Err(Error::Invalid("issued in the future".into()));
        }
        Ok(claims)
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
    fn should_reuse_a_header_only_for_the_same_claims() {
        let key = ClaimsKey::random();
        let a = Claims::staff("u1", &["ads:read"]);
        let b = Claims {
            rid: Some("r2".into()),
            ..a.clone()
        };
        let (first_a, first_b) = (key.sign(&a), key.sign(&b));
        assert_ne!(first_a, first_b);
        assert_eq!(key.verify(Some(&first_a)).expect("valid"), a);
        assert_eq!(key.verify(Some(&first_b)).expect("valid"), b);
        // Signed again (from the memo, or afresh if the second turned): still the caller's own.
        assert_eq!(key.verify(Some(&key.sign(&b))).expect("valid"), b);
        assert_eq!(key.verify(Some(&key.sign(&a))).expect("valid"), a);
    }

    #[test]
    fn should_refuse_validly_signed_headers_that_claim_a_long_lifetime() {
        let key = ClaimsKey::random();
        let claims = Claims::staff("u1", &["admin", "crm:pii"]);
        let ten_years = key.sign_for(&claims, 10 * 365 * 24 * 3600);
        assert_eq!(
            key.verify(Some(&ten_years)).expect_err("too long").to_string(),
            "invalid x-promptsales-claims header: lifetime over 3600 s"
        );
        let future = key.sign_at(&claims, chrono::Utc::now().timestamp() + 600, 60);
        assert!(key.verify(Some(&future)).is_err(), "issued in the future");
        assert!(key.verify(Some(&key.sign_for(&claims, MAX_LIFETIME_SECS))).is_ok());
    }

    #[test]
    fn should_derive_distinct_keys_per_purpose_and_secret() {
        let key = ClaimsKey::new(&[7u8; 32]).expect("key");
        let same = ClaimsKey::new(&[7u8; 32]).expect("key");
        assert_eq!(key.derive("a"), same.derive("a"));
        assert_ne!(key.derive("a"), key.derive("b"));
        assert_ne!(key.derive("a"), ClaimsKey::random().derive("a"));
    }

    #[test]
    fn should_refuse_short_keys() {
        assert!(ClaimsKey::new(&[0u8; 16]).is_err());
    }
}
