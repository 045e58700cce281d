//! Tests of the content seed: determinism, the real MongoDB validators, PNG bytes against their
//! metadata, texts against what was drawn, and the shape of the PostgreSQL rows.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::OnceLock,
};

use bson::{Bson, spec::BinarySubtype};
use chrono::{DateTime, Duration, TimeZone, Utc};
use promptsales_platform::{
    Backend, Store,
    migrate::{MongoMigration, embedded},
    mongo_schema::validate,
};
use regex::Regex;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    CampaignBrief, ContentSet, PgValue,
    canvas::{Canvas, Role},
    generate,
    rng::hex,
    scenes::{self, DRAWINGS},
    spec::Composition,
    words::{PALETTES, SUBJECTS, THEMES},
};

const FULL: usize = 120;
/// Enough images for determinism checks; kept small because tests run unoptimised.
const FEW: usize = 8;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 31, 23, 59, 59)
        .single()
        .expect("valid time")
}

fn organizations() -> Vec<Uuid> {
    (1..=4_u128).map(|n| Uuid::from_u128(0x0a00_0000 + n)).collect()
}

/// Campaigns over the last year and the next two months, in Latin American and US markets.
fn campaigns() -> Vec<CampaignBrief> {
    let briefs = [
        (
            "Café Altura",
            "Cold brew de naranja",
            "awareness",
            &["MX", "US"][..],
            &["instagram", "facebook", "tiktok"][..],
        ),
        (
            "Northwind Sports",
            "Trail running shoes",
            "sales",
            &["US"],
            &["instagram", "youtube", "email"],
        ),
        (
            "Lumo",
            "Lumo X smartphone",
            "conversion",
            &["CO", "MX"],
            &["facebook", "sms", "google_search"],
        ),
        (
            "Verde Vivo",
            "Plantas de interior",
            "engagement",
            &["AR", "CL"],
            &["instagram", "influencer_network"],
        ),
        (
            "Acme Bank",
            "Cuenta de ahorro",
            "lead generation",
            &["MX", "BR"],
            &["linkedin", "email", "bing_search"],
        ),
        (
            "Playa Azul",
            "Paquetes de hotel en la playa",
            "traffic",
            &["MX", "ES"],
            &["facebook", "x", "instagram"],
        ),
    ];
    let orgs = organizations();
    (0..18_u128)
        .map(|i| {
            let (brand, product, objective, markets, channels) = briefs[(i % 6) as usize];
            let starts = now() - Duration::days(330) + Duration::days(i as i64 * 23) + Duration::hours(i as i64);
            CampaignBrief {
                id: Uuid::from_u128(0x0c00_0000 + i),
                organization_id: orgs[(i % 4) as usize],
                name: format!("{product} {}", 2025 + (i % 2)),
                brand: brand.into(),
                product: product.into(),
                objective: objective.into(),
                channel_codes: channels.iter().map(|c| (*c).to_owned()).collect(),
                market_codes: markets.iter().map(|m| (*m).to_owned()).collect(),
                starts_at: starts,
                ends_at: starts + Duration::days(30 + (i as i64 % 4) * 15),
            }
        })
        .collect()
}

/// A stand-in for the crypto module: deterministic, nonce || "ciphertext" || tag, 28+ bytes.
fn encrypt(plaintext: &[u8]) -> (Vec<u8>, String) {
    let digest = Sha256::digest(plaintext);
    let mut out = digest[..12].to_vec();
    out.extend(plaintext.iter().zip(digest.iter().cycle()).map(|(p, k)| p ^ k));
    out.extend_from_slice(&digest[16..32]);
    (out, "test:content/integrations/2025-10".into())
}

fn make(seed: u64, count: usize) -> ContentSet {
    generate(seed, now(), count, &organizations(), &campaigns(), &encrypt)
}

/// The full profile, generated once for the tests that only read it.
fn full() -> &'static ContentSet {
    static SET: OnceLock<ContentSet> = OnceLock::new();
    SET.get_or_init(|| make(7, FULL))
}

