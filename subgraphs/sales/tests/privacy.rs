//! The sales side of a customer's data export through the subgraph's HTTP interface: the audit
//! trail of the customer's record as a field of the `CustomerDataExport` entity, only for callers
//! holding `admin` and `crm:pii` together.

mod common;

use common::Subgraph;
use promptsales_platform::claims::Claims;
use serde_json::{Value, json};
use uuid::Uuid;

const TRAIL: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    ... on CustomerDataExport { customerId auditTrail { actorSubject actorOrganizationId action targetType outcome } } } }";

fn reps(customer: Uuid) -> Value {
    json!({ "r": [{ "__typename": "CustomerDataExport", "customerId": customer }] })
}

async fn audit(sg: &Subgraph, subject: &str, org: Option<Uuid>, action: &str, target: &str, target_id: Uuid) {
    sqlx::query(
        "INSERT INTO sales.audit_log (id, actor_subject, actor_organization_id, action, target_type, target_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, 'success')",
    )
    .bind(Uuid::new_v4())
    .bind(subject)
    .bind(org)
    .bind(action)
    .bind(target)
    .bind(target_id.to_string())
    .execute(sg.db.pool())
    .await
    .expect("audit row");
}

#[tokio::test]
async fn should_add_the_audit_trail_of_a_customer_to_its_export_for_admins_with_pii_scope_only() {
    let sg = Subgraph::start().await;
    let (ana, other) = (Uuid::new_v4(), Uuid::new_v4());
    let tenant = Uuid::new_v4();
    audit(&sg, "agent-1", Some(tenant), "pii_read", "customer", ana).await;
    audit(&sg, "officer", None, "mutation", "eraseCustomer", ana).await;
    audit(&sg, "agent-2", None, "pii_read", "customer", other).await;

    let admin = Claims::staff("officer", &["admin", "crm:pii"]);
    let data = sg.data(&admin, TRAIL, reps(ana)).await;
    let export = &data["_entities"][0];
    assert_eq!(export["customerId"], json!(ana));
    let trail = export["auditTrail"].as_array().expect("trail");
    let subjects: Vec<&str> = trail
        .iter()
        .map(|e| e["actorSubject"].as_str().expect("subject"))
        .collect();
    assert_eq!(subjects, ["officer", "agent-1"], "newest first, only this customer's");
    assert_eq!(trail[1]["actorOrganizationId"], json!(tenant));

    let tenant_admin = Claims {
        org: Some(tenant),
        ..admin.clone()
    };
    let data = sg.data(&tenant_admin, TRAIL, reps(ana)).await;
    let trail = data["_entities"][0]["auditTrail"].as_array().expect("trail").clone();
    assert_eq!(
        trail.len(),
        1,
        "an organization sees its own actors' entries: {trail:?}"
    );

    for scopes in [&["admin"][..], &["crm:pii", "sales:read"]] {
        let (status, body) = sg.post(Some(&Claims::staff("x", scopes)), TRAIL, reps(ana)).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{scopes:?}: {body}"
        );
        assert!(body["data"]["_entities"][0].is_null() || body["data"]["_entities"][0]["auditTrail"].is_null());
    }
}
