//! `promptsales-gateway`: the GraphQL gateway in front of the four subgraphs (port 4000).

use std::{sync::Arc, time::Duration};

use anyhow::Context;

use clap::Parser;
use promptsales_gateway::{
    apq::PersistedQueries,
    audit::AuditWriter,
    auth::Authenticator,
    cache::ResponseCache,
    config::{Args, FileConfig},
    ratelimit::RateLimiter,
    server::{self, Reloader},
};
use promptsales_platform::{
    claims::ClaimsKey,
    redis::{Redis, RedisOptions},
    service, telemetry,
    tls::{self, ServerTls},
};

/// Every request builds and drops many small JSON values; mimalloc serves those from per-thread
/// pages, where the system allocator spent about a third of the gateway's instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("gateway", "info")?;
    let args = Args::parse();
    let config = FileConfig::load(args.config.as_ref())?;
    // Checked before anything starts: the subgraph and JWKS clients would otherwise leave a
    // broken CA bundle out (trusting less) and fail every TLS fetch with a less useful error.
    let extra_roots = tls::extra_roots_from_env().context("the CA bundle the gateway's clients trust")?;
    if !extra_roots.is_empty() {
        tracing::info!(
            certificates = extra_roots.len(),
            "trusting the CA bundle of {} beside the web roots",
            tls::CA_ENV
        );
    }
    let server_tls = ServerTls::from_env()?;
    let reloader = Arc::new(Reloader::load(&args.supergraph, config.gateway).await?);
    for (name, url) in reloader.gateway().current().subgraphs() {
        tracing::info!(subgraph = name, url, "subgraph");
    }
    // A new supergraph is picked up without a restart: on a timer and on SIGHUP.
    if config.supergraph.reload_interval_secs > 0 {
        let every = Duration::from_secs(config.supergraph.reload_interval_secs);
        reloader.clone().watch(every);
    }
    #[cfg(unix)]
    reloader.clone().reload_on_hangup()?;
    let key = ClaimsKey::from_env()?;
    let cache = match config.cache {
        Some(options) => {
            tracing::info!(?options, "response cache on");
            Some(ResponseCache::new(options)?)
        }
        None => None,
    };
    // One Redis client for everything of the gateway that uses it: the response cache's, else
    // one with the default settings (`PROMPTSALES_REDIS_URL`), made only when something needs it.
    let wants_redis = config.auth.is_some() || config.rate_limit.is_some() || config.apq.is_some();
    let redis = match &cache {
        Some(cache) => Some(cache.redis().clone()),
        None if wants_redis => Some(Redis::new(&RedisOptions::default())?),
        None => None,
    };
    let auth = match config.auth {
        Some(options) => {
            for issuer in &options.issuers {
                tracing::info!(issuer = %issuer.issuer, jwks = %issuer.jwks_url, required = options.required, "accepting bearer tokens");
            }
            let mut auth = Authenticator::new(options)?;
            if let Some(redis) = &redis {
                // Fetched keys are shared with the other gateways (`ps:jwks:v1:{issuer}`).
                auth = auth.with_shared_keys(redis, &key);
            }
            let auth = Arc::new(auth);
            // In the background: an identity provider that is down must not keep the gateway down.
            tokio::spawn({
                let auth = auth.clone();
                async move { auth.prefetch().await }
            });
            Some(auth)
        }
        None => {
            tracing::warn!(
                scopes = ?config.http.anonymous_scopes,
                "authentication is off (no `auth` section): every caller is anonymous with these scopes"
            );
            None
        }
    };
    let (audit, writer) = match config.audit {
        Some(options) => {
            tracing::info!(?options, "audit log on");
            let (log, writer) = AuditWriter::start(options.pool()?, &options);
            (Some(log), Some(writer))
        }
        None => {
            tracing::warn!("audit log is off (no `audit` section): mutations and PII reads are not recorded");
            (None, None)
        }
    };
    let rate_limit = match (config.rate_limit, &redis) {
        (Some(options), Some(redis)) => {
            tracing::info!(?options, "rate limits on");
            Some(RateLimiter::new(options, redis.clone())?)
        }
        _ => None,
    };
    let apq = match (config.apq, &redis) {
        (Some(options), Some(redis)) => {
            tracing::info!(?options, "automatic persisted queries on");
            Some(PersistedQueries::new(&options, redis.clone()))
        }
        _ => None,
    };
    let services = server::Services {
        auth,
        audit,
        cache,
        rate_limit,
        apq,
    };
    let app = server::router_with_services(reloader.gateway(), key, config.http, services);
    let listener = tokio::net::TcpListener::bind((args.listen, args.port)).await?;
    // The peer address reaches the audit log through `ConnectInfo`, which `serve` provides.
    service::serve(listener, app, server_tls).await?;
    if let Some(writer) = writer {
        writer.shutdown(Duration::from_secs(5)).await;
    }
    Ok(())
}
