//! The audit log: the gateway is its single writer. Every mutation and every query whose
//! response carried decrypted PII becomes one row of `sales.audit_log` in the sales store (who,
//! what, when, from where, outcome; never variable values or response data beyond an id).
//!
//! Requests refused before they were read (a missing or bad bearer token, a CSRF refusal, an
//! unsupported media type) become rows too, with outcome `refused`, the reason, the address and
//! user agent, and never the token. Anyone can send those, so they are rate-limited: a token
//! bucket of `refusals_per_minute` records (the whole allowance may come at once), the rest
//! counted (`gateway_audit_records_total{result="suppressed"}`) and the number suppressed noted
//! on the next refusal that is written (`details.suppressedBefore`). A flood therefore costs the
//! table a bounded number of rows a minute and still shows up in it.
//!
//! Writing never slows a request: the request path hands the record to a bounded channel with
//! `try_send` and moves on; a background task batches records into one multi-row `INSERT` each.
//! A full channel drops the record, a batch the database refused after a few retries is dropped
//! too, and both are counted (`gateway_audit_records_total{result}`), so losing audit records is
//! visible rather than silent. The same task keeps monthly partitions ahead of time and drops
//! those past the retention period (`sales.ensure_audit_partitions`,
//! `sales.drop_audit_partitions_before`).

use std::{
    fmt,
    net::IpAddr,
    str::FromStr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use promptsales_platform::{Store, StoreUrl, config::UrlError};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{
    PgPool, Postgres, QueryBuilder,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::gateway::Outcome;

/// How many times a batch is tried before it is dropped.
const ATTEMPTS: u32 = 3;

/// The `audit` section of the gateway's YAML file. Absent: auditing is off (with a warning).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditOptions {
    /// The sales store (`postgres://…/promptsales`). Absent: `PROMPTSALES_SALES_URL`, else the
    /// local default.
    pub database_url: Option<String>,
    /// How many records wait for the writer at most; more are dropped (and counted).
    pub buffer: usize,
    /// The most records one `INSERT` carries.
    pub batch: usize,
    /// How long a record waits for a batch to fill before it is written anyway, in milliseconds.
    pub flush_ms: u64,
    /// Rows are kept at least this many days (whole monthly partitions are dropped after it).
    pub retention_days: u32,
    /// How often partitions are created ahead and old ones dropped, in seconds.
    pub prune_interval_secs: u64,
    /// Records of refused requests (401, CSRF, 415) written per minute at most; 0 writes none.
    pub refusals_per_minute: u32,
}

impl Default for AuditOptions {
    fn default() -> AuditOptions {
        AuditOptions {
            database_url: None,
            buffer: 10_000,
            batch: 500,
            flush_ms: 200,
            retention_days: 90,
            prune_interval_secs: 3600,
            refusals_per_minute: 600,
        }
    }
}

// By hand: the URL may carry a password.
impl fmt::Debug for AuditOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditOptions")
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("buffer", &self.buffer)
            .field("batch", &self.batch)
            .field("flush_ms", &self.flush_ms)
            .field("retention_days", &self.retention_days)
            .field("prune_interval_secs", &self.prune_interval_secs)
            .field("refusals_per_minute", &self.refusals_per_minute)
            .finish()
    }
}

impl AuditOptions {
    /// The sales store's URL: `database_url`, `PROMPTSALES_SALES_URL`, or the local default.
    pub fn url(&self) -> Result<StoreUrl, UrlError> {
        let given = self
            .database_url
            .clone()
            .or_else(|| std::env::var("PROMPTSALES_SALES_URL").ok().filter(|s| !s.is_empty()));
        let url = match given {
            Some(s) => StoreUrl::parse(&s)?,
            None => StoreUrl::local_default(Store::Sales),
        };
        url.check_for(Store::Sales)?;
        Ok(url)
    }

    /// A lazy pool on the sales store: the gateway starts (and serves) while it is down.
    pub fn pool(&self) -> Result<PgPool, sqlx::Error> {
        let url = self.url().map_err(|e| sqlx::Error::Configuration(e.into()))?;
        let options = PgConnectOptions::from_str(url.expose().as_str())?;
        Ok(PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options))
    }
}

