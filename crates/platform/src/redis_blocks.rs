//! Building blocks on the guarded Redis client for the MCP servers, the AI features and the ETL:
//! a JSON memo with single-flight ([`Memo`]) and a distributed lock ([`Lock`]).
//!
//! The memo caches what is slow or costs money to compute — MCP tool results
//! (`ps:mcp:v1:{tool}:{hash}`, [`MCP_TTL`]), embeddings (`ps:emb:v1:{model}:{hash}`,
//! [`EMBEDDING_TTL`]) and generated text (`ps:llm:v1:{model}:{hash}`, [`LLM_TTL`]) — where
//! `{hash}` is [`input_hash`] of what the result depends on. Concurrent callers of one key in a
//! process share one computation, so a burst of identical requests pays for one model call.
//! Without Redis the memo only computes: it is a cache, never needed for a correct answer.
//!
//! The lock (`ps:lock:v1:{name}`) is `SET NX PX` with a random token; only the holder's token
//! releases or extends it (a Lua script compares before it deletes), so a holder whose lock
//! expired cannot release the next holder's. It is advisory and bounded by its TTL: work that
//! may outlive the TTL extends it while it runs. Unlike the memo, a lock that cannot reach
//! Redis fails ([`LockError::Redis`]): running unguarded is the caller's decision, not ours.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::redis::{self as ps_redis, KeySpace, Redis};

