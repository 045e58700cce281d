//! The prescribed stores, when a server is named: `PROMPTSALES_MSSQL_URL` (SQL Server) and
//! `PROMPTSALES_MONGO_URL` (MongoDB). Tests that need one are `#[ignore]`d so a run without the
//! server reports them as skipped; `make test` runs them when the variable is set.

use promptsales_platform::StoreUrl;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncWriteCompatExt;

fn from_env(var: &str) -> StoreUrl {
    let raw = std::env::var(var).unwrap_or_else(|_| panic!("{var} must name a server for this test"));
    StoreUrl::parse(&raw).unwrap_or_else(|e| panic!("{var}: {e}"))
}

/// The SQL Server of `PROMPTSALES_MSSQL_URL`, with a fresh random database name in the path.
pub fn mssql_database() -> StoreUrl {
    from_env("PROMPTSALES_MSSQL_URL").with_database(&random_name())
}

/// The MongoDB of `PROMPTSALES_MONGO_URL`, with a fresh random database name in the path.
pub fn mongo_database() -> StoreUrl {
    from_env("PROMPTSALES_MONGO_URL").with_database(&random_name())
}

fn random_name() -> String {
    format!("ps_test_{:016x}", rand::random::<u64>())
}

/// Drops the SQL Server database `url` names.
pub async fn drop_mssql(url: &StoreUrl) {
    let u = url.expose();
    let mut config = Config::new();
    config.host(u.host_str().unwrap_or("127.0.0.1"));
    config.port(u.port().unwrap_or(1433));
    config.authentication(AuthMethod::sql_server(u.username(), u.password().unwrap_or_default()));
    if u.query_pairs()
        .any(|(k, v)| k == "trust_server_certificate" && v == "true")
    {
        config.trust_cert();
    }
    if u.query_pairs().any(|(k, v)| k == "encrypt" && v == "false") {
        config.encryption(EncryptionLevel::Off);
    }
    let tcp = TcpStream::connect(config.get_addr()).await.expect("reach SQL Server");
    let mut client = Client::connect(config, tcp.compat_write())
        .await
        .expect("log in to SQL Server");
    let name = url.database().expect("a database");
    client
        .execute(
            "IF DB_ID(@P1) IS NOT NULL BEGIN \
               EXEC(N'ALTER DATABASE ' + QUOTENAME(@P1) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE'); \
               EXEC(N'DROP DATABASE ' + QUOTENAME(@P1)); END",
            &[&name],
        )
        .await
        .expect("drop SQL Server test database");
}

/// Drops the MongoDB database `url` names.
pub async fn drop_mongo(url: &StoreUrl) {
    let client = mongodb::Client::with_uri_str(url.expose().as_str())
        .await
        .expect("reach MongoDB");
    client
        .database(url.database().expect("a database"))
        .drop()
        .await
        .expect("drop MongoDB test database");
}
