//! The planning mutations: `decideApproval` and `completeTask`. Each bad input is refused naming
//! the argument and the rule, with nothing written (no row changed, no audit row).

mod common;

use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

const DECIDE: &str = "mutation($id: ID!, $d: ApprovalDecision!, $c: String, $v: Int) {
    decideApproval(id: $id, decision: $d, comment: $c, expectedVersion: $v) {
        id step decision comment decidedAt version plan { status version } } }";

const COMPLETE: &str = "mutation($id: ID!) {
    completeTask(id: $id) { id status completedAt version reminders { channel sentAt } } }";

/// Everything a decision may write: steps, plan status and audit rows.
async fn planning_state(sg: &Subgraph) -> String {
    let row: (String,) = sqlx::query_as(
        "SELECT concat_ws(' / ',
            (SELECT string_agg(step || ':' || decision || ':' || version || ':' || coalesce(comment, '-'), ',' ORDER BY step)
             FROM sales.approvals),
            (SELECT string_agg(status || ':' || version, ',') FROM sales.campaign_plans),
            (SELECT count(*) FROM sales.audit_log)::text)",
    )
    .fetch_one(sg.db.pool())
    .await
    .expect("state");
    row.0
}

#[tokio::test]
async fn should_approve_steps_in_order_and_approve_the_plan_after_the_last() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let fx = sg.plan(org, 2).await;

    let data = sg
        .data(
            &tenant(org),
            DECIDE,
            json!({ "id": fx.approvals[0], "d": "APPROVED", "c": "  Looks good  ", "v": 1 }),
        )
        .await;
    let step = &data["decideApproval"];
    assert_eq!(step["decision"], "APPROVED");
    assert_eq!(step["comment"], "Looks good", "comments are trimmed");
    assert_ne!(step["decidedAt"], Value::Null);
    assert_eq!(step["version"], 2);
    assert_eq!(step["plan"]["status"], "IN_REVIEW", "one step is still open");

    let data = sg
        .data(&tenant(org), DECIDE, json!({ "id": fx.approvals[1], "d": "APPROVED" }))
        .await;
    assert_eq!(data["decideApproval"]["comment"], Value::Null);
    assert_eq!(data["decideApproval"]["plan"]["status"], "APPROVED");
    assert_eq!(data["decideApproval"]["plan"]["version"], 2);

    let audit: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, actor_subject, details->>'plan_status' FROM sales.audit_log ORDER BY occurred_at",
    )
    .fetch_all(sg.db.pool())
    .await
    .expect("audit");
    assert_eq!(
        audit,
        [
            ("decide_approval".into(), "tenant-user".into(), "in_review".into()),
            ("decide_approval".into(), "tenant-user".into(), "approved".into()),
        ]
    );
}

#[tokio::test]
async fn should_send_a_plan_back_to_draft_or_reject_it() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let changes = sg.plan(org, 2).await;
    let data = sg
        .data(
            &staff(),
            DECIDE,
            json!({ "id": changes.approvals[0], "d": "CHANGES_REQUESTED", "c": "Budget too high" }),
        )
        .await;
    assert_eq!(data["decideApproval"]["decision"], "CHANGES_REQUESTED");
    assert_eq!(data["decideApproval"]["plan"]["status"], "DRAFT");

    let rejected = sg.plan(org, 2).await;
    let data = sg
        .data(
            &staff(),
            DECIDE,
            json!({ "id": rejected.approvals[0], "d": "REJECTED", "c": "Off brand" }),
        )
        .await;
    assert_eq!(data["decideApproval"]["plan"]["status"], "REJECTED");
    // The plan left review: its remaining step cannot be decided any more.
    let (_, body) = sg
        .post(
            Some(&staff()),
            DECIDE,
            json!({ "id": rejected.approvals[1], "d": "APPROVED" }),
        )
        .await;
    assert_eq!(first_error(&body)["code"], "CONFLICT");
    assert_eq!(first_error(&body)["rule"], "plan_in_review");
}

#[tokio::test]
async fn should_refuse_invalid_decisions_naming_the_field_and_write_nothing() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let fx = sg.plan(org, 1).await;
    let id = fx.approvals[0];
    let before = planning_state(&sg).await;
    let long = "x".repeat(4_001);
    let cases = [
        (json!({ "id": id, "d": "PENDING" }), "decision", "decided"),
        (json!({ "id": id, "d": "REJECTED" }), "comment", "required"),
        (
            json!({ "id": id, "d": "CHANGES_REQUESTED", "c": "   " }),
            "comment",
            "required",
        ),
        (json!({ "id": id, "d": "APPROVED", "c": long }), "comment", "max_length"),
        (json!({ "id": id, "d": "APPROVED", "v": 0 }), "expectedVersion", "min"),
        (json!({ "id": "not-a-uuid", "d": "APPROVED" }), "id", "uuid"),
    ];
    for (variables, field, rule) in cases {
        let (status, body) = sg.post(Some(&staff()), DECIDE, variables.clone()).await;
        assert_eq!(status, 200);
        let ext = first_error(&body);
        assert_eq!(ext["code"], "BAD_USER_INPUT", "{variables}: {body}");
        assert_eq!(ext["field"], field, "{variables}: {body}");
        assert_eq!(ext["rule"], rule, "{variables}: {body}");
        assert_eq!(body["data"], Value::Null);
    }
    assert_eq!(planning_state(&sg).await, before, "nothing written");
}

