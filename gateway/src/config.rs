//! The gateway's configuration: command line and environment for what deployments set, an
//! optional YAML file for the rest ([`Options`]). With no file and no variables it serves the
//! checked-in supergraph on port 4000.

use std::path::PathBuf;

use anyhow::Context;
use axum::http::{HeaderName, HeaderValue, uri::Authority};
use serde::Deserialize;

use crate::{
    apq::ApqOptions, audit::AuditOptions, auth::AuthOptions, cache::CacheOptions, gateway::Options,
    ratelimit::RateLimitOptions,
};

#[derive(Debug, clap::Parser)]
#[command(name = "promptsales-gateway", about = "The PromptSales GraphQL gateway")]
pub struct Args {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 4000)]
    pub port: u16,
    /// Address to listen on: loopback unless a deployment names another (`0.0.0.0` in a container).
    #[arg(long, env = "PROMPTSALES_LISTEN_ADDR", default_value = "127.0.0.1")]
    pub listen: std::net::IpAddr,
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
    /// How the supergraph file is watched for changes.
    pub supergraph: SupergraphOptions,
    /// Bearer token validation. Absent: authentication is off and every caller is anonymous
    /// with `http.anonymous_scopes` (local development only; the gateway warns at startup).
    pub auth: Option<AuthOptions>,
    /// The audit log in the sales store. Absent: nothing is audited (the gateway warns at
    /// startup).
    pub audit: Option<AuditOptions>,
    /// The response cache in Redis (see `crate::cache`). Absent: nothing is cached and responses
    /// carry no `x-cache` header.
    pub cache: Option<CacheOptions>,
    /// Per-client rate limits, counted in Redis (see `crate::ratelimit`). Absent: no limit.
    /// Like the JWKS cache and `apq`, it uses the response cache's Redis client (`cache.redis`),
    /// else Redis at `PROMPTSALES_REDIS_URL` with the default settings.
    pub rate_limit: Option<RateLimitOptions>,
    /// Automatic persisted queries, registered in Redis (see `crate::apq`). Absent: requests
    /// must carry their query text.
    pub apq: Option<ApqOptions>,
}

/// Hot reload of the supergraph file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupergraphOptions {
    /// How often the file's modification time (then its content) is checked, in seconds; a
    /// changed file is loaded and swapped in when it builds. 0 turns polling off (SIGHUP still
    /// reloads). Polling rather than inotify: it needs no dependency and works on every volume,
    /// including Kubernetes ConfigMaps, whose files are replaced through a symlink swap.
    pub reload_interval_secs: u64,
}

impl Default for SupergraphOptions {
    fn default() -> SupergraphOptions {
        SupergraphOptions {
            reload_interval_secs: 5,
        }
    }
}

/// The HTTP front.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpOptions {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long one request may take end to end, in seconds.
    pub request_timeout_secs: u64,
    /// Scopes of a caller without a token: every caller when there is no `auth` section, callers
    /// that send no `Authorization` header when `auth.required` is false.
    pub anonymous_scopes: Vec<String>,
    /// Whether GraphiQL is served at `/`.
    pub graphiql: bool,
    /// The `node_modules` folder GraphiQL's pinned assets are served from (`npm ci` in
    /// `gateway/graphiql`, which `scripts/dev-services.sh` runs).
    pub graphiql_assets: std::path::PathBuf,
    /// Browser origins (`https://portal.example.com`: scheme, host, optional port, no path)
    /// allowed to call the gateway cross-origin, with credentials. Empty: no CORS headers at all,
    /// so browsers only call from the gateway's own origin.
    pub cors_origins: Vec<String>,
    /// Whether requests a browser could send cross-site without a CORS preflight are refused
    /// unless they carry one of `csrf_required_headers` (the CSRF prevention of Apollo Router
    /// and Hive Router).
    pub csrf_prevention: bool,
    /// Headers of which one (non-empty) lets a "simple" request through CSRF prevention: a
    /// browser only sends custom headers cross-site after a preflight that CORS answers.
    pub csrf_required_headers: Vec<String>,
    /// Entities named by mutations whose existence and owner are checked before the write (see
    /// `crate::ownership`); by default the campaign of `createContentRequest`.
    pub ownership: Vec<crate::ownership::OwnershipRule>,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            max_body_bytes: 256 * 1024,
            request_timeout_secs: 30,
            anonymous_scopes: Vec::new(),
            graphiql: true,
            graphiql_assets: std::path::PathBuf::from("gateway/graphiql/node_modules"),
            cors_origins: Vec::new(),
            csrf_prevention: true,
            csrf_required_headers: vec![
                "apollo-require-preflight".to_owned(),
                "x-apollo-operation-name".to_owned(),
            ],
            ownership: crate::ownership::default_rules(),
        }
    }
}

/// An HTTP option that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InvalidOption {
    #[error("cors_origins: {origin:?} is not an origin: {why}")]
    Origin { origin: String, why: String },
    #[error("csrf_required_headers: {0:?} is not a valid header name")]
    HeaderName(String),
    #[error("csrf_required_headers is empty while csrf_prevention is on: no request could pass it")]
    NoCsrfHeaders,
}

impl HttpOptions {
    /// Checks what serde cannot: that every CORS origin is an origin and every CSRF header a
    /// header name. Called at startup so a typo stops the process instead of silently leaving a
    /// portal without CORS.
    pub fn validate(&self) -> Result<(), InvalidOption> {
        for origin in &self.cors_origins {
            parse_origin(origin)?;
        }
        self.csrf_headers()?;
        if self.csrf_prevention && self.csrf_required_headers.is_empty() {
            return Err(InvalidOption::NoCsrfHeaders);
        }
        Ok(())
    }

