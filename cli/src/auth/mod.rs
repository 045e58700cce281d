//! `promptsales auth`: a small OAuth2 authorization server for development, so the gateway (an
//! OAuth2 resource server) runs on one machine without an external identity provider. It issues
//! ES256 access tokens by the client-credentials grant to clients kept in the sales store, and
//! publishes its keys as a JWKS the gateway trusts (see docs/auth.md).

mod keys;
pub(crate) mod secret;
mod server;
pub(crate) mod store;
mod throttle;

use std::sync::Arc;

use anyhow::Context;
use promptsales_platform::{Store, StoreArgs, crypto::Keyring, service, tls::ServerTls};
use sqlx::{PgPool, postgres::PgPoolOptions};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Port to listen on (0 picks a free one; the address is printed).
    #[arg(long, env = "PROMPTSALES_AUTH_PORT", default_value_t = 4400)]
    port: u16,
    /// Failed client authentications allowed per client id and minute; past it `/token` answers
    /// 429 for that client until the minute ends.
    #[arg(long, env = "PROMPTSALES_AUTH_MAX_FAILED_LOGINS", default_value_t = 10)]
    max_failed_logins: u32,
    /// Address to bind (loopback unless named).
    #[arg(long, env = "PROMPTSALES_LISTEN_ADDR", default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// The `iss` of issued tokens; `http://<bound address>` by default (`https://` when it serves
    /// TLS: `PROMPTSALES_TLS_CERT` and `PROMPTSALES_TLS_KEY`).
    #[arg(long, env = "PROMPTSALES_AUTH_ISSUER")]
    issuer: Option<String>,
    /// Lifetime of an access token, in seconds.
    #[arg(long, default_value_t = 900)]
    token_ttl_secs: u32,
    /// How long a key retired by `rotate-key` stays published, in hours: tokens it signed keep
    /// verifying until then (keep it above the token lifetime).
    #[arg(long, default_value_t = 24)]
    grace_hours: u32,
    #[command(flatten)]
    urls: StoreArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Add a signing key that signs from now on; the previous one stays published for the grace period.
    RotateKey,
    /// Register a client and print its secret (once: only a hash is stored).
    AddClient(AddClient),
    /// List the registered clients (never their secrets).
    ListClients,
    /// Create (or repair) a client of a local stack, its secret kept in a file (mode 0600) and
    /// reused on the next run; only for a sales store on this machine (`make up`'s worker).
    LocalClient(LocalClient),
    /// Disable a client: it can no longer obtain tokens.
    DisableClient {
        /// The client to disable.
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, clap::Args)]
struct LocalClient {
    /// The client id.
    #[arg(long)]
    id: String,
    /// The scopes it may request, space-separated (added to what it already has).
    #[arg(long)]
    scopes: String,
    /// Where its secret is kept (read when present, written when not).
    #[arg(long)]
    secret_file: std::path::PathBuf,
}

#[derive(Debug, clap::Args)]
struct AddClient {
    /// The client id (letters, digits, `.`, `_`, `-`).
    #[arg(long)]
    id: String,
    /// The scopes it may request, space-separated (`"ads:read crm:read"`).
    #[arg(long, default_value = "")]
    scopes: String,
    /// The `aud` of its tokens.
    #[arg(long, default_value = "promptsales-gateway")]
    audience: String,
    /// The organization it acts for (the `org` claim).
    #[arg(long)]
    org: Option<Uuid>,
}

pub(crate) async fn connect(urls: &StoreArgs) -> anyhow::Result<PgPool> {
    let url = urls.url(Store::Sales);
    PgPoolOptions::new()
        .max_connections(8)
        .connect(url.expose().as_str())
        .await
        .with_context(|| format!("connecting to the sales store at {url}"))
}

/// Splits a space-separated scope list, dropping repeats.
pub(crate) fn scope_list(scopes: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in scopes.split_whitespace() {
        if !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    }
    out
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let pool = connect(&args.urls).await?;
    match args.command {
        None => serve(args, pool).await,
        Some(Command::RotateKey) => {
            let keyring = Keyring::from_env().context("signing keys are sealed with the configured keys")?;
            let (kid, retired) = store::rotate_key(&pool, &keyring).await?;
            println!("signing with {kid} from now on");
            for old in retired {
                println!("retired {old} (still published for the grace period)");
            }
            Ok(())
        }
        Some(Command::AddClient(add)) => {
            let secret = secret::generate();
            let hash = secret::hash(&secret).map_err(|e| anyhow::anyhow!("hashing the secret: {e}"))?;
            store::insert_client(&pool, &add.id, &hash, &scope_list(&add.scopes), &add.audience, add.org)
                .await
                .with_context(|| format!("adding client {}", add.id))?;
            eprintln!("client {} added; its secret (shown once, keep it):", add.id);
            println!("{}", secret.as_str());
            Ok(())
        }
        Some(Command::ListClients) => {
            println!(
                "{:<24} {:<10} {:<20} {:<24} {:<38} scopes",
                "client_id", "status", "created", "audience", "organization"
            );
            for c in store::clients(&pool).await? {
                let status = if c.disabled_at.is_some() { "disabled" } else { "active" };
                let org = c.organization_id.map(|o| o.to_string()).unwrap_or_else(|| "-".into());
                println!(
                    "{:<24} {status:<10} {:<20} {:<24} {org:<38} {}",
                    c.client_id,
                    c.created_at.format("%Y-%m-%d %H:%M:%S"),
                    c.audience,
                    c.scopes.join(" ")
                );
            }
            Ok(())
        }
        Some(Command::LocalClient(c)) => {
            let url = args.urls.url(Store::Sales);
            anyhow::ensure!(
                crate::token::is_loopback(url.expose()),
                "local clients are only managed in a sales store on this machine ({url} is not); use add-client"
            );
            crate::token::local_client(&args.urls, &c.secret_file, &c.id, &scope_list(&c.scopes)).await?;
            println!("client {} ready; its secret is in {}", c.id, c.secret_file.display());
            Ok(())
        }
        Some(Command::DisableClient { id }) => {
            anyhow::ensure!(store::disable_client(&pool, &id).await?, "no enabled client {id}");
            println!("client {id} disabled");
            Ok(())
        }
    }
}

async fn serve(args: Args, pool: PgPool) -> anyhow::Result<()> {
    let keyring = Arc::new(Keyring::from_env().context("signing keys are sealed with the configured keys")?);
    let tls = ServerTls::from_env()?;
    if let Some(kid) = store::ensure_key(&pool, &keyring).await? {
        tracing::info!(kid, "created a signing key");
    }
    let listener = tokio::net::TcpListener::bind((args.bind, args.port))
        .await
        .with_context(|| format!("binding {}:{}", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let issuer = args.issuer.unwrap_or_else(|| format!("{scheme}://{addr}"));
    let dummy_hash = secret::hash(&secret::generate()).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    let state = Arc::new(server::AppState {
        pool,
        keyring,
        issuer: issuer.clone(),
        token_ttl: chrono::Duration::seconds(args.token_ttl_secs.into()),
        grace: chrono::Duration::hours(args.grace_hours.into()),
        dummy_hash,
        throttle: throttle::Throttle::new(
            args.max_failed_logins,
            std::time::Duration::from_secs(60),
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        ),
    });
    tracing::info!(%addr, issuer, "dev authorization server listening");
    // Scripts and tests read the address from here (useful with --port 0).
    println!("listening on {scheme}://{addr}");
    service::serve(listener, server::router(state), tls).await?;
    Ok(())
}
