//! Test data and stores for the content subgraph's tests: one set of MongoDB documents (the
//! fixture), loaded as they are into either adapter, so every test reads the same data on
//! PostgreSQL and on MongoDB.
#![allow(dead_code)]

pub mod counting;

use std::sync::Arc;

use bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use chrono::{DateTime, Duration, TimeZone, Utc};
use promptsales_content::store::{
    ContentStore, MongoStore, PgStore,
    document::{Collection, date, hex, uuid},
};
use promptsales_platform::{Store, StoreUrl, migrate};
use promptsales_testkit::{TestDb, remote};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The ids of the fixture, named by what each stands for.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub org_a: Uuid,
    pub org_b: Uuid,
    pub campaign_a: Uuid,
    pub campaign_b: Uuid,
    /// The shared stock library (no organization).
    pub stock: [Uuid; 2],
    /// Organization A's live images, oldest first.
    pub images_a: [Uuid; 3],
    pub image_a_deleted: Uuid,
    pub image_b: Uuid,
    /// Images that have bytes in `image_blobs`.
    pub with_bytes: Vec<Uuid>,
    /// The bytes of each image that has some.
    pub bytes: Vec<(Uuid, Vec<u8>)>,
    /// Hashtags: summer 40, coffee 30, beach 30, students 10, retro (deleted).
    pub hashtags: Vec<(String, Uuid)>,
    /// Campaign A's live requests, oldest first (open, in progress).
    pub requests_a: [Uuid; 2],
    pub request_a_deleted: Uuid,
    pub request_b: Uuid,
    /// Campaign A's live logs: Students/instagram, Adults/email.
    pub logs_a: [Uuid; 2],
    pub log_a_deleted: Uuid,
    pub log_b: Uuid,
    /// A's integrations: `mailchimp` (credentials, key `kek-2025`), `Webhook` (auth none); by bytes,
    /// `Webhook` sorts first (upper case before lower), which catches a collation-dependent order.
    pub integrations_a: [Uuid; 2],
    pub integration_a_deleted: Uuid,
    pub integration_b: Uuid,
    pub documents: Vec<(Collection, Vec<Document>)>,
}

impl Fixture {
    pub fn hashtag(&self, tag: &str) -> Uuid {
        self.hashtags
            .iter()
            .find(|(t, _)| t == tag)
            .expect("a fixture hashtag")
            .1
    }

    pub fn bytes_of(&self, image: Uuid) -> &[u8] {
        &self
            .bytes
            .iter()
            .find(|(id, _)| *id == image)
            .expect("an image with bytes")
            .1
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .single()
        .expect("a valid time")
}

fn at(minutes: i64) -> Bson {
    date(t0() + Duration::minutes(minutes))
}

fn strings(items: &[&str]) -> Bson {
    Bson::Array(items.iter().map(|s| Bson::String((*s).to_owned())).collect())
}

fn opt_uuid(id: Option<Uuid>) -> Bson {
    id.map_or(Bson::Null, uuid)
}

fn tombstone(deleted: bool, minutes: i64) -> Bson {
    if deleted { at(minutes + 1) } else { Bson::Null }
}

/// A real PNG of `side`×`side` pixels in one colour.
pub fn png(side: u32, rgb: (u8, u8, u8)) -> Vec<u8> {
    let mut pixmap = tiny_skia::Pixmap::new(side, side).expect("a non-empty image");
    pixmap.fill(tiny_skia::Color::from_rgba8(rgb.0, rgb.1, rgb.2, 255));
    pixmap.encode_png().expect("PNG encoding")
}

type Spec = (Uuid, Option<Uuid>, &'static [&'static str], i64, bool, u32);

struct ImageSpec<'a> {
    id: Uuid,
    org: Option<Uuid>,
    tags: &'a [&'a str],
    minutes: i64,
    deleted: bool,
    bytes: &'a [u8],
    side: u32,
}

