//! The curated lists under `seeds/data/`, compiled into the binary and parsed once. Every list is
//! a small text file written for this project (one record a line, `|`-separated, `#` comments),
//! never a copy of a real dataset of people.

use std::sync::LazyLock;

fn records(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('|').map(str::trim).collect())
}

fn num<T: std::str::FromStr>(s: &str, file: &str) -> T {
    s.parse()
        .unwrap_or_else(|_| panic!("seeds/data/{file}: `{s}` is not a number"))
}

#[derive(Debug)]
pub struct MarketDef {
    pub code: &'static str,
    pub country: &'static str,
    pub region: &'static str,
    pub name: &'static str,
    pub currency: &'static str,
    /// USD per unit of `currency`, as the decimal text stored in `fx_rate_to_usd`.
    pub usd_rate: &'static str,
    pub timezone: &'static str,
    pub utc_offset_hours: i64,
    pub language: &'static str,
    pub phone_prefix: &'static str,
    pub weight: f64,
}

pub static MARKETS: LazyLock<Vec<MarketDef>> = LazyLock::new(|| {
    records(include_str!("../data/markets.txt"))
        .map(|r| MarketDef {
            code: r[0],
            country: r[1],
            region: r[2],
            name: r[3],
            currency: r[4],
            usd_rate: r[5],
            timezone: r[6],
            utc_offset_hours: num(r[7], "markets.txt"),
            language: r[8],
            phone_prefix: r[9],
            weight: num(r[10], "markets.txt"),
        })
        .collect()
});

#[derive(Debug)]
pub struct CityDef {
    pub country: &'static str,
    pub region: &'static str,
    pub name: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub population_k: f64,
    pub area_code: Option<&'static str>,
}

pub static CITIES: LazyLock<Vec<CityDef>> = LazyLock::new(|| {
    records(include_str!("../data/cities.txt"))
        .map(|r| CityDef {
            country: r[0],
            region: r[1],
            name: r[2],
            lat: num(r[3], "cities.txt"),
            lon: num(r[4], "cities.txt"),
            population_k: num(r[5], "cities.txt"),
            area_code: (r[6] != "-").then_some(r[6]),
        })
        .collect()
});

#[derive(Debug)]
pub struct Weighted {
    pub lang: &'static str,
    pub sex: &'static str,
    pub name: &'static str,
    pub weight: f64,
}

pub static FIRST_NAMES: LazyLock<Vec<Weighted>> = LazyLock::new(|| {
    records(include_str!("../data/first_names.txt"))
        .map(|r| Weighted {
            lang: r[0],
            sex: r[1],
            name: r[2],
            weight: num(r[3], "first_names.txt"),
        })
        .collect()
});

pub static SURNAMES: LazyLock<Vec<Weighted>> = LazyLock::new(|| {
    records(include_str!("../data/surnames.txt"))
        .map(|r| Weighted {
            lang: r[0],
            sex: "",
            name: r[1],
            weight: num(r[2], "surnames.txt"),
        })
        .collect()
});

#[derive(Debug)]
pub struct OrgDef {
    pub name: &'static str,
    pub industry: &'static str,
    pub market: &'static str,
    pub domain: &'static str,
}

pub static ORGANIZATIONS: LazyLock<Vec<OrgDef>> = LazyLock::new(|| {
    records(include_str!("../data/organizations.txt"))
        .map(|r| OrgDef {
            name: r[0],
            industry: r[1],
            market: r[2],
            domain: r[3],
        })
        .collect()
});

#[derive(Debug)]
pub struct ProductDef {
    pub industry: &'static str,
    pub category: &'static str,
    pub name_en: &'static str,
    pub name_es: &'static str,
    pub min_usd: f64,
    pub max_usd: f64,
}

pub static CATALOG: LazyLock<Vec<ProductDef>> = LazyLock::new(|| {
    records(include_str!("../data/catalog.txt"))
        .map(|r| ProductDef {
            industry: r[0],
            category: r[1],
            name_en: r[2],
            name_es: r[3],
            min_usd: num(r[4], "catalog.txt"),
            max_usd: num(r[5], "catalog.txt"),
        })
        .collect()
});

pub static BRANDS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    records(include_str!("../data/brands.txt"))
        .map(|r| (r[0], r[1]))
        .collect()
});

#[derive(Debug)]
pub struct ThemeDef {
    /// 1–12, or 0 for any month.
    pub month: u32,
    pub es: &'static str,
    pub en: &'static str,
}

pub static THEMES: LazyLock<Vec<ThemeDef>> = LazyLock::new(|| {
    records(include_str!("../data/campaign_themes.txt"))
        .map(|r| ThemeDef {
            month: num(r[0], "campaign_themes.txt"),
            es: r[1],
            en: r[2],
        })
        .collect()
});

#[derive(Debug)]
pub struct CopyDef {
    pub lang: &'static str,
    pub part: &'static str,
    pub text: &'static str,
}

pub static AD_COPY: LazyLock<Vec<CopyDef>> = LazyLock::new(|| {
    records(include_str!("../data/ad_copy.txt"))
        .map(|r| CopyDef {
            lang: r[0],
            part: r[1],
            text: r[2],
        })
        .collect()
});

/// ASCII form of a name for e-mail addresses and handles: accents dropped, ñ → n, spaces and
/// punctuation removed.
pub fn ascii_slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let mapped = match c {
            'á' | 'à' | 'ä' | 'â' | 'Á' => 'a',
            'é' | 'è' | 'ë' | 'ê' | 'É' => 'e',
            'í' | 'ì' | 'ï' | 'î' | 'Í' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' | 'Ó' | 'Ö' => 'o',
            'ú' | 'ù' | 'ü' | 'û' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => continue,
        };
        out.push(mapped);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_parse_every_list_and_cover_every_market_with_cities() {
        assert!(MARKETS.len() >= 12);
        for m in MARKETS.iter() {
            assert!(
                CITIES.iter().filter(|c| c.country == m.country).count() >= 5,
                "cities of {}",
                m.code
            );
            assert!(m.usd_rate.parse::<f64>().expect("rate") > 0.0);
        }
        assert!(CITIES.len() >= 140);
        for c in CITIES.iter() {
            assert!(
                (-60.0..50.0).contains(&c.lat) && (-125.0..-50.0).contains(&c.lon),
                "{}",
                c.name
            );
        }
        assert!(FIRST_NAMES.len() > 150 && SURNAMES.len() > 150);
        assert!(ORGANIZATIONS.len() >= 40);
        for o in ORGANIZATIONS.iter() {
            assert!(
                CATALOG.iter().any(|p| p.industry == o.industry),
                "catalogue of {}",
                o.industry
            );
            assert!(BRANDS.iter().any(|b| b.0 == o.industry), "brands of {}", o.industry);
            assert!(MARKETS.iter().any(|m| m.code == o.market), "market of {}", o.name);
        }
        assert_eq!(ascii_slug("Núñez Ávila"), "nunezavila");
    }
}
