//! The `ask` parser against a catalogue fixture: at least 40 questions, half Spanish and half
//! English, with typos and missing accents, and the structured interpretation each must produce.

use chrono::NaiveDate;
use promptsales_mcp_sales::{
    ask::{Lang, parse},
    catalog::{CampaignRef, Catalogue, MarketRef, Named},
    query::{Grouping, Intent, Metric, Order, Series, Status},
};

const C1: &str = "00000000-0000-0000-0000-0000000000c1";
const C2: &str = "00000000-0000-0000-0000-0000000000c2";
const C3: &str = "00000000-0000-0000-0000-0000000000c3";
const C4: &str = "00000000-0000-0000-0000-0000000000c4";
const C5: &str = "00000000-0000-0000-0000-0000000000c5";
const C6: &str = "00000000-0000-0000-0000-0000000000c6";
const B1: &str = "00000000-0000-0000-0000-0000000000b1";
const B2: &str = "00000000-0000-0000-0000-0000000000b2";
const B3: &str = "00000000-0000-0000-0000-0000000000b3";

fn catalogue() -> Catalogue {
    let c = |id: &str, name: &str, brand: &str| CampaignRef {
        id: id.into(),
        name: name.into(),
        brand_id: Some(brand.into()),
    };
    let n = |key: &str, name: &str| Named {
        key: key.into(),
        name: name.into(),
    };
    let m = |code: &str, name: &str| MarketRef {
        code: code.into(),
        name: name.into(),
        country: code.into(),
    };
    Catalogue {
        campaigns: vec![
            c(C1, "Frescura Verano Fresco 2025", B1),
            c(C2, "Verano Fresco 2024: Agua Mineral", B2),
            c(C3, "Andina · Navidad Mágica MX 2024", B2),
            c(C4, "Lanzamiento Otoño 2025", B1),
            c(C5, "Back to School 2025", B3),
            c(C6, "Black Friday 2024", B3),
        ],
        brands: vec![n(B1, "Frescura"), n(B2, "Andina"), n(B3, "TechNova")],
        channels: vec![
            n("instagram", "Instagram"),
            n("facebook", "Facebook"),
            n("tiktok", "TikTok"),
            n("email", "E-mail"),
            n("x", "X"),
            n("google_search", "Google Search"),
        ],
        markets: vec![
            m("MX", "México"),
            m("US", "United States"),
            m("CO", "Colombia"),
            m("PE", "Perú"),
            m("AR", "Argentina"),
        ],
    }
}

