//! Content requests and campaign logs for a share of the campaigns. Audiences are drawn from a
//! stream keyed by the campaign id, so a campaign's request and its logs name the same populations.

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{
    CampaignBrief,
    records::{CampaignLog, ContentRequest, LogMessage, TargetAudience},
    rng::{between, id_key, label_hash, ms, new_id, pick, sample_indices, stream},
    words::{
        AUDIENCES, CALENDAR, CAMPAIGN_TEXTS, Lang, MARKETS, MESSAGES, OBJECTIVES, capitalize, channel_name, fill,
        join_words,
    },
};

/// Share of the campaigns that get a content request, and (among started ones) campaign logs.
const SHARE: f64 = 0.35;

/// A market of a campaign as texts need it.
struct Market {
    code: String,
    locale: &'static str,
    lang: Lang,
    name_en: String,
    name_es: String,
}

fn markets(c: &CampaignBrief) -> Vec<Market> {
    let mut out: Vec<Market> = Vec::new();
    for raw in &c.market_codes {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) || out.iter().any(|m| m.code == code) {
            continue;
        }
        out.push(match MARKETS.iter().find(|m| m.code == code) {
            Some(m) => Market {
                code,
                locale: m.locale,
                lang: m.lang,
                name_en: m.name_en.to_owned(),
                name_es: m.name_es.to_owned(),
            },
            None => Market {
                name_en: code.clone(),
                name_es: code.clone(),
                code,
                locale: "en",
                lang: Lang::En,
            },
        });
    }
    if out.is_empty() {
        out.push(Market {
            code: "US".into(),
            locale: "en-US",
            lang: Lang::En,
            name_en: "the United States".into(),
            name_es: "Estados Unidos".into(),
        });
    }
    out
}

/// Channel codes of the campaign that fit the stores' pattern (`^[a-z0-9_]{1,40}$`).
pub(super) fn channels(c: &CampaignBrief) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for code in &c.channel_codes {
        let code = code.trim().to_ascii_lowercase();
        let fits = (1..=40).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if fits && !out.contains(&code) {
            out.push(code);
        }
    }
    out
}

/// The campaigns (indices, in input order) that get a record of kind `label`: the ~35% whose
/// per-seed hash is lowest among `eligible`. Order-independent and stable when campaigns are added.
fn chosen(
    seed: u64,
    label: &str,
    campaigns: &[CampaignBrief],
    eligible: impl Fn(&CampaignBrief) -> bool,
) -> Vec<usize> {
    let k = ((campaigns.len() as f64 * SHARE).round() as usize).max(usize::from(!campaigns.is_empty()));
    let mut ranked: Vec<(u64, usize)> = campaigns
        .iter()
        .enumerate()
        .filter(|(_, c)| eligible(c))
        .map(|(i, c)| (stream(seed, label, id_key(c.id)).random::<u64>(), i))
        .collect();
    ranked.sort();
    let mut picked: Vec<usize> = ranked.into_iter().take(k).map(|(_, i)| i).collect();
    picked.sort();
    picked
}

struct Audience {
    record: TargetAudience,
    /// Archetype name in English and Spanish, and the market names, for the request text.
    names: (&'static str, &'static str),
    market: (String, String),
}

