//! Text as the parser compares it: lower case, accents removed (NFD, combining marks dropped),
//! punctuation turned into spaces, so "¿Cuál fue el ALCANCE?" and "cual fue el alcance" are alike.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// `s` folded: lower case, no accents, `ñ` kept as `n`, punctuation as spaces (digits, `-` inside
/// dates and `/` kept), single spaces.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        let c = c.to_lowercase().next().unwrap_or(c);
        if c.is_alphanumeric() || c == '-' || c == '/' {
            out.push(c);
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The words of folded text.
pub fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(' ')
        .filter(|w| !w.is_empty() && *w != "-")
        .map(str::to_owned)
        .collect()
}

/// Similarity of two folded strings in [0, 1] (Damerau–Levenshtein, normalised), tolerant of a
/// typo or a swapped pair of letters.
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::normalized_damerau_levenshtein(a, b)
}

/// Whether `word` is `target` give or take a typo: exact for short words, one edit for words of
/// 5–7 letters, two for longer ones.
pub fn near(word: &str, target: &str) -> bool {
    if word == target {
        return true;
    }
    let len = target.chars().count();
    let allowed = match len {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    allowed > 0 && strsim::damerau_levenshtein(word, target) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_fold_case_accents_and_punctuation() {
        assert_eq!(
            fold("¿Cuál fue el ALCANCE de «Verano Fresco»?"),
            "cual fue el alcance de verano fresco"
        );
        assert_eq!(fold("Campaña · México, 2025-01-31"), "campana mexico 2025-01-31");
        assert_eq!(words("top 5: ROI!"), ["top", "5", "roi"]);
    }

    #[test]
    fn should_tolerate_typos_by_length() {
        assert!(near("alcanse", "alcance"));
        assert!(near("revnue", "revenue"));
        assert!(!near("roi", "rol"));
        assert!(near("instagarm", "instagram"));
    }
}
