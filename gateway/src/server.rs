//! The HTTP front, per the GraphQL-over-HTTP spec: `POST /graphql` (JSON), `GET /graphql` (query
//! parameters; queries only), `application/graphql-response+json` with 200 for executed requests,
//! 400 for documents that do not parse or validate, 405 for mutations over GET and 415 for other
//! content types; GraphiQL at `/` from pinned local assets ([`crate::graphiql`]), and the operational routes of `platform::service`. Requests
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
//! With a [`ResponseCache`], queries are answered from Redis when they can be, every `/graphql`
//! response carries `x-cache` and `Cache-Control` ([`crate::cache`]), and `POST /cache/invalidate`
//! (scope `etl:run` or `admin`) drops entries by type or entity for the ETL.
//!
//! With a [`RateLimiter`], each client (token subject, else peer address) is limited per window
//! after authentication: over its limit it gets 429 with `Retry-After` and `RATE_LIMITED`
//! ([`crate::ratelimit`]). With [`PersistedQueries`], a request carrying only a query's hash runs
//! the query registered under it ([`crate::apq`]).
//!
//! Every request runs on the gateway the [`SharedGateway`] holds when it starts, so a supergraph
//! reload ([`Reloader`]) never disturbs requests in flight.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, FromRequestParts, Query, State},
    http::{HeaderMap, HeaderName, StatusCode, header, request::Parts},
    response::{IntoResponse, Response as HttpResponse},
    routing::{get, post},
};
use promptsales_platform::{
    claims::{Claims, ClaimsKey},
    service::{self, REQUEST_ID},
};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::reload::{ReloadError, Reloader, SharedGateway};
use crate::{
    apq::PersistedQueries,
    audit::{self, AuditLog, Refusal, RequestFacts},
    auth::{AuthError, Authenticator, Caller},
    browser,
    cache::{Found, Invalidation, InvalidationError, Reply, ResponseCache},
    config::HttpOptions,
    fetch::FetchContext,
    gateway::{Outcome, Request},
    ownership::{self, OwnershipRule},
    ratelimit::{Client, Decision, RateLimiter},
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
    /// `None`: nothing is cached.
    cache: Option<ResponseCache>,
    /// `None`: no rate limit.
    rate_limit: Option<RateLimiter>,
    /// `None`: persisted-query extensions are ignored.
    apq: Option<PersistedQueries>,
    /// Entities named by mutations, checked before the write ([`crate::ownership`]).
    ownership: Arc<Vec<OwnershipRule>>,
    /// Fetches image bytes from the content subgraph ([`crate::images`]).
    images: reqwest::Client,
}

/// What the router adds to planning and execution; `Default` is none of it.
#[derive(Default, Clone)]
pub struct Services {
    /// Validates bearer tokens. `None`: every caller is anonymous.
    pub auth: Option<Arc<Authenticator>>,
    /// Receives the audit records. `None`: nothing is audited.
    pub audit: Option<AuditLog>,
    /// The response cache. `None`: nothing is cached.
    pub cache: Option<ResponseCache>,
    /// Per-client rate limits. `None`: no limit.
    pub rate_limit: Option<RateLimiter>,
    /// Automatic persisted queries. `None`: requests must carry their query text.
    pub apq: Option<PersistedQueries>,
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
    router_with_services(
        gateway,
        key,
        options,
        Services {
            auth,
            ..Services::default()
        },
    )
}

/// [`router`], with the optional [`Services`].
pub fn router_with_services(
    gateway: impl Into<SharedGateway>,
    key: ClaimsKey,
    options: HttpOptions,
    services: Services,
) -> Router {
    let Services {
        auth,
        audit,
        cache,
        rate_limit,
        apq,
    } = services;
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
        cache,
        rate_limit,
        apq,
        ownership: Arc::new(options.ownership.clone()),
        images: crate::images::client(Duration::from_secs(options.request_timeout_secs)),
    };
    let mut router = Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route("/cache/invalidate", post(invalidate_cache))
        .route("/images/{id}", get(get_image))
        .with_state(state);
    if options.graphiql {
        router = router.merge(crate::graphiql::routes(options.graphiql_assets.clone()));
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
    let router = router.layer(axum::middleware::map_response(refusals_as_graphql));
    // Outermost, so that refusals of the inner layers (413, 504) still reach the page that
    // sent the request instead of surfacing as opaque CORS failures.
    browser::with_cors(router, &options)
}

