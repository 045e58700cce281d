//! The image library: plans each image (owner, rights, dates, parameters) from its own stream,
//! renders them in parallel, and derives the blobs, generation logs and hashtag vocabulary.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use rand::Rng;
use rayon::prelude::*;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    CampaignBrief,
    campaigns::channels,
    describe::{category_of, describe},
    records::{ContentRequest, GenerationLog, Hashtag, Image, ImageBlob, ImageFile, UsageRights},
    render::render,
    rng::{between, hex, label_hash, ms, new_id, pick, sample_indices, stream},
    spec::ImageSpec,
    words::{CHANNELS, STOCK_OWNERS, SUBJECTS, THEMES},
};

/// The generator named in the generation logs.
pub(super) const MODEL: &str = "promptsales-procedural-v1";

/// Who an image belongs to and under which terms.
struct Plan {
    id: Uuid,
    spec: ImageSpec,
    organization_id: Option<Uuid>,
    campaign_id: Option<Uuid>,
    request_id: Option<Uuid>,
    rights: UsageRights,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    jitter_ms: u64,
    log_id: Uuid,
}

/// Words of a campaign (product, brand, name), lowercase and padded with spaces for whole-word search.
fn campaign_words(c: &CampaignBrief) -> String {
    let text = format!("{} {} {}", c.product, c.brand, c.name).to_lowercase();
    let words: Vec<&str> = text
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    format!(" {} ", words.join(" "))
}

/// Subjects whose keywords occur in the campaign's words.
fn matching_subjects(c: &CampaignBrief) -> Vec<usize> {
    let words = campaign_words(c);
    (0..SUBJECTS.len())
        .filter(|&s| SUBJECTS[s].keywords.iter().any(|k| words.contains(&format!(" {k} "))))
        .collect()
}

/// Themes for a campaign starting in `month`, or the any-month themes when none is seasonal then.
fn themes_for(month: u32) -> Vec<usize> {
    let seasonal: Vec<usize> = (0..THEMES.len())
        .filter(|&t| THEMES[t].months.contains(&month))
        .collect();
    if !seasonal.is_empty() {
        return seasonal;
    }
    (0..THEMES.len()).filter(|&t| THEMES[t].months.is_empty()).collect()
}

fn visual_channels() -> Vec<String> {
    CHANNELS
        .iter()
        .filter(|(_, _, visual)| *visual)
        .map(|(code, _, _)| (*code).to_owned())
        .collect()
}

/// The end of a day some 6 months to 3 years after `now`.
fn expiry(rng: &mut rand_chacha::ChaCha8Rng, now: DateTime<Utc>) -> DateTime<Utc> {
    let day = (now + Duration::days(rng.random_range(180..=1100))).date_naive();
    day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time of day"))
        .and_utc()
}

