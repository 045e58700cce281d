//! The sales subgraph's queries through its HTTP interface, in-process, on a private migrated
//! database with SQL fixtures.

mod common;

use axum::{body::Body, http::Request};
use common::*;
use promptsales_platform::claims::{self, Claims, ClaimsKey};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

#[tokio::test]
async fn should_refuse_requests_without_the_gateways_signed_claims() {
    let sg = Subgraph::start().await;
    let (status, body) = sg.post(None, "{ organizations { totalCount } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let forged = ClaimsKey::random().sign(&staff());
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header(claims::HEADER, forged)
        .body(Body::from(r#"{"query":"{ __typename }"}"#))
        .expect("request");
    assert_eq!(sg.router.clone().oneshot(request).await.expect("call").status(), 401);
}

#[tokio::test]
async fn should_page_organizations_by_name_with_a_total_count() {
    let sg = Subgraph::start().await;
    // A name holding the cursor's separator must not break the cursor.
    for name in ["Delta", "Alfa|Uno", "Charlie", "Bravo", "Echo"] {
        sg.org(name).await;
    }
    let query = "query($after: String) { organizations(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = sg.data(&staff(), query, json!({ "after": after })).await;
        let conn = &data["organizations"];
        assert_eq!(conn["totalCount"], 5);
        seen.extend(names(conn, "name"));
        if !conn["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["Alfa|Uno", "Bravo", "Charlie", "Delta", "Echo"]);
}

#[tokio::test]
async fn should_show_a_tenant_only_its_own_organization() {
    let sg = Subgraph::start().await;
    let mine = sg.org("Mine").await;
    let theirs = sg.org("Theirs").await;
    let data = sg
        .data(
            &tenant(mine),
            "{ organizations { totalCount edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["organizations"]["totalCount"], 1);
    assert_eq!(names(&data["organizations"], "name"), ["Mine"]);
    let data = sg
        .data(
            &tenant(mine),
            "query($id: ID!) { organization(id: $id) { name } }",
            json!({ "id": theirs }),
        )
        .await;
    assert_eq!(data["organization"], Value::Null);
}

#[tokio::test]
async fn should_reject_bad_cursors_page_sizes_and_ids_naming_the_argument() {
    let sg = Subgraph::start().await;
    let cases = [
        ("{ organizations(after: \"bogus\") { totalCount } }", "after", "cursor"),
        ("{ organizations(first: 1000) { totalCount } }", "first", "max"),
        ("{ brands(first: -1) { totalCount } }", "first", "min"),
        (
            "{ brands(organizationId: \"nope\") { totalCount } }",
            "organizationId",
            "uuid",
        ),
        ("{ products(brandId: \"nope\") { totalCount } }", "brandId", "uuid"),
        ("{ products(search: \"   \") { totalCount } }", "search", "min_length"),
        (
            "{ campaignSummaries(organizationId: \"x\") { totalCount } }",
            "organizationId",
            "uuid",
        ),
        ("{ aiUsage(after: \"djF8eHx5\") { totalCount } }", "after", "cursor"),
        (
            "{ brandsUpdatedSince(since: \"2020-01-01T00:00:00Z\", first: 5000) { totalCount } }",
            "first",
            "max",
        ),
        ("{ organization(id: \"42\") { name } }", "id", "uuid"),
    ];
    for (query, field, rule) in cases {
        let (_, body) = sg.post(Some(&staff()), query, json!({})).await;
        let ext = first_error(&body);
        assert_eq!(ext["code"], "BAD_USER_INPUT", "{query}: {body}");
        assert_eq!(ext["field"], field, "{query}: {body}");
        assert_eq!(ext["rule"], rule, "{query}: {body}");
    }
    let long = "x".repeat(101);
    let (_, body) = sg
        .post(
            Some(&staff()),
            "query($s: String) { products(search: $s) { totalCount } }",
            json!({ "s": long }),
        )
        .await;
    assert_eq!(first_error(&body)["rule"], "max_length");
}

#[tokio::test]
async fn should_list_brands_and_products_by_organization_brand_and_search() {
    let sg = Subgraph::start().await;
    let acme = sg.org("Acme").await;
    let other = sg.org("Other").await;
    let cola = sg.brand(acme, "Cola").await;
    let snacks = sg.brand(acme, "Snacks").await;
    sg.brand(other, "Elsewhere").await;
    sg.product(acme, cola, "COLA-1", "Cola Zero").await;
    sg.product(acme, cola, "COLA-2", "Cola 50% less sugar").await;
    sg.product(acme, snacks, "SNK_1", "Chips").await;

    let data = sg
        .data(
            &staff(),
            "query($o: ID) { brands(organizationId: $o) { totalCount edges { node { name organizationId } } } }",
            json!({ "o": acme }),
        )
        .await;
    assert_eq!(data["brands"]["totalCount"], 2);
    assert_eq!(names(&data["brands"], "name"), ["Cola", "Snacks"]);
    assert_eq!(nodes(&data["brands"])[0]["organizationId"], acme.to_string());

    let products = "query($b: ID, $s: String, $after: String) {
        products(brandId: $b, search: $s, first: 1, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { name sku brand { name } } } } }";
    let data = sg.data(&staff(), products, json!({ "b": cola })).await;
    assert_eq!(data["products"]["totalCount"], 2);
    assert_eq!(names(&data["products"], "name"), ["Cola 50% less sugar"]);
    assert_eq!(data["products"]["pageInfo"]["hasNextPage"], true);
    let after = data["products"]["pageInfo"]["endCursor"].clone();
    let data = sg.data(&staff(), products, json!({ "b": cola, "after": after })).await;
    assert_eq!(names(&data["products"], "name"), ["Cola Zero"]);
    assert_eq!(data["products"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(nodes(&data["products"])[0]["brand"]["name"], "Cola");

    // Pattern characters match themselves: `%` finds only the product that has one, `_` only the SKU.
    let data = sg.data(&staff(), products, json!({ "s": "50%" })).await;
    assert_eq!(names(&data["products"], "sku"), ["COLA-2"]);
    let data = sg.data(&staff(), products, json!({ "s": "k_1" })).await;
    assert_eq!(names(&data["products"], "sku"), ["SNK_1"]);
    let data = sg.data(&staff(), products, json!({ "s": "cola" })).await;
    assert_eq!(data["products"]["totalCount"], 2);
}

#[tokio::test]
async fn should_keep_each_tenant_to_its_own_rows_everywhere() {
    let sg = Subgraph::start().await;
    let mine = sg.org("Mine").await;
    let theirs = sg.org("Theirs").await;
    let my_plan = sg.plan(mine, 1).await;
    let their_plan = sg.plan(theirs, 1).await;
    sg.summary(mine, my_plan.brand, my_plan.campaign, 100, 50, 3).await;
    sg.summary(theirs, their_plan.brand, their_plan.campaign, 900, 50, 2)
        .await;
    sg.product(theirs, their_plan.brand, "T-1", "Their product").await;
    sg.exec(&format!(
        "INSERT INTO sales.ai_usage (id, actor_subject, organization_id, tool, model) VALUES
             ('{}', 'u1', '{mine}', 'draft_copy', 'm1'), ('{}', 'u2', '{theirs}', 'draft_copy', 'm1')",
        Uuid::new_v4(),
        Uuid::new_v4()
    ))
    .await;

    let query = "query($theirs: ID!) {
        brands { totalCount }
        products { totalCount }
        theirBrands: brands(organizationId: $theirs) { totalCount }
        campaignSummaries { totalCount }
        aiUsage { totalCount }
        organization(id: $theirs) { name }
    }";
    let data = sg.data(&tenant(mine), query, json!({ "theirs": theirs })).await;
    assert_eq!(data["brands"]["totalCount"], 1);
    assert_eq!(data["products"]["totalCount"], 0);
    assert_eq!(data["theirBrands"]["totalCount"], 0);
    assert_eq!(data["campaignSummaries"]["totalCount"], 1);
    assert_eq!(data["aiUsage"]["totalCount"], 1);
    assert_eq!(data["organization"], Value::Null);

    // Another tenant's campaign resolves to an empty sales side.
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Campaign { id summary { revenue } plan { title } approvals { id } schedule { id } }
        ... on Approval { id } ... on ScheduledTask { id } ... on CampaignPlan { id } } }";
    let reps = json!([
        { "__typename": "Campaign", "id": their_plan.campaign },
        { "__typename": "Approval", "id": their_plan.approvals[0] },
        { "__typename": "ScheduledTask", "id": their_plan.tasks[0] },
        { "__typename": "CampaignPlan", "id": their_plan.plan },
    ]);
    let data = sg.data(&tenant(mine), entities, json!({ "r": reps })).await;
    let e = &data["_entities"];
    assert_eq!(e[0]["summary"], Value::Null);
    assert_eq!(e[0]["plan"], Value::Null);
    assert_eq!(e[0]["approvals"], json!([]));
    assert_eq!(e[0]["schedule"], json!([]));
    assert_eq!(e[1], Value::Null);
    assert_eq!(e[2], Value::Null);
    assert_eq!(e[3], Value::Null);

    // Feeds honour a tenant-bound token too.
    let feed = "{ brandsUpdatedSince(since: \"2000-01-01T00:00:00Z\") { totalCount } }";
    let bound = Claims {
        org: Some(mine),
        ..staff()
    };
    assert_eq!(
        sg.data(&bound, feed, json!({})).await["brandsUpdatedSince"]["totalCount"],
        1
    );
    assert_eq!(
        sg.data(&staff(), feed, json!({})).await["brandsUpdatedSince"]["totalCount"],
        2
    );
}

#[tokio::test]
async fn should_resolve_entity_references_of_every_type_in_batches() {
    let sg = Subgraph::start().await;
    let a = sg.org("Alfa").await;
    let b = sg.org("Bravo").await;
    let fixture = sg.plan(a, 2).await;
    let product = sg.product(a, fixture.brand, "P-1", "Widget").await;
    let plan_id = promptsales_platform::ids::reference_id(promptsales_platform::ids::RefKind::Plan, "ads-growth");
    sg.exec(&format!(
        "INSERT INTO sales.subscription_plans (id, code, subsidiary, tier, name, monthly_price, annual_price)
         VALUES ('{plan_id}', 'ads-growth', 'ads', 'growth', 'PromptAds Growth', 399, 3990)"
    ))
    .await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) {
        __typename
        ... on Organization { name }
        ... on Brand { name }
        ... on Product { sku }
        ... on SubscriptionPlan { code }
        ... on CampaignPlan { title status }
        ... on Approval { step decision }
        ... on ScheduledTask { title }
        ... on Campaign { id plan { title } }
    } }";
    let reps = json!([
        { "__typename": "Organization", "id": b },
        { "__typename": "Organization", "id": a },
        { "__typename": "Organization", "id": Uuid::nil() },
        { "__typename": "Brand", "id": fixture.brand },
        { "__typename": "Product", "id": product },
        { "__typename": "SubscriptionPlan", "id": plan_id },
        { "__typename": "CampaignPlan", "id": fixture.plan },
        { "__typename": "Approval", "id": fixture.approvals[1] },
        { "__typename": "ScheduledTask", "id": fixture.tasks[0] },
        { "__typename": "Campaign", "id": fixture.campaign },
        { "__typename": "Campaign", "id": Uuid::nil() },
        { "__typename": "Approval", "id": Uuid::nil() },
    ]);
    let data = sg.data(&staff(), query, json!({ "r": reps })).await;
    let e = &data["_entities"];
    assert_eq!(e[0]["name"], "Bravo");
    assert_eq!(e[1]["name"], "Alfa");
    assert_eq!(e[2], Value::Null);
    assert_eq!(e[4]["sku"], "P-1");
    assert_eq!(e[5]["code"], "ads-growth");
    assert_eq!(e[6]["status"], "IN_REVIEW");
    assert_eq!(e[7]["step"], 2);
    assert_eq!(e[7]["decision"], "PENDING");
    assert_eq!(e[8]["title"], "Creative brief");
    assert_eq!(e[9]["plan"]["title"], "Summer launch");
    assert_eq!(e[10]["id"], Uuid::nil().to_string());
    assert_eq!(e[10]["plan"], Value::Null);
    assert_eq!(e[11], Value::Null);
}

