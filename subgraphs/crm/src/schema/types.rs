//! GraphQL object types of the crm subgraph. Each wraps a store row; relations go through the
//! request's DataLoaders. Rows of other stores (channels, markets, products, ads) are entity stubs
//! holding only their id, which the gateway resolves in the subgraph that owns them.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use promptsales_platform::gql::{internal, page_size};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    Campaign, Conn, CustomerSegment, DEFAULT_PAGE, InteractionActor, InteractionKind, LeadStatus, MAX_PAGE, connection,
    cursor::{time_after, time_cursor},
    loader,
    loaders::{self, PageArgs},
    pii::{self, Column},
};
use crate::store;

fn id(u: Uuid) -> ID {
    ID(u.to_string())
}

/// A stored enum value as its GraphQL enum (the store's CHECK makes a miss a bug, logged).
fn stored<T>(ctx: &Context<'_>, value: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(value).ok_or_else(|| internal(ctx, format!("unexpected stored value `{value}`")))
}

/// The page arguments of a relation, checked.
pub(crate) fn page_args(first: Option<i32>, after: Option<String>) -> Result<PageArgs> {
    Ok(PageArgs {
        first: page_size(first, DEFAULT_PAGE, MAX_PAGE)?,
        after: time_after(after)?,
    })
}

/// A sales channel (owned by the ads subgraph).
#[derive(SimpleObject)]
#[graphql(unresolvable = "id")]
pub struct Channel {
    /// The channel id, the same in every store.
    pub id: ID,
}

/// A market: a country or region a campaign sells in (owned by the ads subgraph).
#[derive(SimpleObject)]
#[graphql(unresolvable = "id")]
pub struct Market {
    /// The market id, the same in every store.
    pub id: ID,
}

/// A product of the central catalogue (owned by the sales subgraph).
#[derive(SimpleObject)]
#[graphql(unresolvable = "id")]
pub struct Product {
    /// The product id, the same in every store.
    pub id: ID,
}

/// An ad of a campaign (owned by the ads subgraph).
#[derive(SimpleObject)]
#[graphql(unresolvable = "id")]
pub struct Ad {
    /// The ad id, the same in every store.
    pub id: ID,
}

pub(crate) fn channel(u: Uuid) -> Channel {
    Channel { id: id(u) }
}

pub(crate) fn market(u: Uuid) -> Market {
    Market { id: id(u) }
}

pub struct Customer(pub store::Customer);

