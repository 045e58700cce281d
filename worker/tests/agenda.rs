//! The agenda worker on a real sales store: claiming across workers, takeover of a dead worker's
//! lease, exactly-once delivery by idempotency key, retries and dead letters, the approval gate
//! with its audit records, and alerts on their thresholds.

mod common;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, http::HeaderMap, routing::post};
use chrono::Utc;
use common::{Agenda, FakeGateway, Recorder, worker};
use promptsales_worker::sender::HttpSink;
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

#[tokio::test]
async fn should_deliver_every_due_reminder_exactly_once_with_two_workers_claiming_at_once() {
    let agenda = Agenda::new().await;
    let (plan, campaign) = agenda.plan(1).await;
    let sink = Recorder::default();
    let a = worker(&agenda, sink.clone(), None, "worker-a");
    let b = worker(&agenda, sink.clone(), None, "worker-b");
    let mut expected = HashSet::new();
    // Rounds, so claims race many times: each round adds reminders and both workers drain them.
    for _ in 0..8 {
        let task = agenda
            .task(plan, campaign, Utc::now() + chrono::Duration::days(3))
            .await;
        expected.extend(agenda.reminders(task, 60).await);
        loop {
            let (ta, tb) = tokio::join!(a.tick(), b.tick());
            let (ta, tb) = (ta.expect("tick a"), tb.expect("tick b"));
            if ta.reminders_sent + tb.reminders_sent == 0 {
                break;
            }
        }
    }
    let keys = sink.keys();
    let distinct: HashSet<Uuid> = keys.iter().copied().collect();
    assert_eq!(keys.len(), distinct.len(), "a reminder was delivered twice");
    assert_eq!(distinct, expected);
    let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.task_reminders WHERE sent_at IS NULL")
        .fetch_one(agenda.pool())
        .await
        .expect("count");
    assert_eq!(unsent, 0);
    // No claim was lost or doubled: every reminder took exactly one attempt.
    let by_attempt: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.task_reminders WHERE attempts <> 1")
        .fetch_one(agenda.pool())
        .await
        .expect("count");
    assert_eq!(by_attempt, 0, "every reminder was claimed exactly once");
}

#[tokio::test]
async fn should_not_send_reminders_of_tasks_that_are_done_or_not_yet_due() {
    let agenda = Agenda::new().await;
    let (plan, campaign) = agenda.plan(1).await;
    let done = agenda.task(plan, campaign, Utc::now()).await;
    agenda.reminders(done, 2).await;
    sqlx::query("UPDATE sales.scheduled_tasks SET status = 'done', completed_at = now() WHERE id = $1")
        .bind(done)
        .execute(agenda.pool())
        .await
        .expect("complete");
    let open = agenda
        .task(plan, campaign, Utc::now() + chrono::Duration::days(1))
        .await;
    sqlx::query(
        "INSERT INTO sales.task_reminders (id, task_id, remind_at, channel) VALUES ($1, $2, now() + interval '1 hour', 'sms')",
    )
    .bind(Uuid::new_v4())
    .bind(open)
    .execute(agenda.pool())
    .await
    .expect("future reminder");
    let sink = Recorder::default();
    let w = worker(&agenda, sink.clone(), None, "w");
    let tick = w.tick().await.expect("tick");
    assert_eq!(tick.reminders_sent, 0);
    assert!(sink.keys().is_empty());
}

/// A webhook that records every attempt by its `Idempotency-Key`, applies each key once, and can
/// hold the first request open (so the test can kill the worker mid-send).
#[derive(Clone, Default)]
struct Webhook {
    attempts: Arc<Mutex<Vec<(Uuid, Value)>>>,
    applied: Arc<Mutex<HashMap<Uuid, Value>>>,
    hold_first: Arc<Mutex<bool>>,
    received: Arc<Notify>,
    never: Arc<Notify>,
}

async fn hook(State(w): State<Webhook>, headers: HeaderMap, body: String) -> &'static str {
    let key: Uuid = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("every delivery carries an Idempotency-Key");
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    w.attempts.lock().expect("lock").push((key, body.clone()));
    w.received.notify_one();
    let hold = std::mem::take(&mut *w.hold_first.lock().expect("lock"));
    if hold {
        // The sender is killed while waiting here.
        w.never.notified().await;
    }
    w.applied.lock().expect("lock").entry(key).or_insert(body);
    "ok"
}

