//! `promptsales etl`: the ETL pipeline is the n8n workflow in `etl/` (issue #15); this command
//! only hands it to n8n. `install` imports the workflow and its credentials and marks it active
//! (an `n8n start` then runs it on its schedule); `run-once` runs the same workflow now through
//! n8n's CLI (`n8n execute`) and prints the run it recorded in `sales.etl_runs`.
//!
//! The credentials (the sales store, Redis, the OAuth2 client) are written for `n8n
//! import:credentials` to a file of mode 0600 that is removed right after; n8n keeps them
//! encrypted with its own key in its user folder (`.dev/n8n` by default). The workflow reads its
//! other settings from the environment this command gives n8n (`PROMPTSALES_ETL_*`).

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, bail, ensure};
use promptsales_platform::{Store, StoreArgs};
use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::{auth::connect, token};

/// The workflow's id inside n8n (set in the exported JSON).
pub const WORKFLOW_ID: &str = "promptsalesEtl01";
/// The pipeline name it records its runs under.
pub const PIPELINE: &str = "promptsales-etl";
/// What the ETL's OAuth2 client asks for: the change feeds, and the read scopes of the types
/// they return (a campaign's organization, brand and product are sales entities).
pub const SCOPES: &str = "etl:run ads:read crm:read sales:read";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Import the workflow and its credentials into n8n and activate it (`n8n start` schedules it).
    Install(N8nArgs),
    /// Run the workflow once, now, through n8n's CLI, and print the run it recorded.
    RunOnce(RunOnce),
    /// Run n8n's server (editor on --port, the active workflow on its schedule) with the settings
    /// the workflow reads; `make up` starts it after `install`.
    Serve(Serve),
}

#[derive(Debug, clap::Args)]
struct RunOnce {
    /// Run again while a run stops at its page limit with rows left (a first load of a big store).
    #[arg(long)]
    until_caught_up: bool,
    #[command(flatten)]
    n8n: N8nArgs,
}

#[derive(Debug, clap::Args)]
struct Serve {
    /// The editor's port.
    #[arg(long, env = "PROMPTSALES_N8N_PORT", default_value_t = 5678)]
    port: u16,
    #[command(flatten)]
    n8n: N8nArgs,
}

#[derive(Debug, clap::Args)]
struct N8nArgs {
    /// The n8n executable (installed by scripts/dev-services.sh).
    #[arg(
        long,
        env = "PROMPTSALES_N8N_BIN",
        default_value = ".tools/n8n/node_modules/.bin/n8n"
    )]
    n8n_bin: PathBuf,
    /// n8n's user folder (its SQLite database, encryption key and imported credentials).
    #[arg(long, env = "N8N_USER_FOLDER", default_value = ".dev/n8n")]
    n8n_folder: PathBuf,
    /// The exported workflow.
    #[arg(long, default_value = "etl/promptsales-etl.json")]
    workflow: PathBuf,
    /// The gateway's GraphQL endpoint.
    #[arg(
        long,
        env = "PROMPTSALES_GATEWAY_URL",
        default_value = "http://127.0.0.1:4000/graphql"
    )]
    gateway_url: url::Url,
    /// The authorization server's token endpoint (client credentials grant).
    #[arg(
        long,
        env = "PROMPTSALES_ETL_TOKEN_URL",
        default_value = "http://127.0.0.1:4400/token"
    )]
    token_url: url::Url,
    /// The ETL's OAuth2 client; with the local default store and no secret given, it is created
    /// (scopes `etl:run ads:read crm:read sales:read`) and its secret kept in `.dev/etl-client-secret`.
    #[arg(long, env = "PROMPTSALES_ETL_CLIENT_ID", default_value = "etl")]
    client_id: String,
    /// The client's secret.
    #[arg(long, env = "PROMPTSALES_ETL_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// The Redis that holds the run lock (the password may be in the URL).
    #[arg(long, env = "PROMPTSALES_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: url::Url,
    /// The lock's key.
    #[arg(long, env = "PROMPTSALES_ETL_LOCK_KEY", default_value = "ps:lock:etl")]
    lock_key: String,
    /// Rows changed within this many seconds of a run's start wait for the next run, so a
    /// transaction that commits late with an older `updated_at` is not skipped.
    #[arg(long, env = "PROMPTSALES_ETL_SAFETY_LAG_SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(0..=86_400))]
    lag_secs: u32,
    /// Rows per page of a change feed.
    #[arg(long, env = "PROMPTSALES_ETL_PAGE_SIZE", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    page_size: u32,
    /// Pages of one feed per run at most (a backlog beyond it is read by the next runs). It bounds
    /// what one execution holds: n8n keeps every node's output of an execution, and `n8n execute`
    /// prints all of it as one JSON string, which V8 caps at about 512 MiB. A page passes through
    /// several nodes, so 200 pages of each of the three large feeds (a first load of the full
    /// seed) overflowed that cap; 50 stays far below it.
    #[arg(long, env = "PROMPTSALES_ETL_MAX_PAGES", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_pages: u32,
    /// The sales store as the workflow connects to it (a least-privilege role); default: the
    /// sales URL, which this command itself uses to read the runs and manage the local client.
    #[arg(long, env = "PROMPTSALES_ETL_SALES_URL", value_name = "URL")]
    workflow_sales_url: Option<promptsales_platform::StoreUrl>,
    /// Where local secrets live.
    #[arg(long, default_value = ".dev")]
    dev_dir: PathBuf,
    #[command(flatten)]
    urls: StoreArgs,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Action::Install(a) => {
            let n8n = N8n::prepare(&a)?;
            n8n.import(&a).await?;
            n8n.cli(&["update:workflow", &format!("--id={WORKFLOW_ID}"), "--active=true"])?;
            println!("the ETL workflow is imported and active in {}", a.n8n_folder.display());
            Ok(())
        }
        Action::RunOnce(r) => {
            let n8n = N8n::prepare(&r.n8n)?;
            n8n.import(&r.n8n).await?;
            let clock = Instant::now();
            let mut runs = 1;
            while !run_once(&n8n, &r.n8n).await? && r.until_caught_up {
                runs += 1;
            }
            if runs > 1 {
                println!("caught up after {runs} runs in {:.1} s", clock.elapsed().as_secs_f64());
            }
            Ok(())
        }
        Action::Serve(s) => {
            let mut n8n = N8n::prepare(&s.n8n)?;
            n8n.env.extend([
                ("N8N_PORT", s.port.to_string()),
                ("N8N_LISTEN_ADDRESS", "127.0.0.1".to_owned()),
                ("N8N_HOST", "127.0.0.1".to_owned()),
                // Plain http on loopback: the session cookie cannot be `Secure`.
                ("N8N_SECURE_COOKIE", "false".to_owned()),
            ]);
            n8n.serve()
        }
    }
}

