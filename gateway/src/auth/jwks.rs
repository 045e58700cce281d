//! One issuer's signing keys: fetched from its JWKS endpoint, kept in memory for a while,
//! refetched on an unknown `kid` at most once per interval. Only public signature keys are kept
//! (no `oct` secrets, no encryption keys), each with the algorithm family it can verify.
//!
//! With a shared Redis ([`Jwks::share`]), the document last fetched is also kept at
//! `ps:jwks:v1:{issuer}` for the cache time and read from there before the endpoint is asked:
//! a fleet of gateways asks the identity provider about once per cache time instead of once per
//! process, and a gateway that starts while the identity provider is down still validates tokens
//! whose keys another gateway fetched. The memory copy stays first; Redis being down only means
//! the endpoint is asked, as without it.
//!
//! Redis is a cache here, never a source of trust: whoever can write to it must not be able to
//! install a signing key. The shared copy carries when it was fetched and an HMAC-SHA256 over the
//! Redis key, that time and the document, with a key only the gateways hold (derived from the
//! claims key, [`promptsales_platform::claims::ClaimsKey::derive`]). A copy whose MAC does not
//! verify, or older than the cache time (a replayed document with a retired key), is ignored and
//! the identity provider is asked, as without Redis.

use std::{
    collections::HashMap,
    sync::RwLock,
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey,
    jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse},
};
use promptsales_platform::redis::{KeySpace, Redis};
use serde::Deserialize;
use serde_json::Value;

/// The largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// One verification key of a JWKS.
#[derive(Clone)]
pub struct Key {
    pub family: AlgorithmFamily,
    /// The JWK's `alg`, when it names one.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Key>,
    /// When the keys were last fetched successfully.
    fetched: Option<Instant>,
    /// When a fetch was last tried.
    attempted: Option<Instant>,
}

/// One issuer's keys, cached.
pub struct Jwks {
    url: String,
    client: reqwest::Client,
    ttl: Duration,
    min_refresh: Duration,
    state: RwLock<KeySet>,
    /// One fetch at a time; requests that need the keys meanwhile wait for its result.
    refresh: tokio::sync::Mutex<()>,
    /// Redis, this issuer's key there and the MAC key of the shared copies, when the document is
    /// shared between gateways.
    shared: Option<Shared>,
}

struct Shared {
    redis: Redis,
    key: String,
    mac_key: [u8; 32],
}

/// The shared copy's layout: fetch time (ms since the epoch, 8 bytes big-endian), the MAC (32
/// bytes), then the document.
const HEADER_BYTES: usize = 8 + 32;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("fetching the JWKS: {0}")]
    Fetch(#[from] reqwest::Error),
    #[error("the JWKS endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the JWKS is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("the JWKS is not a key set")]
    Malformed,
}

impl Jwks {
    pub fn new(url: &str, client: reqwest::Client, ttl: Duration, min_refresh: Duration) -> Jwks {
        Jwks {
            url: url.to_owned(),
            client,
            ttl,
            min_refresh,
            state: RwLock::new(KeySet::default()),
            refresh: tokio::sync::Mutex::new(()),
            shared: None,
        }
    }

