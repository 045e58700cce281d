//! The gateway over the four real subgraphs and the small seed: what a campaign page asks for in
//! one request is exactly what each subgraph answers on its own, the stores agree through the
//! gateway, and a subgraph that is down or slow costs only its own fields.

use std::time::Duration;

use promptsales_e2e::TestStack;
use serde_json::{Map, Value, json};

/// The campaign page of the portal: the campaign and its results (ads), its CRM sales and a few
/// customers (crm), its content (content) and its plan and summary (sales).
const PAGE: &str = r#"
query CampaignPage($id: ID!) {
  campaign(id: $id) {
    id
    name
    status
    budget
    currency
    startsAt
    endsAt
    channels { budgetShare channel { code name } }
    markets { code name currency }
    ads { id name format status }
    results { totals { views interactions likes sales reach exposureHours cost revenue } }
    salesTotal
    salesCount
    customersReached
    salesByChannel { channel { id code } salesCount amountUsd }
    customers(first: 5) { totalCount edges { reached channel { id } node { id firstName countryCode email } } }
    logs { id population channelCode messageCount }
    contentRequests { id status images { id altText format } }
    summary { revenue salesCount }
    plan { id title status plannedBudget }
  }
}"#;

const ADS_PART: &str = r#"
query($id: ID!) {
  campaign(id: $id) {
    id name status budget currency startsAt endsAt
    channels { budgetShare channel { code name } }
    markets { code name currency }
    ads { id name format status }
    results { totals { views interactions likes sales reach exposureHours cost revenue } }
  }
}"#;

const CRM_PART: &str = r#"
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Campaign {
      salesTotal salesCount customersReached
      salesByChannel { channel { id } salesCount amountUsd }
      customers(first: 5) { totalCount edges { reached channel { id } node { id firstName countryCode email } } }
    }
  }
}"#;

const CONTENT_PART: &str = r#"
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Campaign {
      logs { id population channelCode messageCount }
      contentRequests { id status images { id altText format } }
    }
  }
}"#;

const SALES_PART: &str = r#"
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Campaign { summary { revenue salesCount } plan { id title status plannedBudget } }
  }
}"#;

/// Ids of seeded campaigns, as ads lists them.
async fn campaign_ids(stack: &TestStack, n: usize) -> Vec<String> {
    let body = stack
        .direct(
            "ads",
            "query($n: Int!) { campaigns(first: $n) { edges { node { id } } } }",
            json!({ "n": n }),
        )
        .await;
    let ids: Vec<String> = body["data"]["campaigns"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("campaigns: {body}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), n, "the small seed has at least {n} campaigns");
    ids
}

fn object(value: &Value, what: &str) -> Map<String, Value> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {value}"))
        .clone()
}

/// One subgraph's part of the campaign, asked directly through `_entities`.
async fn entity_part(stack: &TestStack, subgraph: &str, query: &str, id: &str) -> Map<String, Value> {
    let body = stack
        .direct(
            subgraph,
            query,
            json!({ "r": [{ "__typename": "Campaign", "id": id }] }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{subgraph}: {body}");
    object(&body["data"]["_entities"][0], subgraph)
}

#[tokio::test]
async fn should_answer_a_campaign_page_exactly_as_the_subgraphs_do() {
    let stack = TestStack::builder().start().await;
    // Channel codes by id, asked once: crm names channels by id only.
    let channel_codes: std::collections::HashMap<String, String> =
        stack.direct("ads", "{ channels { id code } }", json!({})).await["data"]["channels"]
            .as_array()
            .expect("channels")
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().expect("id").to_owned(),
                    c["code"].as_str().expect("code").to_owned(),
                )
            })
            .collect();
    for id in campaign_ids(&stack, 4).await {
        let through_gateway = stack.query(PAGE, json!({ "id": id })).await;
        assert!(through_gateway.get("errors").is_none(), "{through_gateway}");

        let ads = stack.direct("ads", ADS_PART, json!({ "id": id })).await;
        assert!(ads.get("errors").is_none(), "{ads}");
        let mut expected = object(&ads["data"]["campaign"], "ads");
        let mut crm = entity_part(&stack, "crm", CRM_PART, &id).await;
        // crm names channels by id; the gateway completes them from ads, as the page asked.
        for row in crm["salesByChannel"].as_array_mut().expect("salesByChannel") {
            let channel = row["channel"].as_object_mut().expect("channel");
            let code = channel_codes[channel["id"].as_str().expect("id")].clone();
            channel.insert("code".into(), code.into());
        }
        expected.extend(crm);
        expected.extend(entity_part(&stack, "content", CONTENT_PART, &id).await);
        expected.extend(entity_part(&stack, "sales", SALES_PART, &id).await);

        assert_eq!(
            through_gateway["data"]["campaign"],
            Value::Object(expected),
            "campaign {id}"
        );

        // The stores agree, seen through one endpoint: ads' sales and revenue are crm's.
        let page = &through_gateway["data"]["campaign"];
        assert_eq!(page["results"]["totals"]["sales"], page["salesCount"], "{page}");
        let revenue: f64 = page["results"]["totals"]["revenue"]
            .as_str()
            .expect("decimal")
            .parse()
            .expect("number");
        let crm_total: f64 = page["salesTotal"].as_str().expect("decimal").parse().expect("number");
        assert!((revenue - crm_total).abs() < 0.005, "{revenue} vs {crm_total}");
    }
}

