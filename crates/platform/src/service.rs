//! What every PromptSales process serves besides its API, and how it runs: `/healthz`,
//! `/readyz`, `/metrics` (Prometheus), request ids, tracing of each request with its matched
//! path, a timeout and a body limit, TLS 1.3 when configured, and graceful shutdown on SIGTERM or Ctrl-C.

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, OnceLock},
    time::Duration,
};

use crate::tls::{ServerTls, TlsListener};
use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{HeaderName, StatusCode},
    response::IntoResponse,
    routing::get,
    serve::ListenerExt,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower::ServiceBuilder;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

/// The request id header, set when absent and echoed in the response.
pub const REQUEST_ID: &str = "x-request-id";

/// A readiness probe: `Ok` when the process can serve (its stores answer).
pub type ReadyCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The process-wide Prometheus recorder (installed once, shared by every router in the process).
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
            .expect("static bucket list is non-empty")
            .build_recorder();
        let handle = recorder.handle();
        // A second recorder in the same process (tests) is fine: we keep using our handle.
        let _ = metrics::set_global_recorder(recorder);
        // Histogram samples pile up in the recorder until something drains them into their
        // buckets: a scrape of /metrics does, but a process nobody scrapes (or one scraped every
        // few minutes under heavy load) would keep every sample. Upkeep drains them regularly.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "the metrics upkeep thread did not start; histograms drain on scrape only");
        }
        handle
    })
}

/// `/healthz` (alive), `/readyz` (ready to serve) and `/metrics`.
pub fn operational_routes(ready: ReadyCheck) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move {
                    match ready().await {
                        Ok(()) => (StatusCode::OK, "ready".to_owned()),
                        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
                    }
                }
            }),
        )
        .route("/metrics", get(|| async { metrics().render() }))
}

/// The variable that names the address a service listens on.
pub const LISTEN_ENV: &str = "PROMPTSALES_LISTEN_ADDR";

/// The address a service binds: `PROMPTSALES_LISTEN_ADDR` (an IP address: `0.0.0.0` or `::` in a
/// container whose network is the boundary), else `127.0.0.1`, so a process started on a
/// workstation is not reachable from the network (its tokenless read access and `/metrics`
/// included) unless that is asked for.
pub fn listen_address() -> std::io::Result<std::net::IpAddr> {
    match std::env::var(LISTEN_ENV) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{LISTEN_ENV}={v:?} is not an IP address"),
            )
        }),
        _ => Ok(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
    }
}

/// The layers every router gets: request id, tracing with the matched path, request metrics,
/// a timeout and a body limit.
pub fn with_standard_layers(router: Router, service: &'static str, timeout: Duration, body_limit: usize) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    metrics();
    router
        .layer(axum::middleware::from_fn(
            move |req: Request, next: axum::middleware::Next| record(service, req, next),
        ))
        .layer(
            ServiceBuilder::new()
                .map_request(drop_unusable_request_id)
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(move |req: &Request| request_span(service, req)))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(RequestBodyLimitLayer::new(body_limit))
                .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, timeout)),
        )
}

/// The span of one request: a child of the caller's span when it sent a W3C `traceparent` and
/// traces are on. Named `METHOD /matched/path` in traces. The probes and `/metrics` get a debug
/// span, so the collector is not filled with a span per probe.
fn request_span(service: &'static str, req: &Request) -> tracing::Span {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(req.uri().path(), |p| p.as_str());
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let method = req.method();
    let span = if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        tracing::debug_span!("request", service, %method, path, request_id = id)
    } else {
        tracing::info_span!(
            "request",
            otel.name = %format_args!("{method} {path}"),
            otel.kind = "server",
            service,
            %method,
            path,
            request_id = id,
            status = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        )
    };
    crate::telemetry::join_remote_parent(&span, req.headers());
    span
}

/// Longest client request id kept; a UUID is 36 characters, a W3C trace id 32.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client's request id may be kept: it goes into logs and the audit log verbatim, so
/// only short ids of letters, digits and `-_.:/+=` (UUIDs, ULIDs, trace ids, base64) are.
pub fn is_usable_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'='))
}

/// Removes a client request id that is too long or holds other characters, so the next layer
/// gives the request a fresh UUID instead of logging what the client wrote.
fn drop_unusable_request_id(mut req: Request) -> Request {
    let usable = req
        .headers()
        .get_all(REQUEST_ID)
        .iter()
        .map(|v| v.to_str().is_ok_and(is_usable_request_id))
        .collect::<Vec<_>>();
    if usable.len() > 1 || usable.iter().any(|ok| !ok) {
        req.headers_mut().remove(REQUEST_ID);
    }
    req
}

async fn record(service: &'static str, req: Request, next: axum::middleware::Next) -> impl IntoResponse {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "other".into());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    // The request span of `with_standard_layers` is the current one here.
    let span = tracing::Span::current();
    span.record("status", response.status().as_u16());
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    let labels = [
        ("service", service.to_owned()),
        ("path", path),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Serves `router` on `listener` until SIGTERM/Ctrl-C, letting requests in flight finish: over
/// TLS 1.3 when `tls` is given ([`crate::tls`]), plain HTTP otherwise. Handlers can read the
/// peer's address as `ConnectInfo<SocketAddr>` either way.
pub async fn serve(listener: tokio::net::TcpListener, router: Router, tls: Option<ServerTls>) -> std::io::Result<()> {
    serve_until(listener, router, tls, shutdown_signal()).await
}

/// [`serve`], stopping (gracefully) when `shutdown` resolves instead of on a signal.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %listener.local_addr()?, scheme, "listening");
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await,
        Some(tls) => {
            // The no-op tap is what gives a listener of our own axum's `ConnectInfo<SocketAddr>`.
            let listener = TlsListener::new(listener, &tls)?.tap_io(|_| {});
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
    }
}
