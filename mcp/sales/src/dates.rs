//! Dates in Spanish and English questions, relative to a clock that can be set ("today"):
//! month names with or without a year, quarters, "last month", "este año", "últimos 30 días",
//! ISO dates, years. Each finding marks the words it used.

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::{query::Period, text::near};

/// A period found in the question, with the words it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub period: Period,
    pub text: String,
    /// Index of its first word (the order periods were written in).
    pub at: usize,
}

const MONTHS: [(&str, &str, &str, &str); 12] = [
    ("enero", "ene", "january", "jan"),
    ("febrero", "feb", "february", "feb"),
    ("marzo", "mar", "march", "mar"),
    ("abril", "abr", "april", "apr"),
    ("mayo", "may", "may", "may"),
    ("junio", "jun", "june", "jun"),
    ("julio", "jul", "july", "jul"),
    ("agosto", "ago", "august", "aug"),
    ("septiembre", "sep", "september", "sept"),
    ("octubre", "oct", "october", "oct"),
    ("noviembre", "nov", "november", "nov"),
    ("diciembre", "dic", "december", "dec"),
];

fn month(word: &str) -> Option<u32> {
    if word == "setiembre" {
        return Some(9);
    }
    // Exact names first ("julio" must not be read as a typo of "junio"), then typos of the
    // longer names only.
    let exact = MONTHS
        .iter()
        .position(|(es, es3, en, en3)| word == *es || word == *en || word == *es3 || word == *en3);
    exact
        .or_else(|| {
            MONTHS
                .iter()
                .position(|(es, _, en, _)| (es.len() >= 6 && near(word, es)) || (en.len() >= 6 && near(word, en)))
        })
        .map(|i| i as u32 + 1)
}

/// A number written with digits or as a word (Spanish or English), up to 31.
pub fn number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    const WORDS: [(&str, &str, u32); 14] = [
        ("un", "one", 1),
        ("dos", "two", 2),
        ("tres", "three", 3),
        ("cuatro", "four", 4),
        ("cinco", "five", 5),
        ("seis", "six", 6),
        ("siete", "seven", 7),
        ("ocho", "eight", 8),
        ("nueve", "nine", 9),
        ("diez", "ten", 10),
        ("doce", "twelve", 12),
        ("quince", "fifteen", 15),
        ("veinte", "twenty", 20),
        ("treinta", "thirty", 30),
    ];
    if word == "una" || word == "uno" {
        return Some(1);
    }
    WORDS.iter().find(|(es, en, _)| word == *es || word == *en).map(|w| w.2)
}

fn year(word: &str) -> Option<i32> {
    let y: i32 = word.parse().ok()?;
    (2000..=2099).contains(&y).then_some(y)
}

fn month_period(y: i32, m: u32) -> Option<Period> {
    let from = NaiveDate::from_ymd_opt(y, m, 1)?;
    let to = from.checked_add_months(Months::new(1))?.pred_opt()?;
    Some(Period::new(from, to))
}

fn quarter_period(y: i32, q: u32) -> Option<Period> {
    let from = NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1)?;
    let to = from.checked_add_months(Months::new(3))?.pred_opt()?;
    Some(Period::new(from, to))
}

