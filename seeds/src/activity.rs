//! What one campaign did, consistent across stores by construction.
//!
//! Daily results are drawn first, per ad, channel, market and day. Each sale counted there is then
//! made a concrete PromptCrm sale: a customer linked to the campaign who lives in that market, on
//! that channel and day, with the product's price converted from the local currency. The ads
//! row's `sales` is the number of those sales (orders; an order may hold more than one unit, its
//! `quantity`) and its `revenue` is the sum of their `amount_usd`, so the two stores agree to the
//! cent for every campaign, channel and market. Spend is spread over the rows from a total below
//! the budget, rounding down, so cost never exceeds budget.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rand::Rng;
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

use crate::{
    campaigns::Campaign,
    central::Central,
    customers::{Layout, customer_id},
    reference::CHANNELS,
    rng::{self, Stream, stream},
    rows::{
        Ad, AdPlacement, AdResult, CampaignChannel, CampaignCustomer, CampaignMarket, Interaction, Lead, Sale,
        SentimentSample,
    },
    spec::{Ctx, midnight},
    words::{AD_COPY, ascii_slug},
};

/// Influencers an ad on the influencer network can be placed with.
pub struct InfluencerPool {
    pub ids: Vec<Uuid>,
}

#[derive(Default)]
pub struct Facts {
    pub campaign: Option<crate::rows::Campaign>,
    pub channels: Vec<CampaignChannel>,
    pub markets: Vec<CampaignMarket>,
    pub ads: Vec<Ad>,
    pub placements: Vec<AdPlacement>,
    pub results: Vec<AdResult>,
    pub sentiment: Vec<SentimentSample>,
    pub links: Vec<CampaignCustomer>,
    pub leads: Vec<Lead>,
    pub interactions: Vec<Interaction>,
    pub sales: Vec<Sale>,
}

const NEGATIVE_TYPES: [&str; 7] = [
    "quality",
    "price",
    "misleading",
    "service",
    "offensive",
    "spam",
    "other",
];
const NEGATIVE_WEIGHTS: [f64; 7] = [0.3, 0.22, 0.18, 0.15, 0.07, 0.04, 0.04];
/// Share of ads whose audience turns against them.
pub const NEGATIVE_AD_SHARE: f64 = 0.08;

/// One ad on one channel (the grain of sentiment) with its run.
struct Run {
    ad: usize,
    channel: usize,
    first: NaiveDate,
    last: NaiveDate,
    /// Day the sentiment turns negative, for the minority of ads that go bad.
    turns: Option<(NaiveDate, &'static str)>,
    influencers: usize,
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn days(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |d| *d <= last)
}

fn fill(template: &str, brand: &str, product: &str, theme: &str, pct: u32) -> String {
    template
        .replace("{brand}", brand)
        .replace("{product}", product)
        .replace("{theme}", theme)
        .replace("{pct}", &pct.to_string())
}

fn copy(r: &mut Stream, lang: &str, part: &str) -> &'static str {
    let options: Vec<&str> = AD_COPY
        .iter()
        .filter(|c| c.lang == lang && c.part == part)
        .map(|c| c.text)
        .collect();
    options[r.random_range(0..options.len())]
}

