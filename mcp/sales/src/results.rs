//! Campaign results from the graph: one GraphQL operation per page of campaigns (or one for
//! named campaigns), `Campaign.results(from, to)` of the ads subgraph with the breakdowns the
//! question needs. Every operation run is kept, so the answer can show the GraphQL it ran.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use promptsales_mcp_kit::{Caller, GatewayClient, GatewayError};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::query::{Metric, Period, Selection};

/// Sums of results (what `CampaignResultTotals` holds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub views: i64,
    pub interactions: i64,
    pub likes: i64,
    pub sales: i64,
    pub reach: i64,
    pub exposure_hours: Decimal,
    pub cost: Decimal,
    pub revenue: Decimal,
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap_or_default(),
        Value::Number(n) => n.to_string().parse().unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

impl Totals {
    pub fn from_json(v: &Value) -> Totals {
        Totals {
            views: v["views"].as_i64().unwrap_or(0),
            interactions: v["interactions"].as_i64().unwrap_or(0),
            likes: v["likes"].as_i64().unwrap_or(0),
            sales: v["sales"].as_i64().unwrap_or(0),
            reach: v["reach"].as_i64().unwrap_or(0),
            exposure_hours: dec(&v["exposureHours"]),
            cost: dec(&v["cost"]),
            revenue: dec(&v["revenue"]),
        }
    }

    pub fn add(&mut self, o: &Totals) {
        self.views += o.views;
        self.interactions += o.interactions;
        self.likes += o.likes;
        self.sales += o.sales;
        self.reach += o.reach;
        self.exposure_hours += o.exposure_hours;
        self.cost += o.cost;
        self.revenue += o.revenue;
    }

    pub fn is_empty(&self) -> bool {
        self.views == 0 && self.reach == 0 && self.cost.is_zero() && self.revenue.is_zero() && self.sales == 0
    }

    /// The value of `metric`; `None` when it is undefined (a ratio over zero).
    pub fn value(&self, metric: Metric) -> Option<Decimal> {
        let ratio = |num: Decimal, den: Decimal, scale: u32| (!den.is_zero()).then(|| (num / den).round_dp(scale));
        match metric {
            Metric::Reach => Some(self.reach.into()),
            Metric::Views => Some(self.views.into()),
            Metric::Interactions => Some(self.interactions.into()),
            Metric::Likes => Some(self.likes.into()),
            Metric::Sales => Some(self.sales.into()),
            Metric::Revenue => Some(self.revenue),
            Metric::Cost => Some(self.cost),
            Metric::Roi => ratio(self.revenue - self.cost, self.cost, 4),
            Metric::SuccessRate => ratio(Decimal::from(self.sales) * Decimal::ONE_HUNDRED, self.reach.into(), 4),
            Metric::CostPerSale => ratio(self.cost, self.sales.into(), 2),
            Metric::EngagementRate => ratio(
                Decimal::from(self.interactions) * Decimal::ONE_HUNDRED,
                self.views.into(),
                4,
            ),
        }
    }

    /// `{metric: value}` for `metrics`: counts as integers, money and ratios as decimal strings
    /// (like the graph's `Decimal`), undefined ratios as null.
    pub fn json(&self, metrics: &[Metric]) -> Value {
        let mut map = serde_json::Map::new();
        for &m in metrics {
            let v = match m {
                Metric::Reach => json!(self.reach),
                Metric::Views => json!(self.views),
                Metric::Interactions => json!(self.interactions),
                Metric::Likes => json!(self.likes),
                Metric::Sales => json!(self.sales),
                _ => self
                    .value(m)
                    .map_or(Value::Null, |d| Value::String(d.normalize().to_string())),
            };
            map.insert(m.key().to_owned(), v);
        }
        Value::Object(map)
    }
}

/// One campaign's results over the period.
#[derive(Debug, Clone, Default)]
pub struct CampaignResults {
    pub id: String,
    pub name: String,
    pub totals: Totals,
    pub daily: Vec<(NaiveDate, Totals)>,
    /// (channel code, channel name, totals).
    pub by_channel: Vec<(String, String, Totals)>,
    /// (market code, market name, country, totals).
    pub by_market: Vec<(String, String, String, Totals)>,
}

/// Which breakdowns to fetch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Breakdowns {
    pub daily: bool,
    pub by_channel: bool,
    pub by_market: bool,
}

/// A GraphQL operation that was run, with its variables.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ran {
    pub query: String,
    pub variables: Value,
}

