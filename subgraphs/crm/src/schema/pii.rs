//! Customer PII on the way out: opened with the customer's data key (unwrapped in batches by the
//! `KeyOf` loader), then returned in clear to callers holding `crm:pii` and masked for everyone else.
//!
//! The fields are not scope-gated (a `crm:read` caller sees that a customer has an e-mail, and
//! enough of it to tell two apart); the masks keep a fixed shape so they do not leak lengths:
//!
//! | field | clear | masked |
//! |---|---|---|
//! | email | `ana.lopez@example.com.mx` | `a•••@e•••.com.mx` (first letter of the local part and of the domain, the domain's suffix) |
//! | phone | `+525512345634` | `+52 ••• ••• ••34` (E.164 country code, last two digits) |
//! | nationalId | `LOPA800101HDFRRN09` | `••••••RN09` (last four letters or digits) |
//!
//! A response that carries any value in clear is marked, so the gateway never caches it: the
//! response extension `containsPii: true`, the HTTP header `x-promptsales-contains-pii: true` and
//! `cache-control: private, no-store`. Masked values do not mark a response.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Context, Response, Result, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};
use axum::http::{HeaderValue, header::CACHE_CONTROL};
use promptsales_platform::{claims::Claims, crypto, gql::internal};

use super::{loader, loaders::KeyOf};
use crate::store;

/// The scope that reveals PII in clear.
pub const PII_SCOPE: &str = "crm:pii";
/// The response header that marks a response holding PII in clear.
pub const PII_HEADER: &str = "x-promptsales-contains-pii";
/// The response extension that marks it.
pub const PII_EXTENSION: &str = "containsPii";

const BULLETS: &str = "•••";

/// A sealed customer column: its associated-data / blind-index purpose (`<schema>.<table>.<column>`,
/// as the seeder and every writer use it) and its mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    NationalId,
    Email,
    Phone,
}

impl Column {
    pub fn purpose(self) -> &'static str {
        match self {
            Column::NationalId => "crm.customers.national_id",
            Column::Email => "crm.customers.email",
            Column::Phone => "crm.customers.phone",
        }
    }

    pub fn mask(self, clear: &str) -> String {
        match self {
            Column::NationalId => mask_national_id(clear),
            Column::Email => mask_email(clear),
            Column::Phone => mask_phone(clear),
        }
    }

    fn sealed(self, c: &store::Customer) -> Option<&[u8]> {
        match self {
            Column::NationalId => c.national_id_enc.as_deref(),
            Column::Email => c.email_enc.as_deref(),
            Column::Phone => c.phone_enc.as_deref(),
        }
    }
}

/// `a•••@e•••.com`: first character of the local part and of the domain, then the domain from its
/// first dot on.
pub fn mask_email(email: &str) -> String {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return BULLETS.to_owned();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let suffix = domain.find('.').map_or("", |i| &domain[i..]);
    format!("{}{BULLETS}@{}{BULLETS}{suffix}", first(local), first(domain))
}

/// `+52 ••• ••• ••34`: the E.164 country code and the last two digits.
pub fn mask_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let tail = if digits.len() >= 6 {
        &digits[digits.len() - 2..]
    } else {
        "••"
    };
    let masked = format!("{BULLETS} {BULLETS} ••{tail}");
    if phone.trim_start().starts_with('+') && digits.len() >= 6 {
        format!("+{} {masked}", &digits[..calling_code_len(&digits)])
    } else {
        masked
    }
}

/// Length of the ITU-T E.164 country calling code that starts `digits` (codes are prefix-free:
/// zones 1 and 7 are one digit, a fixed list is two, the rest three).
fn calling_code_len(digits: &str) -> usize {
    const TWO: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO.iter().any(|p| digits.starts_with(p)) {
        2
    } else {
        3
    }
}

/// `••••••1234`: the last four letters or digits (all bullets when the id is that short).
pub fn mask_national_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().filter(char::is_ascii_alphanumeric).collect();
    if chars.len() <= 4 {
        return "••••••".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••••{tail}")
}

/// Raised when a PII value leaves this request in clear.
#[derive(Debug, Clone, Default)]
pub struct PiiFlag(Arc<AtomicBool>);

