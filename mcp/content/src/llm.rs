//! An OpenAI-compatible Chat Completions endpoint (OpenAI itself, or any server speaking its API):
//! `POST {base}/chat/completions` with `Authorization: Bearer <key>`, as the vendor documents it.
//! Answers of 429 and 5xx are retried with exponential backoff (honouring `Retry-After`), every
//! request has a timeout, and the key is never logged (it lives in a [`Secret`]).

use std::time::Duration;

use promptsales_platform::Secret;
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
}

/// Where and how to call the endpoint.
#[derive(Clone, Debug)]
pub struct LlmEndpoint {
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub base: reqwest::Url,
    pub key: Secret<String>,
    /// Model name, e.g. `gpt-4o-mini`.
    pub model: String,
    http: reqwest::Client,
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
        key: Secret<String>,
        model: String,
        timeout: Duration,
    ) -> Result<LlmEndpoint, LlmError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .user_agent(concat!("promptsales-mcp-content/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        Ok(LlmEndpoint { base, key, model, http })
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
        loop {
            let sent = self
                .http
                .post(self.url())
                .bearer_auth(self.key.expose())
                .json(&body)
                .send()
                .await;
            let retry_after = match sent {
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
