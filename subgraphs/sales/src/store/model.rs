//! Rows of the sales store, as the GraphQL layer reads them.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub legal_name: Option<String>,
    pub country_code: String,
    pub industry: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Brand {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Product {
    pub id: Uuid,
    pub brand_id: Uuid,
    pub organization_id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub unit_price: Decimal,
    pub currency: String,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignSummary {
    pub campaign_id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub budget: Decimal,
    pub reach: i64,
    pub customers_reached: i64,
    pub views: i64,
    pub interactions: i64,
    pub likes: i64,
    pub sales_count: i64,
    pub revenue: Decimal,
    pub cost: Decimal,
    pub roi: Option<Decimal>,
    pub success_rate: Option<Decimal>,
    pub positive_reactions: i64,
    pub negative_reactions: i64,
    pub channels: Vec<String>,
    pub markets: Vec<String>,
    pub refreshed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyMetric {
    pub campaign_id: Uuid,
    pub day: NaiveDate,
    pub reach: i64,
    pub views: i64,
    pub interactions: i64,
    pub likes: i64,
    pub sales_count: i64,
    pub revenue: Decimal,
    pub cost: Decimal,
}
