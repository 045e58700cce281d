//! Subgraph requests: one pooled HTTP client (rustls, HTTP/1.1 and HTTP/2), a timeout per
//! subgraph, the signed claims header, the request id and W3C trace context on every fetch, and
//! per-subgraph latency and error metrics.
//!
//! Identical fetches in flight at once are sent once (see [`FetchContext::share`]): a query's
//! fetch waits for the answer of an identical one already on its way — same subgraph, same body,
//! same signed claims — instead of sending its own. Claims are part of the key, so callers with
//! other scopes, another organization or another subject never share an answer; mutations never
//! share at all. Only the answer is shared: each execution parses its own copy of the bytes.
//!
//! The client is hyper's own pooled client, not reqwest: a fetch is one request to a URL known
//! at start-up, and reqwest's per-request layers (its redirect policy parses the URL again on
//! every request, even with redirects off) cost a tenth of the gateway's work on a warm request.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use promptsales_platform::telemetry;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use serde_json::Value;

use crate::value::{Bodies, Val};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Why the subgraph client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("TLS client configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("a trusted CA certificate of PROMPTSALES_TLS_CA: {0}")]
    Root(String),
}

/// Bounds on the connections and fetches to each subgraph.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    /// Idle connections kept per subgraph host.
    pub max_idle_per_host: usize,
    /// Fetches in flight per subgraph; 0 for no bound.
    pub max_in_flight: usize,
}

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
    /// Whether this request's fetches may share the answer of an identical fetch in flight: set
    /// by the gateway for queries when `dedupe_subgraph_requests` is on, never for mutations.
    pub share: bool,
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
    #[error("the plan ran more fetches than it has (a gateway bug), {0} was not asked")]
    TooManyFetches(String),
}

impl FetchError {
    fn kind(&self) -> &'static str {
        match self {
            FetchError::UnknownSubgraph(_) => "unknown",
            FetchError::Timeout(..) => "timeout",
            FetchError::Unreachable(_) => "unreachable",
            FetchError::Status(..) => "status",
            FetchError::Malformed(_) => "malformed",
            FetchError::TooManyFetches(_) => "internal",
        }
    }
}

/// What a subgraph answered: its `data` borrows from the body, kept in the execution's
/// [`Bodies`]. Errors are few and leave the gateway as they are, so they are plain JSON.
#[derive(Debug, Default)]
pub struct SubgraphResponse<'a> {
    pub data: Val<'a>,
    pub errors: Vec<Value>,
}

/// The body of a subgraph request, written straight into bytes: the operation text, the
/// variables the fetch uses and the entity representations, without a JSON tree in between.
pub struct RequestBody {
    buf: Vec<u8>,
    variables: usize,
}

impl RequestBody {
    pub fn new(query: &str) -> RequestBody {
        let mut buf = Vec::with_capacity(query.len() + 256);
        buf.extend_from_slice(b"{\"query\":");
        crate::value::write_str(&mut buf, query);
        buf.extend_from_slice(b",\"variables\":{");
        RequestBody { buf, variables: 0 }
    }

    /// Starts the variable `name`; its value is written into the returned buffer.
    pub fn variable(&mut self, name: &str) -> &mut Vec<u8> {
        if self.variables > 0 {
            self.buf.push(b',');
        }
        self.variables += 1;
        crate::value::write_str(&mut self.buf, name);
        self.buf.push(b':');
        &mut self.buf
    }

    /// A variable from the client's request.
    pub fn json_variable(&mut self, name: &str, value: &Value) {
        let buf = self.variable(name);
        serde_json::to_writer(buf, value).expect("writing JSON to a vector cannot fail");
    }

    /// A list of entity representations.
    pub fn representations<'v, 'a: 'v>(&mut self, name: &str, items: impl IntoIterator<Item = &'v Val<'a>>) {
        let buf = self.variable(name);
        buf.push(b'[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            item.write(buf);
        }
        buf.push(b']');
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"}}");
        self.buf
    }
}

