//! One logging and tracing set-up for every binary.
//!
//! Logs: `RUST_LOG` filters, `LOG_FORMAT=text|json` picks the shape, stderr.
//!
//! Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) names a
//! collector, the `tracing` spans at `info` and above (`PROMPTSALES_TRACES_FILTER`) are exported to it over OTLP
//! (HTTP/protobuf) in batches; with neither set, nothing is exported and nothing is sent. The other
//! standard variables apply as the OpenTelemetry SDK reads them: `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_BSP_*`,
//! `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` and `…_TIMEOUT`; `OTEL_SDK_DISABLED=true` or
//! `OTEL_TRACES_EXPORTER=none` turn the export off. An `https` collector is trusted through the
//! web roots, `OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE` and the `PROMPTSALES_TLS_CA` bundle
//! (the cluster's CA), like every other client of ours.
//!
//! Trace context travels as W3C `traceparent`/`tracestate`: [`join_remote_parent`] makes a
//! server's request span a child of the caller's span, [`trace_headers`] names a span to the next
//! service. The [`Telemetry`] guard that [`init`] returns flushes the spans still buffered when it
//! is dropped (or [`Telemetry::shutdown`]), so a process that stops loses none of them.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use opentelemetry::{
    propagation::TextMapPropagator,
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Why traces could not be set up as configured.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("the OTLP trace exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("the OTLP exporter's HTTP client: {0}")]
    Client(String),
    #[error("the CA certificates the OTLP exporter trusts: {0}")]
    Roots(#[from] crate::tls::TlsError),
    #[error("{name}={value:?} is not supported: traces are exported over OTLP HTTP/protobuf only")]
    Protocol { name: &'static str, value: String },
}

/// Where and how spans are exported.
#[derive(Debug, Clone)]
pub struct TraceExport {
    /// The collector's base URL (`/v1/traces` is appended) or, when `signal_endpoint` is set,
    /// the full URL of its trace endpoint. `None`: no export.
    pub endpoint: Option<String>,
    /// Whether [`TraceExport::endpoint`] is already the full trace URL
    /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), used as it is.
    pub signal_endpoint: bool,
    /// Extra CA certificates (PEM files) trusted for an `https` collector.
    pub ca_files: Vec<PathBuf>,
    /// How long one export may take.
    pub timeout: Duration,
    /// Which spans are exported, as an `EnvFilter` directive: the request spans and our store
    /// spans are at `info`. Apart from `RUST_LOG`, so logs can be quiet while traces stay whole.
    pub filter: String,
}

/// The variable for [`TraceExport::filter`]; `info` when unset.
pub const TRACES_FILTER_ENV: &str = "PROMPTSALES_TRACES_FILTER";

impl Default for TraceExport {
    fn default() -> TraceExport {
        TraceExport {
            endpoint: None,
            signal_endpoint: false,
            ca_files: Vec::new(),
            timeout: Duration::from_secs(10),
            filter: "info".into(),
        }
    }
}

impl TraceExport {
    /// From the standard OpenTelemetry variables (see the module documentation).
    pub fn from_env() -> Result<TraceExport, TelemetryError> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let off = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let Some(value) = var(name) {
                if value != "http/protobuf" {
                    return Err(TelemetryError::Protocol { name, value });
                }
                break;
            }
        }
        let (endpoint, signal_endpoint) = match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            _ if off => (None, false),
            (Some(url), _) => (Some(url), true),
            (None, Some(url)) => (Some(url), false),
            (None, None) => (None, false),
        };
        let ca_files = [
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ]
        .into_iter()
        .find_map(var)
        .map(PathBuf::from)
        .into_iter()
        .collect();
        let timeout = ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"]
            .into_iter()
            .find_map(|name| var(name)?.parse().ok())
            .map_or(Duration::from_secs(10), Duration::from_millis);
        Ok(TraceExport {
            endpoint,
            signal_endpoint,
            ca_files,
            timeout,
            filter: var(TRACES_FILTER_ENV).unwrap_or_else(|| "info".into()),
        })
    }
}

