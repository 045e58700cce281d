//! The offline composer: three messages per population (awareness, consideration, conversion)
//! written from the brief and the population's attributes, with no model at all, so the brief
//! tool works without a network. It is also the fallback when a model's answer fails the checks.
//!
//! - Language: the population's first locale (`es-*` Spanish, anything else English).
//! - Tone: by age, casual up to 24, warm and plain from 50, friendly in between.
//! - Channel: the population's own, else by age (TikTok/Instagram young, Instagram/Facebook in
//!   the middle, e-mail/Facebook older) with Instagram for visual interests.
//! - Length: within the channel's limit (SMS 160, X 280 characters).

use serde::Serialize;

use crate::brief::Population;

/// The three stages, in the order they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Awareness,
    Consideration,
    Conversion,
}

pub const STAGES: [Stage; 3] = [Stage::Awareness, Stage::Consideration, Stage::Conversion];

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Awareness => "awareness",
            Stage::Consideration => "consideration",
            Stage::Conversion => "conversion",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Es,
    En,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Casual,
    Friendly,
    Warm,
}

/// How one population is written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fit {
    pub lang: Lang,
    pub locale: String,
    pub tone: Tone,
    pub channel: String,
}

/// Longest text a channel takes.
pub fn channel_limit(channel: &str) -> usize {
    match channel {
        "sms" => 160,
        "x" => 280,
        _ => 600,
    }
}

const VISUAL: &[&str] = &[
    "photography",
    "fotografía",
    "fashion",
    "moda",
    "music",
    "música",
    "festival",
    "travel",
    "viaje",
    "beach",
    "playa",
];

/// Language, tone and channel for a population.
pub fn fit(p: &Population) -> Fit {
    let locale = p.locales.first().cloned().unwrap_or_else(|| "en-US".into());
    let lang = if locale.starts_with("es") { Lang::Es } else { Lang::En };
    let tone = if p.age_max <= 24 {
        Tone::Casual
    } else if p.age_min >= 50 {
        Tone::Warm
    } else {
        Tone::Friendly
    };
    let visual = p
        .interests
        .iter()
        .any(|i| VISUAL.iter().any(|v| i.to_lowercase().contains(v)));
    let chosen = match (p.age_max, p.age_min) {
        (..=24, _) if visual => "instagram",
        (..=24, _) => "tiktok",
        (_, 45..) => "email",
        _ if visual => "instagram",
        _ => "facebook",
    };
    let channel = p.channel.clone().unwrap_or_else(|| chosen.to_owned());
    Fit {
        lang,
        locale,
        tone,
        channel,
    }
}

