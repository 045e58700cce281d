//! `GET /images/{id}`: the bytes of an image, for `Image.url`.
//!
//! Like `/graphql`, the route serves only requests carrying the gateway's signed claims header
//! (so the gateway proxies it, and a subgraph reached directly serves nobody), with scope
//! `content:read`, and applies the same visibility as the API: a tenant gets its own images and
//! the stock library, anything else is 404 (never 403, which would confirm the image exists).
//!
//! The bytes of an id never change (a new file is a new image), so the response is cacheable for
//! a year and `immutable`, with `ETag` = the SHA-256 the metadata records and `304` on a matching
//! `If-None-Match`. It is `private`: it was authorised for one caller, and a shared cache that
//! ignored the claims header could hand a tenant's image to another tenant.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use promptsales_platform::{
    claims::{self, ClaimsKey},
    service::REQUEST_ID,
};
use uuid::Uuid;

use crate::store::ContentStore;

/// Scope needed to read image bytes, as for the `Image` type.
pub const SCOPE: &str = "content:read";
const CACHE_CONTROL: &str = "private, max-age=31536000, immutable";

#[derive(Clone)]
struct ImageState {
    store: Arc<dyn ContentStore>,
    key: ClaimsKey,
}

/// The image route, over the same store and claims key as the GraphQL API.
pub fn router(store: Arc<dyn ContentStore>, key: ClaimsKey) -> Router {
    Router::new()
        .route("/images/{id}", get(image))
        .with_state(ImageState { store, key })
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

/// Whether `If-None-Match` lists `etag` (or `*`); weak validators compare equal (RFC 9110 §13.1.2).
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

async fn image(State(state): State<ImageState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let claims = match state
        .key
        .verify(headers.get(claims::HEADER).and_then(|v| v.to_str().ok()))
    {
        Ok(c) => c,
        Err(e) => return plain(StatusCode::UNAUTHORIZED, &e.to_string()),
    };
    if !claims.has_scope(SCOPE) {
        return plain(StatusCode::FORBIDDEN, "scope content:read is required");
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return plain(StatusCode::BAD_REQUEST, "the image id must be a UUID");
    };
    let blob = match state.store.image_blob(claims.org, id).await {
        Ok(Some(blob)) => blob,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "no such image"),
        Err(e) => {
            let request_id = claims
                .rid
                .as_deref()
                .or_else(|| headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()))
                .unwrap_or("-");
            tracing::error!(request_id, error = %e, "image bytes failed");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; quote the request id when reporting it",
            );
        }
    };
    let etag = format!("\"{}\"", blob.sha256);
    let Ok(etag_value) = HeaderValue::from_str(&etag) else {
        tracing::error!(%id, "stored sha256 is not a header value");
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    let cache = [
        (header::ETAG, etag_value),
        (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
    ];
    if matches(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let content_type = HeaderValue::from_str(&blob.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        StatusCode::OK,
        cache,
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        blob.data,
    )
        .into_response()
}
