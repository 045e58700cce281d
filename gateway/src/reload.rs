//! Hot reload of the supergraph. The HTTP front serves whatever [`Gateway`] the
//! [`SharedGateway`] cell holds; each request takes its own `Arc` of it when it starts, so a
//! swap never interrupts a request in flight: it finishes on the gateway (schema, plans,
//! subgraph URLs) it began with, and the old gateway is dropped when its last request ends.
//!
//! A new supergraph is swapped in only once a whole `Gateway` has been built from it; a file
//! that does not parse or cannot be planned over leaves the current one serving, with the error
//! in the log and `gateway_supergraph_reloads_total{result="error"}`.

use std::{
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use crate::gateway::{self, Gateway, Options};

/// The gateway currently serving, replaced whole on reload. Cloning shares the cell.
#[derive(Clone)]
pub struct SharedGateway(Arc<RwLock<Arc<Gateway>>>);

impl SharedGateway {
    pub fn new(gateway: Arc<Gateway>) -> SharedGateway {
        SharedGateway(Arc::new(RwLock::new(gateway)))
    }

    /// The gateway to run one request on. The lock is held only to clone the `Arc`.
    pub fn current(&self) -> Arc<Gateway> {
        // A panic while holding the lock can only have happened between two plain pointer
        // assignments, so the value inside a poisoned lock is still a whole gateway.
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn replace(&self, gateway: Arc<Gateway>) {
        let old = std::mem::replace(
            &mut *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()),
            gateway,
        );
        // Dropped after the write lock is released: if this was the last reference, tearing
        // down the planner and the HTTP pool does not hold up requests waiting to read.
        drop(old);
    }
}

impl From<Arc<Gateway>> for SharedGateway {
    fn from(gateway: Arc<Gateway>) -> SharedGateway {
        SharedGateway::new(gateway)
    }
}

/// Why a supergraph was not (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("reading the supergraph {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the supergraph {path} cannot be served: {source}")]
    Build {
        path: PathBuf,
        #[source]
        source: gateway::Error,
    },
    #[error("building the gateway for {path} panicked")]
    Panicked { path: PathBuf },
}

/// Loads the supergraph file into a [`SharedGateway`] and reloads it on demand, on a timer
/// ([`Reloader::watch`]) or on SIGHUP ([`Reloader::reload_on_hangup`]), always with the options
/// the process started with.
pub struct Reloader {
    path: PathBuf,
    options: Options,
    shared: SharedGateway,
    /// The hash of the content last tried (loaded or refused). Held across a whole reload so
    /// reloads from the timer and from SIGHUP run one at a time and swap in the order they read.
    last: tokio::sync::Mutex<u64>,
}

impl Reloader {
    /// Loads `path` for the first time; an error here should stop the process.
    pub async fn load(path: impl Into<PathBuf>, options: Options) -> Result<Reloader, ReloadError> {
        let path = path.into();
        let sdl = read(&path).await?;
        let gateway = build(&path, &sdl, options.clone()).await?;
        Ok(Reloader {
            shared: SharedGateway::new(Arc::new(gateway)),
            last: tokio::sync::Mutex::new(hash(&sdl)),
            path,
            options,
        })
    }

    /// The cell the HTTP front reads (see [`crate::server::router`]).
    pub fn gateway(&self) -> SharedGateway {
        self.shared.clone()
    }

