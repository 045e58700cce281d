//! `promptsales-memo-subgraphs`: "in-memory subgraphs" for gateway benchmarks.
//!
//! Listens on each `--route PORT=UPSTREAM_URL`. The first time a port sees a request body it
//! forwards the request (body, content type, accept and the `x-promptsales-claims` header) to the
//! upstream subgraph and, when the answer is a 2xx, memoizes its status, content type and body.
//! Every later request with the same body is answered from memory without touching the upstream.
//! After a warm-up that sends each benchmark query through a gateway, that gateway is measured
//! against fixed in-memory answers: no database, no subgraph resolvers, only the gateway's own
//! work (parse, plan, fetch, merge, serialise) and HTTP.
//!
//! The key is the request body alone: two gateways plan slightly different subgraph queries, so
//! each warms its own entries, and the claims header (signed per request by our gateway) does not
//! split them. `GET /stats` on any port returns hits, misses and entries per route as JSON; the
//! same is printed on SIGINT/SIGTERM.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::Context;
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use clap::Parser;
use promptsales_platform::claims;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(
    name = "promptsales-memo-subgraphs",
    about = "Memoizing pass-through subgraphs for gateway benchmarks"
)]
struct Args {
    /// `PORT=URL`: listen on PORT, forward first-seen bodies to URL; repeatable.
    #[arg(long = "route", required = true)]
    routes: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
}

/// One upstream subgraph and what it has answered so far.
struct Memo {
    port: u16,
    upstream: String,
    answers: RwLock<HashMap<Bytes, Arc<Answer>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Answer {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

#[derive(Clone)]
struct AppState {
    memo: Arc<Memo>,
    all: Arc<Vec<Arc<Memo>>>,
    client: reqwest::Client,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut memos = Vec::new();
    for route in &args.routes {
        let (port, upstream) = route
            .split_once('=')
            .with_context(|| format!("--route {route:?} is not PORT=URL"))?;
        memos.push(Arc::new(Memo {
            port: port
                .trim()
                .parse()
                .with_context(|| format!("--route {route:?}: port"))?,
            upstream: upstream.trim().to_owned(),
            answers: RwLock::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }));
    }
    let all = Arc::new(memos);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?
        .block_on(serve(args.host, all))
}

async fn serve(host: std::net::IpAddr, all: Arc<Vec<Arc<Memo>>>) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    for memo in all.iter() {
        let state = AppState {
            memo: Arc::clone(memo),
            all: Arc::clone(&all),
            client: client.clone(),
        };
        let app = Router::new()
            .route("/stats", get(stats))
            .route("/readyz", get(|| async { "ok" }))
            .fallback(answer)
            .with_state(state);
        let address = SocketAddr::new(host, memo.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        eprintln!("memo: {address} -> {}", memo.upstream);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("memo: serving {address}: {e}");
            }
        });
    }
    shutdown_signal().await;
    eprintln!("memo: stopping; {}", stats_json(&all));
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}

async fn answer(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let memo = &state.memo;
    let known = memo
        .answers
        .read()
        .expect("no thread panics holding the memo lock")
        .get(&body)
        .cloned();
    if let Some(answer) = known {
        memo.hits.fetch_add(1, Ordering::Relaxed);
        return respond(&answer);
    }
    memo.misses.fetch_add(1, Ordering::Relaxed);
    let mut request = state.client.post(&memo.upstream).body(body.clone());
    for name in [header::CONTENT_TYPE.as_str(), header::ACCEPT.as_str(), claims::HEADER] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    let upstream = async {
        let response = request.send().await?;
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>(Answer {
            status,
            content_type,
            body,
        })
    };
    match upstream.await {
        Ok(answer) => {
            let response = respond(&answer);
            // Only successes are kept: a refused or failed call must not freeze into the benchmark.
            if answer.status.is_success() {
                memo.answers
                    .write()
                    .expect("no thread panics holding the memo lock")
                    .insert(body, Arc::new(answer));
            }
            response
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            format!("memo: upstream {}: {e:#}", memo.upstream),
        )
            .into_response(),
    }
}

fn respond(answer: &Answer) -> Response {
    let mut response = (answer.status, answer.body.clone()).into_response();
    if let Some(content_type) = &answer.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    response
}

async fn stats(State(state): State<AppState>) -> Json<Value> {
    Json(stats_json(&state.all))
}

fn stats_json(all: &[Arc<Memo>]) -> Value {
    let routes: Vec<Value> = all
        .iter()
        .map(|memo| {
            json!({
                "port": memo.port,
                "upstream": memo.upstream,
                "hits": memo.hits.load(Ordering::Relaxed),
                "misses": memo.misses.load(Ordering::Relaxed),
                "entries": memo.answers.read().expect("no thread panics holding the memo lock").len(),
            })
        })
        .collect();
    let total = |field: &str| routes.iter().map(|r| r[field].as_u64().unwrap_or(0)).sum::<u64>();
    json!({ "hits": total("hits"), "misses": total("misses"), "entries": total("entries"), "routes": routes })
}
