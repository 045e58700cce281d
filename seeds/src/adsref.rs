//! PromptAds reference rows: channels and markets (ids from their codes), influencers, and the
//! reference copies of the central brands and products (same ids, names and prices).

use chrono::Duration;
use rand::Rng;

use crate::{
    activity::InfluencerPool,
    central::Central,
    reference::CHANNELS,
    rng::{self, stream},
    rows::{AdsBrand, AdsProduct, Channel, Influencer, Market},
    spec::Ctx,
    words::ascii_slug,
};

#[derive(Default)]
pub struct AdsReference {
    pub channels: Vec<Channel>,
    pub markets: Vec<Market>,
    pub influencers: Vec<Influencer>,
    pub brands: Vec<AdsBrand>,
    pub products: Vec<AdsProduct>,
}

const NICHES: [&str; 10] = [
    "fitness",
    "food",
    "travel",
    "beauty",
    "tech",
    "gaming",
    "parenting",
    "fashion",
    "music",
    "finance",
];

pub fn generate(ctx: &Ctx, central: &Central) -> (AdsReference, InfluencerPool) {
    let epoch = ctx.window_start - Duration::days(800);
    let mut out = AdsReference::default();
    for (i, c) in CHANNELS.iter().enumerate() {
        out.channels.push(Channel {
            id: c.id(),
            code: c.code,
            name: c.name,
            kind: c.kind,
            default_cost_model: c.cost_model,
            created_at: epoch + Duration::hours(i as i64),
        });
    }
    for (i, m) in ctx.markets.iter().enumerate() {
        out.markets.push(Market {
            id: m.id,
            code: m.def.code,
            country_code: m.def.country,
            region: m.def.region,
            name: m.def.name,
            currency: m.def.currency,
            timezone: m.def.timezone,
            created_at: epoch + Duration::hours(i as i64),
        });
    }
    // Influencers live on the social networks; handles are unique per channel by construction.
    let homes: Vec<usize> = CHANNELS
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.code, "instagram" | "tiktok" | "youtube"))
        .map(|(i, _)| i)
        .collect();
    let mut ids = Vec::new();
    for i in 0..ctx.spec.influencers {
        let mut r = stream(ctx.seed, "influencer", i as u64);
        let home = homes[i % homes.len()];
        let spanish = r.random_bool(0.75);
        let female = r.random_bool(0.55);
        let first = ctx.names.first(&mut r, spanish, female);
        let niche = *rng::pick(&mut r, &NICHES);
        let market = &ctx.markets[rng::weighted(&mut r, &ctx.markets.iter().map(|m| m.def.weight).collect::<Vec<_>>())];
        let handle = format!("{}.{niche}{i}", ascii_slug(first));
        // Followers: log-normal, from micro (thousands) to a few millions.
        let followers = rng::normal(&mut r, 10.5, 1.4).exp().round() as i64;
        let id = rng::uuid(&mut r);
        ids.push(id);
        out.influencers.push(Influencer {
            id,
            channel_id: CHANNELS[home].id(),
            handle,
            display_name: format!("{first} | {niche}"),
            followers: followers.clamp(1_000, 25_000_000),
            niche: Some(niche),
            country_code: Some(market.def.country),
            created_at: epoch + Duration::days(r.random_range(0..700)),
        });
    }
    for b in &central.sales_brands {
        out.brands.push(AdsBrand {
            id: b.id,
            organization_id: b.organization_id,
            name: b.name.clone(),
            created_at: b.created_at,
        });
    }
    for p in &central.sales_products {
        out.products.push(AdsProduct {
            id: p.id,
            brand_id: p.brand_id,
            organization_id: p.organization_id,
            name: p.name.clone(),
            unit_price: p.unit_price,
            currency: p.currency,
            created_at: p.created_at,
        });
    }
    (out, InfluencerPool { ids })
}
