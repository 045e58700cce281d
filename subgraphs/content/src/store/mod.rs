//! The content store behind one trait, so the GraphQL layer never sees a query language. Two
//! adapters, chosen by the scheme of `PROMPTSALES_CONTENT_URL`: [`MongoStore`] for the prescribed
//! MongoDB and [`PgStore`] for its PostgreSQL jsonb twin (local default and tests). Both read a
//! document into the same model through the same canonical form (see [`document`]), and both
//! validate every document they write against the `$jsonSchema` MongoDB enforces, plus the
//! cross-field rules a `$jsonSchema` cannot state.
//!
//! Every read takes the caller's organization: `Some` filters to that tenant, `None` (staff) sees
//! all. Images with no organization are the shared stock library, visible to every tenant.
//! Hashtags are a shared public vocabulary with no organization, so their calls take no tenant.

pub mod document;
mod model;
mod mongo;
mod pg;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
pub use model::*;
pub use mongo::MongoStore;
pub use pg::PgStore;
pub use promptsales_platform::mongo_schema::Violation;
use uuid::Uuid;

/// A store failure. Its text goes to the log, never to a client, except [`StoreError::Invalid`],
/// which says which rule a document written by the caller broke.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("content store (PostgreSQL): {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("content store (MongoDB): {0}")]
    Mongo(#[from] mongodb::error::Error),
    /// A stored document could not be read into the model (the store holds something the
    /// validators should have refused).
    #[error("content store: unexpected document shape: {0}")]
    Shape(String),
    /// The store URL cannot be used.
    #[error("content store: {0}")]
    Config(String),
    /// A document to write broke a rule; nothing was written.
    #[error("invalid document: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Violation>),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Keyset position in a list ordered by `(key, id)`: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After<K> {
    pub key: K,
    pub id: Uuid,
}

/// One page of a list, with the total count of the list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    pub total: i64,
}

impl<T> Page<T> {
    /// A page from `first + 1` fetched items: the extra one only says there is more.
    pub(crate) fn from_overfetch(mut items: Vec<T>, first: usize, total: i64) -> Page<T> {
        let has_more = items.len() > first;
        items.truncate(first);
        Page { items, has_more, total }
    }
}

/// Filters of the content request list.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub campaign_id: Option<Uuid>,
    /// One of `open`, `in_progress`, `delivered`, `cancelled`.
    pub status: Option<String>,
}

#[async_trait::async_trait]
pub trait ContentStore: Send + Sync + 'static {
    /// Answers when the store can serve (readiness).
    async fn ping(&self) -> Result<()>;

    /// Live images visible to the tenant (its own and the stock library), newest first, optionally
    /// only those carrying `hashtag`.
    async fn images(
        &self,
        tenant: Option<Uuid>,
        hashtag: Option<&str>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Image>>;
    async fn images_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Image>>;
    /// Images generated for each content request (generation logs of the request whose
    /// `output_ref` is `images/<id>`), newest first.
    async fn images_by_request(&self, tenant: Option<Uuid>, requests: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>>;
    /// Images generated for the content requests of each campaign, newest first, each once.
    async fn images_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>>;
    /// The bytes of a live image visible to the tenant.
    async fn image_blob(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Option<ImageBlob>>;

    /// Live hashtags, most used first (then by id), optionally of one category.
    async fn hashtags(&self, category: Option<&str>, after: Option<After<i64>>, first: usize) -> Result<Page<Hashtag>>;
    async fn hashtags_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Hashtag>>;
    /// Live hashtags by their tag (tags unknown to the vocabulary are absent).
    async fn hashtags_by_tag(&self, tags: &[String]) -> Result<HashMap<String, Hashtag>>;

    /// Live content requests, newest first.
    async fn content_requests(
        &self,
        tenant: Option<Uuid>,
        filter: &RequestFilter,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<ContentRequest>>;
    async fn content_requests_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid])
    -> Result<HashMap<Uuid, ContentRequest>>;
    /// Live content requests of each campaign, newest first.
    async fn content_requests_by_campaign(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<ContentRequest>>>;
    /// Writes a new content request (status `open`; the store stamps its times) after validating
    /// its document; [`StoreError::Invalid`] when it breaks a rule, with nothing written. The
    /// organization is the request's own (the GraphQL layer derives it from the caller).
    async fn create_content_request(&self, request: &NewContentRequest) -> Result<ContentRequest>;

    /// Writes a new campaign log (a draft waiting for review, say) after validating its
    /// document; [`StoreError::Invalid`] when it breaks a rule, with nothing written.
    async fn create_campaign_log(&self, log: &NewCampaignLog) -> Result<CampaignLog>;

    /// Records a person's decision on a log waiting for review (`pending_approval` →
    /// `approved` or `rejected`, with the reviewer, the time and the note), in one conditional
    /// write: of two reviewers deciding at once, one wins and the other is told the log is no
    /// longer pending.
    async fn review_campaign_log(&self, tenant: Option<Uuid>, review: &LogReview) -> Result<Reviewed>;

    /// Live campaign logs, newest first, optionally of one campaign.
    async fn campaign_logs(
        &self,
        tenant: Option<Uuid>,
        campaign_id: Option<Uuid>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<CampaignLog>>;
    async fn campaign_logs_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, CampaignLog>>;
    /// Live logs of each campaign, by population, channel, then age.
    async fn campaign_logs_by_campaign(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignLog>>>;

    /// Live integrations, by name. Credentials are never read: only whether they are set.
    async fn integrations(
        &self,
        tenant: Option<Uuid>,
        after: Option<After<String>>,
        first: usize,
    ) -> Result<Page<Integration>>;
    async fn integrations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Integration>>;

    /// For the ETL: images changed after `since` (tombstones included), oldest change first,
    /// keyset on `(updated_at, id)`.
    async fn images_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Image>>;
    /// For the ETL: content requests changed after `since` (tombstones included).
    async fn content_requests_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<ContentRequest>>;
    /// For the ETL: campaign logs changed after `since` (tombstones included).
    async fn campaign_logs_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<CampaignLog>>;
}

/// Groups rows by a key, keeping their order.
pub(crate) fn group<T, K: std::hash::Hash + Eq>(rows: impl IntoIterator<Item = (K, T)>) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for (key, row) in rows {
        map.entry(key).or_default().push(row);
    }
    map
}
