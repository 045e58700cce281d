//! Writes: creating a campaign (with its channels, markets and ads, in one transaction, safe to
//! retry) and moving it through its statuses. The rules live in the store's procedures; this
//! layer shapes the input and turns their refusals into GraphQL errors that name field and rule.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use promptsales_platform::{
    claims::Claims,
    gql::{ErrorCode, bad_input, error, internal},
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    parse_id,
    scalars::{AdFormat, CampaignObjective, CampaignStatus},
    store, tenant,
    types::Campaign,
};
use crate::store::{NewAd, NewCampaign, NewChannel, WriteError};

/// A campaign to create, as a draft, with everything it runs on.
#[derive(InputObject)]
pub struct CreateCampaignInput {
    /// A key of your choice (1–200 printable ASCII characters, no spaces) that makes retrying
    /// safe: the same key with the same input returns the campaign the first call created; the
    /// same key with a different input is refused with CONFLICT.
    pub idempotency_key: Option<String>,
    /// A brand of the caller's organization.
    pub brand_id: ID,
    /// A product of that brand, when the campaign is about one.
    pub product_id: Option<ID>,
    /// Up to 200 characters.
    pub name: String,
    /// Up to 4000 characters.
    pub description: Option<String>,
    /// What the campaign is meant to achieve.
    pub objective: CampaignObjective,
    /// Total budget, greater than zero, at most 2 decimals.
    pub budget: Decimal,
    /// ISO 4217 currency of the budget.
    #[graphql(default_with = "String::from(\"USD\")")]
    pub currency: String,
    /// When the campaign starts.
    pub starts_at: DateTime<Utc>,
    /// Must be after `startsAt`.
    pub ends_at: DateTime<Utc>,
    /// At least one; budget shares add up to at most 1.
    pub channels: Vec<CampaignChannelInput>,
    /// Market codes (e.g. `MX`); none for a campaign without a market target.
    #[graphql(default)]
    pub markets: Vec<String>,
    /// The campaign's ads (created as drafts).
    #[graphql(default)]
    pub ads: Vec<CampaignAdInput>,
}

/// A channel of a new campaign.
#[derive(InputObject)]
pub struct CampaignChannelInput {
    /// Channel code, e.g. `instagram`.
    pub code: String,
    /// Fraction of the budget, in (0, 1], at most 4 decimals.
    pub budget_share: Decimal,
}

/// An ad of a new campaign.
#[derive(InputObject)]
pub struct CampaignAdInput {
    /// Internal name (up to 200 characters).
    pub name: String,
    /// The creative form.
    pub format: AdFormat,
    /// Required for TEXT ads; up to 200 characters.
    pub headline: Option<String>,
    /// Required for TEXT ads; up to 2000 characters.
    pub body: Option<String>,
    /// Up to 60 characters.
    pub call_to_action: Option<String>,
    /// An http or https URL without spaces.
    pub landing_url: Option<String>,
    /// A PromptContent image id.
    pub image_id: Option<ID>,
}

/// The outcome of `createCampaign`.
#[derive(SimpleObject)]
#[graphql(requires_scopes = "ads:write")]
pub struct CreateCampaignPayload {
    /// The campaign, a draft at version 1 when just created.
    pub campaign: Campaign,
    /// True when the idempotency key named an earlier identical request: nothing new was created.
    pub replayed: bool,
}

/// Years a date may have: four digits, as ISO 8601 and both stores' types keep them.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

