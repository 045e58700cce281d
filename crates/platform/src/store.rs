//! The four stores of the company and the database engines that can hold them.

use std::fmt;

/// One of the four stores (one per company), each in its own database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Store {
    /// PromptContent: images, hashtags, content requests (MongoDB in production).
    Content,
    /// PromptAds: campaigns, ads and their results (SQL Server in production).
    Ads,
    /// PromptCrm: customers, leads, interactions and sales (SQL Server in production).
    Crm,
    /// PromptSales: the central hub (PostgreSQL).
    Sales,
}

impl Store {
    pub const ALL: [Store; 4] = [Store::Content, Store::Ads, Store::Crm, Store::Sales];

    /// Short lowercase name, also the PostgreSQL schema of the store.
    pub fn name(self) -> &'static str {
        match self {
            Store::Content => "content",
            Store::Ads => "ads",
            Store::Crm => "crm",
            Store::Sales => "sales",
        }
    }

    /// Name of the local PostgreSQL database that holds this store by default.
    pub fn default_database(self) -> &'static str {
        match self {
            Store::Content => "promptcontent",
            Store::Ads => "promptads",
            Store::Crm => "promptcrm",
            Store::Sales => "promptsales",
        }
    }

    /// Engines this store has an adapter (and DDL) for: PostgreSQL always, plus its prescribed one.
    pub fn backends(self) -> &'static [Backend] {
        match self {
            Store::Content => &[Backend::Postgres, Backend::Mongo],
            Store::Ads | Store::Crm => &[Backend::Postgres, Backend::Mssql],
            Store::Sales => &[Backend::Postgres],
        }
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A database engine, chosen by the scheme of a store URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Postgres,
    Mssql,
    Mongo,
}

impl Backend {
    /// The engine a URL scheme names, if any.
    pub fn from_scheme(scheme: &str) -> Option<Backend> {
        match scheme {
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mssql" | "sqlserver" => Some(Backend::Mssql),
            "mongodb" | "mongodb+srv" => Some(Backend::Mongo),
            _ => None,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Mssql => "SQL Server",
            Backend::Mongo => "MongoDB",
        })
    }
}
