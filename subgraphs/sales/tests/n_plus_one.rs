//! No N+1: a page of 50 items with their relations, and a batch of 50 entity representations,
//! cost a small constant number of store calls, counted by a decorator around the real store.

mod common;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use common::*;
use promptsales_sales::store::*;
use serde_json::json;
use uuid::Uuid;

/// Counts calls per store method and delegates them.
struct Counting {
    inner: Arc<dyn SalesStore>,
    calls: Arc<Mutex<BTreeMap<&'static str, usize>>>,
}

impl Counting {
    fn hit(&self, method: &'static str) {
        *self.calls.lock().expect("not poisoned").entry(method).or_default() += 1;
    }
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait::async_trait]
        impl SalesStore for Counting {
            $(async fn $name(&self, $($arg: $ty),*) -> $ret {
                self.hit(stringify!($name));
                self.inner.$name($($arg),*).await
            })*
        }
    };
}

type Tenant = Option<Uuid>;
type Since = DateTime<Utc>;
type AfterTime = Option<After<DateTime<Utc>>>;

delegate! {
    ping() -> Result<()>;
    organizations(tenant: Tenant, after: Option<After>, first: usize) -> Result<Page<Organization>>;
    organizations_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, Organization>>;
    brands(tenant: Tenant, organization: Option<Uuid>, after: Option<After>, first: usize) -> Result<Page<Brand>>;
    brands_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, Brand>>;
    brands_by_organization(tenant: Tenant, orgs: &[Uuid]) -> Result<HashMap<Uuid, Vec<Brand>>>;
    products(tenant: Tenant, filter: &ProductFilter, after: Option<After>, first: usize) -> Result<Page<Product>>;
    products_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, Product>>;
    products_by_brand(tenant: Tenant, brands: &[Uuid]) -> Result<HashMap<Uuid, Vec<Product>>>;
    contacts_by_organization(tenant: Tenant, orgs: &[Uuid]) -> Result<HashMap<Uuid, Vec<Contact>>>;
    subscription_plans() -> Result<Vec<SubscriptionPlan>>;
    subscription_plans_by_id(ids: &[Uuid]) -> Result<HashMap<Uuid, SubscriptionPlan>>;
    subscriptions_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, Subscription>>;
    subscriptions_by_organization(tenant: Tenant, orgs: &[Uuid]) -> Result<HashMap<Uuid, Vec<Subscription>>>;
    portal_users_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, PortalUser>>;
    portal_users_by_organization(tenant: Tenant, orgs: &[Uuid], after: Option<After>, first: usize)
        -> Result<HashMap<Uuid, Page<PortalUser>>>;
    campaign_plans_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, CampaignPlan>>;
    campaign_plans_by_campaign(tenant: Tenant, campaigns: &[Uuid]) -> Result<HashMap<Uuid, CampaignPlan>>;
    approvals_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, Approval>>;
    approvals_by_campaign(tenant: Tenant, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<Approval>>>;
    tasks_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, ScheduledTask>>;
    tasks_by_campaign(tenant: Tenant, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<ScheduledTask>>>;
    reminders_by_task(tenant: Tenant, tasks: &[Uuid]) -> Result<HashMap<Uuid, Vec<TaskReminder>>>;
    summaries_by_campaign(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, CampaignSummary>>;
    campaign_summaries(tenant: Tenant, filter: &SummaryFilter, order: SummaryOrder, after: Option<After<SummaryKey>>,
        first: usize) -> Result<Page<CampaignSummary>>;
    daily_metrics(tenant: Tenant, campaigns: &[Uuid], range: DayRange) -> Result<HashMap<Uuid, Vec<DailyMetric>>>;
    ai_usage(tenant: Tenant, since: Option<Since>, after: AfterTime, first: usize) -> Result<Page<AiUsage>>;
    ai_usage_by_id(tenant: Tenant, ids: &[Uuid]) -> Result<HashMap<Uuid, AiUsage>>;
    record_ai_usage(actor: &Actor, usage: &NewAiUsage) -> Result<Uuid>;
    organizations_updated_since(tenant: Tenant, since: Since, after: AfterTime, first: usize)
        -> Result<Page<Organization>>;
    brands_updated_since(tenant: Tenant, since: Since, after: AfterTime, first: usize) -> Result<Page<Brand>>;
    products_updated_since(tenant: Tenant, since: Since, after: AfterTime, first: usize) -> Result<Page<Product>>;
    decide_approval(tenant: Tenant, actor: &Actor, decision: &Decision) -> Result<Approval, WriteError>;
    complete_task(tenant: Tenant, actor: &Actor, task: Uuid) -> Result<ScheduledTask, WriteError>;
    record_pii_reads(actor: &Actor, reads: &[PiiRead]) -> Result<()>;
    audit_trail(tenant: Tenant, target_id: &str, limit: usize) -> Result<Vec<AuditEntry>>;
}

/// A subgraph over a counting store. The loaders' gathering window is widened from the 1 ms
/// default: this test proves the structure (every relation goes through a loader, one store call
/// per batch), and an unoptimised build on a busy machine can take longer than 1 ms to reach every
/// key of a level (async-graphql yields to the runtime every couple of list items).
async fn counted() -> (Subgraph, Arc<Mutex<BTreeMap<&'static str, usize>>>) {
    let calls = Arc::new(Mutex::new(BTreeMap::new()));
    let counter = calls.clone();
    let sg = Subgraph::start_with(move |inner| Arc::new(Counting { inner, calls: counter }), 50).await;
    (sg, calls)
}

fn take(calls: &Mutex<BTreeMap<&'static str, usize>>) -> BTreeMap<&'static str, usize> {
    std::mem::take(&mut *calls.lock().expect("not poisoned"))
}

/// Every call is one of `bounds`, at most that many times: one per path of the query that reaches
/// the method, whatever the number of items.
fn assert_within(counts: &BTreeMap<&'static str, usize>, bounds: &[(&str, usize)]) {
    for (method, n) in counts {
        let bound = bounds
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, b)| *b)
            .unwrap_or_else(|| panic!("unexpected store call {method}: {counts:?}"));
        assert!(
            *n >= 1 && *n <= bound,
            "{method} called {n} times (at most {bound}): {counts:?}"
        );
    }
    for (method, _) in bounds {
        assert!(counts.contains_key(method), "{method} never called: {counts:?}");
    }
}

#[tokio::test]
async fn should_load_fifty_organizations_with_their_relations_in_a_constant_number_of_store_calls() {
    let (sg, calls) = counted().await;
    for i in 0..50 {
        let org = sg.org(&format!("Org {i:02}")).await;
        let brand = sg.brand(org, "Main").await;
        sg.product(org, brand, &format!("P-{i}"), "Product").await;
        sg.user(Some(org), "Owner", &format!("owner{i}@org.mx"), "owner").await;
        sg.contact(org, "Contact", &format!("c{i}@org.mx"), "+525500000000", true)
            .await;
    }
    take(&calls);
    let query = "{ organizations(first: 50) { totalCount edges { node { name
        brands { name organization { name } products { sku brand { name } } }
        subscriptions { status plan { code } }
        portalUsers(first: 5) { totalCount edges { node { displayName email organization { name } } } }
        contacts { fullName email phone } } } } }";
    // With `admin`, the plaintext reads are audited: in one batch as well.
    let data = sg.data(&admin(), query, json!({})).await;
    assert_eq!(nodes(&data["organizations"]).len(), 50);
    assert_eq!(
        nodes(&data["organizations"])[49]["brands"][0]["products"][0]["sku"],
        "P-49"
    );
    let counts = take(&calls);
    assert_within(
        &counts,
        &[
            ("organizations", 1),
            ("brands_by_organization", 1),
            ("subscriptions_by_organization", 1),
            ("portal_users_by_organization", 1),
            ("contacts_by_organization", 1),
            ("products_by_brand", 1),
            // brand.organization and portalUser.organization: two paths (cached across them).
            ("organizations_by_id", 2),
            ("brands_by_id", 1),
            // One audit write per request, however many records were read.
            ("record_pii_reads", 1),
        ],
    );
    assert_eq!(counts["record_pii_reads"], 1);
}

