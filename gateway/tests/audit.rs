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