/// What came back from a subgraph, before parsing: shared as it is between identical fetches.
#[derive(Debug, Clone)]
struct Exchange {
    status: http::StatusCode,
    /// The response's [`CONTAINS_PII_HEADER`].
    pii: bool,
    body: Bytes,
}

/// Why no answer came back (the subgraph's name is added by the caller).
#[derive(Debug, Clone, Copy)]
enum Failure {
    Timeout,
    Unreachable,
}

/// What makes two fetches identical: the bytes that decide the answer.
#[derive(Debug, PartialEq, Eq, Hash)]
struct InFlightKey {
    subgraph: String,
    claims: String,
    body: Bytes,
}

type SharedExchange = Shared<BoxFuture<'static, Result<Exchange, Failure>>>;

/// Fetches in flight that others may join, each removed by its own task when it completes.
type InFlight = Arc<Mutex<HashMap<Arc<InFlightKey>, SharedExchange>>>;

/// Sends subgraph fetches.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client<Connector, Full<Bytes>>,
    endpoints: HashMap<String, String>,
    /// The endpoints parsed once, not on every fetch; one that does not parse is refused when
    /// fetched (as unreachable).
    urls: HashMap<String, Uri>,
    timeouts: HashMap<String, Duration>,
    default_timeout: Duration,
    /// `gateway_subgraph_fetch_duration_seconds` of each subgraph, registered once rather than
    /// looked up by label on every fetch.
    durations: HashMap<String, metrics::Histogram>,
    /// `gateway_subgraph_fetch_shared_total`: fetches answered by an identical one in flight.
    shared: HashMap<String, metrics::Counter>,
    in_flight: InFlight,
    /// One slot per fetch that may be in flight to each subgraph (absent: no bound).
    slots: HashMap<String, Arc<Semaphore>>,
}

