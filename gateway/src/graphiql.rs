//! The GraphiQL page at `/`, served with its assets from the gateway itself: React, ReactDOM and
//! GraphiQL at versions pinned in `gateway/graphiql/package-lock.json`, installed by
//! `scripts/dev-services.sh` (`npm ci`) into `gateway/graphiql/node_modules`, whose folder
//! `http.graphiql_assets` names. Nothing comes from a CDN, so the page works offline and no
//! third party can change the code that runs next to a developer's token.
//!
//! The page and its start-up script carry no inline code, so the Content-Security-Policy allows
//! scripts from the gateway's own origin only (`script-src 'self'`), requests to it only
//! (`connect-src 'self'`) and nothing in frames. GraphiQL's editors set inline styles, hence
//! `style-src 'self' 'unsafe-inline'` (styles cannot run code).

use std::{path::PathBuf, sync::Arc};

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// The page's Content-Security-Policy.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>PromptSales GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <link rel="stylesheet" href="/graphiql/page.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>
"#;

const PAGE_CSS: &str = "html, body, #graphiql { height: 100%; margin: 0; }\n";

/// Mounts GraphiQL on the gateway's own `/graphql` (a relative URL: same origin, any scheme).
const START_JS: &str = r#"(function () {
  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();
"#;

/// The files of `node_modules` the page loads, by the name it loads them under.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "react.production.min.js",
        "react/umd/react.production.min.js",
        "text/javascript",
    ),
    (
        "react-dom.production.min.js",
        "react-dom/umd/react-dom.production.min.js",
        "text/javascript",
    ),
    ("graphiql.min.js", "graphiql/graphiql.min.js", "text/javascript"),
    ("graphiql.min.css", "graphiql/graphiql.min.css", "text/css"),
];

/// The page and its assets, from `assets` (a `node_modules` folder).
pub fn routes(assets: PathBuf) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/graphiql/{file}", get(asset))
        .with_state(Arc::new(assets))
}

fn with_headers(mut response: Response, cache: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

async fn page() -> Response {
    let response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response();
    with_headers(response, "no-cache")
}

async fn asset(State(assets): State<Arc<PathBuf>>, Path(file): Path<String>) -> Response {
    let fixed = match file.as_str() {
        "start.js" => Some((START_JS, "text/javascript")),
        "page.css" => Some((PAGE_CSS, "text/css")),
        _ => None,
    };
    if let Some((body, content_type)) = fixed {
        return with_headers(
            ([(header::CONTENT_TYPE, content_type)], body).into_response(),
            "no-cache",
        );
    }
    // Only the listed files: the name never reaches the file system as a path.
    let Some((_, path, content_type)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(assets.join(path)).await {
        // The versions are pinned: a day of caching is safe, and a new pin changes nothing else.
        Ok(bytes) => with_headers(
            ([(header::CONTENT_TYPE, *content_type)], bytes).into_response(),
            "public, max-age=86400",
        ),
        Err(e) => {
            tracing::warn!(file = %assets.join(path).display(), error = %e, "GraphiQL asset missing (run scripts/dev-services.sh)");
            (
                StatusCode::NOT_FOUND,
                "GraphiQL's assets are not installed: run scripts/dev-services.sh (npm ci in gateway/graphiql)",
            )
                .into_response()
        }
    }
}