/// What a question must produce; `None` fields are not checked, except that unresolved and
/// unmappable questions must say so.
#[derive(Default)]
struct Expect {
    lang: Option<Lang>,
    intent: Option<Intent>,
    metrics: Option<Vec<Metric>>,
    campaigns: Option<Vec<&'static str>>,
    other_campaigns: Option<Vec<&'static str>>,
    brand: Option<&'static str>,
    channel: Option<&'static str>,
    country: Option<&'static str>,
    status: Option<Status>,
    period: Option<(&'static str, &'static str)>,
    other_period: Option<(&'static str, &'static str)>,
    group: Option<Grouping>,
    series: Option<Series>,
    order: Option<Order>,
    limit: Option<u32>,
    /// (kind, reason, candidate keys that must be offered)
    unresolved: Option<(&'static str, &'static str, Vec<&'static str>)>,
    unmappable: bool,
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn check(question: &str, e: &Expect) -> Vec<String> {
    let today = d("2025-10-31");
    let i = parse(question, &catalogue(), today);
    let mut bad = Vec::new();
    let mut eq = |what: &str, ok: bool, got: String| {
        if !ok {
            bad.push(format!("{what}: got {got}"));
        }
    };
    if let Some(l) = e.lang {
        eq("language", i.language == l, format!("{:?}", i.language));
    }
    if e.unmappable {
        eq("unmappable", i.plan.is_none(), format!("{:?}", i.plan));
        eq(
            "not understood listed",
            !i.not_understood.is_empty(),
            format!("{:?}", i.not_understood),
        );
        return bad;
    }
    match &e.unresolved {
        Some((kind, reason, keys)) => {
            let u = i.unresolved.iter().find(|u| u.kind == *kind && u.reason == *reason);
            eq("unresolved", u.is_some(), format!("{:?}", i.unresolved));
            if let Some(u) = u {
                for k in keys {
                    eq(
                        "candidate",
                        u.candidates.iter().any(|c| c.key == *k),
                        format!("{:?} lacks {k}", u.candidates),
                    );
                }
            }
            eq("not runnable", !i.runnable(), "runnable".into());
        }
        None => eq("no unresolved", i.unresolved.is_empty(), format!("{:?}", i.unresolved)),
    }
    let Some(p) = &i.plan else {
        bad.push(format!("no plan; not understood {:?}", i.not_understood));
        return bad;
    };
    let got = format!("{p:?}");
    if let Some(x) = e.intent {
        eq("intent", p.intent == x, got.clone());
    }
    if let Some(x) = &e.metrics {
        eq("metrics", &p.metrics == x, format!("{:?}", p.metrics));
    }
    if let Some(x) = &e.campaigns {
        eq(
            "campaigns",
            p.selection.campaigns == *x,
            format!("{:?}", p.selection.campaigns),
        );
    }
    if let Some(x) = &e.other_campaigns {
        let other = p
            .other_selection
            .as_ref()
            .map(|s| s.campaigns.clone())
            .unwrap_or_default();
        eq("other campaigns", other == *x, format!("{other:?}"));
    }
    eq(
        "brand",
        p.selection.brand.as_deref() == e.brand,
        format!("{:?}", p.selection.brand),
    );
    eq(
        "channel",
        p.selection.channel.as_deref() == e.channel,
        format!("{:?}", p.selection.channel),
    );
    eq(
        "country",
        p.selection.country.as_deref() == e.country,
        format!("{:?}", p.selection.country),
    );
    eq(
        "status",
        p.selection.status == e.status,
        format!("{:?}", p.selection.status),
    );
    let period = p.period.map(|p| (p.from, p.to));
    eq(
        "period",
        period == e.period.map(|(a, b)| (d(a), d(b))),
        format!("{period:?}"),
    );
    let other = p.other_period.map(|p| (p.from, p.to));
    eq(
        "other period",
        other == e.other_period.map(|(a, b)| (d(a), d(b))),
        format!("{other:?}"),
    );
    if let Some(x) = e.group {
        eq("group", p.group_by == Some(x), format!("{:?}", p.group_by));
    }
    if let Some(x) = e.series {
        eq("series", p.series == Some(x), format!("{:?}", p.series));
    }
    if let Some(x) = e.order {
        eq("order", p.order == x, format!("{:?}", p.order));
    }
    if let Some(x) = e.limit {
        eq("limit", p.limit == Some(x), format!("{:?}", p.limit));
    }
    bad
}

fn table() -> Vec<(&'static str, Expect)> {
    use Metric::*;
    let es = Some(Lang::Es);
    let en = Some(Lang::En);
    vec![
        // ---- Spanish ----
        (
            "¿Cuál fue el alcance y el porcentaje de éxito de la campaña Frescura Verano Fresco 2025 en diciembre?",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Reach, SuccessRate]),
                campaigns: Some(vec![C1]),
                period: Some(("2024-12-01", "2024-12-31")),
                ..Expect::default()
            },
        ),
        (
            "¿Cuál fue el alcance y el porcentaje de éxito de la campaña Verano Fresco en diciembre?",
            Expect {
                lang: es,
                unresolved: Some(("campaign", "ambiguous", vec![C1, C2])),
                period: Some(("2024-12-01", "2024-12-31")),
                ..Expect::default()
            },
        ),
        (
            "top 5 campañas por ROI en México en 2025",
            Expect {
                lang: es,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![Roi]),
                country: Some("MX"),
                period: Some(("2025-01-01", "2025-12-31")),
                group: Some(Grouping::Campaign),
                limit: Some(5),
                order: Some(Order::Top),
                ..Expect::default()
            },
        ),
        (
            "ventas por canal de la marca Andina el trimestre pasado",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Sales]),
                brand: Some(B2),
                group: Some(Grouping::Channel),
                period: Some(("2025-07-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "¿Qué canal vendió más para Frescura en el último trimestre?",
            Expect {
                lang: es,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![Sales]),
                brand: Some(B1),
                group: Some(Grouping::Channel),
                period: Some(("2025-07-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "compara Black Friday 2024 con Back to School 2025",
            Expect {
                lang: es,
                intent: Some(Intent::Compare),
                campaigns: Some(vec![C6]),
                other_campaigns: Some(vec![C5]),
                ..Expect::default()
            },
        ),
        (
            "compara las ventas de enero con febrero",
            Expect {
                lang: es,
                intent: Some(Intent::Compare),
                metrics: Some(vec![Sales]),
                period: Some(("2025-01-01", "2025-01-31")),
                other_period: Some(("2025-02-01", "2025-02-28")),
                ..Expect::default()
            },
        ),
        (
            "tendencia de ingresos de Andina este año",
            Expect {
                lang: es,
                intent: Some(Intent::Trend),
                metrics: Some(vec![Revenue]),
                brand: Some(B2),
                period: Some(("2025-01-01", "2025-10-31")),
                series: Some(Series::Monthly),
                ..Expect::default()
            },
        ),
        (
            "¿qué día de la semana vendemos más en Instagram?",
            Expect {
                lang: es,
                intent: Some(Intent::BestWeekday),
                metrics: Some(vec![Sales]),
                channel: Some("instagram"),
                ..Expect::default()
            },
        ),
        (
            "mix de canales de la campaña Navidad Mágica",
            Expect {
                lang: es,
                intent: Some(Intent::ChannelMix),
                campaigns: Some(vec![C3]),
                ..Expect::default()
            },
        ),
        (
            "costo por venta por canal en Perú el mes pasado",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![CostPerSale]),
                country: Some("PE"),
                group: Some(Grouping::Channel),
                period: Some(("2025-09-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "las 3 peores campañas por tasa de exito",
            Expect {
                lang: es,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![SuccessRate]),
                order: Some(Order::Bottom),
                limit: Some(3),
                ..Expect::default()
            },
        ),
        (
            "comentarios negativos de la campaña Black Friday 2024",
            Expect {
                lang: es,
                intent: Some(Intent::Sentiment),
                campaigns: Some(vec![C6]),
                ..Expect::default()
            },
        ),
        (
            "alcanse y ventas de Lanzamiento Otono 2025",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Reach, Sales]),
                campaigns: Some(vec![C4]),
                ..Expect::default()
            },
        ),
        (
            "ingresos diarios de TechNova en los últimos 30 días",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Revenue]),
                brand: Some(B3),
                series: Some(Series::Daily),
                period: Some(("2025-10-02", "2025-10-31")),
                ..Expect::default()
            },
        ),
        (
            "ingresos mensuales de la marca Frescura en 2025",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Revenue]),
                brand: Some(B1),
                series: Some(Series::Monthly),
                period: Some(("2025-01-01", "2025-12-31")),
                ..Expect::default()
            },
        ),
        (
            "¿Cuánto gastamos en TikTok en septiembre?",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Cost]),
                channel: Some("tiktok"),
                period: Some(("2025-09-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "rendimiento de la campaña Aurora Boreal",
            Expect {
                lang: es,
                unresolved: Some(("campaign", "unknown", vec![])),
                ..Expect::default()
            },
        ),
        (
            "campañas activas con más likes",
            Expect {
                lang: es,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![Likes]),
                status: Some(Status::Active),
                group: Some(Grouping::Campaign),
                ..Expect::default()
            },
        ),
        (
            "¿quién ganó el partido de fútbol ayer noche?",
            Expect {
                lang: es,
                unmappable: true,
                ..Expect::default()
            },
        ),
        (
            "¿quién ganó el partido de fútbol?",
            Expect {
                lang: es,
                unmappable: true,
                ..Expect::default()
            },
        ),
        (
            "ventas por mercado de Black Friday 2024",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Sales]),
                campaigns: Some(vec![C6]),
                group: Some(Grouping::Market),
                ..Expect::default()
            },
        ),
        (
            "ROI de la marca Andnia en el Q3 2025",
            Expect {
                lang: es,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Roi]),
                brand: Some(B2),
                period: Some(("2025-07-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        // ---- English ----
        (
            "What was the reach and success rate of Black Friday 2024 in November 2024?",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Reach, SuccessRate]),
                campaigns: Some(vec![C6]),
                period: Some(("2024-11-01", "2024-11-30")),
                ..Expect::default()
            },
        ),
        (
            "Which channels sold most for brand TechNova last quarter?",
            Expect {
                lang: en,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![Sales]),
                brand: Some(B3),
                group: Some(Grouping::Channel),
                period: Some(("2025-07-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "Which channels sold most for brand X last quarter?",
            Expect {
                lang: en,
                unresolved: Some(("brand", "unknown", vec![B1, B2, B3])),
                period: Some(("2025-07-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "top 3 campaigns by revenue in Colombia this year",
            Expect {
                lang: en,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![Revenue]),
                country: Some("CO"),
                limit: Some(3),
                period: Some(("2025-01-01", "2025-10-31")),
                ..Expect::default()
            },
        ),
        (
            "worst 5 campaigns by cost per sale",
            Expect {
                lang: en,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![CostPerSale]),
                order: Some(Order::Bottom),
                limit: Some(5),
                ..Expect::default()
            },
        ),
        (
            "compare Verano Fresco 2024 vs Frescura Verano Fresco 2025",
            Expect {
                lang: en,
                intent: Some(Intent::Compare),
                campaigns: Some(vec![C2]),
                other_campaigns: Some(vec![C1]),
                ..Expect::default()
            },
        ),
        (
            "compare revenue in January vs February",
            Expect {
                lang: en,
                intent: Some(Intent::Compare),
                metrics: Some(vec![Revenue]),
                period: Some(("2025-01-01", "2025-01-31")),
                other_period: Some(("2025-02-01", "2025-02-28")),
                ..Expect::default()
            },
        ),
        (
            "revenue trend for Andina in 2025",
            Expect {
                lang: en,
                intent: Some(Intent::Trend),
                metrics: Some(vec![Revenue]),
                brand: Some(B2),
                period: Some(("2025-01-01", "2025-12-31")),
                series: Some(Series::Monthly),
                ..Expect::default()
            },
        ),
        (
            "best day of the week for sales on Instagram",
            Expect {
                lang: en,
                intent: Some(Intent::BestWeekday),
                metrics: Some(vec![Sales]),
                channel: Some("instagram"),
                ..Expect::default()
            },
        ),
        (
            "channel mix of TechNova last month",
            Expect {
                lang: en,
                intent: Some(Intent::ChannelMix),
                brand: Some(B3),
                period: Some(("2025-09-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "cost per sale by channel for Frescura in Q2 2025",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![CostPerSale]),
                brand: Some(B1),
                group: Some(Grouping::Channel),
                period: Some(("2025-04-01", "2025-06-30")),
                ..Expect::default()
            },
        ),
        (
            "negative sentiment for Black Friday 2024",
            Expect {
                lang: en,
                intent: Some(Intent::Sentiment),
                campaigns: Some(vec![C6]),
                ..Expect::default()
            },
        ),
        (
            "daily sales of Back to School 2025 in September",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Sales]),
                campaigns: Some(vec![C5]),
                series: Some(Series::Daily),
                period: Some(("2025-09-01", "2025-09-30")),
                ..Expect::default()
            },
        ),
        (
            "monthly revenue of Andina in Mexico",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Revenue]),
                brand: Some(B2),
                country: Some("MX"),
                series: Some(Series::Monthly),
                ..Expect::default()
            },
        ),
        (
            "how many likes did Lanzamiento Otoño 2025 get on facebook?",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Likes]),
                campaigns: Some(vec![C4]),
                channel: Some("facebook"),
                ..Expect::default()
            },
        ),
        (
            "revnue of the Navidad Magica campaign in dec 2024",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Revenue]),
                campaigns: Some(vec![C3]),
                period: Some(("2024-12-01", "2024-12-31")),
                ..Expect::default()
            },
        ),
        (
            "Who won the football match?",
            Expect {
                lang: en,
                unmappable: true,
                ..Expect::default()
            },
        ),
        (
            "top 10 countries by views",
            Expect {
                lang: en,
                intent: Some(Intent::Ranking),
                metrics: Some(vec![Views]),
                group: Some(Grouping::Market),
                limit: Some(10),
                ..Expect::default()
            },
        ),
        (
            "engagement rate of paused campaigns in the United States",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![EngagementRate]),
                status: Some(Status::Paused),
                country: Some("US"),
                group: Some(Grouping::Campaign),
                ..Expect::default()
            },
        ),
        (
            "sales in the last 7 days",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Sales]),
                period: Some(("2025-10-25", "2025-10-31")),
                ..Expect::default()
            },
        ),
        (
            "spend of the Verano Fresco campaign",
            Expect {
                lang: en,
                unresolved: Some(("campaign", "ambiguous", vec![C1, C2])),
                ..Expect::default()
            },
        ),
        (
            "ROI by market for Frescura Verano Fresco 2025 last year",
            Expect {
                lang: en,
                intent: Some(Intent::Performance),
                metrics: Some(vec![Roi]),
                campaigns: Some(vec![C1]),
                group: Some(Grouping::Market),
                period: Some(("2024-01-01", "2024-12-31")),
                ..Expect::default()
            },
        ),
    ]
}

