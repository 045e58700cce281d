//! DataLoaders: every entity and relation a list can reach is fetched in one query per batch,
//! never one per item (no N+1).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use crate::store::{self, After, DayRange, Page, SalesStore};

/// Loaders bound to one request's tenant.
pub struct Loaders {
    pub store: Arc<dyn SalesStore>,
    pub tenant: Option<Uuid>,
}

macro_rules! keys {
    ($($(#[$doc:meta])* $key:ident),+ $(,)?) => {
        $($(#[$doc])* #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)] pub struct $key(pub Uuid);)+
    };
}

keys! {
    OrgId, BrandId, ProductId, SubscriptionId, PlanId, UserId, CampaignPlanId, ApprovalId, TaskId, AiUsageId,
    /// Brands of an organization.
    BrandsOf,
    /// Products of a brand.
    ProductsOf,
    /// Contacts of an organization.
    ContactsOf,
    /// Subscriptions of an organization.
    SubscriptionsOf,
    /// The summary of a campaign.
    SummaryOf,
    /// The plan of a campaign.
    PlanOf,
    /// The approval steps of a campaign's plan.
    ApprovalsOf,
    /// The tasks of a campaign.
    TasksOf,
    /// The reminders of a task.
    RemindersOf,
}

/// One page of an organization's portal users.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsersOf {
    pub org: Uuid,
    pub first: usize,
    pub after: Option<After>,
}

/// The daily metrics of a campaign within a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricsOf {
    pub campaign: Uuid,
    pub range: DayRange,
}

/// Store errors reach the client as a generic error; the detail is logged.
fn fail(e: store::StoreError) -> async_graphql::Error {
    tracing::error!(error = %e, "loader failed");
    promptsales_platform::gql::error(promptsales_platform::gql::ErrorCode::Internal, "internal error")
}

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| f(*k)).collect()
}

macro_rules! loader {
    ($key:ident, $value:ty, $method:ident) => {
        impl Loader<$key> for Loaders {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let found = self
                    .store
                    .$method(self.tenant, &ids(keys, |k| k.0))
                    .await
                    .map_err(fail)?;
                Ok(found.into_iter().map(|(id, v)| ($key(id), v)).collect())
            }
        }
    };
}

loader!(OrgId, store::Organization, organizations_by_id);
loader!(BrandId, store::Brand, brands_by_id);
loader!(ProductId, store::Product, products_by_id);
loader!(BrandsOf, Vec<store::Brand>, brands_by_organization);
loader!(ProductsOf, Vec<store::Product>, products_by_brand);
loader!(ContactsOf, Vec<store::Contact>, contacts_by_organization);
loader!(SubscriptionId, store::Subscription, subscriptions_by_id);
loader!(SubscriptionsOf, Vec<store::Subscription>, subscriptions_by_organization);
loader!(UserId, store::PortalUser, portal_users_by_id);
loader!(CampaignPlanId, store::CampaignPlan, campaign_plans_by_id);
loader!(PlanOf, store::CampaignPlan, campaign_plans_by_campaign);
loader!(ApprovalId, store::Approval, approvals_by_id);
loader!(ApprovalsOf, Vec<store::Approval>, approvals_by_campaign);
loader!(TaskId, store::ScheduledTask, tasks_by_id);
loader!(TasksOf, Vec<store::ScheduledTask>, tasks_by_campaign);
loader!(RemindersOf, Vec<store::TaskReminder>, reminders_by_task);
loader!(SummaryOf, store::CampaignSummary, summaries_by_campaign);
loader!(AiUsageId, store::AiUsage, ai_usage_by_id);

/// The price list is public reference data: no tenant filter.
impl Loader<PlanId> for Loaders {
    type Value = store::SubscriptionPlan;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PlanId]) -> Result<HashMap<PlanId, Self::Value>, Self::Error> {
        let found = self
            .store
            .subscription_plans_by_id(&ids(keys, |k| k.0))
            .await
            .map_err(fail)?;
        Ok(found.into_iter().map(|(id, v)| (PlanId(id), v)).collect())
    }
}

/// Keys that differ only in their parent id share one store call; in a list they all do (the same
/// page arguments or date range on every item).
fn batches<K, P: Clone + Eq + std::hash::Hash>(keys: &[K], part: impl Fn(&K) -> (Uuid, P)) -> HashMap<P, Vec<Uuid>> {
    let mut batches: HashMap<P, Vec<Uuid>> = HashMap::new();
    for key in keys {
        let (id, params) = part(key);
        batches.entry(params).or_default().push(id);
    }
    batches
}

impl Loader<UsersOf> for Loaders {
    type Value = Page<store::PortalUser>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UsersOf]) -> Result<HashMap<UsersOf, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for ((first, after), orgs) in batches(keys, |k| (k.org, (k.first, k.after.clone()))) {
            let pages = self
                .store
                .portal_users_by_organization(self.tenant, &orgs, after.clone(), first)
                .await
                .map_err(fail)?;
            out.extend(pages.into_iter().map(|(org, page)| {
                let key = UsersOf {
                    org,
                    first,
                    after: after.clone(),
                };
                (key, page)
            }));
        }
        Ok(out)
    }
}

impl Loader<MetricsOf> for Loaders {
    type Value = Vec<store::DailyMetric>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[MetricsOf]) -> Result<HashMap<MetricsOf, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for (range, campaigns) in batches(keys, |k| (k.campaign, k.range)) {
            let found = self
                .store
                .daily_metrics(self.tenant, &campaigns, range)
                .await
                .map_err(fail)?;
            out.extend(
                found
                    .into_iter()
                    .map(|(campaign, metrics)| (MetricsOf { campaign, range }, metrics)),
            );
        }
        Ok(out)
    }
}
