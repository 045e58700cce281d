//! Data-subject requests on PostgreSQL: the full record of one customer (access, portability) and
//! erasure (right to be forgotten). Both run in one transaction: the export in a read-only
//! REPEATABLE READ snapshot, so its parts agree with each other; the erasure with the customer row
//! locked, so two erasures of the same customer serialise and the second sees the first.

use promptsales_platform::crypto::WrappedKey;
use uuid::Uuid;

use super::{
    CampaignCustomer, Customer, CustomerRecord, ERASED_NAME, Erasure, Interaction, Lead, PgStore, Result, Sale,
    pg::{CUSTOMER_COLUMNS, INTERACTION_COLUMNS, LEAD_COLUMNS, LINK_COLUMNS, SALE_COLUMNS},
};

impl PgStore {
    pub(super) async fn record_of(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Option<CustomerRecord>> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let customer: Option<Customer> = sqlx::query_as(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM crm.customers WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2)"
        ))
        .bind(id)
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(customer) = customer else {
            return Ok(None);
        };
        let key = sqlx::query_as::<_, (String, Vec<u8>)>(
            "SELECT key_id, wrapped_dek FROM crm.customer_keys WHERE customer_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|(kek_id, sealed)| WrappedKey { kek_id, sealed });
        let links: Vec<CampaignCustomer> = sqlx::query_as(&format!(
            "SELECT {LINK_COLUMNS} FROM crm.campaign_customers WHERE customer_id = $1 ORDER BY linked_at, campaign_id"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let leads: Vec<Lead> = sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM crm.leads WHERE customer_id = $1 ORDER BY created_at, id"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let interactions: Vec<Interaction> = sqlx::query_as(&format!(
            "SELECT {INTERACTION_COLUMNS} FROM crm.interactions WHERE customer_id = $1 ORDER BY occurred_at, id"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let sales: Vec<Sale> = sqlx::query_as(&format!(
            "SELECT {SALE_COLUMNS} FROM crm.sales WHERE customer_id = $1 ORDER BY sold_at, id"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(CustomerRecord {
            customer,
            key,
            links,
            leads,
            interactions,
            sales,
        }))
    }

    pub(super) async fn erase(&self, tenant: Option<Uuid>, id: Uuid, actor: &str) -> Result<Option<Erasure>> {
        let mut tx = self.pool().begin().await?;
        let row: Option<(Uuid, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
            "SELECT organization_id, erased_at FROM crm.customers
             WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2) FOR UPDATE",
        )
        .bind(id)
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((organization, erased_at)) = row else {
            return Ok(None);
        };
        // Always, even on a repeat: an erasure interrupted by hand (or a key restored from a
        // backup) must not leave a key behind.
        sqlx::query("DELETE FROM crm.customer_keys WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(erased_at) = erased_at {
            tx.commit().await?;
            return Ok(Some(Erasure {
                customer_id: id,
                erased_at,
                already_erased: true,
            }));
        }
        let erased_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
            "UPDATE crm.customers SET
                 first_name = $2, last_name = $2, birth_date = NULL, region = NULL, city = NULL,
                 latitude = NULL, longitude = NULL,
                 national_id_enc = NULL, email_enc = NULL, phone_enc = NULL,
                 national_id_bidx = NULL, email_bidx = NULL, pii_key_id = NULL,
                 marketing_consent = false, consent_updated_at = clock_timestamp(),
                 erased_at = clock_timestamp()
             WHERE id = $1
             RETURNING erased_at",
        )
        .bind(id)
        .bind(ERASED_NAME)
        .fetch_one(&mut *tx)
        .await?;
        // Notes are free text typed by agents: the one place personal data could have slipped in
        // despite the rule. The rest of an interaction (kind, channel, time) says nothing about
        // who the person was once the customer row is pseudonymous.
        sqlx::query("UPDATE crm.interactions SET note = NULL WHERE customer_id = $1 AND note IS NOT NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO crm.event_log (organization_id, entity, entity_id, action, actor, payload)
             VALUES ($1, 'customer', $2, 'erased', $3, '{}'::jsonb)",
        )
        .bind(organization)
        .bind(id)
        .bind(actor_text(actor))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Erasure {
            customer_id: id,
            erased_at,
            already_erased: false,
        }))
    }
}

/// The event log requires an actor of 1 to 200 characters.
pub(super) fn actor_text(actor: &str) -> String {
    let a: String = actor.trim().chars().take(200).collect();
    if a.is_empty() { "unknown".to_owned() } else { a }
}
