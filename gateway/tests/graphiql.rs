//! The GraphiQL page in a real browser: Debian's `chromium`, headless, with every host but the
//! gateway's unresolvable (so nothing can come from a CDN), loads the page served with its
//! Content-Security-Policy from the pinned assets (`npm ci` in `gateway/graphiql`, done by
//! scripts/dev-services.sh, which also installs chromium), renders GraphiQL and runs its schema
//! query against the gateway.

mod fixtures;

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use axum::{
    body::Body,
    extract::Request,
    http::header,
    middleware::{self, Next},
    response::Response,
};
use fixtures::Stack;
use promptsales_gateway::{config::HttpOptions, server};

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("graphiql/node_modules")
}

/// The `/graphql` requests the browser sent: (user agent, body).
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn serve(stack: &Stack, seen: Seen) -> SocketAddr {
    let http = HttpOptions {
        graphiql_assets: assets(),
        ..HttpOptions::default()
    };
    let router = server::router(stack.gateway.clone(), stack.key.clone(), http).layer(middleware::from_fn(
        move |request: Request, next: Next| {
            let seen = seen.clone();
            async move {
                if request.uri().path() != "/graphql" {
                    return next.run(request).await;
                }
                let agent = request
                    .headers()
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
                seen.lock()
                    .expect("lock")
                    .push((agent, String::from_utf8_lossy(&bytes).into_owned()));
                let response: Response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
                response
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn should_render_graphiql_from_local_assets_under_its_csp_and_query_the_gateway_in_chromium() {
    assert!(
        assets().join("graphiql/graphiql.min.js").is_file(),
        "GraphiQL's pinned assets are missing: run scripts/dev-services.sh (npm ci in gateway/graphiql)"
    );
    let chromium = which("chromium").expect("chromium is missing: scripts/dev-services.sh installs it with apt-get");
    let stack = Stack::start().await;
    let seen: Seen = Arc::default();
    let addr = serve(&stack, seen.clone()).await;
    let profile = tempfile::tempdir().expect("a fresh profile");
    let url = format!("http://{addr}/");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                // Offline but for the gateway: a CDN reference could not load.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--virtual-time-budget=20000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(&url)
            .output()
            .expect("chromium runs")
    })
    .await
    .expect("joined");
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("graphiql-container"),
        "GraphiQL rendered; stderr: {}\nDOM: {}",
        String::from_utf8_lossy(&output.stderr),
        &dom[..dom.len().min(2000)]
    );
    assert!(!dom.contains("Loading GraphiQL"), "the start script ran");
    let seen = seen.lock().expect("lock");
    assert!(
        seen.iter()
            .any(|(agent, body)| agent.contains("HeadlessChrome") && body.contains("__schema")),
        "the browser ran GraphiQL's schema query against the gateway: {seen:?}"
    );
}

#[tokio::test]
async fn should_serve_the_page_with_a_csp_that_allows_only_the_gateways_own_scripts() {
    let mut stack = Stack::start().await;
    let http = HttpOptions {
        graphiql_assets: assets(),
        ..HttpOptions::default()
    };
    stack.router = server::router(stack.gateway.clone(), stack.key.clone(), http);
    let (status, headers, body) = stack
        .send(axum::http::Request::get("/").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-eval") && !csp.contains("http"), "{csp}");
    let page = body.as_str().expect("html");
    assert!(!page.contains("https://"), "no CDN reference: {page}");
    assert!(!page.contains("<script>"), "no inline script: {page}");
    let (status, headers, _) = stack
        .send(
            axum::http::Request::get("/graphiql/graphiql.min.js")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/javascript");
    let (status, _, _) = stack
        .send(
            axum::http::Request::get("/graphiql/..%2F..%2FCargo.toml")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, 404, "only the listed assets");
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(program))
        .find(|p| p.is_file())
}