fn plan(
    seed: u64,
    now: DateTime<Utc>,
    index: usize,
    organizations: &[Uuid],
    campaigns: &[CampaignBrief],
    requests: &[ContentRequest],
) -> Plan {
    let mut rng = stream(seed, "image", index as u64);
    // Subjects cycle so that even the small profile shows every one of them.
    let offset = stream(seed, "image-cycle", 0).random_range(0..SUBJECTS.len());
    let cycled = (index + offset) % SUBJECTS.len();
    let visual = visual_channels();
    let stock_channels = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<String> {
        let k = rng.random_range(2..=5);
        let mut picked: Vec<usize> = sample_indices(rng, visual.len(), k);
        picked.sort();
        picked.into_iter().map(|i| visual[i].clone()).collect()
    };
    let id = new_id(&mut rng);
    let log_id = new_id(&mut rng);
    let jitter_ms = rng.random_range(0..40);
    let roll: f64 = rng.random();

    let request = (!requests.is_empty() && roll < 0.4).then(|| {
        let r = pick(&mut rng, requests);
        let c = campaigns
            .iter()
            .find(|c| c.id == r.campaign_id)
            .expect("requests are made from these campaigns");
        (r, c)
    });
    let (spec, organization_id, campaign_id, request_id, rights, created_at) = if let Some((r, c)) = request {
        let matches = matching_subjects(c);
        let subject = if matches.is_empty() {
            cycled
        } else {
            *pick(&mut rng, &matches)
        };
        let theme = *pick(&mut rng, &themes_for(c.starts_at.month()));
        let spec = ImageSpec::draw(&mut rng, subject, Some(theme));
        let mut allowed: Vec<String> = channels(c)
            .into_iter()
            .filter(|ch| visual.contains(ch) || !CHANNELS.iter().any(|(k, _, _)| k == ch))
            .collect();
        if allowed.is_empty() {
            allowed = vec!["instagram".into(), "facebook".into()];
        }
        allowed.truncate(20);
        let rights = UsageRights {
            license: "owned".into(),
            owner: c.brand.clone(),
            expires_at: None,
            allowed_channels: allowed,
        };
        let created = between(&mut rng, r.created_at, ms(c.starts_at).min(now));
        (spec, Some(c.organization_id), Some(c.id), Some(r.id), rights, created)
    } else if !organizations.is_empty() && roll < 0.65 {
        let org = *pick(&mut rng, organizations);
        let spec = ImageSpec::draw(&mut rng, cycled, None);
        let brands: Vec<&str> = campaigns
            .iter()
            .filter(|c| c.organization_id == org)
            .map(|c| c.brand.as_str())
            .collect();
        let licensed = rng.random_bool(0.2);
        // Licensed images name their licensor; owned ones the organization's brand.
        let licensors: Vec<&str> = STOCK_OWNERS
            .iter()
            .filter(|(_, l)| *l == "licensed")
            .map(|(o, _)| *o)
            .collect();
        let owner = match (licensed, brands.is_empty()) {
            (true, _) => (*pick(&mut rng, &licensors)).to_owned(),
            (false, true) => "In-house creative team".to_owned(),
            (false, false) => (*pick(&mut rng, &brands)).to_owned(),
        };
        let rights = UsageRights {
            license: if licensed { "licensed" } else { "owned" }.into(),
            owner,
            expires_at: licensed.then(|| expiry(&mut rng, now)),
            allowed_channels: stock_channels(&mut rng),
        };
        let created = between(&mut rng, now - Duration::days(400), now - Duration::hours(1));
        (spec, Some(org), None, None, rights, created)
    } else {
        let spec = ImageSpec::draw(&mut rng, cycled, None);
        let (owner, license) = *pick(&mut rng, &STOCK_OWNERS);
        let expires_at = match license {
            "licensed" => Some(expiry(&mut rng, now)),
            "royalty_free" if rng.random_bool(0.3) => Some(expiry(&mut rng, now)),
            _ => None,
        };
        let rights = UsageRights {
            license: license.into(),
            owner: owner.into(),
            expires_at,
            allowed_channels: stock_channels(&mut rng),
        };
        let created = between(&mut rng, now - Duration::days(720), now - Duration::hours(1));
        (spec, None, None, None, rights, created)
    };
    // A fifth of the images were edited (re-tagged, re-described) after upload.
    let updated_at = if rng.random_bool(0.2) {
        between(&mut rng, created_at, now)
    } else {
        created_at
    };
    Plan {
        id,
        spec,
        organization_id,
        campaign_id,
        request_id,
        rights,
        created_at,
        updated_at,
        jitter_ms,
        log_id,
    }
}

