//! Data-subject requests on SQL Server, with the semantics of the PostgreSQL adapter
//! (`pg_privacy.rs`). Each is one batch, so one round trip and one transaction: the export reads
//! with HOLDLOCK so every part sees the same state (SQL Server's READ COMMITTED would let a write
//! land between two of the SELECTs); the erasure takes an update lock on the customer row first,
//! so two erasures of the same customer serialise and the second one only reports the first.

use chrono::{DateTime, Utc};
use promptsales_platform::crypto::WrappedKey;
use uuid::Uuid;

use super::{
    CUSTOMER_COLUMNS, INTERACTION_COLUMNS, LEAD_COLUMNS, LINK_COLUMNS, MssqlStore, SALE_COLUMNS,
    rows::{FromTds, all, req},
};
use crate::store::{CustomerRecord, ERASED_NAME, Erasure, Result, pg_privacy::actor_text};

impl MssqlStore {
    pub(super) async fn record_of(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Option<CustomerRecord>> {
        let sql = format!(
            "SET NOCOUNT ON; SET XACT_ABORT ON;
             BEGIN TRANSACTION;
             SELECT {CUSTOMER_COLUMNS} FROM crm.customers WITH (HOLDLOCK)
             WHERE id = @P1 AND (@P2 IS NULL OR organization_id = @P2);
             SELECT key_id, wrapped_dek FROM crm.customer_keys WITH (HOLDLOCK) WHERE customer_id = @P1;
             SELECT {LINK_COLUMNS} FROM crm.campaign_customers WITH (HOLDLOCK)
             WHERE customer_id = @P1 ORDER BY linked_at, campaign_id;
             SELECT {LEAD_COLUMNS} FROM crm.leads WITH (HOLDLOCK) WHERE customer_id = @P1 ORDER BY created_at, id;
             SELECT {INTERACTION_COLUMNS} FROM crm.interactions WITH (HOLDLOCK)
             WHERE customer_id = @P1 ORDER BY occurred_at, id;
             SELECT {SALE_COLUMNS} FROM crm.sales WITH (HOLDLOCK) WHERE customer_id = @P1 ORDER BY sold_at, id;
             COMMIT TRANSACTION;"
        );
        let mut sets = self.run(&sql, &[&id, &tenant]).await?.into_iter();
        let mut next = || sets.next().unwrap_or_default();
        let Some(row) = next().into_iter().next() else {
            return Ok(None);
        };
        let customer = FromTds::from_tds(&row)?;
        let key = next()
            .first()
            .map(|r| {
                Ok::<_, crate::store::StoreError>(WrappedKey {
                    kek_id: req::<&str>(r, "key_id")?.to_owned(),
                    sealed: req::<&[u8]>(r, "wrapped_dek")?.to_vec(),
                })
            })
            .transpose()?;
        Ok(Some(CustomerRecord {
            customer,
            key,
            links: all(&next())?,
            leads: all(&next())?,
            interactions: all(&next())?,
            sales: all(&next())?,
        }))
    }

    pub(super) async fn erase(&self, tenant: Option<Uuid>, id: Uuid, actor: &str) -> Result<Option<Erasure>> {
        // @P1 customer, @P2 tenant, @P3 actor, @P4 the replacement name. The key row goes on every
        // run (see the PostgreSQL adapter); the rest only on the first.
        let sql = "SET NOCOUNT ON; SET XACT_ABORT ON;
             BEGIN TRANSACTION;
             DECLARE @org UNIQUEIDENTIFIER, @erased DATETIMEOFFSET(3), @found BIT = 0;
             SELECT @org = organization_id, @erased = erased_at, @found = 1
             FROM crm.customers WITH (UPDLOCK, HOLDLOCK)
             WHERE id = @P1 AND (@P2 IS NULL OR organization_id = @P2);
             IF @found = 1
             BEGIN
                 DELETE FROM crm.customer_keys WHERE customer_id = @P1;
                 IF @erased IS NULL
                 BEGIN
                     SET @erased = TODATETIMEOFFSET(SYSUTCDATETIME(), 0);
                     UPDATE crm.customers SET
                         first_name = @P4, last_name = @P4, birth_date = NULL, region = NULL, city = NULL,
                         latitude = NULL, longitude = NULL,
                         national_id_enc = NULL, email_enc = NULL, phone_enc = NULL,
                         national_id_bidx = NULL, email_bidx = NULL, pii_key_id = NULL,
                         marketing_consent = 0, consent_updated_at = @erased, erased_at = @erased
                     WHERE id = @P1;
                     UPDATE crm.interactions SET note = NULL WHERE customer_id = @P1 AND note IS NOT NULL;
                     INSERT INTO crm.event_log (organization_id, entity, entity_id, action, actor, payload)
                     VALUES (@org, 'customer', @P1, 'erased', @P3, N'{}');
                     SELECT CAST(0 AS BIT) AS already_erased, @erased AS erased_at;
                 END
                 ELSE
                     SELECT CAST(1 AS BIT) AS already_erased, @erased AS erased_at;
             END
             COMMIT TRANSACTION;";
        let actor = actor_text(actor);
        // The one row comes from whichever branch ran; look through every result set for it.
        let sets = self.run(sql, &[&id, &tenant, &actor, &ERASED_NAME]).await?;
        sets.iter()
            .flatten()
            .next()
            .map(|r| {
                Ok(Erasure {
                    customer_id: id,
                    erased_at: req::<DateTime<Utc>>(r, "erased_at")?,
                    already_erased: req::<bool>(r, "already_erased")?,
                })
            })
            .transpose()
    }
}
