//! Where reminders and alerts go: a pluggable sender. Locally a log sink; in production (and in
//! tests) an HTTP sink that posts each message to a webhook (the e-mail/SMS/portal notification
//! service behind it chooses the recipient's address; this worker never handles personal data).
//!
//! Delivery is at least once from here — a worker that dies after posting and before recording
//! the delivery leaves the row to be taken over and posted again — and exactly once in effect:
//! every message carries an `Idempotency-Key` that is the row's id, the same on every attempt, so
//! the receiving service applies it once however many times it arrives.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// One message to deliver.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The row it comes from; the idempotency key of every attempt.
    pub key: Uuid,
    /// `reminder` or `alert`.
    pub kind: &'static str,
    /// `email`, `sms`, `portal` (reminders) or `webhook` (alerts).
    pub channel: String,
    pub organization_id: Uuid,
    pub attempt: i32,
    pub body: Value,
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth another try later (timeouts, 5xx, 429, connection errors).
    #[error("{0}")]
    Transient(String),
    /// Will not succeed by trying again (the receiver refused the message: 4xx).
    #[error("{0}")]
    Permanent(String),
}

/// A way to deliver messages.
pub trait Sender: Send + Sync {
    fn send(&self, delivery: &Delivery) -> impl std::future::Future<Output = Result<(), SendError>> + Send;
}

/// Writes each message to the log (local runs).
#[derive(Debug, Default, Clone)]
pub struct LogSink;

impl Sender for LogSink {
    async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        tracing::info!(
            key = %delivery.key,
            kind = delivery.kind,
            channel = %delivery.channel,
            organization = %delivery.organization_id,
            attempt = delivery.attempt,
            body = %delivery.body,
            "delivered"
        );
        Ok(())
    }
}

/// Posts each message as JSON to a webhook with an `Idempotency-Key` header.
#[derive(Debug, Clone)]
pub struct HttpSink {
    http: reqwest::Client,
    url: reqwest::Url,
}

impl HttpSink {
    pub fn new(url: reqwest::Url, timeout: Duration) -> anyhow::Result<HttpSink> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .user_agent(concat!("promptsales-worker/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HttpSink { http, url })
    }
}

impl Sender for HttpSink {
    async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        let response = self
            .http
            .post(self.url.clone())
            .header("idempotency-key", delivery.key.to_string())
            .json(delivery)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("posting to the sink: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let why = format!("the sink answered {status}");
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(SendError::Transient(why))
        } else {
            Err(SendError::Permanent(why))
        }
    }
}

/// The sender a configuration names.
#[derive(Debug, Clone)]
pub enum Sink {
    Log(LogSink),
    Http(HttpSink),
}

impl Sender for Sink {
    async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        match self {
            Sink::Log(s) => s.send(delivery).await,
            Sink::Http(s) => s.send(delivery).await,
        }
    }
}
