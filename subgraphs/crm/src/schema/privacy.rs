//! Data-subject rights (GDPR arts. 15, 17 and 20; CCPA "right to know" and "right to delete"):
//! `exportCustomerData` returns everything the crm store holds on one customer, PII decrypted, as
//! a flat, machine-readable document; `eraseCustomer` erases the customer's personal data.
//!
//! Both need `admin` and `crm:pii` together: the schema says so with `@requiresScopes` (the
//! gateway refuses before planning), and each resolver checks the signed claims again, because a
//! subgraph must not rely on the gateway alone for the most sensitive operations it has.
//!
//! The export is an entity (`CustomerDataExport @key(fields: "customerId")`) so that the other
//! subgraphs add what they hold on the same customer as fields of it, and one gateway query returns
//! the whole record. Erasure crypto-shreds: the customer's data key is deleted, so every copy of
//! the ciphertext (backups, replicas) becomes unreadable, and the live row keeps no PII, blind
//! index, birth date, precise location or name. Sales, leads, interactions and campaign links stay
//! on the now pseudonymous id, so per-campaign totals do not move.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use promptsales_platform::{
    claims::Claims,
    crypto,
    gql::{ErrorCode, error, internal},
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    CustomerSegment, InteractionActor, InteractionKind, LeadStatus, keyring, parse_id,
    pii::{self, Column, PII_SCOPE},
    store, tenant,
};
use crate::store::{self as model, CustomerRecord};

/// The scope of platform administrators; with [`PII_SCOPE`] it allows export and erasure.
pub const ADMIN_SCOPE: &str = "admin";

/// The caller's claims when they hold both `admin` and `crm:pii`; FORBIDDEN otherwise.
fn privileged<'a>(ctx: &'a Context<'_>) -> Result<&'a Claims> {
    match ctx.data_opt::<Claims>() {
        Some(c) if c.has_scope(ADMIN_SCOPE) && c.has_scope(PII_SCOPE) => Ok(c),
        _ => Err(error(
            ErrorCode::Forbidden,
            format!("requires the scopes `{ADMIN_SCOPE}` and `{PII_SCOPE}` together"),
        )),
    }
}

fn id(u: Uuid) -> ID {
    ID(u.to_string())
}

/// Everything the platform holds on one customer. The crm subgraph answers the profile (PII in
/// clear), campaign links, leads, interactions and purchases; the sales subgraph adds the audit
/// trail of the customer's record. The content subgraph holds nothing per customer (its campaign
/// logs address target populations, not people), so it adds no field.
#[derive(SimpleObject)]
pub struct CustomerDataExport {
    /// The customer the export is about.
    pub customer_id: ID,
    /// When this export was produced.
    pub exported_at: DateTime<Utc>,
    /// Whether the customer's personal data was erased; the export then holds nothing else.
    pub erased: bool,
    /// When it was erased.
    pub erased_at: Option<DateTime<Utc>>,
    /// The customer record with national id, e-mail and phone decrypted; null once erased.
    pub profile: Option<ExportedCustomerProfile>,
    /// The campaigns the customer was linked to, unlinked ones included.
    pub campaign_links: Vec<ExportedCampaignLink>,
    /// The customer's leads, deleted ones included.
    pub leads: Vec<ExportedLead>,
    /// The customer's interactions, deleted ones included.
    pub interactions: Vec<ExportedInteraction>,
    /// The customer's purchases, refunded ones included.
    pub purchases: Vec<ExportedPurchase>,
}

