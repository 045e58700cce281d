//! Automatic persisted queries (Apollo's APQ protocol; `apq:` in the gateway's YAML file).
//!
//! A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}` without the
//! query text; when the gateway knows the hash it runs the query stored under it, otherwise it
//! answers `PERSISTED_QUERY_NOT_FOUND` (HTTP 200, as Apollo clients expect) and the client sends
//! the hash with the text once, which registers it at `ps:apq:v1:{sha256}` for every gateway.
//! The point is small requests, and GETs whose URL stays short enough for CDNs and browsers to
//! cache.
//!
//! Only documents that parse, pass the limits and validate are registered: the text is checked
//! against the gateway's schema ([`Gateway::check_document`], which also caches it for the run
//! that follows) before it is stored, so the store cannot be used as free storage for any text,
//! and a refused document is answered as it would be without APQ.
//!
//! A registration whose text does not hash to the given hash is refused with 400
//! (`PERSISTED_QUERY_HASH_MISMATCH`): otherwise anyone could bind a popular hash to another
//! query and every client of it would run that one. Redis being down makes every hash unknown;
//! clients then send the text, and the request runs as without APQ.

use std::time::Duration;

use promptsales_platform::redis::{KeySpace, Redis};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    Gateway,
    gateway::{Outcome, Request},
    response::{GraphqlError, Response},
};

/// The `apq:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApqOptions {
    /// How long a registered query is kept after its registration, in seconds.
    pub ttl_secs: u64,
}

impl Default for ApqOptions {
    fn default() -> ApqOptions {
        ApqOptions { ttl_secs: 24 * 3600 }
    }
}

/// The persisted queries; cheap to clone.
#[derive(Clone)]
pub struct PersistedQueries {
    redis: Redis,
    ttl: Duration,
}

impl std::fmt::Debug for PersistedQueries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueries").field("ttl", &self.ttl).finish()
    }
}

/// What the client asked for in `extensions.persistedQuery`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Persisted {
    version: Value,
    sha256_hash: Value,
}

impl PersistedQueries {
    pub fn new(options: &ApqOptions, redis: Redis) -> PersistedQueries {
        PersistedQueries {
            redis,
            ttl: Duration::from_secs(options.ttl_secs.max(1)),
        }
    }

    /// Completes `request` from its persisted-query extension, if it has one: fills in the
    /// stored text for a hash alone, registers a hash sent with its text. `Err`: the answer to
    /// send instead of running the request. `gateway` checks a document before it is registered.
    pub async fn resolve(&self, request: &mut Request, gateway: &Gateway) -> Result<(), Outcome> {
        let Some(raw) = request.extensions.as_ref().and_then(|e| e.get("persistedQuery")) else {
            return Ok(());
        };
        let persisted: Persisted = serde_json::from_value(raw.clone()).map_err(|_| {
            refusal(
                400,
                "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}",
                "BAD_REQUEST",
            )
        })?;
        if persisted.version.as_u64() != Some(1) {
            return Err(refusal(
                400,
                "only version 1 of persisted queries is supported",
                "PERSISTED_QUERY_NOT_SUPPORTED",
            ));
        }
        let hash = match persisted.sha256_hash.as_str() {
            Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => h.to_ascii_lowercase(),
            _ => {
                return Err(refusal(
                    400,
                    "extensions.persistedQuery.sha256Hash must be the SHA-256 of the query as 64 hex digits",
                    "BAD_REQUEST",
                ));
            }
        };
        let key = self.redis.keys().key(KeySpace::Apq, &[&hash]);
        match request.query.as_deref().filter(|q| !q.is_empty()) {
            Some(query) => {
                let actual = hex(&Sha256::digest(query.as_bytes()));
                if actual != hash {
                    metrics::counter!("gateway_apq_total", "result" => "hash_mismatch").increment(1);
                    return Err(refusal(
                        400,
                        &format!(
                            "the query's SHA-256 is {actual}, not the sha256Hash sent ({hash}); nothing was registered"
                        ),
                        "PERSISTED_QUERY_HASH_MISMATCH",
                    ));
                }
                if let Err(refused) = gateway.check_document(query).await {
                    metrics::counter!("gateway_apq_total", "result" => "invalid").increment(1);
                    return Err(refused);
                }
                let ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
                let set = redis::cmd("SET").arg(&key).arg(query).arg("PX").arg(ms).clone();
                // Not registered: the client sends the text again next time, nothing worse.
                let result = if self.redis.query::<()>("apq_set", &set).await.is_ok() {
                    "registered"
                } else {
                    "not_registered"
                };
                metrics::counter!("gateway_apq_total", "result" => result).increment(1);
                Ok(())
            }
            None => match self
                .redis
                .query::<Option<String>>("apq_get", redis::cmd("GET").arg(&key))
                .await
            {
                Ok(Some(query)) => {
                    metrics::counter!("gateway_apq_total", "result" => "hit").increment(1);
                    request.query = Some(query);
                    Ok(())
                }
                // Unknown, or Redis unavailable: either way the client resends with the text.
                Ok(None) | Err(_) => {
                    metrics::counter!("gateway_apq_total", "result" => "not_found").increment(1);
                    Err(refusal(200, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"))
                }
            },
        }
    }
}

fn refusal(status: u16, message: &str, code: &str) -> Outcome {
    Outcome {
        operation: None,
        status,
        response: Response::request_error(GraphqlError::new(message).with_code(code)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
