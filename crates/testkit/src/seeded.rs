//! Four databases holding the `small` seed (fixed seed, "now" and keyring), cloned per test from
//! templates built once per migrations and seeds version, like [`TestDb::migrated`].
//!
//! ```no_run
//! # async fn t() {
//! let stores = promptsales_testkit::SeededStores::small().await;
//! let keyring = promptsales_testkit::SeededStores::keyring(); // opens the seeded ciphertext
//! # }
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};
use promptsales_platform::{Store, crypto::Keyring};
use promptsales_seeds::{Options, Profile, SEEDS_VERSION, Targets};

use crate::pg::{TestDb, ensure_templates, migrations_digest};

/// The test key-encryption key (`PROMPTSALES_KEKS` form) the seeded templates were encrypted with.
/// A fixed, public value: it protects nothing but fictional test data.
pub const TEST_KEKS: &str = "test-kek:dGVzdC1rZWstcHJvbXB0c2FsZXMtc2VlZGVkLTMyYnk=";
/// The test blind-index key (`PROMPTSALES_BLIND_INDEX_KEY` form).
pub const TEST_BLIND_INDEX_KEY: &str = "dGVzdC1iaWR4LXByb21wdHNhbGVzLXNlZWRlZC0zMmI=";
/// The seed of the seeded templates.
pub const SEED: u64 = 7;

/// Four private databases, one per store, holding the small profile.
pub struct SeededStores {
    pub content: TestDb,
    pub ads: TestDb,
    pub crm: TestDb,
    pub sales: TestDb,
}

impl SeededStores {
    /// Clones of the small-profile templates (seed [`SEED`], now [`SeededStores::now`]).
    pub async fn small() -> SeededStores {
        let digest = migrations_digest(&Store::ALL, &format!("seeds-v{SEEDS_VERSION}-small-{SEED}"));
        let suffixes = ["content_", "ads_", "crm_", "sales_"];
        let names = ensure_templates("ps_tpl_seeded_", &digest, &suffixes, |urls| async move {
            for (store, url) in Store::ALL.into_iter().zip(&urls) {
                promptsales_platform::migrate::run(store, url)
                    .await
                    .unwrap_or_else(|e| panic!("migrating the seeded {store} template: {e}"));
            }
            let targets = Targets {
                content: urls[0].clone(),
                ads: urls[1].clone(),
                crm: urls[2].clone(),
                sales: urls[3].clone(),
            };
            let options = Options {
                profile: Profile::Small,
                seed: SEED,
                now: Self::now(),
                reset: false,
                progress: false,
            };
            promptsales_seeds::run(options, targets, Arc::new(Self::keyring()))
                .await
                .unwrap_or_else(|e| panic!("seeding the small templates: {e:#}"));
        })
        .await;
        SeededStores {
            content: TestDb::clone_of(Store::Content, &names[0]).await,
            ads: TestDb::clone_of(Store::Ads, &names[1]).await,
            crm: TestDb::clone_of(Store::Crm, &names[2]).await,
            sales: TestDb::clone_of(Store::Sales, &names[3]).await,
        }
    }

    /// The keyring the seeded data was encrypted with.
    pub fn keyring() -> Keyring {
        Keyring::parse(TEST_KEKS, TEST_BLIND_INDEX_KEY).expect("the test keys are valid")
    }

    /// The data's "now" of the seeded templates.
    pub fn now() -> DateTime<Utc> {
        promptsales_seeds::default_now()
    }

    /// The database of `store`.
    pub fn db(&self, store: Store) -> &TestDb {
        match store {
            Store::Content => &self.content,
            Store::Ads => &self.ads,
            Store::Crm => &self.crm,
            Store::Sales => &self.sales,
        }
    }
}
