//! The sales MCP server over the real stack: in-process rmcp client, seeded databases, the
//! gateway requiring real tokens. Numbers are checked against SQL computed here over the seeded
//! ads database; usage records and the answer cache are checked where they live.

mod common;

use common::*;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

/// Sums of one campaign's results over a day range, straight from the ads database.
async fn sql_totals(
    stack: &promptsales_e2e::TestStack,
    campaign: Uuid,
    from: &str,
    to: &str,
) -> (i64, i64, Decimal, Decimal) {
    sqlx::query_as(
        "SELECT coalesce(sum(reach), 0)::bigint, coalesce(sum(sales), 0)::bigint,
                coalesce(sum(revenue), 0), coalesce(sum(cost), 0)
         FROM ads.ad_results WHERE campaign_id = $1 AND deleted_at IS NULL AND day BETWEEN $2::date AND $3::date",
    )
    .bind(campaign)
    .bind(from)
    .bind(to)
    .fetch_one(stack.stores.ads.pool())
    .await
    .expect("sums")
}

/// The campaign with the most results in September 2025, with its name.
async fn busy_campaign(stack: &promptsales_e2e::TestStack) -> (Uuid, String) {
    sqlx::query_as(
        "SELECT c.id, c.name FROM ads.campaigns c JOIN ads.ad_results r ON r.campaign_id = c.id
         WHERE c.deleted_at IS NULL AND r.deleted_at IS NULL AND r.day BETWEEN '2025-09-01' AND '2025-09-30'
         GROUP BY c.id, c.name ORDER BY sum(r.revenue) DESC LIMIT 1",
    )
    .fetch_one(stack.stores.ads.pool())
    .await
    .expect("a campaign with results in September 2025")
}

#[tokio::test]
async fn should_answer_questions_with_the_numbers_sql_finds() {
    let stack = stack().await;
    let token = stack.token("marketer-1", SCOPES, None);
    let client = client(shared(&stack, &token, None)).await;

    let tools = client.list_all_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for t in [
        "ask",
        "campaign_performance",
        "top_campaigns",
        "compare",
        "sentiment_report",
        "trend",
        "best_weekday",
        "channel_mix",
        "cost_per_sale",
    ] {
        assert!(names.contains(&t), "{t} missing from {names:?}");
    }
    let perf = tools.iter().find(|t| t.name == "campaign_performance").expect("listed");
    assert!(
        perf.description
            .as_deref()
            .unwrap_or("")
            .contains("Success rate = sales"),
        "the description defines it"
    );

    let (id, name) = busy_campaign(&stack).await;
    let (reach, sales, revenue, cost) = sql_totals(&stack, id, "2025-09-01", "2025-09-30").await;

    // Spanish, accents and case changed, relative month.
    let question = format!(
        "¿Cuál fue el alcance y la tasa de éxito de la campaña {} en septiembre?",
        name.to_uppercase()
    );
    let answer = structured(&call(&client, "ask", json!({ "question": question })).await);
    let numbers = &answer["answer"];
    assert_eq!(answer["understood"]["language"], "es", "{answer}");
    assert_eq!(
        answer["interpretation"]["selection"]["campaigns"],
        json!([id.to_string()]),
        "{answer}"
    );
    assert_eq!(
        answer["interpretation"]["period"],
        json!({ "from": "2025-09-01", "to": "2025-09-30" })
    );
    assert_eq!(numbers["totals"]["reach"], json!(reach), "{answer}");
    let rate = (Decimal::from(sales) * Decimal::ONE_HUNDRED / Decimal::from(reach)).round_dp(4);
    assert_eq!(dec(&numbers["totals"]["success_rate"]), rate);
    assert!(
        answer["sentence"].as_str().expect("a sentence").contains("alcance"),
        "{answer}"
    );
    assert!(
        answer["graphql"][0]["query"]
            .as_str()
            .expect("the GraphQL run")
            .contains("results(from: $from, to: $to)")
    );

    // English, typed tool, every default metric.
    let typed = structured(
        &call(
            &client,
            "campaign_performance",
            json!({ "campaigns": [id.to_string()], "from": "2025-09-01", "to": "2025-09-30" }),
        )
        .await,
    );
    let totals = &typed["answer"]["totals"];
    assert_eq!(totals["sales"], json!(sales));
    assert_eq!(dec(&totals["revenue"]), revenue);
    assert_eq!(dec(&totals["cost"]), cost);
    assert_eq!(dec(&totals["roi"]), ((revenue - cost) / cost).round_dp(4));
}

#[tokio::test]
async fn should_rank_campaigns_as_sql_does() {
    let stack = stack().await;
    let token = stack.token("marketer-2", SCOPES, None);
    let client = client(shared(&stack, &token, None)).await;
    let expected: Vec<(Uuid, Decimal)> = sqlx::query_as(
        "SELECT r.campaign_id, sum(r.revenue) FROM ads.ad_results r JOIN ads.campaigns c ON c.id = r.campaign_id
         WHERE r.deleted_at IS NULL AND c.deleted_at IS NULL AND r.day BETWEEN '2025-07-01' AND '2025-09-30'
         GROUP BY r.campaign_id ORDER BY sum(r.revenue) DESC, r.campaign_id LIMIT 3",
    )
    .fetch_all(stack.stores.ads.pool())
    .await
    .expect("ranking");
    let answer = structured(
        &call(
            &client,
            "ask",
            json!({ "question": "top 3 campaigns by revenue last quarter" }),
        )
        .await,
    );
    let ranking = answer["answer"]["ranking"].as_array().expect("a ranking").clone();
    let got: Vec<(Uuid, Decimal)> = ranking
        .iter()
        .map(|r| (r["key"].as_str().expect("id").parse().expect("uuid"), dec(&r["value"])))
        .collect();
    assert_eq!(got, expected, "{answer}");
}

