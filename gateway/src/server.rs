//! The HTTP front, per the GraphQL-over-HTTP spec: `POST /graphql` (JSON), `GET /graphql` (query
//! parameters; queries only), `application/graphql-response+json` with 200 for executed requests,
//! 400 for documents that do not parse or validate, 405 for mutations over GET and 415 for other
//! content types; GraphiQL at `/`, and the operational routes of `platform::service`. Requests
//! a browser could send cross-site without a preflight are refused first (CSRF prevention, see
//! [`crate::browser`]), and CORS is answered for the configured origins only.
//!
//! With an [`Authenticator`], each request's bearer token is validated first ([`crate::auth`]):
//! a refused token gets 401 with a `WWW-Authenticate` challenge, a valid one's subject, scopes
//! and organization are what the subgraphs receive in the signed claims header and what
//! `@requiresScopes` is checked against. Without one, every caller is anonymous with
//! `http.anonymous_scopes`.
//!
//! With an [`AuditLog`], every mutation and every query whose response carried decrypted PII is
//! handed to the audit log ([`crate::audit`]) without waiting for it. The client address is the
//! peer's, when the server runs with `into_make_service_with_connect_info::<SocketAddr>()`.
//!
//! Every request runs on the gateway the [`SharedGateway`] holds when it starts, so a supergraph
//! reload ([`Reloader`]) never disturbs requests in flight.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use async_graphql::http::GraphiQLSource;
use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, FromRequestParts, Query, State},
    http::{HeaderMap, HeaderName, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Response as HttpResponse},
    routing::get,
};
use promptsales_platform::{
    claims::{Claims, ClaimsKey},
    service::{self, REQUEST_ID},
};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::reload::{ReloadError, Reloader, SharedGateway};
use crate::{
    audit::{self, AuditLog, Refusal, RequestFacts},
    auth::{AuthError, Authenticator, Caller},
    browser,
    config::HttpOptions,
    fetch::FetchContext,
    gateway::{Outcome, Request},
    response::{GraphqlError, Response},
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[derive(Clone)]
struct AppState {
    gateway: SharedGateway,
    key: ClaimsKey,
    /// `None`: authentication is off, every caller is anonymous.
    auth: Option<Arc<Authenticator>>,
    /// The scopes of callers without a token.
    scopes: Arc<Vec<String>>,
    /// The headers that let a simple request through; `None` when CSRF prevention is off.
    csrf: Option<Arc<[HeaderName]>>,
    /// `None`: nothing is audited.
    audit: Option<AuditLog>,
}

/// What the router adds to planning and execution; `Default` is none of it.
#[derive(Default, Clone)]
pub struct Services {
    /// Validates bearer tokens. `None`: every caller is anonymous.
    pub auth: Option<Arc<Authenticator>>,
    /// Receives the audit records. `None`: nothing is audited.
    pub audit: Option<AuditLog>,
}

/// The peer's address, when the server provides it.
struct Peer(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Peer, Self::Rejection> {
        // Absent (not an error) when the server runs without connect info.
        let info = ConnectInfo::<SocketAddr>::from_request_parts(parts, state).await.ok();
        Ok(Peer(info.map(|ConnectInfo(addr)| addr.ip())))
    }
}

/// The gateway's router with the standard layers and, when origins are configured, CORS.
/// `gateway` is an `Arc<Gateway>` for a fixed supergraph or a [`Reloader::gateway`] cell.
///
/// `options` should have passed [`HttpOptions::validate`] (as [`crate::config::FileConfig::load`]
/// does); entries that do not are left out and logged, which closes rather than opens: an
/// unusable origin gets no CORS, an unusable CSRF header name lets no request through.
pub fn router(gateway: impl Into<SharedGateway>, key: ClaimsKey, options: HttpOptions) -> Router {
    router_with_auth(gateway, key, options, None)
}

/// [`router`], with bearer tokens validated by `auth` (`None`: every caller is anonymous).
pub fn router_with_auth(
    gateway: impl Into<SharedGateway>,
    key: ClaimsKey,
    options: HttpOptions,
    auth: Option<Arc<Authenticator>>,
) -> Router {
    router_with_services(gateway, key, options, Services { auth, audit: None })
}

/// [`router`], with the optional [`Services`].
pub fn router_with_services(
    gateway: impl Into<SharedGateway>,
    key: ClaimsKey,
    options: HttpOptions,
    services: Services,
) -> Router {
    let Services { auth, audit } = services;
    let csrf = options.csrf_prevention.then(|| {
        let names: Vec<HeaderName> = options
            .csrf_required_headers
            .iter()
            .filter_map(|h| {
                HeaderName::try_from(h.trim())
                    .inspect_err(|_| tracing::error!(header = %h, "csrf_required_headers: not a header name; ignored"))
                    .ok()
            })
            .collect();
        Arc::from(names)
    });
    let state = AppState {
        gateway: gateway.into(),
        key,
        auth,
        scopes: Arc::new(options.anonymous_scopes.clone()),
        csrf,
        audit,
    };
    let mut router = Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .with_state(state);
    if options.graphiql {
        let page = GraphiQLSource::build()
            .endpoint("/graphql")
            .title("PromptSales")
            .finish();
        router = router.route("/", get(move || async move { Html(page) }));
    }
    // The router exists only once the supergraph is loaded and planned over; a subgraph being
    // down never makes the gateway unready (it answers with partial data instead).
    let ready: service::ReadyCheck = Arc::new(|| Box::pin(async { Ok(()) }));
    let router = router.merge(service::operational_routes(ready));
    let router = service::with_standard_layers(
        router,
        "gateway",
        Duration::from_secs(options.request_timeout_secs),
        options.max_body_bytes,
    );
    // Outermost, so that refusals of the inner layers (413, 504) still reach the page that
    // sent the request instead of surfacing as opaque CORS failures.
    browser::with_cors(router, &options)
}

/// The CSRF refusal for this request, if it gets one.
fn csrf(state: &AppState, headers: &HeaderMap, legacy: bool) -> Option<HttpResponse> {
    let required = state.csrf.as_deref()?;
    // Always 400, also for legacy JSON clients: the request was not well-formed for us.
    browser::csrf_refusal(required, headers).map(|outcome| respond_with_status(outcome, legacy, true))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

async fn get_graphql(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> HttpResponse {
    let legacy = wants_legacy_json(&headers);
    if let Some(refusal) = csrf(&state, &headers, legacy) {
        audit_refusal(&state, &headers, peer, Refusal::Csrf);
        return refusal;
    }
    let caller = match authenticate(&state, &headers).await {
        Ok(c) => c,
        Err(refusal) => {
            audit_refusal(&state, &headers, peer, Refusal::Unauthenticated(refusal.kind()));
            return unauthorized(&refusal, legacy);
        }
    };
    let parse = |s: Option<String>, what: &str| -> Result<Option<Map<String, Value>>, Outcome> {
        match s.filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s)
                .map(Some)
                .map_err(|_| bad_request(format!("{what} is not a JSON object"))),
        }
    };
    let request = match (
        parse(params.variables, "variables"),
        parse(params.extensions, "extensions"),
    ) {
        (Ok(variables), Ok(extensions)) => Request {
            query: params.query,
            operation_name: params.operation_name,
            variables,
            extensions,
        },
        (Err(o), _) | (_, Err(o)) => return respond(o, legacy),
    };
    let outcome = run(&state, &headers, request, false, caller, peer).await;
    respond(outcome, legacy)
}

async fn post_graphql(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let legacy = wants_legacy_json(&headers);
    // Before the media type check, so a form post from another site learns that it was refused
    // as CSRF rather than how to reformat its body.
    if let Some(refusal) = csrf(&state, &headers, legacy) {
        audit_refusal(&state, &headers, peer, Refusal::Csrf);
        return refusal;
    }
    let caller = match authenticate(&state, &headers).await {
        Ok(c) => c,
        Err(refusal) => {
            audit_refusal(&state, &headers, peer, Refusal::Unauthenticated(refusal.kind()));
            return unauthorized(&refusal, legacy);
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if content_type.as_deref() != Some("application/json") {
        let outcome = Outcome {
            operation: None,
            status: 415,
            response: Response::request_error(
                GraphqlError::new("send the request as application/json").with_code("UNSUPPORTED_MEDIA_TYPE"),
            ),
        };
        audit_refusal(&state, &headers, peer, Refusal::UnsupportedMediaType);
        return respond(outcome, legacy);
    }
    let request: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return respond(bad_request(format!("the body is not a GraphQL request: {e}")), legacy),
    };
    let outcome = run(&state, &headers, request, true, caller, peer).await;
    respond(outcome, legacy)
}

/// The caller of a request: from its bearer token, or anonymous when no token is needed.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, AuthError> {
    let anonymous = || Caller {
        subject: "anonymous".to_owned(),
        scopes: state.scopes.to_vec(),
        organization: None,
    };
    let Some(auth) = &state.auth else {
        return Ok(anonymous());
    };
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    match auth.authenticate(authorization).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => Ok(anonymous()),
        Err(e) => {
            // The reason only: the token itself is never logged.
            tracing::debug!(reason = %e, "bearer token refused");
            metrics::counter!("gateway_auth_refused_total", "reason" => e.kind()).increment(1);
            Err(e)
        }
    }
}