/// A customer's own data as held by the crm store.
#[derive(SimpleObject)]
pub struct ExportedCustomerProfile {
    pub organization_id: ID,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<NaiveDate>,
    pub segment: CustomerSegment,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub latitude: Option<Decimal>,
    pub longitude: Option<Decimal>,
    pub preferred_language: String,
    /// In clear.
    pub email: Option<String>,
    /// In clear.
    pub phone: Option<String>,
    /// In clear.
    pub national_id: Option<String>,
    pub marketing_consent: bool,
    pub consent_updated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A campaign the customer was linked to.
#[derive(SimpleObject)]
pub struct ExportedCampaignLink {
    pub campaign_id: ID,
    pub channel_id: ID,
    pub linked_at: DateTime<Utc>,
    pub reached: bool,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A lead of the customer.
#[derive(SimpleObject)]
pub struct ExportedLead {
    pub id: ID,
    pub campaign_id: ID,
    pub source_channel_id: ID,
    pub score: i32,
    pub status: LeadStatus,
    pub purchase_intent: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    pub converted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// An interaction with the customer.
#[derive(SimpleObject)]
pub struct ExportedInteraction {
    pub id: ID,
    pub campaign_id: Option<ID>,
    pub channel_id: ID,
    pub kind: InteractionKind,
    pub actor: InteractionActor,
    pub sentiment: Option<Decimal>,
    pub occurred_at: DateTime<Utc>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A purchase by the customer.
#[derive(SimpleObject)]
pub struct ExportedPurchase {
    pub id: ID,
    pub campaign_id: Option<ID>,
    pub channel_id: ID,
    pub market_id: ID,
    pub product_id: ID,
    pub ad_id: Option<ID>,
    pub quantity: i32,
    pub amount_usd: Decimal,
    pub original_amount: Decimal,
    pub original_currency: String,
    pub fx_rate_to_usd: Decimal,
    pub sold_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was refunded.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// What `eraseCustomer` did.
#[derive(SimpleObject)]
pub struct CustomerErasure {
    pub customer_id: ID,
    /// When the personal data was erased (the first time, when erased before).
    pub erased_at: DateTime<Utc>,
    /// True when the customer had already been erased and nothing was left to erase.
    pub already_erased: bool,
}

#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Everything held on one customer, PII in clear (GDPR access and portability, CCPA right to
    /// know). Null when no such customer is visible to the caller. For an erased customer it says
    /// so and holds nothing else. Requires `admin` and `crm:pii`; never cached.
    #[graphql(requires_scopes = "admin crm:pii")]
    async fn export_customer_data(&self, ctx: &Context<'_>, customer_id: ID) -> Result<Option<CustomerDataExport>> {
        export(ctx, &customer_id).await
    }

