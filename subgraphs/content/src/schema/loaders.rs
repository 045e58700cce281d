//! DataLoaders: every entity and relation a list can reach is fetched in one store call per
//! batch, never one per item (no N+1).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use crate::store::{self, ContentStore};

/// Loaders bound to one request's tenant.
pub struct Loaders {
    pub store: Arc<dyn ContentStore>,
    pub tenant: Option<Uuid>,
}

macro_rules! keys {
    ($($key:ident),* $(,)?) => {
        $(
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub struct $key(pub Uuid);
        )*
    };
}

keys!(
    ImageId,
    HashtagId,
    RequestId,
    LogId,
    IntegrationId,
    RequestsOf,
    LogsOf,
    ImagesOfCampaign,
    ImagesOfRequest,
);

/// A hashtag by its tag (images name their hashtags by tag).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(pub String);

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

loader!(ImageId, store::Image, images_by_id);
loader!(RequestId, store::ContentRequest, content_requests_by_id);
loader!(LogId, store::CampaignLog, campaign_logs_by_id);
loader!(IntegrationId, store::Integration, integrations_by_id);
loader!(RequestsOf, Vec<store::ContentRequest>, content_requests_by_campaign);
loader!(LogsOf, Vec<store::CampaignLog>, campaign_logs_by_campaign);
loader!(ImagesOfCampaign, Vec<store::Image>, images_by_campaign);
loader!(ImagesOfRequest, Vec<store::Image>, images_by_request);

// Hashtags are a shared vocabulary: no tenant.
impl Loader<HashtagId> for Loaders {
    type Value = store::Hashtag;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[HashtagId]) -> Result<HashMap<HashtagId, Self::Value>, Self::Error> {
        let found = self.store.hashtags_by_id(&ids(keys, |k| k.0)).await.map_err(fail)?;
        Ok(found.into_iter().map(|(id, v)| (HashtagId(id), v)).collect())
    }
}

impl Loader<Tag> for Loaders {
    type Value = store::Hashtag;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Tag]) -> Result<HashMap<Tag, Self::Value>, Self::Error> {
        let tags: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let found = self.store.hashtags_by_tag(&tags).await.map_err(fail)?;
        Ok(found.into_iter().map(|(tag, v)| (Tag(tag), v)).collect())
    }
}
