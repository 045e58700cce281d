//! Campaign skeletons: who runs them, when, where, on which channels and with what budget.
//!
//! Start months follow a calendar with three peaks: December (holidays), January (new year sales
//! and resolutions) and August (back to school in Mexico and the United States, the two largest
//! markets). Counts per month are quotas (largest remainder), not samples, so the peaks hold for
//! every seed. Exactly 30% of campaigns are active at "now" (started, not ended), the others
//! finished before it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{
    central::Central,
    customers::Layout,
    reference::CHANNELS,
    rng::{self, Stream, stream},
    spec::{ACTIVE_SHARE, Ctx, LINKED_CUSTOMERS, month_end},
    words::{THEMES, ThemeDef},
};

/// Relative number of campaign starts by calendar month.
pub fn month_weight(month: u32) -> f64 {
    match month {
        12 => 2.3,
        1 | 8 => 2.1,
        11 => 1.25,
        5 => 1.1,
        2 => 0.9,
        _ => 1.0,
    }
}

#[derive(Debug)]
pub struct Campaign {
    pub index: usize,
    pub id: Uuid,
    pub org: usize,
    pub brand: usize,
    pub product: Option<usize>,
    pub name: String,
    pub description: String,
    pub objective: &'static str,
    pub active: bool,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Local calendar days with results: first and last (inclusive).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Share of the planned run already behind "now" (1 for finished campaigns).
    pub progress: f64,
    pub budget: Decimal,
    /// Spend the results add up to at most (≤ budget).
    pub spend_cents: i64,
    /// Channel indices into [`CHANNELS`] with their budget shares (sum ≤ 1).
    pub channels: Vec<(usize, Decimal)>,
    /// Market indices; the first is the primary one.
    pub markets: Vec<usize>,
    pub spanish: bool,
    pub theme: &'static ThemeDef,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    /// Customers to link and sales to make.
    pub linked: usize,
    pub sales: usize,
}

fn largest_remainder(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let missing = total - counts.iter().sum::<usize>();
    for &i in order.iter().take(missing) {
        counts[i] += 1;
    }
    counts
}

fn local_midnight(day: NaiveDate, offset_hours: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")) - Duration::hours(offset_hours)
}

pub fn plan(ctx: &Ctx, central: &Central, layout: &Layout) -> Vec<Campaign> {
    let n = ctx.spec.campaigns;
    let months = ctx.window_months();
    let counts = largest_remainder(n, &months.iter().map(|&(_, m)| month_weight(m)).collect::<Vec<_>>());
    let mut buckets: Vec<usize> = counts
        .iter()
        .enumerate()
        .flat_map(|(b, &c)| std::iter::repeat_n(b, c))
        .collect();
    let mut r = stream(ctx.seed, "campaign-calendar", 0);
    // Shuffle which campaign index gets which month (organizations are drawn per index).
    for i in (1..buckets.len()).rev() {
        buckets.swap(i, r.random_range(0..=i));
    }
    let today = ctx.now.date_naive();

    // Start days first: status depends on how recent a start is.
    let starts: Vec<NaiveDate> = buckets
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let mut cr = stream(ctx.seed, "campaign-start", i as u64);
            let (y, m) = months[b];
            let first = NaiveDate::from_ymd_opt(y, m, 1).expect("first of month");
            let last = month_end(y, m).min(today - Duration::days(1));
            rng::day_between(&mut cr, first, last.max(first))
        })
        .collect();

    // Exactly 30% active, the more likely the more recent the start (Efraimidis–Spirakis keys:
    // ln(u) / w, largest first), so long "always-on" campaigns are the exception.
    let active_count = (n as f64 * ACTIVE_SHARE).round() as usize;
    let mut keys: Vec<(f64, usize)> = starts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let age = (today - *d).num_days() as f64;
            let w = (-age / 110.0).exp();
            let u: f64 = r.random::<f64>().max(f64::MIN_POSITIVE);
            (u.ln() / w, i)
        })
        .collect();
    keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut active = vec![false; n];
    for &(_, i) in keys.iter().take(active_count) {
        active[i] = true;
    }

    (0..n)
        .map(|i| campaign(ctx, central, layout, i, starts[i], active[i]))
        .collect()
}

