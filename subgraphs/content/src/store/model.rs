//! Documents of the content store, as the GraphQL layer reads them. Each is deserialized from the
//! canonical form of a document (see [`super::document::to_plain`]): MongoDB's document, or the
//! PostgreSQL twin's columns plus `doc`, with UUIDs as strings and times as RFC 3339.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An image of the content library (metadata; the bytes are in [`ImageBlob`]).
#[derive(Debug, Clone, Deserialize)]
pub struct Image {
    #[serde(rename = "_id", alias = "id")]
    pub id: Uuid,
    /// `None` for the shared stock library.
    pub organization_id: Option<Uuid>,
    pub file: ImageFile,
    pub format: String,
    pub description: String,
    pub alt_text: String,
    pub hashtags: Vec<String>,
    pub palette: Vec<String>,
    pub subjects: Vec<String>,
    pub usage_rights: UsageRights,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ImageFile {
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub width: i64,
    pub height: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UsageRights {
    pub license: String,
    pub owner: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub allowed_channels: Vec<String>,
}

/// The bytes of an image, with what an HTTP response needs.
#[derive(Debug, Clone)]
pub struct ImageBlob {
    pub content_type: String,
    /// SHA-256 of `data`, lowercase hex.
    pub sha256: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Hashtag {
    #[serde(rename = "_id", alias = "id")]
    pub id: Uuid,
    pub tag: String,
    pub category: String,
    pub usage_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ContentRequest {
    #[serde(rename = "_id", alias = "id")]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_description: String,
    pub target_audiences: Vec<TargetAudience>,
    pub status: String,
    pub requested_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetAudience {
    pub name: String,
    pub age_min: i32,
    pub age_max: i32,
    pub locales: Vec<String>,
    pub interests: Vec<String>,
    pub country_codes: Vec<String>,
}

/// A content request to write; the store adds status `open` and the times.
#[derive(Debug, Clone)]
pub struct NewContentRequest {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub requested_by: Uuid,
    pub campaign_description: String,
    pub target_audiences: Vec<TargetAudience>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CampaignLog {
    #[serde(rename = "_id", alias = "id")]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub population: String,
    pub channel_code: String,
    pub messages: Vec<LogMessage>,
    /// `sent`, `pending_approval`, `approved` or `rejected`; logs written before statuses
    /// existed have none and were sent.
    #[serde(default = "sent")]
    pub status: String,
    /// The content request the messages answer, when drafted for one.
    #[serde(default)]
    pub content_request_id: Option<Uuid>,
    /// Who decided on a draft (the reviewer's token subject), when, and why, once decided.
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub reviewed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub review_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A person's decision on a draft campaign log.
#[derive(Debug, Clone)]
pub struct LogReview {
    pub id: Uuid,
    /// `approved` or `rejected`.
    pub status: &'static str,
    /// The reviewer's token subject.
    pub reviewer: String,
    pub note: Option<String>,
}

/// What became of a review.
#[derive(Debug, Clone)]
pub enum Reviewed {
    Done(Box<CampaignLog>),
    /// No live log of the caller's organization has that id.
    NotFound,
    /// The log is not waiting for review: its status (`sent`, `approved`, `rejected`).
    NotPending(String),
}

fn sent() -> String {
    super::document::LOG_SENT.to_owned()
}

/// A campaign log to write; the store adds the times.
#[derive(Debug, Clone)]
pub struct NewCampaignLog {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub content_request_id: Option<Uuid>,
    pub population: String,
    pub channel_code: String,
    /// `pending_approval` for drafts.
    pub status: String,
    pub messages: Vec<LogMessage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogMessage {
    pub at: DateTime<Utc>,
    pub locale: String,
    pub text: String,
}

/// An integration without its credentials: adapters never read the ciphertext, only whether it
/// is there and which key made it.
#[derive(Debug, Clone, Deserialize)]
pub struct Integration {
    #[serde(rename = "_id", alias = "id")]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub kind: String,
    pub endpoint: String,
    pub auth_method: String,
    pub has_credentials: bool,
    pub credentials_key_id: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}