fn image(spec: &ImageSpec<'_>) -> Document {
    let description = format!(
        "A test image made for the content subgraph's tests, tagged {}. It shows a plain square of one colour, \
         which is enough for the API: what matters here is the metadata, the hashtags and the bytes, and a \
         description must be at least two hundred characters long.",
        spec.tags.join(", ")
    );
    doc! {
        "_id": uuid(spec.id),
        "organization_id": opt_uuid(spec.org),
        "file": {
            "name": format!("{}.png", spec.id),
            "content_type": "image/png",
            "size_bytes": spec.bytes.len() as i64,
            "width": i64::from(spec.side),
            "height": i64::from(spec.side),
            "sha256": hex(&Sha256::digest(spec.bytes)),
        },
        "format": "png",
        "description": description,
        "alt_text": "A plain coloured square",
        "hashtags": strings(spec.tags),
        "palette": ["#c87a3a"],
        "subjects": ["colour"],
        "usage_rights": {
            "license": "owned",
            "owner": "PromptSales tests",
            "expires_at": if spec.org.is_none() { at(60 * 24 * 365) } else { Bson::Null },
            "allowed_channels": ["instagram", "email"],
        },
        "created_at": at(spec.minutes),
        "updated_at": at(spec.minutes),
        "deleted_at": tombstone(spec.deleted, spec.minutes),
    }
}

fn blob(id: Uuid, bytes: &[u8]) -> Document {
    doc! {
        "_id": uuid(id),
        "data": Bson::Binary(Binary { subtype: BinarySubtype::Generic, bytes: bytes.to_vec() }),
        "sha256": hex(&Sha256::digest(bytes)),
    }
}

fn hashtag(id: Uuid, tag: &str, category: &str, usage: i64, deleted: bool) -> Document {
    doc! {
        "_id": uuid(id), "tag": tag, "category": category, "usage_count": usage,
        "created_at": at(0), "updated_at": at(0), "deleted_at": tombstone(deleted, 0),
    }
}

fn request(id: Uuid, org: Uuid, campaign: Uuid, status: &str, minutes: i64, deleted: bool) -> Document {
    doc! {
        "_id": uuid(id),
        "organization_id": uuid(org),
        "campaign_id": uuid(campaign),
        "campaign_description": "Summer launch of a cold brew line: fresh, unhurried moments outdoors.",
        "target_audiences": [{
            "name": "Students", "age_min": 18, "age_max": 24, "locales": ["es-MX", "en-US"],
            "interests": ["music"], "country_codes": ["MX", "US"],
        }, {
            "name": "Adults", "age_min": 25_i64, "age_max": 45_i64, "locales": ["es-MX"],
            "interests": [], "country_codes": ["MX"],
        }],
        "status": status,
        "requested_by": uuid(Uuid::new_v4()),
        "created_at": at(minutes),
        "updated_at": at(minutes),
        "deleted_at": tombstone(deleted, minutes),
    }
}

fn log(
    id: Uuid,
    org: Uuid,
    campaign: Uuid,
    population: &str,
    channel: &str,
    texts: &[&str],
    deleted: bool,
) -> Document {
    let messages: Vec<Bson> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| Bson::Document(doc! { "at": at(100 + i as i64), "locale": "es-MX", "text": *text }))
        .collect();
    doc! {
        "_id": uuid(id), "organization_id": uuid(org), "campaign_id": uuid(campaign),
        "population": population, "channel_code": channel, "messages": messages,
        "created_at": at(90), "updated_at": at(100 + texts.len() as i64), "deleted_at": tombstone(deleted, 200),
    }
}

fn integration(id: Uuid, org: Uuid, name: &str, kind: &str, auth: &str, key: Option<&str>, deleted: bool) -> Document {
    let credentials = match key {
        Some(_) => Bson::Binary(Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![7; 40],
        }),
        None => Bson::Null,
    };
    doc! {
        "_id": uuid(id), "organization_id": uuid(org), "name": name, "kind": kind,
        "endpoint": format!("https://{kind}.example.com/api"), "auth_method": auth,
        "credentials_enc": credentials, "credentials_key_id": key.map_or(Bson::Null, Bson::from),
        "enabled": true, "created_at": at(5), "updated_at": at(5), "deleted_at": tombstone(deleted, 5),
    }
}

