//! The whole PromptSales stack in one process: the four subgraphs, each over its own seeded
//! PostgreSQL database and served on a port of its own, and the gateway in front of them over the
//! checked-in `supergraph/supergraph.graphql`. End-to-end tests drive it through HTTP exactly as
//! the portal would, and can ask a subgraph directly for comparison, take it down or slow it.
//!
//! ```no_run
//! # async fn t() {
//! let stack = promptsales_e2e::TestStack::builder().start().await;
//! let body = stack.query("{ campaigns(first: 1) { edges { node { id name } } } }", serde_json::json!({})).await;
//! # }
//! ```
//!
//! Without the default `stack` feature only what the gateway benchmark's binaries need is built
//! (the large-answer fixture): `cargo build --release -p promptsales-e2e --no-default-features
//! --bins` compiles neither the four subgraphs nor the gateway.

#[cfg(feature = "stack")]
pub mod issuer;
pub mod large;
#[cfg(feature = "stack")]
pub mod otlp;
#[cfg(feature = "stack")]
mod stack;

#[cfg(feature = "stack")]
pub use issuer::Issuer;
#[cfg(feature = "stack")]
pub use stack::*;
