//! The one Redis client of every PromptSales process (gateway response cache, APQ, JWKS, rate
//! limits, MCP and AI caches, locks): where Redis is, how keys are named, and a guard that keeps a
//! down or slow Redis from costing a request more than one short timeout.
//!
//! Redis is only ever a cache or a coordination aid here, so every command runs under
//! [`RedisOptions::timeout_ms`] behind a circuit breaker: after `breaker_failures` consecutive
//! failures or timeouts no command is even tried for `breaker_cooldown_ms`, then one probe is let
//! through; its success closes the breaker again. Callers treat every [`Error`] as "no cache".
//!
//! The connection is a redis-rs `ConnectionManager` (one multiplexed connection that reconnects by
//! itself), made lazily so a process starts while Redis is down. `rediss://` URLs use rustls and
//! verify the server's certificate, against the web roots or, when `ca_file` /
//! `PROMPTSALES_REDIS_CA` names a CA bundle, against that alone; credentials come from the URL
//! (`redis://user:pass@host`).
//! With `sentinels` and `sentinel_master`, the master is asked of the Sentinels, and asked again
//! whenever the breaker opens (a failover moves the master).
//!
//! Keys are built by [`Keys`]: `{prefix}{space}:v{version}:{parts…}` with the prefix `ps:` in
//! deployments and a per-test prefix in tests, so parallel tests on one Redis never collide.
//! docs/redis.md lists the keyspace.

use std::{
    fmt,
    future::Future,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use redis::{FromRedisValue, IntoConnectionInfo, aio::ConnectionManager};
use serde::Deserialize;

/// The variable that names Redis in every process.
pub const URL_ENV: &str = "PROMPTSALES_REDIS_URL";
/// The variable that names the CA bundle (PEM) `rediss://` connections trust instead of the
/// web roots, when [`RedisOptions::ca_file`] is not set.
pub const CA_ENV: &str = "PROMPTSALES_REDIS_CA";
/// The variable that lists the Sentinels (comma separated URLs) when the options name none: the
/// way processes configured by environment alone (the MCP servers) follow the master.
pub const SENTINELS_ENV: &str = "PROMPTSALES_REDIS_SENTINELS";
/// The master name the Sentinels of [`SENTINELS_ENV`] know.
pub const SENTINEL_MASTER_ENV: &str = "PROMPTSALES_REDIS_SENTINEL_MASTER";
/// Redis when [`URL_ENV`] is not set: the local server.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";
/// The prefix of every key in deployments.
pub const DEFAULT_PREFIX: &str = "ps:";

/// Why a Redis command gave no answer. Every one of them means "carry on without Redis".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the Redis circuit breaker is open after repeated failures")]
    Open,
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the Redis master is not known yet (asking the Sentinels)")]
    NotConnected,
    #[error("Redis refused the command or could not be reached: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("invalid Redis configuration: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a process reaches Redis (the `redis:` section of a service's YAML file).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisOptions {
    /// `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS, certificate verified).
    /// Absent: `PROMPTSALES_REDIS_URL`, else `redis://127.0.0.1:6379`. With Sentinels, only its
    /// credentials, database and scheme (TLS or not) are used, for the master.
    pub url: Option<String>,
    /// Put before every key: `ps:` in deployments, a unique one per test. Must end with `:`.
    pub prefix: String,
    /// How long one command may take before it is abandoned, in milliseconds. This is all a slow
    /// Redis can add to a request.
    pub timeout_ms: u64,
    /// How long connecting (TCP, TLS, AUTH) may take, in milliseconds; connecting happens in the
    /// background, never in a request.
    pub connect_timeout_ms: u64,
    /// Consecutive failures or timeouts that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open before one probe command is let through, in milliseconds.
    pub breaker_cooldown_ms: u64,
    /// Sentinel addresses (`redis://host:26379`, `rediss://…`). Empty: those of
    /// `PROMPTSALES_REDIS_SENTINELS` (with `PROMPTSALES_REDIS_SENTINEL_MASTER`), else none, and
    /// `url` is used directly.
    pub sentinels: Vec<String>,
    /// The master name the Sentinels know (needed with `sentinels`).
    pub sentinel_master: Option<String>,
    /// A PEM file of the CA certificates that sign the certificates of Redis and its Sentinels
    /// (a cluster's own CA): `rediss://` connections then trust these alone, not the web roots.
    /// Absent: `PROMPTSALES_REDIS_CA`, else the web roots.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for RedisOptions {
    fn default() -> RedisOptions {
        RedisOptions {
            url: None,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout_ms: 50,
            connect_timeout_ms: 1000,
            breaker_failures: 5,
            breaker_cooldown_ms: 2000,
            sentinels: Vec::new(),
            sentinel_master: None,
            ca_file: None,
        }
    }
}

