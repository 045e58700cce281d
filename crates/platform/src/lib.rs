//! Shared plumbing of the PromptSales processes: where the stores are, how they are migrated, how a
//! process logs. Kept small on purpose: anything a single service needs lives in that service.

pub mod bulk;
pub mod claims;
pub mod config;
pub mod crypto;
pub mod currency;
pub mod dev_certs;
pub mod gql;
pub mod ids;
pub mod migrate;
pub mod mongo_schema;
pub mod mssql;
pub mod oauth;
pub mod redis;
pub mod redis_blocks;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tls;

pub use config::{Secret, StoreArgs, StoreUrl};
pub use store::{Backend, Store};
