//! The worker against the real stack (seeded stores, the four subgraphs, the gateway checking real
//! tokens): an approved step activates a scheduled campaign in PromptAds through the gateway, and
//! a client without `ads:write` changes nothing; and the step's gateway request continues the
//! step's trace through the gateway to the subgraph.

mod common;

use std::{sync::Arc, time::Duration};

use promptsales_e2e::TestStack;
use promptsales_platform::config::Secret;
use promptsales_worker::{
    Worker,
    gateway::{ClientCredentials, Gateway},
    sender::LogSink,
};
use uuid::Uuid;

/// A worker whose OAuth2 client asks the stack's token endpoint (a real client-credentials
/// grant, checked there) for `scopes`.
async fn worker(stack: &TestStack, scopes: &[&str]) -> Worker<LogSink> {
    let (token_url, client_id, secret) = stack.client_credentials();
    let gateway = Gateway::new(
        stack.gateway_url().parse().expect("gateway url"),
        ClientCredentials {
            token_url: token_url.parse().expect("token url"),
            client_id: client_id.into(),
            client_secret: Secret::new(secret.into()),
            scope: Some(scopes.join(" ")),
            auth: promptsales_platform::oauth::ClientAuth::Post,
        },
        Duration::from_secs(10),
    )
    .expect("gateway client");
    Worker::new(
        stack.stores.sales.pool().clone(),
        LogSink,
        Some(Arc::new(gateway)),
        common::settings("stack-worker"),
    )
}

/// A campaign of the seeds with a plan in the sales store, made scheduled in PromptAds (as the
/// portal would have done) and its plan approved; returns (campaign, plan, organization, version
/// in ads).
async fn approved_scheduled_campaign(stack: &TestStack) -> (Uuid, Uuid, Uuid, i32) {
    let planned: Vec<Uuid> =
        sqlx::query_scalar("SELECT campaign_id FROM sales.campaign_plans WHERE deleted_at IS NULL")
            .fetch_all(stack.stores.sales.pool())
            .await
            .expect("plans");
    let (campaign, version): (Uuid, i32) = sqlx::query_as(
        "UPDATE ads.campaigns SET status = 'scheduled'
         WHERE id = (SELECT id FROM ads.campaigns WHERE id = ANY($1) AND deleted_at IS NULL ORDER BY id LIMIT 1)
         RETURNING id, version",
    )
    .bind(&planned)
    .fetch_one(stack.stores.ads.pool())
    .await
    .expect("the seeds have a campaign with a plan");
    let (plan, org): (Uuid, Uuid) = sqlx::query_as(
        "SELECT id, organization_id FROM sales.campaign_plans WHERE campaign_id = $1 AND deleted_at IS NULL",
    )
    .bind(campaign)
    .fetch_one(stack.stores.sales.pool())
    .await
    .expect("its plan");
    let sales = stack.stores.sales.pool();
    // Add a sign-off step when the seeds gave the plan none, then approve every step and the plan.
    let approver: Uuid = sqlx::query_scalar("SELECT id FROM sales.portal_users WHERE organization_id = $1 LIMIT 1")
        .bind(org)
        .fetch_one(sales)
        .await
        .expect("a user of the organization");
    sqlx::query(
        "INSERT INTO sales.approvals (id, campaign_plan_id, organization_id, step, approver_id)
         SELECT $1, $2, $3, 1, $4 WHERE NOT EXISTS (SELECT 1 FROM sales.approvals WHERE campaign_plan_id = $2)",
    )
    .bind(Uuid::new_v4())
    .bind(plan)
    .bind(org)
    .bind(approver)
    .execute(sales)
    .await
    .expect("a step");
    sqlx::query(
        "UPDATE sales.approvals SET decision = 'approved', comment = NULL, decided_at = greatest(now(), requested_at)
         WHERE campaign_plan_id = $1 AND decision <> 'approved'",
    )
    .bind(plan)
    .execute(sales)
    .await
    .expect("approve the steps");
    sqlx::query("UPDATE sales.campaign_plans SET status = 'in_review' WHERE id = $1 AND status <> 'in_review'")
        .bind(plan)
        .execute(sales)
        .await
        .expect("in review");
    sqlx::query("UPDATE sales.campaign_plans SET status = 'approved' WHERE id = $1")
        .bind(plan)
        .execute(sales)
        .await
        .expect("approved");
    (campaign, plan, org, version)
}

