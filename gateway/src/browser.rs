//! What protects the gateway from browsers on other sites: CORS for the configured origins
//! only, and CSRF prevention for requests a browser would send cross-site without asking
//! (the rule of Apollo Router and Hive Router).

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::Request,
    http::{HeaderMap, HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    config::{HttpOptions, parse_origin},
    gateway::Outcome,
    response::{GraphqlError, Response as GraphqlResponse},
};

/// Request headers a browser may send cross-origin once the preflight allows them.
const ALLOWED_HEADERS: [&str; 7] = [
    "content-type",
    "authorization",
    "x-request-id",
    "traceparent",
    "tracestate",
    "apollo-require-preflight",
    "x-apollo-operation-name",
];

/// Adds CORS for `options.cors_origins`; with none configured the router is returned unchanged,
/// so no response carries a CORS header. The options are expected to have passed
/// [`HttpOptions::validate`]; an origin that does not is left out (fail closed) with an error.
pub fn with_cors(router: Router, options: &HttpOptions) -> Router {
    let origins: Vec<HeaderValue> = options
        .cors_origins
        .iter()
        .filter_map(|origin| {
            parse_origin(origin)
                .inspect_err(|e| tracing::error!(error = %e, "CORS origin ignored"))
                .ok()
        })
        .collect();
    if origins.is_empty() {
        return router;
    }
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.clone()))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(ALLOWED_HEADERS.map(HeaderName::from_static))
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
        .expose_headers([HeaderName::from_static(promptsales_platform::service::REQUEST_ID)]);
    let origins: Arc<[HeaderValue]> = origins.into();
    // Outside the CORS layer: tower-http sends the allowed methods and headers in answer to any
    // preflight; an origin that is not ours learns nothing, not even the list.
    router
        .layer(cors)
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            strip_for_other_origins(origins.clone(), req, next)
        }))
}

async fn strip_for_other_origins(origins: Arc<[HeaderValue]>, req: Request, next: Next) -> Response {
    let foreign = req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|origin| !origins.contains(origin));
    let mut response = next.run(req).await;
    if foreign {
        let cors: Vec<HeaderName> = response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in cors {
            response.headers_mut().remove(name);
        }
    }
    response
}

/// Content types a page on any site can POST with a plain `<form>` or `fetch` without a CORS
/// preflight (the CORS "simple" ones).
const SIMPLE_CONTENT_TYPES: [&str; 3] = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"];

/// The CSRF rule: `None` lets the request through, `Some` is the refusal to send.
///
/// A browser sends a "simple" request cross-site without asking the server first, with the
/// user's cookies, and only hides the response; a query with side effects (or a mutation, were
/// one smuggled through) would run. A request that is not simple -- a JSON content type or any
/// custom header -- is preflighted, and CORS refuses it for origins that are not configured.
pub fn csrf_refusal(required: &[HeaderName], headers: &HeaderMap) -> Option<Outcome> {
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| {
        // A value that is not text cannot be checked: treat it as the worst case.
        v.to_str()
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .unwrap_or_else(|_| SIMPLE_CONTENT_TYPES[0].to_owned())
    });
    let simple = content_type.is_none_or(|ct| SIMPLE_CONTENT_TYPES.contains(&ct.as_str()));
    let preflighted = required
        .iter()
        .any(|name| headers.get(name).is_some_and(|v| !v.as_bytes().trim_ascii().is_empty()));
    if !simple || preflighted {
        return None;
    }
    let names = required.iter().map(HeaderName::as_str).collect::<Vec<_>>().join(", ");
    let example = required
        .first()
        .map_or_else(String::new, |h| format!(" (e.g. `{h}: true`)"));
    let message = format!(
        "this request was blocked as a possible cross-site request forgery (CSRF): send it with \
         `content-type: application/json`, or with a non-empty value in one of these headers: {names}{example}"
    );
    Some(Outcome {
        operation: None,
        status: 400,
        response: GraphqlResponse::request_error(GraphqlError::new(message).with_code("CSRF_PREVENTION")),
    })
}