pub fn generate(ctx: &Ctx, central: &Central, layout: &Layout, influencers: &InfluencerPool, c: &Campaign) -> Facts {
    let mut r = stream(ctx.seed, "campaign-facts", c.index as u64);
    let mut f = Facts::default();
    let org = &central.orgs[c.org];
    let brand = &central.brands[c.brand];
    let status = if c.active { "active" } else { "finished" };
    f.campaign = Some(crate::rows::Campaign {
        id: c.id,
        organization_id: org.id,
        brand_id: brand.id,
        product_id: c.product.map(|p| central.products[p].id),
        name: c.name.clone(),
        description: Some(c.description.clone()),
        objective: c.objective,
        status,
        budget: c.budget,
        currency: "USD",
        starts_at: c.starts_at,
        ends_at: c.ends_at,
        version: c.version,
        idempotency_key: None,
        created_by: Some(c.created_by),
        created_at: c.created_at,
    });
    for &(ch, share) in &c.channels {
        f.channels.push(CampaignChannel {
            campaign_id: c.id,
            channel_id: CHANNELS[ch].id(),
            budget_share: share,
            created_at: c.created_at,
        });
    }
    for &m in &c.markets {
        f.markets.push(CampaignMarket {
            campaign_id: c.id,
            market_id: ctx.markets[m].id,
            created_at: c.created_at,
        });
    }

    // ---- Ads and where they run ------------------------------------------------------------
    let lang = if c.spanish { "es" } else { "en" };
    let product_name = c
        .product
        .map_or(brand.name.as_str(), |p| central.products[p].name.as_str());
    let theme = if c.spanish { c.theme.es } else { c.theme.en };
    let tld = org.def.domain.rsplit('.').next().unwrap_or("com");
    let mut runs: Vec<Run> = Vec::new();
    let campaign_channels: Vec<usize> = c.channels.iter().map(|x| x.0).collect();
    let total_days = (c.last_day - c.first_day).num_days() + 1;
    for &ch in &campaign_channels {
        let channel = &CHANNELS[ch];
        let count = r.random_range(channel.ads.0..=channel.ads.1);
        for k in 0..count {
            let format = *rng::pick(&mut r, channel.formats);
            let ad_id = rng::uuid(&mut r);
            let pct = [10, 15, 20, 25, 30][r.random_range(0..5)];
            let headline = fill(copy(&mut r, lang, "headline"), &brand.name, product_name, theme, pct);
            let body = fill(copy(&mut r, lang, "body"), &brand.name, product_name, theme, pct);
            let ad_index = f.ads.len();
            f.ads.push(Ad {
                id: ad_id,
                campaign_id: c.id,
                name: format!(
                    "{} · {} · {} {}",
                    c.name.chars().take(120).collect::<String>(),
                    channel.name,
                    format,
                    k + 1
                ),
                format,
                headline: Some(headline.chars().take(200).collect()),
                body: Some(body),
                call_to_action: Some(copy(&mut r, lang, "cta")),
                landing_url: Some(format!(
                    "https://www.{}.{tld}/{}?utm_source={}&utm_campaign={}",
                    ascii_slug(&brand.name),
                    ascii_slug(theme),
                    channel.code,
                    c.id.simple()
                )),
                content_image_id: None,
                status: if c.active { "active" } else { "finished" },
                created_at: c.created_at + Duration::days(r.random_range(1..5)),
            });
            // Rotation: in long campaigns an ad runs a part of the time.
            let (first, last) = if total_days > 60 && r.random_bool(0.6) {
                let len = r.random_range(30..=60.min(total_days));
                let offset = r.random_range(0..=total_days - len);
                (
                    c.first_day + Duration::days(offset),
                    c.first_day + Duration::days(offset + len - 1),
                )
            } else {
                (c.first_day, c.last_day)
            };
            let mut channels_of_ad = vec![ch];
            // Social creatives are often cross-posted to the sister network.
            let sister = match channel.code {
                "facebook" => Some("instagram"),
                "instagram" => Some("facebook"),
                _ => None,
            };
            if let Some(s) = sister.and_then(|s| campaign_channels.iter().copied().find(|&x| CHANNELS[x].code == s))
                && CHANNELS[s].formats.contains(&format)
                && r.random_bool(0.35)
            {
                channels_of_ad.push(s);
            }
            let run_days = (last - first).num_days() + 1;
            let turns = (run_days >= 10 && r.random_bool(NEGATIVE_AD_SHARE)).then(|| {
                let at = first + Duration::days((run_days as f64 * r.random_range(0.3..0.6)) as i64);
                (at, NEGATIVE_TYPES[rng::weighted(&mut r, &NEGATIVE_WEIGHTS)])
            });
            for &pc in &channels_of_ad {
                let pch = &CHANNELS[pc];
                let with_influencers = pch.code == "influencer_network";
                let picks = if with_influencers {
                    let k = r.random_range(1..=3);
                    rng::sample(&mut r, influencers.ids.len(), k)
                } else {
                    vec![usize::MAX]
                };
                for &inf in &picks {
                    let unit_cost = match pch.cost_model {
                        "cpm" => pch.cpm * r.random_range(0.8..1.25),
                        "cpc" => pch.cpm / 1000.0 / pch.engagement * r.random_range(0.8..1.25),
                        _ => r.random_range(150.0..2500.0),
                    };
                    let partial = (first, last) != (c.first_day, c.last_day);
                    f.placements.push(AdPlacement {
                        id: rng::uuid(&mut r),
                        ad_id,
                        channel_id: pch.id(),
                        influencer_id: (inf != usize::MAX).then(|| influencers.ids[inf]),
                        cost_model: pch.cost_model,
                        unit_cost: Decimal::new((unit_cost * 10_000.0).round() as i64, 4),
                        starts_at: partial.then(|| midnight(first).max(c.starts_at)),
                        ends_at: partial.then(|| {
                            (midnight(last) + Duration::hours(23))
                                .min(c.ends_at)
                                .max(midnight(first).max(c.starts_at) + Duration::hours(1))
                        }),
                        created_at: c.created_at + Duration::days(5),
                    });
                }
                runs.push(Run {
                    ad: ad_index,
                    channel: pc,
                    first,
                    last,
                    turns,
                    influencers: if with_influencers { picks.len() } else { 0 },
                });
            }
        }
    }

    // ---- Daily results ----------------------------------------------------------------------
    struct Cell {
        run: usize,
        market: usize,
        day: NaiveDate,
        weight: f64,
    }
    let market_weights: Vec<f64> = c
        .markets
        .iter()
        .enumerate()
        .map(|(k, &m)| ctx.markets[m].def.weight * if k == 0 { 2.0 } else { 1.0 })
        .collect();
    let mut cells: Vec<Cell> = Vec::new();
    for (ri, run) in runs.iter().enumerate() {
        let ad_quality = rng::normal(&mut r, 0.0, 0.35).exp();
        for day in days(run.first, run.last) {
            let k = (day - run.first).num_days();
            let ramp = [0.55, 0.75, 0.9].get(k as usize).copied().unwrap_or(1.0);
            let weekend = if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                1.12
            } else {
                1.0
            };
            let fatigue = match run.turns {
                Some((at, _)) if day >= at => 0.8,
                _ => 1.0,
            };
            for (mk, &mw) in market_weights.iter().enumerate() {
                let noise = rng::normal(&mut r, 0.0, 0.25).exp();
                cells.push(Cell {
                    run: ri,
                    market: mk,
                    day,
                    weight: ad_quality * ramp * weekend * fatigue * mw * noise,
                });
            }
        }
    }
    // Spend per channel from its budget share of the campaign's spend, then per cell by weight.
    let share_sum: f64 = c.channels.iter().map(|x| f64::try_from(x.1).unwrap_or(0.0)).sum();
    let mut rows: Vec<(i64, i64, i64, i64, i64, i64)> = Vec::with_capacity(cells.len()); // views, reach, interactions, likes, cost cents, exposure centi-hours
    for &(ch, share) in &c.channels {
        let channel = &CHANNELS[ch];
        let channel_cents = (c.spend_cents as f64 * f64::try_from(share).unwrap_or(0.0) / share_sum.max(1e-9)).floor();
        let members: Vec<usize> = (0..cells.len()).filter(|&i| runs[cells[i].run].channel == ch).collect();
        let wsum: f64 = members.iter().map(|&i| cells[i].weight).sum();
        rows.resize(cells.len(), (0, 0, 0, 0, 0, 0));
        for &i in &members {
            let share = cells[i].weight / wsum.max(1e-9);
            let cost = (channel_cents * share).floor() as i64;
            let views = ((cost as f64 / 100.0) / channel.cpm * 1000.0 * r.random_range(0.9..1.1))
                .round()
                .max(1.0) as i64;
            let interactions = (views as f64 * channel.engagement * r.random_range(0.7..1.3)).round() as i64;
            let likes = (interactions as f64 * channel.like_share * r.random_range(0.8..1.0)).floor() as i64;
            let reach = (views as f64 * r.random_range(0.55..0.92)).floor() as i64;
            let exposure = (views as f64 * channel.view_seconds * r.random_range(0.8..1.2) / 36.0).round() as i64;
            rows[i] = (
                views,
                reach,
                interactions.min(views),
                likes.min(interactions),
                cost,
                exposure,
            );
        }
    }

    // ---- Customers linked to the campaign, by market ------------------------------------------
    let mut linked: Vec<Vec<usize>> = vec![Vec::new(); c.markets.len()];
    let sizes: Vec<usize> = c
        .markets
        .iter()
        .map(|&m| layout.segment(c.org, m).map_or(0, |s| s.len))
        .collect();
    let size_sum: usize = sizes.iter().sum();
    let mut remaining = c.linked;
    for (k, &m) in c.markets.iter().enumerate() {
        let Some(seg) = layout.segment(c.org, m) else { continue };
        let want = if k + 1 == c.markets.len() {
            remaining
        } else {
            (c.linked * sizes[k] / size_sum.max(1)).max(1)
        }
        .min(seg.len)
        .min(remaining);
        remaining -= want;
        linked[k] = distinct(&mut r, seg.len, want)
            .into_iter()
            .map(|x| seg.start + x)
            .collect();
    }
    // Whatever a small market could not hold goes to the others.
    for (k, &m) in c.markets.iter().enumerate() {
        if remaining == 0 {
            break;
        }
        let Some(seg) = layout.segment(c.org, m) else { continue };
        let taken: std::collections::HashSet<usize> = linked[k].iter().copied().collect();
        for x in seg.start..seg.start + seg.len {
            if remaining == 0 {
                break;
            }
            if !taken.contains(&x) {
                linked[k].push(x);
                remaining -= 1;
            }
        }
    }

    // ---- Sales: allocated to cells in proportion to interactions -----------------------------
    let mut sales_per_cell = vec![0_i64; cells.len()];
    let interactions_total: i64 = rows.iter().map(|x| x.2.max(1)).sum();
    if interactions_total > 0 && !cells.is_empty() {
        let cum = rng::Cumulative::new(rows.iter().map(|x| x.2.max(1) as f64));
        for _ in 0..c.sales {
            let i = cum.draw(&mut r);
            sales_per_cell[i] += 1;
        }
    }

    let org_id = org.id;
    let products = &brand.products;
    let mut reached = std::collections::HashSet::new();
    let mut first_touch: std::collections::HashMap<usize, (DateTime<Utc>, usize)> = std::collections::HashMap::new();
    let mut first_sale: std::collections::HashMap<usize, DateTime<Utc>> = std::collections::HashMap::new();
    let window_end = c.ends_at.min(ctx.now - Duration::seconds(1));
    let clamp = |t: DateTime<Utc>| t.max(c.starts_at).min(window_end);
    let mut revenue_cents = vec![0_i64; cells.len()];
    for (i, cell) in cells.iter().enumerate() {
        let n = sales_per_cell[i];
        if n == 0 {
            continue;
        }
        let run = &runs[cell.run];
        let market = &ctx.markets[c.markets[cell.market]];
        let pool = if linked[cell.market].is_empty() {
            linked.iter().find(|l| !l.is_empty()).expect("linked customers")
        } else {
            &linked[cell.market]
        };
        let channel = &CHANNELS[run.channel];
        let offset = market.def.utc_offset_hours;
        for _ in 0..n {
            let customer = *rng::pick(&mut r, pool);
            let product = c.product.unwrap_or_else(|| *rng::pick(&mut r, products));
            let price = central.products[product].price;
            let quantity: i32 = [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3][r.random_range(0..11)];
            let discount = [0, 0, 0, 0, 0, 0, 0, 10, 10, 15, 20][r.random_range(0..11)];
            let usd = price * Decimal::from(quantity) * Decimal::from(100 - discount) / Decimal::from(100);
            let original = (usd / market.usd_rate).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            let amount = (original * market.usd_rate).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            let local = midnight(cell.day) - Duration::hours(offset);
            let sold_at = clamp(rng::between(
                &mut r,
                local + Duration::hours(7),
                local + Duration::hours(23),
            ));
            revenue_cents[i] += (amount * Decimal::from(100)).try_into().unwrap_or(0_i64);
            let sale_id = rng::uuid(&mut r);
            f.sales.push(Sale {
                id: sale_id,
                organization_id: org_id,
                customer_id: customer_id(ctx.seed, customer),
                campaign_id: Some(c.id),
                channel_id: channel.id(),
                market_id: market.id,
                product_id: central.products[product].id,
                ad_id: Some(f.ads[run.ad].id),
                quantity,
                amount_usd: amount,
                original_amount: original,
                original_currency: market.def.currency,
                fx_rate_to_usd: market.usd_rate,
                sold_at,
                created_at: sold_at,
            });
            // The clicks or visits that led to it.
            let touches = if r.random_bool(0.35) { 2 } else { 1 };
            for t in 0..touches {
                let at = clamp(sold_at - Duration::minutes(r.random_range(5..60 * 24 * (t + 1))));
                let kind = touch_kind(channel.kind, &mut r);
                push_interaction(
                    &mut f,
                    &mut r,
                    org_id,
                    customer_id(ctx.seed, customer),
                    c.id,
                    run.channel,
                    kind,
                    at,
                    None,
                );
                first_touch
                    .entry(customer)
                    .and_modify(|e| {
                        if at < e.0 {
                            *e = (at, run.channel)
                        }
                    })
                    .or_insert((at, run.channel));
            }
            first_sale
                .entry(customer)
                .and_modify(|e| *e = (*e).min(sold_at))
                .or_insert(sold_at);
            reached.insert(customer);
        }
    }

    // ---- Results and sentiment rows ---------------------------------------------------------
    for (i, cell) in cells.iter().enumerate() {
        let run = &runs[cell.run];
        let (mut views, mut reach, mut interactions, likes, cost, exposure) = rows[i];
        let sales = sales_per_cell[i];
        interactions = interactions.max(sales);
        views = views.max(interactions);
        reach = reach.min(views);
        f.results.push(AdResult {
            campaign_id: c.id,
            ad_id: f.ads[run.ad].id,
            channel_id: CHANNELS[run.channel].id(),
            market_id: ctx.markets[c.markets[cell.market]].id,
            day: cell.day,
            likes: likes.min(interactions),
            views,
            interactions,
            sales,
            exposure_hours: Decimal::new(exposure, 2),
            reach,
            cost: cents(cost),
            revenue: cents(revenue_cents[i]),
            created_at: (midnight(cell.day) + Duration::hours(30)).min(ctx.now),
        });
    }
    // Sentiment per ad, channel and day, from the day's interactions over all markets.
    let mut per_run_day: std::collections::BTreeMap<(usize, NaiveDate), i64> = std::collections::BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        *per_run_day.entry((cell.run, cell.day)).or_default() += f.results[i].interactions;
    }
    let mut base_reactions: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    for (&(ri, day), &inter) in &per_run_day {
        let run = &runs[ri];
        let mentions = ((inter as f64 * 0.04 * r.random_range(0.6..1.4)).round() as i32).clamp(3, 20_000);
        let base = *base_reactions.entry(ri).or_insert_with(|| {
            if run.influencers > 0 {
                r.random_range(4.0..12.0) * run.influencers as f64
            } else {
                // Influencers talk about ads they were not paid for too, a little.
                r.random_range(2.2..3.5)
            }
        });
        let (pos_share, neg_share, reactions, negative_type) = match run.turns {
            Some((at, kind)) if day >= at => {
                // The turn is abrupt (a backlash, not a drift) and the influencers walk away at
                // once. These are the planted cases of the negative-sentiment report
                // (ads.pradsfn_negative_sentiment_report): with at least 3 mentions a day, every
                // day from the turn on has more negative than positive mentions (the shares are
                // 0.4 apart), every day before it has at least as many positive as negative ones
                // (0.45.. against ..0.2), and the daily reactions fall from at least
                // round(0.7 × base) to at most round(0.35 × base), strictly lower for every base
                // drawn above (base >= 2.2). The report test relies on these three facts.
                (
                    r.random_range(0.05..0.2),
                    r.random_range(0.6..0.8),
                    base * r.random_range(0.1..0.35),
                    Some(kind),
                )
            }
            _ => (
                r.random_range(0.45..0.72),
                r.random_range(0.04..0.2),
                base * r.random_range(0.7..1.3),
                None,
            ),
        };
        let positive = (mentions as f64 * pos_share).round() as i32;
        let negative = ((mentions as f64 * neg_share).round() as i32).max(if negative_type.is_some() { 1 } else { 0 });
        let neutral = (mentions - positive - negative).max(0);
        let total = (positive + neutral + negative).max(1);
        let polarity = (((positive - negative) as f64 / total as f64) * 1000.0).round() as i64;
        let polarity = Decimal::new(polarity.clamp(-1000, 1000), 3);
        let negative_type =
            negative_type.or_else(|| (polarity.is_sign_negative() && !polarity.is_zero()).then_some("other"));
        f.sentiment.push(SentimentSample {
            campaign_id: c.id,
            ad_id: f.ads[run.ad].id,
            channel_id: CHANNELS[run.channel].id(),
            day,
            polarity,
            positive_count: positive,
            neutral_count: neutral,
            negative_count: if negative_type.is_some() {
                negative.max(1)
            } else {
                negative
            },
            negative_type,
            influencer_reactions: reactions.round().max(0.0) as i32,
            created_at: (midnight(day) + Duration::hours(30)).min(ctx.now),
        });
    }

    // ---- Other interactions: likes, comments, opens by linked customers -----------------------
    let all_linked: Vec<(usize, usize)> = linked
        .iter()
        .enumerate()
        .flat_map(|(k, l)| l.iter().map(move |&x| (k, x)))
        .collect();
    let negative_from = runs.iter().filter_map(|x| x.turns.map(|t| t.0)).min();
    let extra = (all_linked.len() as f64 * r.random_range(0.2..0.5) * c.progress.max(0.3)) as usize;
    let span_days = (c.last_day - c.first_day).num_days().max(0);
    for _ in 0..extra {
        let (_, customer) = *rng::pick(&mut r, &all_linked);
        let ch = *rng::pick(&mut r, &campaign_channels);
        let day = c.first_day + Duration::days(r.random_range(0..=span_days));
        let at = clamp(rng::between(&mut r, midnight(day), midnight(day) + Duration::hours(23)));
        let kind = extra_kind(CHANNELS[ch].kind, &mut r);
        let sentiment = matches!(kind, "comment" | "message" | "call").then(|| {
            let soured = negative_from.is_some_and(|d| day >= d) && r.random_bool(0.6);
            let x: f64 = if soured {
                r.random_range(-0.95..0.1)
            } else {
                r.random_range(-0.3..0.95)
            };
            Decimal::new((x * 1000.0).round() as i64, 3)
        });
        push_interaction(
            &mut f,
            &mut r,
            org_id,
            customer_id(ctx.seed, customer),
            c.id,
            ch,
            kind,
            at,
            sentiment,
        );
        first_touch
            .entry(customer)
            .and_modify(|e| {
                if at < e.0 {
                    *e = (at, ch)
                }
            })
            .or_insert((at, ch));
        reached.insert(customer);
    }

    // ---- Links and leads ----------------------------------------------------------------------
    let share_weights: Vec<f64> = c.channels.iter().map(|x| f64::try_from(x.1).unwrap_or(0.1)).collect();
    for &(_, customer) in &all_linked {
        let ch = campaign_channels[rng::weighted(&mut r, &share_weights)];
        let linked_at =
            rng::between(&mut r, c.starts_at - Duration::days(7), c.starts_at + Duration::days(3)).min(ctx.now);
        f.links.push(CampaignCustomer {
            campaign_id: c.id,
            customer_id: customer_id(ctx.seed, customer),
            organization_id: org_id,
            channel_id: CHANNELS[ch].id(),
            linked_at,
            reached: reached.contains(&customer),
            created_at: linked_at,
        });
    }
    let mut touched: Vec<(&usize, &(DateTime<Utc>, usize))> = first_touch.iter().collect();
    touched.sort_by_key(|(k, _)| **k);
    for (&customer, &(at, ch)) in touched {
        let converted = first_sale.get(&customer).copied();
        if converted.is_none() && !r.random_bool(0.15) {
            continue;
        }
        let created_at = converted.map_or(at, |s| at.min(s));
        let (status, score, intent) = match converted {
            Some(_) => ("converted", r.random_range(60..=100), r.random_range(0.6..0.99_f64)),
            None => {
                let s = ["new", "contacted", "qualified", "lost"][rng::weighted(&mut r, &[0.3, 0.3, 0.2, 0.2])];
                (s, r.random_range(10..=80), r.random_range(0.05..0.7_f64))
            }
        };
        f.leads.push(Lead {
            id: rng::uuid(&mut r),
            organization_id: org_id,
            campaign_id: c.id,
            customer_id: customer_id(ctx.seed, customer),
            source_channel_id: CHANNELS[ch].id(),
            score,
            status,
            purchase_intent: Some(Decimal::new((intent * 10_000.0).round() as i64, 4)),
            created_at,
            converted_at: converted,
        });
    }
    f
}

