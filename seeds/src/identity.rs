//! Who a customer is: names, birth date, national id shaped like the country's, e-mail and phone
//! in E.164. Everything is drawn from curated lists and simple formulas; uniqueness inside an
//! organization is built in (numbers come from a bijection of the customer's index) rather than
//! hoped for.

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use crate::{
    rng::{Cumulative, Stream},
    words::{CityDef, FIRST_NAMES, SURNAMES, ascii_slug},
};

/// Name lists by language and sex, with their weights ready for drawing.
pub struct Names {
    first: [(Vec<&'static str>, Cumulative); 4],
    last: [(Vec<&'static str>, Cumulative); 2],
}

fn list(
    filter: impl Fn(&crate::words::Weighted) -> bool,
    from: &'static [crate::words::Weighted],
) -> (Vec<&'static str>, Cumulative) {
    let items: Vec<_> = from.iter().filter(|w| filter(w)).collect();
    (
        items.iter().map(|w| w.name).collect(),
        Cumulative::new(items.iter().map(|w| w.weight)),
    )
}

impl Names {
    pub fn new() -> Names {
        let f = |lang: &'static str, sex: &'static str| list(move |w| w.lang == lang && w.sex == sex, &FIRST_NAMES);
        let l = |lang: &'static str| list(move |w| w.lang == lang, &SURNAMES);
        Names {
            first: [f("es", "f"), f("es", "m"), f("en", "f"), f("en", "m")],
            last: [l("es"), l("en")],
        }
    }

    pub fn first(&self, rng: &mut Stream, spanish: bool, female: bool) -> &'static str {
        let (items, cum) = &self.first[usize::from(!spanish) * 2 + usize::from(!female)];
        items[cum.draw(rng)]
    }

    pub fn last(&self, rng: &mut Stream, spanish: bool) -> &'static str {
        let (items, cum) = &self.last[usize::from(!spanish)];
        items[cum.draw(rng)]
    }
}

impl Default for Names {
    fn default() -> Self {
        Self::new()
    }
}

/// An affine bijection of `0..range` (the multiplier is a prime that divides no range used here),
/// so distinct indices give distinct, random-looking numbers.
pub fn scramble(index: u64, range: u64) -> u64 {
    (index.wrapping_mul(1_000_003).wrapping_add(7_919)) % range
}

/// A national id in the country's usual written form, unique per `unique` index.
#[allow(clippy::too_many_arguments)]
pub fn national_id(
    rng: &mut Stream,
    country: &str,
    unique: u64,
    first: &str,
    paternal: &str,
    maternal: Option<&str>,
    female: bool,
    birth: NaiveDate,
    region: &str,
) -> String {
    match country {
        "MX" => curp(first, paternal, maternal, female, birth, region, unique),
        "CO" => dotted(1_000_000_000 + scramble(unique, 99_000_000) * 10 + rng.random_range(0..10)),
        "AR" => dotted(10_000_000 + scramble(unique, 35_000_000)),
        "CL" => {
            let n = 8_000_000 + scramble(unique, 17_000_000);
            format!("{}-{}", dotted(n), rut_check(n))
        }
        "PE" => format!("{:08}", 10_000_000 + scramble(unique, 79_000_000)),
        "EC" => ecuador_cedula(unique),
        "GT" => {
            let n = 10_000_000 + scramble(unique, 89_000_000);
            format!(
                "{} {:05} {:02}{:02}",
                n / 10_000,
                n % 10_000 * 10 + n % 9,
                rng.random_range(1..=22),
                rng.random_range(1..=17)
            )
        }
        "CR" => {
            let n = scramble(unique, 7 * 100_000_000);
            format!("{}-{:04}-{:04}", 1 + n % 7, n / 7 / 10_000, n / 7 % 10_000)
        }
        "DO" => {
            let body = format!(
                "{:03}{:07}",
                rng.random_range(1..=100),
                1_000_000 + scramble(unique, 8_000_000)
            );
            format!("{}-{}-{}", &body[..3], &body[3..], luhn(&body))
        }
        "UY" => {
            let n = 1_000_000 + scramble(unique, 5_000_000);
            format!("{}-{}", dotted(n), uruguay_check(n))
        }
        "PA" => {
            let n = scramble(unique, 13 * 900 * 9_000);
            format!("{}-{}-{}", 1 + n % 13, 100 + (n / 13) % 900, 1_000 + n / 13 / 900)
        }
        _ => {
            // United States: SSN shape, never area 000, 666 or 9xx, group 00 or serial 0000.
            let n = scramble(unique, 665 * 99 * 9_999);
            let area = 1 + n % 665;
            format!(
                "{:03}-{:02}-{:04}",
                area,
                1 + (n / 665) % 99,
                1 + (n / 665 / 99) % 9_999
            )
        }
    }
}

fn dotted(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// Chile's RUT check digit (mod 11, weights 2..7, K for 10).
pub fn rut_check(mut n: u64) -> char {
    let mut sum = 0;
    let mut weight = 2;
    while n > 0 {
        sum += (n % 10) * weight;
        n /= 10;
        weight = if weight == 7 { 2 } else { weight + 1 };
    }
    match 11 - sum % 11 {
        11 => '0',
        10 => 'K',
        d => char::from_digit(d as u32, 10).expect("a digit"),
    }
}

fn uruguay_check(n: u64) -> u64 {
    let digits = format!("{n:07}");
    let sum: u64 = digits
        .bytes()
        .zip([2, 9, 8, 7, 6, 3, 4])
        .map(|(d, w)| u64::from(d - b'0') * w)
        .sum();
    (10 - sum % 10) % 10
}

fn luhn(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// Ecuador: province 01–24, third digit below 6, mod-10 check with coefficients 2,1,2,1 …
fn ecuador_cedula(unique: u64) -> String {
    let n = scramble(unique, 24 * 6 * 1_000_000);
    let body = format!("{:02}{}{:06}", 1 + n % 24, (n / 24) % 6, (n / 144) % 1_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let x = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            if x > 9 { x - 9 } else { x }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

const CURP_ALPHABET: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";

fn curp_state(region: &str) -> &'static str {
    match region {
        "Ciudad de México" => "DF",
        "Jalisco" => "JC",
        "Nuevo León" => "NL",
        "Puebla" => "PL",
        "Baja California" => "BC",
        "Guanajuato" => "GT",
        "Chihuahua" => "CH",
        "Estado de México" => "MC",
        "Querétaro" => "QT",
        "San Luis Potosí" => "SP",
        "Yucatán" => "YN",
        "Aguascalientes" => "AS",
        "Sonora" => "SR",
        "Coahuila" => "CL",
        "Sinaloa" => "SL",
        "Quintana Roo" => "QR",
        "Veracruz" => "VZ",
        "Michoacán" => "MN",
        "Oaxaca" => "OC",
        "Guerrero" => "GR",
        "Tamaulipas" => "TS",
        _ => "NE",
    }
}

fn upper_ascii(s: &str) -> Vec<u8> {
    ascii_slug(s).to_ascii_uppercase().into_bytes()
}

/// A CURP: initials, birth date, sex, state, inner consonants, a homonym character and the check
/// digit of the official algorithm. The homonym character (and so the id) varies with `unique`.
pub fn curp(
    first: &str,
    paternal: &str,
    maternal: Option<&str>,
    female: bool,
    birth: NaiveDate,
    region: &str,
    unique: u64,
) -> String {
    let (p, m, f) = (
        upper_ascii(paternal),
        maternal.map(upper_ascii).unwrap_or_default(),
        upper_ascii(first),
    );
    let vowel = |w: &[u8]| w.iter().skip(1).copied().find(|c| b"AEIOU".contains(c)).unwrap_or(b'X');
    let consonant = |w: &[u8]| {
        w.iter()
            .skip(1)
            .copied()
            .find(|c| !b"AEIOU".contains(c))
            .unwrap_or(b'X')
    };
    let mut s = String::with_capacity(18);
    s.push(char::from(*p.first().unwrap_or(&b'X')));
    s.push(char::from(vowel(&p)));
    s.push(char::from(*m.first().unwrap_or(&b'X')));
    s.push(char::from(*f.first().unwrap_or(&b'X')));
    s.push_str(&format!(
        "{:02}{:02}{:02}",
        birth.year() % 100,
        birth.month(),
        birth.day()
    ));
    s.push(if female { 'M' } else { 'H' });
    s.push_str(curp_state(region));
    s.push(char::from(consonant(&p)));
    s.push(char::from(if m.is_empty() { b'X' } else { consonant(&m) }));
    s.push(char::from(consonant(&f)));
    // Position 17 tells homonyms apart: a digit for births before 2000, a letter after.
    let homonym = if birth.year() < 2000 {
        (b'0' + (unique % 10) as u8) as char
    } else {
        (b'A' + (unique % 26) as u8) as char
    };
    s.push(homonym);
    s.push(curp_check(&s));
    s
}

fn curp_check(first17: &str) -> char {
    let sum: usize = first17
        .chars()
        .enumerate()
        .map(|(i, c)| CURP_ALPHABET.chars().position(|a| a == c).unwrap_or(0) * (18 - i))
        .sum();
    char::from_digit(((10 - sum % 10) % 10) as u32, 10).expect("a digit")
}

/// A mobile (or city) number in E.164.
pub fn phone(rng: &mut Stream, country: &str, prefix: &str, city: &CityDef) -> String {
    let local = match country {
        "MX" => {
            let area = city.area_code.unwrap_or("55");
            format!("{area}{}", digits(rng, 10 - area.len()))
        }
        "US" => format!(
            "{}{}{}",
            city.area_code.unwrap_or("212"),
            rng.random_range(2..10),
            digits(rng, 6)
        ),
        "AR" => {
            let area = city.area_code.unwrap_or("11");
            format!("9{area}{}", digits(rng, 10 - area.len()))
        }
        "DO" => format!("{}{}", ["809", "829", "849"][rng.random_range(0..3)], digits(rng, 7)),
        "CO" => format!("3{}{}", rng.random_range(0..6), digits(rng, 8)),
        "CL" => format!("9{}", digits(rng, 8)),
        "PE" => format!("9{}", digits(rng, 8)),
        "EC" => format!("9{}", digits(rng, 8)),
        "GT" => format!("{}{}", rng.random_range(3..6), digits(rng, 7)),
        "CR" => format!("{}{}", rng.random_range(6..9), digits(rng, 7)),
        "UY" => format!("9{}", digits(rng, 7)),
        "PA" => format!("6{}", digits(rng, 7)),
        _ => digits(rng, 10),
    };
    format!("+{prefix}{local}")
}

fn digits(rng: &mut Stream, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// An e-mail address: a pattern of the person's names, a number unique in the organization, and a
/// mail provider common in the country.
pub fn email(rng: &mut Stream, country: &str, first: &str, last: &str, unique: u64) -> String {
    let (f, l) = (ascii_slug(first), ascii_slug(last.split(' ').next().unwrap_or(last)));
    let n = scramble(unique, 1_000_000);
    let local = match rng.random_range(0..5) {
        0 => format!("{f}.{l}{n}"),
        1 => format!("{}{l}{n}", &f[..1.min(f.len())]),
        2 => format!("{f}_{l}{n}"),
        3 => format!("{l}.{f}{n}"),
        _ => format!("{f}{l}{n}"),
    };
    let domains: &[&str] = match country {
        "US" => &[
            "gmail.com",
            "yahoo.com",
            "outlook.com",
            "icloud.com",
            "aol.com",
            "comcast.net",
        ],
        "MX" => &[
            "gmail.com",
            "hotmail.com",
            "outlook.com",
            "yahoo.com.mx",
            "live.com.mx",
            "prodigy.net.mx",
        ],
        "AR" => &[
            "gmail.com",
            "hotmail.com",
            "yahoo.com.ar",
            "outlook.com",
            "fibertel.com.ar",
        ],
        "CL" => &["gmail.com", "hotmail.com", "outlook.cl", "yahoo.es"],
        _ => &["gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com"],
    };
    format!("{local}@{}", domains[rng.random_range(0..domains.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_shape_national_ids_like_the_country_does() {
        assert_eq!(rut_check(30_686_957), '4');
        assert_eq!(rut_check(12_345_678), '5');
        let birth = NaiveDate::from_ymd_opt(1990, 5, 17).expect("date");
        let c = curp("María", "González", Some("López"), true, birth, "Jalisco", 3);
        assert_eq!(c.len(), 18, "{c}");
        assert!(c.starts_with("GOLM900517MJCNPR3"), "{c}");
        assert_eq!(luhn("7992739871"), 3);
        assert_eq!(dotted(12_345_678), "12.345.678");
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000 {
            assert!(seen.insert(scramble(i, 35_000_000)), "a bijection");
        }
    }
}