    /// Shares the fetched document with other gateways through `redis`, under `issuer`, each copy
    /// authenticated with `mac_key` (which every gateway of the fleet must hold).
    pub fn share(&mut self, redis: Redis, issuer: &str, mac_key: [u8; 32]) {
        let key = redis.keys().key(KeySpace::Jwks, &[issuer]);
        self.shared = Some(Shared { redis, key, mac_key });
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, KeySet> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The key `kid`: from the cache while it is fresh, else after a refetch (rate-limited;
    /// when the endpoint fails, the keys last fetched stay in use).
    pub async fn key(&self, kid: &str) -> Option<Key> {
        let fresh = |s: &KeySet| s.fetched.is_some_and(|t| t.elapsed() < self.ttl);
        {
            let state = self.read();
            if fresh(&state)
                && let Some(key) = state.keys.get(kid)
            {
                return Some(key.clone());
            }
        }
        let _one_at_a_time = self.refresh.lock().await;
        {
            let state = self.read();
            let known = state.keys.get(kid).cloned();
            if known.is_some() && fresh(&state) {
                return known;
            }
            let may_fetch = state.attempted.is_none_or(|t| t.elapsed() >= self.min_refresh);
            if !may_fetch {
                return known;
            }
        }
        if let Err(e) = self.refresh_locked(Some(kid)).await {
            tracing::warn!(url = %self.url, error = %e, "JWKS refresh failed");
        }
        self.read().keys.get(kid).cloned()
    }

    /// Loads the keys: from the shared copy in Redis when it is there (and holds `kid`, when one
    /// is wanted), else from the endpoint, whose document is then shared. Holds the refresh lock,
    /// so a token that arrives during a refresh (the prefetch at start) waits for its keys instead
    /// of finding an attempt just made and no keys yet.
    pub async fn refresh(&self, kid: Option<&str>) -> Result<(), JwksError> {
        let _one_at_a_time = self.refresh.lock().await;
        self.refresh_locked(kid).await
    }

    /// [`Jwks::refresh`], for a caller that holds the refresh lock.
    async fn refresh_locked(&self, kid: Option<&str>) -> Result<(), JwksError> {
        if let Some((keys, age)) = self.read_shared().await
            && kid.is_none_or(|kid| keys.contains_key(kid))
        {
            tracing::debug!(url = %self.url, keys = keys.len(), "JWKS taken from Redis");
            // As old as the shared copy, so a fleet refetches about once per cache time.
            let fetched = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
            self.install(keys, fetched);
            return Ok(());
        }
        // Only asking the endpoint counts against `min_refresh`: a copy taken from Redis (at
        // start, say) that lacks a newly rotated key must not hold that key back for a while.
        self.state.write().unwrap_or_else(|p| p.into_inner()).attempted = Some(Instant::now());
        let body = self.fetch().await?;
        // Parsed before it is shared: a broken document never reaches Redis.
        let keys = parse(&body)?;
        tracing::info!(url = %self.url, keys = keys.len(), "JWKS fetched");
        self.install(keys, Instant::now());
        self.write_shared(&body).await;
        Ok(())
    }

    fn install(&self, keys: HashMap<String, Key>, fetched: Instant) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.keys = keys;
        state.fetched = Some(fetched);
    }

    /// The shared document's keys and how long ago it was fetched; `None` when there is no
    /// Redis, no copy, a copy that does not verify or is too old, or Redis does not answer (then
    /// the endpoint is asked, as without Redis).
    async fn read_shared(&self) -> Option<(HashMap<String, Key>, Duration)> {
        let shared = self.shared.as_ref()?;
        let raw: Option<Vec<u8>> = shared
            .redis
            .query("jwks_get", redis::cmd("GET").arg(&shared.key))
            .await
            .ok()?;
        let raw = raw?;
        let Some((fetched_ms, body)) = verify_copy(&shared.mac_key, &shared.key, &raw) else {
            metrics::counter!("gateway_jwks_shared_refused_total").increment(1);
            tracing::warn!(key = %shared.key, "the JWKS in Redis does not carry a valid MAC; ignored, asking the identity provider");
            return None;
        };
        let age = Duration::from_millis(now_ms().saturating_sub(fetched_ms));
        if age >= self.ttl || fetched_ms > now_ms() + 5_000 {
            tracing::debug!(key = %shared.key, "the JWKS in Redis is older than the cache time; ignored");
            return None;
        }
        let keys = parse(body)
            .inspect_err(
                |e| tracing::warn!(key = %shared.key, error = %e, "the JWKS in Redis is unusable; fetching it"),
            )
            .ok()?;
        Some((keys, age))
    }

    /// Shares a fetched document for the cache time; a failure only costs other gateways a fetch.
    async fn write_shared(&self, body: &[u8]) {
        let Some(shared) = &self.shared else { return };
        let ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let copy = seal_copy(&shared.mac_key, &shared.key, now_ms(), body);
        let set = redis::cmd("SET").arg(&shared.key).arg(copy).arg("PX").arg(ms).clone();
        if let Err(e) = shared.redis.query::<()>("jwks_set", &set).await {
            tracing::debug!(key = %shared.key, error = %e, "JWKS not shared through Redis");
        }
    }

    /// The endpoint's document, at most [`MAX_JWKS_BYTES`].
    async fn fetch(&self) -> Result<Vec<u8>, JwksError> {
        let mut response = self.client.get(&self.url).send().await?;
        if !response.status().is_success() {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_JWKS_BYTES {
                return Err(JwksError::TooLarge);
            }
        }
        Ok(body)
    }
}

fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

fn copy_mac(mac_key: &[u8; 32], redis_key: &str, fetched_ms: u64) -> HmacSha256 {
    use hmac::{Mac, digest::KeyInit};
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(mac_key).expect("HMAC takes keys of any length");
    // The Redis key binds the copy to its issuer: one issuer's keys cannot pass for another's.
    mac.update(b"ps:jwks:v1\0");
    mac.update(redis_key.as_bytes());
    mac.update(b"\0");
    mac.update(&fetched_ms.to_be_bytes());
    mac
}

/// The shared copy of `body`, fetched at `fetched_ms`.
fn seal_copy(mac_key: &[u8; 32], redis_key: &str, fetched_ms: u64, body: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut mac = copy_mac(mac_key, redis_key, fetched_ms);
    mac.update(body);
    let mut copy = Vec::with_capacity(HEADER_BYTES + body.len());
    copy.extend_from_slice(&fetched_ms.to_be_bytes());
    copy.extend_from_slice(&mac.finalize().into_bytes());
    copy.extend_from_slice(body);
    copy
}

/// The fetch time and document of a shared copy whose MAC verifies (in constant time).
fn verify_copy<'c>(mac_key: &[u8; 32], redis_key: &str, copy: &'c [u8]) -> Option<(u64, &'c [u8])> {
    use hmac::Mac;
    if copy.len() < HEADER_BYTES {
        return None;
    }
    let fetched_ms = u64::from_be_bytes(copy[..8].try_into().expect("8 bytes"));
    let (tag, body) = copy[8..].split_at(32);
    let mut mac = copy_mac(mac_key, redis_key, fetched_ms);
    mac.update(body);
    mac.verify_slice(tag).ok()?;
    Some((fetched_ms, body))
}

/// The usable keys of a JWKS document, by `kid`.
fn parse(body: &[u8]) -> Result<HashMap<String, Key>, JwksError> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<Value>,
    }
    let set: Set = serde_json::from_slice(body).map_err(|_| JwksError::Malformed)?;
    // Keys one by one: one key of a type we do not know does not cost the others.
    Ok(set
        .keys
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, usable_key(&jwk)?)))
        .collect())
}

/// A signature verification key, or `None` for symmetric keys, encryption keys and keys whose
/// `alg` we do not verify with.
fn usable_key(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
        AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
        AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
        // A shared secret has no place in a public key set.
        AlgorithmParameters::OctetKey(_) => return None,
    };
    let alg = match jwk.common.key_algorithm {
        None => None,
        Some(a) => {
            let alg: Algorithm = key_algorithm(a)?;
            (alg.family() == family).then_some(alg)?;
            Some(alg)
        }
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key { family, alg, key })
}

fn key_algorithm(a: KeyAlgorithm) -> Option<Algorithm> {
    Some(match a {
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}
