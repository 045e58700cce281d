//! Claiming and settling due work in the sales store.
//!
//! Every queue is a table whose rows carry their own lease (`lease_owner`, `lease_until`),
//! attempt count and backoff (`next_attempt_at`). A claim is one statement: it picks due rows
//! with `FOR UPDATE SKIP LOCKED` (concurrent claimers skip each other's rows instead of waiting)
//! and writes the lease and the attempt in the same statement, so a row is leased by at most one
//! worker at a time. A worker that dies keeps its lease only until `lease_until`; the next claim
//! after that takes the row over. Settling checks the lease is still ours: a worker that outlived
//! its lease cannot overwrite the state its successor wrote.
//!
//! Why PostgreSQL and not the platform's Redis lock: the work and its state are rows of this
//! database, and a claim here is atomic with them; a lock in a second system could disagree with
//! the rows (a lock held for a row another worker already settled), and would add a dependency
//! whose loss stops the agenda.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The three kinds of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    Reminders,
    Steps,
    Alerts,
}

impl Queue {
    pub fn name(self) -> &'static str {
        match self {
            Queue::Reminders => "reminders",
            Queue::Steps => "steps",
            Queue::Alerts => "alerts",
        }
    }
}

/// A reminder claimed for sending, with what its message says.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reminder {
    pub id: Uuid,
    pub task_id: Uuid,
    pub remind_at: DateTime<Utc>,
    pub channel: String,
    pub attempts: i32,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub title: String,
    pub due_at: DateTime<Utc>,
    pub assignee_id: Option<Uuid>,
}

/// A step claimed for execution.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Step {
    pub id: Uuid,
    pub campaign_plan_id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub kind: String,
    pub attempts: i32,
}

/// An alert claimed for delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Alert {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: String,
    pub subject_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub details: Value,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