fn audiences(seed: u64, c: &CampaignBrief) -> Vec<Audience> {
    let mut rng = stream(seed, "audiences", id_key(c.id));
    let markets = markets(c);
    let n = rng.random_range(1..=3_usize);
    sample_indices(&mut rng, AUDIENCES.len(), n)
        .into_iter()
        .enumerate()
        .map(|(k, a)| {
            let def = &AUDIENCES[a];
            let m = &markets[k % markets.len()];
            let bilingual = m.code == "US" && rng.random_bool(0.3);
            let (name, interests) = match m.lang {
                Lang::En => (def.name_en, &def.interests_en),
                Lang::Es => (def.name_es, &def.interests_es),
            };
            let name = if bilingual {
                format!("Bilingual {} {}", lower_first(name), m.code)
            } else {
                format!("{name} {}", m.code)
            };
            let mut locales = vec![m.locale.to_owned()];
            if bilingual {
                locales.push("es-US".to_owned());
            }
            let age_min = (i32::from(def.age_min) + rng.random_range(-2..=2)).clamp(13, 100);
            let age_max = (i32::from(def.age_max) + rng.random_range(-2..=3)).clamp(age_min, 100);
            let take = rng.random_range(2..=interests.len().max(2));
            let interests = sample_indices(&mut rng, interests.len(), take)
                .into_iter()
                .map(|i| interests[i].to_owned())
                .collect();
            Audience {
                record: TargetAudience {
                    name,
                    age_min: u8::try_from(age_min).expect("clamped to 13..=100"),
                    age_max: u8::try_from(age_max).expect("clamped to 13..=100"),
                    locales,
                    interests,
                    country_codes: vec![m.code.clone()],
                },
                names: (def.name_en, def.name_es),
                market: (m.name_en.clone(), m.name_es.clone()),
            }
        })
        .collect()
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

fn date(t: DateTime<Utc>, lang: Lang) -> String {
    let (en, es) = CALENDAR.months[t.month0() as usize];
    match lang {
        Lang::En => format!("{en} {}, {}", t.day(), t.year()),
        Lang::Es => format!("{} de {es} de {}", t.day(), t.year()),
    }
}

fn objective(c: &CampaignBrief, lang: Lang) -> String {
    let wanted = c.objective.to_lowercase();
    match OBJECTIVES.iter().find(|(kw, _, _)| wanted.contains(kw)) {
        Some((_, en, es)) => (if lang == Lang::En { *en } else { *es }).to_owned(),
        None if lang == Lang::En => format!("reach the goal \"{}\"", c.objective.trim()),
        None => format!("lograr el objetivo «{}»", c.objective.trim()),
    }
}

fn description(rng: &mut ChaCha8Rng, c: &CampaignBrief, audiences: &[Audience]) -> String {
    let markets = markets(c);
    let lang = if markets.iter().all(|m| m.lang == Lang::Es) {
        Lang::Es
    } else {
        Lang::En
    };
    let templates: Vec<&str> = CAMPAIGN_TEXTS
        .iter()
        .filter(|(l, _)| *l == lang)
        .map(|(_, t)| *t)
        .collect();
    let template = *pick(rng, &templates);
    let market_names: Vec<String> = markets
        .iter()
        .map(|m| {
            if lang == Lang::En {
                m.name_en.clone()
            } else {
                m.name_es.clone()
            }
        })
        .collect();
    let mut channel_names: Vec<String> = channels(c).iter().map(|code| channel_name(code)).collect();
    if channel_names.is_empty() {
        channel_names.push(if lang == Lang::En {
            "social media".into()
        } else {
            "redes sociales".into()
        });
    }
    let audience_names: Vec<String> = audiences
        .iter()
        .map(|a| match lang {
            Lang::En => format!("{} in {}", lower_first(a.names.0), a.market.0),
            Lang::Es => format!("{} en {}", lower_first(a.names.1), a.market.1),
        })
        .collect();
    let text = fill(template, &|key| {
        Some(match key {
            "brand" => c.brand.clone(),
            "name" => c.name.clone(),
            "product" => c.product.clone(),
            "objective" => objective(c, lang),
            "markets" => join_words(&market_names, lang),
            "start" => date(c.starts_at, lang),
            "end" => date(c.ends_at, lang),
            "channels" => join_words(&channel_names, lang),
            "audiences" => join_words(&audience_names, lang),
            _ => return None,
        })
    });
    capitalize(&text)
}

/// Content requests for ~35% of the campaigns, with a status that follows the campaign dates.
pub(super) fn requests(seed: u64, now: DateTime<Utc>, campaigns: &[CampaignBrief]) -> Vec<ContentRequest> {
    chosen(seed, "request-pick", campaigns, |_| true)
        .into_iter()
        .map(|i| {
            let c = &campaigns[i];
            let mut rng = stream(seed, "request", id_key(c.id));
            let audiences = audiences(seed, c);
            let (starts, ends) = (ms(c.starts_at), ms(c.ends_at));
            // Asked for one to five weeks before the start; never after `now`.
            let asked = starts - Duration::days(rng.random_range(7..=35)) - Duration::minutes(rng.random_range(0..600));
            let created_at = if asked <= now {
                asked
            } else {
                now - Duration::hours(rng.random_range(2..=240))
            };
            let (status, updated_at) = if now < starts {
                let status = if starts - now > Duration::days(14) {
                    "open"
                } else {
                    "in_progress"
                };
                (status, between(&mut rng, created_at, now))
            } else if ends < now && rng.random_bool(0.08) {
                ("cancelled", between(&mut rng, created_at, ends.min(now)))
            } else {
                (
                    "delivered",
                    between(&mut rng, created_at, (starts - Duration::days(1)).max(created_at)),
                )
            };
            let requesters = {
                let mut r = stream(seed, "requesters", id_key(c.organization_id));
                [new_id(&mut r), new_id(&mut r), new_id(&mut r)]
            };
            ContentRequest {
                id: new_id(&mut rng),
                organization_id: c.organization_id,
                campaign_id: c.id,
                campaign_description: description(&mut rng, c, &audiences),
                target_audiences: audiences.into_iter().map(|a| a.record).collect(),
                status: status.to_owned(),
                requested_by: *pick(&mut rng, &requesters),
                created_at,
                updated_at: updated_at.max(created_at),
                deleted_at: None,
            }
        })
        .collect()
}

/// Upper-case letters and digits of `s`, for promotion codes.
fn code_letters(s: &str) -> String {
    let letters: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if letters.is_empty() {
        "PROMO".into()
    } else {
        letters.chars().take(6).collect()
    }
}

/// A hashtag from a product name: lowercase ASCII, digits and underscores.
pub(super) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        let c = match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        };
        if c != '_' || !out.ends_with('_') {
            out.push(c);
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.len() < 2 {
        "promo".into()
    } else {
        out.chars().take(40).collect()
    }
}

