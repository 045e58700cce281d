//! How a candidate's score is made: the cosine similarity of the query and the image's embedding
//! (in [-1, 1], about 0.1–0.7 for these texts), plus a boost for hashtags.
//!
//! - Each hashtag the caller asked for (`hashtags` argument) that the image carries adds
//!   [`ASKED_BOOST`] divided by the number asked, so carrying all of them adds [`ASKED_BOOST`].
//! - Each hashtag of the image that the query's words spell (`summer_sale` from "summer sale",
//!   `coffee` from "#coffee" or "Coffee") adds [`KEYWORD_BOOST`], at most [`MAX_KEYWORD_BOOST`].
//!
//! Boosts are a fraction of the similarity range on purpose: they reorder near neighbours and lift
//! an exactly tagged image, but never put an unrelated image above a close description.

use std::collections::BTreeSet;

pub const ASKED_BOOST: f32 = 0.15;
pub const KEYWORD_BOOST: f32 = 0.05;
pub const MAX_KEYWORD_BOOST: f32 = 0.15;
/// Most hashtags one search may ask for.
pub const MAX_ASKED: usize = 10;

/// A hashtag as the vocabulary spells it: lowercase, without `#`, spaces as `_`.
pub fn normalise_tag(tag: &str) -> String {
    tag.trim()
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
}

/// The query's words, lowercase, `#` and punctuation removed: what a hashtag is compared with.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Hashtags the query spells: single words and runs of up to three words joined by `_`.
pub fn spelled_tags(text: &str) -> BTreeSet<String> {
    let words = words(text);
    let mut out = BTreeSet::new();
    for n in 1..=3 {
        for run in words.windows(n) {
            out.insert(run.join("_"));
        }
    }
    out
}

/// The boost of an image carrying `tags`, and which of its tags earned it.
pub fn boost(tags: &[String], asked: &[String], spelled: &BTreeSet<String>) -> (f32, Vec<String>) {
    let mut matched = Vec::new();
    let mut score = 0.0;
    if !asked.is_empty() {
        let hits: Vec<&String> = asked.iter().filter(|a| tags.contains(a)).collect();
        score += ASKED_BOOST * hits.len() as f32 / asked.len() as f32;
        matched.extend(hits.into_iter().cloned());
    }
    let mut keyword = 0.0;
    for tag in tags {
        if spelled.contains(tag) {
            keyword += KEYWORD_BOOST;
            if !matched.contains(tag) {
                matched.push(tag.clone());
            }
        }
    }
    (score + f32::min(keyword, MAX_KEYWORD_BOOST), matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn should_normalise_tags_as_the_vocabulary_spells_them() {
        assert_eq!(normalise_tag(" #Summer Sale "), "summer_sale");
        assert_eq!(normalise_tag("coffee"), "coffee");
    }

    #[test]
    fn should_boost_asked_and_spelled_hashtags_within_their_caps() {
        let image = tags(&["coffee", "summer_sale", "product"]);
        let spelled = spelled_tags("A #coffee cup for the Summer sale!");
        let (b, matched) = boost(&image, &[], &spelled);
        assert!((b - 2.0 * KEYWORD_BOOST).abs() < 1e-6, "{b}");
        assert_eq!(matched, tags(&["coffee", "summer_sale"]));

        let (b, matched) = boost(&image, &tags(&["coffee", "beach"]), &BTreeSet::new());
        assert!((b - ASKED_BOOST / 2.0).abs() < 1e-6, "{b}");
        assert_eq!(matched, tags(&["coffee"]));

        let many = tags(&["a", "b", "c", "d", "e"]);
        let (b, _) = boost(&many, &[], &spelled_tags("a b c d e"));
        assert!((b - MAX_KEYWORD_BOOST).abs() < 1e-6, "{b}");
        assert_eq!(boost(&image, &[], &spelled_tags("mountain")).0, 0.0);
    }
}
