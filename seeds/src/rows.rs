//! One struct per seeded table, each able to write itself as a PostgreSQL COPY row (platform
//! [`Row`]: the columns the seeder owns) or as a SQL Server bulk-load row ([`Tds`]: every column in
//! table order, `updated_at`/`deleted_at` included, because a TDS bulk load fires no trigger).
//!
//! On PostgreSQL `updated_at` is never sent: the store sets it (trigger, or the column DEFAULT while
//! the seeder has the trigger disabled), which is the contract of docs/data-model.md.

use chrono::{DateTime, NaiveDate, Utc};
use promptsales_platform::bulk::{Row, RowSink};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A value that writes itself into a [`RowSink`].
pub trait Put {
    fn put<S: RowSink>(&self, s: &mut S);
}

macro_rules! put {
    ($($ty:ty => |$v:ident, $s:ident| $e:expr;)*) => {
        $(impl Put for $ty {
            fn put<S: RowSink>(&self, $s: &mut S) {
                let $v = self;
                $e
            }
        })*
    };
}

put! {
    Uuid => |v, s| s.uuid(*v);
    Option<Uuid> => |v, s| s.uuid(*v);
    String => |v, s| s.text(v.as_str());
    Option<String> => |v, s| s.text(v.as_deref());
    &'static str => |v, s| s.text(*v);
    Option<&'static str> => |v, s| s.text(*v);
    bool => |v, s| s.bool(*v);
    i16 => |v, s| s.i16(*v);
    i32 => |v, s| s.i32(*v);
    i64 => |v, s| s.i64(*v);
    Decimal => |v, s| s.decimal(*v);
    Option<Decimal> => |v, s| s.decimal(*v);
    NaiveDate => |v, s| s.date(*v);
    Option<NaiveDate> => |v, s| s.date(*v);
    DateTime<Utc> => |v, s| s.time(*v);
    Option<DateTime<Utc>> => |v, s| s.time(*v);
    Vec<u8> => |v, s| s.bytes(v.as_slice());
    Option<Vec<u8>> => |v, s| s.bytes(v.as_deref());
    Option<[u8; 32]> => |v, s| s.bytes(v.as_ref().map(|b| &b[..]));
    [u8; 32] => |v, s| s.bytes(&v[..]);
    serde_json::Value => |v, s| s.json(Some(v));
}

/// A table row that can also write every column of its table, in table order.
pub trait FullRow: Row {
    /// Every column of the table, in table order (what a TDS bulk load sends).
    const ALL: &'static [&'static str];
    /// Writes every column; `stamp` is the `updated_at` a bulk load must supply itself.
    fn write_all<S: RowSink>(&self, s: &mut S, stamp: DateTime<Utc>);
}

/// A row bound for SQL Server: all columns, with `updated_at` = `stamp` and `deleted_at` NULL.
pub struct Tds<'a, R> {
    pub row: &'a R,
    pub stamp: DateTime<Utc>,
}

impl<R: FullRow> Row for Tds<'_, R> {
    const TABLE: &'static str = R::TABLE;
    const COLUMNS: &'static [&'static str] = R::ALL;
    fn write<S: RowSink>(&self, s: &mut S) {
        self.row.write_all(s, self.stamp);
    }
}

/// Declares a row struct. `audit` lists which of `updated_at` / `deleted_at` the table has (they
/// follow the fields); `tail` fields come after them in the table.
macro_rules! table {
    (
        $(#[$meta:meta])*
        $name:ident => $table:literal {
            $($field:ident : $ty:ty),* $(,)?
        }
        audit [$($audit:ident),*]
        tail { $($tfield:ident : $tty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            $(pub $field: $ty,)*
            $(pub $tfield: $tty,)*
        }

        impl Row for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field),)* $(stringify!($tfield),)*];
            fn write<S: RowSink>(&self, s: &mut S) {
                $(Put::put(&self.$field, s);)*
                $(Put::put(&self.$tfield, s);)*
            }
        }

        impl FullRow for $name {
            const ALL: &'static [&'static str] =
                &[$(stringify!($field),)* $(stringify!($audit),)* $(stringify!($tfield),)*];
            fn write_all<S: RowSink>(&self, s: &mut S, stamp: DateTime<Utc>) {
                let _ = stamp; // tables without updated_at
                $(Put::put(&self.$field, s);)*
                $(audit_value!($audit, s, stamp);)*
                $(Put::put(&self.$tfield, s);)*
            }
        }
    };
}

