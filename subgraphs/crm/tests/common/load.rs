//! Writes the fixture into a store, one engine each, with bound parameters; also the one change a
//! conformance test makes afterwards (a refund), so `…UpdatedSince` can be checked after a write.

use chrono::{DateTime, FixedOffset, Utc};
use promptsales_platform::{StoreUrl, mssql};
use sqlx::PgPool;
use uuid::Uuid;

use super::fixture::Fixture;

#[async_trait::async_trait]
pub trait Writer: Send + Sync {
    async fn load(&self, f: &Fixture);
    /// Refunds (tombstones) a sale now.
    async fn refund(&self, sale: Uuid);
}

pub struct PgWriter(pub PgPool);

#[async_trait::async_trait]
impl Writer for PgWriter {
    async fn load(&self, f: &Fixture) {
        let pool = &self.0;
        for (p, s) in f.people.iter().zip(&f.sealed) {
            sqlx::query(
                "INSERT INTO crm.customers (id, organization_id, first_name, last_name, birth_date, segment,
                     country_code, city, preferred_language, national_id_enc, email_enc, phone_enc, national_id_bidx,
                     email_bidx, pii_key_id, created_at, deleted_at, erased_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'es', $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            )
            .bind(p.id)
            .bind(p.org)
            .bind(p.first)
            .bind(p.last)
            .bind(p.birth)
            .bind(p.segment)
            .bind(p.country)
            .bind(p.city)
            .bind(&s.national_id_enc)
            .bind(&s.email_enc)
            .bind(&s.phone_enc)
            .bind(&s.national_id_bidx)
            .bind(&s.email_bidx)
            .bind(&s.pii_key_id)
            .bind(p.created_at)
            .bind(p.deleted_at)
            .bind(p.erased_at)
            .execute(pool)
            .await
            .expect("insert customer");
            if p.erased_at.is_none() {
                sqlx::query("INSERT INTO crm.customer_keys (customer_id, key_id, wrapped_dek) VALUES ($1, $2, $3)")
                    .bind(p.id)
                    .bind(&s.kek_id)
                    .bind(&s.wrapped_dek)
                    .execute(pool)
                    .await
                    .expect("insert customer key");
            }
        }
        for l in &f.links {
            sqlx::query(
                "INSERT INTO crm.campaign_customers
                     (campaign_id, customer_id, organization_id, channel_id, linked_at, reached, created_at, deleted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $5, $7)",
            )
            .bind(l.campaign)
            .bind(l.customer)
            .bind(l.org)
            .bind(l.channel)
            .bind(l.linked_at)
            .bind(l.reached)
            .bind(l.deleted_at)
            .execute(pool)
            .await
            .expect("insert link");
        }
        for l in &f.leads {
            let converted = (l.status == "converted").then_some(l.created_at);
            sqlx::query(
                "INSERT INTO crm.leads (id, organization_id, campaign_id, customer_id, source_channel_id, score,
                     status, created_at, converted_at, deleted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(l.id)
            .bind(l.org)
            .bind(l.campaign)
            .bind(l.customer)
            .bind(l.channel)
            .bind(l.score)
            .bind(l.status)
            .bind(l.created_at)
            .bind(converted)
            .bind(l.deleted_at)
            .execute(pool)
            .await
            .expect("insert lead");
        }
        for i in &f.interactions {
            sqlx::query(
                "INSERT INTO crm.interactions (id, organization_id, customer_id, campaign_id, channel_id, kind, actor,
                     occurred_at, created_at, deleted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'human', $7, $7, $8)",
            )
            .bind(i.id)
            .bind(i.org)
            .bind(i.customer)
            .bind(i.campaign)
            .bind(i.channel)
            .bind(i.kind)
            .bind(i.occurred_at)
            .bind(i.deleted_at)
            .execute(pool)
            .await
            .expect("insert interaction");
        }
        for s in &f.sales {
            sqlx::query(
                "INSERT INTO crm.sales (id, organization_id, customer_id, campaign_id, channel_id, market_id,
                     product_id, quantity, amount_usd, original_amount, original_currency, fx_rate_to_usd, sold_at,
                     created_at, deleted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)",
            )
            .bind(s.id)
            .bind(s.org)
            .bind(s.customer)
            .bind(s.campaign)
            .bind(s.channel)
            .bind(s.market)
            .bind(s.product)
            .bind(s.quantity)
            .bind(s.amount_usd)
            .bind(s.original_amount)
            .bind(s.currency)
            .bind(s.fx)
            .bind(s.sold_at)
            .bind(s.deleted_at)
            .execute(pool)
            .await
            .expect("insert sale");
        }
    }

    async fn refund(&self, sale: Uuid) {
        sqlx::query("UPDATE crm.sales SET deleted_at = now() WHERE id = $1")
            .bind(sale)
            .execute(&self.0)
            .await
            .expect("refund");
    }
}

/// Opens a connection per call (a handful per test): no shared client to lock.
pub struct MssqlWriter(pub StoreUrl);