impl Webhook {
    async fn start(&self) -> reqwest::Url {
        let app = Router::new().route("/hook", post(hook)).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook").parse().expect("url")
    }
}

#[tokio::test]
async fn should_take_over_a_killed_workers_reminder_and_apply_it_once_by_its_key() {
    let agenda = Agenda::new().await;
    let (plan, campaign) = agenda.plan(1).await;
    let task = agenda
        .task(plan, campaign, Utc::now() + chrono::Duration::days(1))
        .await;
    let reminder = agenda.reminders(task, 1).await[0];
    let webhook = Webhook::default();
    *webhook.hold_first.lock().expect("lock") = true;
    let url = webhook.start().await;

    let mut settings = common::settings("doomed");
    settings.leasing.lease = Duration::from_secs(3);
    let doomed = Arc::new(promptsales_worker::Worker::new(
        agenda.pool().clone(),
        HttpSink::new(url.clone(), Duration::from_secs(30)).expect("sink"),
        None,
        settings,
    ));
    let running = tokio::spawn({
        let doomed = doomed.clone();
        async move { doomed.tick().await }
    });
    // The message has reached the webhook; the worker dies before it records the delivery.
    tokio::time::timeout(Duration::from_secs(10), webhook.received.notified())
        .await
        .expect("the first attempt arrives");
    running.abort();
    assert!(running.await.is_err_and(|e| e.is_cancelled()));
    let sent_at: Option<chrono::DateTime<Utc>> = agenda
        .scalar("SELECT sent_at FROM sales.task_reminders WHERE id = $1", reminder)
        .await;
    assert_eq!(sent_at, None);

    // Another worker finds the row leased until the lease runs out, then takes it over.
    let heir = promptsales_worker::Worker::new(
        agenda.pool().clone(),
        HttpSink::new(url, Duration::from_secs(5)).expect("sink"),
        None,
        common::settings("heir"),
    );
    assert_eq!(
        heir.tick().await.expect("tick").reminders_sent,
        0,
        "the lease still holds"
    );
    let left: f64 = agenda
        .scalar(
            "SELECT greatest(extract(epoch FROM lease_until - now()), 0)::float8 FROM sales.task_reminders WHERE id = $1",
            reminder,
        )
        .await;
    tokio::time::sleep(Duration::from_secs_f64(left + 0.2)).await;
    assert_eq!(heir.tick().await.expect("tick").reminders_sent, 1);

    let attempts = webhook.attempts.lock().expect("lock").clone();
    assert_eq!(attempts.len(), 2, "sent again after the takeover");
    assert!(attempts.iter().all(|(key, _)| *key == reminder), "{attempts:?}");
    assert_eq!(attempts[1].1["attempt"], 2);
    assert_eq!(webhook.applied.lock().expect("lock").len(), 1, "applied once");
    let (sent, n): (bool, i32) =
        sqlx::query_as("SELECT sent_at IS NOT NULL, attempts FROM sales.task_reminders WHERE id = $1")
            .bind(reminder)
            .fetch_one(agenda.pool())
            .await
            .expect("row");
    assert_eq!((sent, n), (true, 2));
}

#[tokio::test]
async fn should_retry_failed_deliveries_and_dead_letter_them_after_the_last_attempt() {
    let agenda = Agenda::new().await;
    let (plan, campaign) = agenda.plan(1).await;
    let task = agenda
        .task(plan, campaign, Utc::now() + chrono::Duration::days(1))
        .await;
    let transient = agenda.reminders(task, 1).await[0];
    let sink = Recorder::default();
    *sink.fail.lock().expect("lock") = Some(false);
    let w = worker(&agenda, sink.clone(), None, "w");
    // max_attempts is 3 and the test's backoff is zero: three failing ticks, then dead.
    for expected in 1..=3 {
        let tick = w.tick().await.expect("tick");
        assert_eq!(tick.failures, 1, "attempt {expected}");
        let (attempts, dead, error): (i32, bool, Option<String>) =
            sqlx::query_as("SELECT attempts, dead_at IS NOT NULL, last_error FROM sales.task_reminders WHERE id = $1")
                .bind(transient)
                .fetch_one(agenda.pool())
                .await
                .expect("row");
        assert_eq!(attempts, expected);
        assert_eq!(dead, expected == 3);
        assert_eq!(error.as_deref(), Some("the sink answered 503"));
    }
    assert_eq!(w.tick().await.expect("tick").work(), 0, "a dead letter is not retried");

    // A refusal by the receiver is not worth retrying: dead at once.
    let permanent = agenda.reminders(task, 1).await[0];
    *sink.fail.lock().expect("lock") = Some(true);
    w.tick().await.expect("tick");
    let (attempts, dead): (i32, bool) =
        sqlx::query_as("SELECT attempts, dead_at IS NOT NULL FROM sales.task_reminders WHERE id = $1")
            .bind(permanent)
            .fetch_one(agenda.pool())
            .await
            .expect("row");
    assert_eq!((attempts, dead), (1, true));
}

