//! The settings of an MCP server. Names match what `k8s/base/apps/mcp-*.yaml` sets; with nothing
//! set, a server runs on one machine against the local gateway and Redis.

use std::{net::IpAddr, time::Duration};

use promptsales_platform::Secret;

/// How the server talks to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// JSON-RPC over stdin/stdout: the client starts the server as a child process.
    Stdio,
    /// Streamable HTTP at `/mcp` (plus `/healthz`, `/readyz`, `/metrics`).
    Http,
}

/// Settings shared by every PromptSales MCP server (flags or environment).
#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    /// `stdio` or `http`.
    #[arg(long, env = "PROMPTSALES_MCP_TRANSPORT", value_enum, default_value_t = Transport::Http)]
    pub transport: Transport,
    /// Port of the HTTP transport.
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,
    /// Address the HTTP transport binds (`0.0.0.0` in a container); loopback by default.
    #[arg(long, env = "PROMPTSALES_MCP_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Host names (optionally `host:port`) accepted in the `Host` header of HTTP requests, comma
    /// separated: protection against DNS rebinding. Loopback names are always accepted.
    #[arg(long, env = "PROMPTSALES_MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// The gateway's GraphQL endpoint.
    #[arg(
        long,
        env = "PROMPTSALES_GATEWAY_URL",
        default_value = "http://127.0.0.1:4000/graphql"
    )]
    pub gateway_url: reqwest::Url,
    /// How long one gateway request may take, in milliseconds.
    #[arg(long, env = "PROMPTSALES_GATEWAY_TIMEOUT_MS", default_value_t = 20_000)]
    pub gateway_timeout_ms: u64,
    /// The bearer token used over stdio (a stdio client has no HTTP request to carry one). Over
    /// HTTP every request brings its own and this is ignored.
    #[arg(long = "token", env = "PROMPTSALES_MCP_TOKEN", value_parser = parse_secret, hide_env_values = true)]
    pub token: Option<Secret<String>>,
    /// Redis for the answer cache (`redis://[:password@]host:port`); defaults to the local one.
    #[arg(long = "redis-url", env = "PROMPTSALES_REDIS_URL", value_parser = parse_secret, hide_env_values = true)]
    pub redis_url: Option<Secret<String>>,
    /// Key prefix in Redis (`ps:` in deployments; tests use their own).
    #[arg(long, env = "PROMPTSALES_MCP_CACHE_PREFIX", default_value = "ps:")]
    pub cache_prefix: String,
    /// How long an answer is kept, in seconds (0: no cache; default: the platform's `MCP_TTL`).
    /// Never longer than the token that obtained it is valid.
    #[arg(long, env = "PROMPTSALES_MCP_CACHE_TTL_SECS", default_value_t = 300)]
    pub cache_ttl_secs: u64,
}

fn parse_secret(s: &str) -> Result<Secret<String>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(Secret::new(s.to_owned()))
}

impl McpArgs {
    /// Defaults for a server with `default_port`, the environment ignored (tests).
    pub fn local(default_port: u16) -> McpArgs {
        McpArgs {
            transport: Transport::Http,
            port: Some(default_port),
            bind: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            allowed_hosts: Vec::new(),
            gateway_url: reqwest::Url::parse("http://127.0.0.1:4000/graphql").expect("a literal URL"),
            gateway_timeout_ms: 20_000,
            token: None,
            redis_url: None,
            cache_prefix: "ps:".into(),
            cache_ttl_secs: 300,
        }
    }

    pub fn gateway_timeout(&self) -> Duration {
        Duration::from_millis(self.gateway_timeout_ms)
    }

    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }

    /// The `Host` values accepted: loopback names plus the configured ones.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"].map(String::from).to_vec();
        hosts.extend(
            self.allowed_hosts
                .iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty()),
        );
        hosts
    }
}
