//! `promptsales-load`: an open-loop, constant-arrival-rate HTTP load generator for GraphQL
//! endpoints (what `make bench-gateway` drives both gateways with).
//!
//! Requests are *scheduled* at fixed intervals (`1 / rate`) whether or not earlier ones have
//! answered, and each latency is measured from the request's scheduled send time, not from the
//! moment it actually left. A server that stalls for 100 ms therefore shows the queueing it caused
//! to every request scheduled during the stall (the "coordinated omission" correction of wrk2 and
//! oha): a closed-loop tool would only see one slow request and quietly send fewer.
//!
//! Pacing runs on its own OS thread (`std::thread::sleep` wakes within tens of microseconds)
//! because tokio's timer wheel has a 1 ms resolution, which would add up to 1 ms to every
//! latency. Requests go out through one pooled `reqwest` client; `--max-in-flight` caps
//! concurrency, and a request waiting for a slot keeps its scheduled time, so the wait counts.
//!
//! Errors are transport errors (including `--timeout`), non-200 statuses and bodies with a
//! top-level `errors` key. `--find-max` steps the rate up geometrically from `--rate` until a step
//! has errors, misses its rate by more than 3 %, or has a p99 above `--p99-bound-ms`, and reports
//! the last step that passed.
//!
//! `--closed-loop N` is the other mode: N clients, each sending its next request as soon as its
//! previous one answered, for the warm-up and the measured window. It measures the throughput a
//! gateway reaches when kept busy (what it can do), and latencies from each request's actual
//! send (flattering under overload, hence the open loop for latency figures).

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use promptsales_platform::claims::{self, Claims, ClaimsKey};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};