/// The product or brand the messages name: the given one, else the description's first clause.
pub fn product_of(description: &str, product: Option<&str>) -> String {
    if let Some(p) = product.map(str::trim).filter(|p| !p.is_empty()) {
        return p.to_owned();
    }
    let first = description
        .split(['.', ':', ';', '\n', '!', '?'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or(description);
    let words: Vec<&str> = first.split_whitespace().take(8).collect();
    words.join(" ")
}

fn template(lang: Lang, tone: Tone, stage: Stage) -> &'static str {
    use {Lang::*, Stage::*, Tone::*};
    match (lang, tone, stage) {
        (Es, Casual, Awareness) => "¿Ya viste {product}? Pensado para quienes viven {interest}. Te va a encantar.",
        (Es, Casual, Consideration) => {
            "{product}: lo que buscas para {interest}, sin complicaciones. Mira por qué todos hablan de esto."
        }
        (Es, Casual, Conversion) => {
            "¡Es tu momento! Consigue {product} hoy en {channel_name}. No te quedes sin el tuyo."
        }
        (Es, Friendly, Awareness) => "Te presentamos {product}, pensado para ti y para {interest}.",
        (Es, Friendly, Consideration) => {
            "¿Por qué elegir {product}? Calidad en la que puedes confiar, ideal para {interest}. Descubre los detalles."
        }
        (Es, Friendly, Conversion) => "Aprovecha hoy: consigue {product} y disfruta {interest} a tu manera. Compra ya.",
        (Es, Warm, Awareness) => "Le presentamos {product}, hecho con cuidado para quienes disfrutan {interest}.",
        (Es, Warm, Consideration) => {
            "{product} le ofrece calidad y confianza para {interest}. Conozca todos los detalles con calma."
        }
        (Es, Warm, Conversion) => "Le esperamos: adquiera {product} hoy mismo. Estamos para ayudarle en cada paso.",
        (En, Casual, Awareness) => "Seen {product} yet? Made for anyone into {interest}. You'll love it.",
        (En, Casual, Consideration) => {
            "{product}: everything you want for {interest}, zero hassle. See why everyone's talking."
        }
        (En, Casual, Conversion) => "Your move! Grab {product} today on {channel_name}. Don't miss yours.",
        (En, Friendly, Awareness) => "Meet {product}, made for you and for {interest}.",
        (En, Friendly, Consideration) => {
            "Why choose {product}? Quality you can trust, ideal for {interest}. Discover the details."
        }
        (En, Friendly, Conversion) => "Make it yours today: get {product} and enjoy {interest} your way. Shop now.",
        (En, Warm, Awareness) => {
            "We are pleased to introduce {product}, made with care for those who enjoy {interest}."
        }
        (En, Warm, Consideration) => {
            "{product} offers quality and peace of mind for {interest}. Take your time to learn more."
        }
        (En, Warm, Conversion) => {
            "We look forward to welcoming you: get {product} today. We're here to help every step of the way."
        }
    }
}

fn channel_name(channel: &str) -> &str {
    match channel {
        "instagram" => "Instagram",
        "tiktok" => "TikTok",
        "facebook" => "Facebook",
        "email" => "e-mail",
        "sms" => "SMS",
        "x" => "X",
        "linkedin" => "LinkedIn",
        "youtube" => "YouTube",
        other => other,
    }
}

/// Cuts `text` to `limit` characters at a word boundary, ending with `…`.
fn within(text: String, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text;
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 2 > limit {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

/// The three messages for `population`, in stage order.
pub fn compose(product: &str, population: &Population, fit: &Fit) -> [String; 3] {
    let interest = population.interests.first().map_or_else(
        || match fit.lang {
            Lang::Es => "tu día a día".to_owned(),
            Lang::En => "every day".to_owned(),
        },
        |i| i.trim().to_lowercase(),
    );
    let limit = channel_limit(&fit.channel);
    STAGES.map(|stage| {
        let text = template(fit.lang, fit.tone, stage)
            .replace("{product}", product)
            .replace("{interest}", &interest)
            .replace("{channel_name}", channel_name(&fit.channel));
        within(text, limit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(ages: (i32, i32), locale: &str, interests: &[&str]) -> Population {
        Population {
            name: "P".into(),
            age_min: ages.0,
            age_max: ages.1,
            locales: vec![locale.into()],
            interests: interests.iter().map(|s| (*s).to_owned()).collect(),
            country_codes: vec!["MX".into()],
            channel: None,
        }
    }

    #[test]
    fn should_fit_language_tone_and_channel_to_the_population() {
        let students = fit(&population((18, 24), "es-MX", &["music festivals"]));
        assert_eq!(
            (students.lang, students.tone, students.channel.as_str()),
            (Lang::Es, Tone::Casual, "instagram")
        );
        let seniors = fit(&population((55, 75), "en-US", &["gardening"]));
        assert_eq!(
            (seniors.lang, seniors.tone, seniors.channel.as_str()),
            (Lang::En, Tone::Warm, "email")
        );
        let adults = fit(&population((30, 44), "en-GB", &["cooking"]));
        assert_eq!((adults.tone, adults.channel.as_str()), (Tone::Friendly, "facebook"));
    }

    #[test]
    fn should_write_three_distinct_messages_naming_the_product_within_the_channel_limit() {
        let mut p = population((18, 24), "es-MX", &["Gaming"]);
        p.channel = Some("sms".into());
        let f = fit(&p);
        let messages = compose("Café Aurora cold brew", &p, &f);
        assert!(
            messages
                .iter()
                .all(|m| m.contains("Café Aurora") && m.chars().count() <= 160)
        );
        assert!(messages[0] != messages[1] && messages[1] != messages[2]);
        assert!(messages[1].contains("gaming"));
    }

    #[test]
    fn should_take_the_product_from_the_description_when_not_given() {
        assert_eq!(
            product_of("Launch of Café Aurora cold brew in Mexico City: 2x1 in June.", None),
            "Launch of Café Aurora cold brew in Mexico",
            "the first clause, at most eight words"
        );
        assert_eq!(product_of("whatever", Some(" Aurora ")), "Aurora");
    }
}