#[test]
fn should_interpret_each_question_of_the_table() {
    let table = table();
    let spanish = table.iter().filter(|(_, e)| e.lang == Some(Lang::Es)).count();
    let english = table.iter().filter(|(_, e)| e.lang == Some(Lang::En)).count();
    assert!(
        table.len() >= 40 && spanish >= 20 && english >= 20,
        "{spanish} es, {english} en"
    );
    let failures: Vec<String> = table
        .iter()
        .filter_map(|(q, e)| {
            let bad = check(q, e);
            (!bad.is_empty()).then(|| format!("{q}\n    {}", bad.join("\n    ")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} questions misread:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}

#[test]
fn should_not_guess_a_name_written_before_the_word_campaign() {
    let i = parse("revenue of the Zzyzx Quantum campaign", &catalogue(), d("2025-10-31"));
    assert!(!i.runnable());
    assert_eq!(i.unresolved[0].text, "zzyzx quantum");
    assert_eq!(i.unresolved[0].reason, "unknown");
}

#[test]
fn should_list_what_it_did_not_understand() {
    let i = parse(
        "ventas de Black Friday 2024 según el horóscopo",
        &catalogue(),
        d("2025-10-31"),
    );
    assert_eq!(i.not_understood, ["horoscopo"]);
    assert!(i.runnable());
}