/// How an audited request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Success,
    /// Refused for missing scopes or authentication (`FORBIDDEN`, `UNAUTHENTICATED`).
    Denied,
    Error,
    /// Refused before it was read: no valid token, CSRF, media type.
    Refused,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Error => "error",
            AuditOutcome::Refused => "refused",
        }
    }
}

/// One row of `sales.audit_log`.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_subject: String,
    pub actor_organization_id: Option<Uuid>,
    pub scopes: Vec<String>,
    /// A lowercase code: `graphql_mutation`, `pii_read`, …
    pub action: &'static str,
    pub operation_name: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub outcome: AuditOutcome,
    /// Names and counts only: never values.
    pub details: Value,
}

/// Who sent a request and from where.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    pub subject: String,
    pub organization: Option<Uuid>,
    pub scopes: Vec<String>,
    pub request_id: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// The audit record of a request, if it gets one: every mutation, and every query whose
/// response carried decrypted PII.
pub fn record_for(request: RequestFacts, outcome: &Outcome, contains_pii: bool) -> Option<AuditRecord> {
    let op = outcome.operation.as_ref()?;
    let action = match op.kind {
        "mutation" => "graphql_mutation",
        _ if contains_pii => "pii_read",
        _ => return None,
    };
    let codes: Vec<&str> = outcome
        .response
        .errors
        .iter()
        .filter_map(|e| e.extensions.get("code").and_then(Value::as_str))
        .collect();
    let result = if codes.iter().any(|c| matches!(*c, "FORBIDDEN" | "UNAUTHENTICATED")) {
        AuditOutcome::Denied
    } else if outcome.status != 200 || !outcome.response.errors.is_empty() {
        AuditOutcome::Error
    } else {
        AuditOutcome::Success
    };
    let target_type = op.root_fields.first().map(|f| clip(f, 100));
    let target_id = target_type
        .as_ref()
        .and(op.target_id.as_deref())
        .filter(|id| (1..=200).contains(&id.chars().count()))
        .map(str::to_owned);
    let mut error_codes = codes;
    error_codes.sort_unstable();
    error_codes.dedup();
    let subject = if request.subject.is_empty() {
        "anonymous".to_owned()
    } else {
        clip(&request.subject, 255)
    };
    Some(AuditRecord {
        id: Uuid::new_v4(),
        occurred_at: Utc::now(),
        actor_subject: subject,
        actor_organization_id: request.organization,
        scopes: request.scopes,
        action,
        operation_name: op.name.as_deref().map(|n| clip(n, 200)),
        target_type,
        target_id,
        source_ip: request.source_ip,
        user_agent: request.user_agent.map(|ua| clip(&ua, 1000)),
        request_id: request.request_id,
        outcome: result,
        details: json!({
            "operationType": op.kind,
            "rootFields": op.root_fields,
            "variables": op.variable_names,
            "status": outcome.status,
            "errorCodes": error_codes,
            "errors": outcome.response.errors.len(),
            "containsPii": contains_pii,
        }),
    })
}

/// Why a request was refused before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401: no valid bearer token where one is required; the [`crate::auth::AuthError::kind`].
    Unauthenticated(&'static str),
    /// 400: a request a browser could have sent cross-site without the CSRF header.
    Csrf,
    /// 415: a body that is not `application/json`.
    UnsupportedMediaType,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::Unauthenticated(_) => 401,
            Refusal::Csrf => 400,
            Refusal::UnsupportedMediaType => 415,
        }
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            Refusal::Unauthenticated(kind) => ("unauthenticated", kind),
            Refusal::Csrf => ("csrf", "csrf_header_missing"),
            Refusal::UnsupportedMediaType => ("unsupported_media_type", "not_json"),
        }
    }
}