async fn add_step(stack: &TestStack, plan: Uuid, org: Uuid, campaign: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO sales.agenda_steps (id, campaign_plan_id, organization_id, campaign_id, kind, run_at)
         VALUES ($1, $2, $3, $4, 'activate_campaign', now())",
    )
    .bind(id)
    .bind(plan)
    .bind(org)
    .bind(campaign)
    .execute(stack.stores.sales.pool())
    .await
    .expect("step");
    id
}

#[tokio::test]
async fn should_activate_an_approved_campaign_through_the_gateway_and_change_nothing_without_ads_write() {
    let stack = TestStack::builder().with_auth().start().await;
    let (campaign, plan, org, version) = approved_scheduled_campaign(&stack).await;
    let ads_state = || async {
        sqlx::query_as::<_, (String, i32)>("SELECT status, version FROM ads.campaigns WHERE id = $1")
            .bind(campaign)
            .fetch_one(stack.stores.ads.pool())
            .await
            .expect("campaign")
    };

    // A client holding only ads:read is refused by the gateway: the step stays pending, retried.
    let step = add_step(&stack, plan, org, campaign).await;
    let reader = worker(&stack, &["ads:read"]).await;
    let tick = reader.tick().await.expect("tick");
    assert_eq!((tick.steps_done, tick.failures), (0, 1), "{tick:?}");
    assert_eq!(ads_state().await, ("scheduled".to_owned(), version));
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM sales.agenda_steps WHERE id = $1")
            .bind(step)
            .fetch_one(stack.stores.sales.pool())
            .await
            .expect("step");
    assert_eq!(status, "pending");
    let error = error.unwrap_or_default();
    assert!(
        error.contains("FORBIDDEN") || error.contains("ads:write") || error.contains("refused"),
        "{error}"
    );

    // The worker's real scopes: activated, with the version it read; done and audited.
    let writer = worker(&stack, &["ads:read", "ads:write"]).await;
    let tick = writer.tick().await.expect("tick");
    assert_eq!(tick.steps_done, 1, "{tick:?}");
    assert_eq!(ads_state().await, ("active".to_owned(), version + 1));
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sales.audit_log WHERE action = 'agenda_step' AND target_id = $1 AND outcome = 'success'",
    )
    .bind(step.to_string())
    .fetch_one(stack.stores.sales.pool())
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}

/// A step is one trace: the worker's span for it, the gateway's request span as its child (the
/// worker sent its `traceparent`), and the ads subgraph's request further down. Exported over OTLP
/// to a local receiver when the telemetry guard shuts down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn should_make_one_trace_of_a_step_through_the_gateway() {
    use promptsales_e2e::otlp::{Receiver, attribute, hex};
    use promptsales_platform::telemetry::{self, TraceExport};

    let receiver = Receiver::start().await;
    let export = TraceExport {
        endpoint: Some(receiver.endpoint.clone()),
        ..TraceExport::default()
    };
    let guard = telemetry::install("worker-test", "warn", &export).expect("the OTLP exporter starts");
    assert!(guard.exporting(), "the first subscriber of this test process");

    let stack = TestStack::builder().with_auth().start().await;
    let (campaign, plan, org, _) = approved_scheduled_campaign(&stack).await;
    let step = add_step(&stack, plan, org, campaign).await;
    let tick = worker(&stack, &["ads:read", "ads:write"])
        .await
        .tick()
        .await
        .expect("tick");
    assert_eq!(tick.steps_done, 1, "{tick:?}");

    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .expect("shutdown");
    let all = receiver.spans();
    let step_span = all
        .iter()
        .find(|s| attribute(s, "step") == Some(step.to_string().as_str()))
        .unwrap_or_else(|| panic!("no span of step {step}: {all:#?}"));
    assert_eq!(step_span.name, "step activate_campaign");
    let trace = hex(&step_span.trace_id);
    let spans = receiver.spans_of(&trace);
    let gateway: Vec<_> = spans
        .iter()
        .filter(|s| attribute(s, "service") == Some("gateway"))
        .collect();
    assert!(
        !gateway.is_empty(),
        "the gateway request is in the step's trace: {spans:#?}"
    );
    for request in &gateway {
        assert_eq!(request.parent_span_id, step_span.span_id, "{request:#?}");
    }
    assert!(
        spans.iter().any(|s| attribute(s, "service") == Some("ads")),
        "the ads subgraph is in the step's trace: {spans:#?}"
    );
}
