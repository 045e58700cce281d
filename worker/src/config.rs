use std::time::Duration;

use anyhow::bail;
use promptsales_platform::{Store, StoreUrl, config::Secret};
use rust_decimal::Decimal;

use crate::{Settings, alerts::Thresholds, gateway::ClientCredentials, queue::Leasing};

/// Settings of the agenda worker (flags or environment).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "promptsales-worker",
    about = "PromptSales agenda worker: reminders, alerts and approved steps"
)]
pub struct Config {
    /// Port of `/healthz`, `/readyz` and `/metrics`.
    #[arg(long, env = "PORT", default_value_t = 4200)]
    pub port: u16,
    /// The PromptSales store (PostgreSQL), where the agenda lives.
    #[arg(long = "sales-url", env = "PROMPTSALES_SALES_URL", value_name = "URL")]
    pub sales_url: Option<StoreUrl>,
    /// The gateway's GraphQL endpoint (steps act on other stores through it).
    #[arg(
        long,
        env = "PROMPTSALES_GATEWAY_URL",
        default_value = "http://127.0.0.1:4000/graphql"
    )]
    pub gateway_url: reqwest::Url,
    /// The authorization server's token endpoint, where the client-credentials grant is posted
    /// (`promptsales auth` locally; Keycloak's
    /// `…/realms/promptsales/protocol/openid-connect/token` in a cluster).
    #[arg(
        long,
        env = "PROMPTSALES_WORKER_GRANT_URL",
        default_value = "http://127.0.0.1:4400/token"
    )]
    pub grant_url: reqwest::Url,
    /// The worker's OAuth2 client.
    #[arg(long, env = "PROMPTSALES_WORKER_CLIENT_ID", default_value = "worker")]
    pub client_id: String,
    /// Its secret. Without one the worker sends reminders and alerts but runs no steps.
    #[arg(long, env = "PROMPTSALES_WORKER_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// The scopes it asks for: what its steps need and no more.
    #[arg(long, env = "PROMPTSALES_WORKER_SCOPES", default_value = "ads:read ads:write")]
    pub scopes: String,
    /// Where reminders and alerts go: `log`, or an http(s) webhook URL (posted JSON with an
    /// `Idempotency-Key` header).
    #[arg(long, env = "PROMPTSALES_WORKER_SINK", default_value = "log")]
    pub sink: String,
    /// Rows claimed per queue per tick.
    #[arg(long, env = "PROMPTSALES_WORKER_BATCH", default_value_t = 50)]
    pub batch: i64,
    /// Deliveries and steps in flight at once.
    #[arg(long, env = "PROMPTSALES_WORKER_CONCURRENCY", default_value_t = 16)]
    pub concurrency: usize,
    /// How long a claim holds a row before another worker may take it over (seconds).
    #[arg(long, env = "PROMPTSALES_WORKER_LEASE_SECS", default_value_t = 60)]
    pub lease_secs: u64,
    /// Timeout of one delivery or gateway call (seconds); must be well under the lease.
    #[arg(long, env = "PROMPTSALES_WORKER_CALL_TIMEOUT_SECS", default_value_t = 10)]
    pub call_timeout_secs: u64,
    /// Attempts before a row is dead-lettered.
    #[arg(long, env = "PROMPTSALES_WORKER_MAX_ATTEMPTS", default_value_t = 6)]
    pub max_attempts: i32,
    /// First retry wait (seconds); doubles per attempt.
    #[arg(long, env = "PROMPTSALES_WORKER_BACKOFF_SECS", default_value_t = 5)]
    pub backoff_secs: u64,
    /// Longest retry wait (seconds).
    #[arg(long, env = "PROMPTSALES_WORKER_BACKOFF_MAX_SECS", default_value_t = 900)]
    pub backoff_max_secs: u64,
    /// Pause after a tick with nothing to do (milliseconds).
    #[arg(long, env = "PROMPTSALES_WORKER_IDLE_MS", default_value_t = 1000)]
    pub idle_ms: u64,
    /// How often alert conditions are evaluated (seconds).
    #[arg(long, env = "PROMPTSALES_WORKER_ALERT_INTERVAL_SECS", default_value_t = 60)]
    pub alert_interval_secs: u64,
    /// Hours an approval step may wait for its decision before an alert.
    #[arg(long, env = "PROMPTSALES_WORKER_APPROVAL_MAX_WAIT_HOURS", default_value_t = 48)]
    pub approval_max_wait_hours: u64,
    /// ROI below this alerts (-0.2: the campaign lost over 20 % of its spend).
    #[arg(
        long,
        env = "PROMPTSALES_WORKER_MIN_ROI",
        default_value = "-0.2",
        allow_hyphen_values = true
    )]
    pub min_roi: Decimal,
    /// Share of negative reactions above this alerts (0 to 1).
    #[arg(long, env = "PROMPTSALES_WORKER_MAX_NEGATIVE_SHARE", default_value = "0.35")]
    pub max_negative_share: Decimal,
    /// Reactions a campaign needs before its sentiment is judged.
    #[arg(long, env = "PROMPTSALES_WORKER_MIN_REACTIONS", default_value_t = 200)]
    pub min_reactions: i64,
}

