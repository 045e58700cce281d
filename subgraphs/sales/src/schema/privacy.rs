//! The sales side of a customer's data export (GDPR access, CCPA right to know): the crm subgraph
//! owns `CustomerDataExport` (keyed by the crm customer id); this subgraph adds what the central
//! store holds on that customer, the audit trail of who read, changed, exported or erased the
//! record. The central store holds no other row per crm customer (its contacts and portal users
//! are people of client organizations, not their end customers).
//!
//! Like the crm fields, it needs `admin` and `crm:pii` together: declared with `@requiresScopes`
//! for the gateway and checked here again against the signed claims.

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use promptsales_platform::{
    claims::Claims,
    gql::{ErrorCode, error, internal},
};

use super::{parse_id, store, tenant};
use crate::store::AuditEntry;

/// Most audit rows one export carries (the log keeps 90 days).
const MAX_TRAIL: usize = 1_000;

fn privileged(ctx: &Context<'_>) -> Result<()> {
    match ctx.data_opt::<Claims>() {
        Some(c) if c.has_scope("admin") && c.has_scope("crm:pii") => Ok(()),
        _ => Err(error(
            ErrorCode::Forbidden,
            "requires the scopes `admin` and `crm:pii` together",
        )),
    }
}

/// Everything the platform holds on one customer (owned by the crm subgraph).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CustomerDataExport {
    /// The crm customer the export is about.
    pub customer_id: ID,
}

#[ComplexObject]
impl CustomerDataExport {
    /// Audit-log entries about the customer's record, newest first (at most 1000; the log keeps
    /// 90 days). A token bound to an organization sees only its own actors' entries. Null, with
    /// an error, when this subgraph cannot answer: the crm part of the export still stands.
    #[graphql(requires_scopes = "admin crm:pii")]
    async fn audit_trail(&self, ctx: &Context<'_>) -> Result<Option<Vec<CustomerAuditEntry>>> {
        privileged(ctx)?;
        let id = parse_id("customerId", &self.customer_id)?;
        let rows = store(ctx)
            .audit_trail(tenant(ctx), &id.to_string(), MAX_TRAIL)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(Some(rows.into_iter().map(CustomerAuditEntry::from).collect()))
    }
}

/// One audit-log entry about a customer's record.
#[derive(SimpleObject)]
pub struct CustomerAuditEntry {
    pub id: ID,
    pub occurred_at: DateTime<Utc>,
    /// Who acted (token subject or service).
    pub actor_subject: String,
    pub actor_organization_id: Option<ID>,
    /// `mutation`, `pii_read`, `export`, `erase`, …
    pub action: String,
    pub operation_name: Option<String>,
    /// What was targeted (the operation's root field, or the record type).
    pub target_type: Option<String>,
    /// `success`, `denied` or `error`.
    pub outcome: String,
    pub request_id: Option<String>,
}

impl From<AuditEntry> for CustomerAuditEntry {
    fn from(a: AuditEntry) -> Self {
        CustomerAuditEntry {
            id: ID(a.id.to_string()),
            occurred_at: a.occurred_at,
            actor_subject: a.actor_subject,
            actor_organization_id: a.actor_organization_id.map(|o| ID(o.to_string())),
            action: a.action,
            operation_name: a.operation_name,
            target_type: a.target_type,
            outcome: a.outcome,
            request_id: a.request_id,
        }
    }
}

#[derive(Default)]
pub struct PrivacyEntities;

#[Object]
impl PrivacyEntities {
    /// Federation: the sales side of a customer's data export.
    #[graphql(entity)]
    async fn find_customer_data_export_by_customer_id(&self, customer_id: ID) -> Result<CustomerDataExport> {
        parse_id("customerId", &customer_id)?;
        Ok(CustomerDataExport { customer_id })
    }
}
