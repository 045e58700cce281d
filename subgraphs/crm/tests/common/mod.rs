//! Test support shared by the crm test binaries: a fixture with known answers, its loaders for
//! PostgreSQL and SQL Server, and a call-counting store decorator.
#![allow(dead_code)] // each test binary uses a different part

pub mod counting;
pub mod fixture;
pub mod load;
