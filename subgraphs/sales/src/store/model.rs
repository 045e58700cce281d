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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A contact person; e-mail and phone still sealed (see `schema::pii`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contact {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub full_name: String,
    pub job_title: Option<String>,
    pub email_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub pii_key_id: Option<String>,
    pub is_primary: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionPlan {
    pub id: Uuid,
    pub code: String,
    pub subsidiary: String,
    pub tier: String,
    pub name: String,
    pub monthly_price: Decimal,
    pub annual_price: Decimal,
    pub limits: sqlx::types::Json<serde_json::Map<String, serde_json::Value>>,
    pub active: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub seats: i32,
}

/// A portal account; the e-mail still sealed (see `schema::pii`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PortalUser {
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub email_enc: Vec<u8>,
    pub pii_key_id: String,
    pub display_name: String,
    pub role: String,
    pub status: String,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignPlan {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub organization_id: Uuid,
    pub brand_id: Uuid,
    pub product_id: Option<Uuid>,
    pub title: String,
    pub objective: Option<String>,
    pub target_summary: Option<String>,
    pub planned_budget: Decimal,
    pub planned_start: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    pub status: String,
    pub created_by: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Approval {
    pub id: Uuid,
    pub campaign_plan_id: Uuid,
    /// The plan's campaign (joined), so a campaign's approvals batch by campaign id.
    pub campaign_id: Uuid,
    pub organization_id: Uuid,
    pub step: i16,
    pub approver_id: Uuid,
    pub decision: String,
    pub comment: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScheduledTask {
    pub id: Uuid,
    pub campaign_plan_id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub title: String,
    pub kind: String,
    pub due_at: DateTime<Utc>,
    pub assignee_id: Option<Uuid>,
    pub status: String,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskReminder {
    pub id: Uuid,
    pub task_id: Uuid,
    pub remind_at: DateTime<Utc>,
    pub channel: String,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignSummary {
    pub campaign_id: Uuid,
    pub organization_id: Uuid,
    pub brand_id: Uuid,
    pub product_id: Option<Uuid>,
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AiUsage {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_subject: String,
    pub organization_id: Option<Uuid>,
    pub tool: String,
    pub model: String,
    pub prompt: Option<String>,
    pub result: Option<String>,
    pub validation_method: String,
    pub validated: Option<bool>,
    pub tokens_in: i32,
    pub tokens_out: i32,
    pub cache_hit: bool,
    pub latency_ms: i32,
    pub cost_usd: Decimal,
    pub request_id: Option<String>,
}

/// One audit-log row about a record (who read, changed, exported or erased it). The caller's IP
/// and user agent are left out: they are the actor's personal data, not the record's.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_subject: String,
    pub actor_organization_id: Option<Uuid>,
    pub action: String,
    pub operation_name: Option<String>,
    pub target_type: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
}
