//! The dev authorization server's rows in the sales store: clients and signing keys.

use chrono::{DateTime, Utc};
use promptsales_platform::crypto::Keyring;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::keys::{self, NewKey};

/// One OAuth2 client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Client {
    pub client_id: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub audience: String,
    pub organization_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

const CLIENT_COLUMNS: &str = "client_id, secret_hash, scopes, audience, organization_id, created_at, disabled_at";

pub async fn client(pool: &PgPool, client_id: &str) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(&format!(
        "SELECT {CLIENT_COLUMNS} FROM sales.oauth_clients WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(pool)
    .await
}

pub async fn clients(pool: &PgPool) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(&format!(
        "SELECT {CLIENT_COLUMNS} FROM sales.oauth_clients ORDER BY client_id"
    ))
    .fetch_all(pool)
    .await
}

pub async fn insert_client(
    pool: &PgPool,
    client_id: &str,
    secret_hash: &str,
    scopes: &[String],
    audience: &str,
    organization_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sales.oauth_clients (client_id, secret_hash, scopes, audience, organization_id)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(client_id)
    .bind(secret_hash)
    .bind(scopes)
    .bind(audience)
    .bind(organization_id)
    .execute(pool)
    .await
    .map(drop)
}

/// Replaces a client's secret hash and allowed scopes (the local `dev` client only).
pub async fn update_client(pool: &PgPool, client_id: &str, secret_hash: &str, scopes: &[String]) -> sqlx::Result<()> {
    sqlx::query("UPDATE sales.oauth_clients SET secret_hash = $2, scopes = $3 WHERE client_id = $1")
        .bind(client_id)
        .bind(secret_hash)
        .bind(scopes)
        .execute(pool)
        .await
        .map(drop)
}

/// Disables a client; true when it existed and was enabled.
pub async fn disable_client(pool: &PgPool, client_id: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE sales.oauth_clients SET disabled_at = now() WHERE client_id = $1 AND disabled_at IS NULL")
            .bind(client_id)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The key that signs now: the newest one not retired.
#[derive(Debug, sqlx::FromRow)]
pub struct SealedKey {
    pub kid: String,
    pub kek_id: String,
    pub wrapped_dek: Vec<u8>,
    pub private_key: Vec<u8>,
}

pub async fn active_key(pool: &PgPool) -> sqlx::Result<Option<SealedKey>> {
    sqlx::query_as(
        "SELECT kid, kek_id, wrapped_dek, private_key FROM sales.oauth_signing_keys
         WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// The public keys to publish: unretired ones and those retired less than `grace` ago.
pub async fn published_keys(pool: &PgPool, grace: chrono::Duration) -> sqlx::Result<Vec<Value>> {
    sqlx::query_scalar(
        "SELECT public_jwk FROM sales.oauth_signing_keys
         WHERE retired_at IS NULL OR retired_at > now() - $1
         ORDER BY created_at DESC, kid DESC",
    )
    .bind(grace)
    .fetch_all(pool)
    .await
}

async fn insert_key(tx: &mut sqlx::PgConnection, key: &NewKey) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sales.oauth_signing_keys (kid, algorithm, public_jwk, kek_id, wrapped_dek, private_key)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.kid)
    .bind(keys::ALGORITHM)
    .bind(&key.public_jwk)
    .bind(&key.kek_id)
    .bind(&key.wrapped_dek)
    .bind(&key.private_key)
    .execute(tx)
    .await
    .map(drop)
}

/// Creates a signing key when none is active; returns the kid created, if any.
pub async fn ensure_key(pool: &PgPool, keyring: &Keyring) -> anyhow::Result<Option<String>> {
    let mut tx = pool.begin().await?;
    // Two servers starting at once must not both create one.
    sqlx::query("LOCK TABLE sales.oauth_signing_keys IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let active: Option<String> =
        sqlx::query_scalar("SELECT kid FROM sales.oauth_signing_keys WHERE retired_at IS NULL LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    if active.is_some() {
        return Ok(None);
    }
    let key = keys::generate(keyring)?;
    insert_key(&mut tx, &key).await?;
    tx.commit().await?;
    Ok(Some(key.kid))
}

/// Adds a new active key and retires the others (they stay published for the grace period).
/// Returns the new kid and the kids retired.
pub async fn rotate_key(pool: &PgPool, keyring: &Keyring) -> anyhow::Result<(String, Vec<String>)> {
    let key = keys::generate(keyring)?;
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE sales.oauth_signing_keys IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let retired: Vec<String> = sqlx::query_scalar(
        "UPDATE sales.oauth_signing_keys SET retired_at = greatest(now(), created_at)
         WHERE retired_at IS NULL RETURNING kid",
    )
    .fetch_all(&mut *tx)
    .await?;
    insert_key(&mut tx, &key).await?;
    tx.commit().await?;
    Ok((key.kid, retired))
}
