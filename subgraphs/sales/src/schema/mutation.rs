//! Planning writes for the portal. Each validates its input first (errors name the argument and
//! the rule, and nothing is written), then runs in one transaction with its audit row.

use async_graphql::{Context, ErrorExtensions, ID, Object, Result};
use promptsales_platform::gql::{self, ErrorCode, bad_input, internal};

use super::{Approval, ApprovalDecision, ScheduledTask, actor, parse_id, store, tenant};
use crate::store::{Decision, WriteError};

/// Longest approval comment (the store's CHECK).
const MAX_COMMENT: usize = 4_000;

pub struct Mutation;

fn write_error(ctx: &Context<'_>, what: &str, e: WriteError) -> async_graphql::Error {
    match e {
        WriteError::NotFound => gql::error(ErrorCode::NotFound, format!("no {what} with this id is visible to you"))
            .extend_with(|_, ext| ext.set("field", "id")),
        WriteError::Conflict { field, rule, message } => {
            gql::error(ErrorCode::Conflict, message).extend_with(|_, ext| {
                ext.set("field", field);
                ext.set("rule", rule);
            })
        }
        WriteError::Store(e) => internal(ctx, e),
    }
}

/// The comment as stored: trimmed, blank as none, at most 4000 characters; required when the
/// decision sends the plan back.
fn comment_for(decision: ApprovalDecision, comment: Option<String>) -> Result<Option<String>> {
    let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if let Some(c) = &comment
        && c.chars().count() > MAX_COMMENT
    {
        return Err(bad_input(
            "comment",
            "max_length",
            format!("at most {MAX_COMMENT} characters"),
        ));
    }
    if comment.is_none()
        && matches!(
            decision,
            ApprovalDecision::Rejected | ApprovalDecision::ChangesRequested
        )
    {
        return Err(bad_input(
            "comment",
            "required",
            "say why when rejecting or requesting changes",
        ));
    }
    Ok(comment)
}

/// Writes to campaign planning.
#[Object]
impl Mutation {
    /// Decides one pending approval step of a campaign plan.
    ///
    /// Rules: `decision` is `APPROVED`, `REJECTED` or `CHANGES_REQUESTED` (a `comment` is required
    /// for the last two); only a `PENDING` step of a plan `IN_REVIEW` can be decided, and only
    /// after every lower step is approved (sign-off is sequential). The plan then moves:
    /// `APPROVED` on the last open step → plan `APPROVED` (otherwise it stays `IN_REVIEW`);
    /// `REJECTED` → plan `REJECTED`; `CHANGES_REQUESTED` → plan `DRAFT`, back to its author.
    /// `decidedAt` is set by the store. With `expectedVersion`, the step must still be at that
    /// version. Errors: `BAD_USER_INPUT` (field, rule), `NOT_FOUND`, `CONFLICT` (field, rule:
    /// `stale`, `pending`, `plan_in_review`, `step_order`).
    #[graphql(requires_scopes = "sales:write")]
    async fn decide_approval(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The approval step.")] id: ID,
        #[graphql(desc = "APPROVED, REJECTED or CHANGES_REQUESTED.")] decision: ApprovalDecision,
        #[graphql(desc = "The approver's note (at most 4000 characters; required unless approving).")] comment: Option<
            String,
        >,
        #[graphql(desc = "The step's `version` the decision was made on; refused when it moved since.")]
        expected_version: Option<i32>,
    ) -> Result<Approval> {
        let approval = parse_id("id", &id)?;
        if decision == ApprovalDecision::Pending {
            return Err(bad_input(
                "decision",
                "decided",
                "must be APPROVED, REJECTED or CHANGES_REQUESTED",
            ));
        }
        let comment = comment_for(decision, comment)?;
        if expected_version.is_some_and(|v| v < 1) {
            return Err(bad_input("expectedVersion", "min", "versions start at 1"));
        }
        let decision = Decision {
            approval,
            decision: decision.as_db().to_owned(),
            comment,
            expected_version,
        };
        store(ctx)
            .decide_approval(tenant(ctx), &actor(ctx), &decision)
            .await
            .map(Approval)
            .map_err(|e| write_error(ctx, "approval", e))
    }

    /// Marks a scheduled task done (`completedAt` set by the store) and drops its unsent
    /// reminders. Completing a done task again changes nothing (safe to retry); a cancelled task
    /// cannot be completed (`CONFLICT`, rule `open`).
    #[graphql(requires_scopes = "sales:write")]
    async fn complete_task(&self, ctx: &Context<'_>, #[graphql(desc = "The task.")] id: ID) -> Result<ScheduledTask> {
        let task = parse_id("id", &id)?;
        store(ctx)
            .complete_task(tenant(ctx), &actor(ctx), task)
            .await
            .map(ScheduledTask)
            .map_err(|e| write_error(ctx, "task", e))
    }
}
