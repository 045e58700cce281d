//! Portal users and contacts (personal data: see `schema::pii`), the price list and subscriptions.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Organization, PlanTier, PortalUserRole, PortalUserStatus, SubscriptionStatus, Subsidiary, id};
use crate::schema::{
    loader, loaders,
    pii::{self, Sealed},
};
use crate::store;

pub struct PortalUser(pub store::PortalUser);

/// A user of the PromptSales portal: a member of a customer organization, or PromptSales staff.
#[Object(requires_scopes = "sales:read")]
impl PortalUser {
    /// Stable id of the account.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Name shown in the portal.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Sign-in e-mail address. Personal data: in plain text only for callers with the `admin`
    /// scope (each such read is written to the audit log); masked for everybody else
    /// (`a•••@e•••.com`).
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let sealed = Sealed {
            column: pii::PORTAL_USER_EMAIL,
            target_type: "portal_user",
            row: self.0.id,
            key_id: Some(&self.0.pii_key_id),
            sealed: Some(&self.0.email_enc),
            mask: pii::mask_email,
        };
        pii::reveal(ctx, sealed).await
    }
    /// What the user may do in the portal.
    async fn role(&self) -> Result<PortalUserRole> {
        PortalUserRole::from_db(&self.0.role)
    }
    /// Whether the account can sign in.
    async fn status(&self) -> Result<PortalUserStatus> {
        PortalUserStatus::from_db(&self.0.status)
    }
    /// Last successful sign-in.
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_login_at
    }
    /// When the account was created (invited).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Whether the user is PromptSales staff (no organization).
    async fn is_staff(&self) -> bool {
        self.0.organization_id.is_none()
    }
    /// The user's organization; null for PromptSales staff.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(org) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(loader(ctx).load_one(loaders::OrgId(org)).await?.map(Organization))
    }
}

pub struct Contact(pub store::Contact);

/// A person to talk to at a customer organization (billing, marketing).
#[Object(requires_scopes = "sales:read")]
impl Contact {
    /// Stable id of the contact.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The contact's full name.
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    /// The contact's role at the organization (e.g. billing, marketing lead).
    async fn job_title(&self) -> Option<&str> {
        self.0.job_title.as_deref()
    }
    /// Whether this is the organization's primary contact (at most one is).
    async fn is_primary(&self) -> bool {
        self.0.is_primary
    }
    /// E-mail address. Personal data: in plain text only with the `admin` scope (audited), masked
    /// otherwise (`a•••@e•••.com`).
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let sealed = Sealed {
            column: pii::CONTACT_EMAIL,
            target_type: "contact",
            row: self.0.id,
            key_id: self.0.pii_key_id.as_deref(),
            sealed: self.0.email_enc.as_deref(),
            mask: pii::mask_email,
        };
        pii::reveal(ctx, sealed).await
    }
    /// Phone number. Personal data: in plain text only with the `admin` scope (audited), masked
    /// otherwise (`••• ••• ••78`).
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let sealed = Sealed {
            column: pii::CONTACT_PHONE,
            target_type: "contact",
            row: self.0.id,
            key_id: self.0.pii_key_id.as_deref(),
            sealed: self.0.phone_enc.as_deref(),
            mask: pii::mask_phone,
        };
        pii::reveal(ctx, sealed).await
    }
}

pub struct SubscriptionPlan(pub store::SubscriptionPlan);

/// An entry of the price list. Its id is UUIDv5 of its code, the same in every store.
#[Object(requires_scopes = "sales:read")]
impl SubscriptionPlan {
    /// UUIDv5 of the code under the PromptSales namespace.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Stable code, e.g. `ads-growth`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name shown on the price list.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The product the plan covers.
    async fn subsidiary(&self) -> Result<Subsidiary> {
        Subsidiary::from_db(&self.0.subsidiary)
    }
    /// Size of the plan.
    async fn tier(&self) -> Result<PlanTier> {
        PlanTier::from_db(&self.0.tier)
    }
    /// USD per month.
    async fn monthly_price(&self) -> Decimal {
        self.0.monthly_price
    }
    /// USD per year when billed annually.
    async fn annual_price(&self) -> Decimal {
        self.0.annual_price
    }
    /// Quotas of the plan, by name. A quota that is not listed is unlimited.
    async fn limits(&self) -> Vec<PlanLimit> {
        let mut limits: Vec<PlanLimit> = self
            .0
            .limits
            .iter()
            .map(|(name, value)| PlanLimit {
                name: name.clone(),
                value: value.as_i64(),
            })
            .collect();
        limits.sort_by(|a, b| a.name.cmp(&b.name));
        limits
    }
    /// Whether the plan is still sold (retired plans stay for the subscriptions that use them).
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// One quota of a plan.
#[derive(SimpleObject)]
#[graphql(requires_scopes = "sales:read")]
pub struct PlanLimit {
    /// What is limited, e.g. `seats`, `campaigns`, `customers`, `images_per_month`.
    pub name: String,
    /// The most allowed; null when the stored quota is not a whole number.
    pub value: Option<i64>,
}

pub struct PlanSubscription(pub store::Subscription);

/// An organization's subscription to a plan. Renewals move `currentPeriodEnd`; cancelled and
/// expired subscriptions stay as history.
#[Object(requires_scopes = "sales:read")]
impl PlanSubscription {
    /// Stable id of the subscription.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Billing state of the subscription.
    async fn status(&self) -> Result<SubscriptionStatus> {
        SubscriptionStatus::from_db(&self.0.status)
    }
    /// When the subscription (or its trial) started.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    /// End of the period paid for (or of the trial).
    async fn current_period_end(&self) -> DateTime<Utc> {
        self.0.current_period_end
    }
    /// When cancellation was requested; may be set while still active (cancels at period end).
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }
    /// Portal seats paid for.
    async fn seats(&self) -> i32 {
        self.0.seats
    }
    /// The plan subscribed to.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<SubscriptionPlan>> {
        Ok(loader(ctx)
            .load_one(loaders::PlanId(self.0.plan_id))
            .await?
            .map(SubscriptionPlan))
    }
    /// The subscribing organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(loader(ctx)
            .load_one(loaders::OrgId(self.0.organization_id))
            .await?
            .map(Organization))
    }
}