/// The audit record of a request refused before it was read. The subject is `anonymous`: a
/// refused token names no one we could trust.
pub fn refusal_record(refusal: Refusal, request: RequestFacts) -> AuditRecord {
    let (kind, reason) = refusal.names();
    AuditRecord {
        id: Uuid::new_v4(),
        occurred_at: Utc::now(),
        actor_subject: "anonymous".to_owned(),
        actor_organization_id: None,
        scopes: Vec::new(),
        action: "http_refused",
        operation_name: None,
        target_type: None,
        target_id: None,
        source_ip: request.source_ip,
        user_agent: request.user_agent.map(|ua| clip(&ua, 1000)),
        request_id: request.request_id,
        outcome: AuditOutcome::Refused,
        details: json!({ "refusal": kind, "reason": reason, "status": refusal.status() }),
    }
}

fn clip(s: &str, chars: usize) -> String {
    s.chars().take(chars).collect()
}

/// What happened to the records handed to the log, since it started.
#[derive(Debug, Default)]
pub struct AuditStats {
    written: AtomicU64,
    dropped_full: AtomicU64,
    dropped_error: AtomicU64,
    suppressed: AtomicU64,
}

impl AuditStats {
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    pub fn dropped_full(&self) -> u64 {
        self.dropped_full.load(Ordering::Relaxed)
    }

    pub fn dropped_error(&self) -> u64 {
        self.dropped_error.load(Ordering::Relaxed)
    }

    /// Records of refused requests left out by the rate limit.
    pub fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }

    fn add(&self, result: &'static str, n: usize) {
        let counter = match result {
            "written" => &self.written,
            "dropped_full" => &self.dropped_full,
            "suppressed" => &self.suppressed,
            _ => &self.dropped_error,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
        metrics::counter!("gateway_audit_records_total", "result" => result).increment(n as u64);
    }
}

/// The request path's handle on the log: cheap to clone, never waits.
#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<AuditRecord>,
    stats: Arc<AuditStats>,
    refusals: Arc<Mutex<RefusalBucket>>,
}

/// The token bucket of refusal records: `capacity` a minute, refilled continuously.
#[derive(Debug)]
struct RefusalBucket {
    capacity: f64,
    tokens: f64,
    refilled: Instant,
    /// Suppressed since the last refusal record that was let through.
    suppressed: u64,
}

impl RefusalBucket {
    fn new(per_minute: u32) -> RefusalBucket {
        let capacity = f64::from(per_minute);
        RefusalBucket {
            capacity,
            tokens: capacity,
            refilled: Instant::now(),
            suppressed: 0,
        }
    }