fn message(rng: &mut ChaCha8Rng, c: &CampaignBrief, at: DateTime<Utc>, locale: &str) -> String {
    let lang = if locale.starts_with("es") { Lang::Es } else { Lang::En };
    let templates: Vec<&str> = MESSAGES.iter().filter(|(l, _)| *l == lang).map(|(_, t)| *t).collect();
    let percent = *pick(rng, &[10, 15, 20, 25, 30, 40]);
    let weekday = (at + Duration::days(2)).weekday().num_days_from_monday() as usize;
    let (day_en, day_es) = CALENDAR.weekdays[weekday];
    let template = *pick(rng, &templates);
    let text = fill(template, &|key| {
        Some(match key {
            "brand" => c.brand.clone(),
            "product" => c.product.clone(),
            "percent" => percent.to_string(),
            "code" => format!("{}{percent}", code_letters(&c.brand)),
            "weekday" => (if lang == Lang::En { day_en } else { day_es }).to_owned(),
            "tag" => slug(&c.product),
            _ => return None,
        })
    });
    text.chars().take(4000).collect()
}

/// Campaign logs for ~35% of the campaigns that have started: per audience, one log per channel
/// (one or two of the campaign's channels) with 1–20 messages sent within the campaign window.
pub(super) fn logs(seed: u64, now: DateTime<Utc>, campaigns: &[CampaignBrief]) -> Vec<CampaignLog> {
    let mut out = Vec::new();
    for i in chosen(seed, "log-pick", campaigns, |c| c.starts_at < now) {
        let c = &campaigns[i];
        let mut rng = stream(seed, "campaign-log", id_key(c.id) ^ label_hash("logs"));
        let mut channels = channels(c);
        if channels.is_empty() {
            channels.push("instagram".into());
        }
        let (lo, hi) = (ms(c.starts_at), ms(c.ends_at.min(now)));
        for audience in audiences(seed, c) {
            let k = rng.random_range(1..=channels.len().min(2));
            for ch in sample_indices(&mut rng, channels.len(), k) {
                let n = rng.random_range(1..=20);
                let mut times: Vec<DateTime<Utc>> = (0..n).map(|_| between(&mut rng, lo, hi)).collect();
                times.sort();
                let messages: Vec<LogMessage> = times
                    .iter()
                    .map(|&at| {
                        let locale = pick(&mut rng, &audience.record.locales).clone();
                        let text = message(&mut rng, c, at, &locale);
                        LogMessage { at, locale, text }
                    })
                    .collect();
                let first = messages.first().map_or(lo, |m| m.at);
                let last = messages.last().map_or(lo, |m| m.at);
                out.push(CampaignLog {
                    id: new_id(&mut rng),
                    organization_id: c.organization_id,
                    campaign_id: c.id,
                    population: audience.record.name.clone(),
                    channel_code: channels[ch].clone(),
                    messages,
                    created_at: first - Duration::milliseconds(rng.random_range(1_000..=120_000)),
                    updated_at: last,
                    deleted_at: None,
                });
            }
        }
    }
    out
}