/// Refusals of the standard layers (413 for a body over the limit, 504 for a request over its
/// time) answered as GraphQL responses like every other error, instead of their plain-text
/// bodies, so clients parse one format.
async fn refusals_as_graphql(response: HttpResponse) -> HttpResponse {
    let (message, code) = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "the request body is larger than the gateway accepts",
            "PAYLOAD_TOO_LARGE",
        ),
        StatusCode::GATEWAY_TIMEOUT => ("the request took longer than the gateway allows", "TIMEOUT"),
        _ => return response,
    };
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json {
        return response;
    }
    let outcome = Outcome {
        operation: None,
        status: response.status().as_u16(),
        response: Response::request_error(GraphqlError::new(message).with_code(code)),
    };
    let mut refused = respond_with_status(outcome, false, true);
    for name in [header::HeaderName::from_static(REQUEST_ID), header::VARY] {
        if let Some(v) = response.headers().get(&name) {
            refused.headers_mut().insert(name, v.clone());
        }
    }
    refused
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
    if let Some(refusal) = rate_limit(&state, &headers, &caller, peer, legacy).await {
        return refusal;
    }
    let parse = |s: Option<String>, what: &str| -> Result<Option<Map<String, Value>>, Outcome> {
        match s.filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s)
                .map(Some)
                .map_err(|_| bad_request(format!("{what} is not a JSON object"))),
        }
    };
    let mut request = match (
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
    if let Some(apq) = &state.apq
        && let Err(outcome) = apq.resolve(&mut request, &state.gateway.current()).await
    {
        return respond(outcome, legacy);
    }
    let reply = run(&state, &headers, request, false, caller, peer).await;
    respond_reply(reply, legacy)
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
    if let Some(refusal) = rate_limit(&state, &headers, &caller, peer, legacy).await {
        return refusal;
    }
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
    let mut request: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return respond(bad_request(format!("the body is not a GraphQL request: {e}")), legacy),
    };
    if let Some(apq) = &state.apq
        && let Err(outcome) = apq.resolve(&mut request, &state.gateway.current()).await
    {
        return respond(outcome, legacy);
    }
    let reply = run(&state, &headers, request, true, caller, peer).await;
    respond_reply(reply, legacy)
}

