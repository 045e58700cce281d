//! Serving an MCP server: over stdio, or streamable HTTP (TLS 1.3 when a certificate is
//! configured) at `/mcp` with the platform's
//! operational routes (`/healthz`, `/readyz` — the gateway answers —, `/metrics`), request ids,
//! tracing, limits and graceful shutdown.
//!
//! Over HTTP a request to `/mcp` without a bearer token is refused with 401 before it reaches
//! the MCP layer (`WWW-Authenticate: Bearer`), so a client learns at once that it needs one;
//! the token itself is checked by the gateway on every call.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use promptsales_platform::service::{self, ReadyCheck};
use rmcp::{
    ServerHandler, ServiceExt,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use tokio_util::sync::CancellationToken;

use crate::{
    caller::{self, CallerError},
    config::{McpArgs, Transport},
    gateway::GatewayClient,
};

/// Largest MCP request body accepted over HTTP.
const BODY_LIMIT: usize = 256 * 1024;
/// How long one HTTP request may take to produce its response head.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the MCP session over stdio failed: {0}")]
    Stdio(String),
    #[error("TLS is misconfigured: {0}")]
    Tls(#[from] promptsales_platform::tls::TlsError),
}

/// The HTTP router of a server: `/mcp` (streamable HTTP; a new handler from `factory` per
/// session) and the operational routes. `cancel` ends every open MCP session.
pub fn http_router<S, F>(
    service_name: &'static str,
    args: &McpArgs,
    gateway: GatewayClient,
    factory: F,
    cancel: CancellationToken,
) -> Router
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(args.hosts())
        .with_cancellation_token(cancel);
    let mcp = StreamableHttpService::new(move || Ok(factory()), Arc::new(LocalSessionManager::default()), config);
    let mcp = Router::new()
        .nest_service("/mcp", mcp)
        .layer(axum::middleware::from_fn(require_bearer));
    let ready: ReadyCheck = Arc::new(move || {
        let gateway = gateway.clone();
        Box::pin(async move { gateway.ready().await })
    });
    let router = mcp.merge(service::operational_routes(ready));
    service::with_standard_layers(router, service_name, REQUEST_TIMEOUT, BODY_LIMIT)
}

async fn require_bearer(request: Request, next: Next) -> Response {
    match caller::bearer(request.headers()) {
        Ok(_) => next.run(request).await,
        Err(e) => {
            let challenge = match e {
                CallerError::NotBearer => r#"Bearer realm="promptsales", error="invalid_request""#,
                _ => r#"Bearer realm="promptsales""#,
            };
            let body = serde_json::json!({ "error": "unauthorized", "message": e.to_string() }).to_string();
            (
                StatusCode::UNAUTHORIZED,
                [
                    (header::WWW_AUTHENTICATE, challenge),
                    (header::CONTENT_TYPE, "application/json"),
                ],
                body,
            )
                .into_response()
        }
    }
}

/// Runs a server as `args` say: stdio, or HTTP on `args.port` (else `default_port`) until
/// SIGTERM/Ctrl-C.
pub async fn run<S, F>(
    service_name: &'static str,
    default_port: u16,
    args: &McpArgs,
    gateway: GatewayClient,
    factory: F,
) -> Result<(), ServeError>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    match args.transport {
        Transport::Stdio => {
            // stdout carries the protocol: logs go to stderr (platform::telemetry does so).
            tracing::info!(service = service_name, "serving MCP over stdio");
            let running = factory()
                .serve(rmcp::transport::stdio())
                .await
                .map_err(|e| ServeError::Stdio(e.to_string()))?;
            running.waiting().await.map_err(|e| ServeError::Stdio(e.to_string()))?;
            Ok(())
        }
        Transport::Http => {
            // TLS 1.3 when PROMPTSALES_TLS_CERT and PROMPTSALES_TLS_KEY name a certificate (as for
            // every other service), read before binding so a bad pair stops the server at once.
            let tls = promptsales_platform::tls::ServerTls::from_env()?;
            let address = std::net::SocketAddr::new(args.bind, args.port.unwrap_or(default_port));
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| ServeError::Bind(address, e))?;
            let cancel = CancellationToken::new();
            let router = http_router(service_name, args, gateway, factory, cancel.clone());
            let shutdown = async move {
                service::shutdown_signal().await;
                cancel.cancel();
            };
            service::serve_until(listener, router, tls, shutdown).await?;
            Ok(())
        }
    }
}
