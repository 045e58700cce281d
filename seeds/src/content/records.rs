//! The records of the content store as plain data, one struct per collection. Every stored field
//! is here under its stored name; `documents()` and `pg_rows()` only change the representation.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// An image of the content library (`images`); its bytes are the [`ImageBlob`] with the same id.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: Uuid,
    /// `None` for the shared stock library.
    pub organization_id: Option<Uuid>,
    /// The campaign the image was made for. Not stored (the collection has no such field); it
    /// lets the caller point ads of that campaign at the image.
    pub campaign_id: Option<Uuid>,
    pub file: ImageFile,
    /// `png`.
    pub format: String,
    pub description: String,
    pub alt_text: String,
    pub hashtags: Vec<String>,
    /// `#rrggbb`, most dominant first.
    pub palette: Vec<String>,
    pub subjects: Vec<String>,
    pub usage_rights: UsageRights,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageFile {
    pub name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UsageRights {
    /// `owned`, `licensed`, `royalty_free` or `creative_commons`.
    pub license: String,
    pub owner: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Channel codes.
    pub allowed_channels: Vec<String>,
}

/// The PNG bytes of one image (`image_blobs`, `_id` = the image id).
#[derive(Clone, PartialEq)]
pub struct ImageBlob {
    pub image_id: Uuid,
    pub data: Vec<u8>,
    pub sha256: String,
}

impl std::fmt::Debug for ImageBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageBlob")
            .field("image_id", &self.image_id)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// One word of the hashtag vocabulary (`hashtags`).
#[derive(Debug, Clone, PartialEq)]
pub struct Hashtag {
    pub id: Uuid,
    pub tag: String,
    pub category: String,
    /// Number of generated images carrying the tag.
    pub usage_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A request for content for one campaign (`content_requests`).
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRequest {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_description: String,
    pub target_audiences: Vec<TargetAudience>,
    /// `open`, `in_progress`, `delivered` or `cancelled`.
    pub status: String,
    pub requested_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetAudience {
    pub name: String,
    pub age_min: u8,
    pub age_max: u8,
    pub locales: Vec<String>,
    pub interests: Vec<String>,
    pub country_codes: Vec<String>,
}

/// The messages a campaign sent to one population on one channel (`campaign_logs`).
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignLog {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub population: String,
    pub channel_code: String,
    pub messages: Vec<LogMessage>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogMessage {
    pub at: DateTime<Utc>,
    pub locale: String,
    pub text: String,
}

/// A connection of an organization to an outside service (`integrations`).
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub kind: String,
    pub endpoint: String,
    pub auth_method: String,
    /// Ciphertext from the caller's `encrypt` (nonce, ciphertext and tag); `None` with no credentials.
    pub credentials_enc: Option<Vec<u8>>,
    pub credentials_key_id: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One call to a generator (`generation_logs`); kept for ever, no tombstone.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationLog {
    pub id: Uuid,
    /// `None` for the stock library.
    pub organization_id: Option<Uuid>,
    pub request_id: Option<Uuid>,
    /// `image`, `text` or `hashtags`.
    pub kind: String,
    pub model: String,
    pub prompt: String,
    /// `images/<uuid>`.
    pub output_ref: Option<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub latency_ms: u64,
    /// USD, six decimals at most.
    pub cost_usd: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