/// `GET /images/{id}`: the image's bytes from the content subgraph, as the caller
/// ([`crate::images`]).
async fn get_image(
    State(state): State<AppState>,
    Peer(peer): Peer,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> HttpResponse {
    let caller = match authenticate(&state, &headers).await {
        Ok(c) => c,
        Err(refusal) => {
            audit_refusal(&state, &headers, peer, Refusal::Unauthenticated(refusal.kind()));
            return unauthorized(&refusal, true);
        }
    };
    if let Some(refusal) = rate_limit(&state, &headers, &caller, peer, true).await {
        return refusal;
    }
    if !caller.scopes.iter().any(|s| s == crate::images::SCOPE) {
        return (StatusCode::FORBIDDEN, "scope content:read is required").into_response();
    }
    let claims = Claims {
        sub: caller.subject,
        scopes: caller.scopes,
        org: caller.organization,
        rid: None,
    };
    let content = state
        .gateway
        .current()
        .subgraphs()
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content"))
        .map(|(_, url)| url);
    let request_id = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok());
    crate::images::proxy(
        &state.images,
        content.as_deref(),
        &id,
        state.key.sign(&claims),
        request_id,
        &headers,
    )
    .await
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

/// The 429 for a client over its rate limit, if this request takes it over. The client is the
/// token's subject; callers without a token are told apart by address.
async fn rate_limit(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    peer: Option<IpAddr>,
    legacy: bool,
) -> Option<HttpResponse> {
    let limiter = state.rate_limit.as_ref()?;
    let with_token = state.auth.is_some() && headers.contains_key(header::AUTHORIZATION);
    let client = match (with_token, peer) {
        (true, _) => Client::Subject(caller.subject.clone()),
        (false, Some(ip)) => Client::Ip(ip),
        (false, None) => Client::Unknown,
    };
    let Decision::Limited { retry_after, limit } = limiter.check(&client).await else {
        return None;
    };
    let secs = retry_after.as_secs();
    let outcome = Outcome {
        operation: None,
        status: 429,
        response: Response::request_error(
            GraphqlError::new(format!(
                "too many requests: the limit is {limit} per window; retry after {secs} s"
            ))
            .with_code("RATE_LIMITED"),
        ),
    };
    let mut response = respond_with_status(outcome, legacy, true);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    Some(response)
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
) -> Reply {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let request_id = header(REQUEST_ID);
    // Subgraphs get the verified caller in a signed header and refuse requests without one. The
    // request id is not in it (it goes in `x-request-id`): claims that are the caller's alone
    // sign to the same header for all the caller's requests within a second, signed once.
    let claims = Claims {
        sub: caller.subject,
        scopes: caller.scopes,
        org: caller.organization,
        rid: None,
    };
    let ctx = FetchContext {
        claims: state.key.sign(&claims),
        request_id,
        traceparent: header("traceparent").or_else(|| Some(new_traceparent())),
        tracestate: header("tracestate"),
        contains_pii: Default::default(),
        share: false,
    };
    let started = std::time::Instant::now();
    // Taken once: a reload during this request does not change the schema it runs against.
    let gateway = state.gateway.current();
    let cache = state.cache.as_ref();
    let prepared = cache.and_then(|c| c.prepare(&gateway, &request, &claims.scopes, claims.org));
    let found = match (cache, &prepared) {
        (Some(cache), Some(prepared)) => match cache.lookup(prepared).await {
            Found::Fresh(entry) => return cache.hit(entry),
            other => other,
        },
        _ => Found::Miss,
    };
    let outcome = match owned_or_refused(state, &gateway, &request, allow_mutation, &claims, &ctx).await {
        Some(refusal) => refusal,
        None => gateway.execute(request, allow_mutation, &ctx, &claims.scopes).await,
    };
    let status = status_label(outcome.status);
    let errors = if outcome.response.errors.is_empty() {
        "false"
    } else {
        "true"
    };
    metrics::histogram!("gateway_operation_duration_seconds", "status" => status.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("gateway_operations_total", "status" => status, "errors" => errors).increment(1);
    if let Some(log) = &state.audit {
        let facts = RequestFacts {
            subject: claims.sub,
            organization: claims.org,
            scopes: claims.scopes,
            request_id: ctx.request_id.clone(),
            source_ip: peer,
            user_agent: header("user-agent"),
        };
        if let Some(record) = audit::record_for(facts, &outcome, ctx.contains_pii.load(Ordering::Relaxed)) {
            log.record(record);
        }
    }
    match cache {
        Some(cache) => {
            let pii = ctx.contains_pii.load(Ordering::Relaxed);
            cache.settle(gateway, prepared, found, outcome, pii).await
        }
        None => Reply::Executed(outcome, None),
    }
}

/// The refusal of a mutation that names an entity its caller may not write to (one that does not
/// exist, or another organization's), asked of the entity's owner before anything runs; `None`
/// when there is nothing to check or every check passed ([`crate::ownership`]).
async fn owned_or_refused(
    state: &AppState,
    gateway: &crate::Gateway,
    request: &Request,
    allow_mutation: bool,
    claims: &Claims,
    ctx: &FetchContext,
) -> Option<Outcome> {
    if !allow_mutation {
        return None;
    }
    let query = request.query.as_deref()?;
    // Only documents that parse, pass the limits and validate are looked into (the check is
    // cached); the others are refused by the execution that follows, as usual.
    gateway.check_document(query).await.ok()?;
    for check in ownership::checks(&state.ownership, request) {
        let organization = match (claims.org, &check.organization) {
            (Some(own), _) => Some(own),
            (None, Some(named)) => match named.parse() {
                Ok(org) => Some(org),
                Err(_) => return None, // the writing subgraph refuses the malformed id
            },
            (None, None) => None,
        };
        let as_owner_sees = Claims {
            sub: claims.sub.clone(),
            scopes: check.rule.scopes.clone(),
            org: organization,
            rid: None,
        };
        let check_ctx = FetchContext {
            claims: state.key.sign(&as_owner_sees),
            request_id: ctx.request_id.clone(),
            traceparent: ctx.traceparent.clone(),
            tracestate: ctx.tracestate.clone(),
            contains_pii: Default::default(),
            share: false,
        };
        let answer = gateway
            .execute(check.request(), false, &check_ctx, &as_owner_sees.scopes)
            .await;
        let found = answer.status == 200
            && answer
                .response
                .data
                .as_ref()
                .is_some_and(|d| d.to_value()["entity"].is_object());
        if !found {
            tracing::debug!(mutation = %check.rule.mutation, id = %check.id, "write refused: entity not visible to its caller");
            metrics::counter!("gateway_ownership_refused_total", "mutation" => check.rule.mutation.clone())
                .increment(1);
            return Some(Outcome {
                operation: None,
                status: 403,
                response: Response::request_error(GraphqlError::new(check.refusal()).with_code("FORBIDDEN")),
            });
        }
    }
    None
}

/// `POST /cache/invalidate` with `{"type": "Campaign", "ids": [...]}` (ids optional): drops the
/// cached responses holding that type or those entities, for the ETL after a load. Needs the
/// scope `etl:run` or `admin`; the JSON media type keeps browsers from sending it cross-site.
async fn invalidate_cache(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> HttpResponse {
    let caller = match authenticate(&state, &headers).await {
        Ok(c) => c,
        Err(refusal) => return unauthorized(&refusal, true),
    };
    let answer = |status: StatusCode, body: Value| (status, axum::Json(body)).into_response();
    if !caller.scopes.iter().any(|s| s == "etl:run" || s == "admin") {
        return answer(
            StatusCode::FORBIDDEN,
            serde_json::json!({ "error": "needs the scope etl:run or admin" }),
        );
    }
    let Some(cache) = &state.cache else {
        return answer(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "the response cache is off" }),
        );
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            serde_json::json!({ "error": "send application/json" }),
        );
    }
    let what: Invalidation = match serde_json::from_slice(&body) {
        Ok(w) => w,
        Err(e) => return answer(StatusCode::BAD_REQUEST, serde_json::json!({ "error": e.to_string() })),
    };
    let gateway = state.gateway.current();
    match cache.invalidate(&gateway, &what).await {
        Ok(dropped) => {
            tracing::info!(subject = %caller.subject, r#type = %what.type_name, ids = what.ids.len(), dropped, "cache invalidated");
            answer(StatusCode::OK, serde_json::json!({ "dropped": dropped }))
        }
        Err(e @ InvalidationError::UnknownType(_)) => {
            answer(StatusCode::BAD_REQUEST, serde_json::json!({ "error": e.to_string() }))
        }
        Err(e) => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": e.to_string() }),
        ),
    }
}

