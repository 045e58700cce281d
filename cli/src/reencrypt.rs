//! `promptsales reencrypt`: re-wraps every stored data key under the active key-encryption key,
//! the second half of a KEK rotation (the first is putting the new KEK first in
//! `PROMPTSALES_KEKS`, keeping the old one after it; the last is removing the old one).
//!
//! Only the wrapped data keys change: the data they seal is never decrypted or rewritten, so a
//! rotation touches one small value per record. Work goes in batches, one transaction each, over
//! the rows whose key is not yet under the active KEK, in primary-key order: a run that stops
//! half way (crash, Ctrl-C) resumes where it was on the next run, and a run with nothing left to
//! do changes nothing. A key whose KEK is not configured is reported and skipped, never guessed
//! at, and makes the command fail so the rotation is not declared done.

use std::{fmt::Write as _, str::FromStr};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use promptsales_platform::{
    Backend, Store, StoreArgs,
    crypto::{Keyring, WrappedKey},
};
use sqlx::{PgPool, postgres::PgConnectOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Crm,
    Sales,
    Content,
    All,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which store's data keys to re-wrap.
    #[arg(long, value_enum, default_value = "all")]
    store: Target,
    /// Keys re-wrapped per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// Refuse unless this is the active KEK (the first of `PROMPTSALES_KEKS`): guards against
    /// running with a stale key list.
    #[arg(long)]
    expect_active: Option<String>,
    #[command(flatten)]
    urls: StoreArgs,
}

/// How a table stores its wrapped keys.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// A column naming the KEK beside a `bytea` column holding the wrapped key; `rotated` is set to
    /// the time of the re-wrap when the table has such a column.
    Split {
        kek: &'static str,
        wrapped: &'static str,
        rotated: Option<&'static str>,
    },
    /// One text column `<kek id>:<base64 of the wrapped key>` (tables without a key table: the
    /// row alone names everything needed to open it).
    Inline { column: &'static str },
}

/// A table holding wrapped data keys. Names are static: SQL is assembled only from these.
#[derive(Debug, Clone, Copy)]
struct Table {
    store: Store,
    name: &'static str,
    key: &'static str,
    /// SQL type of `key` (`uuid` or `text`), for the keyset comparison.
    key_type: &'static str,
    layout: Layout,
}

const TABLES: &[Table] = &[
    Table {
        store: Store::Crm,
        name: "crm.customer_keys",
        key: "customer_id",
        key_type: "uuid",
        layout: Layout::Split {
            kek: "key_id",
            wrapped: "wrapped_dek",
            rotated: Some("rotated_at"),
        },
    },
    Table {
        store: Store::Sales,
        name: "sales.contacts",
        key: "id",
        key_type: "uuid",
        layout: Layout::Inline { column: "pii_key_id" },
    },
    Table {
        store: Store::Sales,
        name: "sales.portal_users",
        key: "id",
        key_type: "uuid",
        layout: Layout::Inline { column: "pii_key_id" },
    },
    Table {
        store: Store::Sales,
        name: "sales.oauth_signing_keys",
        key: "kid",
        key_type: "text",
        layout: Layout::Split {
            kek: "kek_id",
            wrapped: "wrapped_dek",
            rotated: None,
        },
    },
    Table {
        store: Store::Content,
        name: "content.integrations",
        key: "id",
        key_type: "uuid",
        layout: Layout::Inline {
            column: "credentials_key_id",
        },
    },
];

/// What one table's run did.
#[derive(Debug, Default)]
struct Counts {
    rewrapped: u64,
    failed: u64,
    /// Keys under the active KEK after the run, and all keys.
    current: i64,
    total: i64,
    /// Why keys failed (distinct reasons).
    reasons: Vec<String>,
}

impl Table {
    /// The SQL expression of the KEK id, and the condition "the row has a wrapped key".
    fn exprs(&self) -> (String, String) {
        match self.layout {
            Layout::Split { kek, .. } => (kek.to_owned(), "true".to_owned()),
            Layout::Inline { column } => (format!("split_part({column}, ':', 1)"), format!("{column} IS NOT NULL")),
        }
    }

    async fn count(&self, pool: &PgPool, active: &str) -> anyhow::Result<(i64, i64)> {
        let (kek, present) = self.exprs();
        let sql = format!(
            "SELECT count(*) FILTER (WHERE {kek} = $1), count(*) FROM {name} WHERE {present}",
            name = self.name
        );
        Ok(sqlx::query_as(&sql).bind(active).fetch_one(pool).await?)
    }

