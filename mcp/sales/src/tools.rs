//! The tool arguments (JSON schemas the client's model fills in) and how each becomes a [`Plan`].

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::query::{Grouping, Intent, Metric, Order, Period, Plan, Selection, Series, Status};

/// Which campaigns and days count. Every filter is optional; with none, every campaign visible
/// to your token over all days. (Flattened into the tools' arguments, so serde cannot also deny
/// unknown fields here: it would refuse the tools' own fields.)
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Filters {
    /// Campaigns by id or by name (names are matched to the live catalogue; an ambiguous or
    /// unknown name is refused with the candidates). Example: `["Verano Fresco 2025"]`.
    #[serde(default)]
    pub campaigns: Vec<String>,
    /// Brand id or name.
    pub brand: Option<String>,
    /// Campaign status.
    pub status: Option<Status>,
    /// Channel code or name (e.g. `instagram`): campaigns on it, and only its results.
    pub channel: Option<String>,
    /// Market code (e.g. `MX`): campaigns in it, and only its results.
    pub market: Option<String>,
    /// ISO country code or name (e.g. `MX`, `México`): only results in its markets.
    pub country: Option<String>,
    /// First day counted (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    /// Last day counted (YYYY-MM-DD).
    pub to: Option<NaiveDate>,
    /// Language of the sentence in the answer: `es` or `en` (default `en`).
    pub language: Option<String>,
}

/// The period the filters name: `from` alone runs to `today`, `to` alone from 2000-01-01.
pub fn period(from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> Result<Option<Period>, String> {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date");
    let (f, t) = match (from, to) {
        (None, None) => return Ok(None),
        (f, t) => (f.unwrap_or(epoch), t.unwrap_or(today)),
    };
    if t < f {
        return Err(format!("the period ends ({t}) before it starts ({f})"));
    }
    Ok(Some(Period::new(f, t)))
}

/// `campaign_performance`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PerformanceArgs {
    #[serde(flatten)]
    pub filters: Filters,
    /// Metrics to report (default: reach, success_rate, sales, revenue, cost, roi, likes, views).
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// A daily or monthly series of the totals.
    pub series: Option<Series>,
    /// A breakdown by campaign, channel or market.
    pub group_by: Option<Grouping>,
}

/// `top_campaigns`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RankingArgs {
    #[serde(flatten)]
    pub filters: Filters,
    /// The metric to rank by.
    pub metric: Metric,
    /// `top` (best first; for cost metrics, lowest first) or `bottom` (worst first). Default `top`.
    #[serde(default)]
    pub order: Order,
    /// How many (1–100, default 5).
    pub limit: Option<u32>,
    /// What to rank: `campaign` (default), `channel` or `market`.
    pub rank: Option<Grouping>,
}

/// `compare`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareArgs {
    /// Side A: filters (campaigns, period…).
    pub a: Filters,
    /// Side B: only what differs from A (e.g. another campaign, or another `from`/`to`).
    pub b: Filters,
    /// Metrics to compare (default: the usual set).
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

/// `trend`, `best_weekday`, `channel_mix`, `cost_per_sale`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FocusArgs {
    #[serde(flatten)]
    pub filters: Filters,
    /// The metric (trend and best_weekday; default revenue).
    pub metric: Option<Metric>,
}

/// `sentiment_report`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentimentArgs {
    /// Campaigns by id or name; default all visible.
    #[serde(default)]
    pub campaigns: Vec<String>,
    /// First day of the recent window (default: 14 days before today).
    pub since: Option<NaiveDate>,
    /// Most ads listed (1–100, default 20).
    pub limit: Option<u32>,
    /// Language of the sentence: `es` or `en`.
    pub language: Option<String>,
}

/// `ask`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskArgs {
    /// The question, in Spanish or English. Example: "¿Cuál fue el alcance y el porcentaje de
    /// éxito de la campaña Verano Fresco en diciembre?"
    pub question: String,
}

/// Most campaigns a call may name (each is one aliased field of one GraphQL operation).
pub const MAX_CAMPAIGNS: usize = 20;

/// A plan whose selection still names campaigns, brands… as the caller wrote them.
pub fn base_plan(intent: Intent, filters: &Filters, today: NaiveDate) -> Result<Plan, String> {
    if filters.campaigns.len() > MAX_CAMPAIGNS {
        return Err(format!(
            "at most {MAX_CAMPAIGNS} campaigns by name or id; use filters for more"
        ));
    }
    let mut plan = Plan::new(intent);
    plan.period = period(filters.from, filters.to, today)?;
    plan.selection = Selection {
        campaigns: filters.campaigns.clone(),
        brand: filters.brand.clone(),
        status: filters.status,
        channel: filters.channel.clone(),
        market: filters.market.clone(),
        country: filters.country.clone(),
    };
    Ok(plan)
}

/// B's selection and period: A's, with what B sets replacing them.
pub fn other_side(a: &Filters, b: &Filters) -> Filters {
    Filters {
        campaigns: if b.campaigns.is_empty() {
            a.campaigns.clone()
        } else {
            b.campaigns.clone()
        },
        brand: b.brand.clone().or_else(|| a.brand.clone()),
        status: b.status.or(a.status),
        channel: b.channel.clone().or_else(|| a.channel.clone()),
        market: b.market.clone().or_else(|| a.market.clone()),
        country: b.country.clone().or_else(|| a.country.clone()),
        from: b.from.or(a.from),
        to: b.to.or(a.to),
        language: a.language.clone(),
    }
}
