//! `promptsales migrate`: brings every store (or the ones named) up to date.

use anyhow::Context;
use promptsales_platform::{Store, StoreArgs, migrate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these stores (repeatable); all four by default.
    #[arg(long = "store", value_enum)]
    stores: Vec<Store>,
    #[command(flatten)]
    urls: StoreArgs,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let stores = if args.stores.is_empty() {
        Store::ALL.to_vec()
    } else {
        args.stores
    };
    for store in stores {
        let url = args.urls.url(store);
        let report = migrate::run(store, &url)
            .await
            .with_context(|| format!("migrating {store} at {url}"))?;
        for applied in &report.applied {
            println!(
                "{store:<8} {backend:<10} applied {version:04} {description} ({ms} ms)",
                backend = report.backend,
                version = applied.version,
                description = applied.description,
                ms = applied.elapsed.as_millis()
            );
        }
        println!(
            "{store:<8} {backend:<10} up to date at {target}: {new} applied now, {old} already",
            backend = report.backend,
            target = report.target,
            new = report.applied.len(),
            old = report.already_applied
        );
    }
    Ok(())
}