/// Due reminders of open tasks, oldest first. Reminders of a task that was completed, cancelled
/// or deleted are not claimed (completing a task drops its unsent reminders anyway).
const CLAIM_REMINDERS: &str = "
WITH due AS (
    SELECT r.id
    FROM sales.task_reminders r
    JOIN sales.scheduled_tasks t ON t.id = r.task_id
    WHERE r.sent_at IS NULL AND r.dead_at IS NULL
      AND r.remind_at <= now()
      AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
      AND (r.lease_until IS NULL OR r.lease_until < now())
      AND t.status IN ('pending', 'in_progress') AND t.deleted_at IS NULL
    ORDER BY r.remind_at
    LIMIT $1
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE sales.task_reminders r
SET lease_owner = $2,
    lease_until = now() + make_interval(secs => $3),
    attempts = r.attempts + 1
FROM due, sales.scheduled_tasks t
WHERE r.id = due.id AND t.id = r.task_id
RETURNING r.id, r.task_id, r.remind_at, r.channel, r.attempts,
          t.organization_id, t.campaign_id, t.title, t.due_at, t.assignee_id";

const CLAIM_STEPS: &str = "
WITH due AS (
    SELECT s.id
    FROM sales.agenda_steps s
    WHERE s.status = 'pending'
      AND s.run_at <= now()
      AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())
      AND (s.lease_until IS NULL OR s.lease_until < now())
    ORDER BY s.run_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE sales.agenda_steps s
SET lease_owner = $2,
    lease_until = now() + make_interval(secs => $3),
    attempts = s.attempts + 1
FROM due
WHERE s.id = due.id
RETURNING s.id, s.campaign_plan_id, s.organization_id, s.campaign_id, s.kind, s.attempts";

const CLAIM_ALERTS: &str = "
WITH due AS (
    SELECT a.id
    FROM sales.agenda_alerts a
    WHERE a.notified_at IS NULL AND a.dead_at IS NULL
      AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
      AND (a.lease_until IS NULL OR a.lease_until < now())
    ORDER BY a.raised_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE sales.agenda_alerts a
SET lease_owner = $2,
    lease_until = now() + make_interval(secs => $3),
    attempts = a.attempts + 1
FROM due
WHERE a.id = due.id
RETURNING a.id, a.organization_id, a.kind, a.subject_id, a.campaign_id, a.details, a.raised_at,
          a.resolved_at, a.attempts";

/// Who claims, for how long, and how failures back off.
#[derive(Debug, Clone)]
pub struct Leasing {
    /// This worker's name in `lease_owner` (unique per process).
    pub owner: String,
    pub lease: Duration,
    /// Attempts before a row is dead-lettered.
    pub max_attempts: i32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Leasing {
    /// The wait before attempt `attempts + 1`: base × 2^(attempts − 1), capped, with ±20 % jitter
    /// so rows that failed together do not retry together.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
        let plain = self.backoff_base.saturating_mul(1 << exponent).min(self.backoff_max);
        let jitter = rand::random_range(0.8..1.2);
        plain.mul_f64(jitter)
    }

    /// Runs one of the claim statements: `$1` the batch, `$2` this owner, `$3` the lease in seconds.
    async fn claim<T>(&self, sql: &'static str, pool: &PgPool, limit: i64) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        sqlx::query_as(sql)
            .bind(limit)
            .bind(&self.owner)
            .bind(self.lease.as_secs_f64())
            .fetch_all(pool)
            .await
    }

    pub async fn claim_reminders(&self, pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Reminder>> {
        self.claim(CLAIM_REMINDERS, pool, limit).await
    }

    pub async fn claim_steps(&self, pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Step>> {
        self.claim(CLAIM_STEPS, pool, limit).await
    }

    pub async fn claim_alerts(&self, pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Alert>> {
        self.claim(CLAIM_ALERTS, pool, limit).await
    }

    /// The reminder was delivered. `false`: the lease was no longer ours (another worker took
    /// the row over and settles it).
    pub async fn reminder_sent(&self, pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE sales.task_reminders
             SET sent_at = now(), lease_owner = NULL, lease_until = NULL, last_error = NULL
             WHERE id = $1 AND lease_owner = $2 AND sent_at IS NULL",
        )
        .bind(id)
        .bind(&self.owner)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The alert was delivered.
    pub async fn alert_notified(&self, pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE sales.agenda_alerts
             SET notified_at = now(), lease_owner = NULL, lease_until = NULL, last_error = NULL
             WHERE id = $1 AND lease_owner = $2 AND notified_at IS NULL",
        )
        .bind(id)
        .bind(&self.owner)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A failed attempt: back off, or dead-letter when `permanent` or out of attempts. Returns
    /// whether the row is now dead.
    pub async fn failed(
        &self,
        pool: &PgPool,
        queue: Queue,
        id: Uuid,
        attempts: i32,
        error: &str,
        permanent: bool,
    ) -> sqlx::Result<bool> {
        let dead = permanent || attempts >= self.max_attempts;
        let error: String = error.chars().take(2000).collect();
        let wait = self.backoff(attempts).as_secs_f64();
        let sql = match queue {
            Queue::Reminders => {
                "UPDATE sales.task_reminders
                 SET lease_owner = NULL, lease_until = NULL, last_error = $3,
                     next_attempt_at = now() + make_interval(secs => $4),
                     dead_at = CASE WHEN $5 THEN now() END
                 WHERE id = $1 AND lease_owner = $2"
            }
            Queue::Alerts => {
                "UPDATE sales.agenda_alerts
                 SET lease_owner = NULL, lease_until = NULL, last_error = $3,
                     next_attempt_at = now() + make_interval(secs => $4),
                     dead_at = CASE WHEN $5 THEN now() END
                 WHERE id = $1 AND lease_owner = $2"
            }
            Queue::Steps => {
                "UPDATE sales.agenda_steps
                 SET lease_owner = NULL, lease_until = NULL, last_error = $3,
                     next_attempt_at = now() + make_interval(secs => $4),
                     status = CASE WHEN $5 THEN 'dead' ELSE status END,
                     finished_at = CASE WHEN $5 THEN now() END
                 WHERE id = $1 AND lease_owner = $2"
            }
        };
        sqlx::query(sql)
            .bind(id)
            .bind(&self.owner)
            .bind(error)
            .bind(wait)
            .bind(dead)
            .execute(pool)
            .await?;
        Ok(dead)
    }
}

/// How much work is due now and how late the oldest of it is, per queue (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Backlog {
    pub depth: i64,
    pub lag_seconds: f64,
}

pub async fn backlog(pool: &PgPool) -> sqlx::Result<[(Queue, Backlog); 3]> {
    let row: (i64, Option<f64>, i64, Option<f64>, i64, Option<f64>) = sqlx::query_as(
        "SELECT
            (SELECT count(*) FROM sales.task_reminders r
             WHERE r.sent_at IS NULL AND r.dead_at IS NULL AND r.remind_at <= now()),
            (SELECT extract(epoch FROM now() - min(r.remind_at))::float8 FROM sales.task_reminders r
             WHERE r.sent_at IS NULL AND r.dead_at IS NULL AND r.remind_at <= now()),
            (SELECT count(*) FROM sales.agenda_steps s WHERE s.status = 'pending' AND s.run_at <= now()),
            (SELECT extract(epoch FROM now() - min(s.run_at))::float8 FROM sales.agenda_steps s
             WHERE s.status = 'pending' AND s.run_at <= now()),
            (SELECT count(*) FROM sales.agenda_alerts a WHERE a.notified_at IS NULL AND a.dead_at IS NULL),
            (SELECT extract(epoch FROM now() - min(a.raised_at))::float8 FROM sales.agenda_alerts a
             WHERE a.notified_at IS NULL AND a.dead_at IS NULL)",
    )
    .fetch_one(pool)
    .await?;
    let b = |depth, lag: Option<f64>| Backlog {
        depth,
        lag_seconds: lag.unwrap_or(0.0).max(0.0),
    };
    Ok([
        (Queue::Reminders, b(row.0, row.1)),
        (Queue::Steps, b(row.2, row.3)),
        (Queue::Alerts, b(row.4, row.5)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leasing() -> Leasing {
        Leasing {
            owner: "w".into(),
            lease: Duration::from_secs(30),
            max_attempts: 5,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(60),
        }
    }

    #[test]
    fn should_double_the_backoff_per_attempt_within_the_jitter_and_the_cap() {
        let l = leasing();
        for (attempts, plain) in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (40, 60.0)] {
            let wait = l.backoff(attempts).as_secs_f64();
            assert!(
                (plain * 0.8..=plain * 1.2).contains(&wait),
                "attempt {attempts}: {wait} s, expected about {plain} s"
            );
        }
    }
}
