//! Campaign planning: plans, their approval steps, their calendar of tasks and its reminders; and
//! the two planning writes, `decide_approval` and `complete_task`.
//!
//! The approval rule (also in the API description of `decideApproval`):
//! - only a `pending` step of a plan `in_review` can be decided, and only once every lower step is
//!   `approved` (sign-off is sequential: the marketing lead, then the owner, then staff);
//! - `approved` moves the plan to `approved` when it was the last step still open, otherwise the
//!   plan stays `in_review`; `rejected` moves the plan to `rejected`; `changes_requested` sends the
//!   plan back to `draft` for its author. Steps after a rejection stay `pending`.
//! - `decided_at` is the store's clock; the plan row is locked first, so two decisions on the same
//!   plan queue and "every step approved" is judged on committed data.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{ById, ByParent, audit, group};
use crate::store::{Actor, Approval, CampaignPlan, Decision, Result, ScheduledTask, TaskReminder, WriteError};

const PLAN_COLUMNS: &str = "id, campaign_id, organization_id, brand_id, product_id, title, objective, target_summary, \
     planned_budget, planned_start, planned_end, status, created_by, version, created_at, updated_at";
/// Approvals of live plans, with the plan's campaign id.
const APPROVAL_SELECT: &str = "SELECT a.id, a.campaign_plan_id, p.campaign_id, a.organization_id, a.step, \
     a.approver_id, a.decision, a.comment, a.requested_at, a.decided_at, a.version, a.updated_at
     FROM sales.approvals a JOIN sales.campaign_plans p ON p.id = a.campaign_plan_id AND p.deleted_at IS NULL";
/// Live tasks of live plans.
const TASK_SELECT: &str = "SELECT t.id, t.campaign_plan_id, t.organization_id, t.campaign_id, t.title, t.kind, \
     t.due_at, t.assignee_id, t.status, t.completed_at, t.version, t.updated_at
     FROM sales.scheduled_tasks t JOIN sales.campaign_plans p ON p.id = t.campaign_plan_id AND p.deleted_at IS NULL
     WHERE t.deleted_at IS NULL";

pub(super) async fn plans_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<CampaignPlan> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM sales.campaign_plans
         WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
    );
    let rows = sqlx::query_as::<_, CampaignPlan>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

pub(super) async fn plans_by_campaign(pool: &PgPool, tenant: Option<Uuid>, campaigns: &[Uuid]) -> ById<CampaignPlan> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM sales.campaign_plans
         WHERE campaign_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
    );
    let rows = sqlx::query_as::<_, CampaignPlan>(&sql)
        .bind(campaigns)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|p| (p.campaign_id, p)).collect())
}

pub(super) async fn approvals_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Approval> {
    let sql = format!("{APPROVAL_SELECT} WHERE a.id = ANY($1) AND ($2::uuid IS NULL OR a.organization_id = $2)");
    let rows = sqlx::query_as::<_, Approval>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|a| (a.id, a)).collect())
}

pub(super) async fn approvals_by_campaign(
    pool: &PgPool,
    tenant: Option<Uuid>,
    campaigns: &[Uuid],
) -> ByParent<Approval> {
    let sql = format!(
        "{APPROVAL_SELECT} WHERE p.campaign_id = ANY($1) AND ($2::uuid IS NULL OR a.organization_id = $2)
         ORDER BY p.campaign_id, a.step"
    );
    let rows = sqlx::query_as::<_, Approval>(&sql)
        .bind(campaigns)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(group(rows, |a| a.campaign_id))
}

pub(super) async fn tasks_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<ScheduledTask> {
    let sql = format!("{TASK_SELECT} AND t.id = ANY($1) AND ($2::uuid IS NULL OR t.organization_id = $2)");
    let rows = sqlx::query_as::<_, ScheduledTask>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|t| (t.id, t)).collect())
}

pub(super) async fn tasks_by_campaign(
    pool: &PgPool,
    tenant: Option<Uuid>,
    campaigns: &[Uuid],
) -> ByParent<ScheduledTask> {
    let sql = format!(
        "{TASK_SELECT} AND t.campaign_id = ANY($1) AND ($2::uuid IS NULL OR t.organization_id = $2)
         ORDER BY t.campaign_id, t.due_at, t.id"
    );
    let rows = sqlx::query_as::<_, ScheduledTask>(&sql)
        .bind(campaigns)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(group(rows, |t| t.campaign_id))
}

pub(super) async fn reminders_by_task(pool: &PgPool, tenant: Option<Uuid>, tasks: &[Uuid]) -> ByParent<TaskReminder> {
    // Reminders carry no tenant of their own: it is their task's.
    let rows = sqlx::query_as::<_, TaskReminder>(
        "SELECT r.id, r.task_id, r.remind_at, r.channel, r.sent_at
         FROM sales.task_reminders r JOIN sales.scheduled_tasks t ON t.id = r.task_id
         WHERE r.task_id = ANY($1) AND ($2::uuid IS NULL OR t.organization_id = $2)
         ORDER BY r.task_id, r.remind_at, r.channel",
    )
    .bind(tasks)
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    Ok(group(rows, |r| r.task_id))
}

fn conflict(field: &'static str, rule: &'static str, message: impl Into<String>) -> WriteError {
    WriteError::Conflict {
        field,
        rule,
        message: message.into(),
    }
}

