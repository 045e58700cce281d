//! Rows of the crm store, as the GraphQL layer reads them. PII stays sealed here: the `*_enc`
//! columns are ciphertext, opened (and masked unless the caller holds `crm:pii`) by the schema.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Customer {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<NaiveDate>,
    pub segment: String,
    pub country_code: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub latitude: Option<Decimal>,
    pub longitude: Option<Decimal>,
    pub preferred_language: String,
    pub national_id_enc: Option<Vec<u8>>,
    pub email_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub marketing_consent: bool,
    pub consent_updated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
}

/// A campaign ↔ customer link.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignCustomer {
    pub campaign_id: Uuid,
    pub customer_id: Uuid,
    pub organization_id: Uuid,
    pub channel_id: Uuid,
    pub linked_at: DateTime<Utc>,
    pub reached: bool,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Lead {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub customer_id: Uuid,
    pub source_channel_id: Uuid,
    pub score: i16,
    pub status: String,
    pub purchase_intent: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    pub converted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Interaction {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub channel_id: Uuid,
    pub kind: String,
    pub actor: String,
    pub sentiment: Option<Decimal>,
    pub occurred_at: DateTime<Utc>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Sale {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub channel_id: Uuid,
    pub market_id: Uuid,
    pub product_id: Uuid,
    pub ad_id: Option<Uuid>,
    pub quantity: i32,
    pub amount_usd: Decimal,
    pub original_amount: Decimal,
    pub original_currency: String,
    pub fx_rate_to_usd: Decimal,
    pub sold_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Live sales of one campaign in one (channel, market).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SalesCell {
    pub campaign_id: Uuid,
    pub channel_id: Uuid,
    pub market_id: Uuid,
    /// Sale lines.
    pub sales_count: i64,
    /// Units sold.
    pub quantity: i64,
    /// Sum of `amount_usd`.
    pub amount_usd: Decimal,
}

/// Customer and lead counts of one campaign (live rows only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Funnel {
    /// Customers linked to the campaign.
    pub customers_linked: i64,
    /// Linked customers the campaign reached (`campaign_customers.reached`).
    pub customers_reached: i64,
    /// Leads the campaign raised.
    pub leads: i64,
    /// Of those, leads with status `converted`.
    pub converted_leads: i64,
}

/// Everything the crm store holds on one customer, tombstones and refunds included: the answer to
/// a data-subject access request (GDPR art. 15 and 20, CCPA "right to know").
#[derive(Debug, Clone)]
pub struct CustomerRecord {
    pub customer: Customer,
    /// The customer's wrapped data key; `None` once crypto-shredded.
    pub key: Option<promptsales_platform::crypto::WrappedKey>,
    pub links: Vec<CampaignCustomer>,
    pub leads: Vec<Lead>,
    pub interactions: Vec<Interaction>,
    pub sales: Vec<Sale>,
}

/// The outcome of erasing a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    pub customer_id: Uuid,
    /// When the personal data was erased (the first erasure, on a repeat).
    pub erased_at: DateTime<Utc>,
    /// The customer had already been erased: nothing changed this time (beyond making sure the
    /// data key is gone).
    pub already_erased: bool,
}
