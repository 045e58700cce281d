//! A small, fully known data set for the ads store, loadable into PostgreSQL and SQL Server
//! alike, so the conformance suite can assert exact results on either engine.
//!
//! Two organizations: A with 60 live campaigns (plus one deleted) and B with 3. Campaign
//! `report` (A's first) has daily results over ten days and sentiment over 28 days, in which its
//! second ad turns negative on `turn_day` (dominant type `quality`, influencer reactions falling
//! from 8 to 2 a day). B's first campaign has an ad that turns negative too (type `price`).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use promptsales_platform::ids::{RefKind, reference_id};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A value to insert.
#[derive(Debug, Clone)]
pub enum V {
    Uuid(Option<Uuid>),
    Str(Option<String>),
    I64(i64),
    I32(i32),
    Dec(Decimal),
    Date(NaiveDate),
    Time(Option<DateTime<Utc>>),
}

fn s(v: &str) -> V {
    V::Str(Some(v.to_owned()))
}

fn u(v: Uuid) -> V {
    V::Uuid(Some(v))
}

/// Rows for one table.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<V>>,
}

pub const CHANNELS: [(&str, &str, &str); 5] = [
    ("creators", "Creators network", "influencer"),
    ("email", "E-mail", "email"),
    ("facebook", "Facebook", "social"),
    ("google", "Google Search", "search"),
    ("instagram", "Instagram", "social"),
];
pub const MARKETS: [(&str, &str, &str, &str, &str); 3] = [
    ("CO", "LATAM", "Colombia", "COP", "America/Bogota"),
    ("MX", "LATAM", "Mexico", "MXN", "America/Mexico_City"),
    ("US", "NA", "United States", "USD", "America/New_York"),
];
pub const STATUSES: [&str; 6] = ["active", "draft", "scheduled", "paused", "finished", "cancelled"];

pub fn channel_id(code: &str) -> Uuid {
    reference_id(RefKind::Channel, code)
}

pub fn market_id(code: &str) -> Uuid {
    reference_id(RefKind::Market, code)
}

fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("ads-fixture:{name}").as_bytes())
}

