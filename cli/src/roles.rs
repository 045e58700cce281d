//! `promptsales roles apply|drop`: one PostgreSQL login role per service, holding only what that
//! service does (least privilege), created or brought back to exactly that state on every run.
//!
//! Each role may connect to its own store's database only (CONNECT is revoked from PUBLIC on the
//! four store databases), use its own schema, and read or write the tables it needs; it owns
//! nothing, so it can run no DDL (no CREATE on any schema, PostgreSQL 15 and later give PUBLIC
//! none on `public` either). Grants are re-issued from scratch inside one transaction per store
//! (revoke all, then grant), so a run also takes away what an older spec granted.
//!
//! Passwords: `PROMPTSALES_ROLE_PASSWORD_<SERVICE>` when set (deployments take it from their
//! secret store), otherwise generated once into `<secrets dir>/roles/<role>.password` (mode 0600)
//! and reused. The server only ever receives a SCRAM-SHA-256 verifier computed here, so the
//! plaintext is not in its statement log. Role names are cluster-wide, hence the `--prefix` (tests
//! use a random one and `roles drop` after).

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use promptsales_platform::{Backend, Store, StoreArgs};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Create or update every service role and its grants (idempotent).
    Apply(Common),
    /// Revoke everything granted to the service roles and drop them.
    Drop(Common),
}

#[derive(Debug, clap::Args)]
struct Common {
    /// Prefix of the role names (`<prefix>crm`, …): lower-case letters, digits and `_`.
    #[arg(long, default_value = "promptsales_")]
    prefix: String,
    /// Where generated passwords are kept (`roles/<role>.password`, mode 0600).
    #[arg(long, default_value = ".dev")]
    secrets_dir: PathBuf,
    #[command(flatten)]
    urls: StoreArgs,
}

/// Privileges on one table (or `*`: every table of the schema).
struct Grant {
    table: &'static str,
    privileges: &'static str,
}

const DML: &str = "SELECT, INSERT, UPDATE, DELETE";

/// One service's role: the store it lives in and what it may do there.
struct Service {
    name: &'static str,
    store: Store,
    schema: &'static str,
    /// Per table, the last entry naming it (or `*`, every table) wins; partitions get nothing.
    grants: &'static [Grant],
}

const fn g(table: &'static str, privileges: &'static str) -> Grant {
    Grant { table, privileges }
}

/// The services and what each needs. Evidence tables (event log, audit log) are append-only for
/// every service: INSERT and SELECT, never UPDATE or DELETE.
const SERVICES: &[Service] = &[
    Service {
        name: "content",
        store: Store::Content,
        schema: "content",
        grants: &[g("*", DML)],
    },
    Service {
        name: "ads",
        store: Store::Ads,
        schema: "ads",
        grants: &[g("*", DML)],
    },
    Service {
        name: "crm",
        store: Store::Crm,
        schema: "crm",
        grants: &[g("*", DML), g("event_log", "SELECT, INSERT")],
    },
    Service {
        // The sales subgraph: the central store without the auth server's and the ETL's tables.
        name: "sales",
        store: Store::Sales,
        schema: "sales",
        grants: &[
            g("*", DML),
            g("audit_log", "SELECT, INSERT"),
            g("oauth_clients", ""),
            g("oauth_signing_keys", ""),
            g("etl_watermarks", "SELECT"),
            g("etl_runs", "SELECT"),
            g("etl_stage", ""),
            g("etl_src_campaigns", ""),
            g("etl_src_campaign_channels", ""),
            g("etl_src_campaign_markets", ""),
            g("etl_src_ad_results", ""),
            g("etl_src_sentiment_samples", ""),
            g("etl_src_campaign_customers", ""),
        ],
    },
    Service {
        // The gateway writes audit records and nothing else.
        name: "gateway_audit",
        store: Store::Sales,
        schema: "sales",
        grants: &[g("audit_log", "INSERT")],
    },
    Service {
        name: "auth",
        store: Store::Sales,
        schema: "sales",
        grants: &[
            g("oauth_clients", "SELECT, INSERT, UPDATE"),
            g("oauth_signing_keys", "SELECT, INSERT, UPDATE"),
            g("organizations", "SELECT"),
        ],
    },
    Service {
        // The ETL reads the gateway, never a store; it writes the read models and its bookkeeping.
        name: "etl",
        store: Store::Sales,
        schema: "sales",
        grants: &[
            g("campaign_summaries", "SELECT, INSERT, UPDATE"),
            g("campaign_daily_metrics", "SELECT, INSERT, UPDATE, DELETE"),
            g("campaign_channel_metrics", "SELECT, INSERT, UPDATE, DELETE"),
            g("campaign_market_metrics", "SELECT, INSERT, UPDATE, DELETE"),
            g("etl_watermarks", "SELECT, INSERT, UPDATE"),
            g("etl_runs", "SELECT, INSERT, UPDATE"),
            // Pages land here and are removed when applied; the source copies the totals come from.
            g("etl_stage", "SELECT, INSERT, DELETE"),
            g("etl_src_campaigns", "SELECT, INSERT, UPDATE"),
            g("etl_src_campaign_channels", "SELECT, INSERT, UPDATE"),
            g("etl_src_campaign_markets", "SELECT, INSERT, UPDATE"),
            g("etl_src_ad_results", "SELECT, INSERT, UPDATE"),
            g("etl_src_sentiment_samples", "SELECT, INSERT, UPDATE"),
            g("etl_src_campaign_customers", "SELECT, INSERT, UPDATE"),
        ],
    },
    Service {
        // The agenda worker: claims and settles reminders, steps and alerts; reads what decides
        // them; audits its refusals. Everything another store owns goes through the gateway.
        name: "worker",
        store: Store::Sales,
        schema: "sales",
        grants: &[
            g("task_reminders", "SELECT, UPDATE"),
            g("scheduled_tasks", "SELECT"),
            g("campaign_plans", "SELECT"),
            g("approvals", "SELECT"),
            g("campaign_summaries", "SELECT"),
            g("agenda_steps", "SELECT, UPDATE"),
            g("agenda_alerts", "SELECT, INSERT, UPDATE"),
            g("audit_log", "INSERT"),
        ],
    },
    Service {
        // Analysts and their BI tool: read-only over the central store, without personal data
        // (contacts, portal users), OAuth secrets or the security trail. A login for the tool;
        // people get it by `GRANT <prefix>analyst TO <their login>`.
        name: "analyst",
        store: Store::Sales,
        schema: "sales",
        grants: &[
            g("*", "SELECT"),
            g("contacts", ""),
            g("portal_users", ""),
            g("oauth_clients", ""),
            g("oauth_signing_keys", ""),
            g("audit_log", ""),
        ],
    },
];

pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.action {
        Action::Apply(c) => apply(&c).await,
        Action::Drop(c) => drop_roles(&c).await,
    }
}

fn check_prefix(prefix: &str) -> anyhow::Result<()> {
    let ok = prefix.len() <= 40
        && prefix.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!("--prefix `{prefix}`: use up to 40 lower-case letters, digits or `_`, starting with a letter");
    }
    Ok(())
}

async fn connect(c: &Common, store: Store) -> anyhow::Result<(PgConnection, String)> {
    let url = c.urls.url(store);
    if url.backend() != Backend::Postgres {
        bail!("roles are PostgreSQL roles; {store} is at {url} ({})", url.backend());
    }
    let database = url
        .database()
        .with_context(|| format!("the {store} URL {url} names no database"))?
        .to_owned();
    let options = PgConnectOptions::from_str(url.expose().as_str())?.application_name("promptsales-roles");
    let conn = PgConnection::connect_with(&options)
        .await
        .with_context(|| format!("connecting to the {store} store at {url}"))?;
    Ok((conn, database))
}

/// Runs `template` (with `%I` placeholders for identifiers and `%L` for literals) after the
/// server quoted `args` into it: identifiers and passwords never go through Rust string pasting.
async fn exec(conn: &mut PgConnection, template: &str, args: &[&str]) -> anyhow::Result<()> {
    let statement = if args.is_empty() {
        template.to_owned()
    } else {
        let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT format('{template}', {})", placeholders.join(", "));
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for a in args {
            query = query.bind(*a);
        }
        query.fetch_one(&mut *conn).await?
    };
    sqlx::raw_sql(&statement)
        .execute(&mut *conn)
        .await
        // The first argument names the object; later ones may be a password verifier.
        .with_context(|| format!("running `{template}` for {:?}", args.first()))
        .map(|_| ())
}

