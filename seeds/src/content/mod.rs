//! PromptContent seed data: an image library drawn procedurally (real PNGs from flat vector
//! scenes, with descriptions written from the same parameters), its hashtag vocabulary, content
//! requests and campaign logs for a share of the campaigns, integrations per organization and one
//! generation log per image.
//!
//! Everything is a pure function of `seed`, `now` and the inputs: each record draws from its own
//! ChaCha8 stream (see `rng`), times derive from `now` and the campaign dates, never the clock.
//! Word lists and templates live in `seeds/data/content/` (English and Spanish).

mod campaigns;
mod canvas;
mod describe;
mod images;
mod integrations;
mod mongo;
mod objects;
mod pg;
mod records;
mod render;
mod rng;
mod scenes;
mod spec;
mod words;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use pg::{PgTable, PgValue, tables as pg_tables};
pub use records::{
    CampaignLog, ContentRequest, GenerationLog, Hashtag, Image, ImageBlob, ImageFile, Integration, LogMessage,
    TargetAudience, UsageRights,
};

/// What the content seeder needs to know about a campaign (written by the ads seeder).
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignBrief {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub brand: String,
    pub product: String,
    pub objective: String,
    /// `ads.channels.code` values, e.g. `instagram`.
    pub channel_codes: Vec<String>,
    /// ISO 3166-1 alpha-2 market codes, e.g. `MX`, `US`.
    pub market_codes: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// `encrypt(plaintext) -> (ciphertext, key_id)`: seals integration credentials (the crypto module).
pub type Encrypt<'a> = dyn Fn(&[u8]) -> (Vec<u8>, String) + Sync + 'a;

/// Every record of the content store, by collection.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentSet {
    pub images: Vec<Image>,
    pub image_blobs: Vec<ImageBlob>,
    pub hashtags: Vec<Hashtag>,
    pub content_requests: Vec<ContentRequest>,
    pub campaign_logs: Vec<CampaignLog>,
    pub integrations: Vec<Integration>,
    pub generation_logs: Vec<GenerationLog>,
}

/// Generates the content store. `encrypt(plaintext) -> (ciphertext, key_id)` seals integration
/// credentials (AES-256-GCM envelope, at least 28 bytes); it is called sequentially in a fixed
/// order, so the output is reproducible exactly when `encrypt` is.
pub fn generate(
    seed: u64,
    now: DateTime<Utc>,
    image_count: usize,
    organizations: &[Uuid],
    campaigns: &[CampaignBrief],
    encrypt: &Encrypt<'_>,
) -> ContentSet {
    let now = rng::ms(now);
    let content_requests = campaigns::requests(seed, now, campaigns);
    let campaign_logs = campaigns::logs(seed, now, campaigns);
    let (images, image_blobs, generation_logs) =
        images::build(seed, now, image_count, organizations, campaigns, &content_requests);
    let hashtags = images::hashtags(seed, &images);
    let integrations = integrations::build(seed, now, organizations, encrypt);
    ContentSet {
        images,
        image_blobs,
        hashtags,
        content_requests,
        campaign_logs,
        integrations,
        generation_logs,
    }
}

impl ContentSet {
    /// One MongoDB document per record, keyed by collection name, exactly as the validators
    /// require, in load order (images before blobs, requests before the logs naming them).
    pub fn documents(&self) -> Vec<(&'static str, Vec<bson::Document>)> {
        mongo::documents(self)
    }

    /// The same records as rows of the PostgreSQL jsonb twin, columns in each table's order, tables
    /// in load order. `updated_at` is included, although the table's trigger overwrites it.
    pub fn pg_rows(&self) -> Vec<PgTable> {
        pg::rows(self)
    }

    /// Number of records per collection, in load order.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("images", self.images.len()),
            ("image_blobs", self.image_blobs.len()),
            ("hashtags", self.hashtags.len()),
            ("content_requests", self.content_requests.len()),
            ("campaign_logs", self.campaign_logs.len()),
            ("integrations", self.integrations.len()),
            ("generation_logs", self.generation_logs.len()),
        ]
    }

    /// SHA-256 (hex) over every document's BSON bytes, collection by collection: equal sets give
    /// equal checksums, so runs and machines can be compared with one line.
    pub fn checksum(&self) -> String {
        let mut hasher = Sha256::new();
        for (collection, documents) in self.documents() {
            hasher.update(collection.as_bytes());
            for d in documents {
                let mut bytes = Vec::new();
                d.to_writer(&mut bytes).expect("a document built in memory serialises");
                hasher.update(&bytes);
            }
        }
        rng::hex(&hasher.finalize())
    }
}
