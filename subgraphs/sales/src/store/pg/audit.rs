//! Rows of the append-only audit log (`sales.audit_log`): every successful write, in the write's
//! own transaction, and every hand-out of plaintext personal data.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::store::{Actor, AuditEntry, PiiRead, Result};

/// The audit log requires a subject of 1 to 255 characters; a claims header always has one, but a
/// malformed one must not turn an audited write into a constraint failure.
fn subject(actor: &Actor) -> String {
    let s: String = actor.subject.chars().take(255).collect();
    if s.is_empty() { "-".to_owned() } else { s }
}

/// One audit row for a successful change to `target`.
pub(super) async fn record_change(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: Uuid,
    details: serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sales.audit_log
             (id, actor_subject, actor_organization_id, scopes, action, target_type, target_id, request_id,
              outcome, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'success', $9)",
    )
    .bind(Uuid::new_v4())
    .bind(subject(actor))
    .bind(actor.organization)
    .bind(&actor.scopes)
    .bind(action)
    .bind(target_type)
    .bind(target_id.to_string())
    .bind(&actor.request_id)
    .bind(sqlx::types::Json(details))
    .execute(conn)
    .await?;
    Ok(())
}

/// One `pii_read` row per record, all in one statement.
pub(super) async fn record_pii_reads(pool: &PgPool, actor: &Actor, reads: &[PiiRead]) -> Result<()> {
    if reads.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = reads.iter().map(|_| Uuid::new_v4()).collect();
    let types: Vec<&str> = reads.iter().map(|r| r.target_type).collect();
    let targets: Vec<String> = reads.iter().map(|r| r.target_id.to_string()).collect();
    sqlx::query(
        "INSERT INTO sales.audit_log
             (id, actor_subject, actor_organization_id, scopes, action, target_type, target_id, request_id, outcome)
         SELECT r.id, $4, $5, $6, 'pii_read', r.target_type, r.target_id, $7, 'success'
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS r (id, target_type, target_id)",
    )
    .bind(&ids)
    .bind(&types)
    .bind(&targets)
    .bind(subject(actor))
    .bind(actor.organization)
    .bind(&actor.scopes)
    .bind(&actor.request_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The audit rows about one record, newest first. There is no index on `target_id` alone (the
/// one there leads with `target_type`): this serves rare data-subject requests over a log kept 90
/// days, where a scan of the live partitions is acceptable.
pub(super) async fn trail(
    pool: &PgPool,
    tenant: Option<Uuid>,
    target_id: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as(
        "SELECT id, occurred_at, actor_subject, actor_organization_id, action, operation_name, target_type,
                outcome, request_id
         FROM sales.audit_log
         WHERE target_id = $1 AND ($2::uuid IS NULL OR actor_organization_id = $2)
         ORDER BY occurred_at DESC, id
         LIMIT $3",
    )
    .bind(target_id)
    .bind(tenant)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?)
}
