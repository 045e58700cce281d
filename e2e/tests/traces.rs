//! One client request is one trace: the gateway's request span joins the caller's W3C
//! `traceparent`, each subgraph fetch is a child span of it, and each subgraph's request span is
//! a child of the fetch that called it. The spans travel the way a deployment's do: the OTLP
//! HTTP/protobuf exporter of `platform::telemetry` sends them to a local receiver when the
//! telemetry guard shuts down (the flush a stopping process does), and the test decodes what
//! arrived.

use std::collections::{BTreeSet, HashMap};

use promptsales_e2e::{
    SUBGRAPHS, TestStack,
    otlp::{Receiver, Span, assert_one_tree, attribute, hex},
};
use promptsales_platform::telemetry::{self, TraceExport};
use serde_json::json;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID: &str = "00f067aa0ba902b7";

/// A query that needs every subgraph: a campaign (ads) with its sales (crm), content requests
/// (content) and summary (sales).
const PAGE: &str = r#"
query($id: ID!) {
  campaign(id: $id) {
    id
    name
    salesCount
    contentRequests { id }
    summary { salesCount }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn should_make_one_trace_of_a_request_across_gateway_and_subgraphs() {
    let receiver = Receiver::start().await;
    let export = TraceExport {
        endpoint: Some(receiver.endpoint.clone()),
        ..TraceExport::default()
    };
    // Logs at warn: the spans are exported at info whatever the log filter says.
    let guard = telemetry::install("e2e", "warn", &export).expect("the OTLP exporter starts");
    assert!(guard.exporting(), "this test binary installs the only subscriber");

    let stack = TestStack::builder().start().await;
    let ids = stack
        .direct("ads", "{ campaigns(first: 1) { edges { node { id } } } }", json!({}))
        .await;
    let id = ids["data"]["campaigns"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("a seeded campaign")
        .to_owned();
    let response = reqwest::Client::new()
        .post(stack.gateway_url())
        .header("accept", "application/graphql-response+json")
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01"))
        .json(&json!({ "query": PAGE, "variables": { "id": id } }))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["campaign"]["id"].is_string(), "{body}");

    // What a stopping process does: export everything still buffered, then stop.
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    let spans = receiver.spans_of(TRACE_ID);
    let by_id: HashMap<String, &Span> = spans.iter().map(|s| (hex(&s.span_id), s)).collect();
    let parent = |s: &Span| hex(&s.parent_span_id);

    // The gateway's request span continues the caller's span.
    let requests: Vec<&Span> = spans.iter().filter(|s| attribute(s, "service").is_some()).collect();
    let gateway: Vec<&&Span> = requests
        .iter()
        .filter(|s| attribute(s, "service") == Some("gateway"))
        .collect();
    assert_eq!(gateway.len(), 1, "one gateway request span in the trace: {spans:#?}");
    let gateway = gateway[0];
    assert_eq!(parent(gateway), CALLER_SPAN_ID);
    assert_eq!(gateway.name, "POST /graphql");
    let gateway_id = hex(&gateway.span_id);

    // Each fetch is a child of the gateway's request span.
    let fetches: Vec<&Span> = spans.iter().filter(|s| attribute(s, "subgraph").is_some()).collect();
    assert!(!fetches.is_empty(), "no fetch span in the trace: {spans:#?}");
    for fetch in &fetches {
        assert_eq!(parent(fetch), gateway_id, "{fetch:#?}");
    }

    // Each subgraph's request span is a child of a fetch of the gateway to that subgraph, and
    // every subgraph took part.
    let mut seen = BTreeSet::new();
    for request in requests.iter().filter(|s| attribute(s, "service") != Some("gateway")) {
        let service = attribute(request, "service").expect("filtered on it");
        let caller = by_id
            .get(&parent(request))
            .unwrap_or_else(|| panic!("the parent of {service}'s request span is not in the trace: {request:#?}"));
        assert_eq!(attribute(caller, "subgraph"), Some(service), "{caller:#?}");
        seen.insert(service.to_owned());
    }
    let all: BTreeSet<String> = SUBGRAPHS.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(seen, all);

    // One tree: every span of the trace hangs from the caller's span through spans of the trace.
    assert_one_tree(&spans, CALLER_SPAN_ID);
}
