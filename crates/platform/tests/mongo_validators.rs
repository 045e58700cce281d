//! No MongoDB server runs here, so the content store's `$jsonSchema` validators are proven on
//! sample documents: every valid sample passes, every invalid one is rejected.

use std::{fs, path::PathBuf};

use bson::{Bson, Document};
use promptsales_platform::{
    Backend, Store,
    migrate::{CollectionSpec, MongoMigration, embedded},
    mongo_schema::validate,
};

fn collections() -> Vec<CollectionSpec> {
    embedded(Store::Content, Backend::Mongo)
        .expect("embedded files")
        .iter()
        .flat_map(|f| {
            MongoMigration::parse(&f.path, f.content)
                .expect("valid migration file")
                .collections
        })
        .collect()
}

fn samples(kind: &str) -> Vec<(String, Document)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sql/content/mongodb/samples")
        .join(kind);
    let mut out: Vec<(String, Document)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let json: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(&path).expect("read sample")).expect("sample is JSON");
            let Bson::Document(doc) = Bson::try_from(json).expect("sample is Extended JSON") else {
                panic!("{}: a sample must be an object", path.display())
            };
            (path.file_stem().expect("file name").to_string_lossy().into_owned(), doc)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn schema_for<'a>(collections: &'a [CollectionSpec], sample: &str) -> &'a CollectionSpec {
    collections
        .iter()
        .filter(|c| sample.starts_with(&format!("{}-", c.name)))
        .max_by_key(|c| c.name.len())
        .unwrap_or_else(|| panic!("sample {sample} names no collection (name it <collection>-<what>.json)"))
}

#[test]
fn should_accept_every_valid_sample_document() {
    let collections = collections();
    let valid = samples("valid");
    for c in &collections {
        assert!(
            valid
                .iter()
                .any(|(name, _)| schema_for(&collections, name).name == c.name),
            "no valid sample of {}",
            c.name
        );
    }
    for (name, doc) in &valid {
        let schema = schema_for(&collections, name).json_schema().expect("a $jsonSchema");
        let violations = validate(&schema, doc).expect("usable schema");
        assert!(violations.is_empty(), "{name} should be valid: {violations:?}");
    }
}

#[test]
fn should_reject_every_invalid_sample_document() {
    let collections = collections();
    let invalid = samples("invalid");
    assert!(invalid.len() >= 8, "too few invalid samples: {}", invalid.len());
    for (name, doc) in &invalid {
        let schema = schema_for(&collections, name).json_schema().expect("a $jsonSchema");
        let violations = validate(&schema, doc).expect("usable schema");
        assert!(!violations.is_empty(), "{name} should be rejected but passed");
    }
}

#[test]
fn should_give_every_index_a_name_and_keys() {
    for c in collections() {
        for index in &c.indexes {
            let doc = index
                .document()
                .unwrap_or_else(|e| panic!("{}.{}: {e}", c.name, index.name));
            assert!(doc.get_document("key").is_ok_and(|k| !k.is_empty()));
        }
    }
}