const FRAGMENTS: &str = "fragment McpResults on Campaign {
  id name
  results(from: $from, to: $to) {
    totals { ...McpTotals }
    daily @include(if: $daily) { day totals { ...McpTotals } }
    byChannel @include(if: $byChannel) { channel { code name } totals { ...McpTotals } }
    byMarket @include(if: $byMarket) { market { code name countryCode } totals { ...McpTotals } }
  }
}
fragment McpTotals on CampaignResultTotals { views interactions likes sales reach exposureHours cost revenue }";

/// Campaigns meeting a filter, one page at a time.
pub fn filtered_query() -> String {
    format!(
        "query McpCampaignResults($first: Int!, $after: String, $filter: CampaignFilter, $from: Date, $to: Date, \
$daily: Boolean!, $byChannel: Boolean!, $byMarket: Boolean!) {{
  campaigns(first: $first, after: $after, filter: $filter) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ ...McpResults }}
  }}
}}
{FRAGMENTS}"
    )
}

/// Named campaigns, one alias each (`c0`, `c1`, …).
pub fn by_id_query(n: usize) -> String {
    let vars: String = (0..n).map(|i| format!("$c{i}: ID!, ")).collect();
    let fields: String = (0..n)
        .map(|i| format!("  c{i}: campaign(id: $c{i}) {{ ...McpResults }}\n"))
        .collect();
    format!(
        "query McpCampaignResultsById({vars}$from: Date, $to: Date, $daily: Boolean!, $byChannel: Boolean!, \
$byMarket: Boolean!) {{\n{fields}}}\n{FRAGMENTS}"
    )
}

fn parse_campaign(node: &Value) -> Option<CampaignResults> {
    let results = &node["results"];
    Some(CampaignResults {
        id: node["id"].as_str()?.to_owned(),
        name: node["name"].as_str().unwrap_or_default().to_owned(),
        totals: Totals::from_json(&results["totals"]),
        daily: results["daily"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| Some((d["day"].as_str()?.parse().ok()?, Totals::from_json(&d["totals"]))))
            .collect(),
        by_channel: results["byChannel"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c["channel"]["code"].as_str()?.to_owned(),
                    c["channel"]["name"].as_str().unwrap_or_default().to_owned(),
                    Totals::from_json(&c["totals"]),
                ))
            })
            .collect(),
        by_market: results["byMarket"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                Some((
                    m["market"]["code"].as_str()?.to_owned(),
                    m["market"]["name"].as_str().unwrap_or_default().to_owned(),
                    m["market"]["countryCode"].as_str().unwrap_or_default().to_owned(),
                    Totals::from_json(&m["totals"]),
                ))
            })
            .collect(),
    })
}

/// Most campaigns one answer reads (pages of 100).
const MAX_CAMPAIGNS: usize = 2_000;
const PAGE: u32 = 100;

