//! Deterministic, consistent, realistic data for the four PromptSales stores, bulk loaded.
//!
//! `promptsales seed` calls [`run`]: same `--seed` and `--now`, same data (under the same keyring),
//! whatever the number of threads. See `seeds/README.md` for the design and the numbers.

pub mod activity;
pub mod adsref;
pub mod campaigns;
pub mod central;
pub mod content;
pub mod customers;
pub mod identity;
pub mod load;
pub mod pii;
mod pipeline;
pub mod plans;
pub mod progress;
pub mod reference;
pub mod rng;
pub mod rows;
pub mod spec;
pub mod words;

pub use pipeline::{Options, Report, Targets, run, seeded_tables};
pub use spec::{Profile, default_now};

/// Bumped whenever generated data changes shape or content, so cached seeded templates (testkit)
/// are rebuilt.
pub const SEEDS_VERSION: u32 = 3;