#[derive(Debug, Parser)]
#[command(
    name = "promptsales-load",
    about = "Open-loop constant-rate load generator for GraphQL over HTTP"
)]
struct Args {
    /// The endpoint, e.g. http://127.0.0.1:4000/graphql.
    #[arg(long, required_unless_present = "print_claims", default_value = "")]
    url: String,
    /// A JSON GraphQL request body (`{"query": ..., "variables": ...}`); repeat to send several
    /// in turn (round-robin).
    #[arg(long = "body-file", required_unless_present = "print_claims")]
    body_files: Vec<PathBuf>,
    /// Requests per second to schedule (the starting rate with --find-max).
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seconds measured (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds sent at the same rate before measuring (connections, caches, JIT-free but still warm).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// An extra request header, `name: value`; repeatable.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Sign an `x-promptsales-claims` header (staff, these comma-separated scopes) with
    /// `PROMPTSALES_CLAIMS_KEY`, valid for the whole run: what a gateway that only propagates
    /// headers needs to reach the subgraphs.
    #[arg(long)]
    claims_scopes: Option<String>,
    /// Print a claims header value for these comma-separated scopes (as --claims-scopes signs
    /// it) and exit: for one-off calls with curl.
    #[arg(long, value_name = "SCOPES")]
    print_claims: Option<String>,
    /// Most requests outstanding at once; a scheduled request waits for a slot (and its latency
    /// includes the wait).
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    /// Seconds before a request counts as a (transport) error.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Step the rate up until the p99 bound, errors or the rate itself are missed.
    #[arg(long)]
    find_max: bool,
    /// The p99 latency a --find-max step must stay under, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    p99_bound_ms: f64,
    /// The factor between --find-max steps.
    #[arg(long, default_value_t = 1.25)]
    step: f64,
    /// Closed loop instead of a constant rate: this many clients, each sending its next request
    /// when its previous one answered (`--rate` is then ignored).
    #[arg(long, value_name = "CLIENTS", conflicts_with = "find_max")]
    closed_loop: Option<usize>,
    /// A free-form label copied into the output.
    #[arg(long, default_value = "")]
    label: String,
    /// Print one JSON line instead of the human summary.
    #[arg(long)]
    json: bool,
}

/// What one run at one rate measured (requests scheduled during the warm-up are not in it).
#[derive(Debug, Default)]
struct Report {
    rate: f64,
    achieved_rps: f64,
    ok: u64,
    errors: Errors,
    /// Successful latencies, scheduled send to last body byte, in microseconds, sorted.
    latencies_us: Vec<u64>,
    /// How late requests left after their scheduled instant (pacer precision plus waiting for an
    /// in-flight slot), p99, microseconds.
    send_lag_p99_us: u64,
    /// One error for the log, so a failing run says why.
    first_error: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Errors {
    transport: u64,
    status: u64,
    graphql: u64,
}

impl Errors {
    fn total(&self) -> u64 {
        self.transport + self.status + self.graphql
    }
}

enum Outcome {
    Ok,
    Transport(String),
    Status(String),
    GraphQl(String),
}

/// Only whether the response has a top-level `errors` key; every other field is skipped unread.
#[derive(Deserialize)]
struct Probe {
    errors: Option<serde::de::IgnoredAny>,
}

struct Target {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    bodies: Vec<&'static [u8]>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !(args.rate > 0.0 && args.duration > 0.0 && args.warmup >= 0.0 && args.step > 1.0) {
        bail!("--rate and --duration must be positive, --warmup not negative, --step above 1");
    }
    if let Some(scopes) = &args.print_claims {
        println!("{}", sign_claims(scopes)?);
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let target = Arc::new(target(&args)?);
    runtime.block_on(async {
        if let Some(clients) = args.closed_loop {
            let report = run_closed(&target, &args, clients.max(1)).await;
            print(&args, &report, None);
            return Ok(());
        }
        if !args.find_max {
            let report = run(&target, &args, args.rate).await;
            print(&args, &report, None);
            return Ok(());
        }
        let mut rate = args.rate;
        let mut best: Option<Report> = None;
        for _ in 0..30 {
            let report = run(&target, &args, rate).await;
            let p99_ms = percentile(&report.latencies_us, 0.99) as f64 / 1000.0;
            let pass = report.errors.total() == 0 && report.achieved_rps >= 0.97 * rate && p99_ms <= args.p99_bound_ms;
            eprintln!(
                "find-max: {rate:.0} req/s -> {:.0} achieved, p99 {p99_ms:.2} ms, {} errors: {}",
                report.achieved_rps,
                report.errors.total(),
                if pass { "pass" } else { "fail" }
            );
            if !pass {
                if best.is_none() {
                    print(&args, &report, Some(0.0));
                    return Ok(());
                }
                break;
            }
            best = Some(report);
            rate *= args.step;
        }
        let best = best.expect("the loop returns when the first step fails");
        print(&args, &best, Some(best.rate));
        Ok(())
    })
}

fn target(args: &Args) -> anyhow::Result<Target> {
    let mut headers = HeaderMap::new();
    // application/json also keeps CSRF prevention (ours and Hive Router's) satisfied.
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header {header:?} is not `name: value`"))?;
        headers.insert(
            HeaderName::try_from(name.trim()).with_context(|| format!("header name {name:?}"))?,
            HeaderValue::try_from(value.trim()).with_context(|| format!("value of header {name:?}"))?,
        );
    }
    if let Some(scopes) = &args.claims_scopes {
        let token = sign_claims(scopes)?;
        headers.insert(claims::HEADER, HeaderValue::try_from(token).context("claims header")?);
    }
    let mut bodies = Vec::new();
    for path in &args.body_files {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_slice::<serde_json::Value>(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        // Leaked once so every request borrows the bytes instead of copying them.
        bodies.push(&*Box::leak(text.into_boxed_slice()));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(args.timeout))
        .pool_max_idle_per_host(args.max_in_flight)
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    Ok(Target {
        client,
        url: args.url.clone(),
        headers,
        bodies,
    })
}

/// A staff claims header with comma-separated `scopes`, signed with `PROMPTSALES_CLAIMS_KEY`.
fn sign_claims(scopes: &str) -> anyhow::Result<String> {
    let key = ClaimsKey::from_env().context("signing claims needs PROMPTSALES_CLAIMS_KEY")?;
    let scopes: Vec<&str> = scopes.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    // Long enough for any run, find-max included; the token only ever reaches a local stack.
    Ok(key.sign_for(&Claims::staff("bench", &scopes), 24 * 3600))
}

/// Latencies, send lags and outcomes gathered by the request tasks.
#[derive(Default)]
struct Tally {
    ok: u64,
    errors: Errors,
    latencies_us: Vec<u64>,
    lags_us: Vec<u64>,
    last_done: Option<Instant>,
    first_error: Option<String>,
}

async fn run(target: &Arc<Target>, args: &Args, rate: f64) -> Report {
    let warmup_n = (args.warmup * rate).round() as u64;
    let total = warmup_n + (args.duration * rate).round() as u64;
    // The pacer releases request numbers at their scheduled instants; the loop below sends them.
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let start = Instant::now() + Duration::from_millis(20);
    let pacer = std::thread::spawn(move || {
        for i in 0..total {
            let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
            let now = Instant::now();
            if scheduled > now {
                std::thread::sleep(scheduled - now);
            }
            if tx.send((i, scheduled)).is_err() {
                return;
            }
        }
    });
    let measure_from = start + Duration::from_secs_f64(warmup_n as f64 / rate);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let slots = Arc::new(Semaphore::new(args.max_in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    while let Some((i, scheduled)) = rx.recv().await {
        let slot = Arc::clone(&slots)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let lag = scheduled.elapsed();
        let target = Arc::clone(target);
        let tally = Arc::clone(&tally);
        let measured = i >= warmup_n;
        tasks.spawn(async move {
            let body = target.bodies[(i % target.bodies.len() as u64) as usize];
            let outcome = send(&target, body).await;
            let done = Instant::now();
            drop(slot);
            if !measured {
                return;
            }
            let mut tally = tally.lock().expect("no task panics while holding the tally");
            tally.lags_us.push(lag.as_micros() as u64);
            tally.last_done = Some(tally.last_done.map_or(done, |last| last.max(done)));
            let message = match outcome {
                Outcome::Ok => {
                    tally.ok += 1;
                    tally.latencies_us.push((done - scheduled).as_micros() as u64);
                    return;
                }
                Outcome::Transport(m) => {
                    tally.errors.transport += 1;
                    m
                }
                Outcome::Status(m) => {
                    tally.errors.status += 1;
                    m
                }
                Outcome::GraphQl(m) => {
                    tally.errors.graphql += 1;
                    m
                }
            };
            tally.first_error.get_or_insert(message);
        });
        // Reap finished tasks as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    pacer.join().expect("the pacer thread does not panic");
    let mut tally = std::mem::take(&mut *tally.lock().expect("all tasks are done"));
    tally.latencies_us.sort_unstable();
    tally.lags_us.sort_unstable();
    let elapsed = tally
        .last_done
        .map_or(args.duration, |last| {
            last.saturating_duration_since(measure_from).as_secs_f64()
        })
        .max(args.duration);
    Report {
        rate,
        achieved_rps: tally.ok as f64 / elapsed,
        ok: tally.ok,
        errors: tally.errors,
        send_lag_p99_us: percentile(&tally.lags_us, 0.99),
        latencies_us: tally.latencies_us,
        first_error: tally.first_error,
    }
}

/// The closed loop: `clients` tasks, each sending as soon as its previous request answered.
/// The report's `rate` is the achieved rate (nothing is scheduled) and latencies run from the
/// actual send.
async fn run_closed(target: &Arc<Target>, args: &Args, clients: usize) -> Report {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.duration);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let target = Arc::clone(target);
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let mut i = client;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    return tally;
                }
                let body = target.bodies[i % target.bodies.len()];
                i += clients;
                let outcome = send(&target, body).await;
                let done = Instant::now();
                if sent < measure_from {
                    continue;
                }
                tally.last_done = Some(done);
                match outcome {
                    Outcome::Ok => {
                        tally.ok += 1;
                        tally.latencies_us.push((done - sent).as_micros() as u64);
                    }
                    Outcome::Transport(m) => {
                        tally.errors.transport += 1;
                        tally.first_error.get_or_insert(m);
                    }
                    Outcome::Status(m) => {
                        tally.errors.status += 1;
                        tally.first_error.get_or_insert(m);
                    }
                    Outcome::GraphQl(m) => {
                        tally.errors.graphql += 1;
                        tally.first_error.get_or_insert(m);
                    }
                }
            }
        });
    }
    let mut all = Tally::default();
    while let Some(tally) = tasks.join_next().await {
        let tally = tally.expect("a client task does not panic");
        all.ok += tally.ok;
        all.errors.transport += tally.errors.transport;
        all.errors.status += tally.errors.status;
        all.errors.graphql += tally.errors.graphql;
        all.latencies_us.extend(tally.latencies_us);
        all.last_done = all.last_done.max(tally.last_done);
        if all.first_error.is_none() {
            all.first_error = tally.first_error;
        }
    }
    all.latencies_us.sort_unstable();
    let elapsed = all
        .last_done
        .map_or(args.duration, |last| {
            last.saturating_duration_since(measure_from).as_secs_f64()
        })
        .max(args.duration);
    let achieved = all.ok as f64 / elapsed;
    Report {
        rate: achieved,
        achieved_rps: achieved,
        ok: all.ok,
        errors: all.errors,
        send_lag_p99_us: 0,
        latencies_us: all.latencies_us,
        first_error: all.first_error,
    }
}

