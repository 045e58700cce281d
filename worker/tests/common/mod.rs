//! A sales store with a small agenda, senders that record what they get, and a stand-in for the
//! gateway and its token endpoint that checks the requests the worker makes.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use chrono::{DateTime, Utc};
use promptsales_platform::{Store, config::Secret};
use promptsales_testkit::TestDb;
use promptsales_worker::{
    Settings, Worker,
    alerts::Thresholds,
    gateway::{ClientCredentials, Gateway},
    queue::Leasing,
    sender::{Delivery, SendError, Sender},
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

pub fn settings(owner: &str) -> Settings {
    Settings {
        leasing: Leasing {
            owner: owner.into(),
            lease: Duration::from_secs(30),
            max_attempts: 3,
            backoff_base: Duration::ZERO,
            backoff_max: Duration::ZERO,
        },
        batch: 20,
        concurrency: 4,
        idle_wait: Duration::from_millis(10),
        alert_interval: Duration::from_secs(3600),
        thresholds: Thresholds {
            approval_max_wait: Duration::from_secs(48 * 3600),
            min_roi: Decimal::new(-2, 1),
            max_negative_share: Decimal::new(35, 2),
            min_reactions: 200,
        },
        client_id: "worker".into(),
    }
}

/// A sender that keeps every delivery (and can be told to fail).
#[derive(Clone, Default)]
pub struct Recorder {
    pub got: Arc<Mutex<Vec<Delivery>>>,
    /// `Some(permanent)`: every send fails.
    pub fail: Arc<Mutex<Option<bool>>>,
}

impl Recorder {
    pub fn keys(&self) -> Vec<Uuid> {
        self.got.lock().expect("lock").iter().map(|d| d.key).collect()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().expect("lock").clone()
    }
}

impl Sender for Recorder {
    async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        let fail = *self.fail.lock().expect("lock");
        match fail {
            Some(true) => Err(SendError::Permanent("the sink answered 422".into())),
            Some(false) => Err(SendError::Transient("the sink answered 503".into())),
            None => {
                // Sends take a moment, so concurrent workers overlap.
                tokio::time::sleep(Duration::from_millis(1)).await;
                self.got.lock().expect("lock").push(delivery.clone());
                Ok(())
            }
        }
    }
}

/// A store with one organization, its staff approver, a brand and helpers to add the rest.
pub struct Agenda {
    pub db: TestDb,
    pub org: Uuid,
    pub user: Uuid,
    pub brand: Uuid,
}

impl Agenda {
    pub async fn new() -> Agenda {
        let db = TestDb::migrated(Store::Sales).await;
        let (org, user, brand) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let pool = db.pool();
        sqlx::query("INSERT INTO sales.organizations (id, name, country_code) VALUES ($1, 'Agenda Test', 'MX')")
            .bind(org)
            .execute(pool)
            .await
            .expect("organization");
        sqlx::query(
            "INSERT INTO sales.portal_users (id, organization_id, email_enc, email_bidx, display_name, role, pii_key_id)
             VALUES ($1, $2, '\\x00', $3, 'Ana Approver', 'admin', 'k1')",
        )
        .bind(user)
        .bind(org)
        .bind(vec![7_u8; 32])
        .execute(pool)
        .await
        .expect("portal user");
        sqlx::query("INSERT INTO sales.brands (id, organization_id, name) VALUES ($1, $2, 'Agenda Brand')")
            .bind(brand)
            .bind(org)
            .execute(pool)
            .await
            .expect("brand");
        Agenda { db, org, user, brand }
    }

    pub fn pool(&self) -> &PgPool {
        self.db.pool()
    }

    /// A plan in review with `approvals` pending steps; returns (plan, campaign).
    pub async fn plan(&self, approvals: i16) -> (Uuid, Uuid) {
        let (plan, campaign) = (Uuid::new_v4(), Uuid::new_v4());
        sqlx::query(
            "INSERT INTO sales.campaign_plans (id, campaign_id, organization_id, brand_id, title, planned_budget,
                                               planned_start, planned_end, status, created_by)
             VALUES ($1, $2, $3, $4, 'Spring push', 1000, now(), now() + interval '30 days', 'in_review', $5)",
        )
        .bind(plan)
        .bind(campaign)
        .bind(self.org)
        .bind(self.brand)
        .bind(self.user)
        .execute(self.pool())
        .await
        .expect("plan");
        for step in 1..=approvals {
            sqlx::query(
                "INSERT INTO sales.approvals (id, campaign_plan_id, organization_id, step, approver_id)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::new_v4())
            .bind(plan)
            .bind(self.org)
            .bind(step)
            .bind(self.user)
            .execute(self.pool())
            .await
            .expect("approval");
        }
        (plan, campaign)
    }

    /// Decides every step of `plan` as `decision`, and moves the plan as decideApproval does.
    pub async fn decide_all(&self, plan: Uuid, decision: &str) {
        let comment = (decision != "approved").then_some("not this time");
        sqlx::query(
            "UPDATE sales.approvals SET decision = $2, decided_at = now(), comment = $3 WHERE campaign_plan_id = $1",
        )
        .bind(plan)
        .bind(decision)
        .bind(comment)
        .execute(self.pool())
        .await
        .expect("decide");
        let status = if decision == "approved" { "approved" } else { "rejected" };
        sqlx::query("UPDATE sales.campaign_plans SET status = $2 WHERE id = $1")
            .bind(plan)
            .bind(status)
            .execute(self.pool())
            .await
            .expect("plan status");
    }