    /// `Some(suppressed before)` when a record may be written now.
    fn take(&mut self) -> Option<u64> {
        let now = Instant::now();
        let refill = now.duration_since(self.refilled).as_secs_f64() * self.capacity / 60.0;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

impl AuditLog {
    /// Hands a record to the writer, or drops (and counts) it when the buffer is full.
    pub fn record(&self, record: AuditRecord) {
        if let Err(e) = self.tx.try_send(record) {
            let result = match e {
                mpsc::error::TrySendError::Full(_) => "dropped_full",
                // The writer is gone (shutting down): the record cannot be written any more.
                mpsc::error::TrySendError::Closed(_) => "dropped_error",
            };
            tracing::debug!(result, "audit record dropped");
            self.stats.add(result, 1);
        }
    }

    /// Hands the record of a refused request to the writer, within the refusal rate limit (see
    /// the module documentation); over it, the record is only counted.
    pub fn record_refusal(&self, mut record: AuditRecord) {
        let admitted = self.refusals.lock().unwrap_or_else(|p| p.into_inner()).take();
        match admitted {
            Some(0) => self.record(record),
            Some(before) => {
                record.details["suppressedBefore"] = json!(before);
                self.record(record);
            }
            None => self.stats.add("suppressed", 1),
        }
    }

    pub fn stats(&self) -> &AuditStats {
        &self.stats
    }
}

/// The background writer; [`AuditWriter::shutdown`] flushes what is buffered.
pub struct AuditWriter {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl AuditWriter {
    /// Starts the writer on `pool` (call inside a Tokio runtime).
    pub fn start(pool: PgPool, options: &AuditOptions) -> (AuditLog, AuditWriter) {
        let (tx, rx) = mpsc::channel(options.buffer.max(1));
        let (stop, stopped) = watch::channel(false);
        let stats = Arc::new(AuditStats::default());
        let task = tokio::spawn(run(pool, options.clone(), rx, stopped, stats.clone()));
        let refusals = Arc::new(Mutex::new(RefusalBucket::new(options.refusals_per_minute)));
        (AuditLog { tx, stats, refusals }, AuditWriter { stop, task })
    }

    /// Writes what is buffered, waiting at most `wait`; what is still unwritten then is lost.
    pub async fn shutdown(self, wait: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(wait, &mut task).await.is_err() {
            tracing::warn!("audit log: buffered records not written within {wait:?}; abandoned");
            task.abort();
        }
    }
}

async fn run(
    pool: PgPool,
    options: AuditOptions,
    mut rx: mpsc::Receiver<AuditRecord>,
    mut stopped: watch::Receiver<bool>,
    stats: Arc<AuditStats>,
) {
    let batch = options.batch.max(1);
    let retention = chrono::Duration::days(i64::from(options.retention_days));
    let mut flush = tokio::time::interval(Duration::from_millis(options.flush_ms.max(1)));
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate: partitions are ensured at startup.
    let mut prune = tokio::time::interval(Duration::from_secs(options.prune_interval_secs.max(1)));
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut buffer = Vec::with_capacity(batch);
    loop {
        let room = batch - buffer.len();
        tokio::select! {
            biased;
            _ = stopped.changed() => break,
            n = rx.recv_many(&mut buffer, room) => {
                if n == 0 {
                    break;
                }
                if buffer.len() >= batch {
                    write(&pool, &mut buffer, &stats).await;
                }
            }
            _ = flush.tick() => {
                if !buffer.is_empty() {
                    write(&pool, &mut buffer, &stats).await;
                }
            }
            _ = prune.tick() => {
                if let Err(e) = maintain(&pool, Utc::now(), retention).await {
                    tracing::warn!(error = %e, "audit log: partition maintenance failed; retried next interval");
                }
            }
        }
    }
    // Shutdown: what was sent before it, in batches.
    rx.close();
    while let Some(record) = rx.recv().await {
        buffer.push(record);
        if buffer.len() >= batch {
            write(&pool, &mut buffer, &stats).await;
        }
    }
    if !buffer.is_empty() {
        write(&pool, &mut buffer, &stats).await;
    }
}

/// Inserts `buffer` as one statement, retrying with backoff; drops it (counted) when every
/// attempt failed. Leaves `buffer` empty.
async fn write(pool: &PgPool, buffer: &mut Vec<AuditRecord>, stats: &AuditStats) {
    let n = buffer.len();
    let mut backoff = Duration::from_millis(100);
    for attempt in 1..=ATTEMPTS {
        match insert(pool, buffer).await {
            Ok(()) => {
                stats.add("written", n);
                buffer.clear();
                return;
            }
            Err(e) if attempt < ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "audit log: insert failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 4;
            }
            Err(e) => tracing::error!(error = %e, records = n, "audit log: insert failed; records dropped"),
        }
    }
    stats.add("dropped_error", n);
    buffer.clear();
}

async fn insert(pool: &PgPool, records: &[AuditRecord]) -> Result<(), sqlx::Error> {
    let mut query = QueryBuilder::<Postgres>::new(
        "INSERT INTO sales.audit_log (id, occurred_at, actor_subject, actor_organization_id, scopes, action, \
         operation_name, target_type, target_id, source_ip, user_agent, request_id, outcome, details) ",
    );
    query.push_values(records, |mut row, r| {
        row.push_bind(r.id)
            .push_bind(r.occurred_at)
            .push_bind(&r.actor_subject)
            .push_bind(r.actor_organization_id)
            .push_bind(&r.scopes)
            .push_bind(r.action)
            .push_bind(&r.operation_name)
            .push_bind(&r.target_type)
            .push_bind(&r.target_id)
            .push_bind(r.source_ip.map(|ip| ip.to_string()))
            .push_unseparated("::inet")
            .push_bind(&r.user_agent)
            .push_bind(&r.request_id)
            .push_bind(r.outcome.as_str())
            .push_bind(sqlx::types::Json(&r.details));
    });
    query.build().execute(pool).await?;
    Ok(())
}

/// Partition upkeep as of `now`: creates this month's partition and the next two, and drops
/// those wholly older than `now - retention`. Returns (created, dropped).
pub async fn maintain(
    pool: &PgPool,
    now: DateTime<Utc>,
    retention: chrono::Duration,
) -> Result<(i32, i32), sqlx::Error> {
    let created: i32 = sqlx::query_scalar("SELECT sales.ensure_audit_partitions($1, 3)")
        .bind(now.date_naive())
        .fetch_one(pool)
        .await?;
    let dropped: i32 = sqlx::query_scalar("SELECT sales.drop_audit_partitions_before($1)")
        .bind(now - retention)
        .fetch_one(pool)
        .await?;
    if created > 0 || dropped > 0 {
        tracing::info!(created, dropped, "audit log partitions maintained");
    }
    Ok((created, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        gateway::OperationInfo,
        response::{GraphqlError, Response},
    };

    fn outcome(kind: &'static str, errors: Vec<GraphqlError>) -> Outcome {
        Outcome {
            operation: Some(Box::new(OperationInfo {
                kind,
                root_fields: vec!["updateCustomer".into()],
                target_id: Some("c-1".into()),
                ..OperationInfo::default()
            })),
            status: 200,
            response: Response { data: None, errors },
        }
    }

    #[test]
    fn should_take_the_defaults_for_an_empty_audit_section() {
        let options: AuditOptions = serde_yaml_ng::from_str("{}").expect("parses");
        assert_eq!((options.buffer, options.batch, options.flush_ms), (10_000, 500, 200));
        assert_eq!((options.retention_days, options.prune_interval_secs), (90, 3600));
        assert!(serde_yaml_ng::from_str::<AuditOptions>("bufer: 1").is_err());
    }

    #[test]
    fn should_record_a_failed_mutation_as_error_and_skip_queries_without_pii() {
        let failed = outcome(
            "mutation",
            vec![GraphqlError::new("down").with_code("SUBGRAPH_UNREACHABLE")],
        );
        let record = record_for(RequestFacts::default(), &failed, false).expect("mutations are audited");
        assert_eq!(record.outcome, AuditOutcome::Error);
        assert_eq!(record.actor_subject, "anonymous");
        assert_eq!(record.target_type.as_deref(), Some("updateCustomer"));
        assert_eq!(record.target_id.as_deref(), Some("c-1"));

        assert!(record_for(RequestFacts::default(), &outcome("query", vec![]), false).is_none());
        let read = record_for(RequestFacts::default(), &outcome("query", vec![]), true).expect("a PII read");
        assert_eq!((read.action, read.outcome), ("pii_read", AuditOutcome::Success));
    }

    #[test]
    fn should_let_refusal_records_through_at_the_configured_rate_only() {
        let mut bucket = RefusalBucket::new(3);
        assert_eq!(
            (bucket.take(), bucket.take(), bucket.take()),
            (Some(0), Some(0), Some(0))
        );
        assert_eq!((bucket.take(), bucket.take()), (None, None));
        // A minute later the allowance is back, and the first record says what was left out.
        bucket.refilled = bucket
            .refilled
            .checked_sub(Duration::from_secs(60))
            .expect("up for a minute");
        assert_eq!(bucket.take(), Some(2));
        assert_eq!(bucket.take(), Some(0));
        assert_eq!(RefusalBucket::new(0).take(), None);

        let record = refusal_record(Refusal::Unauthenticated("expired"), RequestFacts::default());
        assert_eq!((record.outcome.as_str(), record.action), ("refused", "http_refused"));
        assert_eq!(
            record.details,
            json!({ "refusal": "unauthenticated", "reason": "expired", "status": 401 })
        );
    }

    #[test]
    fn should_not_print_the_database_url() {
        let options = AuditOptions {
            database_url: Some("postgres://u:s3cret@db/promptsales".into()),
            ..AuditOptions::default()
        };
        assert!(!format!("{options:?}").contains("s3cret"));
    }
}