fn generation(request: Uuid, org: Uuid, output_ref: &str) -> Document {
    doc! {
        "_id": uuid(Uuid::new_v4()), "organization_id": uuid(org), "request_id": uuid(request),
        "kind": "image", "model": "test-model", "prompt": "a plain square", "output_ref": output_ref,
        "tokens_in": 10, "tokens_out": 0, "latency_ms": 900_i64,
        "cost_usd": Bson::Decimal128("0.040000".parse().expect("a decimal")),
        "created_at": at(50), "updated_at": at(50),
    }
}

/// Builds the fixture with fresh ids.
pub fn fixture() -> Fixture {
    let id = Uuid::new_v4;
    let (org_a, org_b, campaign_a, campaign_b) = (id(), id(), id(), id());
    let stock = [id(), id()];
    let images_a = [id(), id(), id()];
    let (image_a_deleted, image_b) = (id(), id());
    let hashtags: Vec<(String, Uuid)> = ["summer", "coffee", "beach", "students", "retro"]
        .iter()
        .map(|t| ((*t).to_owned(), id()))
        .collect();
    let requests_a = [id(), id()];
    let (request_a_deleted, request_b) = (id(), id());
    let logs_a = [id(), id()];
    let (log_a_deleted, log_b) = (id(), id());
    let integrations_a = [id(), id()];
    let (integration_a_deleted, integration_b) = (id(), id());

    // (id, organization, hashtags, minutes after t0, deleted, side in pixels)
    let specs: Vec<Spec> = vec![
        (stock[0], None, &["summer", "beach", "sunset"], 1, false, 4),
        (stock[1], None, &["coffee", "morning", "cafe"], 2, false, 5),
        (images_a[0], Some(org_a), &["summer", "coffee", "students"], 3, false, 6),
        (images_a[1], Some(org_a), &["coffee", "iced", "terrace"], 4, false, 7),
        (images_a[2], Some(org_a), &["summer", "beach", "students"], 5, false, 8),
        (image_a_deleted, Some(org_a), &["summer", "beach", "retro"], 6, true, 9),
        (image_b, Some(org_b), &["summer", "coffee", "promo"], 7, false, 10),
    ];
    let bytes: Vec<(Uuid, Vec<u8>)> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.0, png(s.5, (40 * i as u8, 120, 200))))
        .collect();
    let images: Vec<Document> = specs
        .iter()
        .zip(&bytes)
        .map(|(s, (_, b))| {
            image(&ImageSpec {
                id: s.0,
                org: s.1,
                tags: s.2,
                minutes: s.3,
                deleted: s.4,
                bytes: b,
                side: s.5,
            })
        })
        .collect();
    let with_bytes = vec![stock[0], images_a[0], image_a_deleted, image_b];
    let blobs = with_bytes
        .iter()
        .map(|i| blob(*i, &bytes.iter().find(|(id, _)| id == i).expect("bytes").1));

    let usage = [40, 30, 30, 10, 5];
    let categories = ["season", "product", "season", "audience", "trend"];
    let hashtag_docs = hashtags
        .iter()
        .zip(usage.iter().zip(categories))
        .map(|((tag, hid), (n, c))| hashtag(*hid, tag, c, *n, tag == "retro"))
        .collect();

    let generations = vec![
        generation(requests_a[0], org_a, &format!("images/{}", images_a[0])),
        generation(requests_a[0], org_a, &format!("images/{}", images_a[1])),
        generation(requests_a[1], org_a, &format!("images/{}", images_a[1])),
        generation(requests_a[1], org_a, "texts/headline-1"),
        generation(requests_a[0], org_a, &format!("images/{image_a_deleted}")),
        generation(request_a_deleted, org_a, &format!("images/{}", images_a[2])),
        generation(request_b, org_b, &format!("images/{image_b}")),
    ];

    let documents = vec![
        (Collection::Images, images),
        (Collection::ImageBlobs, blobs.collect()),
        (Collection::Hashtags, hashtag_docs),
        (
            Collection::ContentRequests,
            vec![
                request(requests_a[0], org_a, campaign_a, "open", 10, false),
                request(requests_a[1], org_a, campaign_a, "in_progress", 11, false),
                request(request_a_deleted, org_a, campaign_a, "open", 12, true),
                request(request_b, org_b, campaign_b, "delivered", 13, false),
            ],
        ),
        (
            Collection::CampaignLogs,
            vec![
                log(
                    logs_a[0],
                    org_a,
                    campaign_a,
                    "Students",
                    "instagram",
                    &["¡Hola!", "Last call"],
                    false,
                ),
                log(
                    logs_a[1],
                    org_a,
                    campaign_a,
                    "Adults",
                    "email",
                    &["Your summer coffee"],
                    false,
                ),
                log(log_a_deleted, org_a, campaign_a, "Adults", "sms", &["Old"], true),
                log(log_b, org_b, campaign_b, "Students", "instagram", &["Hi"], false),
            ],
        ),
        (
            Collection::Integrations,
            vec![
                integration(
                    integrations_a[0],
                    org_a,
                    "mailchimp",
                    "mailchimp",
                    "api_key",
                    Some("kek-2025"),
                    false,
                ),
                integration(integrations_a[1], org_a, "Webhook", "webhook", "none", None, false),
                integration(integration_a_deleted, org_a, "Old", "custom", "none", None, true),
                integration(
                    integration_b,
                    org_b,
                    "OpenAI",
                    "openai",
                    "bearer",
                    Some("kek-2025"),
                    false,
                ),
            ],
        ),
        (Collection::GenerationLogs, generations),
    ];
    Fixture {
        org_a,
        org_b,
        campaign_a,
        campaign_b,
        stock,
        images_a,
        image_a_deleted,
        image_b,
        with_bytes,
        bytes,
        hashtags,
        requests_a,
        request_a_deleted,
        request_b,
        logs_a,
        log_a_deleted,
        log_b,
        integrations_a,
        integration_a_deleted,
        integration_b,
        documents,
    }
}

