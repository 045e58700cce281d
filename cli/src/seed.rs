//! `promptsales seed`: fills the four stores with generated data (see seeds/README.md).

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use promptsales_platform::{Store, StoreArgs, crypto::Keyring};
use promptsales_seeds::{Options, Profile, Targets};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How much data: `small` (a second; what test suites use) or `full` (what the business asked for).
    #[arg(long, default_value = "full", value_parser = parse_profile)]
    profile: Profile,
    /// Seed of every random draw: the same seed and --now give the same data.
    #[arg(long, default_value_t = 20_251_031)]
    seed: u64,
    /// The data's "now" (RFC 3339): campaigns are active or finished relative to it. Never the wall clock.
    #[arg(long, default_value = "2025-10-31T23:59:59Z", value_parser = parse_now)]
    now: DateTime<Utc>,
    /// Empty the seeded tables first (in the same transaction as the load) instead of refusing a
    /// store that already has data.
    #[arg(long)]
    reset: bool,
    #[command(flatten)]
    urls: StoreArgs,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse()
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time such as 2025-10-31T23:59:59Z ({e})"))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let keyring = Keyring::from_env().context("the seeder encrypts personal data with the configured keys")?;
    let targets = Targets {
        content: args.urls.url(Store::Content),
        ads: args.urls.url(Store::Ads),
        crm: args.urls.url(Store::Crm),
        sales: args.urls.url(Store::Sales),
    };
    let options = Options {
        profile: args.profile,
        seed: args.seed,
        now: args.now,
        reset: args.reset,
        progress: true,
    };
    let report = promptsales_seeds::run(options, targets, Arc::new(keyring)).await?;
    print!("{}", report.summary());
    Ok(())
}