impl Config {
    pub fn store_url(&self) -> StoreUrl {
        self.sales_url
            .clone()
            .unwrap_or_else(|| StoreUrl::local_default(Store::Sales))
    }

    pub fn call_timeout(&self) -> Duration {
        Duration::from_secs(self.call_timeout_secs)
    }

    /// The settings, after checking they make sense together.
    pub fn settings(&self, owner: String) -> anyhow::Result<Settings> {
        if self.batch < 1 || self.concurrency < 1 {
            bail!("--batch and --concurrency must be at least 1");
        }
        if self.max_attempts < 1 {
            bail!("--max-attempts must be at least 1");
        }
        if self.lease_secs < 3 * self.call_timeout_secs {
            bail!(
                "--lease-secs ({}) must be at least three times --call-timeout-secs ({}): a lease that \
                 ends during a call lets a second worker run the same row",
                self.lease_secs,
                self.call_timeout_secs
            );
        }
        if self.max_negative_share < Decimal::ZERO || self.max_negative_share > Decimal::ONE {
            bail!("--max-negative-share must be between 0 and 1");
        }
        Ok(Settings {
            leasing: Leasing {
                owner,
                lease: Duration::from_secs(self.lease_secs),
                max_attempts: self.max_attempts,
                backoff_base: Duration::from_secs(self.backoff_secs),
                backoff_max: Duration::from_secs(self.backoff_max_secs.max(self.backoff_secs)),
            },
            batch: self.batch,
            concurrency: self.concurrency,
            idle_wait: Duration::from_millis(self.idle_ms),
            alert_interval: Duration::from_secs(self.alert_interval_secs),
            thresholds: Thresholds {
                approval_max_wait: Duration::from_secs(self.approval_max_wait_hours * 3600),
                min_roi: self.min_roi,
                max_negative_share: self.max_negative_share,
                min_reactions: self.min_reactions,
            },
            client_id: self.client_id.clone(),
        })
    }

    /// The worker's OAuth2 client, when a secret is configured.
    pub fn client_credentials(&self) -> anyhow::Result<Option<ClientCredentials>> {
        let Some(secret) = &self.client_secret else {
            return Ok(None);
        };
        if !matches!(self.grant_url.scheme(), "http" | "https") {
            bail!("--grant-url {} is not an http(s) URL", self.grant_url);
        }
        Ok(Some(ClientCredentials {
            token_url: self.grant_url.clone(),
            client_id: self.client_id.clone(),
            client_secret: Secret::new(secret.clone()),
            scope: Some(self.scopes.clone()),
            auth: promptsales_platform::oauth::ClientAuth::Post,
        }))
    }
}
