//! The gateway as the worker uses it: its own OAuth2 client (client credentials, the least scopes
//! its steps need), a token reused until shortly before it expires, and GraphQL over HTTP.

use std::time::Duration;

/// The worker's OAuth2 client (the shared client-credentials source; `client_secret_post`, as the
/// stack's authorization server takes it).
pub use promptsales_platform::oauth::ClientCredentials;
use promptsales_platform::{
    config::Secret,
    oauth::{TokenError, TokenSource},
};
use serde_json::{Value, json};

/// Why a gateway call gave no usable answer. Never holds the client secret or the token.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the authorization server refused the worker's client: {0}")]
    Unauthorized(String),
    #[error("the gateway is not available: {0}")]
    Unavailable(String),
    /// GraphQL errors: the messages and the first error's code.
    #[error("the gateway answered with errors: {message}")]
    Graphql { message: String, code: Option<String> },
}

/// A GraphQL client of the gateway with the worker's own token.
pub struct Gateway {
    http: reqwest::Client,
    url: reqwest::Url,
    tokens: TokenSource,
}

impl Gateway {
    pub fn new(url: reqwest::Url, client: ClientCredentials, timeout: Duration) -> anyhow::Result<Gateway> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(true)
            .timeout(timeout)
            .user_agent(concat!("promptsales-worker/", env!("CARGO_PKG_VERSION")));
        for root in promptsales_platform::tls::extra_roots_or_none() {
            builder = builder.add_root_certificate(reqwest::Certificate::from_der(&root)?);
        }
        let http = builder.build()?;
        Ok(Gateway {
            tokens: TokenSource::new(http.clone(), client),
            http,
            url,
        })
    }

    /// A valid access token: the shared one, or a new one from the token endpoint.
    async fn token(&self) -> Result<Secret<String>, GatewayError> {
        self.tokens.token().await.map_err(|e| match e {
            TokenError::Refused { .. } => GatewayError::Unauthorized(e.to_string()),
            TokenError::Unavailable(_) | TokenError::Malformed(_) => GatewayError::Unavailable(e.to_string()),
        })
    }

    /// Runs one operation; `data` when it has no errors.
    pub async fn execute(&self, query: &str, variables: Value) -> Result<Value, GatewayError> {
        let token = self.token().await?;
        let request = self
            .http
            .post(self.url.clone())
            .bearer_auth(token.expose())
            .json(&json!({ "query": query, "variables": variables }));
        let response = promptsales_platform::telemetry::propagate(request)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The token was refused (rotated keys, revoked client): fetch a new one next time.
            self.tokens.forget(&token).await;
            return Err(GatewayError::Unauthorized(
                "the gateway refused the worker's token".into(),
            ));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("{status}: not a GraphQL response ({e})")))?;
        match body["errors"].as_array() {
            Some(errors) if !errors.is_empty() => Err(GatewayError::Graphql {
                message: errors
                    .iter()
                    .map(|e| {
                        let message = e["message"].as_str().unwrap_or("error");
                        match e["extensions"]["code"].as_str() {
                            Some(code) => format!("{message} ({code})"),
                            None => message.to_owned(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                code: errors[0]["extensions"]["code"].as_str().map(str::to_owned),
            }),
            _ => Ok(body["data"].clone()),
        }
    }
}
