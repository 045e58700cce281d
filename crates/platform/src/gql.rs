//! GraphQL plumbing shared by the subgraphs: error codes, input errors that name the field and
//! the rule, opaque cursors, and the HTTP front of a subgraph (claims check, GraphiQL for dev).

use std::{fmt::Display, sync::Arc, time::Duration};

use async_graphql::{ErrorExtensions, ObjectType, Schema, SubscriptionType, http::GraphiQLSource};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{
    claims::{self, Claims, ClaimsKey},
    service::{self, REQUEST_ID, ReadyCheck},
};

/// `extensions.code` of every error a client can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The input broke a rule; `extensions.field` and `extensions.rule` say which.
    BadUserInput,
    NotFound,
    /// A write lost a race (stale version) or repeats a finished one differently.
    Conflict,
    Unauthenticated,
    Forbidden,
    /// Something failed on our side; the message is generic and `extensions.requestId` finds the log.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// An error with a code.
pub fn error(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code.as_str()))
}

/// Invalid input: names the field (as the client wrote it, e.g. `input.budget`) and the rule.
pub fn bad_input(field: &str, rule: &str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", ErrorCode::BadUserInput.as_str());
        e.set("field", field);
        e.set("rule", rule);
    })
}

/// The request id of the current request (from the gateway's claims, or the `x-request-id` header).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A failure of ours: logged in full with the request id, shown to the client without details.
pub fn internal(ctx: &async_graphql::Context<'_>, cause: impl Display) -> async_graphql::Error {
    let request_id = ctx.data_opt::<RequestId>().map_or("-", |r| r.0.as_str()).to_owned();
    tracing::error!(request_id, error = %cause, "internal error");
    async_graphql::Error::new("internal error; quote the request id when reporting it").extend_with(move |_, e| {
        e.set("code", ErrorCode::Internal.as_str());
        e.set("requestId", request_id.clone());
    })
}

/// Opaque pagination cursors: URL-safe base64 of `v1|part|part…`.
pub fn encode_cursor(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1|{}", parts.join("|")))
}

/// Decodes a cursor made by [`encode_cursor`] with `n` parts.
pub fn decode_cursor(cursor: &str, n: usize) -> Result<Vec<String>, async_graphql::Error> {
    let bad = || bad_input("after", "cursor", "not a cursor this API returned");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.split('|');
    if parts.next() != Some("v1") {
        return Err(bad());
    }
    let parts: Vec<String> = parts.map(str::to_owned).collect();
    if parts.len() != n {
        return Err(bad());
    }
    Ok(parts)
}

/// The page size asked for, checked against the maximum.
pub fn page_size(first: Option<i32>, default: usize, max: usize) -> Result<usize, async_graphql::Error> {
    match first {
        None => Ok(default),
        Some(n) if n < 0 => Err(bad_input("first", "min", "must be zero or more")),
        Some(n) if n as usize > max => Err(bad_input("first", "max", format!("at most {max} per page"))),
        Some(n) => Ok(n as usize),
    }
}

/// Options of a subgraph's HTTP front.
#[derive(Clone)]
pub struct SubgraphHttp {
    /// Service name, in metrics and logs.
    pub name: &'static str,
    /// Verifies the gateway's claims header.
    pub claims_key: ClaimsKey,
    /// Serves `/graphiql` with a dev claims header (all scopes, staff) signed by the local key.
    pub dev_graphiql: bool,
    pub ready: ReadyCheck,
    /// Adds request-scoped data (DataLoaders bound to the caller's tenant) to each request.
    pub per_request: PerRequest,
}

/// See [`SubgraphHttp::per_request`].
pub type PerRequest = Arc<dyn Fn(&Claims, async_graphql::Request) -> async_graphql::Request + Send + Sync>;

struct AppState<Q, M, S> {
    schema: Schema<Q, M, S>,
    key: ClaimsKey,
    per_request: PerRequest,
}

