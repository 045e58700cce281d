//! The sales subgraph over the seeder's `small` profile: the seeder's envelope scheme opens here,
//! and its tenants, plans and price list read as the API promises.

mod common;

use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn should_open_every_seeded_email_and_phone_for_an_admin_and_mask_them_for_others() {
    let sg = Subgraph::seeded().await;
    let query = "{ organizations(first: 100) { totalCount edges { node { name
        portalUsers(first: 100) { totalCount edges { node { email role } } }
        contacts { email phone isPrimary } } } } }";
    let data = sg.data(&admin(), query, json!({})).await;
    let orgs = nodes(&data["organizations"]);
    assert_eq!(orgs.len(), 4, "the small profile has four tenants");
    let mut opened = 0;
    for org in &orgs {
        for user in nodes(&org["portalUsers"]) {
            let email = user["email"].as_str().expect("every seeded user has an e-mail");
            assert!(email.contains('@') && !email.contains('•'), "{email}");
            opened += 1;
        }
        let contacts = org["contacts"].as_array().expect("contacts");
        assert_eq!(contacts.iter().filter(|c| c["isPrimary"] == true).count(), 1);
        for contact in contacts {
            assert!(contact["email"].as_str().expect("email").contains('@'));
            assert!(contact["phone"].as_str().expect("phone").starts_with('+'));
            opened += 2;
        }
    }
    let audited = sg
        .count("SELECT count(DISTINCT (target_type, target_id)) FROM sales.audit_log WHERE action = 'pii_read'")
        .await;
    assert!(
        audited > 0 && audited <= opened as i64,
        "{audited} records audited for {opened} values"
    );

    let data = sg.data(&staff(), query, json!({})).await;
    for org in nodes(&data["organizations"]) {
        for user in nodes(&org["portalUsers"]) {
            assert!(user["email"].as_str().expect("masked").contains("•••@"), "{user}");
        }
    }
}

#[tokio::test]
async fn should_show_a_seeded_tenant_only_its_own_campaign_plans() {
    let sg = Subgraph::seeded().await;
    let plans: Vec<(Uuid, Uuid)> = sqlx::query_as("SELECT campaign_id, organization_id FROM sales.campaign_plans")
        .fetch_all(sg.db.pool())
        .await
        .expect("plans");
    assert_eq!(plans.len(), 24, "one plan per seeded campaign");
    let tenant_org = plans[0].1;
    let reps: Vec<Value> = plans
        .iter()
        .map(|(campaign, _)| json!({ "__typename": "Campaign", "id": campaign }))
        .collect();
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign {
        plan { status organization { id } approvals { decision } }
        approvals { step decision decidedAt approver { isStaff } }
        schedule { dueAt status completedAt reminders { channel } } } } }";
    let data = sg.data(&tenant(tenant_org), query, json!({ "r": reps })).await;
    let entities = data["_entities"].as_array().expect("entities");
    for ((_, org), campaign) in plans.iter().zip(entities) {
        if *org != tenant_org {
            assert_eq!(campaign["plan"], Value::Null);
            assert_eq!(campaign["approvals"], json!([]));
            assert_eq!(campaign["schedule"], json!([]));
            continue;
        }
        let status = campaign["plan"]["status"].as_str().expect("status");
        assert!(["LAUNCHED", "CLOSED"].contains(&status), "{status}");
        let steps = campaign["approvals"].as_array().expect("steps");
        assert!(!steps.is_empty());
        assert!(
            steps
                .iter()
                .all(|s| s["decision"] == "APPROVED" && s["decidedAt"] != Value::Null)
        );
        let due: Vec<&str> = campaign["schedule"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| t["dueAt"].as_str().expect("due"))
            .collect();
        let mut sorted = due.clone();
        sorted.sort();
        assert_eq!(due, sorted, "the schedule is in due order");
    }

    // A seeded step is decided already: deciding it again is a conflict, and nothing changes.
    let approval: Uuid = sqlx::query_scalar("SELECT id FROM sales.approvals WHERE organization_id = $1 LIMIT 1")
        .bind(tenant_org)
        .fetch_one(sg.db.pool())
        .await
        .expect("approval");
    let (_, body) = sg
        .post(
            Some(&tenant(tenant_org)),
            "mutation($id: ID!) { decideApproval(id: $id, decision: APPROVED) { id } }",
            json!({ "id": approval }),
        )
        .await;
    assert_eq!(first_error(&body)["code"], "CONFLICT");
    assert_eq!(first_error(&body)["rule"], "pending");
}

#[tokio::test]
async fn should_price_every_seeded_subscription_from_the_price_list() {
    let sg = Subgraph::seeded().await;
    let data = sg
        .data(
            &staff(),
            "{ subscriptionPlans { id code monthlyPrice limits { name value } }
               organizations { edges { node { subscriptions { status seats plan { code } } } } } }",
            json!({}),
        )
        .await;
    let plans = data["subscriptionPlans"].as_array().expect("plans");
    assert_eq!(plans.len(), 12, "three tiers of content, ads, crm and the bundle");
    let ids = promptsales_platform::ids::reference_id(promptsales_platform::ids::RefKind::Plan, "ads-growth");
    assert!(
        plans
            .iter()
            .any(|p| p["id"] == ids.to_string() && p["code"] == "ads-growth")
    );
    for org in nodes(&data["organizations"]) {
        let subs = org["subscriptions"].as_array().expect("subscriptions");
        assert!(!subs.is_empty(), "every seeded tenant subscribes to something");
        assert!(subs.iter().all(|s| s["plan"]["code"].is_string()));
    }
}
