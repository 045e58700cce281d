//! GraphQL object types of the content subgraph. Each wraps a store document; relations go
//! through the request's DataLoaders.

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ImageLinks, loader, loaders};
use crate::store;

fn id(id: Uuid) -> ID {
    ID(id.to_string())
}

pub struct Image(pub store::Image);

/// An image of the content library: metadata, hashtags, usage rights and where to fetch its bytes.
/// A tenant sees its own images and the shared stock library (images of no organization).
#[Object(requires_scopes = "content:read")]
impl Image {
    /// Stable id (UUID).
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Owning organization; null for the shared stock library, which every tenant may use.
    async fn organization_id(&self) -> Option<ID> {
        self.0.organization_id.map(id)
    }
    /// Whether the image belongs to the shared stock library rather than to one organization.
    async fn stock(&self) -> bool {
        self.0.organization_id.is_none()
    }
    /// Where the bytes are served (`GET`, with the gateway's claims): `…/images/{id}`, answering
    /// with the file's content type, `ETag` = its SHA-256 and an immutable cache lifetime.
    async fn url(&self, ctx: &Context<'_>) -> String {
        ctx.data_unchecked::<ImageLinks>().url(self.0.id)
    }
    /// The stored file: name, type, size, dimensions and hash.
    async fn file(&self) -> ImageFile<'_> {
        ImageFile(&self.0.file)
    }
    /// Image format: `png` or `webp` (agrees with `file.contentType`).
    async fn format(&self) -> &str {
        &self.0.format
    }
    /// Long description of what the image shows (200–5000 characters), for search and prompts.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Text read out or shown in place of the image (accessibility), at most 250 characters.
    async fn alt_text(&self) -> &str {
        &self.0.alt_text
    }
    /// The image's 3 to 8 hashtags as stored: lowercase, without the leading `#`.
    async fn tags(&self) -> &[String] {
        &self.0.hashtags
    }
    /// The image's hashtags from the shared vocabulary, with their usage counts (tags the
    /// vocabulary does not hold, or holds only as deleted, are left out; `tags` has them all).
    async fn hashtags(&self, ctx: &Context<'_>) -> Result<Vec<Hashtag>> {
        let keys = self.0.hashtags.iter().map(|t| loaders::Tag(t.clone()));
        let mut found = loader(ctx).load_many(keys).await?;
        Ok(self
            .0
            .hashtags
            .iter()
            .filter_map(|t| found.remove(&loaders::Tag(t.clone())))
            .map(Hashtag)
            .collect())
    }
    /// Dominant colours as lowercase `#rrggbb`, most dominant first.
    async fn palette(&self) -> &[String] {
        &self.0.palette
    }
    /// What the image shows (people, products, places).
    async fn subjects(&self) -> &[String] {
        &self.0.subjects
    }
    /// The licence under which the image may be used.
    async fn usage_rights(&self) -> UsageRights<'_> {
        UsageRights(&self.0.usage_rights)
    }
    /// When the image was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the image was deleted (only visible through `imagesUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct ImageFile<'a>(&'a store::ImageFile);

/// The stored file of an image.
#[Object(requires_scopes = "content:read")]
impl ImageFile<'_> {
    /// Original file name, without any directory part.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// MIME type: `image/png` or `image/webp`.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Size of the bytes (at most 15 MiB).
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    /// Width in pixels.
    async fn width(&self) -> i64 {
        self.0.width
    }
    /// Height in pixels.
    async fn height(&self) -> i64 {
        self.0.height
    }
    /// SHA-256 of the bytes, lowercase hex (also the `ETag` of the image URL).
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
}

pub struct UsageRights<'a>(&'a store::UsageRights);

/// The licence under which an image may be used.
#[Object(requires_scopes = "content:read")]
impl UsageRights<'_> {
    /// Licence kind: `owned`, `licensed`, `royalty_free` or `creative_commons`.
    async fn license(&self) -> &str {
        &self.0.license
    }
    /// Rights holder.
    async fn owner(&self) -> &str {
        &self.0.owner
    }
    /// End of the licence; null when it does not expire.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// Channel codes (PromptAds channels) the image may be published on.
    async fn allowed_channels(&self) -> &[String] {
        &self.0.allowed_channels
    }
}

pub struct Hashtag(pub store::Hashtag);

