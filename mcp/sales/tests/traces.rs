//! One tool call is one trace: a client (the Python MCP SDK over streamable HTTP) sends its own
//! `traceparent`; the server's span for the tool call continues that trace, every gateway request
//! the call makes names the tool call's span as its parent, and the gateway and the subgraphs go
//! on from there. The spans are exported over OTLP to a local receiver when the telemetry guard
//! shuts down, as a stopping process flushes them.

mod common;

use common::*;
use promptsales_e2e::otlp::{Receiver, Span, assert_one_tree, attribute, hex};
use promptsales_platform::telemetry::{self, TraceExport};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN_ID: &str = "b7ad6b7169203331";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn should_continue_the_clients_trace_through_the_gateway_and_the_subgraphs() {
    let python = python();
    let receiver = Receiver::start().await;
    let export = TraceExport {
        endpoint: Some(receiver.endpoint.clone()),
        ..TraceExport::default()
    };
    let guard = telemetry::install("mcp-sales-test", "warn", &export).expect("the OTLP exporter starts");
    assert!(guard.exporting(), "this test binary installs the only subscriber");

    let stack = stack().await;
    let token = stack.token("traced-user", SCOPES, None);
    let (addr, cancel) = serve_http(&stack).await;

    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script())
        .arg("http")
        .arg(format!("http://{addr}/mcp"))
        .arg(&token)
        .env("MCP_TRACEPARENT", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"));
    let out = run_client(cmd).await;
    assert_eq!(out["is_error"], false, "{out}");
    cancel.cancel();

    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    let spans = receiver.spans_of(TRACE_ID);
    let parent = |s: &Span| hex(&s.parent_span_id);

    // The tool call's span continues the client's span.
    let calls: Vec<&Span> = spans.iter().filter(|s| attribute(s, "mcp.tool").is_some()).collect();
    assert_eq!(calls.len(), 1, "one tool call span in the trace: {spans:#?}");
    let call = calls[0];
    assert_eq!(call.name, "tools/call sales.ask");
    assert_eq!(parent(call), CALLER_SPAN_ID);
    let call_id = hex(&call.span_id);

    // The gateway requests of the call (the question's queries and the usage record) are its
    // children.
    let gateway: Vec<&Span> = spans
        .iter()
        .filter(|s| attribute(s, "service") == Some("gateway"))
        .collect();
    assert!(
        gateway.len() >= 2,
        "the question's query and the usage record reach the gateway in this trace: {spans:#?}"
    );
    for request in &gateway {
        assert_eq!(parent(request), call_id, "{request:#?}");
    }

    // The subgraphs took part in the same trace: ads answered the question, sales stored the record.
    let services: std::collections::BTreeSet<&str> = spans.iter().filter_map(|s| attribute(s, "service")).collect();
    for service in ["ads", "sales"] {
        assert!(
            services.contains(service),
            "{service} is not in the trace: {services:?}"
        );
    }
    assert_one_tree(&spans, CALLER_SPAN_ID);
}