#[tokio::test]
async fn should_run_approved_steps_through_the_gateway_and_refuse_missing_rejected_or_stale_approvals() {
    let agenda = Agenda::new().await;
    let gateway = FakeGateway::default();
    let client = gateway.start().await;

    let (approved, approved_campaign) = agenda.plan(2).await;
    agenda.decide_all(approved, "approved").await;
    let run = agenda.step(approved, approved_campaign).await;

    let (pending, pending_campaign) = agenda.plan(2).await;
    let missing = agenda.step(pending, pending_campaign).await;

    let (rejected, rejected_campaign) = agenda.plan(1).await;
    agenda.decide_all(rejected, "rejected").await;
    let refused = agenda.step(rejected, rejected_campaign).await;

    let (edited, edited_campaign) = agenda.plan(1).await;
    agenda.decide_all(edited, "approved").await;
    sqlx::query("UPDATE sales.campaign_plans SET planned_budget = planned_budget * 2 WHERE id = $1")
        .bind(edited)
        .execute(agenda.pool())
        .await
        .expect("edit after approval");
    let stale = agenda.step(edited, edited_campaign).await;

    for c in [approved_campaign, pending_campaign, rejected_campaign, edited_campaign] {
        gateway
            .campaigns
            .lock()
            .expect("lock")
            .insert(c, ("SCHEDULED".into(), 4));
    }

    let w = worker(&agenda, Recorder::default(), Some(client), "w");
    let tick = w.tick().await.expect("tick");
    assert_eq!((tick.steps_done, tick.steps_refused), (1, 3), "{tick:?}");

    // The approved one ran, with the version it read.
    assert_eq!(
        gateway.campaigns.lock().expect("lock")[&approved_campaign],
        ("ACTIVE".to_owned(), 5)
    );
    let mutations = gateway.mutations.lock().expect("lock").clone();
    assert_eq!(mutations.len(), 1, "only the approved step changed a campaign");
    assert_eq!(mutations[0]["variables"]["version"], 4);
    for c in [pending_campaign, rejected_campaign, edited_campaign] {
        assert_eq!(gateway.campaigns.lock().expect("lock")[&c].0, "SCHEDULED");
    }
    assert_eq!(*gateway.tokens_issued.lock().expect("lock"), 1, "one token, reused");

    for (step, status, reason, outcome) in [
        (run, "done", None, "success"),
        (missing, "refused", Some("approval_missing"), "refused"),
        (refused, "refused", Some("approval_rejected"), "refused"),
        (stale, "refused", Some("approval_stale"), "refused"),
    ] {
        let (s, r): (String, Option<String>) =
            sqlx::query_as("SELECT status, refusal_reason FROM sales.agenda_steps WHERE id = $1")
                .bind(step)
                .fetch_one(agenda.pool())
                .await
                .expect("step");
        assert_eq!((s.as_str(), r.as_deref()), (status, reason));
        let (audited, details): (String, Value) = sqlx::query_as(
            "SELECT outcome, details FROM sales.audit_log WHERE target_type = 'AgendaStep' AND target_id = $1",
        )
        .bind(step.to_string())
        .fetch_one(agenda.pool())
        .await
        .expect("one audit record per finished step");
        assert_eq!(audited, outcome);
        assert_eq!(details["reason"].as_str(), reason);
    }

    // Finished steps are not run again.
    assert_eq!(w.tick().await.expect("tick").work(), 0);
}