impl fmt::Debug for RedisOptions {
    /// The URL may carry a password: shown masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOptions")
            .field("url", &self.url.as_deref().map(masked))
            .field("prefix", &self.prefix)
            .field("timeout_ms", &self.timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_cooldown_ms", &self.breaker_cooldown_ms)
            .field(
                "sentinels",
                &self.sentinels.iter().map(|s| masked(s)).collect::<Vec<_>>(),
            )
            .field("sentinel_master", &self.sentinel_master)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// `sentinel` with the credentials of the master's `url` when it names none of its own: a
/// deployment that gives its Sentinels the servers' password (ours does) names it once.
fn with_master_credentials(sentinel: &str, url: &str) -> String {
    let (Ok(mut with), Ok(master)) = (url::Url::parse(sentinel), url::Url::parse(url)) else {
        return sentinel.to_owned();
    };
    if with.password().is_some() || master.password().is_none() {
        return sentinel.to_owned();
    }
    if with.set_username(master.username()).is_err() || with.set_password(master.password()).is_err() {
        return sentinel.to_owned();
    }
    with.to_string()
}

/// The non-empty, trimmed items of a comma-separated list.
fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A URL with its password replaced, for logs.
pub fn masked(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "<not a URL>".to_owned(),
    }
}

impl RedisOptions {
    /// The URL in force: the configured one, else `PROMPTSALES_REDIS_URL`, else the local server.
    pub fn effective_url(&self) -> String {
        self.url
            .clone()
            .or_else(|| std::env::var(URL_ENV).ok().filter(|u| !u.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_URL.to_owned())
    }

    /// The Sentinels in force and their master name: the configured ones, else those of
    /// `PROMPTSALES_REDIS_SENTINELS` / `PROMPTSALES_REDIS_SENTINEL_MASTER`, else none.
    pub fn effective_sentinels(&self) -> (Vec<String>, Option<String>) {
        self.sentinels_with(|name| std::env::var(name).ok())
    }

    /// [`RedisOptions::effective_sentinels`] with the environment read through `env`.
    fn sentinels_with(&self, env: impl Fn(&str) -> Option<String>) -> (Vec<String>, Option<String>) {
        if !self.sentinels.is_empty() {
            return (self.sentinels.clone(), self.sentinel_master.clone());
        }
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        match var(SENTINELS_ENV) {
            Some(list) => (
                split_list(&list),
                self.sentinel_master.clone().or_else(|| var(SENTINEL_MASTER_ENV)),
            ),
            None => (Vec::new(), self.sentinel_master.clone()),
        }
    }

    /// The CA file in force: the configured one, else `PROMPTSALES_REDIS_CA`, else none.
    pub fn effective_ca_file(&self) -> Option<std::path::PathBuf> {
        self.ca_file.clone().or_else(|| {
            std::env::var_os(CA_ENV)
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)
        })
    }

    /// The PEM text of [`RedisOptions::effective_ca_file`], checked to hold certificates.
    fn ca_pem(&self) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.effective_ca_file() else {
            return Ok(None);
        };
        // Parsed here so that a wrong file stops the start with its name, not every connection.
        crate::tls::read_certificates(&path).map_err(|e| Error::Config(format!("the Redis CA: {e}")))?;
        std::fs::read(&path)
            .map(Some)
            .map_err(|e| Error::Config(format!("the Redis CA {}: {e}", path.display())))
    }

    /// Checks what serde cannot, so a typo stops the process at startup.
    pub fn validate(&self) -> Result<()> {
        Keys::new(&self.prefix)?;
        if self.timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return Err(Error::Config(
                "timeout_ms and connect_timeout_ms must be above 0".into(),
            ));
        }
        if self.breaker_failures == 0 {
            return Err(Error::Config("breaker_failures must be at least 1".into()));
        }
        let url = self.effective_url();
        url.as_str()
            .into_connection_info()
            .map_err(|e| Error::Config(format!("url {}: {e}", masked(&url))))?;
        let (sentinels, master) = self.effective_sentinels();
        if !sentinels.is_empty() && master.is_none() {
            return Err(Error::Config(format!(
                "sentinels are set but sentinel_master is not (with {SENTINELS_ENV}, set {SENTINEL_MASTER_ENV})"
            )));
        }
        for s in &sentinels {
            s.as_str()
                .into_connection_info()
                .map_err(|e| Error::Config(format!("sentinel {}: {e}", masked(s))))?;
        }
        self.ca_pem()?;
        Ok(())
    }
}

