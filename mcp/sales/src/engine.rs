//! Runs a [`Plan`] against the graph and shapes the numbers of the answer. Every number comes
//! from `Campaign.results` (or `negativeSentimentAds`) through the gateway, as the caller.

use chrono::{Datelike, NaiveDate, Weekday};
use promptsales_mcp_kit::{Caller, GatewayClient, GatewayError};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{
    query::{Grouping, Intent, Metric, Order, Period, Plan, Selection, Series},
    results::{self, Breakdowns, CampaignResults, Ran, Totals},
};

/// The metrics reported when none is asked for.
pub const DEFAULT_METRICS: [Metric; 8] = [
    Metric::Reach,
    Metric::SuccessRate,
    Metric::Sales,
    Metric::Revenue,
    Metric::Cost,
    Metric::Roi,
    Metric::Likes,
    Metric::Views,
];

/// The numbers of an answer and the operations that produced them.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub answer: Value,
    pub ran: Vec<Ran>,
}

fn metrics_of(plan: &Plan) -> Vec<Metric> {
    if plan.metrics.is_empty() {
        DEFAULT_METRICS.to_vec()
    } else {
        plan.metrics.clone()
    }
}

fn period_json(p: Option<Period>) -> Value {
    p.map_or(Value::Null, |p| json!({ "from": p.from, "to": p.to }))
}

/// Runs `plan` as `caller`.
pub async fn run(gateway: &GatewayClient, caller: &Caller, plan: &Plan) -> Result<Outcome, GatewayError> {
    let mut ran = Vec::new();
    let metrics = metrics_of(plan);
    let mut notes: Vec<String> = Vec::new();
    let mut answer = json!({
        "intent": plan.intent,
        "period": period_json(plan.period),
        "metrics": metrics.iter().map(|m| m.key()).collect::<Vec<_>>(),
    });
    if plan.selection.channel.is_some() && (plan.selection.market.is_some() || plan.selection.country.is_some()) {
        notes.push(
            "results are kept per market or per channel, not both: the numbers are those of the market(s); \
             the channel only selects the campaigns"
                .into(),
        );
    }
    match plan.intent {
        Intent::Sentiment => {
            answer["sentiment"] = sentiment(gateway, caller, plan, &mut ran).await?;
        }
        Intent::Compare => {
            let other_sel = plan.other_selection.clone().unwrap_or_else(|| plan.selection.clone());
            let other_period = plan.other_period.or(plan.period);
            let a = results::fetch(
                gateway,
                caller,
                &plan.selection,
                plan.period,
                Breakdowns::default(),
                &mut ran,
            )
            .await?;
            let b = results::fetch(
                gateway,
                caller,
                &other_sel,
                other_period,
                Breakdowns::default(),
                &mut ran,
            )
            .await?;
            let (ta, tb) = (results::total(&a), results::total(&b));
            let mut change = serde_json::Map::new();
            for &m in &metrics {
                let (va, vb) = (ta.value(m), tb.value(m));
                let diff = match (va, vb) {
                    (Some(x), Some(y)) => json!({
                        "difference": (y - x).normalize().to_string(),
                        "percent": (!x.is_zero()).then(|| ((y - x) / x * Decimal::ONE_HUNDRED).round_dp(2).normalize().to_string()),
                    }),
                    _ => Value::Null,
                };
                change.insert(m.key().into(), diff);
            }
            answer["comparison"] = json!({
                "a": side(&a, &ta, &metrics, plan.period),
                "b": side(&b, &tb, &metrics, other_period),
                "change_b_vs_a": change,
            });
        }
        _ => {
            let group = plan.group_by;
            let breakdowns = Breakdowns {
                daily: plan.series.is_some()
                    || matches!(plan.intent, Intent::Trend | Intent::BestWeekday)
                    || matches!(group, Some(Grouping::Day | Grouping::Month | Grouping::Weekday)),
                by_channel: matches!(plan.intent, Intent::ChannelMix) || group == Some(Grouping::Channel),
                by_market: group == Some(Grouping::Market),
            };
            let campaigns = results::fetch(gateway, caller, &plan.selection, plan.period, breakdowns, &mut ran).await?;
            let totals = results::total(&campaigns);
            answer["campaign_count"] = json!(campaigns.len());
            answer["totals"] = totals.json(&metrics);
            if breakdowns.daily
                && (plan.selection.market.is_some()
                    || plan.selection.country.is_some()
                    || plan.selection.channel.is_some())
            {
                notes.push("day-by-day results are per campaign, not per market or channel: the series covers all of the selected campaigns' markets and channels".into());
            }
            match plan.intent {
                Intent::Ranking => answer["ranking"] = ranking(&campaigns, plan, &metrics),
                Intent::Trend => answer["trend"] = trend(&campaigns, plan),
                Intent::BestWeekday => answer["weekdays"] = weekdays(&campaigns, plan.main_metric()),
                Intent::ChannelMix => answer["channel_mix"] = channel_mix(&campaigns),
                _ => {
                    if let Some(g) = group {
                        answer["breakdown"] = breakdown(&campaigns, g, &plan.selection, &metrics);
                    }
                }
            }
            if let Some(series) = plan.series.filter(|_| plan.intent != Intent::Trend) {
                answer["series"] = series_json(&campaigns, series, &metrics);
            }
            if campaigns.is_empty() {
                notes.push("no campaign visible to you matches these criteria".into());
            }
        }
    }
    answer["notes"] = json!(notes);
    Ok(Outcome { answer, ran })
}