#[tokio::test]
async fn should_refuse_stale_decided_and_out_of_order_steps_with_conflicts() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let fx = sg.plan(org, 2).await;
    let before = planning_state(&sg).await;

    let conflicts = [
        (
            json!({ "id": fx.approvals[0], "d": "APPROVED", "v": 7 }),
            "expectedVersion",
            "stale",
        ),
        (json!({ "id": fx.approvals[1], "d": "APPROVED" }), "id", "step_order"),
    ];
    for (variables, field, rule) in conflicts {
        let (_, body) = sg.post(Some(&staff()), DECIDE, variables.clone()).await;
        let ext = first_error(&body);
        assert_eq!(ext["code"], "CONFLICT", "{variables}: {body}");
        assert_eq!(ext["field"], field);
        assert_eq!(ext["rule"], rule);
    }
    let (_, body) = sg
        .post(Some(&staff()), DECIDE, json!({ "id": Uuid::new_v4(), "d": "APPROVED" }))
        .await;
    assert_eq!(first_error(&body)["code"], "NOT_FOUND");
    assert_eq!(planning_state(&sg).await, before, "nothing written");

    sg.data(
        &staff(),
        DECIDE,
        json!({ "id": fx.approvals[0], "d": "APPROVED", "v": 1 }),
    )
    .await;
    // A second decision on the same step, even one that repeats the version read before it.
    let (_, body) = sg
        .post(
            Some(&staff()),
            DECIDE,
            json!({ "id": fx.approvals[0], "d": "REJECTED", "c": "No" }),
        )
        .await;
    assert_eq!(first_error(&body)["rule"], "pending");
    let (_, body) = sg
        .post(
            Some(&staff()),
            DECIDE,
            json!({ "id": fx.approvals[0], "d": "APPROVED", "v": 1 }),
        )
        .await;
    assert_eq!(first_error(&body)["rule"], "stale");
}

#[tokio::test]
async fn should_not_let_a_tenant_write_to_another_tenants_plan() {
    let sg = Subgraph::start().await;
    let mine = sg.org("Mine").await;
    let theirs = sg.org("Theirs").await;
    let fx = sg.plan(theirs, 1).await;
    let before = planning_state(&sg).await;
    let (_, body) = sg
        .post(
            Some(&tenant(mine)),
            DECIDE,
            json!({ "id": fx.approvals[0], "d": "APPROVED" }),
        )
        .await;
    assert_eq!(first_error(&body)["code"], "NOT_FOUND");
    assert_eq!(first_error(&body)["field"], "id");
    let (_, body) = sg
        .post(Some(&tenant(mine)), COMPLETE, json!({ "id": fx.tasks[0] }))
        .await;
    assert_eq!(first_error(&body)["code"], "NOT_FOUND");
    assert_eq!(planning_state(&sg).await, before);
    assert_eq!(
        sg.count("SELECT count(*) FROM sales.scheduled_tasks WHERE status = 'done'")
            .await,
        0
    );
}

#[tokio::test]
async fn should_complete_a_task_once_dropping_its_unsent_reminders() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let fx = sg.plan(org, 1).await;
    let task = fx.tasks[0];

    let data = sg.data(&tenant(org), COMPLETE, json!({ "id": task })).await;
    let done = &data["completeTask"];
    assert_eq!(done["status"], "DONE");
    assert_ne!(done["completedAt"], Value::Null);
    assert_eq!(done["version"], 2);
    let reminders = done["reminders"].as_array().expect("reminders");
    assert_eq!(reminders.len(), 1, "the sent reminder stays as history: {done}");
    assert_ne!(reminders[0]["sentAt"], Value::Null);

    // A retry changes nothing: same completion time, same version, no second audit row.
    let again = sg.data(&tenant(org), COMPLETE, json!({ "id": task })).await;
    assert_eq!(again["completeTask"]["completedAt"], done["completedAt"]);
    assert_eq!(again["completeTask"]["version"], 2);
    assert_eq!(
        sg.count("SELECT count(*) FROM sales.audit_log WHERE action = 'complete_task'")
            .await,
        1
    );
    // The other task's reminders are untouched.
    assert_eq!(
        sg.count(&format!(
            "SELECT count(*) FROM sales.task_reminders WHERE task_id = '{}'",
            fx.tasks[1]
        ))
        .await,
        2
    );

    sg.exec(&format!(
        "UPDATE sales.scheduled_tasks SET status = 'cancelled' WHERE id = '{}'",
        fx.tasks[1]
    ))
    .await;
    let (_, body) = sg.post(Some(&staff()), COMPLETE, json!({ "id": fx.tasks[1] })).await;
    assert_eq!(first_error(&body)["code"], "CONFLICT");
    assert_eq!(first_error(&body)["rule"], "open");
    let (_, body) = sg.post(Some(&staff()), COMPLETE, json!({ "id": "x" })).await;
    assert_eq!(first_error(&body)["field"], "id");
    assert_eq!(first_error(&body)["rule"], "uuid");
    assert_eq!(
        sg.count("SELECT count(*) FROM sales.task_reminders").await,
        3,
        "refused completions dropped nothing"
    );
}