impl CreateCampaignInput {
    fn into_store(self, created_by: Option<Uuid>) -> Result<NewCampaign> {
        use chrono::Datelike;
        let currency = self.currency.trim().to_uppercase();
        if !promptsales_platform::currency::is_currency(&currency) {
            return Err(bad_input(
                "input.currency",
                "iso4217",
                format!("{currency:?} is not an ISO 4217 currency (e.g. USD, MXN, EUR)"),
            ));
        }
        for (field, at) in [("input.startsAt", self.starts_at), ("input.endsAt", self.ends_at)] {
            if !YEARS.contains(&at.year()) {
                return Err(bad_input(field, "range", "must be a date of the years 1 to 9999"));
            }
        }
        let ads = self
            .ads
            .into_iter()
            .map(|a| {
                Ok(NewAd {
                    id: Uuid::new_v4(),
                    name: a.name,
                    format: a.format.as_db().to_owned(),
                    headline: a.headline,
                    body: a.body,
                    call_to_action: a.call_to_action,
                    landing_url: a.landing_url,
                    content_image_id: a
                        .image_id
                        .as_ref()
                        .map(|i| parse_id("input.ads.imageId", i))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(NewCampaign {
            id: Uuid::new_v4(),
            brand_id: parse_id("input.brandId", &self.brand_id)?,
            product_id: self
                .product_id
                .as_ref()
                .map(|p| parse_id("input.productId", p))
                .transpose()?,
            name: self.name,
            description: self.description,
            objective: self.objective.as_db().to_owned(),
            budget: self.budget,
            currency,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            idempotency_key: self.idempotency_key,
            created_by,
            // Codes are matched as the store keeps them: channels lowercase, markets uppercase.
            channels: self
                .channels
                .into_iter()
                .map(|c| NewChannel {
                    code: c.code.trim().to_lowercase(),
                    budget_share: c.budget_share,
                })
                .collect(),
            markets: self.markets.into_iter().map(|m| m.trim().to_uppercase()).collect(),
            ads,
        })
    }
}

/// A refused write as a GraphQL error: invalid input names the field (`prefix` + the field the
/// procedure named) and the rule; store failures stay generic.
fn refused(ctx: &Context<'_>, e: WriteError, prefix: &str) -> async_graphql::Error {
    match e {
        WriteError::Invalid(i) => bad_input(&format!("{prefix}{}", i.field), &i.rule, i.message),
        WriteError::Conflict(message) => error(ErrorCode::Conflict, message),
        WriteError::NotFound => error(ErrorCode::NotFound, "no such campaign"),
        WriteError::Store(e) => internal(ctx, e),
    }
}

pub struct Mutation;

/// Changes to campaigns.
#[Object]
impl Mutation {
    /// Creates a draft campaign with its channels, markets and ads in one transaction: either all
    /// of it is written or nothing. Invalid input is refused with BAD_USER_INPUT naming the field
    /// (`extensions.field`, e.g. `input.budget`) and the rule (`extensions.rule`, e.g. `positive`).
    #[graphql(requires_scopes = "ads:write")]
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign and everything it runs on.")] input: CreateCampaignInput,
    ) -> Result<CreateCampaignPayload> {
        let created_by = ctx.data_opt::<Claims>().and_then(|c| Uuid::parse_str(&c.sub).ok());
        let input = input.into_store(created_by)?;
        let created = store(ctx)
            .create_campaign(tenant(ctx), &input)
            .await
            .map_err(|e| refused(ctx, e, "input."))?;
        Ok(CreateCampaignPayload {
            campaign: Campaign(created.campaign),
            replayed: created.replayed,
        })
    }

    /// Moves a campaign to another status. Allowed: DRAFT → SCHEDULED | CANCELLED; SCHEDULED →
    /// ACTIVE | CANCELLED; ACTIVE → PAUSED | FINISHED; PAUSED → ACTIVE | FINISHED | CANCELLED.
    /// `expectedVersion` must be the campaign's current `version` (CONFLICT otherwise: read it
    /// again); the campaign returned carries the new version.
    #[graphql(requires_scopes = "ads:write")]
    async fn update_campaign_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign id.")] id: ID,
        #[graphql(desc = "The status to move to.")] status: CampaignStatus,
        #[graphql(desc = "The `version` the caller last read.")] expected_version: i32,
    ) -> Result<Campaign> {
        let id = parse_id("id", &id)?;
        let campaign = store(ctx)
            .update_campaign_status(tenant(ctx), id, status.as_db(), expected_version)
            .await
            .map_err(|e| refused(ctx, e, ""))?;
        Ok(Campaign(campaign))
    }
}