/// An end customer of an organization. National id, e-mail and phone are stored encrypted: they
/// come back in clear only to callers holding `crm:pii`, masked to everyone else (and a response
/// holding any in clear carries `extensions.containsPii = true`).
#[Object(requires_scopes = "crm:read")]
impl Customer {
    /// Stable id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The organization (tenant) the customer belongs to.
    async fn organization_id(&self) -> ID {
        id(self.0.organization_id)
    }
    /// Given name.
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    /// Surname(s), e.g. both surnames in Spanish-speaking markets.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// Year of birth; null when unknown or erased.
    async fn birth_year(&self) -> Option<i32> {
        self.0.birth_date.map(|d| d.year())
    }
    /// Full date of birth: personal data, so only for `crm:pii` (null for everyone else, and when
    /// unknown or erased).
    async fn birth_date(&self, ctx: &Context<'_>) -> Option<NaiveDate> {
        let date = self.0.birth_date?;
        pii::may_reveal(ctx).then(|| {
            pii::mark(ctx);
            date
        })
    }
    /// Where the customer stands with the organization.
    async fn segment(&self, ctx: &Context<'_>) -> Result<CustomerSegment> {
        stored(ctx, &self.0.segment, CustomerSegment::from_db)
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country_code(&self) -> &str {
        &self.0.country_code
    }
    /// State or province.
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    /// City of residence.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    /// Latitude in degrees (WGS 84): exact for `crm:pii`, otherwise rounded to two decimals (about
    /// 1 km). Null when unknown or erased.
    async fn latitude(&self, ctx: &Context<'_>) -> Option<Decimal> {
        pii::coordinate(ctx, self.0.latitude)
    }
    /// Longitude in degrees (WGS 84): exact for `crm:pii`, otherwise rounded to two decimals (about
    /// 1 km). Null when unknown or erased.
    async fn longitude(&self, ctx: &Context<'_>) -> Option<Decimal> {
        pii::coordinate(ctx, self.0.longitude)
    }
    /// Preferred language: ISO 639-1, optionally with a region (`es`, `es-MX`).
    async fn preferred_language(&self) -> &str {
        &self.0.preferred_language
    }
    /// E-mail address: in clear for `crm:pii`, otherwise masked as `a•••@e•••.com` (first letter of
    /// the local part and of the domain, the domain from its first dot). Null when none or erased.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        pii::reveal(ctx, &self.0, Column::Email).await
    }
    /// Phone number (E.164): in clear for `crm:pii`, otherwise masked as `+52 ••• ••• ••34` (country
    /// code and last two digits). Null when none or erased.
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        pii::reveal(ctx, &self.0, Column::Phone).await
    }
    /// National id (CURP, DNI, RUT, SSN…): in clear for `crm:pii`, otherwise masked as `••••••1234`
    /// (last four letters or digits). Null when none or erased.
    async fn national_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        pii::reveal(ctx, &self.0, Column::NationalId).await
    }
    /// Whether the customer accepts marketing messages.
    async fn marketing_consent(&self) -> bool {
        self.0.marketing_consent
    }
    /// When consent was last granted or withdrawn.
    async fn consent_updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.consent_updated_at
    }
    /// When the customer was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the customer was deleted (only visible through relations and `…UpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    /// Set when the customer's personal data was erased (GDPR): PII, birth date and coordinates are
    /// null from then on.
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.0.erased_at
    }
    /// The customer's interactions, newest first.
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Interaction>> {
        let args = page_args(first, after)?;
        let page = loader(ctx)
            .load_one(loaders::CustomerInteractionsOf(self.0.id, args))
            .await?
            .unwrap_or_else(store::Page::empty);
        Ok(connection(
            page,
            args.after.is_some(),
            |i| time_cursor(i.occurred_at, i.id),
            Interaction,
        ))
    }
    /// The customer's purchases (refunds excluded), newest first.
    async fn purchases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Sale>> {
        let args = page_args(first, after)?;
        let page = loader(ctx)
            .load_one(loaders::CustomerSalesOf(self.0.id, args))
            .await?
            .unwrap_or_else(store::Page::empty);
        Ok(connection(
            page,
            args.after.is_some(),
            |s| time_cursor(s.sold_at, s.id),
            Sale,
        ))
    }
}

async fn customer(ctx: &Context<'_>, customer: Uuid) -> Result<Option<Customer>> {
    Ok(loader(ctx).load_one(loaders::CustomerId(customer)).await?.map(Customer))
}

pub struct Lead(pub store::Lead);