#[tokio::test]
async fn should_list_the_price_list_and_an_organizations_subscriptions() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let id = |code: &str| promptsales_platform::ids::reference_id(promptsales_platform::ids::RefKind::Plan, code);
    sg.exec(&format!(
        "INSERT INTO sales.subscription_plans (id, code, subsidiary, tier, name, monthly_price, annual_price, limits, active)
         VALUES ('{}', 'ads-growth', 'ads', 'growth', 'PromptAds Growth', 399, 3990, '{{\"seats\": 10, \"campaigns\": 50}}', true),
                ('{}', 'ads-starter', 'ads', 'starter', 'PromptAds Starter', 99, 990, '{{\"seats\": 3}}', true),
                ('{}', 'ads-legacy', 'ads', 'starter', 'PromptAds Legacy', 49, 490, '{{}}', false)",
        id("ads-growth"),
        id("ads-starter"),
        id("ads-legacy")
    ))
    .await;
    sg.exec(&format!(
        "INSERT INTO sales.subscriptions (id, organization_id, plan_id, status, started_at, current_period_end, cancelled_at, seats)
         VALUES ('{}', '{org}', '{}', 'active', now() - interval '10 days', now() + interval '20 days', NULL, 5),
                ('{}', '{org}', '{}', 'cancelled', now() - interval '400 days', now() - interval '10 days',
                 now() - interval '12 days', 2)",
        Uuid::new_v4(),
        id("ads-growth"),
        Uuid::new_v4(),
        id("ads-legacy")
    ))
    .await;
    let data = sg
        .data(
            &tenant(org),
            "query($o: ID!) {
                subscriptionPlans { code tier subsidiary monthlyPrice limits { name value } }
                organization(id: $o) { subscriptions { status seats plan { code active } } }
            }",
            json!({ "o": org }),
        )
        .await;
    let plans = data["subscriptionPlans"].as_array().expect("plans");
    assert_eq!(plans.len(), 2, "retired plans are not on sale: {data}");
    assert_eq!(plans[0]["code"], "ads-starter");
    assert_eq!(plans[1]["tier"], "GROWTH");
    assert_eq!(plans[1]["subsidiary"], "ADS");
    assert_eq!(plans[1]["monthlyPrice"], "399.00");
    assert_eq!(
        plans[1]["limits"],
        json!([{ "name": "campaigns", "value": 50 }, { "name": "seats", "value": 10 }])
    );
    let subs = &data["organization"]["subscriptions"];
    assert_eq!(subs[0]["status"], "ACTIVE");
    assert_eq!(subs[0]["plan"]["code"], "ads-growth");
    assert_eq!(subs[1]["status"], "CANCELLED");
    assert_eq!(subs[1]["plan"]["active"], false, "history keeps its retired plan");
}

