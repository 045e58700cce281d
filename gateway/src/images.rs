//! `GET /images/{id}`: the bytes of an image, for the absolute `Image.url` clients are given.
//!
//! The content subgraph serves image bytes only to requests carrying the signed claims header,
//! which only the gateway makes. Here the caller is authenticated like a GraphQL request (bearer
//! token, or the anonymous scopes where tokens are optional), must hold `content:read`, and the
//! request goes on to the content subgraph's `/images/{id}` with the caller's claims: the
//! subgraph applies the tenant rules (another tenant's image is 404). Its validators pass both
//! ways (`If-None-Match` in; `ETag`, `Cache-Control`, `304` out), and its bytes are passed back
//! whole (at most 15 MiB, the store's limit). Nothing is cached here: the answer is `private`, authorised for one caller.

use std::time::Duration;

use axum::{
    body::Body,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

/// The scope image bytes need (as the `Image` type does).
pub const SCOPE: &str = "content:read";

/// Headers passed from the client to the subgraph.
const REQUEST_HEADERS: [header::HeaderName; 2] = [header::IF_NONE_MATCH, header::ACCEPT];
/// Headers passed from the subgraph's answer back to the client.
const RESPONSE_HEADERS: [header::HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::CACHE_CONTROL,
    header::X_CONTENT_TYPE_OPTIONS,
];

/// The client that fetches image bytes from the content subgraph.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .build()
        .expect("a client with a timeout and rustls builds")
}

/// `{base}/images/{id}` of a subgraph whose GraphQL endpoint is `graphql_url`.
pub fn image_url(graphql_url: &str, id: &str) -> Option<String> {
    let mut url = reqwest::Url::parse(graphql_url).ok()?;
    url.set_path(&format!("/images/{id}"));
    url.set_query(None);
    Some(url.into())
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

/// Fetches the image from the content subgraph as the caller whose signed claims are `claims`.
pub async fn proxy(
    http: &reqwest::Client,
    content_graphql_url: Option<&str>,
    id: &str,
    claims: String,
    request_id: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    if uuid::Uuid::parse_str(id).is_err() {
        return plain(StatusCode::BAD_REQUEST, "the image id must be a UUID");
    }
    let Some(url) = content_graphql_url.and_then(|u| image_url(u, id)) else {
        tracing::error!("no content subgraph in the supergraph: /images cannot be served");
        return plain(StatusCode::SERVICE_UNAVAILABLE, "image bytes are not available");
    };
    let mut request = http.get(url).header(promptsales_platform::claims::HEADER, claims);
    if let Some(id) = request_id {
        request = request.header(promptsales_platform::service::REQUEST_ID, id);
    }
    for name in REQUEST_HEADERS {
        for value in headers.get_all(&name) {
            request = request.header(name.clone(), value.clone());
        }
    }
    let answer = match request.send().await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "content subgraph unreachable for image bytes");
            return plain(StatusCode::BAD_GATEWAY, "the content service did not answer");
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::builder().status(status);
    for name in RESPONSE_HEADERS {
        if let Some(value) = answer.headers().get(name.as_str())
            && let Ok(value) = header::HeaderValue::from_bytes(value.as_bytes())
        {
            response = response.header(name, value);
        }
    }
    let bytes = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "image bytes cut short");
            return plain(StatusCode::BAD_GATEWAY, "the content service's answer was cut short");
        }
    };
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| plain(StatusCode::BAD_GATEWAY, "the content service's answer was unusable"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_point_at_the_subgraphs_image_route() {
        assert_eq!(
            image_url("http://127.0.0.1:4001/graphql?x=1", "abc").as_deref(),
            Some("http://127.0.0.1:4001/images/abc")
        );
        assert_eq!(image_url("not a url", "abc"), None);
    }
}
