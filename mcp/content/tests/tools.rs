//! Both tools through an in-process rmcp client against the seeded stack: listing, answers,
//! what lands in the stores (content request, drafts, usage records), bad arguments and a
//! caller without `content:write`.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn should_list_both_tools_with_the_schemas_docs_and_examples() {
    let stack = stack().await;
    let (_, org) = campaign(&stack).await;
    let (_, token) = user_token(&stack, org, SCOPES);
    let client = client(shared(&stack, &token)).await;
    let tools = client.list_all_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let get = tools.iter().find(|t| t.name == "getContent").expect("getContent");
    let draft = tools
        .iter()
        .find(|t| t.name == "draftCampaignMessages")
        .expect("draftCampaignMessages");
    // The opening words of the GraphQL docs of the fields the tools call.
    assert!(
        get.description
            .as_deref()
            .unwrap_or("")
            .contains("Images whose description and hashtags match a text")
    );
    assert!(
        draft
            .description
            .as_deref()
            .unwrap_or("")
            .contains("Asks for content for a campaign")
    );
    assert!(draft.description.as_deref().unwrap_or("").contains("PENDING_APPROVAL"));
    for tool in [get, draft] {
        let schema = serde_json::Value::Object((*tool.input_schema).clone());
        assert!(schema["examples"].as_array().is_some_and(|e| !e.is_empty()), "{schema}");
    }
}