/// Reads the results of the selected campaigns over `period` (all days when `None`).
pub async fn fetch(
    gateway: &GatewayClient,
    caller: &Caller,
    selection: &Selection,
    period: Option<Period>,
    breakdowns: Breakdowns,
    ran: &mut Vec<Ran>,
) -> Result<Vec<CampaignResults>, GatewayError> {
    let mut base = json!({
        "from": period.map(|p| p.from.to_string()),
        "to": period.map(|p| p.to.to_string()),
        "daily": breakdowns.daily,
        "byChannel": breakdowns.by_channel || selection.channel.is_some(),
        "byMarket": breakdowns.by_market || selection.market.is_some() || selection.country.is_some(),
    });
    let mut out = Vec::new();
    if !selection.campaigns.is_empty() {
        let query = by_id_query(selection.campaigns.len());
        for (i, id) in selection.campaigns.iter().enumerate() {
            base[format!("c{i}")] = json!(id);
        }
        let response = gateway.execute(caller, &query, base.clone()).await?;
        ran.push(Ran { query, variables: base });
        for i in 0..selection.campaigns.len() {
            if let Some(c) = parse_campaign(&response.data[format!("c{i}")]) {
                out.push(c);
            }
        }
    } else {
        let mut filter = serde_json::Map::new();
        if let Some(b) = &selection.brand {
            filter.insert("brandId".into(), json!(b));
        }
        if let Some(s) = selection.status {
            filter.insert("status".into(), json!(s.graphql()));
        }
        if let Some(c) = &selection.channel {
            filter.insert("channel".into(), json!(c));
        }
        if let Some(m) = &selection.market {
            filter.insert("market".into(), json!(m));
        }
        if let Some(p) = period {
            // A campaign that started after the period ends has no results in it.
            let next = p.to.succ_opt().unwrap_or(p.to);
            filter.insert("startedBefore".into(), json!(format!("{next}T00:00:00Z")));
        }
        base["filter"] = Value::Object(filter);
        base["first"] = json!(PAGE);
        let query = filtered_query();
        let mut after: Option<String> = None;
        loop {
            let mut vars = base.clone();
            vars["after"] = json!(after);
            let response = gateway.execute(caller, &query, vars.clone()).await?;
            if ran.iter().all(|r| r.query != query) {
                ran.push(Ran {
                    query: query.clone(),
                    variables: vars,
                });
            }
            let page = &response.data["campaigns"];
            out.extend(
                page["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(parse_campaign),
            );
            after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            if !page["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false)
                || after.is_none()
                || out.len() >= MAX_CAMPAIGNS
            {
                break;
            }
        }
    }
    Ok(restrict(out, selection))
}

/// Keeps only the part of each campaign's results the selection asks for: one market, a
/// country's markets, or one channel. Campaigns with nothing there are dropped.
fn restrict(campaigns: Vec<CampaignResults>, selection: &Selection) -> Vec<CampaignResults> {
    let by_market = selection.market.is_some() || selection.country.is_some();
    campaigns
        .into_iter()
        .filter_map(|mut c| {
            if by_market {
                let mut t = Totals::default();
                let mut any = false;
                for (code, _, country, totals) in &c.by_market {
                    let hit = selection
                        .market
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(code))
                        || selection
                            .country
                            .as_deref()
                            .is_some_and(|k| k.eq_ignore_ascii_case(country));
                    if hit {
                        t.add(totals);
                        any = true;
                    }
                }
                if !any {
                    return None;
                }
                c.totals = t;
            } else if let Some(channel) = &selection.channel {
                let (_, _, t) = c
                    .by_channel
                    .iter()
                    .find(|(code, _, _)| code.eq_ignore_ascii_case(channel))?;
                c.totals = *t;
            }
            Some(c)
        })
        .collect()
}

/// Sum of the campaigns' totals.
pub fn total(campaigns: &[CampaignResults]) -> Totals {
    let mut t = Totals::default();
    for c in campaigns {
        t.add(&c.totals);
    }
    t
}

/// Daily totals summed over campaigns, oldest first.
pub fn daily(campaigns: &[CampaignResults]) -> BTreeMap<NaiveDate, Totals> {
    let mut days: BTreeMap<NaiveDate, Totals> = BTreeMap::new();
    for c in campaigns {
        for (day, t) in &c.daily {
            days.entry(*day).or_default().add(t);
        }
    }
    days
}

/// Channel (or market) totals summed over campaigns: key → (name, totals).
pub fn by_channel(campaigns: &[CampaignResults]) -> BTreeMap<String, (String, Totals)> {
    let mut out: BTreeMap<String, (String, Totals)> = BTreeMap::new();
    for c in campaigns {
        for (code, name, t) in &c.by_channel {
            out.entry(code.clone())
                .or_insert_with(|| (name.clone(), Totals::default()))
                .1
                .add(t);
        }
    }
    out
}

pub fn by_market(campaigns: &[CampaignResults], selection: &Selection) -> BTreeMap<String, (String, Totals)> {
    let mut out: BTreeMap<String, (String, Totals)> = BTreeMap::new();
    for c in campaigns {
        for (code, name, country, t) in &c.by_market {
            let wanted = (selection.market.is_none() && selection.country.is_none())
                || selection
                    .market
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(code))
                || selection
                    .country
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(country));
            if wanted {
                out.entry(code.clone())
                    .or_insert_with(|| (name.clone(), Totals::default()))
                    .1
                    .add(t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_define_the_ratios_and_leave_them_null_over_zero() {
        let t = Totals {
            views: 1000,
            interactions: 50,
            sales: 5,
            reach: 400,
            cost: Decimal::new(10000, 2),
            revenue: Decimal::new(25000, 2),
            ..Totals::default()
        };
        assert_eq!(t.value(Metric::Roi), Some(Decimal::new(15, 1)));
        assert_eq!(t.value(Metric::SuccessRate), Some(Decimal::new(125, 2)));
        assert_eq!(t.value(Metric::CostPerSale), Some(Decimal::new(2000, 2)));
        assert_eq!(t.value(Metric::EngagementRate), Some(Decimal::new(5, 0)));
        assert_eq!(Totals::default().value(Metric::Roi), None);
        assert_eq!(
            t.json(&[Metric::Sales, Metric::Roi]),
            json!({ "sales": 5, "roi": "1.5" })
        );
    }
}