async fn send(target: &Target, body: &'static [u8]) -> Outcome {
    let response = match target
        .client
        .post(&target.url)
        .headers(target.headers.clone())
        .body(body)
        .send()
        .await
    {
        Ok(response) => response,
        Err(e) => return Outcome::Transport(format!("{e:#}")),
    };
    let status = response.status();
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return Outcome::Transport(format!("reading the body: {e:#}")),
    };
    let snippet = || String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
    if status != reqwest::StatusCode::OK {
        return Outcome::Status(format!("{status}: {}", snippet()));
    }
    match serde_json::from_slice::<Probe>(&bytes) {
        Ok(Probe { errors: None }) => Outcome::Ok,
        Ok(Probe { errors: Some(_) }) => Outcome::GraphQl(snippet()),
        Err(e) => Outcome::GraphQl(format!("not a JSON object ({e}): {}", snippet())),
    }
}

/// The nearest-rank percentile of sorted values (0 when there are none).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print(args: &Args, report: &Report, max_rate: Option<f64>) {
    let ms = |p: f64| percentile(&report.latencies_us, p) as f64 / 1000.0;
    let max_ms = report.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0;
    let mean_ms = if report.latencies_us.is_empty() {
        0.0
    } else {
        report.latencies_us.iter().sum::<u64>() as f64 / report.latencies_us.len() as f64 / 1000.0
    };
    if let Some(error) = &report.first_error {
        eprintln!("first error: {error}");
    }
    if args.json {
        let line = json!({
            "label": args.label,
            "loop": if args.closed_loop.is_some() { "closed" } else { "open" },
            "clients": args.closed_loop,
            "rate": report.rate,
            "max_rate": max_rate,
            "achieved_rps": round2(report.achieved_rps),
            "ok": report.ok,
            "errors": report.errors.total(),
            "transport_errors": report.errors.transport,
            "status_errors": report.errors.status,
            "graphql_errors": report.errors.graphql,
            "p50_ms": round2(ms(0.50)),
            "p95_ms": round2(ms(0.95)),
            "p99_ms": round2(ms(0.99)),
            "max_ms": round2(max_ms),
            "mean_ms": round2(mean_ms),
            "send_lag_p99_ms": round2(report.send_lag_p99_us as f64 / 1000.0),
        });
        println!("{line}");
        return;
    }
    if let Some(max_rate) = max_rate {
        println!(
            "highest rate with p99 <= {} ms and no errors: {max_rate:.0} req/s",
            args.p99_bound_ms
        );
    }
    println!(
        "{}rate {:.0} req/s scheduled, {:.1} req/s achieved over {} s ({} ok)",
        if args.label.is_empty() {
            String::new()
        } else {
            format!("{}: ", args.label)
        },
        report.rate,
        report.achieved_rps,
        args.duration,
        report.ok
    );
    println!(
        "latency (from scheduled send) ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {max_ms:.2}  mean {mean_ms:.2}",
        ms(0.50),
        ms(0.95),
        ms(0.99)
    );
    println!(
        "errors: {} (transport {}, status {}, graphql {}); send lag p99 {:.3} ms",
        report.errors.total(),
        report.errors.transport,
        report.errors.status,
        report.errors.graphql,
        report.send_lag_p99_us as f64 / 1000.0
    );
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