/// `n` more live images of `org`, older than the fixture's, each with bytes-free metadata and the
/// fixture's hashtags (for N+1 tests).
pub fn more_images(n: usize, org: Option<Uuid>) -> Vec<Document> {
    let bytes = png(2, (1, 2, 3));
    (0..n)
        .map(|i| {
            image(&ImageSpec {
                id: Uuid::new_v4(),
                org,
                tags: &["summer", "coffee", "students", "beach"],
                minutes: -(i as i64) - 1,
                deleted: false,
                bytes: &bytes,
                side: 2,
            })
        })
        .collect()
}

/// A PostgreSQL twin with the fixture loaded.
pub async fn postgres() -> (TestDb, Arc<PgStore>, Fixture) {
    let db = TestDb::migrated(Store::Content).await;
    let store = PgStore::from_pool(db.pool().clone());
    let fixture = fixture();
    for (collection, documents) in &fixture.documents {
        store.import(*collection, documents).await.expect("load the fixture");
    }
    (db, Arc::new(store), fixture)
}

/// A random database on the MongoDB of `PROMPTSALES_MONGO_URL`, dropped with this value.
pub struct MongoDb {
    pub url: StoreUrl,
}

impl Drop for MongoDb {
    fn drop(&mut self) {
        let url = self.url.clone();
        // Drop cannot await inside the test's runtime: a short-lived thread with its own runtime.
        let done = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("clean-up runtime")
                .block_on(remote::drop_mongo(&url));
        });
        let _ = done.join();
    }
}

/// A migrated MongoDB database with the fixture loaded.
pub async fn mongodb() -> (MongoDb, Arc<MongoStore>, Fixture) {
    let db = MongoDb {
        url: remote::mongo_database(),
    };
    migrate::run(Store::Content, &db.url).await.expect("migrate MongoDB");
    let store = MongoStore::connect(&db.url).await.expect("connect to MongoDB");
    let fixture = fixture();
    for (collection, documents) in &fixture.documents {
        store.import(*collection, documents).await.expect("load the fixture");
    }
    (db, Arc::new(store), fixture)
}

/// The store as the API sees it.
pub fn dyn_store<S: ContentStore>(store: Arc<S>) -> Arc<dyn ContentStore> {
    store
}