/// A hashtag of the shared vocabulary used to tag images and suggest hashtags.
#[Object(requires_scopes = "content:read")]
impl Hashtag {
    /// Stable id (UUID).
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The hashtag: lowercase letters, digits and underscore, without `#`.
    async fn tag(&self) -> &str {
        &self.0.tag
    }
    /// Grouping such as `season`, `product`, `audience`, `event` or `trend`.
    async fn category(&self) -> &str {
        &self.0.category
    }
    /// How many live images of the whole library (every organization and the stock library)
    /// carry it: a count only, it reveals no image.
    async fn usage_count(&self) -> i64 {
        self.0.usage_count
    }
    /// When the hashtag was added to the vocabulary.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Where a content request stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(requires_scopes = "content:read")]
pub enum ContentRequestStatus {
    /// Asked for, not yet started.
    Open,
    /// Content is being produced.
    InProgress,
    /// Content was delivered.
    Delivered,
    /// Withdrawn before delivery.
    Cancelled,
}

impl ContentRequestStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentRequestStatus::Open => "open",
            ContentRequestStatus::InProgress => "in_progress",
            ContentRequestStatus::Delivered => "delivered",
            ContentRequestStatus::Cancelled => "cancelled",
        }
    }

    fn parse(stored: &str) -> Option<ContentRequestStatus> {
        [
            ContentRequestStatus::Open,
            ContentRequestStatus::InProgress,
            ContentRequestStatus::Delivered,
            ContentRequestStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
    }
}

pub struct ContentRequest(pub store::ContentRequest);

/// A request for content for one campaign: what the campaign is about and whom it addresses.
#[Object(requires_scopes = "content:read")]
impl ContentRequest {
    /// Stable id (UUID).
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The organization that asked.
    async fn organization_id(&self) -> ID {
        id(self.0.organization_id)
    }
    /// The campaign the content is for (owned by the ads subgraph; null when ads cannot answer).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
    /// What the campaign is about, in the customer's words.
    async fn campaign_description(&self) -> &str {
        &self.0.campaign_description
    }
    /// The audiences to produce content for.
    async fn target_audiences(&self) -> Vec<TargetAudience<'_>> {
        self.0.target_audiences.iter().map(TargetAudience).collect()
    }
    /// Where the request stands.
    async fn status(&self, ctx: &Context<'_>) -> Result<ContentRequestStatus> {
        // The store's CHECK / validator admits only these four; anything else is our bug.
        ContentRequestStatus::parse(&self.0.status).ok_or_else(|| {
            promptsales_platform::gql::internal(
                ctx,
                format!("content request {} has status {}", self.0.id, self.0.status),
            )
        })
    }
    /// The PromptSales portal user who asked.
    async fn requested_by(&self) -> ID {
        id(self.0.requested_by)
    }
    /// Images generated for this request (its generation logs naming `images/<id>`), newest first.
    async fn images(&self, ctx: &Context<'_>) -> Result<Vec<Image>> {
        let found = loader(ctx).load_one(loaders::ImagesOfRequest(self.0.id)).await?;
        Ok(found.unwrap_or_default().into_iter().map(Image).collect())
    }
    /// When the request was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the request was deleted (only visible through `contentRequestsUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct TargetAudience<'a>(&'a store::TargetAudience);

/// One audience a content request addresses.
#[Object(requires_scopes = "content:read")]
impl TargetAudience<'_> {
    /// Audience name; campaign logs name it as their population.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Youngest age targeted (13 or more: no advertising to children).
    async fn age_min(&self) -> i32 {
        self.0.age_min
    }
    /// Oldest age targeted, not below `ageMin`.
    async fn age_max(&self) -> i32 {
        self.0.age_max
    }
    /// Languages as BCP 47 tags such as `es-MX` or `es-419`.
    async fn locales(&self) -> &[String] {
        &self.0.locales
    }
    /// Interests to appeal to.
    async fn interests(&self) -> &[String] {
        &self.0.interests
    }
    /// Countries as ISO 3166-1 alpha-2 codes.
    async fn country_codes(&self) -> &[String] {
        &self.0.country_codes
    }
}

pub struct CampaignLog(pub store::CampaignLog);