/// How long an MCP tool result is reused.
pub const MCP_TTL: Duration = Duration::from_secs(5 * 60);
/// How long an embedding is reused: it only changes with the model, which is in its key.
pub const EMBEDDING_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long generated text is reused.
pub const LLM_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The SHA-256 (hex) of `input` as JSON with object keys sorted at every level, so inputs that
/// differ only in key order share an entry.
pub fn input_hash(input: &impl Serialize) -> Result<String, serde_json::Error> {
    let value = canonical(serde_json::to_value(input)?);
    let digest = Sha256::digest(serde_json::to_vec(&value)?);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, canonical(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Why [`Memo::get_or_compute`] gave no value.
#[derive(Debug, thiserror::Error)]
pub enum MemoError<E> {
    /// The computation failed; nothing was stored.
    #[error(transparent)]
    Compute(E),
    /// The value does not convert to or from JSON.
    #[error("the memoised value is not representable as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A JSON memo in Redis; cheap to clone (clones share their in-flight computations).
#[derive(Clone)]
pub struct Memo {
    redis: Redis,
    /// One cell per key being computed in this process; removed when the computation ends.
    flights: Arc<Mutex<HashMap<String, Arc<OnceCell<Value>>>>>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").field("redis", &self.redis).finish()
    }
}

impl Memo {
    pub fn new(redis: Redis) -> Memo {
        Memo {
            redis,
            flights: Arc::default(),
        }
    }

    /// The value at `{space}:{parts…}`: from Redis when it is there, else computed by `compute`,
    /// stored for `ttl` and returned. Concurrent callers of one key in this process wait for one
    /// computation; when it fails, the next waiter computes with its own closure.
    pub async fn get_or_compute<T, E, F, Fut>(
        &self,
        space: KeySpace,
        parts: &[&str],
        ttl: Duration,
        compute: F,
    ) -> Result<T, MemoError<E>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let key = self.redis.keys().key(space, parts);
        let cell = self
            .lock_flights()
            .entry(key.clone())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        let segment = space.segment();
        let mut ran = false;
        let outcome: Result<Value, MemoError<E>> = cell
            .get_or_try_init(|| async {
                ran = true;
                if let Some(value) = self.stored(&key).await {
                    metrics::counter!("redis_memo_total", "space" => segment, "result" => "hit").increment(1);
                    return Ok(value);
                }
                let computed = compute().await.map_err(MemoError::Compute)?;
                let value = serde_json::to_value(&computed)?;
                metrics::counter!("redis_memo_total", "space" => segment, "result" => "miss").increment(1);
                self.store(&key, &value, ttl).await;
                Ok(value)
            })
            .await
            .cloned();
        if !ran && outcome.is_ok() {
            metrics::counter!("redis_memo_total", "space" => segment, "result" => "shared").increment(1);
        }
        {
            // The last of this flight removes it; a later caller starts from Redis again.
            let mut flights = self.lock_flights();
            if flights.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) && Arc::strong_count(&cell) <= 2 {
                flights.remove(&key);
            }
        }
        Ok(serde_json::from_value(outcome?)?)
    }

    fn lock_flights(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OnceCell<Value>>>> {
        // The map holds no invariant a panic could break half-way.
        self.flights.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stored value, when Redis answers with one that parses.
    async fn stored(&self, key: &str) -> Option<Value> {
        let raw: Option<Vec<u8>> = self.redis.query("memo_get", redis::cmd("GET").arg(key)).await.ok()?;
        serde_json::from_slice(&raw?)
            .inspect_err(|e| tracing::warn!(key, error = %e, "unreadable memo entry; computing again"))
            .ok()
    }

    /// Stores `value`; a failure only means computing again next time.
    async fn store(&self, key: &str, value: &Value, ttl: Duration) {
        let Ok(bytes) = serde_json::to_vec(value) else { return };
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set = redis::cmd("SET").arg(key).arg(bytes).arg("PX").arg(ms).clone();
        if let Err(e) = self.redis.query::<()>("memo_set", &set).await {
            tracing::debug!(key, error = %e, "memo entry not stored");
        }
    }
}

/// Why a lock operation did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another holder has it, for about `expires_in` more unless it is extended or released.
    #[error("the lock {name:?} is held by another owner for {expires_in:?} more")]
    Held { name: String, expires_in: Duration },
    /// This holder's lock expired (and may be someone else's now).
    #[error("the lock {0:?} is no longer held by this owner (it expired)")]
    Lost(String),
    /// Redis did not answer: whether the lock is free is unknown.
    #[error("the lock {name:?} could not be checked: {source}")]
    Redis {
        name: String,
        #[source]
        source: ps_redis::Error,
    },
}

/// A held distributed lock. Dropping it does not release it (that would need Redis in `drop`):
/// call [`Lock::release`], or it expires by its TTL.
#[derive(Debug)]
pub struct Lock {
    redis: Redis,
    name: String,
    key: String,
    token: String,
}

impl Lock {
    /// Takes the lock `name` for `ttl`, or says who has it for how long.
    pub async fn acquire(redis: &Redis, name: &str, ttl: Duration) -> Result<Lock, LockError> {
        let key = redis.keys().key(KeySpace::Lock, &[name]);
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut invocation = acquire_script().prepare_invoke();
        invocation.key(&key).arg(&token).arg(millis(ttl));
        let answer: i64 = redis
            .script("lock_acquire", invocation)
            .await
            .map_err(|source| LockError::Redis {
                name: name.to_owned(),
                source,
            })?;
        if answer == -1 {
            return Ok(Lock {
                redis: redis.clone(),
                name: name.to_owned(),
                key,
                token,
            });
        }
        Err(LockError::Held {
            name: name.to_owned(),
            expires_in: Duration::from_millis(u64::try_from(answer).unwrap_or(0)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the remaining time to `ttl`, if this owner still holds the lock.
    pub async fn extend(&self, ttl: Duration) -> Result<(), LockError> {
        let mut invocation = extend_script().prepare_invoke();
        invocation.key(&self.key).arg(&self.token).arg(millis(ttl));
        match self.run("lock_extend", invocation).await? {
            1 => Ok(()),
            _ => Err(LockError::Lost(self.name.clone())),
        }
    }

    /// Releases the lock if this owner still holds it; `Err(Lost)` when it had expired (then
    /// nothing is deleted: it may be another owner's now).
    pub async fn release(self) -> Result<(), LockError> {
        let mut invocation = release_script().prepare_invoke();
        invocation.key(&self.key).arg(&self.token);
        match self.run("lock_release", invocation).await? {
            1 => Ok(()),
            _ => Err(LockError::Lost(self.name.clone())),
        }
    }

    async fn run(&self, command: &'static str, invocation: redis::ScriptInvocation<'_>) -> Result<i64, LockError> {
        self.redis
            .script(command, invocation)
            .await
            .map_err(|source| LockError::Redis {
                name: self.name.clone(),
                source,
            })
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// KEYS[1] lock, ARGV token, ttl ms: -1 when taken, else the holder's remaining ms.
fn acquire_script() -> &'static redis::Script {
    static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        redis::Script::new(
            r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return -1
end
return math.max(redis.call('PTTL', KEYS[1]), 0)
",
        )
    })
}

/// KEYS[1] lock, ARGV token, ttl ms: 1 when this token held it and it was extended.
fn extend_script() -> &'static redis::Script {
    static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        redis::Script::new(
            r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
        )
    })
}

/// KEYS[1] lock, ARGV token: 1 when this token held it and it was deleted.
fn release_script() -> &'static redis::Script {
    static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        redis::Script::new(
            r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_hash_inputs_alike_whatever_their_key_order() {
        let a = input_hash(&serde_json::json!({ "b": 1, "a": { "y": [1, 2], "x": "t" } })).expect("hash");
        let b = input_hash(&serde_json::json!({ "a": { "x": "t", "y": [1, 2] }, "b": 1 })).expect("hash");
        let c = input_hash(&serde_json::json!({ "a": { "x": "t", "y": [2, 1] }, "b": 1 })).expect("hash");
        assert_eq!(a, b);
        assert_ne!(a, c, "array order is meaningful");
        assert_eq!(a.len(), 64);
    }
}