#[tokio::test]
async fn should_mask_personal_data_unless_the_caller_is_admin_and_audit_every_plain_read() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let ana = sg.user(Some(org), "Ana", "ana.lopez@acme.com.mx", "owner").await;
    sg.user(Some(org), "Beto", "beto@acme.com.mx", "viewer").await;
    let contact = sg
        .contact(org, "Carla", "carla@acme.com.mx", "+52 55 1234 5634", true)
        .await;
    let query = "query($o: ID!) { organization(id: $o) {
        portalUsers { edges { node { displayName email role isStaff } } }
        contacts { fullName email phone isPrimary } } }";

    let reply = sg.call(Some(&tenant(org)), query, json!({ "o": org })).await;
    let org_data = &reply.body["data"]["organization"];
    let users = nodes(&org_data["portalUsers"]);
    assert_eq!(users[0]["email"], "a•••@a•••.com.mx");
    assert_eq!(users[0]["role"], "OWNER");
    assert_eq!(org_data["contacts"][0]["email"], "c•••@a•••.com.mx");
    assert_eq!(org_data["contacts"][0]["phone"], "••• ••• ••34");
    assert!(reply.headers.get("x-promptsales-contains-pii").is_none());
    assert!(reply.body.get("extensions").is_none());
    assert_eq!(sg.count("SELECT count(*) FROM sales.audit_log").await, 0);

    let reply = sg.call(Some(&admin()), query, json!({ "o": org })).await;
    let org_data = &reply.body["data"]["organization"];
    assert_eq!(nodes(&org_data["portalUsers"])[0]["email"], "ana.lopez@acme.com.mx");
    assert_eq!(org_data["contacts"][0]["email"], "carla@acme.com.mx");
    assert_eq!(org_data["contacts"][0]["phone"], "+52 55 1234 5634");
    assert_eq!(reply.headers["x-promptsales-contains-pii"], "true");
    assert_eq!(reply.headers["cache-control"], "private, no-store");
    assert_eq!(reply.body["extensions"]["containsPii"], true);
    // One row per record read (two users, one contact), naming the reader.
    assert_eq!(
        sg.count("SELECT count(*) FROM sales.audit_log WHERE action = 'pii_read' AND actor_subject = 'auditor'")
            .await,
        3
    );
    assert_eq!(
        sg.count(&format!(
            "SELECT count(*) FROM sales.audit_log WHERE target_type = 'portal_user' AND target_id = '{ana}'"
        ))
        .await,
        1
    );
    assert_eq!(
        sg.count(&format!(
            "SELECT count(*) FROM sales.audit_log WHERE target_type = 'contact' AND target_id = '{contact}'"
        ))
        .await,
        1
    );

    // No audit, no data: when the audit write fails, the plain values never leave.
    sg.exec(
        "CREATE FUNCTION pg_temp_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit down'; END $$",
    )
    .await;
    sg.exec("CREATE TRIGGER audit_down BEFORE INSERT ON sales.audit_log FOR EACH ROW EXECUTE FUNCTION pg_temp_fail()")
        .await;
    let reply = sg.call(Some(&admin()), query, json!({ "o": org })).await;
    assert_eq!(reply.body["data"], Value::Null, "{}", reply.body);
    assert_eq!(first_error(&reply.body)["code"], "INTERNAL");
    assert!(!reply.body.to_string().contains("acme.com.mx"));
    assert!(
        !reply.body.to_string().contains("audit down"),
        "database text never reaches the client"
    );
    sg.exec("DROP TRIGGER audit_down ON sales.audit_log").await;

    // A ciphertext moved to another row does not open: the field fails, the rest of the page stands.
    sg.exec(&format!(
        "UPDATE sales.portal_users SET email_enc = (SELECT email_enc FROM sales.portal_users WHERE id = '{ana}')
         WHERE id <> '{ana}'"
    ))
    .await;
    let (_, body) = sg.post(Some(&tenant(org)), query, json!({ "o": org })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
    let users = nodes(&body["data"]["organization"]["portalUsers"]);
    assert_eq!(users[0]["email"], "a•••@a•••.com.mx");
    assert_eq!(users[1]["email"], Value::Null);
}

