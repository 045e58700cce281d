//! `promptsales-bench-subgraphs`: the large-answer fixture subgraphs of `make bench-gateway`
//! (`promptsales_e2e::large`), each on a port of its own.
//!
//! `--port-base N` serves products on N, reviews on N+1 and people on N+2. `--compose-input`
//! prints the input of `supergraph/compose.mjs` instead (the three SDLs), to regenerate the
//! supergraph (`| node supergraph/compose.mjs`, as `make bench-gateway` does).

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use promptsales_e2e::large;

#[derive(Debug, Parser)]
#[command(name = "promptsales-bench-subgraphs", about = "The large-answer fixture subgraphs")]
struct Args {
    /// The first port: products, then reviews, then people.
    #[arg(long, default_value_t = 4301)]
    port_base: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Print the composer's input (`{"subgraphs": [{name, url, sdl}]}`) and exit.
    #[arg(long)]
    compose_input: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.compose_input {
        let subgraphs: Vec<serde_json::Value> = large::NAMES
            .iter()
            .zip(0u16..)
            .map(|(name, i)| {
                serde_json::json!({
                    "name": name,
                    "url": format!("http://127.0.0.1:{}/graphql", args.port_base + i),
                    "sdl": large::sdl(name).expect("a fixture subgraph"),
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "subgraphs": subgraphs }));
        return Ok(());
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?
        .block_on(async {
            let mut tasks = Vec::new();
            for (name, i) in large::NAMES.iter().zip(0u16..) {
                let address = SocketAddr::new(args.host, args.port_base + i);
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("binding {address}"))?;
                let app = large::app(name).expect("a fixture subgraph");
                eprintln!("bench subgraph {name}: http://{address}/graphql");
                tasks.push(tokio::spawn(async move { axum::serve(listener, app).await }));
            }
            for task in tasks {
                task.await.context("a subgraph task")?.context("serving")?;
            }
            Ok(())
        })
}