/// The plan status after `decision` on one step, given every step after the decision.
fn plan_status_after(decision: &str, steps: &[Approval], current: &str) -> String {
    match decision {
        "rejected" => "rejected".to_owned(),
        "changes_requested" => "draft".to_owned(),
        _ if steps.iter().all(|s| s.decision == "approved") => "approved".to_owned(),
        _ => current.to_owned(),
    }
}

async fn steps_of_plan(conn: &mut PgConnection, plan: Uuid) -> Result<Vec<Approval>> {
    let sql = format!("{APPROVAL_SELECT} WHERE a.campaign_plan_id = $1 ORDER BY a.step FOR UPDATE OF a");
    Ok(sqlx::query_as::<_, Approval>(&sql).bind(plan).fetch_all(conn).await?)
}

pub(super) async fn decide_approval(
    pool: &PgPool,
    tenant: Option<Uuid>,
    actor: &Actor,
    decision: &Decision,
) -> Result<Approval, WriteError> {
    let mut tx = pool.begin().await?;
    // Lock the plan before its steps (the same order for every decision on it: no deadlock).
    let plan: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT p.id, p.status FROM sales.campaign_plans p JOIN sales.approvals a ON a.campaign_plan_id = p.id
         WHERE a.id = $1 AND p.deleted_at IS NULL AND ($2::uuid IS NULL OR a.organization_id = $2)
         FOR UPDATE OF p",
    )
    .bind(decision.approval)
    .bind(tenant)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((plan_id, plan_status)) = plan else {
        return Err(WriteError::NotFound);
    };
    let mut steps = steps_of_plan(&mut tx, plan_id).await?;
    let index = steps
        .iter()
        .position(|s| s.id == decision.approval)
        .ok_or(WriteError::NotFound)?;
    let step = &steps[index];
    if let Some(expected) = decision.expected_version
        && expected != step.version
    {
        return Err(conflict(
            "expectedVersion",
            "stale",
            format!("the approval is at version {}, not {expected}: reload it", step.version),
        ));
    }
    if step.decision != "pending" {
        return Err(conflict(
            "id",
            "pending",
            format!("step {} was already decided ({})", step.step, step.decision),
        ));
    }
    if plan_status != "in_review" {
        return Err(conflict(
            "id",
            "plan_in_review",
            format!("the plan is {plan_status}; only a plan in review takes decisions"),
        ));
    }
    if let Some(open) = steps[..index].iter().find(|s| s.decision != "approved") {
        return Err(conflict(
            "id",
            "step_order",
            format!("step {} waits for step {} ({})", step.step, open.step, open.decision),
        ));
    }
    let step_number = step.step;
    sqlx::query(
        "UPDATE sales.approvals
         SET decision = $2, comment = $3, decided_at = greatest(clock_timestamp(), requested_at)
         WHERE id = $1",
    )
    .bind(decision.approval)
    .bind(&decision.decision)
    .bind(&decision.comment)
    .execute(&mut *tx)
    .await?;
    steps[index].decision = decision.decision.clone();
    let new_status = plan_status_after(&decision.decision, &steps, &plan_status);
    if new_status != plan_status {
        sqlx::query("UPDATE sales.campaign_plans SET status = $2 WHERE id = $1")
            .bind(plan_id)
            .bind(&new_status)
            .execute(&mut *tx)
            .await?;
    }
    let details = serde_json::json!({
        "decision": decision.decision,
        "step": step_number,
        "plan_id": plan_id,
        "plan_status": new_status,
    });
    audit::record_change(
        &mut tx,
        actor,
        "decide_approval",
        "approval",
        decision.approval,
        details,
    )
    .await?;
    let sql = format!("{APPROVAL_SELECT} WHERE a.id = $1");
    let decided = sqlx::query_as::<_, Approval>(&sql)
        .bind(decision.approval)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(decided)
}

pub(super) async fn complete_task(
    pool: &PgPool,
    tenant: Option<Uuid>,
    actor: &Actor,
    task: Uuid,
) -> Result<ScheduledTask, WriteError> {
    let mut tx = pool.begin().await?;
    let select =
        format!("{TASK_SELECT} AND t.id = $1 AND ($2::uuid IS NULL OR t.organization_id = $2) FOR UPDATE OF t");
    let current = sqlx::query_as::<_, ScheduledTask>(&select)
        .bind(task)
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(WriteError::NotFound)?;
    match current.status.as_str() {
        // A retry of a completion that already went through: nothing to write.
        "done" => return Ok(current),
        "cancelled" => {
            return Err(conflict("id", "open", "a cancelled task cannot be completed"));
        }
        _ => {}
    }
    sqlx::query("UPDATE sales.scheduled_tasks SET status = 'done', completed_at = clock_timestamp() WHERE id = $1")
        .bind(task)
        .execute(&mut *tx)
        .await?;
    // Reminders of a finished task would only nag: the unsent ones go, the sent ones stay as history.
    let dropped = sqlx::query("DELETE FROM sales.task_reminders WHERE task_id = $1 AND sent_at IS NULL")
        .bind(task)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let details = serde_json::json!({ "from_status": current.status, "reminders_dropped": dropped });
    audit::record_change(&mut tx, actor, "complete_task", "scheduled_task", task, details).await?;
    let done = sqlx::query_as::<_, ScheduledTask>(&select)
        .bind(task)
        .bind(tenant)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done)
}