/// The families of keys, each with its own version segment: bumping a version orphans the old
/// keys (they expire by their TTL) instead of reading them in an old format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpace {
    /// Gateway response bodies.
    Resp,
    /// Sets of response keys to drop when a type or an entity changes.
    Tag,
    /// Automatic persisted queries.
    Apq,
    /// Issuers' signing keys.
    Jwks,
    /// Rate-limit counters.
    Rl,
    /// MCP tool results.
    Mcp,
    /// Text embeddings.
    Emb,
    /// Generated text.
    Llm,
    /// Distributed locks.
    Lock,
}

impl KeySpace {
    pub fn segment(self) -> &'static str {
        match self {
            KeySpace::Resp => "resp",
            KeySpace::Tag => "tag",
            KeySpace::Apq => "apq",
            KeySpace::Jwks => "jwks",
            KeySpace::Rl => "rl",
            KeySpace::Mcp => "mcp",
            KeySpace::Emb => "emb",
            KeySpace::Llm => "llm",
            KeySpace::Lock => "lock",
        }
    }

    pub fn version(self) -> u32 {
        1
    }
}

/// Builds keys: `{prefix}{space}:v{version}:{part}:{part}…`.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: Arc<str>,
}

impl Keys {
    /// `prefix` is non-empty, ends with `:` and holds no whitespace (keys are typed into
    /// redis-cli during incidents).
    pub fn new(prefix: &str) -> Result<Keys> {
        if prefix.is_empty() || !prefix.ends_with(':') || prefix.chars().any(char::is_whitespace) {
            return Err(Error::Config(format!(
                "prefix {prefix:?} must be non-empty, end with ':' and hold no whitespace (e.g. \"ps:\")"
            )));
        }
        Ok(Keys { prefix: prefix.into() })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The tag sets to drop when objects of `type_name` change: its type set when `ids` is
    /// empty, otherwise the sets of those entities and the set of entries that hold an object of
    /// the type without its id (`{Type}:*`), which could be any of them.
    pub fn invalidation_tags(&self, type_name: &str, ids: &[String]) -> Vec<String> {
        if ids.is_empty() {
            return vec![self.key(KeySpace::Tag, &[type_name])];
        }
        let mut out: Vec<String> = ids.iter().map(|id| self.key(KeySpace::Tag, &[type_name, id])).collect();
        out.push(self.key(KeySpace::Tag, &[type_name, "*"]));
        out
    }

    pub fn key(&self, space: KeySpace, parts: &[&str]) -> String {
        let mut key = format!("{}{}:v{}", self.prefix, space.segment(), space.version());
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }
}

/// Where the connection goes.
// One per client, inside its `Arc`: the size of the Sentinel variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Target {
    Direct,
    Sentinel {
        sentinels: Vec<String>,
        master: String,
        node: redis::sentinel::SentinelNodeConnectionInfo,
        /// The URL the master's credentials, database and scheme come from.
        url: String,
        /// The CA bundle of `PROMPTSALES_REDIS_CA`, for `rediss://` Sentinels and master.
        ca: Option<Vec<u8>>,
    },
}

/// TLS settings that trust the PEM CA bundle `ca` (and nothing else).
fn trusting(ca: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca.to_vec()),
    }
}

/// A Sentinel client whose `rediss://` connections, to the Sentinels and to the master they
/// name, trust `ca`: redis-rs takes certificates only through its builder, which wants the
/// Sentinels' credentials once (those of the first Sentinel URL) and the master's apart (`url`'s).
fn sentinel_client_trusting(
    sentinels: &[String],
    master: &str,
    url: &str,
    ca: &[u8],
) -> redis::RedisResult<redis::sentinel::SentinelClient> {
    use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
    let infos = sentinels
        .iter()
        .map(|s| s.as_str().into_connection_info())
        .collect::<redis::RedisResult<Vec<_>>>()?;
    let mut builder = SentinelClientBuilder::new(
        infos.iter().map(|i| i.addr().clone()),
        master,
        SentinelServerType::Master,
    )?;
    if let Some(first) = infos.first() {
        let settings = first.redis_settings();
        if let Some(user) = settings.username() {
            builder = builder.set_client_to_sentinel_username(user);
        }
        if let Some(password) = settings.password() {
            builder = builder.set_client_to_sentinel_password(password);
        }
    }
    if sentinels.iter().any(|s| s.starts_with("rediss://")) {
        builder = builder
            .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure)
            .set_client_to_sentinel_certificates(trusting(ca));
    }
    let info = url.into_connection_info()?;
    let settings = info.redis_settings();
    builder = builder.set_client_to_redis_db(settings.db());
    if let Some(user) = settings.username() {
        builder = builder.set_client_to_redis_username(user);
    }
    if let Some(password) = settings.password() {
        builder = builder.set_client_to_redis_password(password);
    }
    if url.starts_with("rediss://") {
        builder = builder
            .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
            .set_client_to_redis_certificates(trusting(ca));
    }
    builder.build()
}

