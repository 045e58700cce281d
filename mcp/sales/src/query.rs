//! The structured query every tool answers: what to measure, over which campaigns and days, and
//! how to group or rank. The typed tools fill it from their arguments; `ask` from a question.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A measure of campaign results. Counts and money come from the ads' daily results over the
/// chosen days; the rest is derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// People reached (sum of each day's distinct people reached).
    Reach,
    /// Impressions.
    Views,
    /// Clicks, likes, comments, shares.
    Interactions,
    /// Likes.
    Likes,
    /// Sales attributed to the ads (count).
    Sales,
    /// Attributed revenue in USD (the amount sold).
    Revenue,
    /// Spend in USD.
    Cost,
    /// (revenue − cost) / cost.
    Roi,
    /// Success rate: sales ÷ people reached, as a percentage.
    SuccessRate,
    /// Cost ÷ sales, in USD.
    CostPerSale,
    /// Interactions ÷ views, as a percentage.
    EngagementRate,
}

impl Metric {
    pub const ALL: [Metric; 11] = [
        Metric::Reach,
        Metric::Views,
        Metric::Interactions,
        Metric::Likes,
        Metric::Sales,
        Metric::Revenue,
        Metric::Cost,
        Metric::Roi,
        Metric::SuccessRate,
        Metric::CostPerSale,
        Metric::EngagementRate,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Metric::Reach => "reach",
            Metric::Views => "views",
            Metric::Interactions => "interactions",
            Metric::Likes => "likes",
            Metric::Sales => "sales",
            Metric::Revenue => "revenue",
            Metric::Cost => "cost",
            Metric::Roi => "roi",
            Metric::SuccessRate => "success_rate",
            Metric::CostPerSale => "cost_per_sale",
            Metric::EngagementRate => "engagement_rate",
        }
    }

    /// Whether less is better (ranking "best" by it sorts ascending).
    pub fn lower_is_better(self) -> bool {
        matches!(self, Metric::Cost | Metric::CostPerSale)
    }
}

/// How results are broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    Campaign,
    Channel,
    Market,
    Day,
    Month,
    /// Day of the week (Monday … Sunday), summed over the period.
    Weekday,
}

/// A time series of the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    Daily,
    Monthly,
}

/// Days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Period {
    /// First day (YYYY-MM-DD).
    pub from: NaiveDate,
    /// Last day (YYYY-MM-DD), not before `from`.
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Period {
        Period { from, to }
    }
}

/// Campaign status, as the graph names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Draft,
    Scheduled,
    Active,
    Paused,
    Finished,
    Cancelled,
}

impl Status {
    pub fn graphql(self) -> &'static str {
        match self {
            Status::Draft => "DRAFT",
            Status::Scheduled => "SCHEDULED",
            Status::Active => "ACTIVE",
            Status::Paused => "PAUSED",
            Status::Finished => "FINISHED",
            Status::Cancelled => "CANCELLED",
        }
    }
}

/// Which campaigns, and which part of their results, count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Selection {
    /// Campaign ids; empty: every campaign visible to the caller that meets the other filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<String>,
    /// Brand id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Channel code (e.g. `instagram`): campaigns on that channel, and only that channel's results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Market code (e.g. `mx-cdmx`): campaigns in that market, and only that market's results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    /// ISO country code (e.g. `MX`): only results in that country's markets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// What is asked of the selected results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Totals (and optionally a breakdown or a series).
    Performance,
    /// Campaigns, channels or markets ordered by a metric.
    Ranking,
    /// Two campaigns, or two periods, side by side.
    Compare,
    /// How a metric moved over the period.
    Trend,
    /// Which day of the week performs best.
    BestWeekday,
    /// Share of spend, revenue and sales per channel.
    ChannelMix,
    /// Ads whose audience turned negative.
    Sentiment,
}

/// Top (best first) or bottom (worst first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    #[default]
    Top,
    Bottom,
}

/// The structured query: the typed tools fill it from their arguments, `ask` from a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    pub intent: Intent,
    /// Metrics to report; the first is the one rankings, trends and comparisons are about.
    pub metrics: Vec<Metric>,
    pub selection: Selection,
    /// Days counted; all days with results when absent.
    pub period: Option<Period>,
    /// Breakdown (performance) or what is ranked (ranking: campaign, channel or market).
    pub group_by: Option<Grouping>,
    pub series: Option<Series>,
    pub order: Order,
    /// How many ranked entries (default 5).
    pub limit: Option<u32>,
    /// Compare: the second campaign set (when comparing campaigns).
    pub other_selection: Option<Selection>,
    /// Compare: the second period (when comparing periods).
    pub other_period: Option<Period>,
}

impl Plan {
    pub fn new(intent: Intent) -> Plan {
        Plan {
            intent,
            metrics: Vec::new(),
            selection: Selection::default(),
            period: None,
            group_by: None,
            series: None,
            order: Order::Top,
            limit: None,
            other_selection: None,
            other_period: None,
        }
    }

    /// The metric rankings, trends and comparisons are about.
    pub fn main_metric(&self) -> Metric {
        self.metrics.first().copied().unwrap_or(Metric::Revenue)
    }
}