#[tokio::test]
async fn should_mask_personal_data_for_callers_without_the_pii_scope() {
    let stack = TestStack::builder().start().await;
    let id = campaign_ids(&stack, 1).await.remove(0);
    let body = stack.query(PAGE, json!({ "id": id })).await;
    let emails: Vec<&str> = body["data"]["campaign"]["customers"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["email"].as_str())
        .collect();
    assert!(!emails.is_empty(), "{body}");
    for email in emails {
        assert!(email.contains('•'), "{email} is masked without crm:pii");
    }
}

#[tokio::test]
async fn should_refuse_fields_the_caller_has_no_scope_for_and_answer_the_rest() {
    let stack = TestStack::builder()
        .scopes(&["ads:read", "content:read", "sales:read"])
        .start()
        .await;
    let id = campaign_ids(&stack, 1).await.remove(0);
    let body = stack
        .query(
            "query($id: ID!) { campaign(id: $id) { id name conversionRate logs { id } } }",
            json!({ "id": id }),
        )
        .await;
    let campaign = &body["data"]["campaign"];
    assert_eq!(campaign["id"], json!(id), "{body}");
    assert!(campaign["name"].is_string(), "{body}");
    assert!(campaign["logs"].is_array(), "{body}");
    assert!(campaign["conversionRate"].is_null(), "{body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("errors: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert_eq!(errors[0]["path"], json!(["campaign", "conversionRate"]), "{body}");
    assert!(
        errors[0]["message"].as_str().is_some_and(|m| m.contains("crm:read")),
        "the error names the missing scope: {body}"
    );
}

#[tokio::test]
async fn should_answer_with_partial_data_when_a_subgraph_is_down() {
    let mut stack = TestStack::builder().start().await;
    let id = campaign_ids(&stack, 1).await.remove(0);
    stack.stop("crm").await;

    // A nullable field of the stopped subgraph is null with an error at its path; the rest stands.
    let body = stack
        .query(
            "query($id: ID!) { campaign(id: $id) { id name conversionRate logs { id } } }",
            json!({ "id": id }),
        )
        .await;
    let campaign = &body["data"]["campaign"];
    assert_eq!(campaign["id"], json!(id), "{body}");
    assert!(campaign["name"].is_string(), "ads still answers: {body}");
    assert!(campaign["logs"].is_array(), "content still answers: {body}");
    assert!(campaign["conversionRate"].is_null(), "{body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("errors: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["path"], json!(["campaign", "conversionRate"]), "{body}");
    assert_eq!(errors[0]["extensions"]["subgraph"], "crm", "{body}");

    // Every field crm adds to the campaign is nullable (docs/schema-rules.md): each is null
    // with an error of its own, and the campaign stands.
    let body = stack
        .query(
            "query($id: ID!) { campaign(id: $id) { id name salesCount salesTotal } }",
            json!({ "id": id }),
        )
        .await;
    let campaign = &body["data"]["campaign"];
    assert!(campaign["name"].is_string(), "{body}");
    assert!(
        campaign["salesCount"].is_null() && campaign["salesTotal"].is_null(),
        "{body}"
    );
    let paths: Vec<&Value> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| &e["path"])
        .collect();
    assert_eq!(
        paths,
        [&json!(["campaign", "salesCount"]), &json!(["campaign", "salesTotal"])],
        "{body}"
    );
}

