//! A token issuer for tests: an ES256 key made per stack, its JWKS served on port 0, and access
//! tokens (`typ: at+jwt`) for any subject, scopes and organization. A stack built with
//! [`crate::Builder::with_auth`] makes its gateway trust it, so tests exercise real bearer tokens
//! end to end (what an MCP server forwards) instead of the anonymous scopes.

use std::net::SocketAddr;

use axum::{Json, Router, routing::get};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::{elliptic_curve::sec1::ToEncodedPoint, pkcs8::EncodePrivateKey};
use serde_json::{Value, json};

/// The issuer (`iss`) of the test tokens.
pub const ISSUER: &str = "https://id.promptsales.test/";
/// The audience (`aud`) the test gateway accepts.
pub const AUDIENCE: &str = "promptsales-gateway";
const KID: &str = "test-es256";

/// The test issuer: its signing key and where its JWKS is served.
pub struct Issuer {
    encoding: EncodingKey,
    addr: SocketAddr,
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
        let app = Router::new().route(
            "/jwks.json",
            get(move || {
                let jwk = jwk.clone();
                async move { Json(json!({ "keys": [jwk] })) }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Issuer {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            addr,
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
        jsonwebtoken::encode(&header, &claims, &self.encoding).expect("signs")
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