#[tokio::test]
async fn should_record_every_call_in_ai_usage_through_the_gateway() {
    let stack = stack().await;
    let token = stack.token("marketer-3", SCOPES, None);
    let client = client(shared(&stack, &token, None)).await;
    call(&client, "ask", json!({ "question": "ventas del mes pasado" })).await;
    call(&client, "ask", json!({ "question": "¿quién ganó el partido?" })).await;
    #[allow(clippy::type_complexity, reason = "one row of sales.ai_usage, read once")]
    let rows: Vec<(String, String, String, Option<String>, String, Option<bool>)> = sqlx::query_as(
        "SELECT actor_subject, tool, model, prompt, validation_method, validated FROM sales.ai_usage ORDER BY occurred_at",
    )
    .fetch_all(stack.stores.sales.pool())
    .await
    .expect("usage rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "marketer-3", "the subject comes from the verified token");
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_str()),
        ("sales.ask", "promptsales-offline-parser")
    );
    assert_eq!(rows[0].3.as_deref(), Some("ventas del mes pasado"));
    assert_eq!((rows[0].4.as_str(), rows[0].5), ("rule", Some(true)));
    assert_eq!(
        rows[1].5,
        Some(false),
        "an unmappable question is recorded as not validated"
    );
}

#[tokio::test]
async fn should_withhold_the_answer_when_the_call_cannot_be_recorded() {
    let stack = stack().await;
    let token = stack.token("reader", &["ads:read", "sales:read"], None);
    let client = client(shared(&stack, &token, None)).await;
    let result = call(&client, "ask", json!({ "question": "ventas del mes pasado" })).await;
    assert_eq!(result.is_error, Some(true));
    let text = format!("{:?}", result.content);
    assert!(text.contains("could not be recorded"), "{text}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.ai_usage")
        .fetch_one(stack.stores.sales.pool())
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn should_never_share_a_cached_answer_between_callers_with_different_scopes() {
    let stack = stack().await;
    let prefix = prefix();
    let org: (Uuid,) = sqlx::query_as(
        "SELECT organization_id FROM ads.campaigns GROUP BY organization_id ORDER BY count(*) DESC LIMIT 1",
    )
    .fetch_one(stack.stores.ads.pool())
    .await
    .expect("an organization");
    let staff = stack.token("staff-1", SCOPES, None);
    let tenant = stack.token("tenant-1", SCOPES, Some(&org.0.to_string()));
    let question = json!({ "question": "total sales this year" });

    let a = client(shared(&stack, &staff, Some(&prefix))).await;
    let first = structured(&call(&a, "ask", question.clone()).await);
    assert_eq!(first["cached"], false);
    let again = structured(&call(&a, "ask", question.clone()).await);
    assert_eq!(again["cached"], true, "the same caller is served from the cache");
    assert_eq!(again["answer"], first["answer"]);

    let b = client(shared(&stack, &tenant, Some(&prefix))).await;
    let theirs = structured(&call(&b, "ask", question.clone()).await);
    assert_eq!(
        theirs["cached"], false,
        "another caller never reads the first caller's entry"
    );
    assert!(
        theirs["answer"]["campaign_count"].as_u64() < first["answer"]["campaign_count"].as_u64(),
        "the tenant sees only its campaigns: {} against {}",
        theirs["answer"]["campaign_count"],
        first["answer"]["campaign_count"]
    );

    // Cached entries live under the MCP keyspace of the prefix, one per caller.
    let mut redis = redis::Client::open(redis_url())
        .expect("redis")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}mcp:v1:sales.ask:*"))
        .query_async(&mut redis)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut redis)
        .await
        .expect("clean up");

    // Every call was recorded, the cache hit as one.
    let hits: Vec<(String, bool)> =
        sqlx::query_as("SELECT actor_subject, cache_hit FROM sales.ai_usage ORDER BY occurred_at")
            .fetch_all(stack.stores.sales.pool())
            .await
            .expect("usage rows");
    assert_eq!(
        hits,
        [
            ("staff-1".into(), false),
            ("staff-1".into(), true),
            ("tenant-1".into(), false)
        ]
    );
}

#[tokio::test]
async fn should_offer_candidates_instead_of_guessing_a_name() {
    let stack = stack().await;
    let token = stack.token("marketer-4", SCOPES, None);
    let client = client(shared(&stack, &token, None)).await;
    let answer = structured(
        &call(
            &client,
            "ask",
            json!({ "question": "revenue of the Zzyzx Quantum campaign" }),
        )
        .await,
    );
    assert_eq!(answer["answer"], serde_json::Value::Null, "nothing was run: {answer}");
    assert_eq!(answer["understood"]["unresolved"][0]["reason"], "unknown");
    assert!(
        !answer["understood"]["unresolved"][0]["candidates"]
            .as_array()
            .expect("candidates")
            .is_empty()
    );
    let bad = call(
        &client,
        "campaign_performance",
        json!({ "from": "2025-09-30", "to": "2025-09-01" }),
    )
    .await;
    assert_eq!(bad.is_error, Some(true));
    assert!(format!("{:?}", bad.content).contains("before it starts"));
}