impl<Q, M, S> Clone for AppState<Q, M, S> {
    fn clone(&self) -> Self {
        AppState {
            schema: self.schema.clone(),
            key: self.key.clone(),
            per_request: self.per_request.clone(),
        }
    }
}

/// Every scope there is, for a dev GraphiQL session.
pub const ALL_SCOPES: &[&str] = &[
    "content:read",
    "content:write",
    "ads:read",
    "ads:write",
    "crm:read",
    "crm:write",
    "crm:pii",
    "sales:read",
    "sales:write",
    "etl:run",
    "admin",
];

/// The router of a subgraph: `POST/GET /graphql` (claims required), optional `/graphiql`, and the
/// operational routes.
pub fn subgraph_router<Q, M, S>(schema: Schema<Q, M, S>, options: SubgraphHttp) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let state = AppState {
        schema,
        key: options.claims_key.clone(),
        per_request: options.per_request.clone(),
    };
    let mut router = Router::new()
        .route("/graphql", get(graphql::<Q, M, S>).post(graphql::<Q, M, S>))
        .with_state(state);
    if options.dev_graphiql {
        let token = options
            .claims_key
            .sign_for(&Claims::staff("dev-graphiql", ALL_SCOPES), 12 * 3600);
        let page = GraphiQLSource::build()
            .endpoint("/graphql")
            .header(claims::HEADER, &token)
            .title(&format!("PromptSales {} subgraph (dev)", options.name))
            .finish();
        router = router.route("/graphiql", get(move || async move { Html(page) }));
    }
    let router = router.merge(service::operational_routes(options.ready));
    service::with_standard_layers(router, options.name, Duration::from_secs(30), 1 << 20)
}

async fn graphql<Q, M, S>(
    State(state): State<AppState<Q, M, S>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let header = headers.get(claims::HEADER).and_then(|v| v.to_str().ok());
    let claims = match state.key.verify(header) {
        Ok(c) => c,
        Err(e) => {
            let body = serde_json::json!({ "errors": [{ "message": e.to_string(), "extensions": { "code": "UNAUTHENTICATED" } }] });
            return (
                StatusCode::UNAUTHORIZED,
                [("content-type", "application/graphql-response+json")],
                body.to_string(),
            )
                .into_response();
        }
    };
    let request_id = claims
        .rid
        .clone()
        .or_else(|| headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned))
        .unwrap_or_else(|| "-".into());
    let request = (state.per_request)(&claims, request.into_inner())
        .data(claims)
        .data(RequestId(request_id));
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// `@cacheControl(maxAge: Int!)` on an object type or a field: how many seconds an answer that
/// holds it may be served from the gateway's response cache. A response is as fresh as its
/// least fresh part: the gateway takes the smallest `maxAge` of the composite fields it holds (a
/// field's own hint, else its type's), and the cache's default for fields without one. Use it
/// for data that changes rarely (reference data) to keep it longer than the default, or for
/// volatile fields to keep them shorter. Subgraphs `@link` it (the `composable` URL) and
/// `@composeDirective` carries it into the supergraph, where the gateway reads it.
#[async_graphql::TypeDirective(
    name = "cacheControl",
    location = "FieldDefinition",
    location = "Object",
    composable = "https://promptsales.dev/cacheControl/v1.0"
)]
pub fn cache_control(max_age: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_round_trip_cursors_and_refuse_foreign_ones() {
        let c = encode_cursor(&["2025-01-01T00:00:00Z", "abc"]);
        assert_eq!(
            decode_cursor(&c, 2).expect("valid"),
            vec!["2025-01-01T00:00:00Z", "abc"]
        );
        assert!(decode_cursor(&c, 3).is_err());
        assert!(decode_cursor("%%%", 2).is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("v2|a|b"), 2).is_err());
    }

    #[test]
    fn should_bound_page_sizes() {
        assert_eq!(page_size(None, 20, 100).expect("default"), 20);
        assert!(page_size(Some(101), 20, 100).is_err());
        assert!(page_size(Some(-1), 20, 100).is_err());
    }
}