/// Runs the workflow once; `Ok(caught_up)`. A run that found the lock taken counts as caught up.
async fn run_once(n8n: &N8n, a: &N8nArgs) -> anyhow::Result<bool> {
    let pool = connect(&a.urls).await?;
    let before: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT max(started_at) FROM sales.etl_runs WHERE pipeline = $1")
            .bind(PIPELINE)
            .fetch_one(&pool)
            .await?;
    let clock = Instant::now();
    let outcome = n8n.cli(&["execute", &format!("--id={WORKFLOW_ID}")]);
    let wall = clock.elapsed();
    let run = sqlx::query(
        "SELECT id, status, rows_read, rows_written, caught_up, rows_by_source::text AS by_source, error,
                extract(epoch FROM finished_at - started_at)::float8 AS secs
           FROM sales.etl_runs
          WHERE pipeline = $1 AND ($2::timestamptz IS NULL OR started_at > $2)
          ORDER BY started_at DESC LIMIT 1",
    )
    .bind(PIPELINE)
    .bind(before)
    .fetch_optional(&pool)
    .await?;
    let Some(run) = run else {
        outcome?;
        println!("no run recorded: another run held the lock {}", a.lock_key);
        return Ok(true);
    };
    let status: String = run.get("status");
    println!(
        "run {} {status}: {} rows read, {} rows written, caught up: {}, {:.2} s in the pipeline, {:.2} s with n8n's start",
        run.get::<uuid::Uuid, _>("id"),
        run.get::<i64, _>("rows_read"),
        run.get::<i64, _>("rows_written"),
        run.get::<Option<bool>, _>("caught_up")
            .map_or("-".to_owned(), |b| b.to_string()),
        run.get::<Option<f64>, _>("secs").unwrap_or_default(),
        wall.as_secs_f64(),
    );
    println!("per feed: {}", run.get::<String, _>("by_source"));
    if status != "succeeded" {
        bail!(
            "the ETL run {status}: {}",
            run.get::<Option<String>, _>("error")
                .unwrap_or_else(|| "no error recorded".to_owned())
        );
    }
    outcome?;
    Ok(run.get::<Option<bool>, _>("caught_up").unwrap_or(true))
}