impl Fetcher {
    pub fn new(
        endpoints: HashMap<String, String>,
        default_timeout: Duration,
        timeouts: HashMap<String, Duration>,
        pool: PoolLimits,
    ) -> Result<Fetcher, ClientError> {
        // Verification stays on: https subgraphs must show a certificate from the web roots or
        // from the CA bundle of `PROMPTSALES_TLS_CA` (a private CA, `promptsales certs`).
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for root in promptsales_platform::tls::extra_roots_or_none() {
            roots.add(root).map_err(|e| ClientError::Root(e.to_string()))?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(promptsales_platform::tls::provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        // Redirects are never followed (hyper's client does not): a subgraph never redirects,
        // and following one would send the signed claims elsewhere.
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(pool.max_idle_per_host)
            .build(connector);
        let slots = if pool.max_in_flight == 0 {
            HashMap::new()
        } else {
            endpoints
                .keys()
                .map(|name| (name.clone(), Arc::new(Semaphore::new(pool.max_in_flight))))
                .collect()
        };
        let urls = endpoints
            .iter()
            .filter_map(|(name, url)| match parse_endpoint(url) {
                Ok(u) => Some((name.clone(), u)),
                Err(e) => {
                    tracing::error!(subgraph = %name, %url, error = %e, "the subgraph URL does not parse");
                    None
                }
            })
            .collect();
        // The handles must come from the process's recorder, so it is installed first.
        promptsales_platform::service::metrics();
        let durations = endpoints
            .keys()
            .map(|name| {
                let labels = [("subgraph", name.clone())];
                (
                    name.clone(),
                    metrics::histogram!("gateway_subgraph_fetch_duration_seconds", &labels),
                )
            })
            .collect();
        let shared = endpoints
            .keys()
            .map(|name| {
                let labels = [("subgraph", name.clone())];
                (
                    name.clone(),
                    metrics::counter!("gateway_subgraph_fetch_shared_total", &labels),
                )
            })
            .collect();
        Ok(Fetcher {
            client,
            endpoints,
            urls,
            timeouts,
            default_timeout,
            durations,
            shared,
            in_flight: Arc::default(),
            slots,
        })
    }

    pub fn endpoint(&self, subgraph: &str) -> Option<&str> {
        self.endpoints.get(subgraph).map(String::as_str)
    }

    /// Sends `body` to `subgraph`; the answer's body is kept in `bodies` and parsed from there.
    pub async fn fetch<'a>(
        &self,
        subgraph: &str,
        body: Vec<u8>,
        ctx: &FetchContext,
        bodies: &'a Bodies,
    ) -> Result<SubgraphResponse<'a>, FetchError> {
        // A span per fetch, only while traces are exported: the subgraph's request span becomes its
        // child through the `traceparent` that names it (without traces, the client's or the
        // gateway's own trace context of `ctx` goes on verbatim, so logs still correlate).
        let span = if telemetry::tracing_enabled() {
            tracing::info_span!(
                "subgraph fetch",
                otel.name = %format_args!("fetch {subgraph}"),
                otel.kind = "client",
                subgraph,
                otel.status_code = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        let trace = telemetry::trace_headers(&span);
        let started = std::time::Instant::now();
        let result = self
            .send(subgraph, body, ctx, trace.as_ref(), bodies)
            .instrument(span.clone())
            .await;
        if let Some(histogram) = self.durations.get(subgraph) {
            histogram.record(started.elapsed().as_secs_f64());
        }
        if let Err(e) = &result {
            span.record("otel.status_code", "ERROR");
            tracing::debug!(subgraph, error = %e, "subgraph fetch failed");
            metrics::counter!("gateway_subgraph_fetch_errors_total", "subgraph" => subgraph.to_owned(), "kind" => e.kind())
                .increment(1);
        }
        result
    }

    async fn send<'a>(
        &self,
        subgraph: &str,
        body: Vec<u8>,
        ctx: &FetchContext,
        trace: Option<&TraceHeaders>,
        bodies: &'a Bodies,
    ) -> Result<SubgraphResponse<'a>, FetchError> {
        let uri = match self.urls.get(subgraph) {
            Some(uri) => uri.clone(),
            None if self.endpoints.contains_key(subgraph) => return Err(FetchError::Unreachable(subgraph.to_owned())),
            None => return Err(FetchError::UnknownSubgraph(subgraph.to_owned())),
        };
        let timeout = self.timeouts.get(subgraph).copied().unwrap_or(self.default_timeout);
        let body = Bytes::from(body);
        let answer = if ctx.share {
            self.join_or_send(subgraph, uri, timeout, body, ctx, trace).await
        } else {
            match request(uri, body, ctx, trace) {
                Ok(request) => exchange(self.client.clone(), request, timeout, self.slots.get(subgraph).cloned()).await,
                Err(failure) => Err(failure),
            }
        };
        let Exchange {
            status,
            pii: header_pii,
            body: bytes,
        } = answer.map_err(|f| match f {
            Failure::Timeout => FetchError::Timeout(subgraph.to_owned(), timeout),
            Failure::Unreachable => FetchError::Unreachable(subgraph.to_owned()),
        })?;
        let bytes = bodies
            .keep(bytes)
            .ok_or_else(|| FetchError::TooManyFetches(subgraph.to_owned()))?;
        match crate::value::parse(bytes) {
            Ok(mut envelope @ Val::Object(_)) if envelope.get("data").is_some() || envelope.get("errors").is_some() => {
                let extension_pii = envelope
                    .get("extensions")
                    .and_then(|e| e.get("containsPii"))
                    .and_then(Val::as_bool)
                    .unwrap_or(false);
                if header_pii || extension_pii {
                    ctx.contains_pii.store(true, Ordering::Relaxed);
                }
                let data = envelope.take("data").unwrap_or_default();
                let errors = match envelope.get("errors") {
                    Some(Val::List(e)) => e.iter().map(Val::to_json).collect(),
                    _ => Vec::new(),
                };
                Ok(SubgraphResponse { data, errors })
            }
            _ if !status.is_success() => Err(FetchError::Status(subgraph.to_owned(), status.as_u16())),
            _ => Err(FetchError::Malformed(subgraph.to_owned())),
        }
    }
}

