//! An OpenAI-compatible Chat Completions endpoint (OpenAI itself, or any server speaking its API):
//! `POST {base}/chat/completions` with `Authorization: Bearer <token>`, as the vendor documents it.
//! The bearer is an API key, or an access token from the provider's OAuth2 token endpoint
//! (client credentials; [`promptsales_platform::oauth`]: one token shared until it expires, a
//! token the API refuses is renewed once). Answers of 429 and 5xx are retried with exponential
//! backoff (honouring `Retry-After`), every request has a timeout, and neither keys nor tokens are
//! ever logged (they live in [`Secret`]s).

use std::time::Duration;

use promptsales_platform::{
    Secret,
    oauth::{ClientAuth, ClientCredentials, TokenSource},
};
use serde_json::{Value, json};

/// Attempts per call (the first and two retries).
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const LONGEST_BACKOFF: Duration = Duration::from_secs(8);

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model endpoint could not be reached: {0}")]
    Transport(String),
    #[error("the model endpoint answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the model endpoint's answer is not a chat completion: {0}")]
    Shape(String),
    #[error("no access token for the model endpoint: {0}")]
    Token(#[from] promptsales_platform::oauth::TokenError),
}

/// How the endpoint is authenticated: the two methods `content.integrations` names for model APIs.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A static API key sent as the bearer (OpenAI's own API).
    ApiKey(Secret<String>),
    /// A client of the provider's OAuth2 server; its access tokens are the bearer.
    ClientCredentials(ClientCredentials),
}

impl Credentials {
    /// From the credentials document an integration keeps sealed: `{"api_key": "…"}` (or
    /// `{"token": "…"}`), or `{"client_id", "client_secret", "token_url"}` with optional `scope`
    /// and `auth` (`client_secret_basic`, the default, or `client_secret_post`).
    pub fn from_json(text: &str) -> Result<Credentials, String> {
        let doc: Value = serde_json::from_str(text).map_err(|_| "the credentials are not a JSON object".to_owned())?;
        let field = |name: &str| -> Result<Option<String>, String> {
            match &doc[name] {
                Value::Null => Ok(None),
                Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
                _ => Err(format!("credentials: `{name}` must be a non-empty string")),
            }
        };
        if !doc.is_object() {
            return Err("the credentials are not a JSON object".to_owned());
        }
        if let Some(key) = field("api_key")?.or(field("token")?) {
            return Ok(Credentials::ApiKey(Secret::new(key)));
        }
        let (Some(client_id), Some(client_secret), Some(token_url)) =
            (field("client_id")?, field("client_secret")?, field("token_url")?)
        else {
            return Err(
                "credentials: give `api_key`, or `client_id`, `client_secret` and `token_url` (OAuth2 client credentials)"
                    .to_owned(),
            );
        };
        let token_url: reqwest::Url = token_url
            .parse()
            .map_err(|_| "credentials: `token_url` is not a URL".to_owned())?;
        if !matches!(token_url.scheme(), "https" | "http") {
            return Err("credentials: `token_url` must be an http(s) URL".to_owned());
        }
        let auth = match field("auth")? {
            Some(a) => a.parse::<ClientAuth>()?,
            None => ClientAuth::Basic,
        };
        Ok(Credentials::ClientCredentials(ClientCredentials {
            token_url,
            client_id,
            client_secret: Secret::new(client_secret),
            scope: field("scope")?,
            auth,
        }))
    }
}

enum Bearer {
    Key(Secret<String>),
    Tokens(Box<TokenSource>),
}

/// Where and how to call the endpoint.
#[derive(Clone, Debug)]
pub struct LlmEndpoint {
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub base: reqwest::Url,
    /// Model name, e.g. `gpt-4o-mini`.
    pub model: String,
    http: reqwest::Client,
    bearer: std::sync::Arc<Bearer>,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bearer::Key(_) => f.write_str("api key"),
            Bearer::Tokens(t) => write!(f, "OAuth2 client {}", t.client_id()),
        }
    }
}