#[tokio::test]
async fn should_resolve_fifty_campaigns_with_summary_plan_approvals_and_schedule_in_a_constant_number_of_store_calls() {
    let (sg, calls) = counted().await;
    let mut reps = Vec::new();
    for i in 0..50 {
        let org = sg.org(&format!("Org {i:02}")).await;
        let fx = sg.plan(org, 2).await;
        sg.summary(org, fx.brand, fx.campaign, 1_000 + i, 500, i).await;
        reps.push(json!({ "__typename": "Campaign", "id": fx.campaign }));
    }
    take(&calls);
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign {
        summary { revenue roi brand { name } organization { name } }
        plan { title status brand { name } createdBy { displayName } approvals { step } }
        approvals { step decision approver { displayName } plan { title } }
        schedule { title assignee { displayName } reminders { channel } }
        dailyMetrics { day }
    } } }";
    let data = sg.data(&staff(), query, json!({ "r": reps })).await;
    let entities = data["_entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 50);
    assert!(
        entities
            .iter()
            .all(|e| e["approvals"].as_array().expect("steps").len() == 2)
    );
    let counts = take(&calls);
    assert_within(
        &counts,
        &[
            ("summaries_by_campaign", 1),
            ("campaign_plans_by_campaign", 1),
            ("tasks_by_campaign", 1),
            ("daily_metrics", 1),
            // Campaign.approvals, and plan.approvals when the first is still in flight.
            ("approvals_by_campaign", 2),
            // summary.brand and plan.brand.
            ("brands_by_id", 2),
            ("organizations_by_id", 1),
            // plan.createdBy, approvals.approver, schedule.assignee.
            ("portal_users_by_id", 3),
            ("campaign_plans_by_id", 1),
            ("reminders_by_task", 1),
        ],
    );
}
