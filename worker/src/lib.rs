//! The agenda worker: the part of PromptSales that acts on the calendar of each campaign plan.
//! It sends due task reminders once, raises alerts (overdue tasks and approvals, ROI or negative
//! sentiment past a threshold) and delivers them, and runs approved steps (activating a scheduled
//! campaign) through the gateway, refusing — with an audited reason — any step whose approval is
//! missing, rejected or stale. Any number of replicas may run: work is claimed with leases in the
//! sales store (see [`queue`]).
//!
//! A library (the loop, one [`Worker::tick`] at a time, so tests drive it step by step) and a thin
//! binary that adds `/healthz`, `/readyz` and `/metrics`.

pub mod alerts;
mod config;
pub mod gateway;
pub mod queue;
pub mod sender;
pub mod steps;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

pub use config::Config;
use futures_util::{StreamExt, stream};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::{
    alerts::Thresholds,
    gateway::Gateway,
    queue::{Alert, Leasing, Queue, Reminder, Step},
    sender::{Delivery, SendError, Sender},
    steps::{Gate, Outcome},
};

/// How often a running worker refreshes its queue depth and lag gauges.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub leasing: Leasing,
    /// Rows claimed per queue per tick.
    pub batch: i64,
    /// Deliveries and steps in flight at once.
    pub concurrency: usize,
    /// The pause between ticks that found nothing to do.
    pub idle_wait: Duration,
    /// How often alert conditions are evaluated.
    pub alert_interval: Duration,
    pub thresholds: Thresholds,
    /// The worker's OAuth2 client id (the audit log's actor).
    pub client_id: String,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub reminders_sent: usize,
    pub alerts_delivered: usize,
    pub steps_done: usize,
    pub steps_refused: usize,
    pub failures: usize,
    pub alerts_raised: i64,
    pub alerts_resolved: i64,
}

impl Tick {
    /// Rows this tick settled or tried (an idle tick is followed by a pause).
    pub fn work(&self) -> usize {
        self.reminders_sent + self.alerts_delivered + self.steps_done + self.steps_refused + self.failures
    }
}

/// One worker process's state.
pub struct Worker<S> {
    pool: PgPool,
    sender: S,
    gateway: Option<Arc<Gateway>>,
    settings: Settings,
    last_evaluation: Mutex<Option<Instant>>,
}

impl<S: Sender> Worker<S> {
    /// `gateway`: `None` leaves steps unclaimed (a worker that only sends reminders and alerts).
    pub fn new(pool: PgPool, sender: S, gateway: Option<Arc<Gateway>>, settings: Settings) -> Worker<S> {
        Worker {
            pool,
            sender,
            gateway,
            settings,
            last_evaluation: Mutex::new(None),
        }
    }

    /// One pass over every queue: evaluate alerts when due, then claim and settle one batch of
    /// reminders, steps and alert deliveries.
    pub async fn tick(&self) -> anyhow::Result<Tick> {
        let mut tick = Tick::default();
        self.evaluate_when_due(&mut tick).await?;
        let leasing = &self.settings.leasing;
        let n = self.settings.concurrency.max(1);

        let reminders = leasing.claim_reminders(&self.pool, self.settings.batch).await?;
        let results: Vec<_> = stream::iter(reminders)
            .map(|r| self.deliver_reminder(r))
            .buffer_unordered(n)
            .collect()
            .await;
        for r in results {
            match r? {
                true => tick.reminders_sent += 1,
                false => tick.failures += 1,
            }
        }

        if let Some(gateway) = &self.gateway {
            let steps = leasing.claim_steps(&self.pool, self.settings.batch).await?;
            let results: Vec<_> = stream::iter(steps)
                .map(|s| self.run_step(gateway, s))
                .buffer_unordered(n)
                .collect()
                .await;
            for r in results {
                match r? {
                    StepResult::Done => tick.steps_done += 1,
                    StepResult::Refused => tick.steps_refused += 1,
                    StepResult::Failed => tick.failures += 1,
                }
            }
        }

        let alerts = leasing.claim_alerts(&self.pool, self.settings.batch).await?;
        let results: Vec<_> = stream::iter(alerts)
            .map(|a| self.deliver_alert(a))
            .buffer_unordered(n)
            .collect()
            .await;
        for r in results {
            match r? {
                true => tick.alerts_delivered += 1,
                false => tick.failures += 1,
            }
        }
        Ok(tick)
    }

    /// Evaluates alert conditions now, whatever the interval (tests, and the first tick).
    pub async fn evaluate_alerts(&self) -> anyhow::Result<alerts::Evaluation> {
        let evaluation = alerts::evaluate(&self.pool, &self.settings.thresholds)
            .await?
            .unwrap_or_default();
        *self.last_evaluation.lock().await = Some(Instant::now());
        metrics::counter!("worker_alerts_raised_total").increment(evaluation.raised.unsigned_abs());
        metrics::counter!("worker_alerts_resolved_total").increment(evaluation.resolved.unsigned_abs());
        Ok(evaluation)
    }

    async fn evaluate_when_due(&self, tick: &mut Tick) -> anyhow::Result<()> {
        let due = self
            .last_evaluation
            .lock()
            .await
            .is_none_or(|at| at.elapsed() >= self.settings.alert_interval);
        if due {
            let e = self.evaluate_alerts().await?;
            tick.alerts_raised = e.raised;
            tick.alerts_resolved = e.resolved;
        }
        Ok(())
    }