#[tokio::test]
async fn should_page_the_portal_users_of_each_organization() {
    let sg = Subgraph::start().await;
    let a = sg.org("Alfa").await;
    let b = sg.org("Bravo").await;
    for name in ["Dora", "Ana", "Carla", "Beto"] {
        sg.user(Some(a), name, &format!("{name}@alfa.mx"), "marketer").await;
    }
    sg.user(Some(b), "Zoe", "zoe@bravo.mx", "owner").await;
    sg.user(None, "Staff", "staff@promptsales.com", "staff").await;
    let query = "query($after: String) { organizations { edges { node { name
        portalUsers(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor }
            edges { node { displayName } } } } } } }";
    let data = sg.data(&staff(), query, json!({})).await;
    let orgs = nodes(&data["organizations"]);
    assert_eq!(orgs[0]["portalUsers"]["totalCount"], 4);
    assert_eq!(names(&orgs[0]["portalUsers"], "displayName"), ["Ana", "Beto", "Carla"]);
    assert_eq!(orgs[0]["portalUsers"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(names(&orgs[1]["portalUsers"], "displayName"), ["Zoe"]);
    assert_eq!(orgs[1]["portalUsers"]["pageInfo"]["hasNextPage"], false);
    let after = orgs[0]["portalUsers"]["pageInfo"]["endCursor"].clone();
    let data = sg
        .data(
            &staff(),
            "query($o: ID!, $after: String) { organization(id: $o) {
                portalUsers(first: 3, after: $after) { totalCount pageInfo { hasNextPage } edges { node { displayName } } } } }",
            json!({ "o": a, "after": after }),
        )
        .await;
    let page = &data["organization"]["portalUsers"];
    assert_eq!(names(page, "displayName"), ["Dora"]);
    assert_eq!(
        page["totalCount"], 4,
        "the total counts the whole list, not what is left"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn should_order_campaign_summaries_by_revenue_roi_and_start() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let other = sg.org("Other").await;
    let brand = sg.brand(org, "Cola").await;
    let other_brand = sg.brand(other, "Else").await;
    let (c1, c2, c3, c4) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    sg.summary(org, brand, c1, 1_000, 500, 30).await; // ROI 1
    sg.summary(org, brand, c2, 5_000, 4_000, 20).await; // ROI 0.25
    sg.summary(org, brand, c3, 300, 0, 10).await; // no ROI
    sg.summary(other, other_brand, c4, 9_000, 1_000, 5).await; // ROI 8
    let query = "query($order: CampaignSummaryOrder!, $org: ID, $after: String, $first: Int) {
        campaignSummaries(orderBy: $order, organizationId: $org, after: $after, first: $first) {
            totalCount pageInfo { hasNextPage endCursor }
            edges { node { campaign { id } revenue roi status brand { name } organization { name } } } } }";
    let ids = |data: &Value| -> Vec<String> {
        nodes(&data["campaignSummaries"])
            .iter()
            .map(|n| n["campaign"]["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let s = |u: Uuid| u.to_string();
    let data = sg.data(&staff(), query, json!({ "order": "REVENUE" })).await;
    assert_eq!(ids(&data), [s(c4), s(c2), s(c1), s(c3)]);
    let data = sg.data(&staff(), query, json!({ "order": "ROI", "org": org })).await;
    assert_eq!(ids(&data), [s(c1), s(c2), s(c3)], "no ROI sorts last");
    assert_eq!(data["campaignSummaries"]["totalCount"], 3);
    let first = nodes(&data["campaignSummaries"])[0].clone();
    assert_eq!(first["roi"], "1.0000");
    assert_eq!(first["brand"]["name"], "Cola");
    assert_eq!(first["status"], "ACTIVE");
    let data = sg
        .data(&staff(), query, json!({ "order": "STARTS_AT", "org": org }))
        .await;
    assert_eq!(ids(&data), [s(c3), s(c2), s(c1)]);

    // Keyset pages in ROI order, through the NULL ROI at the end.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = sg
            .data(&staff(), query, json!({ "order": "ROI", "first": 1, "after": after }))
            .await;
        seen.extend(ids(&data));
        let info = &data["campaignSummaries"]["pageInfo"];
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, [s(c4), s(c1), s(c2), s(c3)]);

    // A cursor of one order is refused by another.
    let data = sg.data(&staff(), query, json!({ "order": "ROI", "first": 1 })).await;
    let cursor = data["campaignSummaries"]["pageInfo"]["endCursor"].clone();
    let (_, body) = sg
        .post(Some(&staff()), query, json!({ "order": "REVENUE", "after": cursor }))
        .await;
    assert_eq!(first_error(&body)["field"], "after");

    let data = sg
        .data(
            &staff(),
            "{ campaignSummaries(status: FINISHED) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["campaignSummaries"]["totalCount"], 0);
}

#[tokio::test]
async fn should_return_daily_metrics_within_a_range_and_refuse_a_reversed_one() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let brand = sg.brand(org, "Cola").await;
    let campaign = Uuid::new_v4();
    sg.summary(org, brand, campaign, 1_000, 500, 30).await;
    sg.exec(&format!(
        "INSERT INTO sales.campaign_daily_metrics (campaign_id, day, organization_id, reach, views, interactions,
                                                   likes, sales_count, revenue, cost, refreshed_at)
         SELECT '{campaign}', d::date, '{org}', 10, 100, 10, 5, 1, 20.50, 10, now()
         FROM generate_series(date '2025-03-01', date '2025-03-10', interval '1 day') AS d"
    ))
    .await;
    let query = "query($r: [_Any!]!, $from: NaiveDate, $to: NaiveDate) { _entities(representations: $r) {
        ... on Campaign { dailyMetrics(from: $from, to: $to) { day revenue views } } } }";
    let reps = json!([{ "__typename": "Campaign", "id": campaign }]);
    let data = sg
        .data(
            &staff(),
            query,
            json!({ "r": reps, "from": "2025-03-03", "to": "2025-03-05" }),
        )
        .await;
    let days = data["_entities"][0]["dailyMetrics"]
        .as_array()
        .expect("metrics")
        .clone();
    assert_eq!(days.len(), 3);
    assert_eq!(days[0]["day"], "2025-03-03");
    assert_eq!(days[0]["revenue"], "20.50");
    let data = sg.data(&staff(), query, json!({ "r": reps })).await;
    assert_eq!(data["_entities"][0]["dailyMetrics"].as_array().expect("all").len(), 10);
    let (_, body) = sg
        .post(
            Some(&staff()),
            query,
            json!({ "r": reps, "from": "2025-03-05", "to": "2025-03-01" }),
        )
        .await;
    assert_eq!(first_error(&body)["field"], "to");
    assert_eq!(first_error(&body)["rule"], "not_before_from");
}

