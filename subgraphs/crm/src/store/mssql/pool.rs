//! A bb8 connection manager over `platform::mssql::connect` (the `bb8-tiberius` crate targets
//! tiberius 0.12; this workspace uses 0.13, and the manager is a few lines).

use promptsales_platform::{StoreUrl, mssql};

use crate::store::StoreError;

pub struct Manager {
    url: StoreUrl,
    database: String,
}

impl Manager {
    pub fn new(url: &StoreUrl) -> Result<Manager, StoreError> {
        let database = url
            .database()
            .ok_or_else(|| StoreError::Config("the SQL Server URL names no database".into()))?
            .to_owned();
        Ok(Manager {
            url: url.clone(),
            database,
        })
    }
}

impl bb8::ManageConnection for Manager {
    type Connection = mssql::Client;
    type Error = StoreError;

    async fn connect(&self) -> Result<mssql::Client, StoreError> {
        mssql::connect(&self.url, &self.database, "promptsales-crm")
            .await
            .map_err(|e| StoreError::Pool(e.to_string()))
    }

    async fn is_valid(&self, conn: &mut mssql::Client) -> Result<(), StoreError> {
        conn.simple_query("SELECT 1").await?.into_row().await?;
        Ok(())
    }

    fn has_broken(&self, _conn: &mut mssql::Client) -> bool {
        // tiberius exposes no cheap liveness flag; `is_valid` runs on checkout instead.
        false
    }
}