fn campaign(ctx: &Ctx, central: &Central, layout: &Layout, index: usize, start: NaiveDate, active: bool) -> Campaign {
    let mut r = stream(ctx.seed, "campaign", index as u64);
    let id = rng::uuid(&mut r);
    // Bigger tenants run more campaigns.
    let org_weights: Vec<f64> = (0..central.orgs.len())
        .map(|o| {
            layout
                .segments
                .iter()
                .filter(|s| s.org == o)
                .map(|s| s.len as f64)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let o = rng::weighted(&mut r, &org_weights);
    let org = &central.orgs[o];
    let brand = *rng::pick(&mut r, &org.brands);
    let objective =
        ["awareness", "traffic", "engagement", "leads", "sales"][rng::weighted(&mut r, &[0.15, 0.15, 0.15, 0.2, 0.35])];
    let products = &central.brands[brand].products;
    let product = (objective != "awareness").then(|| *rng::pick(&mut r, products));

    // Markets: from the organization's footprint, the home market most often first.
    let market_count = r.random_range(1..=org.footprint.len().min(4));
    let mut markets: Vec<usize> = rng::sample(&mut r, org.footprint.len(), market_count)
        .into_iter()
        .map(|k| org.footprint[k])
        .collect();
    markets.sort_by_key(|m| org.footprint.iter().position(|f| f == m));
    let primary = ctx.markets[markets[0]].def;
    let offset = primary.utc_offset_hours;

    // Channels and their budget shares (4 decimals, summing to at most 1).
    let channel_count = 1 + rng::weighted(&mut r, &[0.10, 0.30, 0.35, 0.18, 0.07]);
    let popularity: Vec<f64> = CHANNELS.iter().map(|c| c.popularity).collect();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < channel_count {
        let c = rng::weighted(&mut r, &popularity);
        if !chosen.contains(&c) {
            chosen.push(c);
        }
    }
    chosen.sort_unstable();
    let raw: Vec<f64> = chosen
        .iter()
        .map(|&c| CHANNELS[c].popularity * r.random_range(0.6..1.4))
        .collect();
    let raw_sum: f64 = raw.iter().sum();
    let channels: Vec<(usize, Decimal)> = chosen
        .iter()
        .zip(&raw)
        .map(|(&c, w)| (c, Decimal::new(((w / raw_sum * 10_000.0).floor() as i64).max(1), 4)))
        .collect();

    // Dates: local midnight of the start day; finished campaigns end before now, active after.
    let starts_at = local_midnight(start, offset);
    let today = ctx.now.date_naive();
    let planned_days = match rng::weighted(&mut r, &[0.45, 0.35, 0.20]) {
        0 => r.random_range(14..=42),
        1 => r.random_range(43..=100),
        _ => r.random_range(101..=200),
    };
    let (ends_at, last_day) = if active {
        let end_day =
            (today + Duration::days(r.random_range(5..=120))).max(start + Duration::days(planned_days.min(30)));
        (
            local_midnight(end_day, offset) + Duration::hours(23) + Duration::minutes(59),
            (today - Duration::days(1)).max(start),
        )
    } else {
        let latest = ctx.now - Duration::hours(r.random_range(2..48));
        let end = (local_midnight(start + Duration::days(planned_days - 1), offset)
            + Duration::hours(23)
            + Duration::minutes(59))
        .min(latest)
        .max(starts_at + Duration::hours(6));
        let end_day = (end + Duration::hours(offset)).date_naive();
        (end, end_day.max(start))
    };
    let total_days = ((ends_at - starts_at).num_hours() as f64 / 24.0).max(1.0);
    let run_days = ((last_day - start).num_days() + 1) as f64;
    let progress = if active {
        (run_days / total_days).clamp(0.05, 1.0)
    } else {
        1.0
    };

    // Customers and sales the campaign will have.
    let candidates: usize = markets
        .iter()
        .filter_map(|&m| layout.segment(o, m))
        .map(|s| s.len)
        .sum();
    let linked = r
        .random_range(LINKED_CUSTOMERS)
        .min(candidates)
        .max(*LINKED_CUSTOMERS.start());
    let sales_rate = match objective {
        "sales" => r.random_range(0.6..1.4),
        "leads" => r.random_range(0.35..0.9),
        _ => r.random_range(0.15..0.6),
    };
    let sales = ((linked as f64 * sales_rate * progress).round() as usize).max(1);

    // Money: expected revenue, a return on ad spend around 2.5, and a budget the spend fits in.
    let price = match product {
        Some(p) => central.products[p].price,
        None => products.iter().map(|&p| central.products[p].price).sum::<Decimal>() / Decimal::from(products.len()),
    };
    let price_f: f64 = price.try_into().unwrap_or(20.0);
    let revenue = sales as f64 * price_f * 1.05;
    let roas = rng::normal(&mut r, 0.9, 0.5).exp().clamp(0.4, 12.0);
    let min_spend = 250.0 * channels.len() as f64 * progress.max(0.2);
    let spend = (revenue / roas).max(min_spend);
    let utilization = if active {
        progress * r.random_range(0.85..1.0)
    } else {
        r.random_range(0.82..0.99)
    };
    let budget_dollars = ((spend / utilization.max(0.05)) / 100.0).ceil() * 100.0;
    let spend_cents = (spend * 100.0).floor() as i64;

    let theme = pick_theme(&mut r, start.month());
    let spanish = primary.language.starts_with("es");
    let brand_name = &central.brands[brand].name;
    let theme_name = if spanish { theme.es } else { theme.en };
    let year = start.year();
    let name = match r.random_range(0..3) {
        0 => format!("{brand_name} {theme_name} {year}"),
        1 => format!(
            "{theme_name} {year}: {}",
            product.map_or(brand_name.as_str(), |p| central.products[p].name.as_str())
        ),
        _ => format!("{brand_name} · {theme_name} {} {year}", primary.code),
    };
    let market_names: Vec<&str> = markets.iter().map(|&m| ctx.markets[m].def.name).collect();
    let description = if spanish {
        format!(
            "Campaña {theme_name} de {brand_name} ({objective}) en {}.",
            market_names.join(", ")
        )
    } else {
        format!(
            "{theme_name} campaign for {brand_name} ({objective}) in {}.",
            market_names.join(", ")
        )
    };
    let created_by = *rng::pick(
        &mut r,
        if org.marketers.is_empty() {
            &org.approvers
        } else {
            &org.marketers
        },
    );
    let created_at = starts_at - Duration::days(r.random_range(10..40)) - Duration::minutes(r.random_range(0..600));
    Campaign {
        index,
        id,
        org: o,
        brand,
        product,
        name,
        description,
        objective,
        active,
        starts_at,
        ends_at,
        first_day: start,
        last_day,
        progress,
        budget: Decimal::from(budget_dollars as i64),
        spend_cents,
        channels,
        markets,
        spanish,
        theme,
        created_by,
        created_at,
        version: r.random_range(1..=3),
        linked,
        sales,
    }
}

fn pick_theme(r: &mut Stream, month: u32) -> &'static ThemeDef {
    let seasonal: Vec<&ThemeDef> = THEMES.iter().filter(|t| t.month == month).collect();
    let any: Vec<&ThemeDef> = THEMES.iter().filter(|t| t.month == 0).collect();
    if !seasonal.is_empty() && r.random_bool(0.7) {
        seasonal[r.random_range(0..seasonal.len())]
    } else {
        any[r.random_range(0..any.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_split_quotas_exactly() {
        let c = largest_remainder(1000, &[1.0, 2.1, 1.0]);
        assert_eq!(c.iter().sum::<usize>(), 1000);
        assert_eq!(c, vec![244, 512, 244]);
    }
}
