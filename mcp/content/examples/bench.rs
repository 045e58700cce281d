//! Speed of the two tools over the whole stack in one process (seeded stores, the content
//! subgraph with the real model, the gateway checking real tokens), through an in-process MCP
//! client: prints `getContent` latency percentiles and the brief's time with the offline
//! composer. A benchmark, not a test: it asserts nothing about time.
//!
//!     scripts/bench-content.sh            (builds in release and runs this)

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use promptsales_e2e::TestStack;
use promptsales_mcp_content::{ContentServer, MODEL, Shared, generate::LlmCache};
use promptsales_mcp_kit::{
    AnswerCache, GatewayClient, Kit,
    rmcp::{ServiceExt, model::CallToolRequestParams},
};
use promptsales_platform::Secret;
use serde_json::{Value, json};
use uuid::Uuid;

const DESCRIPTIONS: &[&str] = &[
    "a cup of hot coffee with steam",
    "running shoes for a marathon",
    "a smartphone with app icons",
    "sunglasses for the summer",
    "a bicycle seen from the side",
    "snowy mountain peaks",
    "a sunny beach with an umbrella",
    "city skyline at night",
    "a gift box with a ribbon",
    "a shopping bag for a fashion sale",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stack = TestStack::builder().with_auth().start().await;
    let (campaign, org): (Uuid, Uuid) =
        sqlx::query_as("SELECT id, organization_id FROM ads.campaigns WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
            .fetch_one(stack.stores.ads.pool())
            .await?;
    let scopes = ["content:read", "content:write", "sales:write"];
    let token = stack.token(&Uuid::new_v4().to_string(), &scopes, Some(&org.to_string()));
    let kit = Kit {
        gateway: GatewayClient::new(stack.gateway_url().parse()?, Duration::from_secs(60))?,
        cache: AnswerCache::off(),
        stdio_token: Some(Secret::new(token)),
        model: MODEL,
    };
    let shared = Arc::new(Shared {
        kit,
        llm: None,
        llm_cache: LlmCache::new(None),
    });
    let (server_end, client_end) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = ContentServer::new(shared).serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_end).await?;
    let call = |tool: &'static str, args: Value| {
        let Value::Object(args) = args else {
            unreachable!("objects only")
        };
        client.call_tool(CallToolRequestParams::new(tool).with_arguments(args))
    };

    // Warm-up: the model loads and the index is built on the first search.
    let started = Instant::now();
    let first = call("getContent", json!({ "description": "warm up" })).await?;
    assert_ne!(first.is_error, Some(true), "{:?}", first.content);
    println!("first getContent (model load + index build): {:?}", started.elapsed());

    let rounds = 20;
    let mut times = Vec::new();
    for round in 0..rounds {
        for d in DESCRIPTIONS {
            // A new text each round: no cache anywhere, every query is embedded.
            let text = format!("{d} ({round})");
            let t = Instant::now();
            let r = call("getContent", json!({ "description": text, "limit": 5 })).await?;
            times.push(t.elapsed());
            assert_ne!(r.is_error, Some(true), "{:?}", r.content);
        }
    }
    times.sort();
    println!(
        "getContent ({} calls, 5 images each, no caches): p50 {:?}  p95 {:?}  max {:?}",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        times[times.len() - 1]
    );

    let mut briefs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = call(
            "draftCampaignMessages",
            json!({
                "campaignId": campaign,
                "campaignDescription": "Launch of Café Aurora cold brew: 2x1 on the first can during June.",
                "populations": [
                    { "name": "Students", "ageMin": 18, "ageMax": 24, "locales": ["es-MX"], "interests": ["gaming"], "countryCodes": ["MX"] },
                    { "name": "Parents", "ageMin": 30, "ageMax": 45, "locales": ["en-US"], "interests": ["home cooking"], "countryCodes": ["US"] },
                    { "name": "Retirees", "ageMin": 60, "ageMax": 80, "locales": ["es-MX"], "interests": ["jardinería"], "countryCodes": ["MX"] }
                ]
            }),
        )
        .await?;
        briefs.push(t.elapsed());
        assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    }
    briefs.sort();
    println!(
        "draftCampaignMessages (3 populations, offline composer, {} runs): median {:?}  max {:?}",
        briefs.len(),
        percentile(&briefs, 0.5),
        briefs[briefs.len() - 1]
    );
    Ok(())
}