/// A guarded Redis client; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    target: Target,
    /// `None` while the Sentinels have not named a master yet.
    connection: RwLock<Option<ConnectionManager>>,
    /// Set while a Sentinel lookup runs, so only one does.
    resolving: Mutex<bool>,
    config: redis::aio::ConnectionManagerConfig,
    breaker: Breaker,
    timeout: Duration,
    connect_timeout: Duration,
    keys: Keys,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.inner.keys.prefix())
            .finish()
    }
}

impl Redis {
    /// A client for `options`; nothing is connected yet (a first connection is started in the
    /// background). Must be called inside a Tokio runtime.
    pub fn new(options: &RedisOptions) -> Result<Redis> {
        options.validate()?;
        let url = options.effective_url();
        let ca = options.ca_pem()?;
        // redis-rs builds its rustls configuration from the process-wide provider, and more than
        // one provider is compiled into this workspace: name one (an error means one is set).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_millis(options.timeout_ms);
        let connect_timeout = Duration::from_millis(options.connect_timeout_ms);
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(timeout))
            // Few, quick reconnection attempts: while they fail, the breaker keeps requests away.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(200));
        let (sentinels, master) = options.effective_sentinels();
        let (target, connection) = match master {
            Some(master) if !sentinels.is_empty() => {
                let info = url
                    .as_str()
                    .into_connection_info()
                    .map_err(|e| Error::Config(format!("url {}: {e}", masked(&url))))?;
                let mut node = redis::sentinel::SentinelNodeConnectionInfo::default()
                    .set_redis_connection_info(info.redis_settings().clone());
                if url.starts_with("rediss://") {
                    node = node.set_tls_mode(redis::TlsMode::Secure);
                }
                let target = Target::Sentinel {
                    sentinels: sentinels.iter().map(|s| with_master_credentials(s, &url)).collect(),
                    master,
                    node,
                    url: url.clone(),
                    ca,
                };
                (target, None)
            }
            _ => {
                let client = match &ca {
                    Some(ca) if url.starts_with("rediss://") => {
                        redis::Client::build_with_tls(url.as_str(), trusting(ca))
                    }
                    _ => redis::Client::open(url.as_str()),
                }
                .map_err(|e| Error::Config(format!("url {}: {e}", masked(&url))))?;
                let manager = ConnectionManager::new_lazy_with_config(client, config.clone())?;
                (Target::Direct, Some(manager))
            }
        };
        let redis = Redis {
            inner: Arc::new(Inner {
                target,
                connection: RwLock::new(connection),
                resolving: Mutex::new(false),
                config,
                breaker: Breaker::new(
                    options.breaker_failures,
                    Duration::from_millis(options.breaker_cooldown_ms),
                ),
                timeout,
                connect_timeout,
                keys: Keys::new(&options.prefix)?,
            }),
        };
        redis.warm_up();
        Ok(redis)
    }

    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Connects in the background with the connect timeout, so the first requests do not pay for
    /// the TCP and TLS handshakes under the short command timeout.
    fn warm_up(&self) {
        match self.inner.target {
            Target::Direct => {
                let Some(mut manager) = self.manager() else { return };
                let connect_timeout = self.inner.connect_timeout;
                tokio::spawn(async move {
                    let ping = redis::cmd("PING");
                    match tokio::time::timeout(connect_timeout, ping.query_async::<String>(&mut manager)).await {
                        Ok(Ok(_)) => tracing::debug!("connected to Redis"),
                        Ok(Err(e)) => tracing::warn!(error = %e, "Redis is not reachable yet; running without it"),
                        Err(_) => tracing::warn!(?connect_timeout, "Redis did not answer in time; running without it"),
                    }
                });
            }
            Target::Sentinel { .. } => self.resolve_master(),
        }
    }

    fn manager(&self) -> Option<ConnectionManager> {
        self.inner.connection.read().ok().and_then(|slot| slot.clone())
    }

    /// Asks the Sentinels for the master in the background (one lookup at a time).
    fn resolve_master(&self) {
        let Target::Sentinel {
            sentinels,
            master,
            node,
            url,
            ca,
        } = &self.inner.target
        else {
            return;
        };
        {
            let Ok(mut resolving) = self.inner.resolving.lock() else {
                return;
            };
            if *resolving {
                return;
            }
            *resolving = true;
        }
        let (sentinels, master, node) = (sentinels.clone(), master.clone(), node.clone());
        let (url, ca) = (url.clone(), ca.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let lookup = async {
                let client = match &ca {
                    None => {
                        let mut sentinel = redis::sentinel::Sentinel::build(sentinels)?;
                        sentinel.async_master_for(&master, Some(&node)).await?
                    }
                    Some(ca) => {
                        sentinel_client_trusting(&sentinels, &master, &url, ca)?
                            .async_get_client()
                            .await?
                    }
                };
                ConnectionManager::new_lazy_with_config(client, this.inner.config.clone())
            };
            match tokio::time::timeout(this.inner.connect_timeout, lookup).await {
                Ok(Ok(manager)) => {
                    if let Ok(mut slot) = this.inner.connection.write() {
                        *slot = Some(manager);
                    }
                    tracing::info!(master, "Redis master found through the Sentinels");
                }
                Ok(Err(e)) => tracing::warn!(master, error = %e, "the Sentinels did not name a master"),
                Err(_) => tracing::warn!(master, "the Sentinels did not answer in time"),
            }
            if let Ok(mut resolving) = this.inner.resolving.lock() {
                *resolving = false;
            }
        });
    }

    /// Runs one command (named `command` in metrics) under the timeout and the breaker.
    pub async fn query<T: FromRedisValue>(&self, command: &'static str, cmd: &redis::Cmd) -> Result<T> {
        self.guarded(command, |mut con| async move { cmd.query_async(&mut con).await })
            .await
    }

    /// Runs a pipeline (a transaction when built with `.atomic()`) under the timeout and the
    /// breaker.
    pub async fn pipeline<T: FromRedisValue>(&self, command: &'static str, pipe: &redis::Pipeline) -> Result<T> {
        self.guarded(command, |mut con| async move { pipe.query_async(&mut con).await })
            .await
    }

    /// Runs a Lua script under the timeout and the breaker.
    pub async fn script<T: FromRedisValue>(
        &self,
        command: &'static str,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Result<T> {
        self.guarded(
            command,
            |mut con| async move { invocation.invoke_async(&mut con).await },
        )
        .await
    }

    async fn guarded<T, F, Fut>(&self, command: &'static str, run: F) -> Result<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let breaker = &self.inner.breaker;
        if !breaker.admit() {
            metrics::counter!("redis_commands_total", "command" => command, "result" => "rejected").increment(1);
            return Err(Error::Open);
        }
        let Some(manager) = self.manager() else {
            breaker.release_probe();
            self.resolve_master();
            metrics::counter!("redis_commands_total", "command" => command, "result" => "not_connected").increment(1);
            return Err(Error::NotConnected);
        };
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.inner.timeout, run(manager)).await;
        metrics::histogram!("redis_command_duration_seconds", "command" => command)
            .record(started.elapsed().as_secs_f64());
        let (result, label) = match outcome {
            Ok(Ok(value)) => (Ok(value), "ok"),
            // An answer, even an error reply, shows Redis is up: only the command was wrong.
            Ok(Err(e)) if !is_unavailable(&e) => (Err(Error::Redis(e)), "error_reply"),
            Ok(Err(e)) => (Err(Error::Redis(e)), "unavailable"),
            Err(_) => (Err(Error::Timeout(self.inner.timeout)), "timeout"),
        };
        metrics::counter!("redis_commands_total", "command" => command, "result" => label).increment(1);
        if matches!(label, "ok" | "error_reply") {
            breaker.success();
        } else if breaker.failure() {
            // A failover moves the master: ask the Sentinels again before the next probe.
            if matches!(self.inner.target, Target::Sentinel { .. })
                && let Ok(mut slot) = self.inner.connection.write()
            {
                *slot = None;
            }
        }
        if let Err(e) = &result {
            tracing::debug!(command, error = %e, "Redis command failed");
        }
        result
    }

    /// Stores `value` at `key` for `ttl` and adds `key` to each of the `tags` sets (full keys),
    /// whose own TTL is raised to at least `ttl` so a set never expires before a member it must
    /// drop. One transaction: an entry is never stored untagged. Needs Redis 7 (`PEXPIRE … NX|GT`).
    pub async fn set_tagged(&self, key: &str, value: &[u8], ttl: Duration, tags: &[String]) -> Result<()> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("SET").arg(key).arg(value).arg("PX").arg(ms).ignore();
        for tag in tags {
            pipe.cmd("SADD").arg(tag).arg(key).ignore();
            // NX gives a new set its TTL, GT extends an existing one; neither ever shortens it.
            pipe.cmd("PEXPIRE").arg(tag).arg(ms).arg("NX").ignore();
            pipe.cmd("PEXPIRE").arg(tag).arg(ms).arg("GT").ignore();
        }
        self.pipeline::<()>("set_tagged", &pipe).await
    }

    /// Deletes every key listed in the `tags` sets (full keys), and the sets; returns how many
    /// keys were deleted. Atomic (a Lua script), so an entry is never dropped while its tag set
    /// survives. The members are not declared keys, so this is for a single Redis or a
    /// Sentinel-managed one, not Redis Cluster.
    pub async fn drop_tagged(&self, tags: &[String]) -> Result<u64> {
        if tags.is_empty() {
            return Ok(0);
        }
        let script = drop_tagged_script();
        let mut invocation = script.prepare_invoke();
        for tag in tags {
            invocation.key(tag);
        }
        self.script("drop_tagged", invocation).await
    }
}

