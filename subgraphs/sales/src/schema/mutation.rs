//! Planning writes for the portal. Each validates its input first (errors name the argument and
//! the rule, and nothing is written), then runs in one transaction with its audit row.

use async_graphql::{Context, ErrorExtensions, ID, Object, Result};
use promptsales_platform::gql::{self, ErrorCode, bad_input, internal};

use rust_decimal::Decimal;

use super::{Approval, ApprovalDecision, ScheduledTask, ValidationMethod, actor, has_scope, parse_id, store, tenant};
use crate::store::{Decision, NewAiUsage, WriteError};

/// Longest prompt and result texts kept in the AI usage log.
const MAX_AI_TEXT: usize = 32_000;
/// Longest tool or model name (the store's CHECK).
const MAX_AI_NAME: usize = 200;

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

/// One AI call to log (`recordAiUsage`). Who made it is not an input: it is the caller's token.
#[derive(async_graphql::InputObject, Debug)]
pub struct AiUsageInput {
    /// MCP tool name or product feature that made the call (1–200 characters), e.g. `sales.ask`.
    pub tool: String,
    /// Model or engine that produced the result (1–200 characters), e.g. `promptsales-offline-parser`.
    pub model: String,
    /// The prompt or question as sent (redacted of personal data by the caller); at most 32000 characters.
    pub prompt: Option<String>,
    /// What was returned; at most 32000 characters (longer results are refused, not cut).
    pub result: Option<String>,
    /// How the result was checked.
    #[graphql(default_with = "ValidationMethod::None")]
    pub validation_method: ValidationMethod,
    /// Verdict of the validation; must be null when `validationMethod` is `NONE`.
    pub validated: Option<bool>,
    /// Prompt tokens billed (0 when no model was billed).
    #[graphql(default)]
    pub tokens_in: i32,
    /// Completion tokens billed.
    #[graphql(default)]
    pub tokens_out: i32,
    /// Whether the result came from a cache.
    #[graphql(default)]
    pub cache_hit: bool,
    /// Time the call took, in milliseconds.
    #[graphql(default)]
    pub latency_ms: i32,
    /// Provider cost in USD (at most six decimals).
    pub cost_usd: Option<Decimal>,
}

/// Checks the input against the store's rules, naming the field, so a bad record is refused
/// with a clear error instead of a constraint violation.
fn usage_from(input: AiUsageInput) -> Result<NewAiUsage> {
    let name = |field: &str, value: String| -> Result<String> {
        let value = value.trim().to_owned();
        match value.chars().count() {
            0 => Err(bad_input(field, "required", "must not be blank")),
            n if n > MAX_AI_NAME => Err(bad_input(
                field,
                "max_length",
                format!("at most {MAX_AI_NAME} characters"),
            )),
            _ => Ok(value),
        }
    };
    let text = |field: &str, value: Option<String>| -> Result<Option<String>> {
        match value {
            Some(v) if v.chars().count() > MAX_AI_TEXT => Err(bad_input(
                field,
                "max_length",
                format!("at most {MAX_AI_TEXT} characters"),
            )),
            other => Ok(other),
        }
    };
    for (field, value) in [
        ("tokensIn", input.tokens_in),
        ("tokensOut", input.tokens_out),
        ("latencyMs", input.latency_ms),
    ] {
        if value < 0 {
            return Err(bad_input(field, "min", "must not be negative"));
        }
    }
    if input.validation_method == ValidationMethod::None && input.validated.is_some() {
        return Err(bad_input(
            "validated",
            "no_validation",
            "must be null when validationMethod is NONE",
        ));
    }
    let cost_usd = input.cost_usd.unwrap_or_default();
    if cost_usd.is_sign_negative() && !cost_usd.is_zero() {
        return Err(bad_input("costUsd", "min", "must not be negative"));
    }
    if cost_usd.scale() > 6 || cost_usd >= Decimal::from(1_000_000) {
        return Err(bad_input(
            "costUsd",
            "precision",
            "at most six decimals and below 1000000",
        ));
    }
    Ok(NewAiUsage {
        tool: name("tool", input.tool)?,
        model: name("model", input.model)?,
        prompt: text("prompt", input.prompt)?,
        result: text("result", input.result)?,
        validation_method: input.validation_method.as_db().to_owned(),
        validated: input.validated,
        tokens_in: input.tokens_in,
        tokens_out: input.tokens_out,
        cache_hit: input.cache_hit,
        latency_ms: input.latency_ms,
        cost_usd,
    })
}

/// Writes to campaign planning and the AI usage log.
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

    /// Appends one AI call to the usage log (`aiUsage`) and returns the record's id. The caller
    /// is the token's: its subject, its organization (none for staff) and the request id are
    /// recorded, never taken from the input. MCP servers call this for every tool call they answer.
    /// Errors: `BAD_USER_INPUT` (field, rule).
    #[graphql(requires_scopes = "sales:write")]
    async fn record_ai_usage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The call to record.")] input: AiUsageInput,
    ) -> Result<ID> {
        // The gateway enforces the scope; checked here too, as a subgraph reached directly must not write.
        if !has_scope(ctx, "sales:write") {
            return Err(gql::error(
                ErrorCode::Forbidden,
                "recording AI usage needs the sales:write scope",
            ));
        }
        let usage = usage_from(input)?;
        let caller = actor(ctx);
        if caller.subject.is_empty() {
            return Err(gql::error(
                ErrorCode::Unauthenticated,
                "the call has no caller to record",
            ));
        }
        store(ctx)
            .record_ai_usage(&caller, &usage)
            .await
            .map(|id| ID(id.to_string()))
            .map_err(|e| internal(ctx, e))
    }
}