/// A customer's interest raised by a campaign, scored and followed through the funnel.
#[Object(requires_scopes = "crm:read")]
impl Lead {
    /// Stable id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The customer interested (shown even if since deleted, with `deletedAt` set).
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The campaign that raised the lead (owned by ads: null when ads cannot complete it).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
    /// The channel the lead came through (owned by ads: null when ads cannot complete it or the
    /// caller lacks `ads:read`).
    async fn source_channel(&self) -> Option<Channel> {
        Some(channel(self.0.source_channel_id))
    }
    /// Qualification score, 0 to 100.
    async fn score(&self) -> i32 {
        i32::from(self.0.score)
    }
    /// Stage in the funnel.
    async fn status(&self, ctx: &Context<'_>) -> Result<LeadStatus> {
        stored(ctx, &self.0.status, LeadStatus::from_db)
    }
    /// Estimated probability of purchase in [0, 1]; null until a model has scored the lead.
    async fn purchase_intent(&self) -> Option<Decimal> {
        self.0.purchase_intent
    }
    /// When the lead was raised.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the lead converted into a sale (set exactly when `status` is CONVERTED).
    async fn converted_at(&self) -> Option<DateTime<Utc>> {
        self.0.converted_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the lead was deleted (only visible through `leadsUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct Interaction(pub store::Interaction);

/// One touch point between a customer and the organization on a channel.
#[Object(requires_scopes = "crm:read")]
impl Interaction {
    /// Stable id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The customer touched.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The campaign it belongs to; null for touches outside any campaign.
    async fn campaign(&self) -> Option<Campaign> {
        self.0.campaign_id.map(|id| Campaign { id })
    }
    /// The channel it happened on (owned by ads: null when ads cannot complete it or the caller
    /// lacks `ads:read`).
    async fn channel(&self) -> Option<Channel> {
        Some(channel(self.0.channel_id))
    }
    /// What kind of touch point it was.
    async fn kind(&self, ctx: &Context<'_>) -> Result<InteractionKind> {
        stored(ctx, &self.0.kind, InteractionKind::from_db)
    }
    /// Whether a bot or a person answered.
    async fn actor(&self, ctx: &Context<'_>) -> Result<InteractionActor> {
        stored(ctx, &self.0.actor, InteractionActor::from_db)
    }
    /// Sentiment polarity in [-1, 1]; null when not measured.
    async fn sentiment(&self) -> Option<Decimal> {
        self.0.sentiment
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Agent's note (never holds national ids, e-mails or phones).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the interaction was deleted (only visible through `interactionsUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct Sale(pub store::Sale);

/// One sale line: a quantity of a product sold to a customer, attributed to a campaign, channel,
/// market and optionally an ad. Amounts in USD, with the original currency beside them.
#[Object(requires_scopes = "crm:read")]
impl Sale {
    /// Stable id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The buyer.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The campaign the sale is attributed to; null for an organic sale.
    async fn campaign(&self) -> Option<Campaign> {
        self.0.campaign_id.map(|id| Campaign { id })
    }
    /// The channel the sale came through (owned by ads: null when ads cannot complete it or the
    /// caller lacks `ads:read`).
    async fn channel(&self) -> Option<Channel> {
        Some(channel(self.0.channel_id))
    }
    /// The market it was sold in (owned by ads: null when ads cannot complete it or the caller
    /// lacks `ads:read`).
    async fn market(&self) -> Option<Market> {
        Some(market(self.0.market_id))
    }
    /// The product sold (owned by sales: null when sales cannot complete it or the caller lacks
    /// `sales:read`).
    async fn product(&self) -> Option<Product> {
        Some(Product {
            id: id(self.0.product_id),
        })
    }
    /// The ad the sale is attributed to, if any.
    async fn ad(&self) -> Option<Ad> {
        self.0.ad_id.map(|a| Ad { id: id(a) })
    }
    /// Units sold.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// Amount in USD (the reporting currency) = `originalAmount × fxRateToUsd`, to the cent.
    async fn amount_usd(&self) -> Decimal {
        self.0.amount_usd
    }
    /// Amount in the currency the customer paid in.
    async fn original_amount(&self) -> Decimal {
        self.0.original_amount
    }
    /// ISO 4217 currency the customer paid in.
    async fn original_currency(&self) -> &str {
        &self.0.original_currency
    }
    /// USD per unit of `originalCurrency` at sale time (1 for USD).
    async fn fx_rate_to_usd(&self) -> Decimal {
        self.0.fx_rate_to_usd
    }
    /// When the sale happened.
    async fn sold_at(&self) -> DateTime<Utc> {
        self.0.sold_at
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Refund or cancellation time: a refunded sale counts in no total (only visible through
    /// `salesUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct CampaignCustomerLink(pub store::CampaignCustomer);

/// A campaign ↔ customer link, as the ETL reads its changes.
#[Object(requires_scopes = "crm:read")]
impl CampaignCustomerLink {
    /// The campaign (owned by ads: null when ads cannot complete it).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
    /// The customer linked.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The channel the customer was linked through (owned by ads: null when ads cannot complete
    /// it or the caller lacks `ads:read`).
    async fn channel(&self) -> Option<Channel> {
        Some(channel(self.0.channel_id))
    }
    /// When the customer was linked (business time).
    async fn linked_at(&self) -> DateTime<Utc> {
        self.0.linked_at
    }
    /// Whether the campaign reached the customer.
    async fn reached(&self) -> bool {
        self.0.reached
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the customer was unlinked.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}