/// `k` distinct indices of `0..n`, cheaply when `k` is much smaller than `n`.
fn distinct(r: &mut Stream, n: usize, k: usize) -> Vec<usize> {
    if k * 4 >= n {
        return rng::sample(r, n, k);
    }
    let mut seen = std::collections::HashSet::with_capacity(k * 2);
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        let x = r.random_range(0..n);
        if seen.insert(x) {
            out.push(x);
        }
    }
    out
}

fn touch_kind(kind: &str, r: &mut Stream) -> &'static str {
    match kind {
        "email" => ["email_open", "click"][r.random_range(0..2)],
        "sms" => "click",
        "search" => ["click", "visit"][r.random_range(0..2)],
        _ => ["click", "click", "visit", "message"][r.random_range(0..4)],
    }
}

fn extra_kind(kind: &str, r: &mut Stream) -> &'static str {
    match kind {
        "email" => ["email_open", "email_open", "click"][r.random_range(0..3)],
        "sms" => ["click", "message"][r.random_range(0..2)],
        "search" => ["click", "visit", "call"][r.random_range(0..3)],
        _ => ["like", "like", "view", "comment", "share", "click", "message"][r.random_range(0..7)],
    }
}

#[allow(clippy::too_many_arguments)]
fn push_interaction(
    f: &mut Facts,
    r: &mut Stream,
    org: Uuid,
    customer: Uuid,
    campaign: Uuid,
    channel: usize,
    kind: &'static str,
    at: DateTime<Utc>,
    sentiment: Option<Decimal>,
) {
    // Messages are answered by the chatbot most of the time; calls and visits by people.
    let actor = match kind {
        "message" if r.random_bool(0.6) => "bot",
        _ => "human",
    };
    f.interactions.push(Interaction {
        id: rng::uuid(r),
        organization_id: org,
        customer_id: customer,
        campaign_id: Some(campaign),
        channel_id: CHANNELS[channel].id(),
        kind,
        actor,
        sentiment,
        occurred_at: at,
        note: None,
        created_at: at,
    });
}
