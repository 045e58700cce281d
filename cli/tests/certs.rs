//! `promptsales certs` through the binary, and `promptsales auth` / `promptsales token` over
//! TLS with the certificates it writes.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use promptsales_platform::Store;
use promptsales_testkit::TestDb;

const KEKS: &str = "test-kek:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const BLIND: &str = "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=";

fn certs(out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_promptsales"))
        .arg("certs")
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run promptsales certs")
}

#[test]
fn should_write_a_ca_and_a_certificate_per_service_with_private_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tls");
    let first = certs(&out, &[]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    for service in [
        "gateway",
        "content",
        "ads",
        "crm",
        "sales",
        "auth",
        "mcp-content",
        "mcp-sales",
        "worker",
    ] {
        let files = promptsales_platform::tls::TlsFiles {
            cert: out.join(format!("{service}.pem")),
            key: out.join(format!("{service}-key.pem")),
        };
        files.load().unwrap_or_else(|e| panic!("{service}: {e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.key).expect("key").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{service}'s key");
        }
    }
    assert!(out.join("ca.pem").exists());
    // The CA's key is not kept anywhere.
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 19, "{names:?}");

    let again = certs(&out, &[]);
    assert!(!again.status.success(), "a second run keeps the set");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let ca = std::fs::read_to_string(out.join("ca.pem")).expect("ca");
    let forced = certs(&out, &["--force"]);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    assert_ne!(std::fs::read_to_string(out.join("ca.pem")).expect("ca"), ca, "a new CA");
}

#[tokio::test]
async fn should_serve_the_authorization_server_over_https_and_get_a_token_from_it() {
    let db = TestDb::migrated(Store::Sales).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let tls = dir.path().join("tls");
    assert!(certs(&tls, &[]).status.success());
    let command = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsales"));
        cmd.args(args);
        for store in Store::ALL {
            cmd.env_remove(format!("PROMPTSALES_{}_URL", store.name().to_uppercase()));
        }
        cmd.env("PROMPTSALES_SALES_URL", db.url().expose().as_str())
            .env("PROMPTSALES_KEKS", KEKS)
            .env("PROMPTSALES_BLIND_INDEX_KEY", BLIND)
            .env("PROMPTSALES_TLS_CERT", tls.join("auth.pem"))
            .env("PROMPTSALES_TLS_KEY", tls.join("auth-key.pem"))
            .env("PROMPTSALES_TLS_CA", tls.join("ca.pem"))
            .env_remove("PROMPTSALES_AUTH_URL")
            .env_remove("PROMPTSALES_CLIENT_ID")
            .env_remove("PROMPTSALES_CLIENT_SECRET");
        cmd
    };
    let mut child = command(&["auth", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start promptsales auth");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the address");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("an address")
        .to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let ca = reqwest::Certificate::from_pem(&std::fs::read(tls.join("ca.pem")).expect("ca")).expect("pem");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let discovery: serde_json::Value = client
        .get(format!("{url}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery over https")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["issuer"], url.as_str(), "the issuer is the https address");
    assert_eq!(discovery["jwks_uri"], format!("{url}/jwks.json"));

    // `promptsales token` trusts the CA of PROMPTSALES_TLS_CA.
    let out = command(&["token", "--scopes", "ads:read", "--auth-url", &url, "--dev-dir"])
        .arg(dir.path().join("dev"))
        .output()
        .expect("run promptsales token");
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8_lossy(&out.stdout);
    assert_eq!(token.trim().split('.').count(), 3, "a JWT: {token}");
}