fn build_one(plan: Plan) -> (Image, ImageBlob, GenerationLog) {
    let rendered = render(&plan.spec);
    let texts = describe(&plan.spec, &plan.rights.allowed_channels);
    let sha256 = hex(&Sha256::digest(&rendered.png));
    let palette = plan.spec.palette();
    let subject = plan.spec.subject();
    let pixels = u64::from(plan.spec.width) * u64::from(plan.spec.height);
    let short_id: String = plan.id.simple().to_string().chars().take(8).collect();
    let image = Image {
        id: plan.id,
        organization_id: plan.organization_id,
        campaign_id: plan.campaign_id,
        file: ImageFile {
            name: format!("img-{short_id}-{}.png", subject.key.replace('_', "-")),
            content_type: "image/png".into(),
            size_bytes: rendered.png.len() as u64,
            width: plan.spec.width,
            height: plan.spec.height,
            sha256: sha256.clone(),
        },
        format: "png".into(),
        description: texts.description,
        alt_text: texts.alt_text,
        hashtags: texts.hashtags.iter().map(|t| (*t).to_owned()).collect(),
        palette: rendered
            .palette
            .iter()
            .map(|r| palette.color(*r).hex.to_owned())
            .collect(),
        subjects: subject.subjects.iter().map(|s| (*s).to_owned()).collect(),
        usage_rights: plan.rights,
        created_at: plan.created_at,
        updated_at: plan.updated_at,
        deleted_at: None,
    };
    let log = GenerationLog {
        id: plan.log_id,
        organization_id: plan.organization_id,
        request_id: plan.request_id,
        kind: "image".into(),
        model: MODEL.into(),
        prompt: texts.prompt,
        output_ref: Some(format!("images/{}", plan.id)),
        tokens_in: 0,
        tokens_out: 0,
        // What drawing and encoding take on one core, give or take: a plausible figure, not a measurement.
        latency_ms: 25 + pixels / 20_000 + 6 * plan.spec.decorations.len() as u64 + plan.jitter_ms,
        // Compute only: a millionth of a dollar per 100k pixels.
        cost_usd: Decimal::new(pixels.div_ceil(100_000) as i64, 6),
        created_at: plan.created_at,
        updated_at: plan.created_at,
    };
    let blob = ImageBlob {
        image_id: plan.id,
        data: rendered.png,
        sha256,
    };
    (image, blob, log)
}

/// `count` images with their blobs and generation logs, rendered in parallel, in index order.
pub(super) fn build(
    seed: u64,
    now: DateTime<Utc>,
    count: usize,
    organizations: &[Uuid],
    campaigns: &[CampaignBrief],
    requests: &[ContentRequest],
) -> (Vec<Image>, Vec<ImageBlob>, Vec<GenerationLog>) {
    let plans: Vec<Plan> = (0..count)
        .map(|i| plan(seed, now, i, organizations, campaigns, requests))
        .collect();
    let built: Vec<(Image, ImageBlob, GenerationLog)> = plans.into_par_iter().map(build_one).collect();
    let mut images = Vec::with_capacity(count);
    let mut blobs = Vec::with_capacity(count);
    let mut logs = Vec::with_capacity(count);
    for (image, blob, log) in built {
        images.push(image);
        blobs.push(blob);
        logs.push(log);
    }
    (images, blobs, logs)
}

/// One hashtag per distinct tag of the images, with how many images carry it.
pub(super) fn hashtags(seed: u64, images: &[Image]) -> Vec<Hashtag> {
    let categories: BTreeMap<&str, &str> = images
        .iter()
        .flat_map(|i| i.hashtags.iter())
        .map(|t| (t.as_str(), category_of(t)))
        .collect();
    categories
        .into_iter()
        .map(|(tag, category)| {
            let using: Vec<&Image> = images.iter().filter(|i| i.hashtags.iter().any(|t| t == tag)).collect();
            let first = using
                .iter()
                .map(|i| i.created_at)
                .min()
                .expect("the tag comes from an image");
            let last = using
                .iter()
                .map(|i| i.created_at)
                .max()
                .expect("the tag comes from an image");
            Hashtag {
                id: new_id(&mut stream(seed, "hashtag", label_hash(tag))),
                tag: tag.to_owned(),
                category: category.to_owned(),
                usage_count: using.len() as u64,
                created_at: first,
                updated_at: last,
                deleted_at: None,
            }
        })
        .collect()
}
