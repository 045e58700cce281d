//! The word lists and templates of `seeds/data/content/`, compiled in and parsed once. Lines are
//! `|`-separated; `#` starts a comment line. A malformed line is a bug in this crate's own data, so
//! it panics with the file and line (the tests parse every file).

use std::{collections::HashMap, sync::LazyLock};

use super::canvas::Role;

/// Language of a text or an audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    En,
    Es,
}

impl Lang {
    fn parse(s: &str) -> Lang {
        match s {
            "en" => Lang::En,
            "es" => Lang::Es,
            other => panic!("unknown language `{other}` in seeds/data/content"),
        }
    }
}

fn rows(file: &'static str, text: &'static str, columns: usize) -> Vec<Vec<&'static str>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, line)| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            assert!(
                cells.len() == columns,
                "seeds/data/content/{file}:{}: {} columns, expected {columns}",
                n + 1,
                cells.len()
            );
            cells
        })
        .collect()
}

fn list(cell: &'static str) -> Vec<&'static str> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty()).collect()
}

/// A palette colour with its name as texts say it.
#[derive(Debug, Clone, Copy)]
pub(super) struct NamedColor {
    pub hex: &'static str,
    pub name: &'static str,
    pub rgb: [u8; 3],
}

/// A named palette: one colour per [`Role`], indexed by `Role as usize`.
#[derive(Debug)]
pub(super) struct PaletteDef {
    pub name: &'static str,
    pub colors: [NamedColor; 5],
}

impl PaletteDef {
    pub fn color(&self, role: Role) -> &NamedColor {
        &self.colors[role as usize]
    }
}

pub(super) static PALETTES: LazyLock<Vec<PaletteDef>> = LazyLock::new(|| {
    let mut out: Vec<(&str, [Option<NamedColor>; 5])> = Vec::new();
    for r in rows("palettes.txt", include_str!("../../data/content/palettes.txt"), 4) {
        let role = Role::ALL
            .into_iter()
            .find(|role| role.key() == r[1])
            .unwrap_or_else(|| panic!("palettes.txt: unknown role {}", r[1]));
        let hex = r[2];
        assert!(
            hex.len() == 7
                && hex.starts_with('#')
                && hex[1..]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "palettes.txt: {hex} is not #rrggbb"
        );
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits");
        let color = NamedColor {
            hex,
            name: r[3],
            rgb: [byte(1), byte(3), byte(5)],
        };
        if out.last().is_none_or(|(name, _)| *name != r[0]) {
            out.push((r[0], [None; 5]));
        }
        let (_, slots) = out.last_mut().expect("pushed above");
        slots[role as usize] = Some(color);
    }
    out.into_iter()
        .map(|(name, slots)| PaletteDef {
            name,
            colors: slots.map(|c| c.unwrap_or_else(|| panic!("palettes.txt: palette {name} lacks a role"))),
        })
        .collect()
});

/// A subject the renderer can draw (see `subjects.txt`).
#[derive(Debug)]
pub(super) struct SubjectDef {
    pub key: &'static str,
    pub name: &'static str,
    pub tag: &'static str,
    pub tag_category: &'static str,
    pub subjects: Vec<&'static str>,
    pub keywords: Vec<&'static str>,
    pub sentence: &'static str,
}

pub(super) static SUBJECTS: LazyLock<Vec<SubjectDef>> = LazyLock::new(|| {
    rows("subjects.txt", include_str!("../../data/content/subjects.txt"), 7)
        .into_iter()
        .map(|r| SubjectDef {
            key: r[0],
            name: r[1],
            tag: r[2],
            tag_category: r[3],
            subjects: list(r[4]),
            keywords: list(r[5]),
            sentence: r[6],
        })
        .collect()
});

/// A season or campaign theme (see `themes.txt`).
#[derive(Debug)]
pub(super) struct ThemeDef {
    pub tag: &'static str,
    pub category: &'static str,
    pub phrase: &'static str,
    /// Months (1–12) whose campaigns pick this theme; empty for any month.
    pub months: Vec<u32>,
}

pub(super) static THEMES: LazyLock<Vec<ThemeDef>> = LazyLock::new(|| {
    rows("themes.txt", include_str!("../../data/content/themes.txt"), 4)
        .into_iter()
        .map(|r| ThemeDef {
            tag: r[0],
            category: r[1],
            phrase: r[2],
            months: r[3]
                .split(',')
                .filter(|m| !m.trim().is_empty())
                .map(|m| m.trim().parse().expect("themes.txt: month is a number"))
                .collect(),
        })
        .collect()
});

static PHRASES: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    rows("phrases.txt", include_str!("../../data/content/phrases.txt"), 2)
        .into_iter()
        .map(|r| (r[0], r[1]))
        .collect()
});

/// The description template named `key` in `phrases.txt`.
pub(super) fn phrase(key: &str) -> &'static str {
    PHRASES
        .get(key)
        .unwrap_or_else(|| panic!("phrases.txt has no template `{key}`"))
}

/// A market (see `markets.txt`).
#[derive(Debug)]
pub(super) struct MarketDef {
    pub code: &'static str,
    pub locale: &'static str,
    pub lang: Lang,
    pub name_en: &'static str,
    pub name_es: &'static str,
}

pub(super) static MARKETS: LazyLock<Vec<MarketDef>> = LazyLock::new(|| {
    rows("markets.txt", include_str!("../../data/content/markets.txt"), 5)
        .into_iter()
        .map(|r| MarketDef {
            code: r[0],
            locale: r[1],
            lang: Lang::parse(r[2]),
            name_en: r[3],
            name_es: r[4],
        })
        .collect()
});