    pub async fn step(&self, plan: Uuid, campaign: Uuid) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO sales.agenda_steps (id, campaign_plan_id, organization_id, campaign_id, kind, run_at)
             VALUES ($1, $2, $3, $4, 'activate_campaign', now() - interval '1 second')",
        )
        .bind(id)
        .bind(plan)
        .bind(self.org)
        .bind(campaign)
        .execute(self.pool())
        .await
        .expect("step");
        id
    }

    /// An open task of `plan` due at `due_at`.
    pub async fn task(&self, plan: Uuid, campaign: Uuid, due_at: DateTime<Utc>) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO sales.scheduled_tasks (id, campaign_plan_id, organization_id, campaign_id, title, kind, due_at)
             VALUES ($1, $2, $3, $4, 'Review the creatives', 'review', $5)",
        )
        .bind(id)
        .bind(plan)
        .bind(self.org)
        .bind(campaign)
        .bind(due_at)
        .execute(self.pool())
        .await
        .expect("task");
        id
    }

    /// `n` reminders of `task`, due now, on the e-mail channel.
    pub async fn reminders(&self, task: Uuid, n: i32) -> Vec<Uuid> {
        let mut ids = Vec::new();
        for i in 0..n {
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO sales.task_reminders (id, task_id, remind_at, channel)
                 VALUES ($1, $2, now() - make_interval(secs => $3), 'email')",
            )
            .bind(id)
            .bind(task)
            .bind(f64::from(i + 1))
            .execute(self.pool())
            .await
            .expect("reminder");
            ids.push(id);
        }
        ids
    }

    pub async fn scalar<T>(&self, sql: &str, id: Uuid) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

pub fn worker<S: Sender>(agenda: &Agenda, sender: S, gateway: Option<Arc<Gateway>>, owner: &str) -> Worker<S> {
    Worker::new(agenda.pool().clone(), sender, gateway, settings(owner))
}

/// The gateway and token endpoint as the worker sees them: a client-credentials POST that must
/// carry the worker's id, secret and scopes, and GraphQL requests that must carry its token.
/// Campaigns live in `campaigns` (id → (status, version)).
#[derive(Clone, Default)]
pub struct FakeGateway {
    pub campaigns: Arc<Mutex<HashMap<Uuid, (String, i64)>>>,
    pub tokens_issued: Arc<Mutex<u32>>,
    pub mutations: Arc<Mutex<Vec<Value>>>,
}

const TOKEN: &str = "worker-token-1";
const SECRET: &str = "worker-secret";

async fn token(State(g): State<FakeGateway>, body: String) -> (StatusCode, Json<Value>) {
    let form: HashMap<String, String> = body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":").replace('+', " ")))
        .collect();
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some("worker")
        && form.get("client_secret").map(String::as_str) == Some(SECRET)
        && form.get("scope").map(String::as_str) == Some("ads:read ads:write");
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client", "form": body })),
        );
    }
    *g.tokens_issued.lock().expect("lock") += 1;
    (
        StatusCode::OK,
        Json(json!({ "access_token": TOKEN, "token_type": "Bearer", "expires_in": 300 })),
    )
}

async fn graphql(
    State(g): State<FakeGateway>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "errors": [{ "message": "no token" }] })),
        );
    }
    let query = body["query"].as_str().unwrap_or_default();
    let id: Uuid = body["variables"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    let mut campaigns = g.campaigns.lock().expect("lock");
    if query.contains("updateCampaignStatus") {
        g.mutations.lock().expect("lock").push(body.clone());
        let Some((status, version)) = campaigns.get_mut(&id) else {
            return (
                StatusCode::OK,
                Json(
                    json!({ "data": null, "errors": [{ "message": "no such campaign", "extensions": { "code": "NOT_FOUND" } }] }),
                ),
            );
        };
        if body["variables"]["version"].as_i64() != Some(*version) {
            return (
                StatusCode::OK,
                Json(json!({ "data": null, "errors": [{ "message": "stale", "extensions": { "code": "CONFLICT" } }] })),
            );
        }
        *status = "ACTIVE".into();
        *version += 1;
        return (
            StatusCode::OK,
            Json(json!({ "data": { "updateCampaignStatus": { "id": id, "status": status, "version": version } } })),
        );
    }
    let campaign = campaigns
        .get(&id)
        .map(|(status, version)| json!({ "id": id, "status": status, "version": version }));
    (StatusCode::OK, Json(json!({ "data": { "campaign": campaign } })))
}

impl FakeGateway {
    /// Serves it; returns the worker's client of it.
    pub async fn start(&self) -> Arc<Gateway> {
        let app = Router::new()
            .route("/token", post(token))
            .route("/graphql", post(graphql))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = ClientCredentials {
            token_url: format!("http://{addr}/token").parse().expect("url"),
            client_id: "worker".into(),
            client_secret: Secret::new(SECRET.into()),
            scope: Some("ads:read ads:write".into()),
            auth: promptsales_platform::oauth::ClientAuth::Post,
        };
        Arc::new(
            Gateway::new(
                format!("http://{addr}/graphql").parse().expect("url"),
                client,
                Duration::from_secs(5),
            )
            .expect("gateway client"),
        )
    }
}