struct N8n {
    bin: PathBuf,
    folder: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl N8n {
    fn prepare(a: &N8nArgs) -> anyhow::Result<N8n> {
        ensure!(
            a.n8n_bin.is_file(),
            "n8n is not installed at {} (scripts/dev-services.sh installs the pinned version)",
            a.n8n_bin.display()
        );
        ensure!(a.workflow.is_file(), "no workflow at {}", a.workflow.display());
        ensure!(
            matches!(a.gateway_url.scheme(), "http" | "https") && a.gateway_url.path().ends_with("/graphql"),
            "--gateway-url {}: give the gateway's http(s) GraphQL endpoint, ending in /graphql",
            a.gateway_url
        );
        ensure!(
            !a.lock_key.is_empty() && a.lock_key.len() <= 200 && !a.lock_key.contains(char::is_whitespace),
            "--lock-key: 1 to 200 characters without spaces"
        );
        std::fs::create_dir_all(&a.n8n_folder).with_context(|| format!("creating {}", a.n8n_folder.display()))?;
        let invalidate = a.gateway_url.join("cache/invalidate").context("the invalidation URL")?;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
        let env = vec![
            ("N8N_USER_FOLDER", absolute(&a.n8n_folder)?.display().to_string()),
            // The workflow reads its settings with `$env` (n8n 1.x allows it; said for clarity).
            ("N8N_BLOCK_ENV_ACCESS_IN_NODE", "false".to_owned()),
            ("N8N_DIAGNOSTICS_ENABLED", "false".to_owned()),
            ("N8N_VERSION_NOTIFICATIONS_ENABLED", "false".to_owned()),
            ("N8N_PERSONALIZATION_ENABLED", "false".to_owned()),
            ("N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS", "true".to_owned()),
            // A first load holds many pages of a feed at once.
            ("NODE_OPTIONS", "--max-old-space-size=3072".to_owned()),
            ("PROMPTSALES_ETL_GRAPHQL_URL", a.gateway_url.to_string()),
            ("PROMPTSALES_ETL_INVALIDATE_URL", invalidate.to_string()),
            ("PROMPTSALES_ETL_LOCK_KEY", a.lock_key.clone()),
            ("PROMPTSALES_ETL_SAFETY_LAG_SECS", a.lag_secs.to_string()),
            ("PROMPTSALES_ETL_PAGE_SIZE", a.page_size.to_string()),
            ("PROMPTSALES_ETL_MAX_PAGES", a.max_pages.to_string()),
            ("PROMPTSALES_ETL_HOST", host),
        ];
        Ok(N8n {
            bin: a.n8n_bin.clone(),
            folder: a.n8n_folder.clone(),
            env,
        })
    }

    /// Imports the credentials, then the workflow (n8n encrypts the credentials on import).
    async fn import(&self, a: &N8nArgs) -> anyhow::Result<()> {
        let secret = match &a.client_secret {
            Some(s) => Zeroizing::new(s.clone()),
            None => {
                let url = a.urls.url(Store::Sales);
                ensure!(
                    token::is_loopback(url.expose()),
                    "the ETL client is only created in a sales store on this machine ({url} is not); \
                     pass --client-secret (PROMPTSALES_ETL_CLIENT_SECRET)"
                );
                let scopes: Vec<String> = SCOPES.split(' ').map(str::to_owned).collect();
                token::local_client(&a.urls, &a.dev_dir.join("etl-client-secret"), &a.client_id, &scopes).await?
            }
        };
        let credentials = Zeroizing::new(credentials(a, &secret)?.to_string());
        // Each n8n command takes seconds to start: import only what changed since the last import
        // into this folder (a digest of the workflow and the credentials is kept, never them).
        let workflow = std::fs::read(&a.workflow).with_context(|| format!("reading {}", a.workflow.display()))?;
        let digest = {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            h.update(&workflow);
            h.update(credentials.as_bytes());
            format!("{:x}", h.finalize())
        };
        let stamp = self.folder.join("promptsales-import.sha256");
        if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == digest) {
            return Ok(());
        }
        let file = self.folder.join("import-credentials.json");
        token::write_private(&file, &credentials).with_context(|| format!("writing {}", file.display()))?;
        let imported = self.cli(&["import:credentials", &format!("--input={}", absolute(&file)?.display())]);
        let _ = std::fs::remove_file(&file);
        imported?;
        self.cli(&[
            "import:workflow",
            &format!("--input={}", absolute(&a.workflow)?.display()),
        ])?;
        std::fs::write(&stamp, digest).with_context(|| format!("writing {}", stamp.display()))?;
        Ok(())
    }

    /// Becomes n8n's server (exec: the pid `make up` records and `make down` stops is n8n's).
    fn serve(&self) -> anyhow::Result<()> {
        use std::os::unix::process::CommandExt;
        let error = Command::new(&self.bin)
            .arg("start")
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .exec();
        Err(error).with_context(|| format!("starting {}", self.bin.display()))
    }

