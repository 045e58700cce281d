//! The PromptSales gateway: plans each operation over the composed supergraph with the Federation
//! v2 query planner, executes the plan against the subgraphs and shapes the response.

pub mod apq;
pub mod audit;
pub mod auth;
mod browser;
pub mod cache;
mod check;
mod coerce;
pub mod config;
mod execute;
pub mod fetch;
pub mod gateway;
mod graphiql;
mod images;
mod introspection;
mod json;
mod keys;
pub mod limits;
pub mod ownership;
pub mod ratelimit;
pub mod reload;
mod requires;
pub mod response;
mod schema;
mod scopes;
pub mod server;
mod shape;
pub mod value;

pub use gateway::{Gateway, Options, Outcome, Request};
