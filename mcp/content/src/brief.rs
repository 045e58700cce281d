//! The arguments of the two tools (JSON schemas with examples, which the client's model fills in)
//! and the checks that turn them into something the graph accepts, with a clear message otherwise.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest description `getContent` takes (as `searchImages`).
pub const MAX_DESCRIPTION: usize = 1_000;
/// Most images `getContent` returns.
pub const MAX_IMAGES: u32 = 20;
/// Most populations one brief may name (as `createContentRequest`).
pub const MAX_POPULATIONS: usize = 20;

/// `getContent`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = get_content_example())]
pub struct GetContentArgs {
    /// What the images should show, in words (English works best; at most 1000 characters).
    pub description: String,
    /// How many images (1 to 20, default 5).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Hashtags to favour (lowercase, `#` optional, at most 10).
    #[serde(default)]
    pub hashtags: Vec<String>,
}

fn get_content_example() -> serde_json::Value {
    serde_json::json!({
        "description": "a steaming cup of coffee for a cosy winter promotion",
        "limit": 5,
        "hashtags": ["coffee"]
    })
}

impl GetContentArgs {
    /// The checked arguments: description, limit, hashtags.
    pub fn checked(&self) -> Result<(String, u32, Vec<String>), String> {
        let description = self.description.trim();
        if description.is_empty() {
            return Err("`description` must say what the images should show".into());
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(format!("`description` must be at most {MAX_DESCRIPTION} characters"));
        }
        let limit = self.limit.unwrap_or(5);
        if !(1..=MAX_IMAGES).contains(&limit) {
            return Err(format!("`limit` must be between 1 and {MAX_IMAGES}"));
        }
        if self.hashtags.len() > 10 {
            return Err("at most 10 `hashtags`".into());
        }
        Ok((description.to_owned(), limit, self.hashtags.clone()))
    }
}

/// One target population of a brief.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Population {
    /// Name of the population (1–120 characters), e.g. "University students in Mexico".
    pub name: String,
    /// Youngest age targeted (13 to 100).
    pub age_min: i32,
    /// Oldest age targeted (13 to 100, not below `ageMin`).
    pub age_max: i32,
    /// BCP 47 language tags, the first one is the language written in: `es-MX`, `en-US`.
    pub locales: Vec<String>,
    /// What the population cares about (up to 30), e.g. `["music festivals", "gaming"]`.
    #[serde(default)]
    pub interests: Vec<String>,
    /// ISO 3166-1 alpha-2 country codes, e.g. `["MX"]`.
    pub country_codes: Vec<String>,
    /// Channel code to write for (`instagram`, `tiktok`, `facebook`, `email`, `sms`, `x`,
    /// `linkedin`, `youtube`); chosen from age and interests when absent.
    #[serde(default)]
    pub channel: Option<String>,
}

/// `draftCampaignMessages`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(example = brief_example())]
pub struct BriefArgs {
    /// The campaign (UUID) the content is for.
    pub campaign_id: String,
    /// Staff only: the organization the campaign belongs to (a tenant's token names its own).
    #[serde(default)]
    pub organization_id: Option<String>,
    /// What the campaign is about: product, offer, dates, tone wishes (20–20000 characters).
    pub campaign_description: String,
    /// The product or brand named in the messages (default: taken from the description).
    #[serde(default)]
    pub product: Option<String>,
    /// The target populations (1–20); each gets three messages.
    pub populations: Vec<Population>,
}

fn brief_example() -> serde_json::Value {
    serde_json::json!({
        "campaignId": "5f0c6a3e-2b1d-4c4e-9a57-0b6c1f2d3e4a",
        "campaignDescription": "Launch of Café Aurora cold brew in Mexico City: 2x1 on the first can during June.",
        "product": "Café Aurora cold brew",
        "populations": [{
            "name": "University students",
            "ageMin": 18, "ageMax": 24,
            "locales": ["es-MX"],
            "interests": ["music festivals", "gaming"],
            "countryCodes": ["MX"],
            "channel": "instagram"
        }]
    })
}