    /// Runs an n8n CLI command. Its output (for `execute`, the whole execution's data) goes to
    /// `n8n-cli.log` in n8n's folder, overwritten each time; its end is shown when it fails.
    fn cli(&self, args: &[&str]) -> anyhow::Result<()> {
        let log_path = self.folder.join("n8n-cli.log");
        let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let status = Command::new(&self.bin)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        if !status.success() {
            bail!(
                "n8n {} failed ({status}); the end of {}:\n{}",
                args[0],
                log_path.display(),
                tail(&log_path)?
            );
        }
        Ok(())
    }
}

/// The last 40 lines of a file, reading at most its last 16 KiB.
fn tail(path: &Path) -> anyhow::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(40)..].join("\n"))
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

/// The three credentials the workflow names, for `n8n import:credentials`.
fn credentials(a: &N8nArgs, client_secret: &str) -> anyhow::Result<serde_json::Value> {
    let sales = a.workflow_sales_url.clone().unwrap_or_else(|| a.urls.url(Store::Sales));
    let pg = sales.expose();
    ensure!(
        matches!(pg.scheme(), "postgres" | "postgresql"),
        "the sales store must be PostgreSQL, not {sales}"
    );
    let pg_password = match pg.password() {
        Some(p) => percent(p)?,
        None => std::env::var("PGPASSWORD").unwrap_or_default(),
    };
    let redis = &a.redis_url;
    ensure!(
        matches!(redis.scheme(), "redis" | "rediss"),
        "--redis-url {}: must be redis:// or rediss:// (TLS; n8n then trusts NODE_EXTRA_CA_CERTS)",
        masked(redis)
    );
    let redis_db: u32 = match redis.path().trim_start_matches('/') {
        "" => 0,
        db => db
            .parse()
            .with_context(|| format!("--redis-url {}: the path must be a database number", masked(redis)))?,
    };
    Ok(json!([
        {
            "id": "psEtlSalesStore",
            "name": "PromptSales sales store (ETL)",
            "type": "postgres",
            "data": {
                "host": pg.host_str().context("the sales URL names no host")?,
                "port": pg.port().unwrap_or(5432),
                "database": sales.database().context("the sales URL names no database")?,
                "user": percent(pg.username())?,
                "password": pg_password,
                "ssl": "disable",
                "allowUnauthorizedCerts": false,
                "sshTunnel": false,
            }
        },
        {
            "id": "psEtlRedisLock",
            "name": "PromptSales Redis (ETL lock)",
            "type": "redis",
            "data": {
                "host": redis.host_str().context("the Redis URL names no host")?,
                "port": redis.port().unwrap_or(6379),
                "password": percent(redis.password().unwrap_or_default())?,
                "database": redis_db,
                "ssl": redis.scheme() == "rediss",
            }
        },
        {
            "id": "psEtlGatewayAuth",
            "name": "PromptSales gateway (ETL client credentials)",
            "type": "oAuth2Api",
            "data": {
                "grantType": "clientCredentials",
                "accessTokenUrl": a.token_url.as_str(),
                "clientId": a.client_id,
                "clientSecret": client_secret,
                "scope": SCOPES,
                "authQueryParameters": "",
                "authentication": "body",
            }
        }
    ]))
}

/// A URL's user or password as written before percent-encoding.
fn percent(s: &str) -> anyhow::Result<String> {
    Ok(percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .context("a URL's user or password is not UTF-8")?
        .into_owned())
}

fn masked(url: &url::Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        n8n: N8nArgs,
    }

    fn args(redis: &str) -> N8nArgs {
        Cli::try_parse_from([
            "promptsales",
            "--redis-url",
            redis,
            "--workflow-sales-url",
            "postgres://etl:pw@127.0.0.1:5432/sales",
        ])
        .expect("arguments")
        .n8n
    }

    #[test]
    fn should_hand_n8n_a_tls_redis_for_rediss_urls_and_refuse_other_schemes() {
        let tls = credentials(&args("rediss://:s3cret@redis.promptsales.svc:6379/2"), "x").expect("credentials");
        let redis = &tls[1]["data"];
        assert_eq!(redis["ssl"], true);
        assert_eq!(redis["host"], "redis.promptsales.svc");
        assert_eq!(redis["password"], "s3cret");
        assert_eq!(redis["database"], 2);

        let plain = credentials(&args("redis://127.0.0.1:6379"), "x").expect("credentials");
        assert_eq!(plain[1]["data"]["ssl"], false);

        let error = credentials(&args("http://127.0.0.1:6379"), "x").expect_err("not Redis");
        assert!(error.to_string().contains("redis:// or rediss://"), "{error}");
    }
}