/// An audience archetype (see `audiences.txt`).
#[derive(Debug)]
pub(super) struct AudienceDef {
    pub name_en: &'static str,
    pub name_es: &'static str,
    pub age_min: u8,
    pub age_max: u8,
    pub interests_en: Vec<&'static str>,
    pub interests_es: Vec<&'static str>,
}

pub(super) static AUDIENCES: LazyLock<Vec<AudienceDef>> = LazyLock::new(|| {
    rows("audiences.txt", include_str!("../../data/content/audiences.txt"), 7)
        .into_iter()
        .map(|r| AudienceDef {
            name_en: r[1],
            name_es: r[2],
            age_min: r[3].parse().expect("audiences.txt: age is a number"),
            age_max: r[4].parse().expect("audiences.txt: age is a number"),
            interests_en: list(r[5]),
            interests_es: list(r[6]),
        })
        .collect()
});

fn by_lang(file: &'static str, text: &'static str) -> Vec<(Lang, &'static str)> {
    rows(file, text, 2)
        .into_iter()
        .map(|r| (Lang::parse(r[0]), r[1]))
        .collect()
}

pub(super) static CAMPAIGN_TEXTS: LazyLock<Vec<(Lang, &'static str)>> = LazyLock::new(|| {
    by_lang(
        "campaign_descriptions.txt",
        include_str!("../../data/content/campaign_descriptions.txt"),
    )
});

pub(super) static MESSAGES: LazyLock<Vec<(Lang, &'static str)>> =
    LazyLock::new(|| by_lang("messages.txt", include_str!("../../data/content/messages.txt")));

/// Campaign objectives: (keyword, English phrase, Spanish phrase).
pub(super) static OBJECTIVES: LazyLock<Vec<(&'static str, &'static str, &'static str)>> = LazyLock::new(|| {
    rows("objectives.txt", include_str!("../../data/content/objectives.txt"), 3)
        .into_iter()
        .map(|r| (r[0], r[1], r[2]))
        .collect()
});

/// Month (index 0 = January) and weekday (index 0 = Monday) names: (English, Spanish).
pub(super) struct Calendar {
    pub months: Vec<(&'static str, &'static str)>,
    pub weekdays: Vec<(&'static str, &'static str)>,
}

pub(super) static CALENDAR: LazyLock<Calendar> = LazyLock::new(|| {
    let all = rows("calendar.txt", include_str!("../../data/content/calendar.txt"), 4);
    let of = |kind: &str| -> Vec<(&'static str, &'static str)> {
        all.iter().filter(|r| r[0] == kind).map(|r| (r[2], r[3])).collect()
    };
    let calendar = Calendar {
        months: of("month"),
        weekdays: of("weekday"),
    };
    assert!(
        calendar.months.len() == 12 && calendar.weekdays.len() == 7,
        "calendar.txt: 12 months and 7 weekdays"
    );
    calendar
});

/// An integration template (see `integrations.txt`).
#[derive(Debug)]
pub(super) struct IntegrationDef {
    pub kind: &'static str,
    pub name: &'static str,
    pub endpoint: &'static str,
    pub auth_method: &'static str,
}

pub(super) static INTEGRATIONS: LazyLock<Vec<IntegrationDef>> = LazyLock::new(|| {
    rows(
        "integrations.txt",
        include_str!("../../data/content/integrations.txt"),
        4,
    )
    .into_iter()
    .map(|r| IntegrationDef {
        kind: r[0],
        name: r[1],
        endpoint: r[2],
        auth_method: r[3],
    })
    .collect()
});

/// Stock library rights holders: (owner, licence).
pub(super) static STOCK_OWNERS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    rows(
        "stock_owners.txt",
        include_str!("../../data/content/stock_owners.txt"),
        2,
    )
    .into_iter()
    .map(|r| (r[0], r[1]))
    .collect()
});

/// Channels: (code, display name, whether images are posted there).
pub(super) static CHANNELS: LazyLock<Vec<(&'static str, &'static str, bool)>> = LazyLock::new(|| {
    rows("channels.txt", include_str!("../../data/content/channels.txt"), 3)
        .into_iter()
        .map(|r| (r[0], r[1], r[2] == "y"))
        .collect()
});

/// How texts name a channel: its display name, or the code in words when unknown.
pub(super) fn channel_name(code: &str) -> String {
    CHANNELS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or_else(|| code.replace('_', " "), |(_, name, _)| (*name).to_owned())
}

/// Fills `{key}`, `{a:key}` (value with its article, a or an) and `{A:key}` (the same, capitalised).
/// An unknown key is a bug in the data files, so it panics.
pub(super) fn fill(template: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .unwrap_or_else(|| panic!("unclosed {{ in `{template}`"));
        let token = &rest[open + 1..close];
        let (article, key) = match token.split_once(':') {
            Some((a, key)) => (Some(a), key),
            None => (None, token),
        };
        let v = value(key).unwrap_or_else(|| panic!("no value for {{{key}}} in `{template}`"));
        match article {
            None => out.push_str(&v),
            Some(a) => {
                let an = v.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']);
                out.push_str(match (a, an) {
                    ("A", true) => "An ",
                    ("A", false) => "A ",
                    (_, true) => "an ",
                    (_, false) => "a ",
                });
                out.push_str(&v);
            }
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `s` with its first letter in upper case.
pub(super) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// "a", "a and b", "a, b and c" (or "y" in Spanish).
pub(super) fn join_words(items: &[String], lang: Lang) -> String {
    let and = if lang == Lang::Es { "y" } else { "and" };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}
