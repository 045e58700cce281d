//! [`TestStack`]: the four subgraphs over seeded databases and the gateway, in one process.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{Router, extract::Request, middleware::Next, response::Response};
use promptsales_gateway::{
    Gateway, Options,
    cache::{CacheOptions, ResponseCache},
    config::HttpOptions,
    server,
};
use promptsales_platform::claims::{self, Claims, ClaimsKey};
use promptsales_testkit::SeededStores;
use serde_json::{Value, json};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::issuer::{self, Issuer};

/// The composed supergraph the gateway serves in production, as checked in.
pub const SUPERGRAPH: &str = include_str!("../../supergraph/supergraph.graphql");

/// Every read scope of the four subgraphs (what a staff member exploring the graph holds).
pub const READ_SCOPES: &[&str] = &["ads:read", "content:read", "crm:read", "sales:read"];

/// The subgraphs, by the names the supergraph gives them.
pub const SUBGRAPHS: [&str; 4] = ["content", "ads", "crm", "sales"];

/// How a [`TestStack`] is built.
pub struct Builder {
    scopes: Vec<String>,
    subgraph_timeout: Duration,
    cache: Option<CacheOptions>,
    auth: bool,
}

impl Builder {
    /// The scopes the gateway signs into the claims of every subgraph call (and [`TestStack::direct`]
    /// uses). Default: [`READ_SCOPES`].
    pub fn scopes(mut self, scopes: &[&str]) -> Builder {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// How long the gateway waits for a subgraph (default 5 s).
    pub fn subgraph_timeout(mut self, timeout: Duration) -> Builder {
        self.subgraph_timeout = timeout;
        self
    }

    /// Turns the gateway's response cache on, over the Redis at `url` with keys under `prefix`
    /// (one per test: `ps:test-<uuid>:`), with a command timeout generous enough for a loaded
    /// test machine.
    pub fn redis(self, url: &str, prefix: &str) -> Builder {
        let mut options = CacheOptions::default();
        options.redis.url = Some(url.to_owned());
        options.redis.prefix = prefix.to_owned();
        options.redis.timeout_ms = 500;
        self.cache(options)
    }

    /// Turns the gateway's response cache on with these options.
    pub fn cache(mut self, options: CacheOptions) -> Builder {
        self.cache = Some(options);
        self
    }

    /// Makes the gateway require bearer tokens from a test [`Issuer`] started with the stack
    /// ([`TestStack::token`] makes them), as deployments do, instead of treating every caller
    /// as anonymous.
    pub fn with_auth(mut self) -> Builder {
        self.auth = true;
        self
    }

    /// Clones the small seed into four databases and starts the subgraphs and the gateway.
    pub async fn start(self) -> TestStack {
        let stores = SeededStores::small().await;
        let key = ClaimsKey::random();
        let keyring = Arc::new(SeededStores::keyring());

        // The gateway's address is known before it starts, so image URLs are absolute and point at
        // the gateway, which serves the bytes (`/images/{id}`), as deployments configure it.
        let gateway_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a free port");
        let gateway_addr = gateway_listener.local_addr().expect("bound address");
        let content_config = promptsales_content::Config {
            port: 0,
            content_url: None,
            public_url: Some(format!("http://{gateway_addr}")),
            dev_graphiql: false,
            model_dir: None,
            index_dir: None,
            embedding_cache: false,
        };
        let content = promptsales_content::app(
            promptsales_content::AppState::new(
                Arc::new(promptsales_content::store::PgStore::from_pool(
                    stores.content.pool().clone(),
                )),
                key.clone(),
                &content_config,
            ),
            &content_config,
        );
        let ads = promptsales_ads::app(
            promptsales_ads::AppState {
                store: Arc::new(promptsales_ads::store::PgStore::from_pool(stores.ads.pool().clone())),
                claims_key: key.clone(),
            },
            &promptsales_ads::Config {
                port: 0,
                ads_url: None,
                dev_graphiql: false,
            },
        );
        let crm = promptsales_crm::app(
            promptsales_crm::AppState {
                store: Arc::new(promptsales_crm::store::PgStore::from_pool(stores.crm.pool().clone())),
                claims_key: key.clone(),
                keyring: keyring.clone(),
            },
            &promptsales_crm::Config {
                port: 0,
                crm_url: None,
                dev_graphiql: false,
            },
        );
        let sales = promptsales_sales::app(
            promptsales_sales::AppState {
                store: Arc::new(promptsales_sales::store::PgStore::from_pool(
                    stores.sales.pool().clone(),
                )),
                claims_key: key.clone(),
                keyring,
            },
            &promptsales_sales::Config {
                port: 0,
                sales_url: None,
                dev_graphiql: false,
                loader_delay_ms: 2,
            },
        );

        let mut subgraphs = BTreeMap::new();
        for (name, router) in SUBGRAPHS.into_iter().zip([content, ads, crm, sales]) {
            subgraphs.insert(name, Served::start(router).await);
        }
        let options = Options {
            subgraph_urls: subgraphs
                .iter()
                .map(|(name, s)| ((*name).to_owned(), s.graphql_url()))
                .collect(),
            subgraph_timeout: self.subgraph_timeout,
            // As `make up` runs it: GraphiQL and the cache tests introspect.
            introspection: true,
            ..Options::default()
        };
        let gateway = Gateway::new(SUPERGRAPH, options).expect("the checked-in supergraph loads");
        let http = HttpOptions {
            anonymous_scopes: self.scopes.clone(),
            ..HttpOptions::default()
        };
        let issuer = if self.auth { Some(Issuer::start().await) } else { None };
        let services = server::Services {
            cache: self
                .cache
                .map(|options| ResponseCache::new(options).expect("valid cache options")),
            auth: issuer.as_ref().map(|i| {
                Arc::new(promptsales_gateway::auth::Authenticator::new(i.auth_options()).expect("valid auth options"))
            }),
            ..server::Services::default()
        };
        let router = server::router_with_services(Arc::new(gateway), key.clone(), http, services);
        let gateway = Served::start_on(gateway_listener, router);
        TestStack {
            stores,
            key,
            scopes: self.scopes,
            gateway,
            subgraphs,
            client: reqwest::Client::new(),
            issuer,
        }
    }
}

/// A router served on 127.0.0.1, port 0, that can be slowed, stopped and started again on the
/// same port.
struct Served {
    addr: SocketAddr,
    /// The router with its delay layer, kept to serve it again after a stop.
    router: Router,
    delay_ms: Arc<AtomicU64>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Served {
    async fn start(router: Router) -> Served {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a free port");
        Served::start_on(listener, router)
    }

    /// Serves `router` on a listener bound beforehand (its address is needed before the router exists).
    fn start_on(listener: tokio::net::TcpListener, router: Router) -> Served {
        let delay_ms = Arc::new(AtomicU64::new(0));
        let delay = delay_ms.clone();
        let router = router.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let delay = delay.load(Ordering::Relaxed);
            async move {
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                let response: Response = next.run(request).await;
                response
            }
        }));
        let addr = listener.local_addr().expect("bound address");
        let mut served = Served {
            addr,
            router,
            delay_ms,
            shutdown: None,
            task: None,
        };
        served.serve(listener);
        served
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let router = self.router.clone();
        self.task = Some(tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
        }));
        self.shutdown = Some(tx);
    }

    /// Serves the router again on its port after [`Served::stop`] (Tokio's listener sets
    /// `SO_REUSEADDR`, so connections the stop left in TIME_WAIT do not hold the port).
    async fn restart(&mut self) {
        assert!(self.task.is_none(), "{} is still running", self.addr);
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("{} again: {e}", self.addr));
        self.serve(listener);
    }

    fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            // Graceful shutdown closes idle keep-alive connections; a stuck one is cut after 5 s.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The running stack.