/// The messages a campaign sent to one target population on one channel.
#[Object(requires_scopes = "content:read")]
impl CampaignLog {
    /// Stable id (UUID).
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The organization that ran the campaign.
    async fn organization_id(&self) -> ID {
        id(self.0.organization_id)
    }
    /// The campaign (owned by the ads subgraph; null when ads cannot answer).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
    /// Target population (a target audience of the campaign's content request).
    async fn population(&self) -> &str {
        &self.0.population
    }
    /// Channel code (a PromptAds channel, e.g. `instagram`).
    async fn channel_code(&self) -> &str {
        &self.0.channel_code
    }
    /// Review status: `SENT` for messages that went out, `PENDING_APPROVAL` for drafts waiting for
    /// a person (e.g. written by an AI assistant), then `APPROVED` or `REJECTED`.
    async fn status(&self) -> Option<CampaignLogStatus> {
        CampaignLogStatus::parse(&self.0.status)
    }
    /// The content request these messages answer, when they were drafted for one.
    async fn content_request_id(&self) -> Option<ID> {
        self.0.content_request_id.map(id)
    }
    /// Who approved or rejected the draft (the reviewer's token subject); null until decided.
    async fn reviewed_by(&self) -> Option<&str> {
        self.0.reviewed_by.as_deref()
    }
    /// When the draft was approved or rejected; null until decided.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    /// The reviewer's reason, when given.
    async fn review_note(&self) -> Option<&str> {
        self.0.review_note.as_deref()
    }
    /// How many messages the log holds (at most 1000; a full log continues in a new one).
    async fn message_count(&self) -> usize {
        self.0.messages.len()
    }
    /// The messages in the order sent.
    async fn messages(&self) -> Vec<CampaignLogMessage<'_>> {
        self.0.messages.iter().map(CampaignLogMessage).collect()
    }
    /// When the log was started.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change (a message added), set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the log was deleted (only visible through `campaignLogsUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

/// Where a campaign log stands in review.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(requires_scopes = "content:read")]
pub enum CampaignLogStatus {
    /// The messages went out.
    Sent,
    /// Drafted, waiting for a person to approve or reject them.
    PendingApproval,
    /// A reviewer accepted the drafts.
    Approved,
    /// A reviewer turned the drafts down.
    Rejected,
}

impl CampaignLogStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignLogStatus::Sent => "sent",
            CampaignLogStatus::PendingApproval => "pending_approval",
            CampaignLogStatus::Approved => "approved",
            CampaignLogStatus::Rejected => "rejected",
        }
    }

    fn parse(stored: &str) -> Option<CampaignLogStatus> {
        [
            CampaignLogStatus::Sent,
            CampaignLogStatus::PendingApproval,
            CampaignLogStatus::Approved,
            CampaignLogStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
    }
}

pub struct CampaignLogMessage<'a>(&'a store::LogMessage);

/// One message a campaign sent to a population.
#[Object(requires_scopes = "content:read")]
impl CampaignLogMessage<'_> {
    /// When it was sent.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Language of the text, BCP 47.
    async fn locale(&self) -> &str {
        &self.0.locale
    }
    /// The message as sent.
    async fn text(&self) -> &str {
        &self.0.text
    }
}

pub struct Integration(pub store::Integration);

/// A connection from an organization to an outside service. Its credentials are stored encrypted
/// and never returned: only whether they are set and which key encrypted them.
#[Object(requires_scopes = "content:read")]
impl Integration {
    /// Stable id (UUID).
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The owning organization.
    async fn organization_id(&self) -> ID {
        id(self.0.organization_id)
    }
    /// Name, unique among the organization's integrations.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Service kind: `openai`, `meta_ads`, `google_ads`, `mailchimp`, `hubspot`, `webhook` or `custom`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Base URL of the service (https).
    async fn endpoint(&self) -> &str {
        &self.0.endpoint
    }
    /// How the service authenticates us: `oauth2_client_credentials`, `api_key`, `basic`, `bearer` or `none`.
    async fn auth_method(&self) -> &str {
        &self.0.auth_method
    }
    /// Whether credentials are stored (encrypted).
    async fn has_credentials(&self) -> bool {
        self.0.has_credentials
    }
    /// Id of the key that encrypted the credentials; null when none are stored.
    async fn credentials_key_id(&self) -> Option<&str> {
        self.0.credentials_key_id.as_deref()
    }
    /// Whether the integration may be used (an enabled one that needs credentials has them).
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// When the integration was set up.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct Campaign {
    pub id: Uuid,
}