    /// `csrf_required_headers` as header names.
    pub fn csrf_headers(&self) -> Result<Vec<HeaderName>, InvalidOption> {
        self.csrf_required_headers
            .iter()
            .map(|h| HeaderName::try_from(h.trim()).map_err(|_| InvalidOption::HeaderName(h.clone())))
            .collect()
    }
}

/// An origin as browsers send it in the `Origin` header: lowercase `scheme://host[:port]`, no
/// default port, no path. Configured origins are compared byte for byte with that header, so
/// they are normalised here and anything that could never match is refused.
pub fn parse_origin(origin: &str) -> Result<HeaderValue, InvalidOption> {
    let invalid = |why: &str| InvalidOption::Origin {
        origin: origin.to_owned(),
        why: why.to_owned(),
    };
    if origin.trim() == "*" {
        return Err(invalid(
            "list exact origins; a wildcard cannot be combined with credentials",
        ));
    }
    let (scheme, rest) = origin
        .trim()
        .split_once("://")
        .ok_or_else(|| invalid("write it as scheme://host[:port], e.g. https://portal.example.com"))?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Err(invalid("it has no valid scheme (https://...)"));
    }
    let scheme = scheme.to_ascii_lowercase();
    if rest.contains(['/', '?', '#']) {
        return Err(invalid("an origin has no path, query or trailing slash"));
    }
    if rest.contains('@') {
        return Err(invalid("an origin has no user name or password"));
    }
    let authority: Authority = rest.parse().map_err(|_| invalid("its host[:port] does not parse"))?;
    if authority.host().is_empty() {
        return Err(invalid("it has no host"));
    }
    let host = authority.host().to_ascii_lowercase();
    let port = match (scheme.as_str(), authority.port_u16()) {
        ("http", Some(80)) | ("https", Some(443)) | (_, None) => String::new(),
        (_, Some(port)) => format!(":{port}"),
    };
    HeaderValue::try_from(format!("{scheme}://{host}{port}")).map_err(|_| invalid("it is not a valid header value"))
}

impl FileConfig {
    pub fn load(path: Option<&PathBuf>) -> anyhow::Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let config: FileConfig = serde_yaml_ng::from_str(&text)
            .with_context(|| format!("{} is not a valid gateway configuration", path.display()))?;
        config
            .http
            .validate()
            .with_context(|| format!("{}: http", path.display()))?;
        if let Some(auth) = &config.auth {
            auth.validate().with_context(|| format!("{}: auth", path.display()))?;
        }
        if let Some(cache) = &config.cache {
            cache.validate().with_context(|| format!("{}: cache", path.display()))?;
        }
        if let Some(limits) = &config.rate_limit {
            limits
                .validate()
                .with_context(|| format!("{}: rate_limit", path.display()))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_keep_introspection_closed_unless_the_file_opens_it() -> Result<(), serde_yaml_ng::Error> {
        let silent: FileConfig = serde_yaml_ng::from_str("http: {}")?;
        assert!(
            !silent.gateway.introspection,
            "a deployment that says nothing keeps it closed"
        );
        let opened: FileConfig = serde_yaml_ng::from_str("gateway:\n  introspection: true")?;
        assert!(opened.gateway.introspection);
        Ok(())
    }

    #[test]
    fn should_normalise_origins_as_browsers_send_them() {
        for (configured, sent) in [
            ("https://portal.example.com", "https://portal.example.com"),
            ("HTTPS://Portal.Example.com", "https://portal.example.com"),
            ("https://portal.example.com:443", "https://portal.example.com"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
        ] {
            let parsed = parse_origin(configured).expect(configured);
            assert_eq!(parsed, sent, "{configured}");
        }
    }

    #[test]
    fn should_refuse_what_is_not_an_origin_and_say_why() {
        for (configured, why) in [
            ("portal.example.com", "scheme://host"),
            ("https://portal.example.com/", "no path"),
            ("https://portal.example.com/app", "no path"),
            ("https://portal.example.com?x=1", "no path"),
            ("https://user:pw@portal.example.com", "no user name"),
            ("https://", "host"),
            ("*", "exact origins"),
            ("://portal.example.com", "scheme"),
        ] {
            let error = parse_origin(configured).expect_err(configured).to_string();
            assert!(
                error.contains(configured) && error.contains(why),
                "{configured}: {error}"
            );
        }
    }

    #[test]
    fn should_refuse_unusable_http_options_at_startup() {
        let options: HttpOptions =
            serde_yaml_ng::from_str("cors_origins: [https://portal.example.com/]").expect("yaml");
        assert!(options.validate().is_err());
        let options: HttpOptions = serde_yaml_ng::from_str("csrf_required_headers: [\"not a header\"]").expect("yaml");
        assert!(matches!(options.validate(), Err(InvalidOption::HeaderName(_))));
        let options: HttpOptions = serde_yaml_ng::from_str("csrf_required_headers: []").expect("yaml");
        assert!(matches!(options.validate(), Err(InvalidOption::NoCsrfHeaders)));
        let options: HttpOptions =
            serde_yaml_ng::from_str("csrf_prevention: false\ncsrf_required_headers: []").expect("yaml");
        assert!(options.validate().is_ok());
        let defaults: FileConfig = serde_yaml_ng::from_str("{}").expect("yaml");
        assert!(defaults.http.validate().is_ok());
        assert!(defaults.http.cors_origins.is_empty() && defaults.http.csrf_prevention);
        assert_eq!(defaults.supergraph.reload_interval_secs, 5);
        assert!(defaults.auth.is_none());
    }
}
