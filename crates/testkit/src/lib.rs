//! Test support shared by every crate's tests.
//!
//! Each test gets its own database on the real PostgreSQL (random name) and drops it when done.
//! Migrated databases are cloned from a template database (`CREATE DATABASE … TEMPLATE`), built
//! once per set of migrations and reused across test processes, so a test pays milliseconds
//! instead of re-running the DDL.

mod pg;
mod private;
pub mod remote;
pub mod schema;
pub mod seeded;

pub use pg::{TestDb, server_url};
pub use private::PrivatePg;
pub use seeded::SeededStores;
