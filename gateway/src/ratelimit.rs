//! Per-client rate limits (`rate_limit:` in the gateway's YAML file), shared by every gateway
//! through Redis so a client cannot multiply its allowance by the number of replicas.
//!
//! A sliding window approximated by two fixed windows: the count of the current window plus the
//! count of the previous one weighted by how much of it the sliding window still covers
//! (`ps:rl:v1:{client}:{window}`, kept two windows). This bounds bursts at window edges, which a
//! fixed window alone lets through twice over, for two small counters per client instead of a
//! log of every request. The check and the increment are one Lua script, so concurrent
//! gateways never both admit the last request; refused requests are not counted, so a client
//! that backs off for `Retry-After` gets through.
//!
//! The client is the token's subject, else the peer's IP address. Redis being down or slow
//! admits every request (fail open, `gateway_rate_limit_unavailable_total`): a cache outage must
//! not become an API outage.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::OnceLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use promptsales_platform::redis::{KeySpace, Redis};
use serde::Deserialize;

/// The `rate_limit:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitOptions {
    /// Requests one client may make per window.
    pub requests: u64,
    /// The window, in seconds.
    pub window_secs: u64,
    /// Limits for named clients (a token subject, or an IP address for callers without a
    /// token), replacing `requests` for them: a batch client may need more, a public page less.
    pub clients: HashMap<String, u64>,
}

impl Default for RateLimitOptions {
    fn default() -> RateLimitOptions {
        RateLimitOptions {
            requests: 600,
            window_secs: 60,
            clients: HashMap::new(),
        }
    }
}

/// A `rate_limit` section that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InvalidRateLimit {
    #[error("rate_limit.window_secs must be above 0")]
    Window,
    #[error("rate_limit.requests must be above 0 (leave the section out to turn rate limiting off)")]
    Requests,
}

impl RateLimitOptions {
    pub fn validate(&self) -> Result<(), InvalidRateLimit> {
        if self.window_secs == 0 {
            return Err(InvalidRateLimit::Window);
        }
        if self.requests == 0 {
            return Err(InvalidRateLimit::Requests);
        }
        Ok(())
    }
}

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Client {
    /// A token's subject.
    Subject(String),
    /// The peer of a request without a token.
    Ip(IpAddr),
    /// A request without a token whose peer is unknown (no connect info): one shared bucket.
    Unknown,
}

impl Client {
    /// The name in keys and in `clients`.
    fn name(&self) -> String {
        match self {
            Client::Subject(s) => s.clone(),
            Client::Ip(ip) => ip.to_string(),
            Client::Unknown => "unknown-peer".to_owned(),
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Over the limit; may retry after this long.
    Limited {
        retry_after: Duration,
        limit: u64,
    },
}

/// The limiter; cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Redis,
    options: std::sync::Arc<RateLimitOptions>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("options", &self.options).finish()
    }
}

impl RateLimiter {
    pub fn new(options: RateLimitOptions, redis: Redis) -> Result<RateLimiter, InvalidRateLimit> {
        options.validate()?;
        Ok(RateLimiter {
            redis,
            options: std::sync::Arc::new(options),
        })
    }

    /// Counts one request of `client` unless that would take it over its limit.
    pub async fn check(&self, client: &Client) -> Decision {
        let name = client.name();
        let limit = self
            .options
            .clients
            .get(&name)
            .copied()
            .unwrap_or(self.options.requests);
        let window_ms = self.options.window_secs.saturating_mul(1000);
        let now_ms = u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(u64::MAX);
        let window = now_ms / window_ms;
        // How much of the previous window the sliding window still covers.
        let left_ms = window_ms - now_ms % window_ms;
        let keys = self.redis.keys();
        let current = keys.key(KeySpace::Rl, &[&name, &window.to_string()]);
        let previous = keys.key(KeySpace::Rl, &[&name, &window.saturating_sub(1).to_string()]);
        let mut invocation = script().prepare_invoke();
        invocation
            .key(&current)
            .key(&previous)
            .arg(limit)
            .arg(left_ms)
            .arg(window_ms)
            .arg(window_ms.saturating_mul(2));
        let (admitted, current_count, previous_count): (u8, u64, u64) =
            match self.redis.script("rate_limit", invocation).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::debug!(error = %e, "rate limit not checked: Redis unavailable, request admitted");
                    metrics::counter!("gateway_rate_limit_unavailable_total").increment(1);
                    return Decision::Allowed;
                }
            };
        if admitted == 1 {
            return Decision::Allowed;
        }
        metrics::counter!("gateway_rate_limited_total").increment(1);
        let retry_after = retry_after(limit, current_count, previous_count, left_ms, window_ms);
        Decision::Limited { retry_after, limit }
    }
}

/// How long until one more request fits under `limit`, by the same weighting as the script:
/// within this window as the previous window's weight fades, else in the next window as this
/// one's does. At least one second (the `Retry-After` unit).
fn retry_after(limit: u64, current: u64, previous: u64, left_ms: u64, window_ms: u64) -> Duration {
    let (limit, current, previous) = (limit as f64, current as f64, previous as f64);
    let (left, window) = (left_ms as f64, window_ms as f64);
    let wait_ms = if current + 1.0 <= limit && previous > 0.0 {
        // previous * (left - t) / window + current + 1 <= limit
        (left - (limit - 1.0 - current) * window / previous).max(0.0)
    } else {
        // In the next window: current * (window - t) / window + 1 <= limit
        let into_next = if current > 0.0 {
            (window - (limit - 1.0) * window / current).max(0.0)
        } else {
            0.0
        };
        left + into_next
    };
    Duration::from_secs((wait_ms / 1000.0).ceil().max(1.0) as u64)
}

/// KEYS: this window's counter, the previous one's. ARGV: limit, ms left in this window, window
/// ms, counter TTL ms. Returns {admitted (0|1), this window's count, the previous one's}.
fn script() -> &'static redis::Script {
    static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        redis::Script::new(
            r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local estimate = previous * tonumber(ARGV[2]) / tonumber(ARGV[3]) + current
if estimate + 1 > tonumber(ARGV[1]) then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, current, previous}
",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_wait_for_the_previous_window_to_fade_or_for_the_next_window() {
        // 10 per 60 s; 4 now, 12 in the previous window, 30 s left: the estimate is 10.
        // 12 * (30 - t) / 60 + 5 <= 10  =>  t >= 5 s.
        assert_eq!(retry_after(10, 4, 12, 30_000, 60_000), Duration::from_secs(5));
        // The current window is full: the rest of it, then until its weight is low enough.
        // 10 * (60 - t) / 60 + 1 <= 10  =>  t >= 6 s; plus the 20 s left.
        assert_eq!(retry_after(10, 10, 0, 20_000, 60_000), Duration::from_secs(26));
        assert_eq!(retry_after(10, 9, 50, 1, 60_000), Duration::from_secs(1), "never 0");
    }

    #[test]
    fn should_refuse_unusable_options() {
        let options: RateLimitOptions =
            serde_yaml_ng::from_str("requests: 5\nwindow_secs: 1\nclients: {svc-etl: 100}").expect("yaml");
        assert!(options.validate().is_ok());
        assert_eq!(options.clients["svc-etl"], 100);
        let zero: RateLimitOptions = serde_yaml_ng::from_str("window_secs: 0").expect("yaml");
        assert!(matches!(zero.validate(), Err(InvalidRateLimit::Window)));
        assert!(serde_yaml_ng::from_str::<RateLimitOptions>("limit: 5").is_err());
    }
}
