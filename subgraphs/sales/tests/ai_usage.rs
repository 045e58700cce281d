//! `recordAiUsage`: the caller (subject, organization) comes from the claims, never the input;
//! bad input is refused naming the field, with nothing written; the scope is checked here too.

mod common;

use common::*;
use promptsales_platform::claims::Claims;
use serde_json::json;

const RECORD: &str = "mutation($input: AiUsageInput!) { recordAiUsage(input: $input) }";

#[tokio::test]
async fn should_record_the_call_as_the_callers_with_their_organization() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let data = sg
        .data(
            &tenant(org),
            RECORD,
            json!({ "input": {
                "tool": "sales.ask", "model": "promptsales-offline-parser",
                "prompt": "¿alcance de Verano?", "result": "{\"reach\":1}",
                "validationMethod": "RULE", "validated": true, "cacheHit": true, "latencyMs": 12
            } }),
        )
        .await;
    let id = data["recordAiUsage"].as_str().expect("an id").to_owned();
    let row: (String, Option<uuid::Uuid>, String, String, Option<bool>, bool, i32) = sqlx::query_as(
        "SELECT actor_subject, organization_id, tool, validation_method, validated, cache_hit, latency_ms
         FROM sales.ai_usage WHERE id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(sg.db.pool())
    .await
    .expect("the row");
    assert_eq!(
        row,
        (
            "tenant-user".into(),
            Some(org),
            "sales.ask".into(),
            "rule".into(),
            Some(true),
            true,
            12
        )
    );
}

#[tokio::test]
async fn should_refuse_bad_input_naming_the_field_and_write_nothing() {
    let sg = Subgraph::start().await;
    let cases = [
        (json!({ "tool": "  ", "model": "m" }), "tool", "required"),
        (json!({ "tool": "t", "model": "m".repeat(201) }), "model", "max_length"),
        (
            json!({ "tool": "t", "model": "m", "validated": true }),
            "validated",
            "no_validation",
        ),
        (
            json!({ "tool": "t", "model": "m", "latencyMs": -1 }),
            "latencyMs",
            "min",
        ),
        (
            json!({ "tool": "t", "model": "m", "costUsd": "-0.5" }),
            "costUsd",
            "min",
        ),
        (
            json!({ "tool": "t", "model": "m", "costUsd": "0.1234567" }),
            "costUsd",
            "precision",
        ),
        (
            json!({ "tool": "t", "model": "m", "result": "x".repeat(32_001) }),
            "result",
            "max_length",
        ),
    ];
    for (input, field, rule) in cases {
        let (_, body) = sg.post(Some(&staff()), RECORD, json!({ "input": input })).await;
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(
            (ext["field"].as_str(), ext["rule"].as_str()),
            (Some(field), Some(rule)),
            "{body}"
        );
    }
    assert_eq!(sg.count("SELECT count(*) FROM sales.ai_usage").await, 0);
}

#[tokio::test]
async fn should_refuse_a_caller_without_sales_write() {
    let sg = Subgraph::start().await;
    let reader = Claims::staff("reader", &["sales:read", "ads:read"]);
    let (_, body) = sg
        .post(Some(&reader), RECORD, json!({ "input": { "tool": "t", "model": "m" } }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert_eq!(sg.count("SELECT count(*) FROM sales.ai_usage").await, 0);
}
