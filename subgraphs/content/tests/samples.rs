//! The sample documents of sql/content/mongodb/samples against this crate's document handling:
//! every valid sample passes the checks both adapters run before writing, splits into a row the
//! twin's CHECK constraints accept, and reads back into the same model as the MongoDB document
//! itself; every invalid one, and documents breaking the cross-field rules, are refused.

use std::{fs, path::PathBuf};

use bson::{Binary, Bson, Document, spec::BinarySubtype};
use promptsales_content::store::{
    ContentStore, Image, Integration, PgStore, StoreError,
    document::{Collection, from_document, validate},
};
use promptsales_platform::Store;
use promptsales_testkit::TestDb;

fn samples(kind: &str) -> Vec<(String, Document)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sql/content/mongodb/samples")
        .join(kind);
    let mut out: Vec<(String, Document)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let json: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(&path).expect("read sample")).expect("JSON");
            let Bson::Document(doc) = Bson::try_from(json).expect("Extended JSON") else {
                panic!("{} is not an object", path.display())
            };
            (path.file_stem().expect("name").to_string_lossy().into_owned(), doc)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collection_of(sample: &str) -> Collection {
    Collection::ALL
        .into_iter()
        .filter(|c| sample.starts_with(&format!("{}-", c.name())))
        .max_by_key(|c| c.name().len())
        .unwrap_or_else(|| panic!("{sample} names no collection"))
}

#[tokio::test]
async fn should_load_every_valid_sample_into_the_twin_and_read_it_back_unchanged() {
    let db = TestDb::migrated(Store::Content).await;
    let store = PgStore::from_pool(db.pool().clone());
    let valid = samples("valid");
    for collection in Collection::ALL {
        let documents: Vec<Document> = valid
            .iter()
            .filter(|(name, _)| collection_of(name) == collection)
            .map(|(_, d)| d.clone())
            .collect();
        store
            .import(collection, &documents)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", collection.name()));
    }
    let (_, sample) = valid.iter().find(|(n, _)| n == "images-1").expect("images-1");
    let expected: Image = from_document(sample.clone()).expect("the model reads a MongoDB document");
    let stored = store.images_by_id(None, &[expected.id]).await.expect("read");
    let stored = &stored[&expected.id];
    assert_eq!(stored.file.sha256, expected.file.sha256);
    assert_eq!(stored.description, expected.description);
    assert_eq!(stored.hashtags, expected.hashtags);
    assert_eq!(
        stored.usage_rights.allowed_channels,
        expected.usage_rights.allowed_channels
    );
    assert_eq!(stored.created_at, expected.created_at);
    for (name, sample) in valid.iter().filter(|(n, _)| n.starts_with("integrations-")) {
        let mut with_flag = sample.clone();
        with_flag.insert(
            "has_credentials",
            matches!(sample.get("credentials_enc"), Some(Bson::Binary(_))),
        );
        let expected: Integration = from_document(with_flag).expect("model");
        let stored = store.integrations_by_id(None, &[expected.id]).await.expect("read");
        let stored = &stored[&expected.id];
        assert_eq!(
            (stored.has_credentials, &stored.credentials_key_id, &stored.endpoint),
            (
                expected.has_credentials,
                &expected.credentials_key_id,
                &expected.endpoint
            ),
            "{name}"
        );
    }
}

#[test]
fn should_refuse_every_invalid_sample() {
    for (name, sample) in samples("invalid") {
        assert!(
            matches!(validate(collection_of(&name), &sample), Err(StoreError::Invalid(_))),
            "{name} should be refused"
        );
    }
}

fn sample(name: &str) -> Document {
    samples("valid")
        .into_iter()
        .find(|(n, _)| n == name)
        .expect("a sample")
        .1
}

fn rules(collection: Collection, document: &Document) -> Vec<(String, &'static str)> {
    match validate(collection, document) {
        Err(StoreError::Invalid(v)) => v.into_iter().map(|v| (v.path, v.rule)).collect(),
        other => panic!("expected violations, got {other:?}"),
    }
}

#[test]
fn should_refuse_what_a_validator_cannot_say() {
    let mut image = sample("images-1");
    image.insert("format", "webp");
    assert_eq!(
        rules(Collection::Images, &image),
        [("format".into(), "agreesWithContentType")]
    );

    let mut request = sample("content_requests-1");
    let audiences = request.get_array_mut("target_audiences").expect("audiences");
    let Some(Bson::Document(first)) = audiences.first_mut() else {
        panic!("an audience")
    };
    first.insert("age_min", 60);
    assert_eq!(
        rules(Collection::ContentRequests, &request),
        [("target_audiences.0.age_min".into(), "atMostAgeMax")]
    );
    request.insert(
        "campaign_id",
        Bson::Binary(Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![1; 16],
        }),
    );
    assert!(rules(Collection::ContentRequests, &request).contains(&("campaign_id".into(), "uuid")));

    let with_credentials = sample("integrations-1");
    assert!(
        matches!(with_credentials.get("credentials_enc"), Some(Bson::Binary(_))),
        "integrations-1 has some"
    );
    let mut unpaired = with_credentials.clone();
    unpaired.insert("credentials_key_id", Bson::Null);
    assert_eq!(
        rules(Collection::Integrations, &unpaired),
        [("credentials_key_id".into(), "pairedWithCredentials")]
    );
    let mut short = with_credentials.clone();
    short.insert(
        "credentials_enc",
        Bson::Binary(Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![0; 27],
        }),
    );
    assert_eq!(
        rules(Collection::Integrations, &short),
        [("credentials_enc".into(), "minBytes")]
    );
    let mut none = with_credentials.clone();
    none.insert("auth_method", "none");
    assert_eq!(
        rules(Collection::Integrations, &none),
        [("credentials_enc".into(), "noneWithoutCredentials")]
    );
    let mut missing = with_credentials;
    missing.insert("credentials_enc", Bson::Null);
    missing.insert("credentials_key_id", Bson::Null);
    missing.insert("enabled", true);
    assert_eq!(
        rules(Collection::Integrations, &missing),
        [("enabled".into(), "credentialsRequired")]
    );

    let mut blob = sample("image_blobs-1");
    blob.insert("sha256", "0".repeat(64));
    assert_eq!(rules(Collection::ImageBlobs, &blob), [("sha256".into(), "hashOfData")]);
}
