//! What callers hand the store: list filters, keyset positions, and a campaign to create; and the
//! ways a write can be refused.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::StoreError;

/// Filters of the campaign list; `None` leaves a criterion out.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Lowercase status (`active` …).
    pub status: Option<String>,
    pub brand_id: Option<Uuid>,
    /// Channel code (lowercase): campaigns running on that channel.
    pub channel: Option<String>,
    /// Market code (uppercase): campaigns targeting that market.
    pub market: Option<String>,
    /// Starts at or after this time.
    pub started_after: Option<DateTime<Utc>>,
    /// Starts before this time.
    pub started_before: Option<DateTime<Utc>>,
    /// Text the name contains, case-insensitively.
    pub search: Option<String>,
}

impl CampaignFilter {
    /// The search text as a LIKE pattern (`%text%`) whose own `%`, `_`, `[` and `\` match
    /// literally under `ESCAPE '\'` in both dialects.
    pub fn search_pattern(&self) -> Option<String> {
        self.search.as_ref().map(|s| {
            let mut p = String::with_capacity(s.len() + 2);
            p.push('%');
            for c in s.chars() {
                if matches!(c, '%' | '_' | '[' | '\\') {
                    p.push('\\');
                }
                p.push(c);
            }
            p.push('%');
            p
        })
    }
}

/// Keyset position in the campaign list (newest start first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByStart {
    pub starts_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Keyset position in an `…UpdatedSince` list: the last row's `updated_at` and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByUpdate<K> {
    pub updated_at: DateTime<Utc>,
    pub key: K,
}

/// Keyset position in the negative-sentiment list (most negative first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByPolarity {
    pub polarity: Decimal,
    pub ad_id: Uuid,
}

/// Keyset position in the influencer list (most followed first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByFollowers {
    pub followers: i64,
    pub id: Uuid,
}

/// Inclusive range of calendar days; an open end is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DayRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// A campaign to create with its channels, markets and ads, in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    /// Id of the new campaign (from the application); unused when the key replays an earlier one.
    pub id: Uuid,
    pub brand_id: Uuid,
    pub product_id: Option<Uuid>,
    pub name: String,
    pub description: Option<String>,
    /// Lowercase objective (`awareness` …).
    pub objective: String,
    pub budget: Decimal,
    pub currency: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
    pub created_by: Option<Uuid>,
    pub channels: Vec<NewChannel>,
    /// Market codes (uppercase).
    pub markets: Vec<String>,
    pub ads: Vec<NewAd>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewChannel {
    /// Channel code (lowercase).
    pub code: String,
    pub budget_share: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAd {
    pub id: Uuid,
    pub name: String,
    /// Lowercase format (`image` …).
    pub format: String,
    pub headline: Option<String>,
    pub body: Option<String>,
    pub call_to_action: Option<String>,
    pub landing_url: Option<String>,
    pub content_image_id: Option<Uuid>,
}

/// A campaign just created, or found again by its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub campaign: super::Campaign,
    /// True when the idempotency key named an earlier, identical request.
    pub replayed: bool,
}

/// Input that broke a rule: the field (relative to the input, e.g. `budget`, `channels`), the
/// rule, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub rule: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &str, rule: &str, message: impl Into<String>) -> Invalid {
        Invalid {
            field: field.to_owned(),
            rule: rule.to_owned(),
            message: message.into(),
        }
    }
}

/// Why a write did not happen. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid {}: {} ({})", .0.field, .0.message, .0.rule)]
    Invalid(Invalid),
    /// A stale version, or an idempotency key reused for a different request.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Campaign status changes `updateCampaignStatus` allows (enforced by the stored procedures; the
/// same table is in both migrations):
///
/// | from      | to                             |
/// |-----------|--------------------------------|
/// | draft     | scheduled, cancelled           |
/// | scheduled | active, cancelled              |
/// | active    | paused, finished               |
/// | paused    | active, finished, cancelled    |
/// | finished  | — (final)                      |
/// | cancelled | — (final)                      |
pub const STATUS_TRANSITIONS: &[(&str, &str)] = &[
    ("draft", "scheduled"),
    ("draft", "cancelled"),
    ("scheduled", "active"),
    ("scheduled", "cancelled"),
    ("active", "paused"),
    ("active", "finished"),
    ("paused", "active"),
    ("paused", "finished"),
    ("paused", "cancelled"),
];

/// Most channels, markets and ads one create may carry (keeps the SQL Server batch far below its
/// 2,100-parameter limit).
pub const MAX_CHANNELS: usize = 20;
pub const MAX_MARKETS: usize = 50;
pub const MAX_ADS: usize = 100;