/// Channels the composer writes for.
pub const CHANNELS: &[&str] = &[
    "instagram",
    "tiktok",
    "facebook",
    "email",
    "sms",
    "x",
    "linkedin",
    "youtube",
];

fn locale_ok(l: &str) -> bool {
    let mut parts = l.split('-');
    let lang = parts.next().unwrap_or_default();
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| {
            (r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
                || (r.len() == 3 && r.chars().all(|c| c.is_ascii_digit()))
        })
}

impl BriefArgs {
    /// Checks what the graph would refuse, naming the argument; the campaign id parsed.
    pub fn check(&self) -> Result<Uuid, String> {
        let campaign =
            Uuid::parse_str(self.campaign_id.trim()).map_err(|_| "`campaignId` must be a UUID".to_owned())?;
        if let Some(org) = &self.organization_id {
            Uuid::parse_str(org.trim()).map_err(|_| "`organizationId` must be a UUID".to_owned())?;
        }
        let n = self.campaign_description.trim().chars().count();
        if !(20..=20_000).contains(&n) {
            return Err(format!(
                "`campaignDescription` must be 20 to 20000 characters (it has {n})"
            ));
        }
        if self.populations.is_empty() || self.populations.len() > MAX_POPULATIONS {
            return Err(format!(
                "`populations` must name 1 to {MAX_POPULATIONS} target populations"
            ));
        }
        for (i, p) in self.populations.iter().enumerate() {
            let at = format!("`populations[{i}]`");
            let name = p.name.trim().chars().count();
            if !(1..=120).contains(&name) {
                return Err(format!("{at}.name must be 1 to 120 characters"));
            }
            if !(13..=100).contains(&p.age_min) || !(13..=100).contains(&p.age_max) || p.age_max < p.age_min {
                return Err(format!(
                    "{at}: ages must be 13 to 100 with ageMin ≤ ageMax (no advertising to children)"
                ));
            }
            if p.locales.is_empty() || p.locales.len() > 10 || !p.locales.iter().all(|l| locale_ok(l)) {
                return Err(format!("{at}.locales must be 1 to 10 tags such as `es-MX` or `en-US`"));
            }
            if p.country_codes.is_empty()
                || !p
                    .country_codes
                    .iter()
                    .all(|c| c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()))
            {
                return Err(format!("{at}.countryCodes must be ISO codes such as `MX`"));
            }
            if p.interests.len() > 30
                || p.interests
                    .iter()
                    .any(|x| !(1..=60).contains(&x.trim().chars().count()))
            {
                return Err(format!("{at}.interests: up to 30, each 1 to 60 characters"));
            }
            if let Some(c) = &p.channel
                && !CHANNELS.contains(&c.as_str())
            {
                return Err(format!("{at}.channel must be one of {}", CHANNELS.join(", ")));
            }
        }
        let mut names: Vec<String> = self.populations.iter().map(|p| p.name.trim().to_lowercase()).collect();
        names.sort();
        names.dedup();
        if names.len() != self.populations.len() {
            return Err("each population needs its own name".into());
        }
        Ok(campaign)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief() -> BriefArgs {
        serde_json::from_value(brief_example()).expect("the example parses")
    }

    #[test]
    fn should_accept_the_documented_example() {
        assert!(brief().check().is_ok());
        let args: GetContentArgs = serde_json::from_value(get_content_example()).expect("parses");
        assert!(args.checked().is_ok());
    }

    #[test]
    fn should_name_the_bad_argument() {
        let mut b = brief();
        b.campaign_id = "nope".into();
        assert!(b.check().expect_err("bad id").contains("campaignId"));
        let mut b = brief();
        b.populations[0].age_min = 10;
        assert!(b.check().expect_err("child").contains("populations[0]"));
        let mut b = brief();
        b.populations[0].locales = vec!["spanish".into()];
        assert!(b.check().expect_err("locale").contains("locales"));
        let mut b = brief();
        b.populations.clear();
        assert!(b.check().expect_err("none").contains("populations"));
        let args = GetContentArgs {
            description: " ".into(),
            limit: None,
            hashtags: vec![],
        };
        assert!(args.checked().expect_err("blank").contains("description"));
    }
}
