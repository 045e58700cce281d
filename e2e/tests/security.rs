//! Attacks of the outside probe (issue #24) that need the real subgraphs: writes that cross
//! tenants, and lookups by personal identifiers. The gateway-only categories are in the gateway's
//! `tests/security.rs`.

use promptsales_e2e::{READ_SCOPES, TestStack};
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: NewContentRequestInput!) { createContentRequest(input: $input) { id } }";

fn input(organization: &str, campaign: &str) -> Value {
    json!({ "input": {
        "organizationId": organization,
        "campaignId": campaign,
        "campaignDescription": "A spring campaign for our new line of shoes.",
        "targetAudiences": [{ "name": "Runners", "ageMin": 18, "ageMax": 40,
                              "locales": ["es-MX"], "countryCodes": ["MX"] }],
    } })
}

async fn content_requests(stack: &TestStack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM content.content_requests")
        .fetch_one(stack.stores.content.pool())
        .await
        .expect("count")
}

/// Two campaigns of two different organizations: (campaign, organization) each.
async fn campaigns_of_two_organizations(stack: &TestStack) -> ((String, String), (String, String)) {
    let body = stack
        .query(
            "{ campaigns(first: 50) { edges { node { id organization { id } } } } }",
            json!({}),
        )
        .await;
    let pairs: Vec<(String, String)> = body["data"]["campaigns"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| {
            let node = &e["node"];
            (
                node["id"].as_str().expect("id").to_owned(),
                node["organization"]["id"].as_str().expect("organization").to_owned(),
            )
        })
        .collect();
    let a = pairs[0].clone();
    let b = pairs
        .iter()
        .find(|(_, org)| *org != a.1)
        .unwrap_or_else(|| panic!("the seed has campaigns of two organizations: {body}"))
        .clone();
    (a, b)
}

#[tokio::test]
async fn should_refuse_content_requests_for_another_organizations_or_a_missing_campaign_without_writing() {
    let mut scopes = READ_SCOPES.to_vec();
    scopes.push("content:write");
    let stack = TestStack::builder().scopes(&scopes).start().await;
    let ((own_campaign, org_a), (foreign_campaign, _org_b)) = campaigns_of_two_organizations(&stack).await;
    let before = content_requests(&stack).await;
    let missing = uuid::Uuid::new_v4().to_string();
    for campaign in [&foreign_campaign, &missing] {
        let (status, body) = stack.post(CREATE, input(&org_a, campaign)).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("nothing was written"), "{message}");
    }
    assert_eq!(content_requests(&stack).await, before, "no row was written");
    // The organization's own campaign passes the check; the content subgraph then decides (this
    // tokenless caller is no portal user, which it refuses, also without writing).
    let (_, body) = stack.post(CREATE, input(&org_a, &own_campaign)).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("portal user"), "{body}");
    assert_eq!(content_requests(&stack).await, before);
}

#[tokio::test]
async fn should_refuse_customer_lookups_by_email_or_national_id_without_crm_pii() {
    let stack = TestStack::builder().start().await;
    for filter in [
        "{ email: \"ana@example.com\" }",
        "{ nationalId: \"LOPA800101HDFRRN09\" }",
    ] {
        let query = format!("{{ customers(filter: {filter}) {{ edges {{ node {{ id firstName }} }} }} }}");
        let (_, body) = stack.post(&query, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{filter}: {body}");
        assert!(
            body["data"]["customers"]["edges"].as_array().is_none_or(Vec::is_empty),
            "{body}"
        );
    }
    // Coordinates are coarse without crm:pii: two decimals at most.
    let body = stack
        .query(
            "{ customers(first: 20) { edges { node { latitude longitude } } } }",
            json!({}),
        )
        .await;
    let mut seen = 0;
    for edge in body["data"]["customers"]["edges"].as_array().expect("edges") {
        for field in ["latitude", "longitude"] {
            if let Some(v) = edge["node"][field]
                .as_str()
                .map(str::to_owned)
                .or_else(|| edge["node"][field].as_f64().map(|f| f.to_string()))
            {
                let decimals = v.split_once('.').map_or(0, |(_, d)| d.len());
                assert!(decimals <= 2, "{field} {v} is coarse");
                seen += 1;
            }
        }
    }
    assert!(seen > 0, "some customer has coordinates: {body}");
}