pub struct TestStack {
    /// The four seeded databases (dropped with the stack).
    pub stores: SeededStores,
    key: ClaimsKey,
    scopes: Vec<String>,
    gateway: Served,
    subgraphs: BTreeMap<&'static str, Served>,
    client: reqwest::Client,
    issuer: Option<Issuer>,
}

impl TestStack {
    pub fn builder() -> Builder {
        Builder {
            scopes: READ_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            subgraph_timeout: Duration::from_secs(5),
            cache: None,
            auth: false,
        }
    }

    /// A bearer token the gateway accepts (a stack built [`Builder::with_auth`]): `subject` with
    /// `scopes`, bound to `organization` when given, valid for ten minutes.
    pub fn token(&self, subject: &str, scopes: &[&str], organization: Option<&str>) -> String {
        self.issuer
            .as_ref()
            .expect("a stack built with_auth() makes tokens")
            .token(subject, scopes, organization, 600)
    }

    /// The test issuer's client credentials endpoint and its one client's id and secret (a stack
    /// built [`Builder::with_auth`]).
    pub fn client_credentials(&self) -> (String, &'static str, &str) {
        let issuer = self
            .issuer
            .as_ref()
            .expect("a stack built with_auth() has a token endpoint");
        (issuer.token_url(), issuer::CLIENT_ID, issuer.client_secret())
    }

