//! A store decorator that counts calls and delegates: proves a page with its relations costs a
//! small constant number of store calls (no N+1).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use promptsales_content::store::{
    After, CampaignLog, ContentRequest, ContentStore, Hashtag, Image, ImageBlob, Integration, LogReview,
    NewCampaignLog, NewContentRequest, Page, RequestFilter, Result, Reviewed,
};
use uuid::Uuid;

pub struct Counting {
    inner: Arc<dyn ContentStore>,
    calls: Mutex<Vec<&'static str>>,
}

impl Counting {
    pub fn new(inner: Arc<dyn ContentStore>) -> Arc<Counting> {
        Arc::new(Counting {
            inner,
            calls: Mutex::new(Vec::new()),
        })
    }

    /// The methods called so far, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().expect("not poisoned").clone()
    }

    pub fn reset(&self) {
        self.calls.lock().expect("not poisoned").clear();
    }

    fn count(&self, method: &'static str) {
        self.calls.lock().expect("not poisoned").push(method);
    }
}

type Time = DateTime<Utc>;

#[async_trait::async_trait]
impl ContentStore for Counting {
    async fn ping(&self) -> Result<()> {
        self.count("ping");
        self.inner.ping().await
    }
    async fn images(
        &self,
        tenant: Option<Uuid>,
        hashtag: Option<&str>,
        after: Option<After<Time>>,
        first: usize,
    ) -> Result<Page<Image>> {
        self.count("images");
        self.inner.images(tenant, hashtag, after, first).await
    }
    async fn images_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Image>> {
        self.count("images_by_id");
        self.inner.images_by_id(tenant, ids).await
    }
    async fn images_by_request(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>> {
        self.count("images_by_request");
        self.inner.images_by_request(tenant, ids).await
    }
    async fn images_by_campaign(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Image>>> {
        self.count("images_by_campaign");
        self.inner.images_by_campaign(tenant, ids).await
    }
    async fn image_blob(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Option<ImageBlob>> {
        self.count("image_blob");
        self.inner.image_blob(tenant, id).await
    }
    async fn hashtags(&self, category: Option<&str>, after: Option<After<i64>>, first: usize) -> Result<Page<Hashtag>> {
        self.count("hashtags");
        self.inner.hashtags(category, after, first).await
    }
    async fn hashtags_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Hashtag>> {
        self.count("hashtags_by_id");
        self.inner.hashtags_by_id(ids).await
    }
    async fn hashtags_by_tag(&self, tags: &[String]) -> Result<HashMap<String, Hashtag>> {
        self.count("hashtags_by_tag");
        self.inner.hashtags_by_tag(tags).await
    }
    async fn content_requests(
        &self,
        tenant: Option<Uuid>,
        filter: &RequestFilter,
        after: Option<After<Time>>,
        first: usize,
    ) -> Result<Page<ContentRequest>> {
        self.count("content_requests");
        self.inner.content_requests(tenant, filter, after, first).await
    }
    async fn content_requests_by_id(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, ContentRequest>> {
        self.count("content_requests_by_id");
        self.inner.content_requests_by_id(tenant, ids).await
    }
    async fn content_requests_by_campaign(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<ContentRequest>>> {
        self.count("content_requests_by_campaign");
        self.inner.content_requests_by_campaign(tenant, ids).await
    }
    async fn create_content_request(&self, request: &NewContentRequest) -> Result<ContentRequest> {
        self.count("create_content_request");
        self.inner.create_content_request(request).await
    }
    async fn create_campaign_log(&self, log: &NewCampaignLog) -> Result<CampaignLog> {
        self.count("create_campaign_log");
        self.inner.create_campaign_log(log).await
    }
    async fn review_campaign_log(&self, tenant: Option<Uuid>, review: &LogReview) -> Result<Reviewed> {
        self.count("review_campaign_log");
        self.inner.review_campaign_log(tenant, review).await
    }
    async fn campaign_logs(
        &self,
        tenant: Option<Uuid>,
        campaign_id: Option<Uuid>,
        after: Option<After<Time>>,
        first: usize,
    ) -> Result<Page<CampaignLog>> {
        self.count("campaign_logs");
        self.inner.campaign_logs(tenant, campaign_id, after, first).await
    }
    async fn campaign_logs_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, CampaignLog>> {
        self.count("campaign_logs_by_id");
        self.inner.campaign_logs_by_id(tenant, ids).await
    }
    async fn campaign_logs_by_campaign(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignLog>>> {
        self.count("campaign_logs_by_campaign");
        self.inner.campaign_logs_by_campaign(tenant, ids).await
    }
    async fn integrations(
        &self,
        tenant: Option<Uuid>,
        after: Option<After<String>>,
        first: usize,
    ) -> Result<Page<Integration>> {
        self.count("integrations");
        self.inner.integrations(tenant, after, first).await
    }
    async fn integrations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Integration>> {
        self.count("integrations_by_id");
        self.inner.integrations_by_id(tenant, ids).await
    }
    async fn images_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: Time,
        after: Option<After<Time>>,
        first: usize,
    ) -> Result<Page<Image>> {
        self.count("images_updated_since");
        self.inner.images_updated_since(tenant, since, after, first).await
    }
    async fn content_requests_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: Time,
        after: Option<After<Time>>,
        first: usize,
    ) -> Result<Page<ContentRequest>> {
        self.count("content_requests_updated_since");
        self.inner
            .content_requests_updated_since(tenant, since, after, first)
            .await
    }
    async fn campaign_logs_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: Time,
        after: Option<After<Time>>,
        first: usize,
    ) -> Result<Page<CampaignLog>> {
        self.count("campaign_logs_updated_since");
        self.inner
            .campaign_logs_updated_since(tenant, since, after, first)
            .await
    }
}