fn side(campaigns: &[CampaignResults], totals: &Totals, metrics: &[Metric], period: Option<Period>) -> Value {
    json!({
        "campaigns": campaigns.iter().map(|c| json!({ "id": c.id, "name": c.name })).collect::<Vec<_>>(),
        "period": period_json(period),
        "totals": totals.json(metrics),
    })
}

/// Entries ordered by the main metric (undefined values left out).
fn ranking(campaigns: &[CampaignResults], plan: &Plan, metrics: &[Metric]) -> Value {
    let metric = plan.main_metric();
    let entries: Vec<(String, String, Totals)> = match plan.group_by.unwrap_or(Grouping::Campaign) {
        Grouping::Channel => results::by_channel(campaigns)
            .into_iter()
            .map(|(k, (n, t))| (k, n, t))
            .collect(),
        Grouping::Market => results::by_market(campaigns, &plan.selection)
            .into_iter()
            .map(|(k, (n, t))| (k, n, t))
            .collect(),
        _ => campaigns
            .iter()
            .filter(|c| !c.totals.is_empty())
            .map(|c| (c.id.clone(), c.name.clone(), c.totals))
            .collect(),
    };
    let mut valued: Vec<(Decimal, String, String, Totals)> = entries
        .into_iter()
        .filter_map(|(k, n, t)| t.value(metric).map(|v| (v, k, n, t)))
        .collect();
    // "Top" means best: highest first, or lowest first for costs.
    let best_first_desc = !metric.lower_is_better();
    let desc = match plan.order {
        Order::Top => best_first_desc,
        Order::Bottom => !best_first_desc,
    };
    valued.sort_by(|a, b| {
        let o = a.0.cmp(&b.0).then_with(|| b.2.cmp(&a.2));
        if desc { o.reverse() } else { o }
    });
    let limit = plan.limit.unwrap_or(5).clamp(1, 100) as usize;
    Value::Array(
        valued
            .into_iter()
            .take(limit)
            .enumerate()
            .map(|(i, (v, k, n, t))| {
                json!({ "rank": i + 1, "key": k, "name": n, "value": v.normalize().to_string(), "metrics": t.json(metrics) })
            })
            .collect(),
    )
}

