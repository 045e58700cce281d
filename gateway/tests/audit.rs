//! The audit log end to end: requests through the gateway's HTTP interface, records written by
//! the background writer into `sales.audit_log` of a private migrated sales database, the writer
//! losing its database without slowing or failing requests, and retention.

mod fixtures;

use std::{net::SocketAddr, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::connect_info::MockConnectInfo,
    http::{Request, StatusCode},
};
use fixtures::Stack;
use promptsales_gateway::{
    audit::{self, AuditLog, AuditOptions, AuditWriter},
    config::HttpOptions,
    server::{self, Services},
};
use promptsales_platform::Store;
use promptsales_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use tower::ServiceExt;

const RENAME: &str = "mutation Rename($id: ID!, $name: String!) { rename(id: $id, name: $name) { id name } }";

/// The fixture stack behind a router that audits into `pool`, with `scopes` for anonymous callers.
fn audited(stack: &Stack, pool: PgPool, options: &AuditOptions, scopes: &[&str]) -> (Router, AuditLog, AuditWriter) {
    let (log, writer) = AuditWriter::start(pool, options);
    let http = HttpOptions {
        anonymous_scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..HttpOptions::default()
    };
    let services = Services {
        auth: None,
        audit: Some(log.clone()),
        ..Services::default()
    };
    let router = server::router_with_services(stack.gateway.clone(), stack.key.clone(), http, services);
    (router, log, writer)
}

fn options() -> AuditOptions {
    AuditOptions {
        flush_ms: 10,
        ..AuditOptions::default()
    }
}

async fn post(router: &Router, query: &str, variables: Value) -> (StatusCode, Value) {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("user-agent", "audit-test/1.0")
        .header("x-request-id", "req-audit-1")
        .body(Body::from(
            json!({ "query": query, "variables": variables }).to_string(),
        ))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("a JSON response"))
}

/// Every audit row, oldest first, as JSON objects.
async fn rows(pool: &PgPool) -> Vec<Value> {
    sqlx::query("SELECT to_jsonb(a) AS row FROM sales.audit_log a ORDER BY occurred_at, id")
        .fetch_all(pool)
        .await
        .expect("read the audit log")
        .into_iter()
        .map(|r| r.get::<Value, _>("row"))
        .collect()
}