    /// The file this reloader watches.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reloads the watched file.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        self.reload_from(&self.path).await
    }

    /// Reads `path`, builds a gateway from it and swaps it in; on any error the current gateway
    /// keeps serving. Logs and counts the outcome either way.
    pub async fn reload_from(&self, path: &Path) -> Result<(), ReloadError> {
        let mut last = self.last.lock().await;
        let result = match read(path).await {
            Ok(sdl) => {
                *last = hash(&sdl);
                self.swap_in(path, &sdl).await
            }
            Err(e) => Err(e),
        };
        record(&result);
        result
    }

    async fn swap_in(&self, path: &Path, sdl: &str) -> Result<(), ReloadError> {
        let gateway = build(path, sdl, self.options.clone()).await?;
        let subgraphs = gateway.subgraphs().len();
        self.shared.replace(Arc::new(gateway));
        tracing::info!(path = %path.display(), subgraphs, "supergraph reloaded");
        Ok(())
    }

    /// Checks the file every `every` and reloads it when its content changed. The modification
    /// time and size decide whether the file is read at all; the content hash decides whether it
    /// is reloaded, so a `touch` does not rebuild the gateway and a broken file is reported once,
    /// not at every tick.
    pub fn watch(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            // No stamp yet: the first tick compares the content with what `load` read, so a
            // change made between loading and watching is not missed.
            let mut seen = None;
            let mut missing = false;
            // `interval` refuses a zero period; the caller turns polling off instead.
            let mut ticks = tokio::time::interval(every.max(Duration::from_millis(1)));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let now = match stamp(&self.path).await {
                    Ok(now) => now,
                    Err(e) => {
                        // Missing for a moment while a deployment replaces it: say so once.
                        if !missing {
                            tracing::warn!(path = %self.path.display(), error = %e, "the supergraph file cannot be read; still serving the loaded one");
                        }
                        missing = true;
                        seen = None;
                        continue;
                    }
                };
                missing = false;
                if seen == Some(now) {
                    continue;
                }
                seen = Some(now);
                self.reload_if_changed().await;
            }
        })
    }

    async fn reload_if_changed(&self) {
        let mut last = self.last.lock().await;
        let result = match read(&self.path).await {
            Ok(sdl) if hash(&sdl) == *last => return,
            Ok(sdl) => {
                *last = hash(&sdl);
                self.swap_in(&self.path, &sdl).await
            }
            Err(e) => Err(e),
        };
        record(&result);
    }

    /// Reloads the watched file on every SIGHUP, whether or not it changed (an operator asking
    /// for a reload gets one). The handler is installed before this returns, so a SIGHUP sent
    /// afterwards never takes the default action of ending the process.
    #[cfg(unix)]
    pub fn reload_on_hangup(self: Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!(path = %self.path.display(), "SIGHUP: reloading the supergraph");
                // The outcome is logged and counted by `reload`.
                let _ = self.reload().await;
            }
        }))
    }
}

fn record(result: &Result<(), ReloadError>) {
    let label = match result {
        Ok(()) => "ok",
        Err(e) => {
            // The error names the file and what is wrong with the SDL; options (which may hold
            // subgraph URLs with credentials) are never part of it.
            tracing::error!(error = %e, "supergraph reload refused; still serving the previous one");
            "error"
        }
    };
    metrics::counter!("gateway_supergraph_reloads_total", "result" => label).increment(1);
}

async fn read(path: &Path) -> Result<String, ReloadError> {
    tokio::fs::read_to_string(path)
        .await
        .map_err(|source| ReloadError::Read {
            path: path.to_owned(),
            source,
        })
}

/// Builds on the blocking pool: parsing and preparing the planner over a large supergraph takes
/// long enough to stall the requests sharing a runtime worker.
async fn build(path: &Path, sdl: &str, options: Options) -> Result<Gateway, ReloadError> {
    let sdl = sdl.to_owned();
    match tokio::task::spawn_blocking(move || Gateway::new(&sdl, options)).await {
        Ok(built) => built.map_err(|source| ReloadError::Build {
            path: path.to_owned(),
            source,
        }),
        Err(_) => Err(ReloadError::Panicked { path: path.to_owned() }),
    }
}

fn hash(sdl: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    sdl.hash(&mut hasher);
    hasher.finish()
}

/// What `watch` compares between ticks before reading the file.
async fn stamp(path: &Path) -> std::io::Result<(Option<SystemTime>, u64)> {
    let meta = tokio::fs::metadata(path).await?;
    Ok((meta.modified().ok(), meta.len()))
}