/// Deletes the members of each set in KEYS, then the sets; in chunks because Lua's `unpack` has
/// a stack limit.
fn drop_tagged_script() -> &'static redis::Script {
    static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| {
        redis::Script::new(
            r"
local dropped = 0
for _, tag in ipairs(KEYS) do
  local members = redis.call('SMEMBERS', tag)
  for i = 1, #members, 500 do
    dropped = dropped + redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
  end
  redis.call('DEL', tag)
end
return dropped
",
        )
    })
}

/// Whether an error means Redis is down, slow or failing over (the breaker counts those), rather
/// than a refused command.
fn is_unavailable(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(e.code(), Some("LOADING" | "MASTERDOWN" | "READONLY" | "BUSY"))
}

/// Consecutive-failure circuit breaker with a half-open probe.
struct Breaker {
    state: Mutex<Phase>,
    threshold: u32,
    cooldown: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; if it never reports (its request was cancelled), another is allowed
    /// at `retry_at`.
    HalfOpen {
        retry_at: Instant,
    },
}

impl Breaker {
    fn new(threshold: u32, cooldown: Duration) -> Breaker {
        metrics::gauge!("redis_breaker_state").set(0.0);
        Breaker {
            state: Mutex::new(Phase::Closed { failures: 0 }),
            threshold,
            cooldown,
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        // A panic while holding this lock cannot leave the phase inconsistent: it is one value.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a command may be sent now.
    fn admit(&self) -> bool {
        let mut phase = self.phase();
        let now = Instant::now();
        match *phase {
            Phase::Closed { .. } => true,
            Phase::Open { until } | Phase::HalfOpen { retry_at: until } if now >= until => {
                *phase = Phase::HalfOpen {
                    retry_at: now + self.cooldown,
                };
                set_state_gauge(*phase);
                true
            }
            Phase::Open { .. } | Phase::HalfOpen { .. } => false,
        }
    }

    /// The admitted command did not reach Redis at all: let the next one probe.
    fn release_probe(&self) {
        let mut phase = self.phase();
        if let Phase::HalfOpen { .. } = *phase {
            *phase = Phase::Open { until: Instant::now() };
        }
    }

    fn success(&self) {
        let mut phase = self.phase();
        if !matches!(*phase, Phase::Closed { .. }) {
            tracing::info!("Redis answers again: circuit breaker closed");
        }
        *phase = Phase::Closed { failures: 0 };
        set_state_gauge(*phase);
    }

    /// Counts a failure; true when this one opened the breaker.
    fn failure(&self) -> bool {
        let mut phase = self.phase();
        let open = Phase::Open {
            until: Instant::now() + self.cooldown,
        };
        let opened = match *phase {
            Phase::Closed { failures } if failures + 1 >= self.threshold => {
                tracing::warn!(
                    failures = failures + 1,
                    cooldown = ?self.cooldown,
                    "Redis keeps failing: circuit breaker open, running without it"
                );
                *phase = open;
                true
            }
            Phase::Closed { failures } => {
                *phase = Phase::Closed { failures: failures + 1 };
                false
            }
            Phase::HalfOpen { .. } => {
                *phase = open;
                true
            }
            Phase::Open { .. } => false,
        };
        set_state_gauge(*phase);
        if opened {
            metrics::counter!("redis_breaker_opened_total").increment(1);
        }
        opened
    }
}

/// 0 closed, 1 half-open, 2 open.
fn set_state_gauge(phase: Phase) {
    let value = match phase {
        Phase::Closed { .. } => 0.0,
        Phase::HalfOpen { .. } => 1.0,
        Phase::Open { .. } => 2.0,
    };
    metrics::gauge!("redis_breaker_state").set(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_take_the_sentinels_from_the_environment_only_when_the_options_name_none() {
        let env = |name: &str| match name {
            SENTINELS_ENV => Some(" rediss://s-0:26379, rediss://s-1:26379 ,,".to_owned()),
            SENTINEL_MASTER_ENV => Some("promptsales".to_owned()),
            _ => None,
        };
        let (sentinels, master) = RedisOptions::default().sentinels_with(env);
        assert_eq!(sentinels, ["rediss://s-0:26379", "rediss://s-1:26379"]);
        assert_eq!(master.as_deref(), Some("promptsales"));

        let configured = RedisOptions {
            sentinels: vec!["redis://mine:26379".into()],
            sentinel_master: Some("mine".into()),
            ..RedisOptions::default()
        };
        assert_eq!(
            configured.sentinels_with(env),
            (vec!["redis://mine:26379".to_owned()], Some("mine".to_owned()))
        );
        assert_eq!(RedisOptions::default().sentinels_with(|_| None), (Vec::new(), None));
    }

    #[test]
    fn should_give_sentinels_without_credentials_those_of_the_master() {
        assert_eq!(
            with_master_credentials("rediss://s-0:26379", "rediss://:secret@redis:6379/0"),
            "rediss://:secret@s-0:26379"
        );
        assert_eq!(
            with_master_credentials("rediss://s-0:26379", "rediss://app:secret@redis:6379/0"),
            "rediss://app:secret@s-0:26379"
        );
        // Their own credentials, or none anywhere: unchanged.
        assert_eq!(
            with_master_credentials("redis://:own@s-0:26379", "redis://:secret@redis:6379"),
            "redis://:own@s-0:26379"
        );
        assert_eq!(
            with_master_credentials("redis://s-0:26379", "redis://redis:6379"),
            "redis://s-0:26379"
        );
    }

    #[test]
    fn should_build_keys_with_prefix_space_and_version() {
        let keys = Keys::new("ps:").expect("valid prefix");
        assert_eq!(keys.key(KeySpace::Resp, &["abc"]), "ps:resp:v1:abc");
        assert_eq!(keys.key(KeySpace::Tag, &["Campaign", "42"]), "ps:tag:v1:Campaign:42");
        assert_eq!(keys.key(KeySpace::Tag, &["Campaign"]), "ps:tag:v1:Campaign");
        let test = Keys::new("ps:t-1234:").expect("valid prefix");
        assert_eq!(test.key(KeySpace::Lock, &["etl"]), "ps:t-1234:lock:v1:etl");
    }

    #[test]
    fn should_drop_an_entity_with_the_entries_that_hold_its_type_unnamed() {
        let keys = Keys::new("ps:").expect("prefix");
        assert_eq!(keys.invalidation_tags("Campaign", &[]), ["ps:tag:v1:Campaign"]);
        assert_eq!(
            keys.invalidation_tags("Campaign", &["a".into(), "b".into()]),
            ["ps:tag:v1:Campaign:a", "ps:tag:v1:Campaign:b", "ps:tag:v1:Campaign:*"]
        );
    }

    #[test]
    fn should_refuse_prefixes_that_would_run_into_the_key() {
        for bad in ["", "ps", "p s:"] {
            assert!(Keys::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn should_open_after_consecutive_failures_and_close_after_a_good_probe() {
        let breaker = Breaker::new(3, Duration::from_millis(30));
        assert!(breaker.admit());
        assert!(!breaker.failure());
        breaker.success();
        // The count is of consecutive failures: a success in between starts it again.
        assert!(!breaker.failure());
        assert!(!breaker.failure());
        assert!(breaker.failure(), "the third consecutive failure opens it");
        assert!(!breaker.admit(), "open: nothing is sent");
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.admit(), "after the cool-down one probe goes");
        assert!(!breaker.admit(), "only one probe at a time");
        assert!(breaker.failure(), "a failed probe opens it again");
        assert!(!breaker.admit());
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.admit());
        breaker.success();
        assert!(breaker.admit() && breaker.admit(), "closed again");
    }

    #[test]
    fn should_mask_passwords_in_debug_output() {
        let options = RedisOptions {
            url: Some("rediss://app:s3cret@redis.example.com:6380/0".into()),
            ..RedisOptions::default()
        };
        let shown = format!("{options:?}");
        assert!(!shown.contains("s3cret") && shown.contains("***"), "{shown}");
    }

    #[test]
    fn should_refuse_unusable_options() {
        let bad_url = RedisOptions {
            url: Some("http://example.com".into()),
            ..RedisOptions::default()
        };
        assert!(bad_url.validate().is_err());
        let no_master = RedisOptions {
            sentinels: vec!["redis://127.0.0.1:26379".into()],
            ..RedisOptions::default()
        };
        assert!(no_master.validate().is_err());
        let yaml: RedisOptions = serde_yaml_ng::from_str("timeout_ms: 20\nprefix: 'ps:test:'").expect("yaml");
        assert!(yaml.validate().is_ok());
        assert!(
            serde_yaml_ng::from_str::<RedisOptions>("timeout: 20").is_err(),
            "unknown fields are refused"
        );
    }

    /// Nothing listens on the port: each command fails at once, and after `breaker_failures` of
    /// them none is even sent until the cool-down has passed.
    #[tokio::test]
    async fn should_stop_trying_a_redis_that_is_down_until_the_cool_down_passes() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let redis = Redis::new(&RedisOptions {
            url: Some(format!("redis://127.0.0.1:{port}")),
            timeout_ms: 200,
            breaker_failures: 3,
            breaker_cooldown_ms: 60_000,
            ..RedisOptions::default()
        })
        .expect("client");
        for _ in 0..3 {
            let result: Result<Option<String>> = redis.query("get", redis::cmd("GET").arg("k")).await;
            assert!(matches!(result, Err(Error::Redis(_) | Error::Timeout(_))), "{result:?}");
        }
        // Refused before any connection attempt: Open, not a connection error.
        let result: Result<Option<String>> = redis.query("get", redis::cmd("GET").arg("k")).await;
        assert!(matches!(result, Err(Error::Open)), "{result:?}");
    }

    /// Against the local Redis of the development machine (`PROMPTSALES_REDIS_URL`), under a
    /// prefix of its own.
    #[tokio::test]
    async fn should_store_tagged_entries_and_drop_them_by_tag() {
        let prefix = format!("ps:test-{}:", uuid::Uuid::new_v4().simple());
        let redis = Redis::new(&RedisOptions {
            prefix,
            timeout_ms: 2000,
            ..RedisOptions::default()
        })
        .expect("client");
        let keys = redis.keys().clone();
        let (a, b) = (keys.key(KeySpace::Resp, &["a"]), keys.key(KeySpace::Resp, &["b"]));
        let (t1, t2) = (keys.key(KeySpace::Tag, &["T1"]), keys.key(KeySpace::Tag, &["T2"]));
        let ttl = Duration::from_secs(30);
        redis
            .set_tagged(&a, b"A", ttl, std::slice::from_ref(&t1))
            .await
            .expect("set a");
        redis
            .set_tagged(&b, b"B", ttl, &[t1.clone(), t2.clone()])
            .await
            .expect("set b");
        let tag_ttl: i64 = redis.query("pttl", redis::cmd("PTTL").arg(&t2)).await.expect("pttl");
        assert!(tag_ttl > 25_000, "a tag set lives as long as its members: {tag_ttl}");
        let dropped = redis.drop_tagged(std::slice::from_ref(&t2)).await.expect("drop");
        assert_eq!(dropped, 1);
        let left: Option<Vec<u8>> = redis.query("get", redis::cmd("GET").arg(&a)).await.expect("get a");
        assert_eq!(left.as_deref(), Some(&b"A"[..]), "untouched by another tag");
        let dropped = redis.drop_tagged(&[t1.clone(), t2]).await.expect("drop");
        assert_eq!(dropped, 1, "b was already gone, a goes now");
        let exists: u64 = redis
            .query("exists", redis::cmd("EXISTS").arg(&a).arg(&t1))
            .await
            .expect("exists");
        assert_eq!(exists, 0);
    }
}
