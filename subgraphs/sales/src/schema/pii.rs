//! Personal data of portal users and contacts (e-mail, phone): stored sealed, handed out in plain
//! text only to callers with the `admin` scope (and audited), masked for everybody else.
//!
//! Envelope layout, as the seeder and the portal write it: each row has its own data key, wrapped
//! under a key-encryption key and stored in the row's `pii_key_id` as `<kek id>:<base64 of the
//! wrapped key>`; each value is sealed with associated data `crypto::aad("<schema>.<table>.<column>",
//! row id)`, so a ciphertext copied to another row or column does not open.
//!
//! Masks and response marking follow the crm subgraph's contract, so the gateway and the portal
//! see one behaviour: masks keep a fixed shape (`a•••@e•••.com`, `••• ••• ••34`), and a response
//! carrying any value in plain text is marked with the extension `containsPii: true`, the header
//! `x-promptsales-contains-pii: true` and `cache-control: private, no-store`, so it is never cached.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Context, ErrorExtensions, Pos, Response, Result, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};
use axum::http::{HeaderValue, header::CACHE_CONTROL};
use base64::{Engine, engine::general_purpose::STANDARD};
use promptsales_platform::{
    claims::Claims,
    crypto::{self, Keyring, WrappedKey},
    gql::{ErrorCode, RequestId, internal},
};
use uuid::Uuid;

use super::{actor_of, has_scope};
use crate::store::{PiiRead, SalesStore};

/// Associated-data columns (and blind-index purposes) of the sealed values.
pub const PORTAL_USER_EMAIL: &str = "sales.portal_users.email";
pub const CONTACT_EMAIL: &str = "sales.contacts.email";
pub const CONTACT_PHONE: &str = "sales.contacts.phone";

/// The scope that reveals personal data in plain text.
pub const REVEAL_SCOPE: &str = "admin";

/// Opens a value sealed under the row's envelope key.
pub fn open(keyring: &Keyring, key_id: &str, column: &str, row: Uuid, sealed: &[u8]) -> Result<String, crypto::Error> {
    let malformed = || crypto::Error::Config(format!("pii_key_id of {column} {row} is not `<kek id>:<base64>`"));
    let (kek_id, wrapped) = key_id.split_once(':').ok_or_else(malformed)?;
    let wrapped = WrappedKey {
        kek_id: kek_id.to_owned(),
        sealed: STANDARD.decode(wrapped).map_err(|_| malformed())?,
    };
    let plain = keyring.unwrap(&wrapped)?.open(sealed, &crypto::aad(column, row))?;
    String::from_utf8(plain.to_vec()).map_err(|_| crypto::Error::Open)
}

/// The response header that marks a response holding personal data in plain text.
pub const PII_HEADER: &str = "x-promptsales-contains-pii";
/// The response extension that marks it.
pub const PII_EXTENSION: &str = "containsPii";

const BULLETS: &str = "•••";

fn first_char(s: &str) -> String {
    s.chars().next().map(String::from).unwrap_or_default()
}

/// `ana.lopez@acme.com.mx` → `a•••@a•••.com.mx`: the first letters of the local part and of the
/// domain, and the domain's suffix; enough to tell accounts apart, not to write to them.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let suffix = domain.find('.').map_or("", |i| &domain[i..]);
            format!("{}{BULLETS}@{}{BULLETS}{suffix}", first_char(local), first_char(domain))
        }
        _ => BULLETS.to_owned(),
    }
}

/// `+52 55 1234 5634` → `••• ••• ••34`: the last two digits only.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return format!("{BULLETS} {BULLETS} ••••");
    }
    let tail: String = digits[digits.len() - 2..].iter().collect();
    format!("{BULLETS} {BULLETS} ••{tail}")
}

/// The records whose personal data this request handed out in plain text. The audit rows are
/// written once, when the response is complete (one store call per request, however many records),
/// and the response is released only if that write succeeded: no audit, no data.
#[derive(Debug, Default)]
pub struct PiiReads(Mutex<HashSet<PiiRead>>);

impl PiiReads {
    fn push(&self, read: PiiRead) {
        self.0
            .lock()
            .expect("a panic never happens while this lock is held")
            .insert(read);
    }

    fn take(&self) -> Vec<PiiRead> {
        let mut reads: Vec<PiiRead> = self
            .0
            .lock()
            .expect("a panic never happens while this lock is held")
            .drain()
            .collect();
        reads.sort_by_key(|r| (r.target_type, r.target_id));
        reads
    }
}