/// Hands a request refused before it was read (401, CSRF, 415) to the audit log: its address,
/// user agent and request id, and why; never the token. The log rate-limits these records, so a
/// flood of refusals cannot fill the table ([`AuditLog::record_refusal`]).
fn audit_refusal(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>, refusal: Refusal) {
    let Some(log) = &state.audit else {
        return;
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let facts = RequestFacts {
        request_id: header(REQUEST_ID),
        source_ip: peer,
        user_agent: header("user-agent"),
        ..RequestFacts::default()
    };
    log.record_refusal(audit::refusal_record(refusal, facts));
}

/// 401 with the RFC 6750 challenge; a request without any token gets no error code, as the RFC
/// asks.
fn unauthorized(error: &AuthError, legacy: bool) -> HttpResponse {
    let outcome = Outcome {
        operation: None,
        status: 401,
        response: Response::request_error(GraphqlError::new(error.to_string()).with_code("UNAUTHENTICATED")),
    };
    let mut response = respond_with_status(outcome, legacy, true);
    let challenge = match error {
        AuthError::Missing => r#"Bearer realm="promptsales""#.to_owned(),
        // The descriptions are fixed texts without quotes or backslashes.
        other => format!(r#"Bearer realm="promptsales", error="invalid_token", error_description="{other}""#),
    };
    if let Ok(value) = header::HeaderValue::try_from(challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn run(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
    allow_mutation: bool,
    caller: Caller,
    peer: Option<IpAddr>,
) -> Outcome {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let request_id = header(REQUEST_ID);
    // Subgraphs get the verified caller in a signed header and refuse requests without one.
    let claims = Claims {
        sub: caller.subject,
        scopes: caller.scopes,
        org: caller.organization,
        rid: request_id.clone(),
    };
    let ctx = FetchContext {
        claims: state.key.sign(&claims),
        request_id,
        traceparent: header("traceparent").or_else(|| Some(new_traceparent())),
        tracestate: header("tracestate"),
        contains_pii: Default::default(),
    };
    let started = std::time::Instant::now();
    // Taken once: a reload during this request does not change the schema it runs against.
    let gateway = state.gateway.current();
    let outcome = gateway.execute(request, allow_mutation, &ctx, &claims.scopes).await;
    metrics::histogram!("gateway_operation_duration_seconds", "status" => outcome.status.to_string())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("gateway_operations_total", "status" => outcome.status.to_string(), "errors" => (!outcome.response.errors.is_empty()).to_string()).increment(1);
    if let Some(log) = &state.audit {
        let facts = RequestFacts {
            subject: claims.sub,
            organization: claims.org,
            scopes: claims.scopes,
            request_id: claims.rid,
            source_ip: peer,
            user_agent: header("user-agent"),
        };
        if let Some(record) = audit::record_for(facts, &outcome, ctx.contains_pii.load(Ordering::Relaxed)) {
            log.record(record);
        }
    }
    outcome
}

/// A fresh W3C trace context when the caller sent none, so subgraph logs of one request correlate.
fn new_traceparent() -> String {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}

fn bad_request(message: String) -> Outcome {
    Outcome {
        operation: None,
        status: 400,
        response: Response::request_error(GraphqlError::new(message).with_code("BAD_REQUEST")),
    }
}

/// A client that accepts only `application/json` gets the legacy behaviour of the spec: 200 for
/// every well-formed request, with the errors in the body.
fn wants_legacy_json(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.contains("application/json") && !accept.contains(GRAPHQL_RESPONSE) && !accept.contains("*/*")
}

fn respond(outcome: Outcome, legacy: bool) -> HttpResponse {
    respond_with_status(outcome, legacy, false)
}

/// `keep_status`: answer a legacy client with the outcome's status too (a refusal, not a
/// GraphQL error).
fn respond_with_status(outcome: Outcome, legacy: bool, keep_status: bool) -> HttpResponse {
    let (status, content_type) = if legacy {
        let status = if outcome.status == 400 && !keep_status {
            200
        } else {
            outcome.status
        };
        (status, "application/json")
    } else {
        (outcome.status, GRAPHQL_RESPONSE)
    };
    let body = serde_json::to_vec(&outcome.response).expect("a response of JSON values serialises");
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response();
    if status == 405 {
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    }
    response
}