#[tokio::test]
async fn should_treat_an_already_active_campaign_as_done_and_refuse_one_that_cannot_be_activated() {
    let agenda = Agenda::new().await;
    let gateway = FakeGateway::default();
    let client = gateway.start().await;
    let (plan, campaign) = agenda.plan(1).await;
    agenda.decide_all(plan, "approved").await;
    let step = agenda.step(plan, campaign).await;
    // A worker that died after activating, before recording: the retry finds it active.
    gateway
        .campaigns
        .lock()
        .expect("lock")
        .insert(campaign, ("ACTIVE".into(), 9));
    let w = worker(&agenda, Recorder::default(), Some(client), "w");
    assert_eq!(w.tick().await.expect("tick").steps_done, 1);
    assert!(gateway.mutations.lock().expect("lock").is_empty());
    let status: String = agenda
        .scalar("SELECT status FROM sales.agenda_steps WHERE id = $1", step)
        .await;
    assert_eq!(status, "done");

    // A finished campaign cannot be activated: refused, not retried.
    let (plan, campaign) = agenda.plan(1).await;
    agenda.decide_all(plan, "approved").await;
    let step = agenda.step(plan, campaign).await;
    gateway
        .campaigns
        .lock()
        .expect("lock")
        .insert(campaign, ("FINISHED".into(), 3));
    assert_eq!(w.tick().await.expect("tick").steps_refused, 1);
    let reason: Option<String> = agenda
        .scalar("SELECT refusal_reason FROM sales.agenda_steps WHERE id = $1", step)
        .await;
    assert_eq!(reason.as_deref(), Some("campaign_state"));
}