macro_rules! audit_value {
    (updated_at, $s:ident, $stamp:ident) => {
        $s.time($stamp)
    };
    (deleted_at, $s:ident, $stamp:ident) => {
        $s.time(None::<DateTime<Utc>>)
    };
}

type Time = DateTime<Utc>;
type OptTime = Option<DateTime<Utc>>;
type Text = &'static str;

// ------------------------------------------------------------------------------------------------
// PromptAds
// ------------------------------------------------------------------------------------------------

table! { AdsBrand => "ads.brands" { id: Uuid, organization_id: Uuid, name: String, created_at: Time } audit [updated_at, deleted_at] tail {} }

table! {
    AdsProduct => "ads.products" {
        id: Uuid, brand_id: Uuid, organization_id: Uuid, name: String, unit_price: Decimal, currency: Text, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Channel => "ads.channels" { id: Uuid, code: Text, name: Text, kind: Text, default_cost_model: Text, created_at: Time }
    audit [updated_at, deleted_at] tail {}
}

table! {
    Market => "ads.markets" {
        id: Uuid, code: Text, country_code: Text, region: Text, name: Text, currency: Text, timezone: Text, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Influencer => "ads.influencers" {
        id: Uuid, channel_id: Uuid, handle: String, display_name: String, followers: i64, niche: Option<&'static str>,
        country_code: Option<&'static str>, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Campaign => "ads.campaigns" {
        id: Uuid, organization_id: Uuid, brand_id: Uuid, product_id: Option<Uuid>, name: String, description: Option<String>,
        objective: Text, status: Text, budget: Decimal, currency: Text, starts_at: Time, ends_at: Time, version: i32,
        idempotency_key: Option<String>, created_by: Option<Uuid>, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    CampaignChannel => "ads.campaign_channels" { campaign_id: Uuid, channel_id: Uuid, budget_share: Decimal, created_at: Time }
    audit [updated_at, deleted_at] tail {}
}

table! {
    CampaignMarket => "ads.campaign_markets" { campaign_id: Uuid, market_id: Uuid, created_at: Time }
    audit [updated_at, deleted_at] tail {}
}

table! {
    Ad => "ads.ads" {
        id: Uuid, campaign_id: Uuid, name: String, format: Text, headline: Option<String>, body: Option<String>,
        call_to_action: Option<&'static str>, landing_url: Option<String>, content_image_id: Option<Uuid>, status: Text,
        created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    AdPlacement => "ads.ad_placements" {
        id: Uuid, ad_id: Uuid, channel_id: Uuid, influencer_id: Option<Uuid>, cost_model: Text, unit_cost: Decimal,
        starts_at: OptTime, ends_at: OptTime, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    AdResult => "ads.ad_results" {
        campaign_id: Uuid, ad_id: Uuid, channel_id: Uuid, market_id: Uuid, day: NaiveDate, likes: i64, views: i64,
        interactions: i64, sales: i64, exposure_hours: Decimal, reach: i64, cost: Decimal, revenue: Decimal, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    SentimentSample => "ads.sentiment_samples" {
        campaign_id: Uuid, ad_id: Uuid, channel_id: Uuid, day: NaiveDate, polarity: Decimal, positive_count: i32,
        neutral_count: i32, negative_count: i32, negative_type: Option<&'static str>, influencer_reactions: i32, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

// ------------------------------------------------------------------------------------------------
// PromptCrm
// ------------------------------------------------------------------------------------------------

table! {
    Customer => "crm.customers" {
        id: Uuid, organization_id: Uuid, first_name: Text, last_name: String, birth_date: Option<NaiveDate>, segment: Text,
        country_code: Text, region: Option<&'static str>, city: Option<&'static str>, latitude: Option<Decimal>,
        longitude: Option<Decimal>, preferred_language: Text, national_id_enc: Option<Vec<u8>>, email_enc: Option<Vec<u8>>,
        phone_enc: Option<Vec<u8>>, national_id_bidx: Option<[u8; 32]>, email_bidx: Option<[u8; 32]>, pii_key_id: Option<String>,
        marketing_consent: bool, consent_updated_at: OptTime, created_at: Time,
    } audit [updated_at, deleted_at] tail { erased_at: OptTime }
}

table! {
    CustomerKey => "crm.customer_keys" { customer_id: Uuid, key_id: String, wrapped_dek: Vec<u8>, created_at: Time, rotated_at: OptTime }
    audit [] tail {}
}

table! {
    CampaignCustomer => "crm.campaign_customers" {
        campaign_id: Uuid, customer_id: Uuid, organization_id: Uuid, channel_id: Uuid, linked_at: Time, reached: bool, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Lead => "crm.leads" {
        id: Uuid, organization_id: Uuid, campaign_id: Uuid, customer_id: Uuid, source_channel_id: Uuid, score: i16, status: Text,
        purchase_intent: Option<Decimal>, created_at: Time, converted_at: OptTime,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Interaction => "crm.interactions" {
        id: Uuid, organization_id: Uuid, customer_id: Uuid, campaign_id: Option<Uuid>, channel_id: Uuid, kind: Text, actor: Text,
        sentiment: Option<Decimal>, occurred_at: Time, note: Option<&'static str>, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Sale => "crm.sales" {
        id: Uuid, organization_id: Uuid, customer_id: Uuid, campaign_id: Option<Uuid>, channel_id: Uuid, market_id: Uuid,
        product_id: Uuid, ad_id: Option<Uuid>, quantity: i32, amount_usd: Decimal, original_amount: Decimal,
        original_currency: Text, fx_rate_to_usd: Decimal, sold_at: Time, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

// ------------------------------------------------------------------------------------------------
// PromptSales
// ------------------------------------------------------------------------------------------------

table! {
    Organization => "sales.organizations" {
        id: Uuid, name: Text, legal_name: Option<String>, tax_id: Option<String>, country_code: Text, industry: Option<&'static str>,
        status: Text, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    SalesBrand => "sales.brands" {
        id: Uuid, organization_id: Uuid, name: String, description: Option<String>, website: Option<String>, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    SalesProduct => "sales.products" {
        id: Uuid, brand_id: Uuid, organization_id: Uuid, sku: String, name: String, description: Option<String>,
        category: Option<&'static str>, unit_price: Decimal, currency: Text, active: bool, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Contact => "sales.contacts" {
        id: Uuid, organization_id: Uuid, full_name: String, job_title: Option<&'static str>, email_enc: Option<Vec<u8>>,
        email_bidx: Option<[u8; 32]>, phone_enc: Option<Vec<u8>>, pii_key_id: Option<String>, is_primary: bool, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    SubscriptionPlan => "sales.subscription_plans" {
        id: Uuid, code: Text, subsidiary: Text, tier: Text, name: Text, monthly_price: Decimal, annual_price: Decimal,
        limits: serde_json::Value, active: bool, created_at: Time,
    } audit [updated_at] tail {}
}

table! {
    Subscription => "sales.subscriptions" {
        id: Uuid, organization_id: Uuid, plan_id: Uuid, status: Text, started_at: Time, current_period_end: Time,
        cancelled_at: OptTime, seats: i32, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    PortalUser => "sales.portal_users" {
        id: Uuid, organization_id: Option<Uuid>, email_enc: Vec<u8>, email_bidx: [u8; 32], display_name: String, role: Text,
        status: Text, last_login_at: OptTime, pii_key_id: String, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    CampaignPlan => "sales.campaign_plans" {
        id: Uuid, campaign_id: Uuid, organization_id: Uuid, brand_id: Uuid, product_id: Option<Uuid>, title: String,
        objective: Option<String>, target_summary: Option<String>, planned_budget: Decimal, planned_start: Time, planned_end: Time,
        status: Text, created_by: Uuid, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    Approval => "sales.approvals" {
        id: Uuid, campaign_plan_id: Uuid, organization_id: Uuid, step: i16, approver_id: Uuid, decision: Text,
        comment: Option<&'static str>, requested_at: Time, decided_at: OptTime, created_at: Time,
    } audit [updated_at] tail {}
}

table! {
    ScheduledTask => "sales.scheduled_tasks" {
        id: Uuid, campaign_plan_id: Uuid, organization_id: Uuid, campaign_id: Uuid, title: String, kind: Text, due_at: Time,
        assignee_id: Option<Uuid>, status: Text, completed_at: OptTime, created_at: Time,
    } audit [updated_at, deleted_at] tail {}
}

table! {
    TaskReminder => "sales.task_reminders" { id: Uuid, task_id: Uuid, remind_at: Time, channel: Text, sent_at: OptTime, created_at: Time }
    audit [updated_at] tail {}
}