/// Checks what the transport itself would otherwise trip over before the procedure could judge
/// it: the SQL Server table types (`ads.CampaignChannelList` …) reject duplicate keys, shares
/// outside (0, 1] and over-long text with engine errors rather than the procedure's named rules,
/// and `DECIMAL(5,4)` would round a finer share silently. Both adapters run it, so both engines
/// refuse the same input the same way; every other rule is the procedure's.
pub fn precheck(input: &NewCampaign) -> Result<(), Invalid> {
    let too_many = |field: &str, max: usize| Invalid::new(field, "max_items", format!("at most {max} items"));
    if input.channels.len() > MAX_CHANNELS {
        return Err(too_many("channels", MAX_CHANNELS));
    }
    if input.markets.len() > MAX_MARKETS {
        return Err(too_many("markets", MAX_MARKETS));
    }
    if input.ads.len() > MAX_ADS {
        return Err(too_many("ads", MAX_ADS));
    }
    for (i, c) in input.channels.iter().enumerate() {
        if input.channels[..i].iter().any(|o| o.code == c.code) {
            return Err(Invalid::new(
                "channels",
                "duplicate_code",
                format!("channel {} is listed twice", c.code),
            ));
        }
        if c.code.chars().count() > 40 {
            return Err(Invalid::new(
                "channels",
                "unknown_code",
                format!("unknown channel code {}", c.code),
            ));
        }
        if c.budget_share <= Decimal::ZERO || c.budget_share > Decimal::ONE {
            return Err(Invalid::new(
                "channels.budgetShare",
                "range",
                "a budget share is a fraction in (0, 1]",
            ));
        }
        if c.budget_share.normalize().scale() > 4 {
            return Err(Invalid::new(
                "channels.budgetShare",
                "scale",
                "a budget share has at most 4 decimals",
            ));
        }
    }
    for (i, m) in input.markets.iter().enumerate() {
        if input.markets[..i].contains(m) {
            return Err(Invalid::new(
                "markets",
                "duplicate_code",
                format!("market {m} is listed twice"),
            ));
        }
        if m.chars().count() > 8 {
            return Err(Invalid::new(
                "markets",
                "unknown_code",
                format!("unknown market code {m}"),
            ));
        }
    }
    let long = |field: &str, max: usize| Invalid::new(field, "max_length", format!("at most {max} characters"));
    // NVARCHAR(n) holds n UTF-16 code units, so that is what is counted.
    let units = |s: &str| s.encode_utf16().count();
    for ad in &input.ads {
        let over = |s: &Option<String>, max: usize| s.as_deref().is_some_and(|s| units(s) > max);
        if units(&ad.name) > 200 {
            return Err(long("ads.name", 200));
        }
        if over(&ad.headline, 200) {
            return Err(long("ads.headline", 200));
        }
        if over(&ad.body, 2000) {
            return Err(long("ads.body", 2000));
        }
        if over(&ad.call_to_action, 60) {
            return Err(long("ads.callToAction", 60));
        }
        if over(&ad.landing_url, 2000) {
            return Err(long("ads.landingUrl", 2000));
        }
        if ad.format.chars().count() > 16 {
            return Err(Invalid::new(
                "ads.format",
                "enum",
                format!("unknown ad format {}", ad.format),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewCampaign {
        NewCampaign {
            id: Uuid::nil(),
            brand_id: Uuid::nil(),
            product_id: None,
            name: "n".into(),
            description: None,
            objective: "sales".into(),
            budget: Decimal::ONE_HUNDRED,
            currency: "USD".into(),
            starts_at: DateTime::UNIX_EPOCH,
            ends_at: DateTime::UNIX_EPOCH,
            idempotency_key: None,
            created_by: None,
            channels: vec![NewChannel {
                code: "email".into(),
                budget_share: Decimal::new(5, 1),
            }],
            markets: vec!["MX".into()],
            ads: vec![],
        }
    }

    #[test]
    fn should_refuse_what_the_table_types_would_reject_with_named_rules() {
        assert_eq!(precheck(&input()), Ok(()));
        let mut twice = input();
        twice.channels.push(twice.channels[0].clone());
        assert_eq!(precheck(&twice).expect_err("duplicate").rule, "duplicate_code");
        let mut fine = input();
        fine.channels[0].budget_share = Decimal::new(12345, 5);
        assert_eq!(precheck(&fine).expect_err("scale").rule, "scale");
        let mut zero = input();
        zero.channels[0].budget_share = Decimal::ZERO;
        assert_eq!(precheck(&zero).expect_err("range").field, "channels.budgetShare");
    }

    #[test]
    fn should_escape_like_wildcards_in_searches() {
        let filter = CampaignFilter {
            search: Some("50%_off[\\".into()),
            ..CampaignFilter::default()
        };
        assert_eq!(filter.search_pattern().as_deref(), Some("%50\\%\\_off\\[\\\\%"));
    }

    #[test]
    fn should_keep_the_documented_status_transitions() {
        let from = |s: &str| -> Vec<&str> {
            STATUS_TRANSITIONS
                .iter()
                .filter(|(f, _)| *f == s)
                .map(|(_, t)| *t)
                .collect()
        };
        assert_eq!(from("active"), ["paused", "finished"]);
        assert!(from("finished").is_empty() && from("cancelled").is_empty());
    }
}