    /// Re-wraps this table's stale keys, `batch` rows per transaction.
    async fn run(&self, pool: &PgPool, keyring: &Keyring, batch: u32) -> anyhow::Result<Counts> {
        let active = keyring.active_kek();
        let (kek, present) = self.exprs();
        let Table {
            name, key, key_type, ..
        } = *self;
        // The wrapped key travels as text: base64 for both layouts, so one row type serves both.
        let wrapped_b64 = match self.layout {
            // encode() breaks base64 into 76-character lines; the newlines go.
            Layout::Split { wrapped, .. } => format!("translate(encode({wrapped}, 'base64'), E'\\n', '')"),
            Layout::Inline { column } => format!("split_part({column}, ':', 2)"),
        };
        let select = format!(
            "SELECT {key}::text, {kek}, {wrapped_b64} FROM {name}
             WHERE {present} AND {kek} <> $1 AND ($2::text IS NULL OR {key} > $2::{key_type})
             ORDER BY {key} LIMIT $3 FOR UPDATE"
        );
        let update = match self.layout {
            Layout::Split { kek, wrapped, rotated } => {
                let rotated = rotated
                    .map(|r| format!(", {r} = clock_timestamp()"))
                    .unwrap_or_default();
                format!(
                    "UPDATE {name} AS t SET {kek} = u.kek, {wrapped} = decode(u.wrapped, 'base64'){rotated}
                     FROM unnest($1::text[], $2::text[], $3::text[]) AS u(key, kek, wrapped)
                     WHERE t.{key} = u.key::{key_type}"
                )
            }
            Layout::Inline { column } => format!(
                "UPDATE {name} AS t SET {column} = u.kek || ':' || u.wrapped
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(key, kek, wrapped)
                 WHERE t.{key} = u.key::{key_type}"
            ),
        };
        let mut counts = Counts::default();
        let mut after: Option<String> = None;
        let mut rng = rand::rng();
        loop {
            let mut tx = pool.begin().await?;
            let rows: Vec<(String, String, String)> = sqlx::query_as(&select)
                .bind(active)
                .bind(&after)
                .bind(i64::from(batch))
                .fetch_all(&mut *tx)
                .await
                .with_context(|| format!("reading the keys of {name}"))?;
            let Some(last) = rows.last() else {
                break;
            };
            after = Some(last.0.clone());
            let (mut keys, mut keks, mut wrapped) = (Vec::new(), Vec::new(), Vec::new());
            for (id, kek_id, b64) in rows {
                let rewrapped = STANDARD
                    .decode(b64.trim())
                    .map_err(|_| "a stored wrapped key is not base64".to_owned())
                    .and_then(|sealed| {
                        keyring
                            .rewrap(&WrappedKey { kek_id, sealed }, &mut rng)
                            .map_err(|e| e.to_string())
                    });
                match rewrapped {
                    Ok(w) => {
                        keys.push(id);
                        keks.push(w.kek_id);
                        wrapped.push(STANDARD.encode(&w.sealed));
                    }
                    Err(reason) => {
                        counts.failed += 1;
                        if !counts.reasons.contains(&reason) {
                            counts.reasons.push(reason);
                        }
                    }
                }
            }
            sqlx::query(&update)
                .bind(&keys)
                .bind(&keks)
                .bind(&wrapped)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("writing the re-wrapped keys of {name}"))?;
            tx.commit().await?;
            counts.rewrapped += keys.len() as u64;
        }
        (counts.current, counts.total) = self.count(pool, active).await?;
        Ok(counts)
    }
}

fn stores(target: Target) -> Vec<Store> {
    match target {
        Target::Crm => vec![Store::Crm],
        Target::Sales => vec![Store::Sales],
        Target::Content => vec![Store::Content],
        Target::All => vec![Store::Crm, Store::Sales, Store::Content],
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let keyring = Keyring::from_env().context(
        "no active key-encryption key: put the new KEK first in PROMPTSALES_KEKS (keep the old ones after it) \
         and PROMPTSALES_BLIND_INDEX_KEY beside it",
    )?;
    if let Some(expected) = &args.expect_active
        && keyring.active_kek() != expected
    {
        bail!(
            "the active KEK is `{}`, not `{expected}`: put `{expected}` first in PROMPTSALES_KEKS",
            keyring.active_kek()
        );
    }
    let selected = stores(args.store);
    // Refuse before touching anything when a store is on an engine this command cannot work on.
    let mut pools = Vec::new();
    for store in &selected {
        let url = args.urls.url(*store);
        if url.backend() != Backend::Postgres {
            bail!(
                "reencrypt works on PostgreSQL stores; {store} is at {url} ({})",
                url.backend()
            );
        }
        let options = PgConnectOptions::from_str(url.expose().as_str())
            .with_context(|| format!("the {store} store URL {url}"))?
            .application_name("promptsales-reencrypt");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("connecting to the {store} store at {url}"))?;
        pools.push((*store, pool));
    }
    println!("re-wrapping data keys under the active KEK `{}`", keyring.active_kek());
    let mut failures = String::new();
    for (store, pool) in &pools {
        for table in TABLES.iter().filter(|t| t.store == *store) {
            let counts = table.run(pool, &keyring, args.batch).await?;
            println!(
                "{name:<26} re-wrapped {rewrapped:>7}  failed {failed:>5}  under the active KEK {current}/{total}",
                name = table.name,
                rewrapped = counts.rewrapped,
                failed = counts.failed,
                current = counts.current,
                total = counts.total,
            );
            if counts.failed > 0 {
                let _ = writeln!(
                    failures,
                    "{}: {} keys not re-wrapped ({})",
                    table.name,
                    counts.failed,
                    counts.reasons.join("; ")
                );
            }
        }
    }
    if !failures.is_empty() {
        bail!("some keys could not be re-wrapped; keep their KEKs configured and run again:\n{failures}");
    }
    Ok(())
}
