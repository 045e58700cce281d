//! Reference data every store shares: channels, markets and subscription plans. Their ids are
//! UUIDv5 of their codes (`reference_id`), so ads, crm, sales and content agree without a lookup.

use promptsales_platform::ids::{RefKind, reference_id};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::words::{MARKETS, MarketDef};

/// How a channel performs: the numbers results are drawn around.
#[derive(Debug)]
pub struct Channel {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub cost_model: &'static str,
    /// How often campaigns use it (relative).
    pub popularity: f64,
    /// USD per 1,000 views.
    pub cpm: f64,
    /// Interactions per view.
    pub engagement: f64,
    /// Likes per interaction (0 where there is no like button).
    pub like_share: f64,
    /// Seconds a view lasts on average (exposure hours = views × this / 3600).
    pub view_seconds: f64,
    /// Ad formats that run there.
    pub formats: &'static [&'static str],
    /// Fewest and most ads a campaign runs there.
    pub ads: (u32, u32),
}

/// The channel codes; the content generator names the same ones.
pub static CHANNELS: [Channel; 11] = [
    ch(
        "facebook",
        "Facebook",
        "social",
        "cpm",
        16.0,
        7.5,
        0.022,
        0.55,
        2.5,
        &["image", "video", "carousel", "story"],
        (1, 3),
    ),
    ch(
        "instagram",
        "Instagram",
        "social",
        "cpm",
        18.0,
        8.5,
        0.030,
        0.65,
        3.0,
        &["image", "carousel", "story", "video"],
        (1, 3),
    ),
    ch(
        "tiktok",
        "TikTok",
        "social",
        "cpm",
        12.0,
        6.0,
        0.035,
        0.70,
        6.0,
        &["video"],
        (1, 2),
    ),
    ch(
        "youtube",
        "YouTube",
        "social",
        "cpm",
        8.0,
        10.0,
        0.010,
        0.40,
        12.0,
        &["video"],
        (1, 2),
    ),
    ch(
        "x",
        "X",
        "social",
        "cpm",
        5.0,
        5.0,
        0.012,
        0.50,
        1.5,
        &["image", "text", "video"],
        (1, 2),
    ),
    ch(
        "linkedin",
        "LinkedIn",
        "professional",
        "cpc",
        5.0,
        28.0,
        0.008,
        0.45,
        2.0,
        &["image", "carousel", "text"],
        (1, 2),
    ),
    ch(
        "email",
        "E-mail",
        "email",
        "cpm",
        10.0,
        1.5,
        0.025,
        0.0,
        8.0,
        &["image", "text"],
        (1, 2),
    ),
    ch(
        "sms",
        "SMS",
        "sms",
        "flat",
        4.0,
        9.0,
        0.015,
        0.0,
        4.0,
        &["text"],
        (1, 1),
    ),
    ch(
        "google_search",
        "Google Search",
        "search",
        "cpc",
        12.0,
        20.0,
        0.040,
        0.0,
        1.0,
        &["text"],
        (2, 3),
    ),
    ch(
        "bing_search",
        "Bing Search",
        "search",
        "cpc",
        3.0,
        14.0,
        0.035,
        0.0,
        1.0,
        &["text"],
        (1, 2),
    ),
    ch(
        "influencer_network",
        "Influencer network",
        "influencer",
        "flat",
        7.0,
        12.0,
        0.045,
        0.75,
        9.0,
        &["video", "image", "story"],
        (1, 2),
    ),
];

#[allow(clippy::too_many_arguments)]
const fn ch(
    code: &'static str,
    name: &'static str,
    kind: &'static str,
    cost_model: &'static str,
    popularity: f64,
    cpm: f64,
    engagement: f64,
    like_share: f64,
    view_seconds: f64,
    formats: &'static [&'static str],
    ads: (u32, u32),
) -> Channel {
    Channel {
        code,
        name,
        kind,
        cost_model,
        popularity,
        cpm,
        engagement,
        like_share,
        view_seconds,
        formats,
        ads,
    }
}

