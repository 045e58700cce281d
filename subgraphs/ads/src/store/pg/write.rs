//! Writes on PostgreSQL: calls of the stored functions of migration 0002, passing a campaign's
//! channels, markets and ads as arrays of the composite types `ads.campaign_*_item`, and mapping
//! the errors they raise (SQLSTATE PA001 invalid input with DETAIL field and HINT rule, PA409
//! conflict, PA404 not found). Any other database error stays a store error.

use rust_decimal::Decimal;
use sqlx::postgres::PgDatabaseError;
use uuid::Uuid;

use super::PgStore;
use crate::store::{Campaign, Created, Invalid, NewCampaign, StoreError, WriteError, precheck};

/// `ads.campaign_channel_item` (fields in the type's order).
#[derive(sqlx::Type)]
#[sqlx(type_name = "ads.campaign_channel_item")]
struct ChannelItem {
    channel_code: String,
    budget_share: Decimal,
}

/// `ads.campaign_market_item`.
#[derive(sqlx::Type)]
#[sqlx(type_name = "ads.campaign_market_item")]
struct MarketItem {
    market_code: String,
}

/// `ads.campaign_ad_item`.
#[derive(sqlx::Type)]
#[sqlx(type_name = "ads.campaign_ad_item")]
struct AdItem {
    ad_id: Uuid,
    name: String,
    format: String,
    headline: Option<String>,
    body: Option<String>,
    call_to_action: Option<String>,
    landing_url: Option<String>,
    content_image_id: Option<Uuid>,
}

/// Maps what a stored function raised to a [`WriteError`].
fn map_error(e: sqlx::Error) -> WriteError {
    if let Some(db) = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
    {
        match db.code() {
            "PA001" => {
                return WriteError::Invalid(Invalid::new(
                    db.detail().unwrap_or("input"),
                    db.hint().unwrap_or("invalid"),
                    db.message(),
                ));
            }
            "PA409" => return WriteError::Conflict(db.message().to_owned()),
            "PA404" => return WriteError::NotFound,
            _ => {}
        }
    }
    WriteError::Store(StoreError::Postgres(e))
}

impl PgStore {
    pub(super) async fn create_campaign_impl(
        &self,
        tenant: Option<Uuid>,
        input: &NewCampaign,
    ) -> Result<Created, WriteError> {
        precheck(input).map_err(WriteError::Invalid)?;
        let channels: Vec<ChannelItem> = input
            .channels
            .iter()
            .map(|c| ChannelItem {
                channel_code: c.code.clone(),
                budget_share: c.budget_share,
            })
            .collect();
        let markets: Vec<MarketItem> = input
            .markets
            .iter()
            .map(|m| MarketItem { market_code: m.clone() })
            .collect();
        let ads: Vec<AdItem> = input
            .ads
            .iter()
            .map(|a| AdItem {
                ad_id: a.id,
                name: a.name.clone(),
                format: a.format.clone(),
                headline: a.headline.clone(),
                body: a.body.clone(),
                call_to_action: a.call_to_action.clone(),
                landing_url: a.landing_url.clone(),
                content_image_id: a.content_image_id,
            })
            .collect();
        let (id, replayed): (Uuid, bool) = sqlx::query_as(
            "SELECT campaign_id, replayed FROM ads.pradssp_create_campaign(
                 $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(input.id)
        .bind(tenant)
        .bind(input.brand_id)
        .bind(input.product_id)
        .bind(&input.name)
        .bind(&input.description)
        .bind(&input.objective)
        .bind(input.budget)
        .bind(&input.currency)
        .bind(input.starts_at)
        .bind(input.ends_at)
        .bind(&input.idempotency_key)
        .bind(input.created_by)
        .bind(channels)
        .bind(markets)
        .bind(ads)
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        let campaign = self.campaign_after_write(tenant, id).await?;
        Ok(Created { campaign, replayed })
    }

    pub(super) async fn update_campaign_status_impl(
        &self,
        tenant: Option<Uuid>,
        id: Uuid,
        status: &str,
        expected_version: i32,
    ) -> Result<Campaign, WriteError> {
        sqlx::query_scalar::<_, i32>("SELECT ads.pradssp_update_campaign_status($1, $2, $3, $4)")
            .bind(id)
            .bind(tenant)
            .bind(status)
            .bind(expected_version)
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)?;
        self.campaign_after_write(tenant, id).await
    }

    /// The campaign a write just made or changed, as the caller may see it.
    async fn campaign_after_write(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Campaign, WriteError> {
        let found = crate::store::AdsStore::campaigns_by_id(self, tenant, &[id]).await?;
        // A replayed key whose campaign was since deleted is refused by the function, so the row
        // is there; a tenant mismatch is refused too. Anything else is a store inconsistency.
        found
            .into_values()
            .next()
            .ok_or_else(|| WriteError::Store(StoreError::Decode(format!("campaign {id} vanished after its write"))))
    }
}
