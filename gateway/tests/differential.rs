//! Our gateway against Hive Router 0.0.43 over the same subgraphs: operations generated from the
//! schema (every root field, then random field paths with arguments, variables, aliases,
//! fragments on abstract types and `@include`/`@skip`) go to both, and the answers must agree
//! (see harness/mod.rs for what "agree" means; docs/federation.md lists where they may not and
//! why ours is right).
//!
//! The tests are ignored by default, like the conformance tests of optional stores: `make test`
//! runs them (`--run-ignored only`) where Hive Router is installed and reports them skipped where
//! it is not. The number of generated operations per supergraph is `DIFFERENTIAL_OPERATIONS`
//! (default 40, for `make test`; `make differential` runs thousands), the seed `DIFFERENTIAL_SEED`.

mod fixtures;
mod harness;
mod library;

use std::collections::BTreeMap;

use harness::{Generator, Hive, Operation, Rng, compare};
use serde_json::{Value, json};

/// Sends every operation to both gateways; returns the disagreements, described.
async fn run<F, Fut>(
    label: &str,
    schema: &Value,
    pool: BTreeMap<String, Vec<Value>>,
    ours: F,
    hive: &Hive,
    headers: &[(&str, String)],
) -> Vec<String>
where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let generator = Generator::new(schema, pool);
    let mut rng = Rng::new(harness::seed());
    let mut operations: Vec<Operation> = generator
        .root_fields()
        .iter()
        .map(|root| generator.operation(&mut rng, Some(root)))
        .collect();
    while operations.len() < harness::operations_per_graph() {
        operations.push(generator.operation(&mut rng, None));
    }
    let mut differences = Vec::new();
    let mut with_data = 0;
    for op in &operations {
        let body = op.body();
        let a = ours(body.clone()).await;
        let b = hive.post(&body, headers).await;
        if a.get("data").is_some_and(|d| !d.is_null()) {
            with_data += 1;
        }
        if !compare(&a, &b) {
            differences.push(format!(
                "{label}: {}\n  variables: {}\n  ours:  {a}\n  hive:  {b}",
                op.query, op.variables
            ));
        }
    }
    println!(
        "differential {label}: {} operations, {with_data} with data, {} differences",
        operations.len(),
        differences.len()
    );
    // Generated operations that no gateway answers with data would prove nothing.
    assert!(
        with_data * 2 >= operations.len(),
        "{label}: most generated operations failed"
    );
    differences
}

fn hive_binary() -> std::path::PathBuf {
    harness::hive_binary().expect(
        "Hive Router is not installed: set HIVE_ROUTER_BIN or run \
         `cargo install hive-router --version 0.0.43 --locked --root .tools/hive-router`",
    )
}

fn ids(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| Value::from(*v)).collect()
}

#[tokio::test]
#[ignore = "needs Hive Router 0.0.43 (scripts/test.sh runs it where installed; make differential)"]
async fn should_answer_like_hive_router_over_the_library() {
    let binary = hive_binary();
    let lib = library::Library::start().await;
    let schema = lib.query(harness::SCHEMA_QUERY).await["data"].clone();
    let urls = lib.urls.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let hive = Hive::start(&binary, library::SUPERGRAPH, &urls, &[]).await;
    let pool = BTreeMap::from([
        ("ID".to_owned(), ids(&["b1", "b2", "b3", "b4", "m1", "nope"])),
        ("Int".to_owned(), vec![json!(0), json!(1), json!(3)]),
        ("Boolean".to_owned(), vec![json!(true), json!(false)]),
        ("String".to_owned(), ids(&["frank", "x"])),
    ]);
    let differences = run(
        "library",
        &schema,
        pool,
        |body| {
            let lib = &lib;
            async move {
                let (_, answer) = lib
                    .post(body["query"].as_str().unwrap_or_default(), body["variables"].clone())
                    .await;
                answer
            }
        },
        &hive,
        &[],
    )
    .await;
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}

#[tokio::test]
#[ignore = "needs Hive Router 0.0.43 (scripts/test.sh runs it where installed; make differential)"]
async fn should_answer_like_hive_router_over_the_shop() {
    let binary = hive_binary();
    // Every scope the shop's supergraph names, for both gateways' callers (Hive Router is run
    // with its own scope checks off; ours checks them).
    let scopes: Vec<String> = ["products:cost", "inventory:stock", "accounts:email"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let stack = fixtures::Stack::start().await;
    let urls: BTreeMap<String, String> = stack.gateway.subgraphs().into_iter().collect();
    let hive = Hive::start(&binary, fixtures::SUPERGRAPH, &urls, &["x-promptsales-claims"]).await;
    let claims = promptsales_platform::claims::Claims::staff(
        "differential",
        &["products:cost", "inventory:stock", "accounts:email"],
    );
    let header = stack.key.sign(&claims);
    let ctx = promptsales_gateway::fetch::FetchContext {
        claims: header.clone(),
        ..Default::default()
    };
    let schema = stack.query(harness::SCHEMA_QUERY).await["data"].clone();
    let pool = BTreeMap::from([
        ("ID".to_owned(), ids(&["u1", "u2", "r1", "nope"])),
        ("Int".to_owned(), vec![json!(0), json!(1), json!(2)]),
        ("Boolean".to_owned(), vec![json!(true), json!(false)]),
        ("String".to_owned(), ids(&["1", "2", "3", "x"])),
    ]);
    let gateway = stack.gateway.clone();
    let differences = run(
        "shop",
        &schema,
        pool,
        |body| {
            let (gateway, ctx, scopes) = (gateway.clone(), &ctx, &scopes);
            async move {
                let request: promptsales_gateway::Request = serde_json::from_value(body).expect("request");
                let outcome = gateway.execute(request, true, ctx, scopes).await;
                serde_json::from_slice(&outcome.response.to_bytes()).expect("a JSON response")
            }
        },
        &hive,
        &[(promptsales_platform::claims::HEADER, header)],
    )
    .await;
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}
