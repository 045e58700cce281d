//! Hot reload of the supergraph over real HTTP: the gateway is served on a port of its own while
//! the file changes under it, and no request may fail at the HTTP level.

mod fixtures;

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use fixtures::{SUPERGRAPH, Stack};
use promptsales_gateway::{
    Options,
    config::HttpOptions,
    server::{self, ReloadError, Reloader},
};
use serde_json::{Value, json};

/// The fixture supergraph without `Query.users`: valid, and a query for `users` no longer is.
fn without_users() -> String {
    let line = "  users: [User!]! @join__field(graph: ACCOUNTS)\n";
    assert!(SUPERGRAPH.contains(line), "the fixture supergraph has Query.users");
    SUPERGRAPH.replace(line, "")
}

const INVALID: &str = "type Query {\n  me: User\n";

/// A supergraph file of its own for one test, removed when dropped.
struct SupergraphFile(PathBuf);

impl SupergraphFile {
    fn new(sdl: &str) -> SupergraphFile {
        let path = std::env::temp_dir().join(format!("supergraph-{}.graphql", uuid::Uuid::new_v4()));
        let file = SupergraphFile(path);
        file.write(sdl);
        file
    }

    /// Replaces the file in one step (write aside, rename), as deployments do, so a poll never
    /// reads half a file.
    fn write(&self, sdl: &str) {
        let aside = self.0.with_extension("new");
        std::fs::write(&aside, sdl).expect("write the supergraph");
        std::fs::rename(&aside, &self.0).expect("replace the supergraph");
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SupergraphFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The fixture subgraphs, and a gateway over `file` served on 127.0.0.1.
struct Served {
    stack: Stack,
    reloader: Arc<Reloader>,
    url: String,
    client: reqwest::Client,
}

impl Served {
    async fn start(file: &SupergraphFile) -> Served {
        let stack = Stack::start().await;
        // The gateway of the stack already points at the running fixture subgraphs.
        let options = Options {
            subgraph_urls: stack.gateway.subgraphs().into_iter().collect(),
            ..Options::default()
        };
        let reloader = Arc::new(
            Reloader::load(file.path(), options)
                .await
                .expect("the fixture supergraph loads"),
        );
        let app = server::router(reloader.gateway(), stack.key.clone(), HttpOptions::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Served {
            stack,
            reloader,
            url,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs a query: the HTTP status and the body.
    async fn query(&self, query: &str) -> (u16, Value) {
        query_over(&self.client, &self.url, query).await
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// Waits (up to 10 s) until `users` is or is not in the schema.
    async fn wait_for_users(&self, present: bool) {
        for _ in 0..500 {
            if self.query("{ users { id } }").await.0 == if present { 200 } else { 400 } {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "Query.users never became {}",
            if present { "present" } else { "absent" }
        );
    }
}

async fn query_over(client: &reqwest::Client, url: &str, query: &str) -> (u16, Value) {
    let response = client
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn should_swap_a_valid_supergraph_and_keep_the_last_good_one_without_failing_requests() {
    let file = SupergraphFile::new(SUPERGRAPH);
    let served = Served::start(&file).await;
    let (status, body) = served.query("{ users { id } }").await;
    assert_eq!(
        (status, body["data"]["users"][0]["id"].as_str()),
        (200, Some("u1")),
        "{body}"
    );

    // Requests keep coming, on their own connections, through both reloads.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn({
        let (client, url, stop) = (served.client.clone(), served.url.clone(), stop.clone());
        async move {
            let (mut sent, mut failed) = (0, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = query_over(&client, &url, "{ me { name } }").await;
                sent += 1;
                if status != 200 || body["data"]["me"]["name"] != "Ada Lovelace" {
                    failed.push((status, body));
                }
            }
            (sent, failed)
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;

    file.write(&without_users());
    served.reloader.reload().await.expect("a valid supergraph reloads");
    let (status, body) = served.query("{ users { id } }").await;
    assert_eq!((status, code(&body)), (400, "GRAPHQL_VALIDATION_FAILED"), "{body}");
    tokio::time::sleep(Duration::from_millis(50)).await;

    file.write(INVALID);
    let refused = served.reloader.reload().await;
    assert!(matches!(refused, Err(ReloadError::Build { .. })), "{refused:?}");
    let (status, body) = served.query("{ users { id } }").await;
    assert_eq!(
        (status, code(&body)),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "still the reloaded schema: {body}"
    );
    let (status, body) = served.query("{ me { username } }").await;
    assert_eq!((status, &body["data"]["me"]["username"]), (200, &json!("ada")));
    assert_eq!(served.get("/readyz").await.0, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;

    stop.store(true, Ordering::Relaxed);
    let (sent, failed) = traffic.await.expect("the traffic task");
    assert!(sent > 0, "requests were sent during the reloads");
    assert!(
        failed.is_empty(),
        "{} of {sent} requests failed: {failed:?}",
        failed.len()
    );

    let metrics = served.get("/metrics").await.1;
    for result in ["ok", "error"] {
        let series = format!(r#"gateway_supergraph_reloads_total{{result="{result}"}}"#);
        assert!(metrics.contains(&series), "{series} in /metrics");
    }
}

#[tokio::test]
async fn should_finish_requests_in_flight_on_the_gateway_they_started_with() {
    let file = SupergraphFile::new(SUPERGRAPH);
    let served = Served::start(&file).await;
    served.stack.slow_down("accounts", Duration::from_secs(1));
    let in_flight = tokio::spawn({
        let (client, url) = (served.client.clone(), served.url.clone());
        async move { query_over(&client, &url, "{ users { id } }").await }
    });
    // The schema changes once the request has been validated, planned and is waiting on the
    // accounts subgraph.
    let fetched = || {
        served
            .stack
            .seen
            .lock()
            .expect("lock")
            .iter()
            .any(|s| s.subgraph == "accounts")
    };
    for _ in 0..500 {
        if fetched() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(fetched(), "the request reached the accounts subgraph");
    file.write(&without_users());
    served.reloader.reload().await.expect("a valid supergraph reloads");
    let (status, body) = served.query("{ users { id } }").await;
    assert_eq!((status, code(&body)), (400, "GRAPHQL_VALIDATION_FAILED"), "{body}");
    let (status, body) = in_flight.await.expect("the request task");
    assert_eq!(
        (status, body["data"]["users"][1]["id"].as_str()),
        (200, Some("u2")),
        "{body}"
    );
}

#[tokio::test]
async fn should_pick_up_a_changed_file_by_polling_and_skip_a_broken_one() {
    let file = SupergraphFile::new(SUPERGRAPH);
    let served = Served::start(&file).await;
    let watcher = served.reloader.clone().watch(Duration::from_millis(20));

    file.write(&without_users());
    served.wait_for_users(false).await;
    file.write(INVALID);
    // Several polls see the broken file; the schema before it keeps serving.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = served.query("{ users { id } }").await;
    assert_eq!((status, code(&body)), (400, "GRAPHQL_VALIDATION_FAILED"), "{body}");
    assert_eq!(served.query("{ me { name } }").await.0, 200);
    // The watcher is still alive after the error and takes the next good file.
    file.write(SUPERGRAPH);
    served.wait_for_users(true).await;
    watcher.abort();
}

#[cfg(unix)]
#[tokio::test]
async fn should_reload_on_sighup() {
    let file = SupergraphFile::new(SUPERGRAPH);
    let served = Served::start(&file).await;
    let hangups = served.reloader.clone().reload_on_hangup().expect("a SIGHUP handler");
    file.write(&without_users());
    // Nothing polls: only the signal makes the gateway read the file again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(served.query("{ users { id } }").await.0, 200);
    let kill = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    served.wait_for_users(false).await;
    hangups.abort();
}
