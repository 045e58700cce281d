//! Steps of a campaign plan's calendar, run only while the plan's approval holds.
//!
//! The gate reads the plan and its sign-off steps in the sales store (this worker's own store):
//! a step runs when every approval step is approved and the plan has not changed since it became
//! approved (`version = approved_version`). Otherwise it is refused with a reason — no approval
//! yet, a rejection, an approval older than the plan (stale), a deleted plan — and the refusal is
//! written to the audit log. What the step changes lives in another store, so it goes through the
//! gateway with the worker's own client: activating a campaign is PromptAds'
//! `updateCampaignStatus`, with the version just read (a concurrent change is a conflict, retried).

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    gateway::{Gateway, GatewayError},
    queue::Step,
};

/// Why a step was refused (`agenda_steps.refusal_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ApprovalMissing,
    ApprovalRejected,
    ApprovalStale,
    PlanDeleted,
    /// The campaign cannot make the move (not found, or in a status it cannot leave this way).
    CampaignState,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::ApprovalMissing => "approval_missing",
            Refusal::ApprovalRejected => "approval_rejected",
            Refusal::ApprovalStale => "approval_stale",
            Refusal::PlanDeleted => "plan_deleted",
            Refusal::CampaignState => "campaign_state",
        }
    }
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Run,
    Refuse(Refusal, String),
}

#[derive(sqlx::FromRow)]
struct PlanState {
    status: String,
    version: i32,
    approved_version: Option<i32>,
    deleted: bool,
    steps: i64,
    approved: i64,
    rejected: i64,
}

/// Whether the plan's approval allows running its steps now.
pub async fn gate(pool: &PgPool, plan_id: Uuid) -> sqlx::Result<Gate> {
    let state: Option<PlanState> = sqlx::query_as(
        "SELECT p.status, p.version, p.approved_version, p.deleted_at IS NOT NULL AS deleted,
                count(a.id) AS steps,
                count(a.id) FILTER (WHERE a.decision = 'approved') AS approved,
                count(a.id) FILTER (WHERE a.decision = 'rejected') AS rejected
         FROM sales.campaign_plans p
         LEFT JOIN sales.approvals a ON a.campaign_plan_id = p.id
         WHERE p.id = $1
         GROUP BY p.id",
    )
    .bind(plan_id)
    .fetch_optional(pool)
    .await?;
    let Some(p) = state else {
        return Ok(Gate::Refuse(Refusal::PlanDeleted, "the plan no longer exists".into()));
    };
    Ok(if p.deleted {
        Gate::Refuse(Refusal::PlanDeleted, "the plan was deleted".into())
    } else if p.rejected > 0 || p.status == "rejected" {
        Gate::Refuse(Refusal::ApprovalRejected, "an approver rejected the plan".into())
    } else if p.steps == 0 || p.approved < p.steps || !matches!(p.status.as_str(), "approved" | "launched") {
        Gate::Refuse(
            Refusal::ApprovalMissing,
            format!(
                "the plan is {} with {} of {} approval steps approved",
                p.status, p.approved, p.steps
            ),
        )
    } else if p.approved_version != Some(p.version) {
        Gate::Refuse(
            Refusal::ApprovalStale,
            format!(
                "the plan was approved at version {} and is now at version {}",
                p.approved_version.map_or("?".into(), |v| v.to_string()),
                p.version
            ),
        )
    } else {
        Gate::Run
    })
}

/// What running a step did.
#[derive(Debug)]
pub enum Outcome {
    /// Done now, or found already done (a retry after a worker died mid-step).
    Done(String),
    Refused(Refusal, String),
    /// Try again later.
    Retry(String),
}

const CAMPAIGN: &str = "query AgendaCampaign($id: ID!) { campaign(id: $id) { id status version } }";
const ACTIVATE: &str = "mutation AgendaActivate($id: ID!, $version: Int!) {
  updateCampaignStatus(id: $id, status: ACTIVE, expectedVersion: $version) { id status version } }";

/// Runs a step the gate let through.
pub async fn execute(gateway: &Gateway, step: &Step) -> Outcome {
    match step.kind.as_str() {
        "activate_campaign" => activate(gateway, step.campaign_id).await,
        other => Outcome::Retry(format!("this worker does not know steps of kind {other}")),
    }
}

async fn activate(gateway: &Gateway, campaign: Uuid) -> Outcome {
    let data = match gateway.execute(CAMPAIGN, json!({ "id": campaign })).await {
        Ok(data) => data,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let c = &data["campaign"];
    if c.is_null() {
        return Outcome::Refused(Refusal::CampaignState, format!("campaign {campaign} is not visible"));
    }
    let status = c["status"].as_str().unwrap_or_default();
    match status {
        "ACTIVE" => return Outcome::Done("the campaign was already active".into()),
        "SCHEDULED" | "PAUSED" => {}
        other => {
            return Outcome::Refused(
                Refusal::CampaignState,
                format!("a {other} campaign cannot be activated"),
            );
        }
    }
    let Some(version) = c["version"].as_i64() else {
        return Outcome::Retry("the campaign came without its version".into());
    };
    match gateway
        .execute(ACTIVATE, json!({ "id": campaign, "version": version }))
        .await
    {
        Ok(data) if data["updateCampaignStatus"]["status"] == "ACTIVE" => {
            Outcome::Done(format!("activated from {status} at version {version}"))
        }
        Ok(data) => Outcome::Retry(format!("unexpected answer: {data}")),
        // Changed between the read and the write: read again on the next attempt.
        Err(GatewayError::Graphql { code, message }) if code.as_deref() == Some("CONFLICT") => {
            Outcome::Retry(format!("conflict: {message}"))
        }
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Records a finished step (done or refused) and its audit record in one transaction, if the
/// lease is still ours. Returns `false` when another worker took the step over.
pub async fn finish(pool: &PgPool, owner: &str, client_id: &str, step: &Step, outcome: &Outcome) -> sqlx::Result<bool> {
    let (status, reason, note, audit_outcome) = match outcome {
        Outcome::Done(note) => ("done", None, note.as_str(), "success"),
        Outcome::Refused(r, note) => ("refused", Some(r.code()), note.as_str(), "refused"),
        Outcome::Retry(_) => return Ok(false),
    };
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE sales.agenda_steps
         SET status = $3, refusal_reason = $4, finished_at = now(), lease_owner = NULL, lease_until = NULL,
             last_error = NULL
         WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
    )
    .bind(step.id)
    .bind(owner)
    .bind(status)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO sales.audit_log (id, actor_subject, client_id, action, target_type, target_id, outcome, details)
         VALUES ($1, $2, $3, 'agenda_step', 'AgendaStep', $4, $5, $6)",
    )
    .bind(Uuid::new_v4())
    .bind(format!("worker:{client_id}"))
    .bind(client_id)
    .bind(step.id.to_string())
    .bind(audit_outcome)
    .bind(json!({
        "kind": step.kind,
        "campaignId": step.campaign_id,
        "campaignPlanId": step.campaign_plan_id,
        "organizationId": step.organization_id,
        "reason": reason,
        "note": note,
        "attempt": step.attempts,
    }))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