    /// The gateway's GraphQL endpoint.
    pub fn gateway_url(&self) -> String {
        self.gateway.graphql_url()
    }

    /// A subgraph's GraphQL endpoint.
    pub fn subgraph_url(&self, name: &str) -> String {
        self.subgraph(name).graphql_url()
    }

    fn subgraph(&self, name: &str) -> &Served {
        self.subgraphs
            .get(name)
            .unwrap_or_else(|| panic!("no subgraph {name}: one of {SUBGRAPHS:?}"))
    }

    /// Sends an operation to the gateway; returns the status and the JSON body.
    pub async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        let (status, _, body) = self.post_with_headers(query, variables).await;
        (status, body)
    }

    /// Sends an operation to the gateway; returns the status, the headers and the JSON body.
    pub async fn post_with_headers(&self, query: &str, variables: Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self
            .client
            .post(self.gateway_url())
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.expect("a JSON body"))
    }

    /// Posts a JSON body to another path of the gateway (`/cache/invalidate`); returns the
    /// status and the JSON body.
    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let url = format!("http://{}{path}", self.gateway.addr);
        let response = self
            .client
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Sends an operation to the gateway and returns the body, asserting the request executed.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(query, variables).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A signed `x-promptsales-claims` value for the stack's scopes (staff, no organization):
    /// what another gateway in front of the same subgraphs propagates for its callers.
    pub fn claims_header(&self) -> String {
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        self.key.sign(&Claims::staff("anonymous", &scopes))
    }

    /// The subgraphs' GraphQL endpoints, by name.
    pub fn subgraph_urls(&self) -> BTreeMap<String, String> {
        SUBGRAPHS
            .iter()
            .map(|n| ((*n).to_owned(), self.subgraph_url(n)))
            .collect()
    }

    /// Sends an operation straight to a subgraph, with the claims the gateway would sign for the
    /// same caller; returns the body.
    pub async fn direct(&self, subgraph: &str, query: &str, variables: Value) -> Value {
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let response = self
            .client
            .post(self.subgraph_url(subgraph))
            .header(claims::HEADER, self.key.sign(&Claims::staff("anonymous", &scopes)))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the subgraph answers");
        response.json().await.expect("a JSON body")
    }

    /// Makes a subgraph answer every request `delay` late (zero: on time again).
    pub fn slow_down(&self, subgraph: &str, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.subgraph(subgraph).delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Stops a subgraph: its port refuses connections from then on.
    pub async fn stop(&mut self, subgraph: &str) {
        self.subgraphs
            .get_mut(subgraph)
            .unwrap_or_else(|| panic!("no subgraph {subgraph}"))
            .stop()
            .await;
    }

    /// Starts a stopped subgraph again, on the same port and over the same database.
    pub async fn restart(&mut self, subgraph: &str) {
        self.subgraphs
            .get_mut(subgraph)
            .unwrap_or_else(|| panic!("no subgraph {subgraph}"))
            .restart()
            .await;
    }
}