#[test]
fn should_generate_identical_sets_for_the_same_seed_and_now() {
    let (a, b) = (make(42, FEW), make(42, FEW));
    assert_eq!(a.checksum(), b.checksum());
    assert_eq!(a, b);
    let other = make(43, FEW);
    assert_ne!(a.checksum(), other.checksum());
    assert_ne!(a.images[0].file.sha256, other.images[0].file.sha256);
    let later = generate(
        42,
        now() + Duration::days(1),
        FEW,
        &organizations(),
        &campaigns(),
        &encrypt,
    );
    assert_ne!(a.checksum(), later.checksum(), "times follow `now`");
}

#[test]
fn should_make_at_least_100_varied_images_in_the_full_profile() {
    let set = full();
    assert!(set.images.len() >= 100);
    assert_eq!(set.image_blobs.len(), set.images.len());
    assert_eq!(set.generation_logs.len(), set.images.len());
    let subjects: BTreeSet<&str> = set.images.iter().map(|i| i.subjects[0].as_str()).collect();
    assert!(subjects.len() >= 12, "{subjects:?}");
    let sizes: BTreeSet<(u32, u32)> = set.images.iter().map(|i| (i.file.width, i.file.height)).collect();
    assert_eq!(sizes, BTreeSet::from([(640, 640), (800, 600), (1080, 1350)]));
    let total: u64 = set.images.iter().map(|i| i.file.size_bytes).sum();
    assert!(
        set.images.iter().all(|i| i.file.size_bytes < 150_000),
        "PNGs stay small"
    );
    assert!(total < 120 * 80_000, "{total} bytes");
    assert!(
        set.images.iter().any(|i| i.organization_id.is_none()),
        "a stock library"
    );
    assert!(
        set.images.iter().any(|i| i.campaign_id.is_some()),
        "images made for campaigns"
    );
}

fn collections() -> BTreeMap<String, bson::Document> {
    embedded(Store::Content, Backend::Mongo)
        .expect("embedded migrations")
        .iter()
        .flat_map(|f| {
            MongoMigration::parse(&f.path, f.content)
                .expect("valid migration")
                .collections
        })
        .map(|c| (c.name.clone(), c.json_schema().expect("a $jsonSchema")))
        .collect()
}

fn check_uuids(value: &Bson, path: &str) {
    match value {
        Bson::Binary(b) if path.ends_with("_id") || path.ends_with("requested_by") => {
            assert_eq!(b.subtype, BinarySubtype::Uuid, "{path}");
            assert_eq!(b.bytes.len(), 16, "{path}");
        }
        Bson::Document(d) => d.iter().for_each(|(k, v)| check_uuids(v, &format!("{path}.{k}"))),
        _ => {}
    }
}

#[test]
fn should_pass_the_mongodb_validators() {
    let schemas = collections();
    let set = full();
    let documents = set.documents();
    assert_eq!(documents.len(), schemas.len(), "one entry per collection");
    for (collection, docs) in &documents {
        let schema = &schemas[*collection];
        assert!(!docs.is_empty(), "{collection} is seeded");
        for d in docs {
            let violations = validate(schema, d).expect("usable validator");
            assert!(violations.is_empty(), "{collection}: {violations:?}\n{d}");
            check_uuids(&Bson::Document(d.clone()), "");
        }
    }
}

#[test]
fn should_store_pngs_whose_metadata_matches_the_bytes() {
    let set = full();
    for (image, blob) in set.images.iter().zip(&set.image_blobs).step_by(7) {
        assert_eq!(blob.image_id, image.id);
        let decoder = png::Decoder::new(std::io::Cursor::new(&blob.data));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut pixels).expect("decodable");
        assert_eq!((frame.width, frame.height), (image.file.width, image.file.height));
        assert_eq!(image.file.size_bytes, blob.data.len() as u64);
        assert_eq!(image.file.sha256, hex(&Sha256::digest(&blob.data)));
        assert_eq!(blob.sha256, image.file.sha256);
        assert_eq!(
            (image.format.as_str(), image.file.content_type.as_str()),
            ("png", "image/png")
        );
        let short: String = image.id.simple().to_string().chars().take(8).collect();
        assert!(image.file.name.starts_with(&format!("img-{short}-")) && image.file.name.ends_with(".png"));
        // The most dominant palette colour really is the most common pixel colour family.
        let first = &image.palette[0];
        let rgb = [1, 3, 5].map(|i| u8::from_str_radix(&first[i..i + 2], 16).expect("hex"));
        let near = pixels
            .chunks_exact(3)
            .filter(|p| (0..3).all(|k| p[k].abs_diff(rgb[k]) < 48))
            .count();
        assert!(
            near * 5 > pixels.len() / 3,
            "{first} is not dominant in {}",
            image.file.name
        );
    }
}