    /// `true` when delivered and recorded.
    async fn deliver_reminder(&self, r: Reminder) -> anyhow::Result<bool> {
        let delivery = Delivery {
            key: r.id,
            kind: "reminder",
            channel: r.channel.clone(),
            organization_id: r.organization_id,
            attempt: r.attempts,
            body: json!({
                "reminderId": r.id,
                "remindAt": r.remind_at,
                "task": {
                    "id": r.task_id,
                    "title": r.title,
                    "dueAt": r.due_at,
                    "assigneeId": r.assignee_id,
                    "campaignId": r.campaign_id,
                },
            }),
        };
        self.settle_delivery(Queue::Reminders, r.id, r.attempts, &delivery)
            .await
    }

    async fn deliver_alert(&self, a: Alert) -> anyhow::Result<bool> {
        let delivery = Delivery {
            key: a.id,
            kind: "alert",
            channel: "webhook".into(),
            organization_id: a.organization_id,
            attempt: a.attempts,
            body: json!({
                "alertId": a.id,
                "kind": a.kind,
                "subjectId": a.subject_id,
                "campaignId": a.campaign_id,
                "raisedAt": a.raised_at,
                "resolvedAt": a.resolved_at,
                "details": a.details,
            }),
        };
        self.settle_delivery(Queue::Alerts, a.id, a.attempts, &delivery).await
    }

    async fn settle_delivery(
        &self,
        queue: Queue,
        id: uuid::Uuid,
        attempts: i32,
        delivery: &Delivery,
    ) -> anyhow::Result<bool> {
        let leasing = &self.settings.leasing;
        match self.sender.send(delivery).await {
            Ok(()) => {
                let ours = match queue {
                    Queue::Reminders => leasing.reminder_sent(&self.pool, id).await?,
                    _ => leasing.alert_notified(&self.pool, id).await?,
                };
                if !ours {
                    tracing::warn!(queue = queue.name(), %id, "delivered after the lease passed to another worker");
                }
                metrics::counter!("worker_processed_total", "queue" => queue.name(), "outcome" => "delivered")
                    .increment(1);
                Ok(true)
            }
            Err(e) => {
                let permanent = matches!(e, SendError::Permanent(_));
                let dead = leasing
                    .failed(&self.pool, queue, id, attempts, &e.to_string(), permanent)
                    .await?;
                tracing::warn!(queue = queue.name(), %id, attempts, dead, error = %e, "delivery failed");
                metrics::counter!("worker_failures_total", "queue" => queue.name(), "dead" => if dead { "yes" } else { "no" }).increment(1);
                Ok(false)
            }
        }
    }

    async fn run_step(&self, gateway: &Gateway, step: Step) -> anyhow::Result<StepResult> {
        let leasing = &self.settings.leasing;
        let outcome = match steps::gate(&self.pool, step.campaign_plan_id).await? {
            Gate::Refuse(reason, why) => Outcome::Refused(reason, why),
            // One trace per step while traces are exported: the gateway request of the step names
            // this span, so the gateway and the subgraphs it calls continue the same trace.
            Gate::Run => {
                let span = if promptsales_platform::telemetry::tracing_enabled() {
                    tracing::info_span!(
                        "agenda step",
                        otel.name = %format_args!("step {}", step.kind),
                        otel.kind = "internal",
                        step = %step.id,
                    )
                } else {
                    tracing::Span::none()
                };
                steps::execute(gateway, &step).instrument(span).await
            }
        };
        if let Outcome::Retry(why) = &outcome {
            let dead = leasing
                .failed(&self.pool, Queue::Steps, step.id, step.attempts, why, false)
                .await?;
            tracing::warn!(step = %step.id, attempts = step.attempts, dead, error = %why, "step failed");
            metrics::counter!("worker_failures_total", "queue" => "steps", "dead" => if dead { "yes" } else { "no" })
                .increment(1);
            return Ok(StepResult::Failed);
        }
        let ours = steps::finish(&self.pool, &leasing.owner, &self.settings.client_id, &step, &outcome).await?;
        if !ours {
            tracing::warn!(step = %step.id, "finished after the lease passed to another worker");
        }
        Ok(match outcome {
            Outcome::Refused(reason, why) => {
                tracing::info!(step = %step.id, reason = reason.code(), why, "step refused");
                metrics::counter!("worker_processed_total", "queue" => "steps", "outcome" => "refused").increment(1);
                StepResult::Refused
            }
            _ => {
                metrics::counter!("worker_processed_total", "queue" => "steps", "outcome" => "done").increment(1);
                StepResult::Done
            }
        })
    }

    /// Publishes queue depth and lag as gauges.
    pub async fn record_backlog(&self) -> anyhow::Result<()> {
        for (queue, b) in queue::backlog(&self.pool).await? {
            metrics::gauge!("worker_queue_depth", "queue" => queue.name()).set(b.depth as f64);
            metrics::gauge!("worker_lag_seconds", "queue" => queue.name()).set(b.lag_seconds);
        }
        Ok(())
    }

    /// Ticks until `shutdown` resolves: at once again after a busy tick, after `idle_wait` after
    /// an idle one or an error (a database that is down is retried, never fatal). The backlog
    /// gauges are refreshed every [`BACKLOG_EVERY`], not on every tick of a busy worker.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backlog_at: Option<Instant> = None;
        loop {
            let started = Instant::now();
            let wait = match self.tick().await {
                Ok(t) => {
                    metrics::histogram!("worker_tick_seconds").record(started.elapsed().as_secs_f64());
                    if t.work() > 0 {
                        Duration::ZERO
                    } else {
                        self.settings.idle_wait
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "tick failed");
                    self.settings.idle_wait
                }
            };
            if backlog_at.is_none_or(|at| at.elapsed() >= BACKLOG_EVERY) {
                backlog_at = Some(Instant::now());
                if let Err(e) = self.record_backlog().await {
                    tracing::warn!(error = %e, "backlog not measured");
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

enum StepResult {
    Done,
    Refused,
    Failed,
}