impl Channel {
    pub fn id(&self) -> Uuid {
        reference_id(RefKind::Channel, self.code)
    }
}

/// A market with what sales there need: its id, currency and rate.
#[derive(Debug)]
pub struct Market {
    pub def: &'static MarketDef,
    pub id: Uuid,
    pub usd_rate: Decimal,
}

pub fn markets() -> Vec<Market> {
    MARKETS
        .iter()
        .map(|def| Market {
            def,
            id: reference_id(RefKind::Market, def.code),
            usd_rate: def.usd_rate.parse().expect("markets.txt rates are decimals"),
        })
        .collect()
}

/// A subscription plan of the price list.
#[derive(Debug)]
pub struct Plan {
    pub code: &'static str,
    pub subsidiary: &'static str,
    pub tier: &'static str,
    pub name: &'static str,
    pub monthly: i64,
    pub annual: i64,
    pub limits: &'static str,
}

pub static PLANS: [Plan; 12] = [
    plan(
        "content-starter",
        "content",
        "starter",
        "PromptContent Starter",
        49,
        490,
        r#"{"images_per_month": 100, "seats": 3}"#,
    ),
    plan(
        "content-growth",
        "content",
        "growth",
        "PromptContent Growth",
        199,
        1990,
        r#"{"images_per_month": 1000, "seats": 10}"#,
    ),
    plan(
        "content-enterprise",
        "content",
        "enterprise",
        "PromptContent Enterprise",
        899,
        8990,
        r#"{"seats": 50}"#,
    ),
    plan(
        "ads-starter",
        "ads",
        "starter",
        "PromptAds Starter",
        99,
        990,
        r#"{"campaigns": 5, "seats": 3}"#,
    ),
    plan(
        "ads-growth",
        "ads",
        "growth",
        "PromptAds Growth",
        399,
        3990,
        r#"{"campaigns": 50, "seats": 10}"#,
    ),
    plan(
        "ads-enterprise",
        "ads",
        "enterprise",
        "PromptAds Enterprise",
        1499,
        14990,
        r#"{"seats": 50}"#,
    ),
    plan(
        "crm-starter",
        "crm",
        "starter",
        "PromptCrm Starter",
        79,
        790,
        r#"{"customers": 10000, "seats": 3}"#,
    ),
    plan(
        "crm-growth",
        "crm",
        "growth",
        "PromptCrm Growth",
        299,
        2990,
        r#"{"customers": 100000, "seats": 10}"#,
    ),
    plan(
        "crm-enterprise",
        "crm",
        "enterprise",
        "PromptCrm Enterprise",
        1199,
        11990,
        r#"{"seats": 50}"#,
    ),
    plan(
        "bundle-starter",
        "bundle",
        "starter",
        "PromptSales Suite Starter",
        199,
        1990,
        r#"{"campaigns": 10, "customers": 20000, "seats": 5}"#,
    ),
    plan(
        "bundle-growth",
        "bundle",
        "growth",
        "PromptSales Suite Growth",
        799,
        7990,
        r#"{"campaigns": 100, "customers": 250000, "seats": 20}"#,
    ),
    plan(
        "bundle-enterprise",
        "bundle",
        "enterprise",
        "PromptSales Suite Enterprise",
        2999,
        29990,
        r#"{}"#,
    ),
];

const fn plan(
    code: &'static str,
    subsidiary: &'static str,
    tier: &'static str,
    name: &'static str,
    monthly: i64,
    annual: i64,
    limits: &'static str,
) -> Plan {
    Plan {
        code,
        subsidiary,
        tier,
        name,
        monthly,
        annual,
        limits,
    }
}

impl Plan {
    pub fn id(&self) -> Uuid {
        reference_id(RefKind::Plan, self.code)
    }
}