#[tokio::test]
async fn should_audit_a_mutation_with_the_caller_and_without_variable_values() {
    let db = TestDb::migrated(Store::Sales).await;
    let stack = Stack::start().await;
    let (router, log, writer) = audited(&stack, db.pool().clone(), &options(), &[]);
    let router = router.layer(MockConnectInfo(SocketAddr::from(([10, 1, 2, 3], 40_000))));

    let (status, body) = post(&router, RENAME, json!({ "id": "u1", "name": "Secret Surname" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["rename"]["name"], "Secret Surname");
    writer.shutdown(Duration::from_secs(30)).await;

    let rows = rows(db.pool()).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row["actor_subject"], "anonymous");
    assert_eq!(row["action"], "graphql_mutation");
    assert_eq!(row["operation_name"], "Rename");
    assert_eq!(row["outcome"], "success");
    assert_eq!(row["target_type"], "rename");
    assert_eq!(row["target_id"], "u1");
    assert_eq!(row["source_ip"], "10.1.2.3");
    assert_eq!(row["user_agent"], "audit-test/1.0");
    assert_eq!(row["request_id"], "req-audit-1");
    assert_eq!(row["details"]["variables"], json!(["id", "name"]));
    assert!(
        !row.to_string().contains("Secret Surname"),
        "a variable value reached the audit log: {row}"
    );
    assert_eq!(log.stats().written(), 1);
}

#[tokio::test]
async fn should_audit_a_mutation_refused_for_missing_scopes_as_denied() {
    let db = TestDb::migrated(Store::Sales).await;
    let stack = Stack::start().await;
    let (router, _log, writer) = audited(&stack, db.pool().clone(), &options(), &[]);

    // `User.email` needs `accounts:email`, which an anonymous caller here does not have.
    let query = r#"mutation { rename(id: "u2", name: "x") { id email } }"#;
    let (status, body) = post(&router, query, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    writer.shutdown(Duration::from_secs(30)).await;

    let rows = rows(db.pool()).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["outcome"], "denied");
    assert_eq!(rows[0]["operation_name"], Value::Null);
    assert_eq!(rows[0]["details"]["errorCodes"], json!(["FORBIDDEN"]));
    // No peer address without ConnectInfo.
    assert_eq!(rows[0]["source_ip"], Value::Null);
}

#[tokio::test]
async fn should_audit_a_query_whose_response_carried_pii_and_no_plain_query() {
    let db = TestDb::migrated(Store::Sales).await;
    let stack = Stack::start().await;
    let (router, _log, writer) = audited(&stack, db.pool().clone(), &options(), &["accounts:email"]);

    let (status, body) = post(&router, "query Plain { topProducts { upc name } }", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    // The accounts fixture marks responses carrying emails as PII, as crm and sales do.
    let (status, body) = post(&router, "query Emails { users { id email } }", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["users"][0]["email"], "ada@example.com");
    writer.shutdown(Duration::from_secs(30)).await;

    let rows = rows(db.pool()).await;
    assert_eq!(rows.len(), 1, "only the PII read is audited: {rows:#?}");
    let row = &rows[0];
    assert_eq!(row["action"], "pii_read");
    assert_eq!(row["operation_name"], "Emails");
    assert_eq!(row["target_type"], "users");
    assert_eq!(row["outcome"], "success");
    assert_eq!(row["scopes"], json!(["accounts:email"]));
    assert!(
        !row.to_string().contains("example.com"),
        "response data reached the audit log: {row}"
    );
}

#[tokio::test]
async fn should_serve_requests_and_count_dropped_records_when_the_database_is_unreachable() {
    // A port nothing listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let options = AuditOptions {
        database_url: Some(format!("postgres://nobody:nothing@127.0.0.1:{port}/promptsales")),
        buffer: 1,
        batch: 1,
        ..options()
    };
    let stack = Stack::start().await;
    let (router, log, writer) = audited(&stack, options.pool().expect("a lazy pool"), &options, &[]);

    for n in 0..5 {
        let (status, body) = post(&router, RENAME, json!({ "id": "u1", "name": format!("n{n}") })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["rename"]["name"], format!("n{n}"));
    }
    writer.shutdown(Duration::from_secs(60)).await;

    let stats = log.stats();
    assert_eq!(stats.written(), 0);
    assert_eq!(stats.dropped_full() + stats.dropped_error(), 5);
    // The writer was still waiting on the database while the later requests came in.
    assert!(stats.dropped_full() >= 1, "{stats:?}");
    assert!(stats.dropped_error() >= 1, "{stats:?}");
    let metrics = promptsales_platform::service::metrics().render();
    assert!(
        metrics.contains(r#"gateway_audit_records_total{result="dropped_error"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"gateway_audit_records_total{result="dropped_full"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn should_drop_partitions_older_than_the_retention_period() {
    let db = TestDb::migrated(Store::Sales).await;
    let pool = db.pool();
    sqlx::query("SELECT sales.ensure_audit_partitions('2020-01-01', 1)")
        .execute(pool)
        .await
        .expect("an old partition");
    sqlx::query(
        "INSERT INTO sales.audit_log (id, occurred_at, actor_subject, action, outcome) \
         VALUES (gen_random_uuid(), '2020-01-15T12:00:00Z', 'old', 'graphql_mutation', 'success'), \
                (gen_random_uuid(), now(), 'recent', 'graphql_mutation', 'success')",
    )
    .execute(pool)
    .await
    .expect("insert");

    let (_, dropped) = audit::maintain(pool, chrono::Utc::now(), chrono::Duration::days(90))
        .await
        .expect("maintenance");

    assert!(dropped >= 1);
    let subjects: Vec<String> = sqlx::query_scalar("SELECT actor_subject FROM sales.audit_log ORDER BY occurred_at")
        .fetch_all(pool)
        .await
        .expect("read");
    assert_eq!(subjects, ["recent"]);
    let old: Option<String> = sqlx::query_scalar("SELECT to_regclass('sales.audit_log_y2020m01')::text")
        .fetch_one(pool)
        .await
        .expect("read");
    assert_eq!(old, None);
}

/// Sends `request` (with a fixed user agent) and returns its status.
async fn status_of(router: &Router, request: axum::http::request::Builder, body: &str) -> StatusCode {
    let request = request
        .header("user-agent", "refused-test/1.0")
        .body(Body::from(body.to_owned()))
        .expect("request");
    router.clone().oneshot(request).await.expect("infallible").status()
}

#[tokio::test]
async fn should_audit_requests_refused_before_parsing_within_a_rate_limit_and_without_the_token() {
    let db = TestDb::migrated(Store::Sales).await;
    let stack = Stack::start().await;
    let options = AuditOptions {
        flush_ms: 10,
        refusals_per_minute: 4,
        ..AuditOptions::default()
    };
    let (log, writer) = AuditWriter::start(db.pool().clone(), &options);
    // Tokens required; the issuer's keys are never needed to refuse these.
    let auth: promptsales_gateway::auth::AuthOptions = serde_yaml_ng::from_str(
        "issuers: [{issuer: https://id.test/, audiences: [api], jwks_url: http://127.0.0.1:9/jwks}]",
    )
    .expect("auth yaml");
    let authenticator = promptsales_gateway::auth::Authenticator::new(auth).expect("authenticator");
    let services = Services {
        auth: Some(std::sync::Arc::new(authenticator)),
        ..Services::default()
    };
    let services = Services {
        audit: Some(log.clone()),
        ..services
    };
    let peer = MockConnectInfo(SocketAddr::from(([10, 9, 9, 9], 50_000)));
    let router = server::router_with_services(
        stack.gateway.clone(),
        stack.key.clone(),
        HttpOptions::default(),
        services,
    )
    .layer(peer);
    // Without authentication, a body of the wrong media type gets as far as the 415.
    let open = server::router_with_services(
        stack.gateway.clone(),
        stack.key.clone(),
        HttpOptions::default(),
        Services {
            audit: Some(log.clone()),
            ..Services::default()
        },
    )
    .layer(peer);

    let query = json!({ "query": "{ me { username } }" }).to_string();
    let json_post = || Request::post("/graphql").header("content-type", "application/json");
    assert_eq!(status_of(&router, json_post(), &query).await, StatusCode::UNAUTHORIZED);
    let secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLWNvbnRlbnQ.c2ln";
    let with_token = json_post().header("authorization", format!("Bearer {secret}"));
    assert_eq!(status_of(&router, with_token, &query).await, StatusCode::UNAUTHORIZED);
    let form = Request::post("/graphql").header("content-type", "text/plain");
    assert_eq!(status_of(&router, form, &query).await, StatusCode::BAD_REQUEST);
    let xml = Request::post("/graphql").header("content-type", "application/xml");
    assert_eq!(status_of(&open, xml, &query).await, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A flood beyond the allowance of 4 a minute is refused as usual but only counted.
    for _ in 0..20 {
        assert_eq!(status_of(&router, json_post(), &query).await, StatusCode::UNAUTHORIZED);
    }
    writer.shutdown(Duration::from_secs(30)).await;

    let rows = rows(db.pool()).await;
    let reasons: Vec<(Value, Value)> = rows
        .iter()
        .map(|r| (r["details"]["refusal"].clone(), r["details"]["reason"].clone()))
        .collect();
    let mut reasons: Vec<String> = reasons.iter().map(|(k, r)| format!("{k}/{r}")).collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            r#""csrf"/"csrf_header_missing""#,
            r#""unauthenticated"/"malformed""#,
            r#""unauthenticated"/"missing""#,
            r#""unsupported_media_type"/"not_json""#,
        ],
        "{rows:#?}"
    );
    for row in &rows {
        assert_eq!(row["outcome"], "refused", "{row}");
        assert_eq!(row["action"], "http_refused", "{row}");
        assert_eq!(row["actor_subject"], "anonymous", "{row}");
        assert_eq!(row["source_ip"], "10.9.9.9", "{row}");
        assert_eq!(row["user_agent"], "refused-test/1.0", "{row}");
        assert!(row["request_id"].is_string(), "{row}");
        assert!(
            !row.to_string().contains("c2VjcmV0"),
            "token content reached the audit log: {row}"
        );
    }
    let statuses: Vec<&Value> = rows.iter().map(|r| &r["details"]["status"]).collect();
    assert!(statuses.contains(&&json!(415)) && statuses.contains(&&json!(400)));
    assert_eq!(log.stats().suppressed(), 20);
    assert_eq!(log.stats().written(), 4);
}
