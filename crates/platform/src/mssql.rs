//! SQL Server connections (tiberius over tokio), from a store URL:
//! `mssql://user:password@host:port/database?encrypt=true&trust_server_certificate=false`.
//!
//! `encrypt` is `true` (default: TLS required and the certificate verified), `false` (TLS for the
//! login only) or `off`; `trust_server_certificate=true` skips verification, for development
//! servers with a self-signed certificate only.

use tiberius::{AuthMethod, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::config::StoreUrl;

/// A SQL Server connection.
pub type Client = tiberius::Client<Compat<TcpStream>>;

/// Why a SQL Server connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unknown SQL Server URL option `{0}` (known: encrypt, trust_server_certificate)")]
    Option(String),
    #[error("cannot reach SQL Server: {0}")]
    Io(#[from] std::io::Error),
    #[error("SQL Server refused the login: {0}")]
    Login(#[from] tiberius::error::Error),
}

/// The driver configuration for `url`, connecting to `database`.
pub fn config(url: &StoreUrl, database: &str, application: &str) -> Result<Config, ConnectError> {
    let u = url.expose();
    let mut config = Config::new();
    config.host(u.host_str().unwrap_or("127.0.0.1"));
    config.port(u.port().unwrap_or(1433));
    config.database(database);
    config.authentication(AuthMethod::sql_server(
        percent_decode(u.username()),
        percent_decode(u.password().unwrap_or_default()),
    ));
    config.application_name(application);
    for (key, value) in u.query_pairs() {
        match (key.as_ref(), value.as_ref()) {
            ("encrypt", "true" | "required") => config.encryption(EncryptionLevel::Required),
            ("encrypt", "false") => config.encryption(EncryptionLevel::Off),
            ("encrypt", "off") => config.encryption(EncryptionLevel::NotSupported),
            ("trust_server_certificate", "true") => config.trust_cert(),
            ("trust_server_certificate", "false") => {}
            (key, value) => return Err(ConnectError::Option(format!("{key}={value}"))),
        }
    }
    Ok(config)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Opens a connection to `database` on the server `url` names.
pub async fn connect(url: &StoreUrl, database: &str, application: &str) -> Result<Client, ConnectError> {
    let config = config(url, database, application)?;
    let tcp = TcpStream::connect(config.get_addr()).await?;
    tcp.set_nodelay(true)?;
    Ok(tiberius::Client::connect(config, tcp.compat_write()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_refuse_unknown_url_options_with_their_name() {
        let url = StoreUrl::parse("mssql://sa:pw@db/promptads?encrypt=true&colour=blue").expect("valid");
        let err = config(&url, "promptads", "test").expect_err("refused");
        assert_eq!(
            err.to_string(),
            "unknown SQL Server URL option `colour=blue` (known: encrypt, trust_server_certificate)"
        );
    }

    #[test]
    fn should_decode_percent_encoded_credentials() {
        assert_eq!(percent_decode("p%40ss%3Aw0rd"), "p@ss:w0rd");
    }
}
