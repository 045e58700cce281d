//! The fixture library: four small subgraphs (catalog, shipping, reviews, people) shaped to
//! exercise the corners of Federation v2 a gateway must get right: a covariant interface field,
//! `@requires` of fields with arguments (one field under two argument sets; a list field under
//! a limit the client also asks with another), `@inaccessible` enum values, object types, input
//! values and arguments, and entities whose key is null. Served in-process on port 0.
//!
//! `supergraph.graphql` is composed from the subgraphs' SDL with the project's pinned composer;
//! after a change, regenerate it with
//! `UPDATE_FIXTURE_SUPERGRAPH=1 cargo test -p promptsales-gateway --test federation supergraph`.
#![allow(dead_code)]

pub mod catalog;
pub mod people;
pub mod reviews;
pub mod shipping;

use std::{
    collections::HashMap,
    io::Write,
    path::PathBuf,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};

use async_graphql::Executor;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Json, Router,
    body::Body,
    extract::State,
    http::{Request, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use promptsales_gateway::{Gateway, Options, config::HttpOptions};
use promptsales_platform::claims::ClaimsKey;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const SUPERGRAPH: &str = include_str!("supergraph.graphql");
pub const NAMES: [&str; 4] = ["catalog", "people", "reviews", "shipping"];

pub fn sdl(name: &str) -> String {
    let options = async_graphql::SDLExportOptions::new().federation();
    match name {
        "catalog" => catalog::schema().sdl_with_options(options),
        "people" => people::schema().sdl_with_options(options),
        "reviews" => reviews::schema().sdl_with_options(options),
        "shipping" => shipping::schema().sdl_with_options(options),
        other => panic!("no library subgraph {other}"),
    }
}

/// Composes `subgraphs` (name, SDL) with the project's pinned composer (`supergraph/compose.mjs`).
pub fn compose_sdls(subgraphs: &[(&str, String)]) -> Result<String, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../supergraph");
    let subgraphs: Vec<Value> = subgraphs
        .iter()
        .map(|(n, sdl)| json!({ "name": n, "url": format!("http://{n}.fixture/graphql"), "sdl": sdl }))
        .collect();
    let mut child = Command::new("node")
        .arg("compose.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (install Node.js 20+ and `npm ci` in supergraph/)");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(json!({ "subgraphs": subgraphs }).to_string().as_bytes())
        .expect("write to node");
    let out = child.wait_with_output().expect("node finishes");
    let parsed: Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("composer failed: {}", String::from_utf8_lossy(&out.stderr)))?;
    match parsed.get("supergraph").and_then(Value::as_str) {
        Some(s) => Ok(s.to_owned()),
        None => Err(format!("composition failed: {parsed:#}")),
    }
}

pub fn compose() -> String {
    let sdls: Vec<(&str, String)> = NAMES.iter().map(|n| (*n, sdl(n))).collect();
    compose_sdls(&sdls).unwrap_or_else(|e| panic!("{e}"))
}

/// The entity representations one subgraph request carried (every variable holding a list of
/// objects with a `__typename`).
#[derive(Debug, Clone)]
pub struct Seen {
    pub subgraph: &'static str,
    pub representations: Vec<Value>,
}

#[derive(Clone)]
struct SubgraphState<E> {
    name: &'static str,
    executor: E,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// The key fields `people` insists on, per type.
fn strict_key(typename: &str) -> Option<&'static str> {
    match typename {
        "Person" => Some("handle"),
        "Review" => Some("id"),
        _ => None,
    }
}

async fn handle<E: Executor + Clone>(State(state): State<SubgraphState<E>>, request: GraphQLRequest) -> Response {
    let request = request.into_inner();
    let variables = serde_json::to_value(&request.variables).unwrap_or(Value::Null);
    let representations: Vec<Value> = variables
        .as_object()
        .into_iter()
        .flat_map(|v| v.values())
        .filter_map(Value::as_array)
        .filter(|list| list.iter().all(|r| r.get("__typename").is_some()))
        .flatten()
        .cloned()
        .collect();
    state.seen.lock().expect("lock").push(Seen {
        subgraph: state.name,
        representations: representations.clone(),
    });
    if state.name == "people" {
        for (i, rep) in representations.iter().enumerate() {
            let typename = rep.get("__typename").and_then(Value::as_str).unwrap_or_default();
            if let Some(key) = strict_key(typename)
                && !rep.get(key).is_some_and(Value::is_string)
            {
                let message = format!("representation {i} ({typename}) has no {key}: the batch is refused");
                return (
                    StatusCode::OK,
                    Json(json!({ "data": null, "errors": [{ "message": message }] })),
                )
                    .into_response();
            }
        }
    }
    GraphQLResponse::from(state.executor.execute(request).await).into_response()
}

async fn spawn<E: Executor + Clone>(name: &'static str, executor: E, seen: &Arc<Mutex<Vec<Seen>>>) -> String {
    let state = SubgraphState {
        name,
        executor,
        seen: seen.clone(),
    };
    let app = Router::new().route("/graphql", post(handle::<E>)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// The four library subgraphs and the gateway in front of them.
pub struct Library {
    pub gateway: Arc<Gateway>,
    pub router: Router,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Subgraph name → URL.
    pub urls: HashMap<String, String>,
}

impl Library {
    pub async fn start() -> Library {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut urls = HashMap::new();
        urls.insert("catalog".to_owned(), spawn("catalog", catalog::schema(), &seen).await);
        urls.insert("people".to_owned(), spawn("people", people::schema(), &seen).await);
        urls.insert("reviews".to_owned(), spawn("reviews", reviews::schema(), &seen).await);
        urls.insert(
            "shipping".to_owned(),
            spawn("shipping", shipping::schema(), &seen).await,
        );
        let options = Options {
            subgraph_urls: urls.clone(),
            introspection: true,
            ..Options::default()
        };
        let gateway = Arc::new(Gateway::new(SUPERGRAPH, options).expect("the library supergraph loads"));
        let router = promptsales_gateway::server::router(gateway.clone(), ClaimsKey::random(), HttpOptions::default());
        Library {
            gateway,
            router,
            seen,
            urls,
        }
    }

    /// The representations sent to `subgraph` so far.
    pub fn representations(&self, subgraph: &str) -> Vec<Value> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s.subgraph == subgraph)
            .flat_map(|s| s.representations.clone())
            .collect()
    }

    pub async fn query(&self, query: &str) -> Value {
        self.query_with(query, Value::Null).await
    }

    /// POSTs an operation; the status and the body.
    pub async fn post(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let body = json!({ "query": query, "variables": variables });
        let response = self
            .router
            .clone()
            .oneshot(
                Request::post("/graphql")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("a JSON body"))
    }

    pub async fn query_with(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(query, variables).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}
