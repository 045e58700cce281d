//! Subgraph requests: one pooled HTTP client (rustls, HTTP/1.1 and HTTP/2), a timeout per
//! subgraph, the signed claims header, the request id and W3C trace context on every fetch, and
//! per-subgraph latency and error metrics.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde_json::{Map, Value};

/// Headers every fetch of one client request carries.
#[derive(Debug, Clone, Default)]
pub struct FetchContext {
    /// The signed `x-promptsales-claims` value.
    pub claims: String,
    pub request_id: Option<String>,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    /// Set when a subgraph marked a response as carrying decrypted PII (the
    /// [`CONTAINS_PII_HEADER`] header or `extensions.containsPii`), for the audit log.
    pub contains_pii: Arc<AtomicBool>,
}

/// The header with which the crm and sales subgraphs mark responses that carry decrypted PII.
pub const CONTAINS_PII_HEADER: &str = "x-promptsales-contains-pii";

/// Why a fetch produced no GraphQL response.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("subgraph {0} is not in the supergraph")]
    UnknownSubgraph(String),
    #[error("subgraph {0} did not answer within {1:?}")]
    Timeout(String, Duration),
    #[error("subgraph {0} could not be reached")]
    Unreachable(String),
    #[error("subgraph {0} answered with HTTP {1} and no GraphQL response")]
    Status(String, u16),
    #[error("subgraph {0} answered with something that is not a GraphQL response")]
    Malformed(String),
}

impl FetchError {
    fn kind(&self) -> &'static str {
        match self {
            FetchError::UnknownSubgraph(_) => "unknown",
            FetchError::Timeout(..) => "timeout",
            FetchError::Unreachable(_) => "unreachable",
            FetchError::Status(..) => "status",
            FetchError::Malformed(_) => "malformed",
        }
    }
}

/// What a subgraph answered.
#[derive(Debug, Default)]
pub struct SubgraphResponse {
    pub data: Value,
    pub errors: Vec<Value>,
}

/// The body of a subgraph request.
#[derive(serde::Serialize)]
struct SubgraphRequest<'a> {
    query: &'a str,
    variables: &'a Map<String, Value>,
}

/// Sends subgraph fetches.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    endpoints: HashMap<String, String>,
    /// The endpoints parsed once, not on every fetch; one that does not parse is refused when
    /// fetched (as unreachable).
    urls: HashMap<String, reqwest::Url>,
    timeouts: HashMap<String, Duration>,
    default_timeout: Duration,
}

impl Fetcher {
    pub fn new(
        endpoints: HashMap<String, String>,
        default_timeout: Duration,
        timeouts: HashMap<String, Duration>,
    ) -> Result<Fetcher, reqwest::Error> {
        // Verification stays on: https subgraphs must show a certificate from the web roots or
        // from the CA bundle of `PROMPTSALES_TLS_CA` (a private CA, `promptsales certs`).
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            // A subgraph never redirects; following one would send the signed claims elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        for root in promptsales_platform::tls::extra_roots_or_none() {
            builder = builder.add_root_certificate(reqwest::Certificate::from_der(&root)?);
        }
        let client = builder.build()?;
        let urls = endpoints
            .iter()
            .filter_map(|(name, url)| match reqwest::Url::parse(url) {
                Ok(u) => Some((name.clone(), u)),
                Err(e) => {
                    tracing::error!(subgraph = %name, %url, error = %e, "the subgraph URL does not parse");
                    None
                }
            })
            .collect();
        Ok(Fetcher {
            client,
            endpoints,
            urls,
            timeouts,
            default_timeout,
        })
    }

    pub fn endpoint(&self, subgraph: &str) -> Option<&str> {
        self.endpoints.get(subgraph).map(String::as_str)
    }

    pub async fn fetch(
        &self,
        subgraph: &str,
        query: &str,
        variables: Map<String, Value>,
        ctx: &FetchContext,
    ) -> Result<SubgraphResponse, FetchError> {
        let started = std::time::Instant::now();
        let result = self.send(subgraph, query, variables, ctx).await;
        let labels = [("subgraph", subgraph.to_owned())];
        metrics::histogram!("gateway_subgraph_fetch_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
        if let Err(e) = &result {
            tracing::debug!(subgraph, error = %e, "subgraph fetch failed");
            metrics::counter!("gateway_subgraph_fetch_errors_total", "subgraph" => subgraph.to_owned(), "kind" => e.kind())
                .increment(1);
        }
        result
    }

    async fn send(
        &self,
        subgraph: &str,
        query: &str,
        variables: Map<String, Value>,
        ctx: &FetchContext,
    ) -> Result<SubgraphResponse, FetchError> {
        let url = match self.urls.get(subgraph) {
            Some(url) => url.clone(),
            None if self.endpoints.contains_key(subgraph) => return Err(FetchError::Unreachable(subgraph.to_owned())),
            None => return Err(FetchError::UnknownSubgraph(subgraph.to_owned())),
        };
        let timeout = self.timeouts.get(subgraph).copied().unwrap_or(self.default_timeout);
        // Serialised from borrowed parts: the operation text is not copied into a JSON tree first.
        let body = serde_json::to_vec(&SubgraphRequest {
            query,
            variables: &variables,
        })
        .expect("a string and a map of JSON values serialise");
        let mut request = self
            .client
            .post(url)
            .timeout(timeout)
            .header("accept", "application/graphql-response+json, application/json")
            .header("content-type", "application/json")
            .header(promptsales_platform::claims::HEADER, &ctx.claims)
            .body(body);
        if let Some(id) = &ctx.request_id {
            request = request.header(promptsales_platform::service::REQUEST_ID, id);
        }
        if let Some(tp) = &ctx.traceparent {
            request = request.header("traceparent", tp);
        }
        if let Some(ts) = &ctx.tracestate {
            request = request.header("tracestate", ts);
        }
        let response = request.send().await.map_err(|e| classify(subgraph, timeout, &e))?;
        let status = response.status();
        let header_pii = response
            .headers()
            .get(CONTAINS_PII_HEADER)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let bytes = response.bytes().await.map_err(|e| classify(subgraph, timeout, &e))?;
        let parsed: Option<Map<String, Value>> = serde_json::from_slice(&bytes).ok();
        match parsed {
            Some(mut map) if map.contains_key("data") || map.contains_key("errors") => {
                let extension_pii = map
                    .get("extensions")
                    .and_then(|e| e.get("containsPii"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if header_pii || extension_pii {
                    ctx.contains_pii.store(true, Ordering::Relaxed);
                }
                let data = map.remove("data").unwrap_or(Value::Null);
                let errors = match map.remove("errors") {
                    Some(Value::Array(e)) => e,
                    _ => Vec::new(),
                };
                Ok(SubgraphResponse { data, errors })
            }
            _ if !status.is_success() => Err(FetchError::Status(subgraph.to_owned(), status.as_u16())),
            _ => Err(FetchError::Malformed(subgraph.to_owned())),
        }
    }
}

fn classify(subgraph: &str, timeout: Duration, e: &reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout(subgraph.to_owned(), timeout)
    } else {
        FetchError::Unreachable(subgraph.to_owned())
    }
}