impl Fetcher {
    /// Joins an identical fetch in flight, or sends this one in a task of its own that others
    /// may join. The task, not the first caller, owns the exchange: a client that goes away does
    /// not cancel the answer others wait for, and the entry leaves the map when the task ends.
    async fn join_or_send(
        &self,
        subgraph: &str,
        uri: Uri,
        timeout: Duration,
        body: Bytes,
        ctx: &FetchContext,
        trace: Option<&TraceHeaders>,
    ) -> Result<Exchange, Failure> {
        let slots = self.slots.get(subgraph).cloned();
        let key = Arc::new(InFlightKey {
            subgraph: subgraph.to_owned(),
            claims: ctx.claims.clone(),
            body,
        });
        let (running, joined) = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            match in_flight.get(&key) {
                Some(running) => (running.clone(), true),
                None => {
                    let request = request(uri, key.body.clone(), ctx, trace)?;
                    let client = self.client.clone();
                    let map = self.in_flight.clone();
                    let own = key.clone();
                    // The map's lock is held until the entry is in: the task's removal waits for it.
                    let task = tokio::spawn(async move {
                        let answer = exchange(client, request, timeout, slots).await;
                        map.lock().unwrap_or_else(|p| p.into_inner()).remove(&own);
                        answer
                    });
                    let running = async move { task.await.unwrap_or(Err(Failure::Unreachable)) }
                        .boxed()
                        .shared();
                    in_flight.insert(key, running.clone());
                    (running, false)
                }
            }
        };
        if joined && let Some(counter) = self.shared.get(subgraph) {
            counter.increment(1);
        }
        running.await
    }
}

/// `traceparent` and `tracestate` naming the span of one fetch.
type TraceHeaders = (String, Option<String>);

/// The HTTP request of one fetch, with `trace` as its trace context when traces are on (the
/// fetch's own span), else the request's.
fn request(
    uri: Uri,
    body: Bytes,
    ctx: &FetchContext,
    trace: Option<&TraceHeaders>,
) -> Result<Request<Full<Bytes>>, Failure> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(
            header::ACCEPT,
            HeaderValue::from_static("application/graphql-response+json, application/json"),
        )
        .header(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Values the gateway made or checked; one that is not a valid header value (a client's
    // malformed trace header) is left out rather than failing the fetch.
    let optional = [
        (CLAIMS, Some(&ctx.claims)),
        (REQUEST_ID, ctx.request_id.as_ref()),
        (
            TRACEPARENT,
            trace.map_or(ctx.traceparent.as_ref(), |(parent, _)| Some(parent)),
        ),
        (
            TRACESTATE,
            trace.map_or(ctx.tracestate.as_ref(), |(_, state)| state.as_ref()),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            request = request.header(name, value);
        }
    }
    request.body(Full::new(body)).map_err(|_| Failure::Unreachable)
}

/// Sends one request and reads the whole answer within `timeout`, which includes waiting for
/// one of the subgraph's `slots` when it is bounded.
async fn exchange(
    client: Client<Connector, Full<Bytes>>,
    request: Request<Full<Bytes>>,
    timeout: Duration,
    slots: Option<Arc<Semaphore>>,
) -> Result<Exchange, Failure> {
    let exchange = async {
        let _slot = match slots {
            Some(slots) => Some(slots.acquire_owned().await.ok()?),
            None => None,
        };
        let response = client.request(request).await.ok()?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.ok()?.to_bytes();
        let pii = parts
            .headers
            .get(CONTAINS_PII_HEADER)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        Some(Exchange {
            status: parts.status,
            pii,
            body,
        })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err(Failure::Timeout),
        Ok(None) => Err(Failure::Unreachable),
        Ok(Some(answer)) => Ok(answer),
    }
}

const CLAIMS: HeaderName = HeaderName::from_static(promptsales_platform::claims::HEADER);
const REQUEST_ID: HeaderName = HeaderName::from_static(promptsales_platform::service::REQUEST_ID);
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// A subgraph URL: absolute, http or https.
fn parse_endpoint(url: &str) -> Result<Uri, String> {
    let uri: Uri = url.parse().map_err(|e: http::uri::InvalidUri| e.to_string())?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(uri),
        _ => Err("not an absolute http(s) URL".into()),
    }
}
