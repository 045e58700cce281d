//! The logging procedure of `sql/crm/postgres/scripts/04_logging.sql`, called as a service would,
//! with bound parameters: what it stores, whom it names, and what it refuses (before writing).

use promptsales_platform::Store;
use promptsales_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};

const SCRIPT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../sql/crm/postgres/scripts/04_logging.sql"
));

const CALL: &str = "CALL crm.prcrmsp_write_log($1, $2, $3, $4, $5, NULL)";

async fn write(
    pool: &PgPool,
    severity: &str,
    source: &str,
    message: &str,
    context: Option<Value>,
    who: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(CALL)
        .bind(severity)
        .bind(source)
        .bind(message)
        .bind(context)
        .bind(who)
        .fetch_one(pool)
        .await?;
    Ok(row.get("p_log_id"))
}

#[tokio::test]
async fn should_log_severity_source_message_context_and_who_and_refuse_bad_or_personal_input() {
    let db = TestDb::migrated(Store::Crm).await;
    let pool = db.pool();
    sqlx::raw_sql(SCRIPT).execute(pool).await.expect("04_logging.sql runs");
    // The script logged its two samples; running it again keeps the table and adds two more.
    sqlx::raw_sql(SCRIPT)
        .execute(pool)
        .await
        .expect("04_logging.sql runs again");
    let samples: i64 = sqlx::query_scalar("SELECT count(*) FROM crm.operation_log")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(samples, 4);

    let context = json!({"campaign_id": "6f1c1d7e-0000-4000-8000-000000000001", "rows": 42});
    let id = write(
        pool,
        "ERROR",
        "crm.etl.leads",
        "lead import failed",
        Some(context.clone()),
        None,
    )
    .await
    .expect("logged");
    let row = sqlx::query(
        "SELECT severity, source, message, context, logged_by, logged_at FROM crm.operation_log WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("the row");
    assert_eq!(row.get::<String, _>("severity"), "error", "severity normalised");
    assert_eq!(row.get::<String, _>("source"), "crm.etl.leads");
    assert_eq!(row.get::<String, _>("message"), "lead import failed");
    assert_eq!(row.get::<Value, _>("context"), context);
    let session_user: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(pool)
        .await
        .expect("session_user");
    assert_eq!(
        row.get::<String, _>("logged_by"),
        session_user,
        "who defaults to the caller"
    );

    let id = write(pool, "info", "crm.api", "customer exported", None, Some("ana@portal"))
        .await
        .expect("logged");
    let (who, ctx): (String, Value) = sqlx::query_as("SELECT logged_by, context FROM crm.operation_log WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("the row");
    assert_eq!(who, "ana@portal");
    assert_eq!(ctx, json!({}), "no context is an empty object");

    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM crm.operation_log")
        .fetch_one(pool)
        .await
        .expect("count");
    for (severity, source, message, context, field) in [
        ("fatal", "crm.api", "x", None, "severity"),
        ("info", "CRM API", "x", None, "source"),
        ("info", "crm.api", "   ", None, "message"),
        ("info", "crm.api", "x", Some(json!([1, 2])), "context"),
        (
            "info",
            "crm.api",
            "x",
            Some(json!({"customer": {"Email": "a@b.c"}})),
            "context",
        ),
        (
            "info",
            "crm.api",
            "x",
            Some(json!({"rows": [{"national_id": "X"}]})),
            "context",
        ),
    ] {
        let err = write(pool, severity, source, message, context.clone(), None)
            .await
            .expect_err("refused");
        let db_err = err.as_database_error().expect("a database error");
        assert_eq!(
            db_err.code().as_deref(),
            Some("PC001"),
            "{severity} {source} {context:?}: {err}"
        );
        let detail = db_err
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|e| e.detail())
            .map(str::to_owned);
        assert_eq!(detail.as_deref(), Some(field), "{err}");
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM crm.operation_log")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(after, before, "nothing written for refused input");
}
