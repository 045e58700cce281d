//! DataLoaders: every entity and relation a list can reach is fetched in one store call per batch,
//! never one per item (no N+1). Paged relations batch too: the keys of one batch that ask for the
//! same page (`first`, `after`, filters) share one store call over all their parents.

use std::{collections::HashMap, hash::Hash, sync::Arc};

use async_graphql::dataloader::Loader;
use promptsales_platform::crypto::{DataKey, Keyring};
use uuid::Uuid;

use crate::store::{self, CrmStore, Page, TimeAfter};

/// Loaders bound to one request's tenant.
pub struct Loaders {
    pub store: Arc<dyn CrmStore>,
    pub keyring: Arc<Keyring>,
    pub tenant: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeadId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InteractionId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaleId(pub Uuid);
/// A customer's data key, unwrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyOf(pub Uuid);
/// A campaign's sales per channel and market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SalesOf(pub Uuid);
/// A campaign's customer and lead counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FunnelOf(pub Uuid);

/// Which page of a parent's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: usize,
    pub after: Option<TimeAfter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CampaignCustomersOf(pub Uuid, pub PageArgs);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CampaignLeadsOf(pub Uuid, pub PageArgs, pub Option<&'static str>);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CampaignInteractionsOf(pub Uuid, pub PageArgs);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerInteractionsOf(pub Uuid, pub PageArgs);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerSalesOf(pub Uuid, pub PageArgs);

/// Store errors reach the client as a generic error; the detail is logged.
fn fail(e: store::StoreError) -> async_graphql::Error {
    tracing::error!(error = %e, "loader failed");
    promptsales_platform::gql::error(promptsales_platform::gql::ErrorCode::Internal, "internal error")
}

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| f(*k)).collect()
}

macro_rules! by_id {
    ($key:ident, $value:ty, $method:ident) => {
        impl async_graphql::dataloader::Loader<$key> for Loaders {
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

by_id!(CustomerId, store::Customer, customers_by_id);
by_id!(LeadId, store::Lead, leads_by_id);
by_id!(InteractionId, store::Interaction, interactions_by_id);
by_id!(SaleId, store::Sale, sales_by_id);
by_id!(SalesOf, Vec<store::SalesCell>, campaign_sales);
by_id!(FunnelOf, store::Funnel, campaign_funnels);

impl Loader<KeyOf> for Loaders {
    type Value = Arc<DataKey>;
    type Error = async_graphql::Error;

    /// One query for the batch's wrapped keys, then one unwrap each (in memory). A key that does
    /// not unwrap (unknown or retired KEK, tampering) is logged and left out: that customer's PII
    /// reads as null, the rest of the response is unaffected.
    async fn load(&self, keys: &[KeyOf]) -> Result<HashMap<KeyOf, Arc<DataKey>>, Self::Error> {
        let wrapped = self
            .store
            .customer_keys(self.tenant, &ids(keys, |k| k.0))
            .await
            .map_err(fail)?;
        Ok(wrapped
            .into_iter()
            .filter_map(|(customer, w)| match self.keyring.unwrap(&w) {
                Ok(key) => Some((KeyOf(customer), Arc::new(key))),
                Err(e) => {
                    tracing::error!(%customer, kek = %w.kek_id, error = %e, "customer data key does not unwrap");
                    None
                }
            })
            .collect())
    }
}

/// Groups the keys of a batch by their page arguments and runs `fetch` once per group.
async fn paged<K, A, T, F, Fut>(
    keys: &[K],
    split: impl Fn(&K) -> (Uuid, A),
    make: impl Fn(Uuid, A) -> K,
    fetch: F,
) -> Result<HashMap<K, Page<T>>, async_graphql::Error>
where
    K: Eq + Hash,
    A: Eq + Hash + Copy,
    F: Fn(Vec<Uuid>, A) -> Fut,
    Fut: Future<Output = store::Result<HashMap<Uuid, Page<T>>>>,
{
    let mut groups: HashMap<A, Vec<Uuid>> = HashMap::new();
    for k in keys {
        let (parent, args) = split(k);
        groups.entry(args).or_default().push(parent);
    }
    let mut out = HashMap::new();
    for (args, parents) in groups {
        let mut pages = fetch(parents.clone(), args).await.map_err(fail)?;
        for parent in parents {
            let page = pages.remove(&parent).unwrap_or_else(Page::empty);
            out.insert(make(parent, args), page);
        }
    }
    Ok(out)
}

impl Loader<CampaignCustomersOf> for Loaders {
    type Value = Page<store::CampaignCustomer>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[CampaignCustomersOf],
    ) -> Result<HashMap<CampaignCustomersOf, Self::Value>, Self::Error> {
        paged(
            keys,
            |k| (k.0, k.1),
            CampaignCustomersOf,
            |parents, a: PageArgs| async move {
                self.store
                    .campaign_customers(self.tenant, &parents, a.after, a.first)
                    .await
            },
        )
        .await
    }
}

impl Loader<CampaignLeadsOf> for Loaders {
    type Value = Page<store::Lead>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CampaignLeadsOf]) -> Result<HashMap<CampaignLeadsOf, Self::Value>, Self::Error> {
        paged(
            keys,
            |k| (k.0, (k.1, k.2)),
            |parent, (a, status)| CampaignLeadsOf(parent, a, status),
            |parents, (a, status): (PageArgs, Option<&'static str>)| async move {
                self.store
                    .campaign_leads(self.tenant, &parents, status, a.after, a.first)
                    .await
            },
        )
        .await
    }
}

impl Loader<CampaignInteractionsOf> for Loaders {
    type Value = Page<store::Interaction>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[CampaignInteractionsOf],
    ) -> Result<HashMap<CampaignInteractionsOf, Self::Value>, Self::Error> {
        paged(
            keys,
            |k| (k.0, k.1),
            CampaignInteractionsOf,
            |parents, a: PageArgs| async move {
                self.store
                    .campaign_interactions(self.tenant, &parents, a.after, a.first)
                    .await
            },
        )
        .await
    }
}

impl Loader<CustomerInteractionsOf> for Loaders {
    type Value = Page<store::Interaction>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[CustomerInteractionsOf],
    ) -> Result<HashMap<CustomerInteractionsOf, Self::Value>, Self::Error> {
        paged(
            keys,
            |k| (k.0, k.1),
            CustomerInteractionsOf,
            |parents, a: PageArgs| async move {
                self.store
                    .customer_interactions(self.tenant, &parents, a.after, a.first)
                    .await
            },
        )
        .await
    }
}

impl Loader<CustomerSalesOf> for Loaders {
    type Value = Page<store::Sale>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[CustomerSalesOf]) -> Result<HashMap<CustomerSalesOf, Self::Value>, Self::Error> {
        paged(keys, |k| (k.0, k.1), CustomerSalesOf, |parents, a: PageArgs| async move {
            self.store
                .customer_sales(self.tenant, &parents, a.after, a.first)
                .await
        })
        .await
    }
}