fn quarter_of(d: NaiveDate) -> u32 {
    (d.month() - 1) / 3 + 1
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

fn unit(word: &str) -> Option<Unit> {
    Some(match word {
        "dia" | "dias" | "day" | "days" => Unit::Day,
        "semana" | "semanas" | "week" | "weeks" => Unit::Week,
        "mes" | "meses" | "month" | "months" => Unit::Month,
        "trimestre" | "trimestres" | "quarter" | "quarters" => Unit::Quarter,
        "ano" | "anos" | "year" | "years" => Unit::Year,
        _ => return None,
    })
}

/// The whole calendar unit containing `d` (weeks start on Monday).
fn unit_containing(u: Unit, d: NaiveDate) -> Option<Period> {
    match u {
        Unit::Day => Some(Period::new(d, d)),
        Unit::Week => {
            let from = d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
            Some(Period::new(from, from + chrono::Duration::days(6)))
        }
        Unit::Month => month_period(d.year(), d.month()),
        Unit::Quarter => quarter_period(d.year(), quarter_of(d)),
        Unit::Year => Some(Period::new(
            NaiveDate::from_ymd_opt(d.year(), 1, 1)?,
            NaiveDate::from_ymd_opt(d.year(), 12, 31)?,
        )),
    }
}

fn back(u: Unit, d: NaiveDate, n: u32) -> Option<NaiveDate> {
    match u {
        Unit::Day => d.checked_sub_days(Days::new(u64::from(n))),
        Unit::Week => d.checked_sub_days(Days::new(7 * u64::from(n))),
        Unit::Month => d.checked_sub_months(Months::new(n)),
        Unit::Quarter => d.checked_sub_months(Months::new(3 * n)),
        Unit::Year => d.checked_sub_months(Months::new(12 * n)),
    }
}

const LAST: [&str; 8] = [
    "ultimo", "ultima", "ultimos", "ultimas", "last", "past", "previous", "pasados",
];
const PREVIOUS_AFTER: [&str; 4] = ["pasado", "pasada", "anterior", "previo"];
const THIS: [&str; 5] = ["este", "esta", "this", "current", "actual"];
const ORDINALS: [(&str, &str, u32); 4] = [
    ("primer", "first", 1),
    ("segundo", "second", 2),
    ("tercer", "third", 3),
    ("cuarto", "fourth", 4),
];

/// Finds the periods in `words` (folded), skipping and marking `used` words.
pub fn find(words: &[String], used: &mut [bool], today: NaiveDate) -> Vec<Found> {
    let mut found = Vec::new();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let mut i = 0;
    while i < words.len() {
        if used[i] {
            i += 1;
            continue;
        }
        let free = |j: usize, used: &[bool]| j < words.len() && !used[j];
        let mut hit: Option<(Period, usize)> = None; // period and how many words
        // ISO date, alone or as "from A to B".
        if let Ok(d) = NaiveDate::parse_from_str(w(i), "%Y-%m-%d") {
            hit = Some((Period::new(d, d), 1));
        }
        // "today", "yesterday".
        if hit.is_none() {
            match w(i) {
                "hoy" | "today" => hit = Some((Period::new(today, today), 1)),
                "ayer" | "yesterday" => {
                    let y = today.pred_opt().unwrap_or(today);
                    hit = Some((Period::new(y, y), 1));
                }
                _ => {}
            }
        }
        // "last 30 days", "últimos 3 meses", "last week", "último trimestre".
        if hit.is_none() && LAST.contains(&w(i)) {
            if let (Some(n), Some(u)) = (number(w(i + 1)), unit(w(i + 2))) {
                if free(i + 1, used) && free(i + 2, used) && n > 0 {
                    let from = back(u, today, n).and_then(|d| d.succ_opt());
                    hit = from.map(|f| (Period::new(f, today), 3));
                }
            } else if let Some(u) = unit(w(i + 1)).filter(|_| free(i + 1, used)) {
                hit = back(u, today, 1).and_then(|d| unit_containing(u, d)).map(|p| (p, 2));
            }
        }
        // "mes pasado", "semana anterior", "año pasado".
        if hit.is_none()
            && let Some(u) = unit(w(i))
            && PREVIOUS_AFTER.contains(&w(i + 1))
            && free(i + 1, used)
        {
            hit = back(u, today, 1).and_then(|d| unit_containing(u, d)).map(|p| (p, 2));
        }
        // "this month", "este año" (up to today).
        if hit.is_none()
            && THIS.contains(&w(i))
            && let Some(u) = unit(w(i + 1)).filter(|_| free(i + 1, used))
        {
            hit = unit_containing(u, today).map(|p| (Period::new(p.from, today.min(p.to)), 2));
        }
        // Quarters: "Q3 2025", "T1", "primer trimestre de 2025", "third quarter".
        if hit.is_none() {
            let q = w(i)
                .strip_prefix('q')
                .or_else(|| w(i).strip_prefix('t'))
                .and_then(|d| d.parse::<u32>().ok())
                .filter(|q| (1..=4).contains(q))
                .map(|q| (q, 1))
                .or_else(|| {
                    ORDINALS
                        .iter()
                        .find(|(es, en, _)| w(i) == *es || w(i) == *en)
                        .filter(|_| unit(w(i + 1)) == Some(Unit::Quarter) && free(i + 1, used))
                        .map(|o| (o.2, 2))
                });
            if let Some((q, len)) = q {
                let (y, extra) = year_after(words, used, i + len, today, |y| quarter_period(y, q));
                hit = quarter_period(y, q).map(|p| (p, len + extra));
            }
        }
        // Month names, with or without a year.
        if hit.is_none()
            && let Some(m) = month(w(i))
            // "mar" and "may" are also words; a bare abbreviation needs a year after it.
            && (w(i).len() > 3 || year(w(i + 1)).is_some())
        {
            let (y, extra) = year_after(words, used, i + 1, today, |y| month_period(y, m));
            hit = month_period(y, m).map(|p| (p, 1 + extra));
        }
        // A year alone.
        if hit.is_none()
            && let Some(y) = year(w(i))
        {
            hit = Some((
                Period::new(
                    NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(today),
                    NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(today),
                ),
                1,
            ));
        }
        match hit {
            Some((period, len)) => {
                let end = (i + len).min(words.len());
                for u in used.iter_mut().take(end).skip(i) {
                    *u = true;
                }
                found.push(Found {
                    period,
                    text: words[i..end].join(" "),
                    at: i,
                });
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

/// The year written after position `at` ("2025", "de 2025", "del 2025", "of 2025"), and how
/// many words it took; without one, the latest year whose period has started by `today`.
fn year_after(
    words: &[String],
    used: &[bool],
    at: usize,
    today: NaiveDate,
    period: impl Fn(i32) -> Option<Period>,
) -> (i32, usize) {
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let free = |i: usize| i < words.len() && !used[i];
    if free(at)
        && let Some(y) = year(w(at))
    {
        return (y, 1);
    }
    if free(at)
        && matches!(w(at), "de" | "del" | "of")
        && free(at + 1)
        && let Some(y) = year(w(at + 1))
    {
        return (y, 2);
    }
    let this = today.year();
    match period(this) {
        Some(p) if p.from <= today => (this, 0),
        _ => (this - 1, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::words;

    fn periods(q: &str, today: &str) -> Vec<(String, String)> {
        let ws = words(q);
        let mut used = vec![false; ws.len()];
        find(&ws, &mut used, today.parse().expect("date"))
            .into_iter()
            .map(|f| (f.period.from.to_string(), f.period.to.to_string()))
            .collect()
    }

    fn one(from: &str, to: &str) -> Vec<(String, String)> {
        vec![(from.into(), to.into())]
    }

    #[test]
    fn should_read_relative_and_named_periods() {
        let today = "2025-10-31";
        assert_eq!(periods("en diciembre", today), one("2024-12-01", "2024-12-31"));
        assert_eq!(periods("in october", today), one("2025-10-01", "2025-10-31"));
        assert_eq!(periods("marzo de 2025", today), one("2025-03-01", "2025-03-31"));
        assert_eq!(periods("last quarter", today), one("2025-07-01", "2025-09-30"));
        assert_eq!(periods("el trimestre pasado", today), one("2025-07-01", "2025-09-30"));
        assert_eq!(periods("últimos 30 días", today), one("2025-10-02", "2025-10-31"));
        assert_eq!(periods("este año", today), one("2025-01-01", "2025-10-31"));
        assert_eq!(periods("el mes pasado", today), one("2025-09-01", "2025-09-30"));
        assert_eq!(periods("Q1 2025", today), one("2025-01-01", "2025-03-31"));
        assert_eq!(periods("en 2024", today), one("2024-01-01", "2024-12-31"));
        assert_eq!(periods("last week", "2025-10-29"), one("2025-10-20", "2025-10-26"));
        assert_eq!(
            periods("enero vs febrero", today),
            vec![
                ("2025-01-01".into(), "2025-01-31".into()),
                ("2025-02-01".into(), "2025-02-28".into())
            ]
        );
        assert_eq!(periods("setiembre", today), one("2025-09-01", "2025-09-30"));
        assert!(periods("the best campaign", today).is_empty());
    }
}