#[test]
fn should_describe_the_subject_and_every_palette_colour_by_name() {
    for image in &full().images {
        let subject = SUBJECTS
            .iter()
            .find(|s| s.subjects == image.subjects)
            .expect("a known subject");
        let d = &image.description;
        assert!(d.chars().count() >= 200 && d.matches(". ").count() >= 4, "{d}");
        assert!(d.contains(subject.name), "{d}");
        let palette = PALETTES
            .iter()
            .find(|p| d.contains(&format!("the {} palette", p.name)))
            .expect("palette named");
        for hex in &image.palette {
            let color = palette
                .colors
                .iter()
                .find(|c| c.hex == hex)
                .expect("palette colours come from the palette");
            assert!(d.contains(color.name), "{} missing from: {d}", color.name);
            assert!(image.alt_text.len() <= 250);
        }
        assert!(image.alt_text.contains(subject.name), "{}", image.alt_text);
    }
}

#[test]
fn should_paint_exactly_the_colours_each_subject_sentence_names() {
    assert_eq!(SUBJECTS.len(), DRAWINGS.len());
    assert!(SUBJECTS.len() >= 12);
    let placeholder = Regex::new(r"\{(?:[aA]:)?(\w+)\}").expect("regex");
    for subject in SUBJECTS.iter() {
        let mut canvas = Canvas::new(200, 200, &PALETTES[0]);
        canvas.place(100.0, 100.0, 180.0);
        scenes::draw(subject.key, &mut canvas);
        let named: BTreeSet<Role> = placeholder
            .captures_iter(subject.sentence)
            .filter_map(|c| Role::ALL.into_iter().find(|r| r.key() == &c[1]))
            .collect();
        let painted: BTreeSet<Role> = canvas.used().into_iter().collect();
        assert_eq!(painted, named, "{}", subject.key);
    }
}

#[test]
fn should_tag_images_with_valid_hashtags_and_count_their_use() {
    let set = full();
    let pattern = Regex::new(r"^[a-z0-9_]{2,50}\z").expect("regex");
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for image in &set.images {
        assert!((3..=8).contains(&image.hashtags.len()), "{:?}", image.hashtags);
        let unique: BTreeSet<&String> = image.hashtags.iter().collect();
        assert_eq!(unique.len(), image.hashtags.len());
        for tag in &image.hashtags {
            assert!(pattern.is_match(tag), "{tag}");
            *counts.entry(tag).or_default() += 1;
        }
        let theme = THEMES
            .iter()
            .find(|t| image.hashtags.contains(&t.tag.to_owned()))
            .expect("a theme tag");
        assert!(image.description.contains(theme.phrase));
    }
    let vocabulary: BTreeMap<&str, u64> = set.hashtags.iter().map(|h| (h.tag.as_str(), h.usage_count)).collect();
    assert_eq!(vocabulary, counts);
    assert!(set.hashtags.iter().any(|h| h.category == "color") && set.hashtags.iter().any(|h| h.category == "product"));
}