impl PiiFlag {
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether the caller may see PII in clear.
pub fn may_reveal(ctx: &Context<'_>) -> bool {
    ctx.data_opt::<Claims>().is_some_and(|c| c.has_scope(PII_SCOPE))
}

/// Marks the current response as holding PII in clear.
pub fn mark(ctx: &Context<'_>) {
    if let Some(flag) = ctx.data_opt::<PiiFlag>() {
        flag.raise();
    }
}

/// Decimals a coordinate keeps for callers without `crm:pii`: two (about 1.1 km of latitude)
/// place a customer in a neighbourhood, not at a door.
const COARSE_DECIMALS: u32 = 2;

/// A customer's coordinate: exact for `crm:pii` (then the response holds PII), otherwise
/// rounded to [`COARSE_DECIMALS`].
pub fn coordinate(ctx: &Context<'_>, value: Option<rust_decimal::Decimal>) -> Option<rust_decimal::Decimal> {
    let value = value?;
    if may_reveal(ctx) {
        mark(ctx);
        Some(value)
    } else {
        Some(value.round_dp(COARSE_DECIMALS))
    }
}

/// Refuses a lookup by a personal identifier (e-mail, national id) to callers without `crm:pii`:
/// finding who has an identifier re-identifies a person as surely as reading it.
pub fn require_for_lookup(ctx: &Context<'_>, field: &str) -> Result<()> {
    if may_reveal(ctx) {
        Ok(())
    } else {
        Err(promptsales_platform::gql::error(
            promptsales_platform::gql::ErrorCode::Forbidden,
            format!("{field}: looking customers up by a personal identifier needs the scope {PII_SCOPE}"),
        ))
    }
}

/// A sealed column of `customer`: in clear for `crm:pii`, masked otherwise; null when the customer
/// has no such value (or was erased) or its data key is gone (crypto-shredded).
pub async fn reveal(ctx: &Context<'_>, customer: &store::Customer, column: Column) -> Result<Option<String>> {
    let Some(sealed) = column.sealed(customer) else {
        return Ok(None);
    };
    let Some(key) = loader(ctx).load_one(KeyOf(customer.id)).await? else {
        tracing::warn!(customer = %customer.id, "sealed PII without a data key (crypto-shredded?)");
        return Ok(None);
    };
    let clear = key
        .open(sealed, &crypto::aad(column.purpose(), customer.id))
        .map_err(|e| internal(ctx, format!("customer {}: {}: {e}", customer.id, column.purpose())))?;
    let clear = std::str::from_utf8(&clear).map_err(|e| internal(ctx, e))?;
    if may_reveal(ctx) {
        mark(ctx);
        Ok(Some(clear.to_owned()))
    } else {
        Ok(Some(column.mask(clear)))
    }
}

/// The schema extension that marks responses whose [`PiiFlag`] was raised.
pub struct MarkPiiResponses;

impl ExtensionFactory for MarkPiiResponses {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MarkPiiResponsesExtension)
    }
}

struct MarkPiiResponsesExtension;

#[async_trait::async_trait]
impl Extension for MarkPiiResponsesExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if ctx.data_opt::<PiiFlag>().is_some_and(PiiFlag::is_raised) {
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
    use super::*;

    #[test]
    fn should_mask_emails_keeping_first_letters_and_the_domain_suffix() {
        assert_eq!(mask_email("ana.lopez@example.com"), "a•••@e•••.com");
        assert_eq!(mask_email("j@yahoo.com.mx"), "j•••@y•••.com.mx");
        assert_eq!(mask_email("x@localhost"), "x•••@l•••");
        assert_eq!(mask_email("not-an-email"), "•••");
    }

    #[test]
    fn should_mask_phones_keeping_the_country_code_and_last_two_digits() {
        assert_eq!(mask_phone("+525512345634"), "+52 ••• ••• ••34");
        assert_eq!(mask_phone("+12125550199"), "+1 ••• ••• ••99");
        assert_eq!(mask_phone("+5939912345678"), "+593 ••• ••• ••78");
        assert_eq!(mask_phone("5512345634"), "••• ••• ••34");
        assert_eq!(mask_phone("+52"), "••• ••• ••••");
    }

    #[test]
    fn should_mask_national_ids_keeping_the_last_four() {
        assert_eq!(mask_national_id("LOPA800101HDFRRN09"), "••••••RN09");
        assert_eq!(mask_national_id("12.345.678-9"), "••••••6789");
        assert_eq!(mask_national_id("123"), "••••••");
    }
}
