//! Answers kept in Redis: `ps:mcp:v1:{tool}:{hash}` (`{hash}`: the platform's `input_hash` of
//! the caller's token digest and the tool's arguments), five minutes by default (`MCP_TTL`).
//!
//! Who may see an answer is part of its key. Two ways were possible: verify the JWT here (the
//! gateway's `Authenticator`) and key by the verified organization and sorted scopes, or key by
//! a digest of the token itself. The digest is used:
//! - it trusts nothing the token claims: an entry is only written after the gateway accepted that
//!   exact token, and only a caller presenting that exact token can compute its key;
//! - it needs no copy of the issuers' configuration and JWKS in every MCP server (which would
//!   drift from the gateway's, the one place tokens are judged);
//! - two callers with different scopes or organizations necessarily hold different tokens, so
//!   they can never share an answer. The cost — the same person with a fresh token misses the
//!   cache — is small against a 5-minute TTL.
//!
//! An entry never outlives the token that obtained it (TTL capped by the token's `exp`), and a
//! cache hit is still recorded through the gateway (see [`crate::tool`]), which verifies the
//! token again, so a revoked or expired token cannot read a cached answer.
//!
//! Redis is only a cache: when it is down or slow (one short timeout, behind the platform's
//! circuit breaker) answers are computed every time.

use std::time::Duration;

use promptsales_platform::{
    redis::{KeySpace, Redis, RedisOptions},
    redis_blocks::input_hash,
};
use serde_json::Value;

use crate::caller::Caller;

/// The Redis answer cache; `None` inside when caching is off.
#[derive(Clone, Debug)]
pub struct AnswerCache {
    redis: Option<Redis>,
    ttl: Duration,
}

impl AnswerCache {
    /// A cache over Redis at `url` (default: `PROMPTSALES_REDIS_URL`, else the local Redis) with
    /// keys under `prefix`. A zero `ttl` turns it off.
    pub fn new(
        url: Option<&str>,
        prefix: &str,
        ttl: Duration,
    ) -> Result<AnswerCache, promptsales_platform::redis::Error> {
        if ttl.is_zero() {
            return Ok(AnswerCache::off());
        }
        let options = RedisOptions {
            url: url.map(str::to_owned),
            prefix: prefix.to_owned(),
            timeout_ms: 200,
            ..RedisOptions::default()
        };
        options.validate()?;
        Ok(AnswerCache {
            redis: Some(Redis::new(&options)?),
            ttl,
        })
    }

    /// No cache: every answer is computed.
    pub fn off() -> AnswerCache {
        AnswerCache {
            redis: None,
            ttl: Duration::ZERO,
        }
    }

    /// The key of `tool`'s answer to `arguments` for `caller`.
    pub fn key(&self, tool: &str, caller: &Caller, arguments: &Value) -> Option<String> {
        let redis = self.redis.as_ref()?;
        // The platform's canonical input hash (object keys sorted), over who asks and what.
        let who: String = caller.token_digest().iter().map(|b| format!("{b:02x}")).collect();
        let hash = input_hash(&serde_json::json!({ "caller": who, "arguments": arguments })).ok()?;
        Some(redis.keys().key(KeySpace::Mcp, &[tool, &hash]))
    }

    /// The cached answer under `key`, if any (Redis failures read as a miss).
    pub async fn get(&self, key: &str) -> Option<Value> {
        let redis = self.redis.as_ref()?;
        let bytes: Option<Vec<u8>> = redis
            .query("mcp_get", redis::cmd("GET").arg(key))
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "answer cache unavailable"))
            .ok()?;
        serde_json::from_slice(&bytes?).ok()
    }

    /// Keeps `answer` under `key` for the TTL, never past the token's expiry.
    pub async fn put(&self, key: &str, caller: &Caller, answer: &Value) {
        let Some(redis) = &self.redis else { return };
        let mut ttl = self.ttl.as_secs();
        if let Some(left) = caller.seconds_left(chrono::Utc::now().timestamp()) {
            ttl = ttl.min(u64::try_from(left).unwrap_or(0));
        }
        if ttl == 0 {
            return;
        }
        let body = answer.to_string();
        if let Err(e) = redis
            .query::<()>("mcp_set", redis::cmd("SET").arg(key).arg(body).arg("EX").arg(ttl))
            .await
        {
            tracing::debug!(error = %e, "answer not cached");
        }
    }
}