#[tokio::test]
async fn should_answer_with_partial_data_when_a_subgraph_is_slower_than_its_timeout() {
    let stack = TestStack::builder()
        .subgraph_timeout(Duration::from_millis(500))
        .start()
        .await;
    let id = campaign_ids(&stack, 1).await.remove(0);
    stack.slow_down("sales", Duration::from_secs(3));
    let started = std::time::Instant::now();
    let body = stack
        .query(
            "query($id: ID!) { campaign(id: $id) { id name salesCount summary { revenue } plan { id } } }",
            json!({ "id": id }),
        )
        .await;
    let waited = started.elapsed();
    let campaign = &body["data"]["campaign"];
    assert!(campaign["name"].is_string(), "{body}");
    assert!(campaign["salesCount"].is_number(), "crm still answers: {body}");
    assert!(campaign["summary"].is_null() && campaign["plan"].is_null(), "{body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("errors: {body}"));
    assert!(
        errors.iter().all(|e| e["extensions"]["subgraph"] == "sales"
            && e["path"]
                .as_array()
                .is_some_and(|p| p.first() == Some(&json!("campaign")))),
        "the errors name sales, under the campaign: {body}"
    );
    // Not a benchmark: only that the gateway gave up on sales instead of waiting it out.
    assert!(waited < Duration::from_secs(3), "answered after {waited:?}");

    stack.slow_down("sales", Duration::ZERO);
    let body = stack
        .query(
            "query($id: ID!) { campaign(id: $id) { id summary { revenue } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body.get("errors").is_none(), "recovered: {body}");
}

/// The negative-sentiment report, as the ads subgraph serves it.
const REPORT: &str = r#"
query($brand: ID!, $from: Date!, $to: Date!) {
  negativeSentimentReport(brandId: $brand, from: $from, to: $to) {
    previousFrom previousTo
    rows { ad { id name } channel { code } influencers { handle } negativeType polarity
           influencerReactionDropPercent campaign { id name } }
  }
}"#;

/// The same through the gateway, plus the campaign's summary, which only sales resolves.
const REPORT_WITH_SUMMARY: &str = r#"
query($brand: ID!, $from: Date!, $to: Date!) {
  negativeSentimentReport(brandId: $brand, from: $from, to: $to) {
    previousFrom previousTo
    rows { ad { id name } channel { code } influencers { handle } negativeType polarity
           influencerReactionDropPercent campaign { id name summary { revenue } } }
  }
}"#;

#[tokio::test]
async fn should_serve_the_negative_sentiment_report_through_the_gateway() {
    let stack = TestStack::builder().start().await;
    // A planted backlash (seeds/src/activity.rs): the first day an ad on a social channel had
    // more negative than positive mentions. The week from that day, against the week before,
    // must list it.
    let (brand, ad, channel, from, to): (String, String, String, String, String) = sqlx::query_as(
        "SELECT c.brand_id::text, s.ad_id::text, ch.code, min(s.day)::text, (min(s.day) + 6)::text
         FROM ads.sentiment_samples s JOIN ads.campaigns c ON c.id = s.campaign_id
         JOIN ads.channels ch ON ch.id = s.channel_id
         WHERE s.negative_count > s.positive_count AND ch.kind IN ('social', 'professional', 'influencer')
         GROUP BY c.brand_id, s.ad_id, ch.code ORDER BY min(s.day) DESC, s.ad_id::text LIMIT 1",
    )
    .fetch_one(stack.stores.ads.pool())
    .await
    .expect("the small seed plants backlashes");
    let variables = json!({ "brand": brand, "from": from, "to": to });
    let through_gateway = stack.query(REPORT_WITH_SUMMARY, variables.clone()).await;
    assert!(through_gateway.get("errors").is_none(), "{through_gateway}");
    let mut report = through_gateway["data"]["negativeSentimentReport"].clone();
    let rows = report["rows"].as_array_mut().expect("rows");
    assert!(
        rows.iter()
            .any(|r| r["ad"]["id"] == ad.as_str() && r["channel"]["code"] == channel.as_str()),
        "the planted case {ad} on {channel} from {from}: {through_gateway}"
    );
    for row in rows.iter_mut() {
        let campaign = row["campaign"].as_object_mut().expect("campaign");
        // Present (null for a campaign the sales ETL has not summarised): the gateway asked sales.
        let summary = campaign
            .remove("summary")
            .expect("the gateway fetched the summary from sales");
        assert!(summary.is_null() || summary.get("revenue").is_some(), "{summary}");
    }
    let direct = stack.direct("ads", REPORT, variables).await;
    assert!(direct.get("errors").is_none(), "{direct}");
    assert_eq!(report, direct["data"]["negativeSentimentReport"]);
}