/// A marketing campaign (owned by the ads subgraph); this subgraph adds its content: the content
/// requests, the logs of messages sent, and the images generated for it. Each is nullable
/// (docs/schema-rules.md): when this subgraph fails, or the caller lacks `content:read`, only
/// these fields are null, never the campaign.
#[Object]
impl Campaign {
    /// The campaign id, the same in every store.
    async fn id(&self) -> ID {
        id(self.id)
    }
    /// The campaign's content requests, newest first.
    #[graphql(requires_scopes = "content:read")]
    async fn content_requests(&self, ctx: &Context<'_>) -> Result<Option<Vec<ContentRequest>>> {
        let found = loader(ctx).load_one(loaders::RequestsOf(self.id)).await?;
        Ok(Some(
            found.unwrap_or_default().into_iter().map(ContentRequest).collect(),
        ))
    }
    /// The campaign's message logs (one per population and channel), by population, then channel.
    #[graphql(requires_scopes = "content:read")]
    async fn logs(&self, ctx: &Context<'_>) -> Result<Option<Vec<CampaignLog>>> {
        let found = loader(ctx).load_one(loaders::LogsOf(self.id)).await?;
        Ok(Some(found.unwrap_or_default().into_iter().map(CampaignLog).collect()))
    }
    /// Images generated for the campaign's content requests, newest first, each once. The images
    /// its ads actually show are named by the ads subgraph (`Ad.contentImageId`) and resolve
    /// through the `Image` entity of this subgraph.
    #[graphql(requires_scopes = "content:read")]
    async fn images(&self, ctx: &Context<'_>) -> Result<Option<Vec<Image>>> {
        let found = loader(ctx).load_one(loaders::ImagesOfCampaign(self.id)).await?;
        Ok(Some(found.unwrap_or_default().into_iter().map(Image).collect()))
    }
}

/// The answer of `searchImages`: the images found, best first, and how the query was embedded
/// (what an AI usage record of the search needs).
pub struct ImageSearch(pub crate::search::SearchOutcome);

#[Object(requires_scopes = "content:read")]
impl ImageSearch {
    /// The images found, best first (at most `first`).
    async fn hits(&self) -> Vec<ImageHit> {
        self.0.hits.iter().cloned().map(ImageHit).collect()
    }
    /// The embedding model and the digest of its files, e.g. `all-MiniLM-L6-v2-1a2b3c4d5e6f`.
    async fn model(&self) -> &str {
        &self.0.embedding.model
    }
    /// Word pieces of the query the model read.
    async fn query_tokens(&self) -> i32 {
        i32::try_from(self.0.embedding.tokens).unwrap_or(i32::MAX)
    }
    /// Whether the query's embedding came from the cache (`ps:emb:`) instead of the model.
    async fn embedding_cache_hit(&self) -> bool {
        self.0.embedding.cache_hit
    }
    /// Milliseconds spent getting the query's embedding.
    async fn embedding_ms(&self) -> i32 {
        i32::try_from(self.0.embedding.millis).unwrap_or(i32::MAX)
    }
}

/// One image found by `searchImages`.
pub struct ImageHit(pub crate::search::Hit);

#[Object(requires_scopes = "content:read")]
impl ImageHit {
    /// The image.
    async fn image(&self) -> Image {
        Image(self.0.image.clone())
    }
    /// Rank score: `similarity` plus the hashtag boost (up to 0.15 for the asked hashtags and
    /// up to 0.15 for hashtags the text spells). Higher is better.
    async fn score(&self) -> f64 {
        f64::from(self.0.score)
    }
    /// Cosine similarity of the text's and the image's embeddings (description and hashtags), -1 to 1.
    async fn similarity(&self) -> f64 {
        f64::from(self.0.similarity)
    }
    /// The image's hashtags (lowercase, without `#`).
    async fn hashtags(&self) -> &[String] {
        &self.0.image.hashtags
    }
    /// The image's hashtags that earned a boost: asked for, or spelled by the text.
    async fn matched_hashtags(&self) -> &[String] {
        &self.0.matched_hashtags
    }
}