#[tokio::test]
async fn should_find_images_for_a_description_and_record_the_embedding() {
    let stack = stack().await;
    let (_, org) = campaign(&stack).await;
    let (subject, token) = user_token(&stack, org, SCOPES);
    let client = client(shared(&stack, &token)).await;
    let result = call(
        &client,
        "getContent",
        json!({ "description": "a cup of coffee with steam", "limit": 3 }),
    )
    .await;
    let answer = structured(&result);
    let images = answer["images"].as_array().expect("images");
    assert_eq!(images.len(), 3, "{answer}");
    for image in images {
        assert!(
            image["url"]
                .as_str()
                .is_some_and(|u| u.ends_with(image["id"].as_str().expect("id")))
        );
        assert!(image["score"].as_f64().is_some());
        assert!(image["hashtags"].as_array().is_some_and(|t| !t.is_empty()));
        assert!(image["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    assert!(answer["hashtags"].as_array().is_some_and(|t| !t.is_empty()));

    let rows: Vec<(String, String, String, i32, bool)> = sqlx::query_as(
        "SELECT actor_subject, tool, model, tokens_in, cache_hit FROM sales.ai_usage ORDER BY occurred_at",
    )
    .fetch_all(stack.stores.sales.pool())
    .await
    .expect("usage rows");
    let embedding = rows
        .iter()
        .find(|r| r.1 == "content.getContent.embedding")
        .expect("the embedding is recorded");
    assert_eq!(embedding.0, subject);
    assert!(embedding.2.starts_with("local:all-MiniLM-L6-v2-"), "{}", embedding.2);
    assert!(embedding.3 > 2, "tokens read");
    assert!(
        rows.iter().any(|r| r.1 == "content.getContent" && r.0 == subject),
        "the tool call is recorded"
    );
}

#[tokio::test]
async fn should_refuse_bad_arguments_as_tool_errors_that_say_what_is_wrong() {
    let stack = stack().await;
    let (campaign_id, org) = campaign(&stack).await;
    let (_, token) = user_token(&stack, org, SCOPES);
    let client = client(shared(&stack, &token)).await;
    let cases = [
        ("getContent", json!({}), "description"),
        ("getContent", json!({ "description": "coffee", "limit": 0 }), "limit"),
        (
            "getContent",
            json!({ "description": "coffee", "colour": "red" }),
            "colour",
        ),
        (
            "draftCampaignMessages",
            json!({ "campaignId": "nope", "campaignDescription": "A long enough description here.", "populations": [] }),
            "campaignId",
        ),
        (
            "draftCampaignMessages",
            json!({ "campaignId": campaign_id, "campaignDescription": "A long enough description here.",
                    "populations": [{ "name": "Kids", "ageMin": 8, "ageMax": 12, "locales": ["es-MX"], "countryCodes": ["MX"] }] }),
            "no advertising to children",
        ),
    ];
    for (tool, arguments, needle) in cases {
        let text = error_text(&call(&client, tool, arguments.clone()).await);
        assert!(text.contains(needle), "{tool} {arguments}: {text}");
    }
}

fn brief(campaign_id: uuid::Uuid) -> serde_json::Value {
    json!({
        "campaignId": campaign_id,
        "campaignDescription": "Launch of Café Aurora cold brew: 2x1 on the first can during June in every store.",
        "product": "Café Aurora cold brew",
        "populations": [
            { "name": "Universitarios CDMX", "ageMin": 18, "ageMax": 24, "locales": ["es-MX"],
              "interests": ["festivales de música", "videojuegos"], "countryCodes": ["MX"] },
            { "name": "US retirees", "ageMin": 60, "ageMax": 80, "locales": ["en-US"],
              "interests": ["gardening"], "countryCodes": ["US"], "channel": "email" }
        ]
    })
}

#[tokio::test]
async fn should_store_a_request_and_three_messages_per_population_pending_approval() {
    let stack = stack().await;
    let (campaign_id, org) = campaign(&stack).await;
    let (subject, token) = user_token(&stack, org, SCOPES);
    let client = client(shared(&stack, &token)).await;
    let answer = structured(&call(&client, "draftCampaignMessages", brief(campaign_id)).await);
    assert_eq!(answer["status"], "PENDING_APPROVAL");
    let populations = answer["populations"].as_array().expect("populations");
    assert_eq!(populations.len(), 2);
    let stages: Vec<&str> = populations[0]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["stage"].as_str().expect("stage"))
        .collect();
    assert_eq!(stages, ["awareness", "consideration", "conversion"]);
    assert_eq!(populations[0]["locale"], "es-MX");
    assert_eq!(
        populations[0]["source"], "offline-composer",
        "no sampling, no endpoint: the composer"
    );
    assert_eq!(populations[1]["channel"], "email");
    assert!(
        populations[0]["messages"][2]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Café Aurora") && t.contains("hoy")),
        "{answer}"
    );

    let request_id: uuid::Uuid = answer["contentRequestId"].as_str().expect("id").parse().expect("uuid");
    let (requested_by, audiences): (uuid::Uuid, i64) = sqlx::query_as(
        "SELECT requested_by, jsonb_array_length(doc -> 'target_audiences')::bigint
         FROM content.content_requests WHERE id = $1",
    )
    .bind(request_id)
    .fetch_one(stack.stores.content.pool())
    .await
    .expect("the request is stored");
    assert_eq!((requested_by.to_string(), audiences), (subject.clone(), 2));
    let logs: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT population, status, jsonb_array_length(doc -> 'messages')::bigint FROM content.campaign_logs
         WHERE content_request_id = $1 ORDER BY population",
    )
    .bind(request_id)
    .fetch_all(stack.stores.content.pool())
    .await
    .expect("the drafts are stored");
    assert_eq!(
        logs,
        vec![
            ("US retirees".to_owned(), "pending_approval".to_owned(), 3),
            ("Universitarios CDMX".to_owned(), "pending_approval".to_owned(), 3),
        ]
    );
    let generations: Vec<(String, String, Option<bool>)> = sqlx::query_as(
        "SELECT model, validation_method, validated FROM sales.ai_usage
         WHERE tool = 'content.draftCampaignMessages.generate' AND actor_subject = $1",
    )
    .bind(&subject)
    .fetch_all(stack.stores.sales.pool())
    .await
    .expect("usage rows");
    assert_eq!(generations.len(), 2, "one generation per population");
    assert!(
        generations
            .iter()
            .all(|g| g.0 == "offline-composer:promptsales-composer-v1" && g.1 == "rule" && g.2 == Some(true))
    );
}

/// A person decides on the drafts through the gateway, as the portal does: one operation
/// approves a log and records the human verdict in the usage log; deciding again is a conflict;
/// a reader cannot decide.
#[tokio::test]
async fn should_let_a_person_approve_a_draft_once_and_record_the_verdict() {
    let stack = stack().await;
    let (campaign_id, org) = campaign(&stack).await;
    let (_, token) = user_token(&stack, org, SCOPES);
    let client = client(shared(&stack, &token)).await;
    let answer = structured(&call(&client, "draftCampaignMessages", brief(campaign_id)).await);
    let request_id: uuid::Uuid = answer["contentRequestId"].as_str().expect("id").parse().expect("uuid");
    let log_id: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM content.campaign_logs WHERE content_request_id = $1 ORDER BY population LIMIT 1",
    )
    .bind(request_id)
    .fetch_one(stack.stores.content.pool())
    .await
    .expect("a draft");

    let review = |token: String, decision: &'static str| {
        let url = stack.gateway_url();
        async move {
            let body: serde_json::Value = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({
                    "query": "mutation Review($log: ID!, $logText: String!, $ok: Boolean!, $decision: CampaignLogDecision!) {
                        reviewCampaignLog(input: {id: $log, decision: $decision, note: \"Fits the brand\"}) {
                          id status reviewedBy reviewNote reviewedAt }
                        recordAiUsage(input: {tool: \"content.reviewCampaignLog\", model: \"human\",
                          prompt: $logText, validationMethod: HUMAN, validated: $ok}) }",
                    "variables": {
                        "log": log_id, "logText": log_id, "ok": decision == "APPROVE", "decision": decision,
                    },
                }))
                .send()
                .await
                .expect("the gateway answers")
                .json()
                .await
                .expect("JSON");
            body
        }
    };
    let (reviewer, reviewer_token) = user_token(&stack, org, SCOPES);
    let approved = review(reviewer_token.clone(), "APPROVE").await;
    assert!(approved.get("errors").is_none(), "{approved}");
    let log = &approved["data"]["reviewCampaignLog"];
    assert_eq!(log["status"], "APPROVED");
    assert_eq!(log["reviewedBy"], reviewer.as_str());
    assert_eq!(log["reviewNote"], "Fits the brand");
    assert!(log["reviewedAt"].is_string(), "{approved}");
    let verdict: (String, Option<bool>, Option<String>) = sqlx::query_as(
        "SELECT validation_method, validated, prompt FROM sales.ai_usage
          WHERE tool = 'content.reviewCampaignLog' AND actor_subject = $1",
    )
    .bind(&reviewer)
    .fetch_one(stack.stores.sales.pool())
    .await
    .expect("the human verdict is recorded");
    assert_eq!(verdict, ("human".to_owned(), Some(true), Some(log_id.to_string())));

    let again = review(reviewer_token, "REJECT").await;
    let errors = again["errors"].as_array().expect("a second decision is refused");
    assert_eq!(errors[0]["extensions"]["code"], "CONFLICT", "{again}");
    assert!(
        errors[0]["message"].as_str().is_some_and(|m| m.contains("approved")),
        "{again}"
    );

    let reader: Vec<&str> = SCOPES.iter().copied().filter(|s| *s != "content:write").collect();
    let (_, reader_token) = user_token(&stack, org, &reader);
    let refused = review(reader_token, "REJECT").await;
    assert!(refused.to_string().contains("content:write"), "{refused}");
    let status: String = sqlx::query_scalar("SELECT status FROM content.campaign_logs WHERE id = $1")
        .bind(log_id)
        .fetch_one(stack.stores.content.pool())
        .await
        .expect("status");
    assert_eq!(status, "approved", "the first decision stands");
}