fn breakdown(campaigns: &[CampaignResults], group: Grouping, selection: &Selection, metrics: &[Metric]) -> Value {
    let rows: Vec<Value> = match group {
        Grouping::Channel => results::by_channel(campaigns)
            .into_iter()
            .map(|(k, (n, t))| json!({ "key": k, "name": n, "metrics": t.json(metrics) }))
            .collect(),
        Grouping::Market => results::by_market(campaigns, selection)
            .into_iter()
            .map(|(k, (n, t))| json!({ "key": k, "name": n, "metrics": t.json(metrics) }))
            .collect(),
        Grouping::Campaign => campaigns
            .iter()
            .map(|c| json!({ "key": c.id, "name": c.name, "metrics": c.totals.json(metrics) }))
            .collect(),
        Grouping::Day => return series_json(campaigns, Series::Daily, metrics),
        Grouping::Month => return series_json(campaigns, Series::Monthly, metrics),
        Grouping::Weekday => return weekdays(campaigns, metrics.first().copied().unwrap_or(Metric::Revenue)),
    };
    Value::Array(rows)
}

fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

fn buckets(campaigns: &[CampaignResults], series: Series) -> Vec<(String, Totals)> {
    let days = results::daily(campaigns);
    match series {
        Series::Daily => days.into_iter().map(|(d, t)| (d.to_string(), t)).collect(),
        Series::Monthly => {
            let mut out: Vec<(String, Totals)> = Vec::new();
            for (d, t) in days {
                let m = month_of(d);
                match out.last_mut() {
                    Some((last, acc)) if *last == m => acc.add(&t),
                    _ => out.push((m, t)),
                }
            }
            out
        }
    }
}

fn series_json(campaigns: &[CampaignResults], series: Series, metrics: &[Metric]) -> Value {
    Value::Array(
        buckets(campaigns, series)
            .into_iter()
            .map(|(p, t)| json!({ "period": p, "metrics": t.json(metrics) }))
            .collect(),
    )
}