impl MssqlWriter {
    async fn client(&self) -> mssql::Client {
        let database = self.0.database().expect("a database");
        mssql::connect(&self.0, database, "promptsales-crm-tests")
            .await
            .expect("connect to SQL Server")
    }
}

fn dto(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

#[async_trait::async_trait]
impl Writer for MssqlWriter {
    async fn load(&self, f: &Fixture) {
        let mut c = self.client().await;
        for (p, s) in f.people.iter().zip(&f.sealed) {
            c.execute(
                "INSERT INTO crm.customers (id, organization_id, first_name, last_name, birth_date, segment,
                     country_code, city, preferred_language, national_id_enc, email_enc, phone_enc, national_id_bidx,
                     email_bidx, pii_key_id, created_at, deleted_at, erased_at)
                 VALUES (@P1, @P2, @P3, @P4, @P5, @P6, @P7, @P8, 'es', @P9, @P10, @P11, @P12, @P13, @P14, @P15,
                     @P16, @P17)",
                &[
                    &p.id,
                    &p.org,
                    &p.first,
                    &p.last,
                    &p.birth,
                    &p.segment,
                    &p.country,
                    &p.city,
                    &s.national_id_enc,
                    &s.email_enc,
                    &s.phone_enc,
                    &s.national_id_bidx,
                    &s.email_bidx,
                    &s.pii_key_id,
                    &dto(p.created_at),
                    &p.deleted_at.map(dto),
                    &p.erased_at.map(dto),
                ],
            )
            .await
            .expect("insert customer");
            if p.erased_at.is_none() {
                c.execute(
                    "INSERT INTO crm.customer_keys (customer_id, key_id, wrapped_dek) VALUES (@P1, @P2, @P3)",
                    &[&p.id, &s.kek_id, &s.wrapped_dek],
                )
                .await
                .expect("insert customer key");
            }
        }
        for l in &f.links {
            c.execute(
                "INSERT INTO crm.campaign_customers
                     (campaign_id, customer_id, organization_id, channel_id, linked_at, reached, created_at, deleted_at)
                 VALUES (@P1, @P2, @P3, @P4, @P5, @P6, @P5, @P7)",
                &[
                    &l.campaign,
                    &l.customer,
                    &l.org,
                    &l.channel,
                    &dto(l.linked_at),
                    &l.reached,
                    &l.deleted_at.map(dto),
                ],
            )
            .await
            .expect("insert link");
        }
        for l in &f.leads {
            let converted = (l.status == "converted").then_some(dto(l.created_at));
            c.execute(
                "INSERT INTO crm.leads (id, organization_id, campaign_id, customer_id, source_channel_id, score,
                     status, created_at, converted_at, deleted_at)
                 VALUES (@P1, @P2, @P3, @P4, @P5, @P6, @P7, @P8, @P9, @P10)",
                &[
                    &l.id,
                    &l.org,
                    &l.campaign,
                    &l.customer,
                    &l.channel,
                    &l.score,
                    &l.status,
                    &dto(l.created_at),
                    &converted,
                    &l.deleted_at.map(dto),
                ],
            )
            .await
            .expect("insert lead");
        }
        for i in &f.interactions {
            c.execute(
                "INSERT INTO crm.interactions (id, organization_id, customer_id, campaign_id, channel_id, kind, actor,
                     occurred_at, created_at, deleted_at)
                 VALUES (@P1, @P2, @P3, @P4, @P5, @P6, 'human', @P7, @P7, @P8)",
                &[
                    &i.id,
                    &i.org,
                    &i.customer,
                    &i.campaign,
                    &i.channel,
                    &i.kind,
                    &dto(i.occurred_at),
                    &i.deleted_at.map(dto),
                ],
            )
            .await
            .expect("insert interaction");
        }
        for s in &f.sales {
            c.execute(
                "INSERT INTO crm.sales (id, organization_id, customer_id, campaign_id, channel_id, market_id,
                     product_id, quantity, amount_usd, original_amount, original_currency, fx_rate_to_usd, sold_at,
                     created_at, deleted_at)
                 VALUES (@P1, @P2, @P3, @P4, @P5, @P6, @P7, @P8, @P9, @P10, @P11, @P12, @P13, @P13, @P14)",
                &[
                    &s.id,
                    &s.org,
                    &s.customer,
                    &s.campaign,
                    &s.channel,
                    &s.market,
                    &s.product,
                    &s.quantity,
                    &s.amount_usd,
                    &s.original_amount,
                    &s.currency,
                    &s.fx,
                    &dto(s.sold_at),
                    &s.deleted_at.map(dto),
                ],
            )
            .await
            .expect("insert sale");
        }
    }

    async fn refund(&self, sale: Uuid) {
        self.client()
            .await
            .execute(
                "UPDATE crm.sales SET deleted_at = SYSUTCDATETIME() WHERE id = @P1",
                &[&sale],
            )
            .await
            .expect("refund");
    }
}