/// A status as a metric label; the statuses the gateway answers with are spelled out so that
/// recording one allocates nothing.
fn status_label(status: u16) -> metrics::SharedString {
    match status {
        200 => "200".into(),
        400 => "400".into(),
        401 => "401".into(),
        403 => "403".into(),
        405 => "405".into(),
        413 => "413".into(),
        415 => "415".into(),
        429 => "429".into(),
        500 => "500".into(),
        other => other.to_string().into(),
    }
}

/// A fresh W3C trace context when the caller sent none, so subgraph logs of one request
/// correlate. While traces are exported each fetch sends its own span instead ([`crate::fetch`]).
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

/// An executed or cached reply, with the cache's headers when the cache is on.
fn respond_reply(reply: Reply, legacy: bool) -> HttpResponse {
    match reply {
        Reply::Executed(outcome, verdict) => {
            let mut response = respond(outcome, legacy);
            if let Some(verdict) = verdict {
                verdict.apply(response.headers_mut());
            }
            response
        }
        // Only responses of executed queries are stored or serialised ahead: 200 either way.
        Reply::Body(body, verdict) => {
            let content_type = if legacy { "application/json" } else { GRAPHQL_RESPONSE };
            let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
            verdict.apply(response.headers_mut());
            response
        }
    }
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
    let body = outcome.response.to_bytes();
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