/// A sealed value of one row, as a resolver hands it out.
pub struct Sealed<'a> {
    pub column: &'static str,
    pub target_type: &'static str,
    pub row: Uuid,
    pub key_id: Option<&'a str>,
    pub sealed: Option<&'a [u8]>,
    pub mask: fn(&str) -> String,
}

/// The value in plain text for `admin` callers (recorded for the audit log, see [`PiiReads`]),
/// masked for the others; `None` when the row has no such value.
pub async fn reveal(ctx: &Context<'_>, value: Sealed<'_>) -> Result<Option<String>> {
    let (Some(key_id), Some(sealed)) = (value.key_id, value.sealed) else {
        return Ok(None);
    };
    let keyring = ctx.data_unchecked::<Arc<Keyring>>();
    let plain = open(keyring, key_id, value.column, value.row, sealed).map_err(|e| internal(ctx, e))?;
    if !has_scope(ctx, REVEAL_SCOPE) {
        return Ok(Some((value.mask)(&plain)));
    }
    // Without the request's record of reads there would be no audit row: refuse rather than leak.
    let reads = ctx
        .data_opt::<PiiReads>()
        .ok_or_else(|| internal(ctx, "personal data read outside a request that audits it"))?;
    reads.push(PiiRead {
        target_type: value.target_type,
        target_id: value.row,
    });
    Ok(Some(plain))
}

/// The schema extension that audits and marks responses holding personal data in plain text.
pub struct AuditPiiResponses;

impl ExtensionFactory for AuditPiiResponses {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuditPiiResponses)
    }
}

#[async_trait::async_trait]
impl Extension for AuditPiiResponses {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let reads = ctx.data_opt::<PiiReads>().map(PiiReads::take).unwrap_or_default();
        if !reads.is_empty() {
            let store = ctx.data_unchecked::<Arc<dyn SalesStore>>();
            let actor = ctx
                .data_opt::<Claims>()
                .map(|c| actor_of(c, ctx.data_opt::<RequestId>()))
                .unwrap_or_default();
            if let Err(e) = store.record_pii_reads(&actor, &reads).await {
                let request_id = ctx.data_opt::<RequestId>().map_or("-", |r| r.0.as_str()).to_owned();
                tracing::error!(request_id, error = %e, "audit of personal data reads failed: response withheld");
                let error = async_graphql::Error::new("internal error; quote the request id when reporting it")
                    .extend_with(|_, ext| {
                        ext.set("code", ErrorCode::Internal.as_str());
                        ext.set("requestId", request_id.clone());
                    });
                return Response::from_errors(vec![error.into_server_error(Pos::default())]);
            }
            response
                .extensions
                .insert(PII_EXTENSION.to_owned(), Value::Boolean(true));
            response
                .http_headers
                .insert(PII_HEADER, HeaderValue::from_static("true"));
            response
                .http_headers
                .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    #[test]
    fn should_mask_keeping_only_a_hint() {
        assert_eq!(mask_email("ana.lopez@acme.com.mx"), "a•••@a•••.com.mx");
        assert_eq!(mask_email("x@localhost"), "x•••@l•••");
        assert_eq!(mask_email("not-an-email"), "•••");
        assert_eq!(mask_email("@acme.mx"), "•••");
        assert_eq!(mask_phone("+52 55 1234 5634"), "••• ••• ••34");
        assert_eq!(mask_phone("12"), "••• ••• ••••");
    }

    #[test]
    fn should_open_only_in_the_row_and_column_it_was_sealed_for() {
        let mut rng = StdRng::seed_from_u64(3);
        let ring = Keyring::generate("k1", &mut rng);
        let key = crypto::DataKey::generate(&mut rng);
        let wrapped = ring.wrap(&key, &mut rng);
        let key_id = format!("{}:{}", wrapped.kek_id, STANDARD.encode(&wrapped.sealed));
        let row = Uuid::new_v4();
        let sealed = key.seal(b"ana@acme.mx", &crypto::aad(PORTAL_USER_EMAIL, row), &mut rng);
        assert_eq!(
            open(&ring, &key_id, PORTAL_USER_EMAIL, row, &sealed).expect("opens"),
            "ana@acme.mx"
        );
        assert!(open(&ring, &key_id, PORTAL_USER_EMAIL, Uuid::new_v4(), &sealed).is_err());
        assert!(open(&ring, &key_id, CONTACT_EMAIL, row, &sealed).is_err());
        assert!(open(&ring, "k1", PORTAL_USER_EMAIL, row, &sealed).is_err());
    }
}