#[tokio::test]
async fn should_refuse_the_brief_to_a_caller_without_content_write() {
    let stack = stack().await;
    let (campaign_id, org) = campaign(&stack).await;
    let reader: Vec<&str> = SCOPES.iter().copied().filter(|s| *s != "content:write").collect();
    let (_, token) = user_token(&stack, org, &reader);
    let client = client(shared(&stack, &token)).await;
    let text = error_text(&call(&client, "draftCampaignMessages", brief(campaign_id)).await);
    assert!(text.contains("content:write"), "{text}");
    let drafts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM content.campaign_logs WHERE status = 'pending_approval'")
            .fetch_one(stack.stores.content.pool())
            .await
            .expect("count");
    assert_eq!(drafts, 0, "nothing written");
}

#[tokio::test]
async fn should_serve_the_bytes_a_get_content_answer_points_at_through_the_gateway() {
    let stack = stack().await;
    let (_, org) = campaign(&stack).await;
    let (_, token) = user_token(&stack, org, SCOPES);
    let client = client(shared(&stack, &token)).await;
    let answer = structured(
        &call(
            &client,
            "getContent",
            json!({ "description": "a gift box", "limit": 1 }),
        )
        .await,
    );
    let url = answer["images"][0]["url"].as_str().expect("a URL").to_owned();
    let gateway = reqwest::Url::parse(&stack.gateway_url()).expect("gateway URL");
    assert!(
        url.starts_with(&format!("http://{}/images/", gateway.authority())),
        "absolute, on the gateway: {url}"
    );

    let http = reqwest::Client::new();
    let got = http.get(&url).bearer_auth(&token).send().await.expect("GET");
    assert_eq!(got.status(), 200);
    let etag = got.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(got.headers()["cache-control"].to_str().expect("cc").contains("private"));
    let content_type = got.headers()["content-type"].to_str().expect("type").to_owned();
    assert!(content_type.starts_with("image/"), "{content_type}");
    let bytes = got.bytes().await.expect("bytes");
    assert!(
        bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"RIFF"),
        "an image file"
    );

    let again = http
        .get(&url)
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), 304);
    let anonymous = http.get(&url).send().await.expect("GET");
    assert_eq!(anonymous.status(), 401, "the stack requires tokens");
    let (_, no_read) = user_token(&stack, org, &["sales:write"]);
    let refused = http.get(&url).bearer_auth(&no_read).send().await.expect("GET");
    assert_eq!(refused.status(), 403);
}