#[tokio::test]
async fn should_resolve_a_campaigns_plan_approvals_and_schedule_with_reminders() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let fixture = sg.plan(org, 2).await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign {
        plan { title status version plannedBudget brand { id } createdBy { displayName } approvals { step } campaign { id } }
        approvals { step decision version approver { displayName } plan { id } }
        schedule { title kind status dueAt assignee { displayName } reminders { channel sentAt } }
    } } }";
    let reps = json!([{ "__typename": "Campaign", "id": fixture.campaign }]);
    let data = sg.data(&tenant(org), query, json!({ "r": reps })).await;
    let c = &data["_entities"][0];
    assert_eq!(c["plan"]["status"], "IN_REVIEW");
    assert_eq!(c["plan"]["version"], 1);
    assert_eq!(c["plan"]["plannedBudget"], "25000.00");
    assert_eq!(c["plan"]["brand"]["id"], fixture.brand.to_string());
    assert_eq!(c["plan"]["createdBy"]["displayName"], "Author");
    assert_eq!(c["plan"]["campaign"]["id"], fixture.campaign.to_string());
    assert_eq!(c["approvals"][0]["approver"]["displayName"], "Approver 1");
    assert_eq!(c["approvals"][1]["step"], 2);
    assert_eq!(c["approvals"][1]["decision"], "PENDING");
    assert_eq!(c["approvals"][0]["plan"]["id"], fixture.plan.to_string());
    assert_eq!(c["schedule"][0]["kind"], "CREATIVE");
    assert_eq!(c["schedule"][1]["title"], "Launch");
    assert_eq!(c["schedule"][0]["assignee"]["displayName"], "Author");
    let reminders = c["schedule"][0]["reminders"].as_array().expect("reminders");
    assert_eq!(reminders.len(), 2);
    assert_eq!(reminders[0]["channel"], "EMAIL");
    assert_ne!(reminders[0]["sentAt"], Value::Null);
    assert_eq!(reminders[1]["sentAt"], Value::Null);
}

