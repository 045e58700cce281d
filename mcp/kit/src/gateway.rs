//! The gateway as the MCP servers see it: one GraphQL endpoint, called with the caller's bearer
//! token unchanged. Scopes, tenancy and masking are the gateway's and the subgraphs' business.

use std::time::Duration;

use serde_json::{Value, json};

use crate::caller::Caller;

/// Why the gateway gave no usable answer. The texts are fit for the MCP client: they never hold
/// the token.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// 401: the gateway refused the token (expired, wrong issuer…).
    #[error("the gateway refused the token: {0}")]
    Unauthenticated(String),
    /// The caller lacks a scope, or the operation was refused as a whole.
    #[error("the gateway refused the request: {0}")]
    Forbidden(String),
    /// GraphQL errors and no data.
    #[error("the gateway answered with errors: {0}")]
    Graphql(String),
    /// The gateway could not be reached or answered something that is not GraphQL.
    #[error("the gateway is not available: {0}")]
    Unavailable(String),
}

/// A GraphQL response: `data` and the errors that came with it (partial results keep both).
#[derive(Debug, Clone)]
pub struct GqlResponse {
    pub data: Value,
    pub errors: Vec<Value>,
}

impl GqlResponse {
    /// The messages of the errors, joined (for a sentence to the client).
    pub fn error_text(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| error_text(&self.errors))
    }
}

fn error_text(errors: &[Value]) -> String {
    errors
        .iter()
        .map(|e| {
            let message = e["message"].as_str().unwrap_or("error");
            match e["extensions"]["code"].as_str() {
                Some(code) => format!("{message} ({code})"),
                None => message.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The gateway's GraphQL endpoint.
#[derive(Clone, Debug)]
pub struct GatewayClient {
    http: reqwest::Client,
    url: reqwest::Url,
}

impl GatewayClient {
    /// A client of `url`, trusting the web roots plus `PROMPTSALES_TLS_CA` (as the gateway does
    /// for its subgraphs), never an unverified certificate.
    pub fn new(url: reqwest::Url, timeout: Duration) -> Result<GatewayClient, GatewayError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(true)
            .timeout(timeout)
            .user_agent(concat!("promptsales-mcp/", env!("CARGO_PKG_VERSION")));
        for root in promptsales_platform::tls::extra_roots_or_none() {
            let cert = reqwest::Certificate::from_der(&root).map_err(|e| GatewayError::Unavailable(e.to_string()))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        Ok(GatewayClient { http, url })
    }

    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// Runs one operation as `caller`. GraphQL errors with data are returned with the data; errors
    /// without data, and HTTP refusals, are [`GatewayError`]s.
    pub async fn execute(&self, caller: &Caller, query: &str, variables: Value) -> Result<GqlResponse, GatewayError> {
        let mut request = self
            .http
            .post(self.url.clone())
            .bearer_auth(caller.token().expose())
            .header(
                http::header::ACCEPT,
                "application/graphql-response+json, application/json",
            )
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(id) = &caller.request_id {
            request = request.header("x-request-id", id);
        }
        let response = promptsales_platform::telemetry::propagate(request)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("HTTP {status}, not a GraphQL response: {e}")))?;
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        let text = || {
            if errors.is_empty() {
                format!("HTTP {status}")
            } else {
                error_text(&errors)
            }
        };
        match status.as_u16() {
            401 => return Err(GatewayError::Unauthenticated(text())),
            403 => return Err(GatewayError::Forbidden(text())),
            429 | 500.. => return Err(GatewayError::Unavailable(text())),
            _ => {}
        }
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        if data.is_null() {
            if errors.iter().any(|e| e["extensions"]["code"] == "FORBIDDEN") {
                return Err(GatewayError::Forbidden(text()));
            }
            return Err(GatewayError::Graphql(text()));
        }
        Ok(GqlResponse { data, errors })
    }

    /// `/readyz` of the gateway (same origin as the GraphQL endpoint): whether it can serve.
    pub async fn ready(&self) -> Result<(), String> {
        let mut url = self.url.clone();
        url.set_path("/readyz");
        url.set_query(None);
        match self.http.get(url).timeout(Duration::from_secs(2)).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("the gateway is not ready (HTTP {})", r.status())),
            Err(e) => Err(format!("the gateway cannot be reached: {}", e.without_url())),
        }
    }
}