    /// Federation: resolves a CustomerDataExport reference (same checks as `exportCustomerData`).
    #[graphql(entity)]
    async fn find_customer_data_export_by_customer_id(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
    ) -> Result<Option<CustomerDataExport>> {
        export(ctx, &customer_id).await
    }
}

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Erases a customer's personal data (GDPR right to erasure, CCPA right to delete): the data
    /// key is destroyed (crypto-shredding), PII, blind indexes, birth date, location and names are
    /// cleared, notes dropped. Purchases and other activity stay on the pseudonymous id so totals
    /// hold. Erasing again changes nothing and says so. NOT_FOUND when no such customer is visible
    /// to the caller. Requires `admin` and `crm:pii`.
    #[graphql(requires_scopes = "admin crm:pii")]
    async fn erase_customer(&self, ctx: &Context<'_>, customer_id: ID) -> Result<CustomerErasure> {
        let claims = privileged(ctx)?;
        let customer = parse_id("customerId", &customer_id)?;
        let erasure = store(ctx)
            .erase_customer(tenant(ctx), customer, &claims.sub)
            .await
            .map_err(|e| internal(ctx, e))?
            .ok_or_else(|| error(ErrorCode::NotFound, "no such customer"))?;
        if !erasure.already_erased {
            tracing::info!(customer = %customer, actor = %claims.sub, "customer erased");
        }
        Ok(CustomerErasure {
            customer_id: id(erasure.customer_id),
            erased_at: erasure.erased_at,
            already_erased: erasure.already_erased,
        })
    }
}

async fn export(ctx: &Context<'_>, customer_id: &ID) -> Result<Option<CustomerDataExport>> {
    privileged(ctx)?;
    let customer = parse_id("customerId", customer_id)?;
    let Some(record) = store(ctx)
        .customer_record(tenant(ctx), customer)
        .await
        .map_err(|e| internal(ctx, e))?
    else {
        return Ok(None);
    };
    let exported_at = Utc::now();
    if let Some(erased_at) = record.customer.erased_at {
        return Ok(Some(CustomerDataExport {
            customer_id: id(customer),
            exported_at,
            erased: true,
            erased_at: Some(erased_at),
            profile: None,
            campaign_links: Vec::new(),
            leads: Vec::new(),
            interactions: Vec::new(),
            purchases: Vec::new(),
        }));
    }
    let export = build(ctx, record, exported_at)?;
    pii::mark(ctx);
    Ok(Some(export))
}

/// A stored enum value as its GraphQL enum (the store's CHECK makes a miss a bug).
fn stored<T>(ctx: &Context<'_>, value: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(value).ok_or_else(|| internal(ctx, format!("unexpected stored value `{value}`")))
}

fn build(ctx: &Context<'_>, record: CustomerRecord, exported_at: DateTime<Utc>) -> Result<CustomerDataExport> {
    let CustomerRecord {
        customer: c,
        key,
        links,
        leads,
        interactions,
        sales,
    } = record;
    let sealed = [
        c.email_enc.is_some(),
        c.phone_enc.is_some(),
        c.national_id_enc.is_some(),
    ];
    let data_key = match key {
        Some(wrapped) => Some(keyring(ctx).unwrap(&wrapped).map_err(|e| internal(ctx, e))?),
        // An export must be complete: ciphertext without its key is a fault, not an absence.
        None if sealed.iter().any(|s| *s) => {
            return Err(internal(ctx, format!("customer {}: sealed PII but no data key", c.id)));
        }
        None => None,
    };
    let open = |column: Column, value: &Option<Vec<u8>>| -> Result<Option<String>> {
        let (Some(value), Some(key)) = (value, &data_key) else {
            return Ok(None);
        };
        let clear = key
            .open(value, &crypto::aad(column.purpose(), c.id))
            .map_err(|e| internal(ctx, format!("customer {}: {}: {e}", c.id, column.purpose())))?;
        String::from_utf8(clear.to_vec())
            .map(Some)
            .map_err(|e| internal(ctx, e))
    };
    let profile = ExportedCustomerProfile {
        organization_id: id(c.organization_id),
        email: open(Column::Email, &c.email_enc)?,
        phone: open(Column::Phone, &c.phone_enc)?,
        national_id: open(Column::NationalId, &c.national_id_enc)?,
        segment: stored(ctx, &c.segment, CustomerSegment::from_db)?,
        first_name: c.first_name,
        last_name: c.last_name,
        birth_date: c.birth_date,
        country_code: c.country_code,
        region: c.region,
        city: c.city,
        latitude: c.latitude,
        longitude: c.longitude,
        preferred_language: c.preferred_language,
        marketing_consent: c.marketing_consent,
        consent_updated_at: c.consent_updated_at,
        created_at: c.created_at,
        updated_at: c.updated_at,
        deleted_at: c.deleted_at,
    };
    Ok(CustomerDataExport {
        customer_id: id(c.id),
        exported_at,
        erased: false,
        erased_at: None,
        profile: Some(profile),
        campaign_links: links.into_iter().map(link).collect(),
        leads: leads.into_iter().map(|l| lead(ctx, l)).collect::<Result<_>>()?,
        interactions: interactions
            .into_iter()
            .map(|i| interaction(ctx, i))
            .collect::<Result<_>>()?,
        purchases: sales.into_iter().map(purchase).collect(),
    })
}

fn link(l: model::CampaignCustomer) -> ExportedCampaignLink {
    ExportedCampaignLink {
        campaign_id: id(l.campaign_id),
        channel_id: id(l.channel_id),
        linked_at: l.linked_at,
        reached: l.reached,
        updated_at: l.updated_at,
        deleted_at: l.deleted_at,
    }
}

fn lead(ctx: &Context<'_>, l: model::Lead) -> Result<ExportedLead> {
    Ok(ExportedLead {
        id: id(l.id),
        campaign_id: id(l.campaign_id),
        source_channel_id: id(l.source_channel_id),
        score: i32::from(l.score),
        status: stored(ctx, &l.status, LeadStatus::from_db)?,
        purchase_intent: l.purchase_intent,
        created_at: l.created_at,
        converted_at: l.converted_at,
        updated_at: l.updated_at,
        deleted_at: l.deleted_at,
    })
}

fn interaction(ctx: &Context<'_>, i: model::Interaction) -> Result<ExportedInteraction> {
    Ok(ExportedInteraction {
        id: id(i.id),
        campaign_id: i.campaign_id.map(id),
        channel_id: id(i.channel_id),
        kind: stored(ctx, &i.kind, InteractionKind::from_db)?,
        actor: stored(ctx, &i.actor, InteractionActor::from_db)?,
        sentiment: i.sentiment,
        occurred_at: i.occurred_at,
        note: i.note,
        created_at: i.created_at,
        updated_at: i.updated_at,
        deleted_at: i.deleted_at,
    })
}

fn purchase(s: model::Sale) -> ExportedPurchase {
    ExportedPurchase {
        id: id(s.id),
        campaign_id: s.campaign_id.map(id),
        channel_id: id(s.channel_id),
        market_id: id(s.market_id),
        product_id: id(s.product_id),
        ad_id: s.ad_id.map(id),
        quantity: s.quantity,
        amount_usd: s.amount_usd,
        original_amount: s.original_amount,
        original_currency: s.original_currency,
        fx_rate_to_usd: s.fx_rate_to_usd,
        sold_at: s.sold_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
        deleted_at: s.deleted_at,
    }
}
