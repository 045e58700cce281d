//! `promptsales token`: gets an access token from the authorization server by the client
//! credentials grant and prints it (for GraphiQL's `Authorization` header and for scripts).
//!
//! Without `--client-id`, it uses a local `dev` client: created in the sales store on first use,
//! its secret kept in `.dev/auth-dev-client` (mode 0600), its scopes widened to what is asked.

use std::path::{Path, PathBuf};

use anyhow::Context;
use promptsales_platform::{Store, StoreArgs, tls};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::auth::{connect, scope_list, secret, store};

const DEV_CLIENT: &str = "dev";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scopes to ask for, space-separated; all the client's scopes when empty.
    #[arg(long, default_value = "")]
    scopes: String,
    /// The client; the local `dev` client when not given.
    #[arg(long, env = "PROMPTSALES_CLIENT_ID", requires = "client_secret")]
    client_id: Option<String>,
    /// The client's secret.
    #[arg(long, env = "PROMPTSALES_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// The authorization server (`promptsales auth`).
    #[arg(long, env = "PROMPTSALES_AUTH_URL", default_value = "http://127.0.0.1:4400")]
    auth_url: String,
    /// Where the local dev client's secret is kept.
    #[arg(long, default_value = ".dev")]
    dev_dir: PathBuf,
    /// Create or widen the `dev` client even when the sales store is not on this machine.
    #[arg(long, hide = true)]
    dev_client_anywhere: bool,
    #[command(flatten)]
    urls: StoreArgs,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    error_description: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (client_id, client_secret) = match (args.client_id, args.client_secret) {
        (Some(id), Some(secret)) => (id, Zeroizing::new(secret)),
        _ => {
            let url = args.urls.url(Store::Sales);
            let local = is_loopback(url.expose());
            // The dev client's scopes grow with whatever is asked: never in a shared store by accident.
            anyhow::ensure!(
                local || args.dev_client_anywhere,
                "the dev client is only managed in a sales store on this machine ({url} is not); \
                 pass --client-id and --client-secret"
            );
            (
                DEV_CLIENT.to_owned(),
                local_client(
                    &args.urls,
                    &args.dev_dir.join("auth-dev-client"),
                    DEV_CLIENT,
                    &scope_list(&args.scopes),
                )
                .await?,
            )
        }
    };
    let url = format!("{}/token", args.auth_url.trim_end_matches('/'));
    let mut form = vec![("grant_type", "client_credentials")];
    if !args.scopes.trim().is_empty() {
        form.push(("scope", args.scopes.trim()));
    }
    // An https authorization server with a local CA (`promptsales certs`) is trusted through
    // `PROMPTSALES_TLS_CA`, beside the web roots.
    let mut client = reqwest::Client::builder();
    for root in tls::extra_roots_from_env()? {
        client = client.add_root_certificate(reqwest::Certificate::from_der(&root)?);
    }
    let response = client
        .build()?
        .post(&url)
        .basic_auth(&client_id, Some(client_secret.as_str()))
        .form(&form)
        .send()
        .await
        .with_context(|| format!("calling {url} (is `promptsales auth` running?)"))?;
    let status = response.status();
    if !status.is_success() {
        let detail = match response.json::<ErrorResponse>().await {
            Ok(e) => format!("{}: {}", e.error, e.error_description.unwrap_or_default()),
            Err(_) => "no OAuth error body".to_owned(),
        };
        anyhow::bail!("{url} refused the request ({status}): {detail}");
    }
    let token: TokenResponse = response.json().await.context("reading the token response")?;
    println!("{}", token.access_token);
    Ok(())
}

/// Whether `url` names this machine (the local clients below are only managed there).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        // `postgres://` is not a special scheme to the url crate: its IP hosts come as text.
        Some(url::Host::Domain(d)) => {
            d == "localhost" || d.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A local client's secret (the `dev` client of this command, the ETL's `etl` client): read from
/// `path`, or generated and written there; the client is created, or repaired (secret, scopes) in
/// the store so that it can get `scopes`.
pub(crate) async fn local_client(
    urls: &StoreArgs,
    path: &Path,
    client_id: &str,
    scopes: &[String],
) -> anyhow::Result<Zeroizing<String>> {
    let secret = match std::fs::read_to_string(path) {
        Ok(s) if !s.trim().is_empty() => Zeroizing::new(s.trim().to_owned()),
        _ => {
            let secret = secret::generate();
            write_private(path, &secret).with_context(|| format!("writing {}", path.display()))?;
            secret
        }
    };
    let pool = connect(urls).await?;
    let existing = store::client(&pool, client_id).await?;
    let hash_for = |s: &str| secret::hash(s).map_err(|e| anyhow::anyhow!("hashing the secret: {e}"));
    match existing {
        None => {
            store::insert_client(
                &pool,
                client_id,
                &hash_for(&secret)?,
                scopes,
                "promptsales-gateway",
                None,
            )
            .await?;
        }
        Some(client) => {
            let mut allowed = client.scopes.clone();
            allowed.extend(scopes.iter().filter(|s| !client.scopes.contains(s)).cloned());
            let hash = if secret::verify(&secret, &client.secret_hash) {
                client.secret_hash.clone()
            } else {
                hash_for(&secret)?
            };
            if allowed != client.scopes || hash != client.secret_hash {
                store::update_client(&pool, client_id, &hash, &allowed).await?;
            }
        }
    }
    Ok(secret)
}

pub(crate) fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{secret}")
}
