//! Alerts: conditions evaluated set-based over the sales store, one statement per evaluation.
//!
//! The statement computes every condition that holds now (`current`), raises an alert for each
//! one without an open alert (the unique partial index on open alerts makes this safe when
//! several workers evaluate at once: `ON CONFLICT DO NOTHING`), and resolves open alerts whose
//! condition no longer holds. So an alert fires once when its condition starts to hold, not on
//! every evaluation, and fires again only after it was resolved and the condition returned.
//!
//! Conditions:
//! - `task_overdue`: an open task past its due time;
//! - `approval_overdue`: the approval step a plan in review is waiting on (the lowest one not yet
//!   approved; sign-off is sequential) requested longer ago than the allowed wait;
//! - `roi_below_threshold`: a running (active or paused) campaign whose ROI, from the summaries
//!   the ETL keeps, is below the minimum;
//! - `negative_sentiment_above_threshold`: a running campaign with enough reactions whose share of
//!   negative ones is above the maximum.

use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::PgPool;

/// The thresholds.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// How long an approval step may wait for its decision.
    pub approval_max_wait: Duration,
    /// ROI below this raises an alert (`-0.2`: losing more than 20 % of the spend).
    pub min_roi: Decimal,
    /// A share of negative reactions above this raises an alert (0–1).
    pub max_negative_share: Decimal,
    /// Below this many positive + negative reactions, sentiment is not judged.
    pub min_reactions: i64,
}

const EVALUATE: &str = "
WITH current AS (
    SELECT 'task_overdue'::text AS kind, t.id AS subject_id, t.organization_id, t.campaign_id,
           jsonb_build_object('taskId', t.id, 'title', t.title, 'dueAt', t.due_at,
                              'assigneeId', t.assignee_id) AS details
    FROM sales.scheduled_tasks t
    WHERE t.status IN ('pending', 'in_progress') AND t.deleted_at IS NULL AND t.due_at < now()
  UNION ALL
    SELECT 'approval_overdue', a.id, a.organization_id, p.campaign_id,
           jsonb_build_object('approvalId', a.id, 'campaignPlanId', p.id, 'step', a.step,
                              'approverId', a.approver_id, 'requestedAt', a.requested_at)
    FROM sales.approvals a
    JOIN sales.campaign_plans p ON p.id = a.campaign_plan_id
    WHERE a.decision = 'pending' AND p.status = 'in_review' AND p.deleted_at IS NULL
      AND a.requested_at < now() - make_interval(secs => $1)
      AND NOT EXISTS (
          SELECT 1 FROM sales.approvals lower
          WHERE lower.campaign_plan_id = a.campaign_plan_id AND lower.step < a.step
            AND lower.decision <> 'approved')
  UNION ALL
    SELECT 'roi_below_threshold', s.campaign_id, s.organization_id, s.campaign_id,
           jsonb_build_object('roi', s.roi, 'threshold', $2::numeric, 'revenue', s.revenue, 'cost', s.cost,
                              'name', s.name)
    FROM sales.campaign_summaries s
    WHERE s.deleted_at IS NULL AND s.status IN ('active', 'paused')
      AND s.roi IS NOT NULL AND s.roi < $2
  UNION ALL
    SELECT 'negative_sentiment_above_threshold', s.campaign_id, s.organization_id, s.campaign_id,
           jsonb_build_object('negativeShare',
                              round(s.negative_reactions::numeric / (s.positive_reactions + s.negative_reactions), 4),
                              'threshold', $3::numeric, 'negativeReactions', s.negative_reactions,
                              'positiveReactions', s.positive_reactions, 'name', s.name)
    FROM sales.campaign_summaries s
    WHERE s.deleted_at IS NULL AND s.status IN ('active', 'paused')
      AND s.positive_reactions + s.negative_reactions >= $4
      AND s.negative_reactions::numeric / (s.positive_reactions + s.negative_reactions) > $3
),
raised AS (
    INSERT INTO sales.agenda_alerts (id, organization_id, kind, subject_id, campaign_id, details)
    SELECT gen_random_uuid(), c.organization_id, c.kind, c.subject_id, c.campaign_id, c.details
    FROM current c
    ON CONFLICT (kind, subject_id) WHERE resolved_at IS NULL DO NOTHING
    RETURNING 1
),
resolved AS (
    UPDATE sales.agenda_alerts a
    SET resolved_at = now()
    WHERE a.resolved_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM current c WHERE c.kind = a.kind AND c.subject_id = a.subject_id)
    RETURNING 1
)
SELECT (SELECT count(*) FROM raised), (SELECT count(*) FROM resolved)";

/// What one evaluation changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub raised: i64,
    pub resolved: i64,
}

/// Raises and resolves alerts. Workers that evaluate at the same moment skip (a transaction-level
/// advisory lock): one evaluation at a time is enough, and the unique index keeps it correct anyway.
pub async fn evaluate(pool: &PgPool, t: &Thresholds) -> sqlx::Result<Option<Evaluation>> {
    let mut tx = pool.begin().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended('sales.agenda_alerts', 0))")
        .fetch_one(&mut *tx)
        .await?;
    if !got {
        return Ok(None);
    }
    let (raised, resolved): (i64, i64) = sqlx::query_as(EVALUATE)
        .bind(t.approval_max_wait.as_secs_f64())
        .bind(t.min_roi)
        .bind(t.max_negative_share)
        .bind(t.min_reactions)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(Evaluation { raised, resolved }))
}
