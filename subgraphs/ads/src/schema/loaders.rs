//! DataLoaders: every entity and relation a list can reach is fetched in one store call per batch,
//! never one per item (no N+1). Reports with a day range batch per distinct range (a page asks
//! for one range, so one call).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use crate::store::{self, AdsStore, DayRange};

/// Loaders bound to one request's tenant.
pub struct Loaders {
    pub store: Arc<dyn AdsStore>,
    pub tenant: Option<Uuid>,
}

macro_rules! key {
    ($($(#[$m:meta])* $name:ident($inner:ty);)+) => {
        $(
            $(#[$m])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub struct $name(pub $inner);
        )+
    };
}

key! {
    CampaignId(Uuid);
    /// Channel links of a campaign.
    ChannelsOf(Uuid);
    /// Market links of a campaign.
    MarketsOf(Uuid);
    /// Ads of a campaign.
    AdsOf(Uuid);
    AdId(Uuid);
    /// Placements of an ad.
    PlacementsOf(Uuid);
    ChannelId(Uuid);
    MarketId(Uuid);
    InfluencerId(Uuid);
    /// Campaigns of a brand.
    CampaignsOfBrand(Uuid);
    /// Campaigns of a product.
    CampaignsOfProduct(Uuid);
    AdResultId(store::AdResultKey);
    SampleId(store::SentimentKey);
    /// A campaign's result totals over a range.
    TotalsOf(Ranged);
    /// A campaign's results per day over a range.
    DailyOf(Ranged);
    /// A campaign's results per channel over a range.
    ByChannelOf(Ranged);
    /// A campaign's results per market over a range.
    ByMarketOf(Ranged);
}

/// A campaign and a day range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ranged {
    pub campaign: Uuid,
    pub range: DayRange,
}

/// Store errors reach the client as a generic error; the detail is logged.
fn fail(e: store::StoreError) -> async_graphql::Error {
    tracing::error!(error = %e, "loader failed");
    promptsales_platform::gql::error(promptsales_platform::gql::ErrorCode::Internal, "internal error")
}

/// Loads by id, through a store method that takes the tenant.
macro_rules! tenant_loader {
    ($key:ident, $value:ty, $method:ident) => {
        impl Loader<$key> for Loaders {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<_> = keys.iter().map(|k| k.0).collect();
                let found = self.store.$method(self.tenant, &ids).await.map_err(fail)?;
                Ok(found.into_iter().map(|(id, v)| ($key(id), v)).collect())
            }
        }
    };
}

/// Loads shared reference data by id (no tenant).
macro_rules! reference_loader {
    ($key:ident, $value:ty, $method:ident) => {
        impl Loader<$key> for Loaders {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                let found = self.store.$method(&ids).await.map_err(fail)?;
                Ok(found.into_iter().map(|(id, v)| ($key(id), v)).collect())
            }
        }
    };
}

/// Loads a per-campaign report, one store call per distinct day range among the keys.
macro_rules! ranged_loader {
    ($key:ident, $value:ty, $method:ident) => {
        impl Loader<$key> for Loaders {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let mut by_range: HashMap<DayRange, Vec<Uuid>> = HashMap::new();
                for k in keys {
                    by_range.entry(k.0.range).or_default().push(k.0.campaign);
                }
                let mut out = HashMap::new();
                for (range, campaigns) in by_range {
                    let found = self
                        .store
                        .$method(self.tenant, &campaigns, range)
                        .await
                        .map_err(fail)?;
                    out.extend(
                        found
                            .into_iter()
                            .map(|(campaign, v)| ($key(Ranged { campaign, range }), v)),
                    );
                }
                Ok(out)
            }
        }
    };
}

tenant_loader!(CampaignId, store::Campaign, campaigns_by_id);
tenant_loader!(ChannelsOf, Vec<store::CampaignChannel>, channels_of_campaigns);
tenant_loader!(MarketsOf, Vec<store::CampaignMarket>, markets_of_campaigns);
tenant_loader!(AdsOf, Vec<store::Ad>, ads_of_campaigns);
tenant_loader!(AdId, store::Ad, ads_by_id);
tenant_loader!(PlacementsOf, Vec<store::Placement>, placements_of_ads);
tenant_loader!(CampaignsOfBrand, Vec<store::Campaign>, campaigns_by_brand);
tenant_loader!(CampaignsOfProduct, Vec<store::Campaign>, campaigns_by_product);
tenant_loader!(AdResultId, store::AdResult, ad_results_by_key);
tenant_loader!(SampleId, store::SentimentSample, sentiment_by_key);
reference_loader!(ChannelId, store::Channel, channels_by_id);
reference_loader!(MarketId, store::Market, markets_by_id);
reference_loader!(InfluencerId, store::Influencer, influencers_by_id);
ranged_loader!(TotalsOf, store::Totals, results_totals);
ranged_loader!(DailyOf, Vec<store::DayTotals>, results_daily);
ranged_loader!(ByChannelOf, Vec<store::ChannelTotals>, results_by_channel);
ranged_loader!(ByMarketOf, Vec<store::MarketTotals>, results_by_market);
