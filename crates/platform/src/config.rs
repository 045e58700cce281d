//! Where the stores are. Every process takes the same `PROMPTSALES_*_URL` settings; with none set
//! they name the four local PostgreSQL databases and the local Redis, so one machine runs all.

use std::{fmt, str::FromStr};

use url::Url;

use crate::store::{Backend, Store};

/// A value that must never be printed: `Debug` and `Display` show a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret itself; call sites that reveal it are easy to find by this name.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A store URL whose scheme names a supported engine. It may hold a password, so it prints with
/// the password masked; [`StoreUrl::expose`] gives the full URL to the driver.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl {
    url: Url,
    backend: Backend,
}

/// Why a store URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL: {0}")]
    Parse(#[from] url::ParseError),
    #[error("unsupported scheme `{0}`: use postgres://, mssql:// (or sqlserver://) or mongodb://")]
    Scheme(String),
    #[error("the {store} store has no {backend} adapter (it supports {supported})")]
    Unsupported {
        store: Store,
        backend: Backend,
        supported: String,
    },
    #[error("the URL names no database (add it as the path, e.g. `/{0}`)")]
    NoDatabase(&'static str),
}

impl StoreUrl {
    pub fn parse(s: &str) -> Result<Self, UrlError> {
        let url = Url::parse(s)?;
        let backend = Backend::from_scheme(url.scheme()).ok_or_else(|| UrlError::Scheme(url.scheme().to_owned()))?;
        Ok(StoreUrl { url, backend })
    }

    /// The default URL of a store: its local PostgreSQL database.
    pub fn local_default(store: Store) -> Self {
        let raw = format!("postgres://promptsales@127.0.0.1:5432/{}", store.default_database());
        StoreUrl::parse(&raw).expect("the built-in default URL is well formed")
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database named by the URL's path (`/promptads` → `promptads`).
    pub fn database(&self) -> Option<&str> {
        let path = self.url.path().trim_start_matches('/');
        (!path.is_empty()).then_some(path)
    }

    /// Checks that this URL can hold `store`, and names a database.
    pub fn check_for(&self, store: Store) -> Result<(), UrlError> {
        if !store.backends().contains(&self.backend) {
            let supported = store
                .backends()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(UrlError::Unsupported {
                store,
                backend: self.backend,
                supported,
            });
        }
        if self.database().is_none() {
            return Err(UrlError::NoDatabase(store.default_database()));
        }
        Ok(())
    }

    /// The same server with another database (used to reach a maintenance database, or a test one).
    pub fn with_database(&self, database: &str) -> Self {
        let mut url = self.url.clone();
        url.set_path(&format!("/{database}"));
        StoreUrl {
            url,
            backend: self.backend,
        }
    }

    /// The full URL, password included, for the driver only.
    pub fn expose(&self) -> &Url {
        &self.url
    }
}

impl FromStr for StoreUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreUrl::parse(s)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            shown
                .set_password(Some("***"))
                .expect("a URL with a password can carry a masked one");
        }
        // Query parameters may carry credentials too (e.g. a SQL Server `password=`); keep only keys.
        if shown.query().is_some() {
            let keys: Vec<String> = self.url.query_pairs().map(|(k, _)| format!("{k}=***")).collect();
            shown.set_query(Some(&keys.join("&")));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// The store URLs every process reads (command-line flag or environment variable).
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// PromptContent store: postgres:// (jsonb twin) or mongodb://.
    #[arg(long = "content-url", env = "PROMPTSALES_CONTENT_URL", value_name = "URL")]
    pub content: Option<StoreUrl>,
    /// PromptAds store: postgres:// or mssql://.
    #[arg(long = "ads-url", env = "PROMPTSALES_ADS_URL", value_name = "URL")]
    pub ads: Option<StoreUrl>,
    /// PromptCrm store: postgres:// or mssql://.
    #[arg(long = "crm-url", env = "PROMPTSALES_CRM_URL", value_name = "URL")]
    pub crm: Option<StoreUrl>,
    /// PromptSales central store: postgres://.
    #[arg(long = "sales-url", env = "PROMPTSALES_SALES_URL", value_name = "URL")]
    pub sales: Option<StoreUrl>,
}

impl StoreArgs {
    /// The URL of `store`: the one given, or the local default.
    pub fn url(&self, store: Store) -> StoreUrl {
        let given = match store {
            Store::Content => &self.content,
            Store::Ads => &self.ads,
            Store::Crm => &self.crm,
            Store::Sales => &self.sales,
        };
        given.clone().unwrap_or_else(|| StoreUrl::local_default(store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_mask_passwords_and_query_values_when_printed() {
        let url = StoreUrl::parse("mssql://sa:S3cret!@db:1433/promptads?encrypt=true&password=x").expect("valid");
        let shown = url.to_string();
        assert!(!shown.contains("S3cret"), "{shown}");
        assert!(!shown.contains("password=x"), "{shown}");
        assert_eq!(shown, "mssql://sa:***@db:1433/promptads?encrypt=***&password=***");
        assert_eq!(format!("{:?}", Secret::new("k")), "Secret(***)");
    }

    #[test]
    fn should_pick_the_backend_from_the_scheme() {
        assert_eq!(
            StoreUrl::parse("postgresql://h/x").expect("valid").backend(),
            Backend::Postgres
        );
        assert_eq!(
            StoreUrl::parse("sqlserver://h/x").expect("valid").backend(),
            Backend::Mssql
        );
        assert_eq!(
            StoreUrl::parse("mongodb://h/x").expect("valid").backend(),
            Backend::Mongo
        );
        let err = StoreUrl::parse("mysql://h/x").expect_err("refused");
        assert_eq!(
            err.to_string(),
            "unsupported scheme `mysql`: use postgres://, mssql:// (or sqlserver://) or mongodb://"
        );
    }

    #[test]
    fn should_refuse_a_store_on_an_engine_it_has_no_adapter_for() {
        let url = StoreUrl::parse("mongodb://h/promptsales").expect("valid");
        let err = url.check_for(Store::Sales).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "the sales store has no MongoDB adapter (it supports PostgreSQL)"
        );
        let no_db = StoreUrl::parse("postgres://h").expect("valid");
        assert_eq!(
            no_db.check_for(Store::Ads).expect_err("refused").to_string(),
            "the URL names no database (add it as the path, e.g. `/promptads`)"
        );
    }

    #[test]
    fn should_default_to_the_local_databases() {
        let args = StoreArgs {
            content: None,
            ads: None,
            crm: None,
            sales: None,
        };
        assert_eq!(
            args.url(Store::Crm).to_string(),
            "postgres://promptsales@127.0.0.1:5432/promptcrm"
        );
    }
}