/// Keeps the trace pipeline alive; dropping it (or [`Telemetry::shutdown`]) exports the spans
/// still buffered and stops the exporter. Hold it for the whole of `main`.
#[must_use = "dropping the guard stops the trace export: keep it until the process ends"]
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is buffered and stops the exporter (blocks up to the export timeout; call it
    /// off the async workers, or at the end of `main`).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(provider) = self.provider.take() {
            TRACING.store(false, Ordering::Relaxed);
            if let Err(e) = provider.shutdown() {
                // The subscriber may still print this; the collector being away is no reason to fail.
                tracing::warn!(error = %e, "flushing the last spans to the collector failed");
            }
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Installs the global subscriber for the process `service` (its `service.name` unless
/// `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` name another) with logs filtered by
/// `RUST_LOG`, else `default_filter`, and traces as the environment configures them.
///
/// Safe to call more than once: a later call, once a subscriber is installed, installs nothing
/// and exports nothing.
pub fn init(service: &'static str, default_filter: &str) -> Result<Telemetry, TelemetryError> {
    // Logs first, so a bad trace configuration is reported through them.
    match TraceExport::from_env() {
        Ok(export) => install(service, default_filter, &export),
        Err(e) => {
            let _ = install(service, default_filter, &TraceExport::default());
            Err(e)
        }
    }
}

/// [`init`] with the export settings given rather than read from the environment (tests).
pub fn install(service: &'static str, default_filter: &str, export: &TraceExport) -> Result<Telemetry, TelemetryError> {
    let provider = match &export.endpoint {
        Some(endpoint) => Some(provider(service, endpoint, export)?),
        None => None,
    };
    let log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = if json {
        fmt::layer().json().with_writer(std::io::stderr).boxed()
    } else {
        fmt::layer().with_writer(std::io::stderr).boxed()
    };
    let traces = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("promptsales"))
            .with_filter(EnvFilter::new(&export.filter))
    });
    let installed = tracing_subscriber::registry()
        .with(logs.with_filter(log_filter))
        .with(traces)
        .try_init();
    if installed.is_err() {
        // Another subscriber is in charge: spans never reach this provider, so it has no use.
        if let Some(provider) = provider {
            let _ = provider.shutdown();
        }
        return Ok(Telemetry { provider: None });
    }
    if let Some(endpoint) = &export.endpoint {
        TRACING.store(true, Ordering::Relaxed);
        tracing::info!(endpoint, "exporting traces over OTLP");
    }
    Ok(Telemetry { provider })
}

/// Set while spans are exported: propagation work is skipped when nobody would see it.
static TRACING: AtomicBool = AtomicBool::new(false);

/// Whether this process exports traces (so trace context is worth reading and writing).
pub fn tracing_enabled() -> bool {
    TRACING.load(Ordering::Relaxed)
}

fn provider(service: &'static str, endpoint: &str, export: &TraceExport) -> Result<SdkTracerProvider, TelemetryError> {
    let url = if export.signal_endpoint {
        endpoint.to_owned()
    } else {
        format!("{}/v1/traces", endpoint.trim_end_matches('/'))
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(http_client(export)?)
        .with_endpoint(url)
        .with_timeout(export.timeout)
        .build()?;
    let resource = Resource::builder().build();
    let named = resource
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let resource = if named {
        resource
    } else {
        Resource::builder().with_service_name(service).build()
    };
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The exporter's client: reqwest's blocking client, since the batch exporter sends from a thread
/// of its own (outside Tokio). It trusts the web roots plus our CA bundle and the OTLP
/// certificate, so a collector with a certificate of the cluster's CA is verified, never skipped.
fn http_client(export: &TraceExport) -> Result<reqwest::blocking::Client, TelemetryError> {
    let mut roots = crate::tls::extra_roots_from_env()?;
    for file in &export.ca_files {
        roots.extend(crate::tls::read_certificates(file)?);
    }
    let mut builder = reqwest::blocking::Client::builder().timeout(export.timeout);
    for root in roots {
        let cert = reqwest::Certificate::from_der(&root).map_err(|e| TelemetryError::Client(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    // Built on a thread of its own: the blocking client starts (and on error drops) a runtime,
    // which Tokio forbids on one of its workers, and `init` may run on one.
    std::thread::spawn(move || builder.build())
        .join()
        .map_err(|_| TelemetryError::Client("building it panicked".into()))?
        .map_err(|e| TelemetryError::Client(e.to_string()))
}

/// Makes `span` a child of the span a caller named in its `traceparent` (and `tracestate`)
/// headers, so the caller's trace goes on here. Does nothing without a valid `traceparent` or
/// when traces are off.
pub fn join_remote_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    if !tracing_enabled() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if parent.span().span_context().is_remote() {
        // A span that traces do not record (filtered out) has no parent to set.
        let _ = span.set_parent(parent);
    }
}

/// `request` with the W3C trace context of the current span (`traceparent`, and `tracestate` when
/// there is one), so the service it calls continues this trace: what the gateway does for its
/// subgraphs, for the processes that call the gateway (MCP servers, the worker). Unchanged when
/// traces are off.
pub fn propagate(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match trace_headers(&tracing::Span::current()) {
        Some((parent, state)) => {
            let request = request.header("traceparent", parent);
            match state {
                Some(state) => request.header("tracestate", state),
                None => request,
            }
        }
        None => request,
    }
}

/// The W3C trace context naming `span`: its `traceparent` and, when there is one, `tracestate`.
/// `None` when traces are off (the span has no OpenTelemetry context).
pub fn trace_headers(span: &tracing::Span) -> Option<(String, Option<String>)> {
    if !tracing_enabled() {
        return None;
    }
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut headers = http::HeaderMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(&mut headers));
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Some((value("traceparent")?, value("tracestate")))
}
