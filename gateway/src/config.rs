//! The gateway's configuration: command line and environment for what deployments set, an
//! optional YAML file for the rest ([`Options`]). With no file and no variables it serves the
//! checked-in supergraph on port 4000.

use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

use crate::gateway::Options;

#[derive(Debug, clap::Parser)]
#[command(name = "promptsales-gateway", about = "The PromptSales GraphQL gateway")]
pub struct Args {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 4000)]
    pub port: u16,
    /// The composed supergraph SDL (`promptsales compose` writes it).
    #[arg(
        long,
        env = "PROMPTSALES_SUPERGRAPH",
        default_value = "supergraph/supergraph.graphql"
    )]
    pub supergraph: PathBuf,
    /// A YAML file of gateway options (limits, timeouts, subgraph URLs, introspection).
    #[arg(long, env = "PROMPTSALES_GATEWAY_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The YAML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// Planning, execution and limits.
    pub gateway: Options,
    /// The HTTP front.
    pub http: HttpOptions,
}

/// The HTTP front.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpOptions {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long one request may take end to end, in seconds.
    pub request_timeout_secs: u64,
    /// Scopes signed into the claims header of every subgraph fetch until JWT validation
    /// (issue 6) derives them from the caller's token.
    pub anonymous_scopes: Vec<String>,
    /// Whether GraphiQL is served at `/`.
    pub graphiql: bool,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            max_body_bytes: 256 * 1024,
            request_timeout_secs: 30,
            anonymous_scopes: Vec::new(),
            graphiql: true,
        }
    }
}

impl FileConfig {
    pub fn load(path: Option<&PathBuf>) -> anyhow::Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_yaml_ng::from_str(&text)
            .with_context(|| format!("{} is not a valid gateway configuration", path.display()))
    }
}
