//! The PromptContent MCP server: `getContent` finds images of the content library by meaning
//! (the content subgraph's `searchImages`), and `draftCampaignMessages` turns a campaign brief
//! into a content request and three messages per target population, stored for human review.
//! Every call goes to the gateway with the caller's own token ([`promptsales_mcp_kit`]); the
//! server never opens a database.

pub mod brief;
pub mod compose;
pub mod docs;
pub mod generate;
pub mod llm;
pub mod server;

use std::{sync::Arc, time::Duration};

use promptsales_mcp_kit::{AnswerCache, GatewayClient, Kit, McpArgs};
use promptsales_platform::{
    Secret,
    redis::{Redis, RedisOptions},
};
pub use server::{ContentServer, Shared};

/// The port of the HTTP transport (ARCHITECTURE.md).
pub const PORT: u16 = 4101;
/// Recorded as the `model` of every tool call: the answers are assembled by this server.
pub const MODEL: &str = "promptsales-mcp-content";

/// Settings of the content MCP server (flags or environment).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "promptsales-mcp-content",
    about = "PromptContent MCP server (images and campaign briefs)"
)]
pub struct Config {
    #[command(flatten)]
    pub mcp: McpArgs,
    /// Base URL of an OpenAI-compatible Chat Completions API (e.g. `https://api.openai.com/v1`),
    /// used for the brief's messages when the client offers no sampling. Without it (or without a
    /// key) the offline composer writes them.
    #[arg(long = "llm-url", env = "PROMPTSALES_LLM_URL")]
    pub llm_url: Option<reqwest::Url>,
    /// The endpoint's API key (bearer), for a developer's own key in the shell; never logged.
    /// Deployments give `--llm-credentials` instead, so the key is never at rest in the clear.
    #[arg(long = "llm-key", env = "PROMPTSALES_LLM_API_KEY", value_parser = parse_secret, hide_env_values = true,
          conflicts_with = "llm_credentials")]
    pub llm_key: Option<Secret<String>>,
    /// The endpoint's credentials, sealed (`promptsales secrets seal --purpose mcp.content.llm`,
    /// opened with `PROMPTSALES_KEKS`): `{"api_key": "…"}`, or an OAuth2 client
    /// `{"client_id", "client_secret", "token_url", "scope"?, "auth"?}` whose access tokens are the bearer.
    #[arg(long = "llm-credentials", env = "PROMPTSALES_LLM_CREDENTIALS", value_parser = parse_secret, hide_env_values = true)]
    pub llm_credentials: Option<Secret<String>>,
    /// The endpoint's model.
    #[arg(long = "llm-model", env = "PROMPTSALES_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// How long one model request may take, in milliseconds.
    #[arg(
        long = "llm-timeout-ms",
        env = "PROMPTSALES_LLM_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub llm_timeout_ms: u64,
}

fn parse_secret(s: &str) -> Result<Secret<String>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(Secret::new(s.to_owned()))
}

/// What `llm_credentials` names, when set, is bound to this purpose.
pub const LLM_CREDENTIALS_PURPOSE: &str = "mcp.content.llm";

/// The model endpoint's credentials: the plain key, or the sealed document opened and read.
fn llm_credentials(config: &Config) -> anyhow::Result<Option<llm::Credentials>> {
    if let Some(key) = &config.llm_key {
        return Ok(Some(llm::Credentials::ApiKey(key.clone())));
    }
    let Some(sealed) = &config.llm_credentials else {
        return Ok(None);
    };
    let keyring = promptsales_platform::crypto::Keyring::from_env()
        .map_err(|e| anyhow::anyhow!("opening --llm-credentials needs the key-encryption keys: {e}"))?;
    let plain = promptsales_platform::crypto::open_text(&keyring, LLM_CREDENTIALS_PURPOSE, sealed.expose())
        .map_err(|e| anyhow::anyhow!("--llm-credentials (PROMPTSALES_LLM_CREDENTIALS) could not be opened: {e}"))?;
    let credentials = llm::Credentials::from_json(&plain).map_err(|e| anyhow::anyhow!("--llm-credentials: {e}"))?;
    Ok(Some(credentials))
}

/// The shared state of a server built from `config`.
pub fn shared(config: &Config) -> anyhow::Result<Arc<Shared>> {
    let gateway = GatewayClient::new(config.mcp.gateway_url.clone(), config.mcp.gateway_timeout())?;
    let redis_url = config.mcp.redis_url.as_ref().map(|u| u.expose().as_str());
    let cache = AnswerCache::new(redis_url, &config.mcp.cache_prefix, config.mcp.cache_ttl())?;
    let llm_cache = if config.mcp.cache_ttl_secs == 0 {
        generate::LlmCache::new(None)
    } else {
        let options = RedisOptions {
            url: redis_url.map(str::to_owned),
            prefix: config.mcp.cache_prefix.clone(),
            timeout_ms: 200,
            ..RedisOptions::default()
        };
        generate::LlmCache::new(Some(Redis::new(&options)?))
    };
    let llm = match (&config.llm_url, llm_credentials(config)?) {
        (Some(url), Some(credentials)) => Some(llm::LlmEndpoint::new(
            url.clone(),
            credentials,
            config.llm_model.clone(),
            Duration::from_millis(config.llm_timeout_ms),
        )?),
        (None, None) => None,
        (Some(_), None) => anyhow::bail!(
            "--llm-url (PROMPTSALES_LLM_URL) is set without credentials: give --llm-credentials \
             (PROMPTSALES_LLM_CREDENTIALS) or --llm-key (PROMPTSALES_LLM_API_KEY)"
        ),
        (None, Some(_)) => anyhow::bail!(
            "model credentials are set without --llm-url (PROMPTSALES_LLM_URL): say which endpoint they are for"
        ),
    };
    let kit = Kit {
        gateway,
        cache,
        stdio_token: config.mcp.token.clone(),
        model: MODEL,
    };
    Ok(Arc::new(Shared { kit, llm, llm_cache }))
}
