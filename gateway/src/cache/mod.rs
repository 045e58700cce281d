//! The response cache in Redis (`cache:` in the gateway's YAML file).
//!
//! A query's response is stored under a hash of the operation, its variables, the caller's scope
//! set and organization and the supergraph ([`key`]), with the time it stays fresh: the smallest
//! `@cacheControl(maxAge)` hint along the response ([`hints`]), `default_max_age_secs` for the
//! parts without one; Redis keeps it `grace_secs` longer, and within that grace it is served
//! (`x-cache: stale`) when running the query again hits a subgraph that fails. Only queries that
//! executed without any error are stored, never mutations, introspection or a response that
//! carried decrypted PII: those are `x-cache: bypass` with `Cache-Control: private, no-store`.
//!
//! Every stored entry is tagged ([`tags`]) with the object types its selection can return
//! (`ps:tag:v1:{Type}`), the entities that came back with their id (`ps:tag:v1:{Type}:{id}`) and,
//! for types of which an object came back without its id, `ps:tag:v1:{Type}:*`. A mutation that
//! executed drops every entry tagged with a type its selection returns, before its response is
//! sent, so the caller's next read sees the write; the ETL drops by type or by entity through
//! `POST /cache/invalidate` or `promptsales cache invalidate`.
//!
//! Redis being down or slow costs at most one command timeout per request, then nothing while
//! the circuit breaker is open ([`promptsales_platform::redis`]): responses are the uncached ones.

pub mod hints;
pub mod key;
mod tags;

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::http::{HeaderMap, HeaderValue, header};
use promptsales_platform::redis::{self as ps_redis, KeySpace, Redis, RedisOptions};
use serde::Deserialize;

use crate::{
    gateway::{Gateway, Outcome, Request},
    response::Data,
    schema::Kind,
};

/// The `cache:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheOptions {
    /// Where Redis is (`url`, else `PROMPTSALES_REDIS_URL`), the key prefix, the command timeout
    /// and the circuit breaker.
    pub redis: RedisOptions,
    /// How long a response stays fresh, in seconds.
    pub default_max_age_secs: u64,
    /// How much longer than fresh an entry is kept, in seconds, to be served when subgraphs fail.
    pub grace_secs: u64,
    /// Responses larger than this many bytes are not stored.
    pub max_entry_bytes: usize,
    /// At most this many entity tags per entry; past it, the types of the rest are tagged
    /// `{Type}:*`, so invalidating any entity of theirs still drops the entry.
    pub max_entity_tags: usize,
}

impl Default for CacheOptions {
    fn default() -> CacheOptions {
        CacheOptions {
            redis: RedisOptions::default(),
            default_max_age_secs: 60,
            grace_secs: 300,
            max_entry_bytes: 1024 * 1024,
            max_entity_tags: 256,
        }
    }
}

impl CacheOptions {
    pub fn validate(&self) -> Result<(), ps_redis::Error> {
        self.redis.validate()?;
        if self.default_max_age_secs == 0 {
            return Err(ps_redis::Error::Config(
                "default_max_age_secs must be above 0 (leave the cache section out to turn caching off)".into(),
            ));
        }
        Ok(())
    }
}

/// The `x-cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from the cache, fresh.
    Hit,
    /// Executed and stored.
    Miss,
    /// Served from the cache past its freshness, because executing it failed.
    Stale,
    /// Not cacheable (mutation, introspection, PII, errors, too large): executed, not stored.
    Bypass,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "hit",
            CacheStatus::Miss => "miss",
            CacheStatus::Stale => "stale",
            CacheStatus::Bypass => "bypass",
        }
    }
}

/// The cache headers of one response.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub status: CacheStatus,
    pub cache_control: String,
}

impl Verdict {
    fn bypass() -> Verdict {
        Verdict {
            status: CacheStatus::Bypass,
            cache_control: "private, no-store".to_owned(),
        }
    }

    /// Always `private`: even the answers every tokenless caller shares may hold personal data
    /// (customer names, places), which no proxy or CDN on the way may keep and hand to others.
    fn cacheable(status: CacheStatus, max_age_secs: u64) -> Verdict {
        Verdict {
            status,
            cache_control: format!("private, max-age={max_age_secs}"),
        }
    }

    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-cache", HeaderValue::from_static(self.status.as_str()));
        if let Ok(value) = HeaderValue::try_from(self.cache_control.as_str()) {
            headers.insert(header::CACHE_CONTROL, value);
        }
    }
}