/// One completion: the text and the billed tokens.
#[derive(Debug, Clone)]
pub struct Completion {
    pub text: String,
    pub model: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
}

impl LlmEndpoint {
    pub fn new(
        base: reqwest::Url,
        credentials: Credentials,
        model: String,
        timeout: Duration,
    ) -> Result<LlmEndpoint, LlmError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .user_agent(concat!("promptsales-mcp-content/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        let bearer = match credentials {
            Credentials::ApiKey(key) => Bearer::Key(key),
            Credentials::ClientCredentials(client) => Bearer::Tokens(Box::new(TokenSource::new(http.clone(), client))),
        };
        Ok(LlmEndpoint {
            base,
            model,
            http,
            bearer: std::sync::Arc::new(bearer),
        })
    }

    async fn bearer(&self) -> Result<Secret<String>, LlmError> {
        match self.bearer.as_ref() {
            Bearer::Key(key) => Ok(key.clone()),
            Bearer::Tokens(tokens) => Ok(tokens.token().await?),
        }
    }

    fn url(&self) -> String {
        format!("{}/chat/completions", self.base.as_str().trim_end_matches('/'))
    }

    /// A chat completion of `system` and `user`, asking for a JSON object.
    pub async fn complete(&self, system: &str, user: &str) -> Result<Completion, LlmError> {
        let body = json!({
            "model": self.model,
            "messages": [
                { "role": "system", "content": system },
                { "role": "user", "content": user }
            ],
            "temperature": 0.7,
            "response_format": { "type": "json_object" }
        });
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        let mut renewed = false;
        loop {
            let bearer = self.bearer().await?;
            let sent = self
                .http
                .post(self.url())
                .bearer_auth(bearer.expose())
                .json(&body)
                .send()
                .await;
            let retry_after = match sent {
                // An access token the API refuses (revoked, rotated keys): renew it once.
                Ok(response)
                    if response.status() == reqwest::StatusCode::UNAUTHORIZED
                        && !renewed
                        && matches!(self.bearer.as_ref(), Bearer::Tokens(_)) =>
                {
                    if let Bearer::Tokens(tokens) = self.bearer.as_ref() {
                        tokens.forget(&bearer).await;
                    }
                    renewed = true;
                    continue;
                }
                Err(e) if attempt < ATTEMPTS && (e.is_timeout() || e.is_connect()) => None,
                Err(e) => return Err(LlmError::Transport(e.without_url().to_string())),
                Ok(response) => {
                    let status = response.status().as_u16();
                    if status == 429 || status >= 500 {
                        let wait = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                            .map(Duration::from_secs);
                        if attempt >= ATTEMPTS {
                            let message = response.text().await.unwrap_or_default();
                            return Err(LlmError::Status {
                                status,
                                message: message.chars().take(300).collect(),
                            });
                        }
                        wait
                    } else if !(200..300).contains(&status) {
                        let message = response.text().await.unwrap_or_default();
                        return Err(LlmError::Status {
                            status,
                            message: message.chars().take(300).collect(),
                        });
                    } else {
                        let value: Value = response.json().await.map_err(|e| LlmError::Shape(e.to_string()))?;
                        return parse(&value);
                    }
                }
            };
            tokio::time::sleep(retry_after.unwrap_or(backoff).min(LONGEST_BACKOFF)).await;
            backoff = (backoff * 2).min(LONGEST_BACKOFF);
            attempt += 1;
        }
    }
}

fn parse(value: &Value) -> Result<Completion, LlmError> {
    let text = value["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| LlmError::Shape("no choices[0].message.content".into()))?;
    let tokens = |k: &str| u32::try_from(value["usage"][k].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
    Ok(Completion {
        text: text.to_owned(),
        model: value["model"].as_str().unwrap_or_default().to_owned(),
        tokens_in: tokens("prompt_tokens"),
        tokens_out: tokens("completion_tokens"),
    })
}