/// One campaign of the fixture, as written.
#[derive(Debug, Clone)]
pub struct FxCampaign {
    pub id: Uuid,
    pub org: Uuid,
    pub brand: Uuid,
    pub product: Option<Uuid>,
    pub name: String,
    pub status: &'static str,
    pub starts_at: DateTime<Utc>,
    /// (channel code, share), largest share first.
    pub channels: Vec<(&'static str, Decimal)>,
    pub markets: Vec<&'static str>,
    /// Ad ids, in name order ("Ad 1", "Ad 2").
    pub ads: Vec<Uuid>,
    pub deleted: bool,
}

/// One daily result row, as written.
#[derive(Debug, Clone)]
pub struct FxResult {
    pub campaign: Uuid,
    pub ad: Uuid,
    pub channel: &'static str,
    pub market: &'static str,
    pub day: NaiveDate,
    pub views: i64,
    pub interactions: i64,
    pub likes: i64,
    pub sales: i64,
    pub reach: i64,
    pub exposure_hours: Decimal,
    pub cost: Decimal,
    pub revenue: Decimal,
    pub deleted: bool,
}

pub struct Fixture {
    pub org_a: Uuid,
    pub org_b: Uuid,
    pub brand_a1: Uuid,
    pub brand_a2: Uuid,
    pub brand_b1: Uuid,
    pub product_a1: Uuid,
    pub product_b1: Uuid,
    pub influencers: Vec<(Uuid, i64)>,
    pub campaigns: Vec<FxCampaign>,
    pub results: Vec<FxResult>,
    /// A's first campaign: results and sentiment.
    pub report: Uuid,
    pub day0: NaiveDate,
    pub turn_day: NaiveDate,
    /// The ad of `report` that turns negative, and the one that stays positive.
    pub negative_ad: Uuid,
    pub positive_ad: Uuid,
    /// B's ad that turns negative.
    pub negative_ad_b: Uuid,
    pub sentiment_rows: usize,
}

impl Fixture {
    pub fn new() -> Fixture {
        let org_a = id("org-a");
        let org_b = id("org-b");
        let (brand_a1, brand_a2, brand_b1) = (id("brand-a1"), id("brand-a2"), id("brand-b1"));
        let (product_a1, product_b1) = (id("product-a1"), id("product-b1"));
        let base = Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).single().expect("valid time");
        let mut campaigns = Vec::new();
        for i in 0..61 {
            let even = i % 2 == 0;
            let channels = if even {
                vec![("instagram", Decimal::new(5, 1)), ("email", Decimal::new(3, 1))]
            } else {
                vec![("facebook", Decimal::new(6, 1))]
            };
            let mut markets = vec!["MX"];
            if i % 3 == 0 {
                markets.push("US");
            }
            campaigns.push(FxCampaign {
                id: id(&format!("campaign-a{i}")),
                org: org_a,
                brand: if even { brand_a1 } else { brand_a2 },
                product: even.then_some(product_a1),
                // Every fifth is a spring campaign, to search for.
                name: if i % 5 == 0 {
                    format!("Spring Sale A{i:02}")
                } else {
                    format!("Campaign A{i:02}")
                },
                status: STATUSES[i % STATUSES.len()],
                // The first campaign starts last: the list's newest-first order is index order.
                starts_at: base + Duration::days(100 - i as i64),
                channels,
                markets,
                ads: vec![id(&format!("ad-a{i}-1")), id(&format!("ad-a{i}-2"))],
                deleted: i == 60,
            });
        }
        for i in 0..3 {
            campaigns.push(FxCampaign {
                id: id(&format!("campaign-b{i}")),
                org: org_b,
                brand: brand_b1,
                product: Some(product_b1),
                name: format!("Spring B{i}"),
                status: "active",
                starts_at: base + Duration::days(200 - i as i64),
                channels: vec![("instagram", Decimal::ONE)],
                markets: vec!["CO"],
                ads: vec![id(&format!("ad-b{i}-1")), id(&format!("ad-b{i}-2"))],
                deleted: false,
            });
        }
        let report = campaigns[0].id;
        let day0 = NaiveDate::from_ymd_opt(2025, 3, 1).expect("valid day");
        let mut results = Vec::new();
        for (a, ad) in campaigns[0].ads.iter().enumerate() {
            for (c, channel) in ["instagram", "email"].into_iter().enumerate() {
                for (m, market) in ["MX", "US"].into_iter().enumerate() {
                    for d in 0..10 {
                        let views = 1000 + 10 * d + 100 * a as i64 + 7 * c as i64 + 3 * m as i64;
                        let interactions = views / 10;
                        let sales = interactions / 20;
                        results.push(FxResult {
                            campaign: report,
                            ad: *ad,
                            channel,
                            market,
                            day: day0 + Duration::days(d),
                            views,
                            interactions,
                            likes: interactions / 2,
                            sales,
                            reach: views * 8 / 10,
                            exposure_hours: Decimal::new(views, 2),
                            cost: Decimal::new(views * 5, 2),
                            revenue: Decimal::new(sales * 1999, 2),
                            // One retracted row: reports skip it, the ETL sees it.
                            deleted: a == 1 && c == 1 && m == 1 && d == 9,
                        });
                    }
                }
            }
        }
        // A second campaign with a little, so reports batch over several campaigns.
        for d in 0..3 {
            results.push(FxResult {
                campaign: campaigns[1].id,
                ad: campaigns[1].ads[0],
                channel: "facebook",
                market: "MX",
                day: day0 + Duration::days(d),
                views: 500,
                interactions: 50,
                likes: 20,
                sales: 2,
                reach: 400,
                exposure_hours: Decimal::new(500, 2),
                cost: Decimal::new(2500, 2),
                revenue: Decimal::new(3998, 2),
                deleted: false,
            });
        }
        let negative_ad = campaigns[0].ads[1];
        let positive_ad = campaigns[0].ads[0];
        let negative_ad_b = campaigns[61].ads[0];
        Fixture {
            org_a,
            org_b,
            brand_a1,
            brand_a2,
            brand_b1,
            product_a1,
            product_b1,
            influencers: vec![
                (id("inf-1"), 12_000),
                (id("inf-2"), 5_000),
                (id("inf-3"), 900),
                (id("inf-4"), 40_000),
            ],
            campaigns,
            results,
            report,
            day0,
            turn_day: day0 + Duration::days(14),
            negative_ad,
            positive_ad,
            negative_ad_b,
            sentiment_rows: 3 * 28,
        }
    }

