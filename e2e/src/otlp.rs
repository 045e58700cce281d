//! A local OTLP/HTTP trace receiver for tests: it answers `POST /v1/traces` as a collector does,
//! keeps the protobuf bodies the exporter of `platform::telemetry` sends, and decodes them into
//! spans, so a test can check how the spans of one request hang together.

use std::sync::{Arc, Mutex};

use axum::{Router, body::Bytes, extract::State, routing::post};
pub use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{KeyValue, any_value::Value as AnyValue},
};
use prost::Message as _;

/// The receiver: its base URL (for `TraceExport::endpoint`) and what it received.
pub struct Receiver {
    pub endpoint: String,
    received: Arc<Mutex<Vec<Bytes>>>,
}

impl Receiver {
    /// Serves on a free loopback port until the test ends.
    pub async fn start() -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(
                "/v1/traces",
                post(|State(store): State<Arc<Mutex<Vec<Bytes>>>>, body: Bytes| async move {
                    store.lock().expect("receiver lock").push(body);
                    ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
                }),
            )
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve the receiver") });
        Receiver {
            endpoint: format!("http://{addr}"),
            received,
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.received
            .lock()
            .expect("receiver lock")
            .iter()
            .map(|body| ExportTraceServiceRequest::decode(body.as_ref()).expect("an OTLP protobuf body"))
            .flat_map(|request| request.resource_spans)
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
            .collect()
    }

    /// Every span received so far whose trace id is `trace_id` (hex).
    pub fn spans_of(&self, trace_id: &str) -> Vec<Span> {
        self.spans()
            .into_iter()
            .filter(|s| hex(&s.trace_id) == trace_id)
            .collect()
    }
}

/// A string attribute of `span`.
pub fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|KeyValue { key: k, .. }| k == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Lower-case hex of an id.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that the spans form one tree under the caller's span `root` (hex span id): every span's
/// chain of parents reaches `root` through spans of the same trace, without cycles.
pub fn assert_one_tree(spans: &[Span], root: &str) {
    let by_id: std::collections::HashMap<String, &Span> = spans.iter().map(|s| (hex(&s.span_id), s)).collect();
    for span in spans {
        let mut at: &Span = span;
        let mut hops = 0;
        while hex(&at.parent_span_id) != root {
            at = by_id
                .get(&hex(&at.parent_span_id))
                .copied()
                .unwrap_or_else(|| panic!("{} has a parent outside the trace", span.name));
            hops += 1;
            assert!(hops < spans.len(), "a cycle of parents through {}", span.name);
        }
    }
}
