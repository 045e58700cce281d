//! OAuth2 client credentials (RFC 6749 §4.4): how a PromptSales process gets an access token for
//! itself — the agenda worker from our authorization server, the content MCP server from a model
//! provider's. One token is shared by every caller until shortly before it expires; when it must
//! be renewed, one request goes out and the other callers wait for it. Answers of 429 and 5xx,
//! timeouts and refused connections are retried with backoff (honouring `Retry-After`); any other
//! refusal is final and its reason (`error`, `error_description`) is passed on. Neither the client
//! secret nor a token ever reaches a log or an error message.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::Secret;

/// How the client proves who it is at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic` over the form-encoded id and secret (`client_secret_basic`, the
    /// method every server must support).
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post,
}

impl std::str::FromStr for ClientAuth {
    type Err = String;

    fn from_str(s: &str) -> Result<ClientAuth, String> {
        match s {
            "basic" | "client_secret_basic" => Ok(ClientAuth::Basic),
            "post" | "client_secret_post" => Ok(ClientAuth::Post),
            other => Err(format!(
                "unknown client authentication {other:?}: use client_secret_basic or client_secret_post"
            )),
        }
    }
}

/// A confidential client and where it gets its tokens.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub token_url: reqwest::Url,
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// Space-separated scopes to ask for; none asks for the client's default.
    pub scope: Option<String>,
    pub auth: ClientAuth,
}

/// Why no token could be had. Holds neither the secret nor a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The server refused the client (`invalid_client`, `invalid_scope`, …): retrying will not help.
    #[error("the token endpoint refused the client {client_id} (HTTP {status}): {reason}")]
    Refused {
        client_id: String,
        status: u16,
        reason: String,
    },
    /// The server could not be reached or kept failing after the retries.
    #[error("the token endpoint is not available: {0}")]
    Unavailable(String),
    /// The server answered, but not with a bearer token.
    #[error("the token endpoint's answer is not a bearer token: {0}")]
    Malformed(String),
}

/// Attempts per token request (the first and two retries), and the backoff between them.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const LONGEST_BACKOFF: Duration = Duration::from_secs(8);
/// A token without `expires_in` is kept this long (RFC 6749 leaves the lifetime to the server).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// A token is replaced this long before it expires (a tenth of its life when that is shorter).
const MARGIN: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: Option<String>,
    expires_in: Option<u64>,
}

struct Cached {
    token: Secret<String>,
    renew_at: Instant,
}

/// Tokens of one client, shared by its callers.
pub struct TokenSource {
    http: reqwest::Client,
    client: ClientCredentials,
    cached: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.client.token_url.as_str())
            .field("client_id", &self.client.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// `http` carries the timeouts and trusted roots of the caller.
    pub fn new(http: reqwest::Client, client: ClientCredentials) -> TokenSource {
        TokenSource {
            http,
            client,
            cached: Mutex::new(None),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client.client_id
    }

    /// A token valid for a while yet: the shared one, or a new one from the token endpoint.
    pub async fn token(&self) -> Result<Secret<String>, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = self.request().await?;
        let margin = MARGIN.min(lifetime / 10);
        *cached = Some(Cached {
            token: token.clone(),
            renew_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(token)
    }

    /// Drops `token` if it is the shared one (a server refused it: revoked, keys rotated), so the
    /// next call asks for a new one. A newer token another caller already got is kept.
    pub async fn forget(&self, token: &Secret<String>) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == *token) {
            *cached = None;
        }
    }

    async fn request(&self) -> Result<(Secret<String>, Duration), TokenError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let wait = match self.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        return read_token(response).await;
                    }
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let reason = refusal_reason(response).await;
                    let transient = status.as_u16() == 429 || status.is_server_error();
                    if !transient {
                        return Err(TokenError::Refused {
                            client_id: self.client.client_id.clone(),
                            status: status.as_u16(),
                            reason,
                        });
                    }
                    if attempt >= ATTEMPTS {
                        return Err(TokenError::Unavailable(format!(
                            "HTTP {} after {ATTEMPTS} attempts: {reason}",
                            status.as_u16()
                        )));
                    }
                    retry_after.unwrap_or(backoff)
                }
                Err(e) if attempt < ATTEMPTS && (e.is_timeout() || e.is_connect()) => backoff,
                Err(e) => return Err(TokenError::Unavailable(e.without_url().to_string())),
            };
            tokio::time::sleep(wait.min(LONGEST_BACKOFF)).await;
            backoff = (backoff * 2).min(LONGEST_BACKOFF);
            attempt += 1;
        }
    }

    async fn send(&self) -> reqwest::Result<reqwest::Response> {
        let c = &self.client;
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if let Some(scope) = c.scope.as_deref().filter(|s| !s.is_empty()) {
            form.push(("scope", scope));
        }
        let mut request = self
            .http
            .post(c.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        match c.auth {
            ClientAuth::Basic => {
                // §2.3.1: id and secret are form-urlencoded before they are joined by ':'.
                let id = form_encode(&c.client_id);
                let secret = form_encode(c.client_secret.expose());
                request = request.basic_auth(id, Some(secret));
            }
            ClientAuth::Post => {
                form.push(("client_id", &c.client_id));
                form.push(("client_secret", c.client_secret.expose()));
            }
        }
        request.form(&form).send().await
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn read_token(response: reqwest::Response) -> Result<(Secret<String>, Duration), TokenError> {
    let answer: TokenAnswer = response
        .json()
        .await
        .map_err(|e| TokenError::Malformed(format!("not the JSON of RFC 6749 §5.1 ({e})")))?;
    if answer.access_token.is_empty() {
        return Err(TokenError::Malformed("access_token is empty".into()));
    }
    if let Some(kind) = answer.token_type.as_deref()
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(TokenError::Malformed(format!("token_type is {kind:?}, not Bearer")));
    }
    let lifetime = answer.expires_in.map_or(DEFAULT_LIFETIME, Duration::from_secs);
    Ok((Secret::new(answer.access_token), lifetime))
}

/// The `error` and `error_description` of a refusal (RFC 6749 §5.2), or the start of the body.
async fn refusal_reason(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(body) if body["error"].is_string() => match body["error_description"].as_str() {
            Some(description) => format!("{}: {description}", body["error"].as_str().unwrap_or_default()),
            None => body["error"].as_str().unwrap_or_default().to_owned(),
        },
        _ if text.trim().is_empty() => "no reason given".to_owned(),
        _ => text.chars().take(200).collect(),
    }
}