    /// Live campaigns of organization A, in the list's order (newest start first).
    pub fn live_a(&self) -> Vec<&FxCampaign> {
        self.campaigns
            .iter()
            .filter(|c| c.org == self.org_a && !c.deleted)
            .collect()
    }

    pub fn campaign(&self, id: Uuid) -> &FxCampaign {
        self.campaigns.iter().find(|c| c.id == id).expect("fixture campaign")
    }

    /// The tables to load, parents first.
    pub fn tables(&self) -> Vec<Table> {
        let created = Utc.with_ymd_and_hms(2024, 12, 1, 0, 0, 0).single().expect("valid time");
        let mut t = Vec::new();
        t.push(Table {
            name: "ads.brands",
            columns: &["id", "organization_id", "name"],
            rows: vec![
                vec![u(self.brand_a1), u(self.org_a), s("Alfa One")],
                vec![u(self.brand_a2), u(self.org_a), s("Alfa Two")],
                vec![u(self.brand_b1), u(self.org_b), s("Bravo One")],
            ],
        });
        t.push(Table {
            name: "ads.products",
            columns: &["id", "brand_id", "organization_id", "name", "unit_price", "currency"],
            rows: vec![
                vec![
                    u(self.product_a1),
                    u(self.brand_a1),
                    u(self.org_a),
                    s("Alfa Cola"),
                    V::Dec(Decimal::new(199, 2)),
                    s("USD"),
                ],
                vec![
                    u(self.product_b1),
                    u(self.brand_b1),
                    u(self.org_b),
                    s("Bravo Tea"),
                    V::Dec(Decimal::new(350, 2)),
                    s("MXN"),
                ],
            ],
        });
        t.push(Table {
            name: "ads.channels",
            columns: &["id", "code", "name", "kind", "default_cost_model"],
            rows: CHANNELS
                .iter()
                .map(|(code, name, kind)| vec![u(channel_id(code)), s(code), s(name), s(kind), s("cpm")])
                .collect(),
        });
        t.push(Table {
            name: "ads.markets",
            columns: &["id", "code", "country_code", "region", "name", "currency", "timezone"],
            rows: MARKETS
                .iter()
                .map(|(code, region, name, currency, tz)| {
                    vec![
                        u(market_id(code)),
                        s(code),
                        s(code),
                        s(region),
                        s(name),
                        s(currency),
                        s(tz),
                    ]
                })
                .collect(),
        });
        t.push(Table {
            name: "ads.influencers",
            columns: &[
                "id",
                "channel_id",
                "handle",
                "display_name",
                "followers",
                "niche",
                "country_code",
            ],
            rows: self
                .influencers
                .iter()
                .enumerate()
                .map(|(i, (inf, followers))| {
                    let channel = if i == 3 { "creators" } else { "instagram" };
                    vec![
                        u(*inf),
                        u(channel_id(channel)),
                        s(&format!("creator{i}")),
                        s(&format!("Creator {i}")),
                        V::I64(*followers),
                        s("fitness"),
                        s("MX"),
                    ]
                })
                .collect(),
        });
        let mut campaigns = Vec::new();
        let mut channels = Vec::new();
        let mut markets = Vec::new();
        let mut ads = Vec::new();
        for c in &self.campaigns {
            campaigns.push(vec![
                u(c.id),
                u(c.org),
                u(c.brand),
                V::Uuid(c.product),
                s(&c.name),
                s("A campaign of the fixture."),
                s("sales"),
                s(c.status),
                V::Dec(Decimal::new(1_000_000, 2)),
                s("USD"),
                V::Time(Some(c.starts_at)),
                V::Time(Some(c.starts_at + Duration::days(30))),
                V::I32(1),
                V::Time(Some(created)),
                V::Time(c.deleted.then_some(created + Duration::days(1))),
            ]);
            for (code, share) in &c.channels {
                channels.push(vec![u(c.id), u(channel_id(code)), V::Dec(*share)]);
            }
            for code in &c.markets {
                markets.push(vec![u(c.id), u(market_id(code))]);
            }
            for (k, ad) in c.ads.iter().enumerate() {
                let text = k == 1;
                ads.push(vec![
                    u(*ad),
                    u(c.id),
                    s(&format!("Ad {}", k + 1)),
                    s(if text { "text" } else { "image" }),
                    s("Fresh taste"),
                    V::Str(text.then(|| "Try it today.".to_owned())),
                    s("Buy now"),
                    s("https://example.com/offer"),
                    s("active"),
                ]);
            }
        }
        t.push(Table {
            name: "ads.campaigns",
            columns: &[
                "id",
                "organization_id",
                "brand_id",
                "product_id",
                "name",
                "description",
                "objective",
                "status",
                "budget",
                "currency",
                "starts_at",
                "ends_at",
                "version",
                "created_at",
                "deleted_at",
            ],
            rows: campaigns,
        });
        t.push(Table {
            name: "ads.campaign_channels",
            columns: &["campaign_id", "channel_id", "budget_share"],
            rows: channels,
        });
        t.push(Table {
            name: "ads.campaign_markets",
            columns: &["campaign_id", "market_id"],
            rows: markets,
        });
        t.push(Table {
            name: "ads.ads",
            columns: &[
                "id",
                "campaign_id",
                "name",
                "format",
                "headline",
                "body",
                "call_to_action",
                "landing_url",
                "status",
            ],
            rows: ads,
        });
        t.push(Table {
            name: "ads.ad_placements",
            columns: &["id", "ad_id", "channel_id", "influencer_id", "cost_model", "unit_cost"],
            rows: vec![
                vec![
                    u(id("placement-1")),
                    u(self.positive_ad),
                    u(channel_id("instagram")),
                    u(self.influencers[0].0),
                    s("cpm"),
                    V::Dec(Decimal::new(45, 1)),
                ],
                vec![
                    u(id("placement-2")),
                    u(self.negative_ad),
                    u(channel_id("email")),
                    V::Uuid(None),
                    s("cpc"),
                    V::Dec(Decimal::new(30, 2)),
                ],
            ],
        });
        t.push(Table {
            name: "ads.ad_results",
            columns: &[
                "campaign_id",
                "ad_id",
                "channel_id",
                "market_id",
                "day",
                "likes",
                "views",
                "interactions",
                "sales",
                "exposure_hours",
                "reach",
                "cost",
                "revenue",
                "deleted_at",
            ],
            rows: self
                .results
                .iter()
                .map(|r| {
                    vec![
                        u(r.campaign),
                        u(r.ad),
                        u(channel_id(r.channel)),
                        u(market_id(r.market)),
                        V::Date(r.day),
                        V::I64(r.likes),
                        V::I64(r.views),
                        V::I64(r.interactions),
                        V::I64(r.sales),
                        V::Dec(r.exposure_hours),
                        V::I64(r.reach),
                        V::Dec(r.cost),
                        V::Dec(r.revenue),
                        V::Time(r.deleted.then_some(created)),
                    ]
                })
                .collect(),
        });
        let mut samples = Vec::new();
        let b = &self.campaigns[61];
        for (campaign, ad, turns, kind) in [
            (self.report, self.positive_ad, false, "quality"),
            (self.report, self.negative_ad, true, "quality"),
            (b.id, self.negative_ad_b, true, "price"),
        ] {
            for d in 0..28 {
                let day = self.day0 + Duration::days(d);
                let negative = turns && day >= self.turn_day;
                let (pos, neu, neg, reactions) = if negative { (5, 10, 30, 2) } else { (30, 10, 5, 8) };
                let polarity = Decimal::new(((pos - neg) * 1000 / (pos + neu + neg)) as i64, 3);
                // Mostly `kind`, but every fourth negative day names another type, with fewer mentions.
                let (neg, ty) = match (negative, d % 4 == 3) {
                    (true, true) => (12, Some("misleading")),
                    (true, false) => (neg, Some(kind)),
                    _ => (neg, None),
                };
                let polarity = if negative && d % 4 == 3 {
                    Decimal::new(((pos - neg) * 1000 / (pos + neu + neg)) as i64, 3)
                } else {
                    polarity
                };
                samples.push(vec![
                    u(campaign),
                    u(ad),
                    u(channel_id("instagram")),
                    V::Date(day),
                    V::Dec(polarity),
                    V::I32(pos),
                    V::I32(neu),
                    V::I32(neg),
                    V::Str(ty.map(str::to_owned)),
                    V::I32(reactions),
                ]);
            }
        }
        t.push(Table {
            name: "ads.sentiment_samples",
            columns: &[
                "campaign_id",
                "ad_id",
                "channel_id",
                "day",
                "polarity",
                "positive_count",
                "neutral_count",
                "negative_count",
                "negative_type",
                "influencer_reactions",
            ],
            rows: samples,
        });
        t
    }
}