#[tokio::test]
async fn should_feed_brand_and_product_changes_oldest_first_with_tombstones() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    let before = sg
        .count("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")
        .await;
    let a = sg.brand(org, "Alfa").await;
    let b = sg.brand(org, "Bravo").await;
    let p = sg.product(org, a, "A-1", "Widget").await;
    sg.exec(&format!("UPDATE sales.brands SET deleted_at = now() WHERE id = '{a}'"))
        .await;
    let since = chrono::DateTime::from_timestamp_micros(before)
        .expect("time")
        .to_rfc3339();
    let query = "query($since: DateTime!, $after: String) {
        brandsUpdatedSince(since: $since, first: 1, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { id name deletedAt organizationId } } } }";
    let data = sg.data(&staff(), query, json!({ "since": since })).await;
    let feed = &data["brandsUpdatedSince"];
    assert_eq!(feed["totalCount"], 2);
    assert_eq!(
        nodes(feed)[0]["id"],
        b.to_string(),
        "Bravo's insert is older than Alfa's deletion"
    );
    let after = feed["pageInfo"]["endCursor"].clone();
    let data = sg
        .data(&staff(), query, json!({ "since": since, "after": after }))
        .await;
    let last = &nodes(&data["brandsUpdatedSince"])[0];
    assert_eq!(last["id"], a.to_string());
    assert_ne!(last["deletedAt"], Value::Null, "the tombstone is in the feed");
    assert_eq!(last["organizationId"], org.to_string());
    assert_eq!(data["brandsUpdatedSince"]["pageInfo"]["hasNextPage"], false);

    let data = sg
        .data(
            &staff(),
            "query($since: DateTime!) { productsUpdatedSince(since: $since) {
                edges { node { id sku unitPrice currency brandId organizationId } } } }",
            json!({ "since": since }),
        )
        .await;
    let product = &nodes(&data["productsUpdatedSince"])[0];
    assert_eq!(product["id"], p.to_string());
    assert_eq!(product["unitPrice"], "19.90");
    assert_eq!(product["brandId"], a.to_string());
}

