//! Campaign planning: the plan of a campaign, its approval steps, its calendar of tasks and their
//! reminders.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{
    ApprovalDecision, Brand, Campaign, Organization, PlanStatus, PortalUser, Product, ReminderChannel, TaskKind,
    TaskStatus, id,
};
use crate::schema::{loader, loaders};
use crate::store;

pub struct CampaignPlan(pub store::CampaignPlan);

/// A campaign as planned and signed off in PromptSales, before and while PromptAds runs it.
#[Object(requires_scopes = "sales:read")]
impl CampaignPlan {
    /// Stable id of the plan.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The PromptAds campaign this plan is for (null when ads cannot complete it).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
    /// Working title of the campaign.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What the campaign should achieve.
    async fn objective(&self) -> Option<&str> {
        self.0.objective.as_deref()
    }
    /// Who the campaign targets, in words.
    async fn target_summary(&self) -> Option<&str> {
        self.0.target_summary.as_deref()
    }
    /// Planned budget in USD.
    async fn planned_budget(&self) -> Decimal {
        self.0.planned_budget
    }
    /// When the campaign is planned to start.
    async fn planned_start(&self) -> DateTime<Utc> {
        self.0.planned_start
    }
    /// When the campaign is planned to end.
    async fn planned_end(&self) -> DateTime<Utc> {
        self.0.planned_end
    }
    /// Where the plan is in its sign-off (moved by `decideApproval`).
    async fn status(&self) -> Result<PlanStatus> {
        PlanStatus::from_db(&self.0.status)
    }
    /// Optimistic-concurrency version: starts at 1, moves on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When the plan was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The organization the plan belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(loader(ctx)
            .load_one(loaders::OrgId(self.0.organization_id))
            .await?
            .map(Organization))
    }
    /// The brand promoted.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Option<Brand>> {
        Ok(loader(ctx)
            .load_one(loaders::BrandId(self.0.brand_id))
            .await?
            .map(Brand))
    }
    /// The product promoted; null for a brand-level campaign.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        let Some(product) = self.0.product_id else {
            return Ok(None);
        };
        Ok(loader(ctx).load_one(loaders::ProductId(product)).await?.map(Product))
    }
    /// The portal user who wrote the plan.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<PortalUser>> {
        Ok(loader(ctx)
            .load_one(loaders::UserId(self.0.created_by))
            .await?
            .map(PortalUser))
    }
    /// The sign-off steps, in order.
    async fn approvals(&self, ctx: &Context<'_>) -> Result<Vec<Approval>> {
        Ok(loader(ctx)
            .load_one(loaders::ApprovalsOf(self.0.campaign_id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Approval)
            .collect())
    }
}

pub struct Approval(pub store::Approval);

/// One sign-off step of a campaign plan. Steps are decided in order with `decideApproval`.
#[Object(requires_scopes = "sales:read")]
impl Approval {
    /// Stable id of the step.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Position in the sign-off, from 1.
    async fn step(&self) -> i32 {
        i32::from(self.0.step)
    }
    /// The step's decision; `PENDING` until decided.
    async fn decision(&self) -> Result<ApprovalDecision> {
        ApprovalDecision::from_db(&self.0.decision)
    }
    /// The approver's note (required when rejecting or requesting changes).
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    /// When the step was put to its approver.
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }
    /// When the decision was made; null while pending.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// Optimistic-concurrency version: pass it as `expectedVersion` to `decideApproval`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Who decides this step (a member of the organization, or PromptSales staff for big budgets).
    async fn approver(&self, ctx: &Context<'_>) -> Result<Option<PortalUser>> {
        Ok(loader(ctx)
            .load_one(loaders::UserId(self.0.approver_id))
            .await?
            .map(PortalUser))
    }
    /// The plan this step signs off.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<CampaignPlan>> {
        Ok(loader(ctx)
            .load_one(loaders::CampaignPlanId(self.0.campaign_plan_id))
            .await?
            .map(CampaignPlan))
    }
    /// The campaign of the plan (owned by ads: null when ads cannot complete it).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
}

pub struct ScheduledTask(pub store::ScheduledTask);

/// A work item on a campaign plan's calendar.
#[Object(requires_scopes = "sales:read")]
impl ScheduledTask {
    /// Stable id of the task.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// What is to be done.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What kind of work it is.
    async fn kind(&self) -> Result<TaskKind> {
        TaskKind::from_db(&self.0.kind)
    }
    /// When the task is due.
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }
    /// Where the task stands (`completeTask` moves it to `DONE`).
    async fn status(&self) -> Result<TaskStatus> {
        TaskStatus::from_db(&self.0.status)
    }
    /// When the task was done; null unless `status` is `DONE`.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// Optimistic-concurrency version: starts at 1, moves on every change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Who does it; null when unassigned.
    async fn assignee(&self, ctx: &Context<'_>) -> Result<Option<PortalUser>> {
        let Some(user) = self.0.assignee_id else {
            return Ok(None);
        };
        Ok(loader(ctx).load_one(loaders::UserId(user)).await?.map(PortalUser))
    }
    /// Reminders of the task, by time (unsent ones are dropped when the task is completed).
    async fn reminders(&self, ctx: &Context<'_>) -> Result<Vec<TaskReminder>> {
        Ok(loader(ctx)
            .load_one(loaders::RemindersOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(TaskReminder)
            .collect())
    }
    /// The plan the task belongs to.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<CampaignPlan>> {
        Ok(loader(ctx)
            .load_one(loaders::CampaignPlanId(self.0.campaign_plan_id))
            .await?
            .map(CampaignPlan))
    }
    /// The campaign of the plan (owned by ads: null when ads cannot complete it).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
}

pub struct TaskReminder(pub store::TaskReminder);

/// A reminder of a scheduled task, sent once on one channel.
#[Object(requires_scopes = "sales:read")]
impl TaskReminder {
    /// Stable id of the reminder.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// When to send it.
    async fn remind_at(&self) -> DateTime<Utc> {
        self.0.remind_at
    }
    /// How the reminder is delivered.
    async fn channel(&self) -> Result<ReminderChannel> {
        ReminderChannel::from_db(&self.0.channel)
    }
    /// When it was sent; null while due.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
}
