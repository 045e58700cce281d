//! A store decorator that counts calls and delegates: the N+1 tests assert on its count.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use chrono::{DateTime, Utc};
use promptsales_crm::store::{
    CampaignCustomer, CrmStore, Customer, CustomerFilter, CustomerRecord, Erasure, Funnel, Interaction, Lead,
    LinkAfter, NameAfter, Page, Result, Sale, SalesCell, TimeAfter,
};
use promptsales_platform::crypto::WrappedKey;
use uuid::Uuid;

pub struct Counting {
    inner: Arc<dyn CrmStore>,
    calls: AtomicUsize,
    log: Mutex<Vec<&'static str>>,
}

impl Counting {
    pub fn new(inner: Arc<dyn CrmStore>) -> Arc<Counting> {
        Arc::new(Counting {
            inner,
            calls: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The methods called, in order (for assertion messages).
    pub fn log(&self) -> Vec<&'static str> {
        self.log.lock().expect("not poisoned").clone()
    }

    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
        self.log.lock().expect("not poisoned").clear();
    }

    fn count(&self, method: &'static str) -> &dyn CrmStore {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.log.lock().expect("not poisoned").push(method);
        self.inner.as_ref()
    }
}

#[async_trait::async_trait]
impl CrmStore for Counting {
    async fn ping(&self) -> Result<()> {
        self.count("ping").ping().await
    }
    async fn customers(
        &self,
        tenant: Option<Uuid>,
        filter: &CustomerFilter,
        after: Option<NameAfter>,
        first: usize,
    ) -> Result<Page<Customer>> {
        self.count("customers").customers(tenant, filter, after, first).await
    }
    async fn customers_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Customer>> {
        self.count("customers_by_id").customers_by_id(tenant, ids).await
    }
    async fn customer_keys(&self, tenant: Option<Uuid>, customers: &[Uuid]) -> Result<HashMap<Uuid, WrappedKey>> {
        self.count("customer_keys").customer_keys(tenant, customers).await
    }
    async fn leads_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Lead>> {
        self.count("leads_by_id").leads_by_id(tenant, ids).await
    }
    async fn interactions_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Interaction>> {
        self.count("interactions_by_id").interactions_by_id(tenant, ids).await
    }
    async fn sales_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Sale>> {
        self.count("sales_by_id").sales_by_id(tenant, ids).await
    }
    async fn campaign_customers(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<CampaignCustomer>>> {
        self.count("campaign_customers")
            .campaign_customers(tenant, campaigns, after, first)
            .await
    }
    async fn campaign_leads(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        status: Option<&str>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Lead>>> {
        self.count("campaign_leads")
            .campaign_leads(tenant, campaigns, status, after, first)
            .await
    }
    async fn campaign_interactions(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Interaction>>> {
        self.count("campaign_interactions")
            .campaign_interactions(tenant, campaigns, after, first)
            .await
    }
    async fn customer_interactions(
        &self,
        tenant: Option<Uuid>,
        customers: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Interaction>>> {
        self.count("customer_interactions")
            .customer_interactions(tenant, customers, after, first)
            .await
    }
    async fn customer_sales(
        &self,
        tenant: Option<Uuid>,
        customers: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Sale>>> {
        self.count("customer_sales")
            .customer_sales(tenant, customers, after, first)
            .await
    }
    async fn campaign_sales(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<SalesCell>>> {
        self.count("campaign_sales").campaign_sales(tenant, campaigns).await
    }
    async fn campaign_funnels(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Funnel>> {
        self.count("campaign_funnels").campaign_funnels(tenant, campaigns).await
    }
    async fn customers_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Customer>> {
        self.count("customers_updated_since")
            .customers_updated_since(tenant, since, after, first)
            .await
    }
    async fn leads_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Lead>> {
        self.count("leads_updated_since")
            .leads_updated_since(tenant, since, after, first)
            .await
    }
    async fn interactions_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Interaction>> {
        self.count("interactions_updated_since")
            .interactions_updated_since(tenant, since, after, first)
            .await
    }
    async fn sales_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Sale>> {
        self.count("sales_updated_since")
            .sales_updated_since(tenant, since, after, first)
            .await
    }
    async fn campaign_customers_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<LinkAfter>,
        first: usize,
    ) -> Result<Page<CampaignCustomer>> {
        self.count("campaign_customers_updated_since")
            .campaign_customers_updated_since(tenant, since, after, first)
            .await
    }
    async fn customer_record(&self, tenant: Option<Uuid>, customer: Uuid) -> Result<Option<CustomerRecord>> {
        self.count("customer_record").customer_record(tenant, customer).await
    }
    async fn erase_customer(&self, tenant: Option<Uuid>, customer: Uuid, actor: &str) -> Result<Option<Erasure>> {
        self.count("erase_customer")
            .erase_customer(tenant, customer, actor)
            .await
    }
}
