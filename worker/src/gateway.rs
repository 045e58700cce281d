//! The gateway as the worker uses it: its own OAuth2 client (client credentials, the least scopes
//! its steps need), a token reused until shortly before it expires, and GraphQL over HTTP.

use std::time::{Duration, Instant};

use promptsales_platform::config::Secret;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

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

/// The worker's OAuth2 client.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The token endpoint (`{auth}/token`).
    pub token_url: reqwest::Url,
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// Space-separated.
    pub scopes: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

/// A GraphQL client of the gateway with the worker's own token.
pub struct Gateway {
    http: reqwest::Client,
    url: reqwest::Url,
    client: ClientCredentials,
    token: Mutex<Option<(Secret<String>, Instant)>>,
}

/// How long before its expiry a token is replaced.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

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
        Ok(Gateway {
            http: builder.build()?,
            url,
            client,
            token: Mutex::new(None),
        })
    }

    /// A valid access token: the cached one, or a new one from the token endpoint.
    async fn token(&self) -> Result<Secret<String>, GatewayError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client.client_id.as_str()),
            ("client_secret", self.client.client_secret.expose().as_str()),
            ("scope", self.client.scopes.as_str()),
        ];
        let response = self
            .http
            .post(self.client.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("token endpoint: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let why = body["error_description"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("no reason given");
            return Err(if status.is_server_error() {
                GatewayError::Unavailable(format!("token endpoint answered {status}: {why}"))
            } else {
                GatewayError::Unauthorized(format!("{status}: {why}"))
            });
        }
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("token endpoint answered no token: {e}")))?;
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(300));
        let token = Secret::new(body.access_token);
        *cached = Some((token.clone(), Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN)));
        Ok(token)
    }

    /// Runs one operation; `data` when it has no errors.
    pub async fn execute(&self, query: &str, variables: Value) -> Result<Value, GatewayError> {
        let token = self.token().await?;
        let response = self
            .http
            .post(self.url.clone())
            .bearer_auth(token.expose())
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The token was refused (rotated keys, revoked client): fetch a new one next time.
            *self.token.lock().await = None;
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