#[test]
fn should_keep_every_time_at_or_before_now_and_messages_within_their_campaign() {
    let set = full();
    let now = now();
    let campaigns = campaigns();
    let live = |created: DateTime<Utc>, updated: DateTime<Utc>, deleted: Option<DateTime<Utc>>| {
        assert!(created <= updated && updated <= now, "{created} {updated}");
        assert!(deleted.is_none_or(|d| d >= created && d <= now));
    };
    set.images
        .iter()
        .for_each(|i| live(i.created_at, i.updated_at, i.deleted_at));
    set.hashtags
        .iter()
        .for_each(|h| live(h.created_at, h.updated_at, h.deleted_at));
    set.content_requests
        .iter()
        .for_each(|r| live(r.created_at, r.updated_at, r.deleted_at));
    set.integrations
        .iter()
        .for_each(|i| live(i.created_at, i.updated_at, i.deleted_at));
    set.generation_logs
        .iter()
        .for_each(|g| live(g.created_at, g.updated_at, None));
    for log in &set.campaign_logs {
        let c = campaigns
            .iter()
            .find(|c| c.id == log.campaign_id)
            .expect("a known campaign");
        assert!((1..=20).contains(&log.messages.len()));
        assert!(log.messages.windows(2).all(|w| w[0].at <= w[1].at));
        for m in &log.messages {
            assert!(
                m.at >= c.starts_at - Duration::milliseconds(1) && m.at <= c.ends_at.min(now),
                "{}",
                m.at
            );
            // Spanish for the Latin American markets, English (or Spanish for bilingual audiences) in
            // the US, English where the market is unknown (BR here).
            match m.locale.split_once('-') {
                Some((lang, region)) => {
                    assert!(
                        c.market_codes.iter().any(|code| code == region),
                        "{} for {:?}",
                        m.locale,
                        c.market_codes
                    );
                    assert!(lang == "es" || region == "US", "{}", m.locale);
                }
                None => assert_eq!(m.locale, "en"),
            }
            assert!(m.text.contains(&c.product) || m.text.contains(&c.brand), "{}", m.text);
        }
        assert!(log.created_at <= now && log.updated_at <= now);
    }
}

#[test]
fn should_request_content_for_about_a_third_of_the_campaigns() {
    let set = full();
    let campaigns = campaigns();
    let share = |n: usize| (n as f64 / campaigns.len() as f64 - 0.35).abs() < 0.1;
    assert!(
        share(set.content_requests.len()),
        "{} requests",
        set.content_requests.len()
    );
    let logged: BTreeSet<Uuid> = set.campaign_logs.iter().map(|l| l.campaign_id).collect();
    assert!(share(logged.len()), "{} campaigns logged", logged.len());
    for r in &set.content_requests {
        let c = campaigns
            .iter()
            .find(|c| c.id == r.campaign_id)
            .expect("a known campaign");
        assert!(r.campaign_description.contains(&c.brand) && r.campaign_description.contains(&c.product));
        assert_eq!(r.organization_id, c.organization_id);
        let expected: &[&str] = if now() < c.starts_at {
            &["open", "in_progress"]
        } else {
            &["delivered", "cancelled"]
        };
        assert!(
            expected.contains(&r.status.as_str()),
            "{} for a campaign from {}",
            r.status,
            c.starts_at
        );
        for a in &r.target_audiences {
            assert!(13 <= a.age_min && a.age_min <= a.age_max && a.age_max <= 100);
            assert!(a.country_codes.iter().all(|cc| c.market_codes.contains(cc)));
        }
    }
    for g in set.generation_logs.iter().filter(|g| g.request_id.is_some()) {
        assert!(
            set.content_requests.iter().any(|r| Some(r.id) == g.request_id),
            "request ids exist (FK)"
        );
    }
}

#[test]
fn should_store_integration_credentials_only_as_ciphertext() {
    let set = full();
    let mut names = BTreeSet::new();
    for i in &set.integrations {
        assert!(
            names.insert((i.organization_id, i.name.clone())),
            "names unique per organization"
        );
        assert!(i.endpoint.starts_with("https://"));
        assert_eq!(i.credentials_enc.is_some(), i.credentials_key_id.is_some());
        assert!(
            i.credentials_enc
                .as_ref()
                .is_none_or(|c| c.len() >= 28 && !c.windows(5).any(|w| w == b"seed_"))
        );
        assert!(i.auth_method != "none" || i.credentials_enc.is_none());
        assert!(!i.enabled || i.auth_method == "none" || i.credentials_enc.is_some());
    }
    for org in organizations() {
        let n = set.integrations.iter().filter(|i| i.organization_id == org).count();
        assert!((2..=4).contains(&n));
    }
}