#[tokio::test]
async fn should_list_ai_usage_newest_first_and_keep_prompts_to_admins() {
    let sg = Subgraph::start().await;
    let org = sg.org("Acme").await;
    for (k, tool) in ["draft_copy", "suggest_hashtags", "summarize"].iter().enumerate() {
        sg.exec(&format!(
            "INSERT INTO sales.ai_usage (id, occurred_at, actor_subject, organization_id, tool, model, prompt,
                                         tokens_in, tokens_out, cost_usd)
             VALUES ('{}', now() - interval '{k} hours', 'u1', '{org}', '{tool}', 'm1', 'Write a slogan', 100, 20,
                     0.001250)",
            Uuid::new_v4()
        ))
        .await;
    }
    let query = "query($after: String, $since: DateTime) { aiUsage(first: 2, after: $after, since: $since) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { tool costUsd tokensIn } } } }";
    let data = sg.data(&tenant(org), query, json!({})).await;
    assert_eq!(names(&data["aiUsage"], "tool"), ["draft_copy", "suggest_hashtags"]);
    assert_eq!(nodes(&data["aiUsage"])[0]["costUsd"], "0.001250");
    let after = data["aiUsage"]["pageInfo"]["endCursor"].clone();
    let data = sg.data(&tenant(org), query, json!({ "after": after })).await;
    assert_eq!(names(&data["aiUsage"], "tool"), ["summarize"]);
    let since = (chrono::Utc::now() - chrono::Duration::minutes(90)).to_rfc3339();
    let data = sg.data(&tenant(org), query, json!({ "since": since })).await;
    assert_eq!(data["aiUsage"]["totalCount"], 2);

    let prompt = "{ aiUsage(first: 1) { edges { node { tool prompt } } } }";
    let (_, body) = sg.post(Some(&tenant(org)), prompt, json!({})).await;
    assert_eq!(first_error(&body)["code"], "FORBIDDEN");
    let data = sg.data(&admin(), prompt, json!({})).await;
    assert_eq!(nodes(&data["aiUsage"])[0]["prompt"], "Write a slogan");
}

#[tokio::test]
async fn should_export_a_reviewed_federation_sdl() {
    let sg = Subgraph::start().await;
    let data = sg.data(&staff(), "{ _service { sdl } }", json!({})).await;
    let sdl = data["_service"]["sdl"].as_str().expect("sdl").to_owned();
    assert!(sdl.contains("url: \"https://specs.apollo.dev/federation/v2"), "{sdl}");
    insta::assert_snapshot!("sales_sdl", sdl);
}