/// Direction of the main metric: monthly buckets (daily for periods up to two months), the
/// average of the second half against the first.
fn trend(campaigns: &[CampaignResults], plan: &Plan) -> Value {
    let metric = plan.main_metric();
    let short = plan.period.is_some_and(|p| (p.to - p.from).num_days() <= 62);
    let series = plan
        .series
        .unwrap_or(if short { Series::Daily } else { Series::Monthly });
    let points: Vec<(String, Decimal)> = buckets(campaigns, series)
        .into_iter()
        .filter_map(|(p, t)| t.value(metric).map(|v| (p, v)))
        .collect();
    let half = points.len() / 2;
    let avg = |xs: &[(String, Decimal)]| {
        (!xs.is_empty()).then(|| xs.iter().map(|(_, v)| *v).sum::<Decimal>() / Decimal::from(xs.len()))
    };
    let (first, second) = (avg(&points[..half]), avg(&points[half..]));
    let change = match (first, second) {
        (Some(a), Some(b)) if !a.is_zero() => Some(((b - a) / a * Decimal::ONE_HUNDRED).round_dp(2)),
        _ => None,
    };
    let direction = match change {
        None => "unknown",
        Some(c) if c > Decimal::new(5, 0) => "up",
        Some(c) if c < Decimal::new(-5, 0) => "down",
        Some(_) => "flat",
    };
    json!({
        "metric": metric.key(),
        "granularity": series,
        "direction": direction,
        "change_percent_second_half_vs_first": change.map(|c| c.normalize().to_string()),
        "points": points.iter().map(|(p, v)| json!({ "period": p, "value": v.normalize().to_string() })).collect::<Vec<_>>(),
    })
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// The main metric per day of the week: its value over all those days, and per day with
/// results (so a weekday that occurs more often in the period is not favoured).
fn weekdays(campaigns: &[CampaignResults], metric: Metric) -> Value {
    let days = results::daily(campaigns);
    let mut rows = Vec::new();
    let mut best: Option<(Decimal, Weekday)> = None;
    for wd in WEEKDAYS {
        let mut t = Totals::default();
        let mut n = 0u32;
        for (d, dt) in &days {
            if d.weekday() == wd {
                t.add(dt);
                n += 1;
            }
        }
        let value = t.value(metric);
        // Counts and money are averaged per day; ratios are already per unit.
        let per_day = match metric {
            Metric::Roi | Metric::SuccessRate | Metric::CostPerSale | Metric::EngagementRate => value,
            _ => value.filter(|_| n > 0).map(|v| (v / Decimal::from(n)).round_dp(2)),
        };
        if let Some(v) = per_day
            && best.is_none_or(|(b, _)| if metric.lower_is_better() { v < b } else { v > b })
        {
            best = Some((v, wd));
        }
        rows.push(json!({
            "weekday": format!("{wd:?}"),
            "days": n,
            "value": value.map(|v| v.normalize().to_string()),
            "per_day": per_day.map(|v| v.normalize().to_string()),
        }));
    }
    json!({ "metric": metric.key(), "best": best.map(|(_, wd)| format!("{wd:?}")), "days": rows })
}

/// Per channel: share of cost, revenue and sales, and its ROI.
fn channel_mix(campaigns: &[CampaignResults]) -> Value {
    let channels = results::by_channel(campaigns);
    let mut all = Totals::default();
    for (_, t) in channels.values() {
        all.add(t);
    }
    let share = |part: Decimal, whole: Decimal| {
        (!whole.is_zero()).then(|| {
            (part / whole * Decimal::ONE_HUNDRED)
                .round_dp(2)
                .normalize()
                .to_string()
        })
    };
    let mut rows: Vec<(Decimal, Value)> = channels
        .into_iter()
        .map(|(code, (name, t))| {
            (
                t.cost,
                json!({
                    "key": code, "name": name,
                    "cost_share": share(t.cost, all.cost),
                    "revenue_share": share(t.revenue, all.revenue),
                    "sales_share": share(t.sales.into(), all.sales.into()),
                    "metrics": t.json(&[Metric::Cost, Metric::Revenue, Metric::Sales, Metric::Roi, Metric::CostPerSale]),
                }),
            )
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    Value::Array(rows.into_iter().map(|(_, v)| v).collect())
}

pub const SENTIMENT_QUERY: &str = "query McpNegativeSentiment($since: Date, $first: Int!, $after: String) {
  negativeSentimentAds(since: $since, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ad { id name }
      campaign { id name }
      polaritySince polarityBefore positiveMentions neutralMentions negativeMentions
      dominantNegativeType influencerReactionDrop
    }
  }
}";

/// The negative-sentiment report of the ads subgraph, kept to the selected campaigns.
async fn sentiment(
    gateway: &GatewayClient,
    caller: &Caller,
    plan: &Plan,
    ran: &mut Vec<Ran>,
) -> Result<Value, GatewayError> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    let limit = plan.limit.unwrap_or(20).clamp(1, 100) as usize;
    for _ in 0..20 {
        let vars = json!({ "since": plan.period.map(|p| p.from.to_string()), "first": 100, "after": after });
        let response = gateway.execute(caller, SENTIMENT_QUERY, vars.clone()).await?;
        if ran.is_empty() {
            ran.push(Ran {
                query: SENTIMENT_QUERY.into(),
                variables: vars,
            });
        }
        let page = &response.data["negativeSentimentAds"];
        for node in page["nodes"].as_array().into_iter().flatten() {
            let campaign = node["campaign"]["id"].as_str().unwrap_or_default();
            if plan.selection.campaigns.is_empty() || plan.selection.campaigns.iter().any(|c| c == campaign) {
                rows.push(node.clone());
            }
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if rows.len() >= limit || !page["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false) || after.is_none() {
            break;
        }
    }
    rows.truncate(limit);
    Ok(Value::Array(rows))
}