/// What the HTTP front sends.
pub enum Reply {
    /// The executed outcome, serialised by the front; `None`: the cache is off, no cache headers.
    Executed(Outcome, Option<Verdict>),
    /// A response body already serialised: from the cache, or serialised once to be stored.
    Body(Vec<u8>, Verdict),
}

/// A request the cache may serve, with its key.
pub struct Prepared {
    key: Option<String>,
    query: String,
    operation_name: Option<String>,
    /// The variables of a request that may be a mutation (not looked up): the entities its
    /// arguments name are invalidated after it ran.
    variables: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What the cache held for a request.
pub enum Found {
    Fresh(Entry),
    /// Past its freshness, within the grace period.
    Stale(Entry),
    Miss,
}

/// A stored response: when it stops being fresh, and its body.
pub struct Entry {
    fresh_until_ms: u64,
    body: Vec<u8>,
}

impl Entry {
    /// Eight bytes of fresh-until (Unix milliseconds, big-endian), then the body.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.body.len());
        out.extend_from_slice(&self.fresh_until_ms.to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    fn decode(mut raw: Vec<u8>) -> Option<Entry> {
        let head: [u8; 8] = raw.get(..8)?.try_into().ok()?;
        raw.drain(..8);
        Some(Entry {
            fresh_until_ms: u64::from_be_bytes(head),
            body: raw,
        })
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What invalidation drops.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invalidation {
    /// An object type of the supergraph (`Campaign`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// Entity ids; empty: every entry holding any object of the type.
    #[serde(default)]
    pub ids: Vec<String>,
}

/// Why an invalidation was refused.
#[derive(Debug, thiserror::Error)]
pub enum InvalidationError {
    #[error("{0:?} is not an object type of the supergraph")]
    UnknownType(String),
    #[error("the cache could not be reached: {0}")]
    Redis(#[from] ps_redis::Error),
}

/// The response cache; cheap to clone.
#[derive(Clone)]
pub struct ResponseCache {
    redis: Redis,
    options: Arc<CacheOptions>,
}

impl ResponseCache {
    /// Must be called inside a Tokio runtime; connects in the background.
    pub fn new(options: CacheOptions) -> Result<ResponseCache, ps_redis::Error> {
        options.validate()?;
        Ok(ResponseCache {
            redis: Redis::new(&options.redis)?,
            options: Arc::new(options),
        })
    }

    /// The Redis client, shared with the gateway's other Redis users (JWKS, rate limits, APQ).
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// The request's key, unless it is plainly no cacheable query (then it is not looked up,
    /// but a mutation among them still invalidates after it ran).
    pub fn prepare(
        &self,
        gateway: &Gateway,
        request: &Request,
        scopes: &[String],
        organization: Option<uuid::Uuid>,
    ) -> Option<Prepared> {
        let query = request.query.as_deref()?;
        // A cheap screen, not a parse: a false positive only costs the lookup, and what is
        // stored is decided on the executed operation.
        let lookup = !query.contains("mutation") && !query.contains("__schema") && !query.contains("__type(");
        let (schema_hash, _) = gateway.cache_view();
        let key = lookup.then(|| {
            let hash = key::hash(&key::KeyParts {
                query,
                operation_name: request.operation_name.as_deref(),
                variables: request.variables.as_ref(),
                scopes,
                organization,
                schema_hash,
            });
            self.redis.keys().key(KeySpace::Resp, &[&hash])
        });
        let variables = if key.is_none() { request.variables.clone() } else { None };
        Some(Prepared {
            key,
            query: query.to_owned(),
            operation_name: request.operation_name.clone().filter(|n| !n.is_empty()),
            variables,
        })
    }

    pub async fn lookup(&self, prepared: &Prepared) -> Found {
        let Some(key) = &prepared.key else {
            return Found::Miss;
        };
        let raw: Option<Vec<u8>> = match self.redis.query("get", redis::cmd("GET").arg(key)).await {
            Ok(raw) => raw,
            // Already logged and counted by the client: without Redis, every request misses.
            Err(_) => return Found::Miss,
        };
        match raw.and_then(Entry::decode) {
            Some(entry) if entry.fresh_until_ms > now_ms() => Found::Fresh(entry),
            Some(entry) => Found::Stale(entry),
            None => Found::Miss,
        }
    }

    /// The reply for a request found fresh in the cache.
    pub fn hit(&self, entry: Entry) -> Reply {
        let left = entry.fresh_until_ms.saturating_sub(now_ms()) / 1000;
        metrics::counter!("gateway_cache_total", "result" => "hit").increment(1);
        Reply::Body(entry.body, Verdict::cacheable(CacheStatus::Hit, left))
    }

    /// After execution: serves a stale entry if the execution failed on a subgraph, stores a
    /// cacheable response (in the background), invalidates after a mutation (before replying).
    pub async fn settle(
        &self,
        gateway: Arc<Gateway>,
        prepared: Option<Prepared>,
        found: Found,
        outcome: Outcome,
        contains_pii: bool,
    ) -> Reply {
        let kind = outcome.operation.as_ref().map(|o| o.kind);
        let Some(prepared) = prepared else {
            return self.bypass(outcome);
        };
        if kind == Some("mutation") {
            if outcome.status == 200 {
                self.after_mutation(&gateway, &prepared, &outcome).await;
            }
            return self.bypass(outcome);
        }
        if let Found::Stale(entry) = found
            && failed_on_a_subgraph(&outcome)
        {
            metrics::counter!("gateway_cache_total", "result" => "stale").increment(1);
            return Reply::Body(entry.body, Verdict::cacheable(CacheStatus::Stale, 0));
        }
        let cacheable = outcome.status == 200
            && kind == Some("query")
            && prepared.key.is_some()
            && outcome.operation.as_ref().is_some_and(|o| !o.root_fields.is_empty())
            && outcome.response.errors.is_empty()
            && outcome.response.data.as_ref().is_some_and(|d| !d.is_null())
            && !contains_pii;
        if !cacheable {
            return self.bypass(outcome);
        }
        let body = outcome.response.to_bytes();
        if body.len() > self.options.max_entry_bytes {
            metrics::counter!("gateway_cache_total", "result" => "bypass").increment(1);
            return Reply::Body(body, Verdict::bypass());
        }
        // Tags (and the freshness hints along the response) before the reply: its Cache-Control
        // says how long it may be kept. An entry that cannot be tagged could not be invalidated:
        // it is not stored.
        let tags = {
            let (_, schema) = gateway.cache_view();
            let data = outcome
                .response
                .data
                .as_ref()
                .map_or(serde_json::Value::Null, Data::to_value);
            tags::collect(schema, &prepared.query, prepared.operation_name.as_deref(), &data)
        };
        let Some(tags) = tags else {
            tracing::debug!("response not stored: its document could not be read for tags");
            metrics::counter!("gateway_cache_total", "result" => "bypass").increment(1);
            return Reply::Body(body, Verdict::bypass());
        };
        let max_age = tags.max_age(self.options.default_max_age_secs);
        if max_age == 0 {
            // A hint of 0: this response is never kept.
            metrics::counter!("gateway_cache_total", "result" => "bypass").increment(1);
            return Reply::Body(body, Verdict::bypass());
        }
        let entry = Entry {
            fresh_until_ms: now_ms() + max_age * 1000,
            body,
        };
        let encoded = entry.encode();
        let cache = self.clone();
        // Stored after the reply: the client does not wait for Redis on a miss.
        tokio::spawn(async move { cache.store(&prepared, tags, &encoded, max_age).await });
        metrics::counter!("gateway_cache_total", "result" => "miss").increment(1);
        Reply::Body(entry.body, Verdict::cacheable(CacheStatus::Miss, max_age))
    }

    fn bypass(&self, outcome: Outcome) -> Reply {
        metrics::counter!("gateway_cache_total", "result" => "bypass").increment(1);
        Reply::Executed(outcome, Some(Verdict::bypass()))
    }

    async fn store(&self, prepared: &Prepared, tags: tags::Tags, encoded: &[u8], max_age: u64) {
        let Some(key) = &prepared.key else { return };
        let tag_keys = self.tag_keys(tags);
        let ttl = Duration::from_secs(max_age + self.options.grace_secs);
        if let Err(e) = self.redis.set_tagged(key, encoded, ttl, &tag_keys).await {
            tracing::debug!(error = %e, "response not stored");
        }
    }

    /// The tag set keys of an entry.
    fn tag_keys(&self, tags: tags::Tags) -> Vec<String> {
        let keys = self.redis.keys();
        let mut out: Vec<String> = tags.types.iter().map(|t| keys.key(KeySpace::Tag, &[t])).collect();
        let mut unnamed = tags.unnamed;
        for (i, (ty, id)) in tags.entities.into_iter().enumerate() {
            if i < self.options.max_entity_tags {
                out.push(keys.key(KeySpace::Tag, &[&ty, &id]));
            } else {
                unnamed.insert(ty);
            }
        }
        out.extend(unnamed.iter().map(|t| keys.key(KeySpace::Tag, &[t, "*"])));
        out
    }

    /// Drops every entry that could hold an object of a type the mutation's selection returns:
    /// by type, not by the returned ids, because a write can change lists the entity was not in
    /// (a new lead joins a campaign's leads) and counts derived from it.
    async fn after_mutation(&self, gateway: &Gateway, prepared: &Prepared, outcome: &Outcome) {
        let (_, schema) = gateway.cache_view();
        let data = outcome
            .response
            .data
            .as_ref()
            .map_or(serde_json::Value::Null, Data::to_value);
        let Some(tags) = tags::collect(schema, &prepared.query, prepared.operation_name.as_deref(), &data) else {
            return;
        };
        let keys = self.redis.keys();
        let mut tag_keys: Vec<String> = tags.types.iter().map(|t| keys.key(KeySpace::Tag, &[t])).collect();
        let named = tags::named_by_arguments(
            schema,
            &prepared.query,
            prepared.operation_name.as_deref(),
            prepared.variables.as_ref().unwrap_or(&serde_json::Map::new()),
        );
        for (type_name, id) in &named {
            tag_keys.extend(keys.invalidation_tags(type_name, std::slice::from_ref(id)));
        }
        match self.redis.drop_tagged(&tag_keys).await {
            Ok(dropped) => {
                metrics::counter!("gateway_cache_invalidations_total", "source" => "mutation").increment(1);
                metrics::counter!("gateway_cache_dropped_entries_total").increment(dropped);
                tracing::debug!(types = ?tags.types, dropped, "cache invalidated by a mutation");
            }
            Err(e) => {
                // Entries may stay until their TTL: say so where operators look.
                metrics::counter!("gateway_cache_invalidation_failures_total").increment(1);
                tracing::warn!(error = %e, types = ?tags.types, "cache not invalidated after a mutation");
            }
        }
    }

    /// Drops the entries holding objects of `what.type_name` (all of them, or those with the
    /// given ids and those holding an object of the type they cannot name); returns how many.
    pub async fn invalidate(&self, gateway: &Gateway, what: &Invalidation) -> Result<u64, InvalidationError> {
        let (_, schema) = gateway.cache_view();
        let known = schema.kind(&what.type_name) == Some(Kind::Object)
            && Some(&what.type_name) != schema.mutation.as_ref()
            && what.type_name != schema.query;
        if !known {
            return Err(InvalidationError::UnknownType(what.type_name.clone()));
        }
        let tags = self.redis.keys().invalidation_tags(&what.type_name, &what.ids);
        let dropped = self.redis.drop_tagged(&tags).await?;
        metrics::counter!("gateway_cache_invalidations_total", "source" => "api").increment(1);
        metrics::counter!("gateway_cache_dropped_entries_total").increment(dropped);
        Ok(dropped)
    }
}

/// Whether part of the response is missing because a subgraph could not be fetched.
fn failed_on_a_subgraph(outcome: &Outcome) -> bool {
    outcome.status >= 500
        || outcome
            .response
            .errors
            .iter()
            .any(|e| e.extensions.get("code").and_then(serde_json::Value::as_str) == Some("SUBGRAPH_REQUEST_FAILED"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_round_trip_an_entry() {
        let entry = Entry {
            fresh_until_ms: 1_700_000_000_123,
            body: br#"{"data":{}}"#.to_vec(),
        };
        let back = Entry::decode(entry.encode()).expect("decodes");
        assert_eq!(back.fresh_until_ms, entry.fresh_until_ms);
        assert_eq!(back.body, entry.body);
        assert!(Entry::decode(vec![1, 2, 3]).is_none());
    }

    #[test]
    fn should_read_the_cache_section_with_defaults() {
        let options: CacheOptions =
            serde_yaml_ng::from_str("redis:\n  prefix: 'ps:test:'\n  timeout_ms: 20\ngrace_secs: 30").expect("yaml");
        assert_eq!(options.default_max_age_secs, 60);
        assert_eq!(options.grace_secs, 30);
        assert_eq!(options.redis.timeout_ms, 20);
        assert!(options.validate().is_ok());
        assert!(
            serde_yaml_ng::from_str::<CacheOptions>("max_age: 5").is_err(),
            "unknown fields are refused"
        );
    }
}