async fn apply(c: &Common) -> anyhow::Result<()> {
    check_prefix(&c.prefix)?;
    for store in Store::ALL {
        let services: Vec<&Service> = SERVICES.iter().filter(|s| s.store == store).collect();
        let (mut conn, database) = connect(c, store).await?;
        let mut tx = conn.begin().await?;
        exec(&mut tx, "REVOKE ALL ON DATABASE %I FROM PUBLIC", &[&database]).await?;
        // PostgreSQL 14 and older let PUBLIC create in `public`; 15 and later already do not.
        exec(&mut tx, "REVOKE CREATE ON SCHEMA public FROM PUBLIC", &[]).await?;
        for service in services {
            let role = format!("{}{}", c.prefix, service.name);
            let verifier = scram_verifier(&password(c, service, &role)?);
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(&role)
                .fetch_one(&mut *tx)
                .await?;
            if !exists {
                exec(&mut tx, "CREATE ROLE %I LOGIN", &[&role]).await?;
            }
            exec(
                &mut tx,
                // SUPERUSER, REPLICATION and BYPASSRLS are off from CREATE ROLE on, and only a
                // superuser could turn them on (or even name them here).
                "ALTER ROLE %I WITH LOGIN NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT 50 PASSWORD %L",
                &[&role, &verifier],
            )
            .await?;
            exec(&mut tx, "GRANT CONNECT ON DATABASE %I TO %I", &[&database, &role]).await?;
            revoke_schema(&mut tx, service.schema, &role).await?;
            exec(&mut tx, "GRANT USAGE ON SCHEMA %I TO %I", &[service.schema, &role]).await?;
            // Tables are read from the catalog, partitions left out: rows reach a partition
            // through its parent, and a direct grant on one would bypass the parent's rule.
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
            )
            .bind(service.schema)
            .fetch_all(&mut *tx)
            .await?;
            for table in &tables {
                let privileges = service
                    .grants
                    .iter()
                    .rev()
                    .find(|g| g.table == table.as_str() || g.table == "*")
                    .map_or("", |g| g.privileges);
                if !privileges.is_empty() {
                    let template = format!("GRANT {privileges} ON TABLE %I.%I TO %I");
                    exec(&mut tx, &template, &[service.schema, table, &role]).await?;
                }
            }
            if let Some(missing) = service
                .grants
                .iter()
                .find(|g| g.table != "*" && !tables.iter().any(|t| t == g.table))
            {
                bail!(
                    "{}.{} does not exist: migrate the {store} store first",
                    service.schema,
                    missing.table
                );
            }
            // Identity columns (crm.event_log) draw from sequences.
            exec(
                &mut tx,
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I",
                &[service.schema, &role],
            )
            .await?;
            println!("{role:<32} {store:<8} {database}: granted");
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Takes back everything a role holds in `schema`.
async fn revoke_schema(conn: &mut PgConnection, schema: &str, role: &str) -> anyhow::Result<()> {
    exec(conn, "REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I", &[schema, role]).await?;
    exec(
        conn,
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I",
        &[schema, role],
    )
    .await?;
    exec(conn, "REVOKE ALL ON SCHEMA %I FROM %I", &[schema, role]).await
}

async fn drop_roles(c: &Common) -> anyhow::Result<()> {
    check_prefix(&c.prefix)?;
    for store in Store::ALL {
        let (mut conn, database) = connect(c, store).await?;
        for service in SERVICES.iter().filter(|s| s.store == store) {
            let role = format!("{}{}", c.prefix, service.name);
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(&role)
                .fetch_one(&mut conn)
                .await?;
            if !exists {
                continue;
            }
            revoke_schema(&mut conn, service.schema, &role).await?;
            exec(&mut conn, "REVOKE ALL ON DATABASE %I FROM %I", &[&database, &role]).await?;
            exec(&mut conn, "DROP ROLE %I", &[&role]).await?;
            let file = secret_file(&c.secrets_dir, &role);
            if file.exists() {
                std::fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
            }
            println!("{role:<32} dropped");
        }
    }
    Ok(())
}

fn secret_file(dir: &Path, role: &str) -> PathBuf {
    dir.join("roles").join(format!("{role}.password"))
}

/// The role's password: from the environment, else the generated file (created on first use).
fn password(c: &Common, service: &Service, role: &str) -> anyhow::Result<String> {
    let var = format!("PROMPTSALES_ROLE_PASSWORD_{}", service.name.to_uppercase());
    if let Ok(p) = std::env::var(&var) {
        if p.len() < 16 {
            bail!("{var} must be at least 16 characters");
        }
        return Ok(p);
    }
    let file = secret_file(&c.secrets_dir, role);
    if let Ok(p) = std::fs::read_to_string(&file) {
        return Ok(p.trim().to_owned());
    }
    let dir = file.parent().expect("the file is inside the roles directory");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let generated = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options
        .open(&file)
        .with_context(|| format!("creating {}", file.display()))?;
    out.write_all(generated.as_bytes())?;
    Ok(generated)
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802 and 7677): the server
/// accepts it in place of the password and never sees the plaintext. 4096 iterations, as
/// PostgreSQL's own default.
fn scram_verifier(password: &str) -> String {
    const ITERATIONS: u32 = 4096;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    scram_verifier_with(password, &salt, ITERATIONS)
}

fn scram_verifier_with(password: &str, salt: &[u8], iterations: u32) -> String {
    // PBKDF2-HMAC-SHA256 with one output block (32 bytes is one SHA-256 block).
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password.as_bytes(), &block);
    let mut salted = u;
    for _ in 1..iterations {
        u = hmac(password.as_bytes(), &u);
        salted.iter_mut().zip(u).for_each(|(s, x)| *s ^= x);
    }
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_compute_the_scram_verifier_of_the_rfc_7677_example() {
        // RFC 7677 section 3: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations;
        // StoredKey and ServerKey as Python's hashlib derives them from the same inputs.
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").expect("salt");
        assert_eq!(
            scram_verifier_with("pencil", &salt, 4096),
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:\
             wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }

    #[test]
    fn should_refuse_prefixes_that_are_not_plain_identifiers() {
        assert!(check_prefix("ps_t1_").is_ok());
        for bad in ["", "1x", "A_", "x-y", "x\"y"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
