//! The sales subgraph in-process on a private migrated database, and SQL fixtures for its tests.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::sync::Arc;

use axum::{body::Body, http::Request};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, Utc};
use promptsales_platform::{
    Store,
    claims::{self, Claims, ClaimsKey},
    crypto::{self, DataKey, Keyring},
};
use promptsales_sales::{
    AppState, Config, app,
    store::{PgStore, SalesStore},
};
use promptsales_testkit::TestDb;
use rand::{SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

pub struct Subgraph {
    pub db: TestDb,
    pub key: ClaimsKey,
    pub keyring: Arc<Keyring>,
    pub router: axum::Router,
}

/// A full response: status, headers and JSON body.
pub struct Reply {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Subgraph {
    pub async fn start() -> Subgraph {
        Self::start_with(|store| store, 1).await
    }

    /// A subgraph whose store is wrapped by `wrap` (e.g. a counting decorator), its DataLoaders
    /// gathering keys for `loader_delay_ms`.
    pub async fn start_with(
        wrap: impl FnOnce(Arc<dyn SalesStore>) -> Arc<dyn SalesStore>,
        loader_delay_ms: u64,
    ) -> Subgraph {
        let db = TestDb::migrated(Store::Sales).await;
        let keyring = Keyring::generate("test-kek", &mut StdRng::seed_from_u64(42));
        Self::over(db, keyring, wrap, loader_delay_ms)
    }

    /// A subgraph over the seeder's `small` profile, with the keyring it was sealed with.
    pub async fn seeded() -> Subgraph {
        let stores = promptsales_testkit::SeededStores::small().await;
        let keyring = promptsales_testkit::SeededStores::keyring();
        Self::over(stores.sales, keyring, |store| store, 1)
    }

    fn over(
        db: TestDb,
        keyring: Keyring,
        wrap: impl FnOnce(Arc<dyn SalesStore>) -> Arc<dyn SalesStore>,
        loader_delay_ms: u64,
    ) -> Subgraph {
        let key = ClaimsKey::random();
        let keyring = Arc::new(keyring);
        let state = AppState {
            store: wrap(Arc::new(PgStore::from_pool(db.pool().clone()))),
            claims_key: key.clone(),
            keyring: keyring.clone(),
        };
        let config = Config {
            port: 0,
            sales_url: None,
            dev_graphiql: false,
            loader_delay_ms,
        };
        Subgraph {
            router: app(state, &config),
            db,
            key,
            keyring,
        }
    }

    pub async fn call(&self, claims: Option<&Claims>, query: &str, variables: Value) -> Reply {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(c) = claims {
            request = request.header(claims::HEADER, self.key.sign(c));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).expect("request"))
            .await
            .expect("call");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.expect("body");
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).expect("JSON body"),
        }
    }

    pub async fn post(&self, claims: Option<&Claims>, query: &str, variables: Value) -> (u16, Value) {
        let reply = self.call(claims, query, variables).await;
        (reply.status, reply.body)
    }

    /// `data` of a query that must succeed.
    pub async fn data(&self, claims: &Claims, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(Some(claims), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.db.pool()).await.expect(sql)
    }

    pub async fn exec(&self, sql: &str) {
        sqlx::query(sql).execute(self.db.pool()).await.expect(sql);
    }

    pub async fn org(&self, name: &str) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO sales.organizations (id, name, country_code) VALUES ($1, $2, 'MX')")
            .bind(id)
            .bind(name)
            .execute(self.db.pool())
            .await
            .expect("insert organization");
        id
    }

    pub async fn brand(&self, org: Uuid, name: &str) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO sales.brands (id, organization_id, name) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(org)
            .bind(name)
            .execute(self.db.pool())
            .await
            .expect("insert brand");
        id
    }

    pub async fn product(&self, org: Uuid, brand: Uuid, sku: &str, name: &str) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO sales.products (id, brand_id, organization_id, sku, name, unit_price)
             VALUES ($1, $2, $3, $4, $5, 19.90)",
        )
        .bind(id)
        .bind(brand)
        .bind(org)
        .bind(sku)
        .bind(name)
        .execute(self.db.pool())
        .await
        .expect("insert product");
        id
    }

    /// An envelope as the seeder writes it: a fresh data key wrapped under the test KEK, named in
    /// `pii_key_id` as `<kek id>:<base64 of the wrapped key>`.
    fn envelope(&self) -> (DataKey, String) {
        let mut rng = rand::rng();
        let key = DataKey::generate(&mut rng);
        let wrapped = self.keyring.wrap(&key, &mut rng);
        let key_id = format!("{}:{}", wrapped.kek_id, STANDARD.encode(&wrapped.sealed));
        (key, key_id)
    }

    /// A portal user (`org` None: staff) with its e-mail sealed like the seeder seals it.
    pub async fn user(&self, org: Option<Uuid>, name: &str, email: &str, role: &str) -> Uuid {
        let id = Uuid::new_v4();
        let (key, key_id) = self.envelope();
        let sealed = key.seal(
            email.as_bytes(),
            &crypto::aad("sales.portal_users.email", id),
            &mut rand::rng(),
        );
        let bidx = self
            .keyring
            .blind_index("sales.portal_users.email", &crypto::normalize_email(email));
        sqlx::query(
            "INSERT INTO sales.portal_users
                 (id, organization_id, email_enc, email_bidx, display_name, role, status, pii_key_id)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)",
        )
        .bind(id)
        .bind(org)
        .bind(sealed)
        .bind(&bidx[..])
        .bind(name)
        .bind(role)
        .bind(key_id)
        .execute(self.db.pool())
        .await
        .expect("insert portal user");
        id
    }

    pub async fn contact(&self, org: Uuid, name: &str, email: &str, phone: &str, primary: bool) -> Uuid {
        let id = Uuid::new_v4();
        let (key, key_id) = self.envelope();
        let mut rng = rand::rng();
        let email_enc = key.seal(email.as_bytes(), &crypto::aad("sales.contacts.email", id), &mut rng);
        let phone_enc = key.seal(phone.as_bytes(), &crypto::aad("sales.contacts.phone", id), &mut rng);
        let bidx = self
            .keyring
            .blind_index("sales.contacts.email", &crypto::normalize_email(email));
        sqlx::query(
            "INSERT INTO sales.contacts
                 (id, organization_id, full_name, email_enc, email_bidx, phone_enc, pii_key_id, is_primary)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(org)
        .bind(name)
        .bind(email_enc)
        .bind(&bidx[..])
        .bind(phone_enc)
        .bind(key_id)
        .bind(primary)
        .execute(self.db.pool())
        .await
        .expect("insert contact");
        id
    }

    /// A plan `in_review` for a new campaign of `org`, with `steps` pending approval steps (one
    /// approver each) and two tasks with two reminders each (one sent, one not).
    pub async fn plan(&self, org: Uuid, steps: usize) -> PlanFixture {
        let brand = self.brand(org, &format!("Brand {}", Uuid::new_v4())).await;
        let author = self
            .user(
                Some(org),
                "Author",
                &format!("author.{}@acme.mx", Uuid::new_v4()),
                "marketer",
            )
            .await;
        let (campaign, plan) = (Uuid::new_v4(), Uuid::new_v4());
        let start = Utc::now() + Duration::days(10);
        sqlx::query(
            "INSERT INTO sales.campaign_plans
                 (id, campaign_id, organization_id, brand_id, title, planned_budget, planned_start, planned_end,
                  status, created_by)
             VALUES ($1, $2, $3, $4, 'Summer launch', 25000, $5, $6, 'in_review', $7)",
        )
        .bind(plan)
        .bind(campaign)
        .bind(org)
        .bind(brand)
        .bind(start)
        .bind(start + Duration::days(30))
        .bind(author)
        .execute(self.db.pool())
        .await
        .expect("insert plan");
        let mut approvals = Vec::new();
        for step in 1..=steps {
            let approver = self
                .user(
                    Some(org),
                    &format!("Approver {step}"),
                    &format!("ap{step}.{}@acme.mx", Uuid::new_v4()),
                    "admin",
                )
                .await;
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO sales.approvals (id, campaign_plan_id, organization_id, step, approver_id, requested_at)
                 VALUES ($1, $2, $3, $4, $5, now() - interval '1 hour')",
            )
            .bind(id)
            .bind(plan)
            .bind(org)
            .bind(step as i16)
            .bind(approver)
            .execute(self.db.pool())
            .await
            .expect("insert approval");
            approvals.push(id);
        }
        let mut tasks = Vec::new();
        for (k, (title, kind)) in [("Creative brief", "creative"), ("Launch", "launch")]
            .into_iter()
            .enumerate()
        {
            let id = Uuid::new_v4();
            let due: DateTime<Utc> = start + Duration::days(k as i64);
            sqlx::query(
                "INSERT INTO sales.scheduled_tasks
                     (id, campaign_plan_id, organization_id, campaign_id, title, kind, due_at, assignee_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(plan)
            .bind(org)
            .bind(campaign)
            .bind(title)
            .bind(kind)
            .bind(due)
            .bind(author)
            .execute(self.db.pool())
            .await
            .expect("insert task");
            sqlx::query(
                "INSERT INTO sales.task_reminders (id, task_id, remind_at, channel, sent_at) VALUES
                     ($1, $3, $4 - interval '20 days', 'email', $4 - interval '20 days'),
                     ($2, $3, $4 - interval '1 hour', 'portal', NULL)",
            )
            .bind(Uuid::new_v4())
            .bind(Uuid::new_v4())
            .bind(id)
            .bind(due)
            .execute(self.db.pool())
            .await
            .expect("insert reminders");
            tasks.push(id);
        }
        PlanFixture {
            campaign,
            plan,
            brand,
            approvals,
            tasks,
        }
    }

    /// An ETL summary of `campaign`; ROI follows the store's rule (NULL while nothing was spent).
    pub async fn summary(&self, org: Uuid, brand: Uuid, campaign: Uuid, revenue: i64, cost: i64, days_ago: i64) {
        let roi = (cost > 0).then(|| (Decimal::from(revenue) - Decimal::from(cost)) / Decimal::from(cost));
        let start = Utc::now() - Duration::days(days_ago);
        sqlx::query(
            "INSERT INTO sales.campaign_summaries
                 (campaign_id, organization_id, brand_id, name, status, starts_at, ends_at, budget, reach,
                  customers_reached, views, interactions, likes, sales_count, revenue, cost, roi, success_rate,
                  channels, markets, source_updated_at, refreshed_at)
             VALUES ($1, $2, $3, $4, 'active', $5, $5 + interval '30 days', 50000, 1000, 100, 5000, 400, 300, 20,
                     $6, $7, round($8, 4), 0.2, '{instagram,email}', '{MX}', now(), now())",
        )
        .bind(campaign)
        .bind(org)
        .bind(brand)
        .bind(format!("Campaign {revenue}/{cost}"))
        .bind(start)
        .bind(Decimal::from(revenue))
        .bind(Decimal::from(cost))
        .bind(roi)
        .execute(self.db.pool())
        .await
        .expect("insert summary");
    }
}

/// What [`Subgraph::plan`] created.
pub struct PlanFixture {
    pub campaign: Uuid,
    pub plan: Uuid,
    pub brand: Uuid,
    /// Approval ids by step.
    pub approvals: Vec<Uuid>,
    pub tasks: Vec<Uuid>,
}

pub fn staff() -> Claims {
    Claims::staff("tester", &["sales:read", "sales:write", "etl:run"])
}

pub fn admin() -> Claims {
    Claims::staff("auditor", &["sales:read", "admin"])
}

pub fn tenant(org: Uuid) -> Claims {
    Claims {
        org: Some(org),
        ..Claims::staff("tenant-user", &["sales:read", "sales:write"])
    }
}

/// The `node`s of a connection.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// One field of each node, as strings.
pub fn names(connection: &Value, field: &str) -> Vec<String> {
    nodes(connection)
        .iter()
        .map(|n| n[field].as_str().expect("string field").to_owned())
        .collect()
}

/// The `extensions` of the first error.
pub fn first_error(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]
}