#[test]
fn should_cut_pg_rows_in_table_column_order_with_the_doc_keys_the_ddl_checks() {
    let set = full();
    let tables = set.pg_rows();
    let names: Vec<&str> = tables.iter().map(|t| t.table).collect();
    assert_eq!(
        names,
        [
            "content.images",
            "content.image_blobs",
            "content.hashtags",
            "content.content_requests",
            "content.campaign_logs",
            "content.integrations",
            "content.generation_logs"
        ]
    );
    let doc_keys: BTreeMap<&str, &[&str]> = BTreeMap::from([
        (
            "content.images",
            &["file", "description", "alt_text", "palette", "subjects", "usage_rights"][..],
        ),
        ("content.hashtags", &[][..]),
        (
            "content.content_requests",
            &["campaign_description", "target_audiences"][..],
        ),
        ("content.campaign_logs", &["messages"][..]),
        ("content.integrations", &["endpoint"][..]),
        ("content.generation_logs", &["prompt", "output_ref"][..]),
    ]);
    let utc = Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").expect("regex");
    for t in &tables {
        assert_eq!(
            t.rows.len(),
            set.counts()
                .iter()
                .find(|(c, _)| t.table.ends_with(c))
                .expect("counted")
                .1
        );
        for row in &t.rows {
            assert_eq!(row.len(), t.columns.len(), "{}", t.table);
            assert!(matches!(row[0], PgValue::Uuid(_)), "{}: id first", t.table);
            if let Some(i) = t.columns.iter().position(|c| *c == "doc") {
                let PgValue::Json(serde_json::Value::Object(doc)) = &row[i] else {
                    panic!("{}: doc is an object", t.table)
                };
                let keys: BTreeSet<&str> = doc.keys().map(String::as_str).collect();
                assert_eq!(keys, doc_keys[t.table].iter().copied().collect(), "{}", t.table);
                for m in doc.get("messages").and_then(|m| m.as_array()).into_iter().flatten() {
                    assert!(utc.is_match(m["at"].as_str().expect("at is text")), "{m}");
                }
            }
        }
    }
    let images = &tables[0];
    let hashtags = images.columns.iter().position(|c| *c == "hashtags").expect("a column");
    assert!(
        images
            .rows
            .iter()
            .all(|r| matches!(&r[hashtags], PgValue::TextArray(t) if t.len() >= 3))
    );
    let costs = &tables[6];
    let cost = costs.columns.iter().position(|c| *c == "cost_usd").expect("a column");
    assert!(
        costs
            .rows
            .iter()
            .all(|r| matches!(r[cost], PgValue::Decimal(d) if d.scale() <= 6))
    );
}

#[test]
fn should_lay_out_every_composition_inside_the_canvas() {
    let mut rng = super::rng::stream(1, "layout-test", 0);
    for _ in 0..200 {
        let spec = super::spec::ImageSpec::draw(&mut rng, 0, None);
        let layout = spec.layout();
        for (x, y) in &layout.slots {
            let half = layout.size / 2.0;
            assert!(
                x - half >= 0.0 && x + half <= spec.width as f32,
                "{:?}",
                spec.composition
            );
            assert!(
                y - half >= 0.0 && y + half <= spec.height as f32,
                "{:?}",
                spec.composition
            );
        }
        if spec.composition == Composition::Pattern {
            assert!(spec.decorations.is_empty());
        }
    }
}

#[test]
fn should_fill_only_the_stock_library_without_organizations_or_campaigns() {
    let set = generate(3, now(), 3, &[], &[], &encrypt);
    assert_eq!(set.images.len(), 3);
    assert!(
        set.images
            .iter()
            .all(|i| i.organization_id.is_none() && i.campaign_id.is_none())
    );
    assert!(set.content_requests.is_empty() && set.campaign_logs.is_empty() && set.integrations.is_empty());
    assert!(
        set.generation_logs
            .iter()
            .all(|g| g.organization_id.is_none() && g.request_id.is_none())
    );
    let schemas = collections();
    for (collection, docs) in set.documents() {
        for d in &docs {
            assert_eq!(
                validate(&schemas[collection], d).expect("usable validator"),
                vec![],
                "{collection}"
            );
        }
    }
}