#[tokio::test]
async fn should_raise_alerts_on_their_thresholds_once_and_resolve_them_when_the_condition_ends() {
    let agenda = Agenda::new().await;
    let pool = agenda.pool();
    let (plan, campaign) = agenda.plan(2).await;
    let overdue = agenda
        .task(plan, campaign, Utc::now() - chrono::Duration::hours(2))
        .await;
    let _on_time = agenda
        .task(plan, campaign, Utc::now() + chrono::Duration::hours(2))
        .await;
    // Step 1 waited three days (past the 48 h allowed); step 2 waits on step 1, so it is not late.
    sqlx::query("UPDATE sales.approvals SET requested_at = now() - interval '3 days' WHERE campaign_plan_id = $1")
        .bind(plan)
        .execute(pool)
        .await
        .expect("requested long ago");
    let (fresh_plan, _) = agenda.plan(1).await;

    // Summaries: ROI -0.5 (below -0.2), ROI 0.1; 40 % negative of 500 reactions (above 35 %),
    // 60 % negative of only 50 reactions (too few to judge), 10 % negative of 1000.
    let summaries = [
        ("Losing", Some("-0.5"), 1000, 10),
        ("Earning", Some("0.1"), 1000, 10),
        ("Disliked", None, 300, 200),
        ("Quiet", None, 20, 30),
        ("Liked", None, 900, 100),
    ];
    let mut ids = HashMap::new();
    for (name, roi, positive, negative) in summaries {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO sales.campaign_summaries (campaign_id, organization_id, brand_id, name, status, starts_at, ends_at,
                 budget, revenue, cost, roi, positive_reactions, negative_reactions, source_updated_at, refreshed_at)
             VALUES ($1, $2, $3, $4, 'active', now() - interval '10 days', now() + interval '10 days',
                 1000, 500, 1000, $5::numeric, $6, $7, now(), now())",
        )
        .bind(id)
        .bind(agenda.org)
        .bind(agenda.brand)
        .bind(name)
        .bind(roi)
        .bind(positive)
        .bind(negative)
        .execute(pool)
        .await
        .expect("summary");
        ids.insert(name, id);
    }

    let sink = Recorder::default();
    let w = worker(&agenda, sink.clone(), None, "w");
    let e = w.evaluate_alerts().await.expect("evaluate");
    assert_eq!((e.raised, e.resolved), (4, 0));
    let open: Vec<(String, Uuid)> =
        sqlx::query_as("SELECT kind, subject_id FROM sales.agenda_alerts WHERE resolved_at IS NULL ORDER BY kind")
            .fetch_all(pool)
            .await
            .expect("alerts");
    let step1: Uuid = sqlx::query_scalar("SELECT id FROM sales.approvals WHERE campaign_plan_id = $1 AND step = 1")
        .bind(plan)
        .fetch_one(pool)
        .await
        .expect("step 1");
    assert_eq!(
        open,
        vec![
            ("approval_overdue".to_owned(), step1),
            ("negative_sentiment_above_threshold".to_owned(), ids["Disliked"]),
            ("roi_below_threshold".to_owned(), ids["Losing"]),
            ("task_overdue".to_owned(), overdue),
        ]
    );
    let _ = fresh_plan;

    // Evaluating again raises nothing new; delivering sends each alert once.
    let e = w.evaluate_alerts().await.expect("evaluate");
    assert_eq!((e.raised, e.resolved), (0, 0));
    assert_eq!(w.tick().await.expect("tick").alerts_delivered, 4);
    assert_eq!(w.tick().await.expect("tick").alerts_delivered, 0);
    let kinds: HashSet<String> = sink
        .deliveries()
        .iter()
        .map(|d| d.body["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(kinds.len(), 4);

    // The task is done and the campaign recovers: both alerts resolve; a new breach fires anew.
    sqlx::query("UPDATE sales.scheduled_tasks SET status = 'done', completed_at = now() WHERE id = $1")
        .bind(overdue)
        .execute(pool)
        .await
        .expect("done");
    sqlx::query("UPDATE sales.campaign_summaries SET roi = 0.3 WHERE campaign_id = $1")
        .bind(ids["Losing"])
        .execute(pool)
        .await
        .expect("recovered");
    let e = w.evaluate_alerts().await.expect("evaluate");
    assert_eq!((e.raised, e.resolved), (0, 2));
    sqlx::query("UPDATE sales.campaign_summaries SET roi = -0.9 WHERE campaign_id = $1")
        .bind(ids["Losing"])
        .execute(pool)
        .await
        .expect("worse again");
    let e = w.evaluate_alerts().await.expect("evaluate");
    assert_eq!((e.raised, e.resolved), (1, 0));
}

/// Throughput of two workers draining a backlog of due reminders through a sender that takes a
/// millisecond, and the lag of the last one delivered. A measurement, not a check: run with
/// `cargo nextest run -p promptsales-worker --run-ignored only -E 'test(measure_)' --no-capture`.
#[tokio::test]
#[ignore = "a measurement, not a check: prints the worker's throughput"]
async fn measure_reminder_throughput_with_two_workers() {
    let agenda = Agenda::new().await;
    let (plan, campaign) = agenda.plan(1).await;
    let n = 6000;
    for _ in 0..(n / 500) {
        let task = agenda
            .task(plan, campaign, Utc::now() + chrono::Duration::days(1))
            .await;
        sqlx::query(
            "INSERT INTO sales.task_reminders (id, task_id, remind_at, channel)
             SELECT gen_random_uuid(), $1, now() - make_interval(secs => g), 'email' FROM generate_series(1, 500) g",
        )
        .bind(task)
        .execute(agenda.pool())
        .await
        .expect("reminders");
    }
    let sink = Recorder::default();
    let mut workers = Vec::new();
    for name in ["a", "b"] {
        let mut settings = common::settings(name);
        settings.batch = 50;
        settings.concurrency = 16;
        workers.push(Arc::new(promptsales_worker::Worker::new(
            agenda.pool().clone(),
            sink.clone(),
            None,
            settings,
        )));
    }
    let started = std::time::Instant::now();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running: Vec<_> = workers
        .iter()
        .map(|w| {
            let (w, mut stopped) = (w.clone(), stopped.clone());
            tokio::spawn(async move {
                w.run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
            })
        })
        .collect();
    while sink.keys().len() < n {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    stop.send(true).expect("stop");
    for r in running {
        r.await.expect("worker");
    }
    let lag: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(sent_at - greatest(remind_at, $1)))::float8 FROM sales.task_reminders",
    )
    .bind(Utc::now() - chrono::Duration::from_std(elapsed).expect("duration"))
    .fetch_one(agenda.pool())
    .await
    .expect("lag");
    println!(
        "{n} reminders by 2 workers in {:.2} s: {:.0} a minute ({:.0} a second); longest wait from the start {:.2} s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64() * 60.0,
        n as f64 / elapsed.as_secs_f64(),
        lag
    );
}
