//! DataLoaders: every entity and relation a list can reach is fetched in one query per batch,
//! never one per item (no N+1).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use crate::store::{self, SalesStore};

/// Loaders bound to one request's tenant.
pub struct Loaders {
    pub store: Arc<dyn SalesStore>,
    pub tenant: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrgId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BrandId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductId(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BrandsOf(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductsOf(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SummaryOf(pub Uuid);

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
loader!(SummaryOf, store::CampaignSummary, summaries_by_campaign);
