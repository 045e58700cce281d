//! The platform's Redis client over TLS with a CA of our own (`ca_file` / `PROMPTSALES_REDIS_CA`),
//! against a private `redis-server` that speaks TLS only, with a certificate that CA signed: it
//! answers with that CA trusted, and a client trusting another CA (or the web roots alone) gets
//! no answer.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use promptsales_platform::{
    dev_certs::{self, LOOPBACK_NAMES},
    redis::{Error, Redis, RedisOptions},
};

/// A `redis-server` on a free local port with TLS only (its plain port off); killed on drop.
struct TlsRedis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl TlsRedis {
    /// `ca` is only there because redis-server wants one with TLS on; clients send no certificate.
    fn start(dir: tempfile::TempDir, cert: &Path, key: &Path, ca: &Path) -> TlsRedis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(cert)
            .arg("--tls-key-file")
            .arg(key)
            .arg("--tls-ca-cert-file")
            .arg(ca)
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server (the dev machine installs it)");
        let redis = TlsRedis { child, port, _dir: dir };
        // Waits for the listener (bounded): a start that fails is reported, not waited on forever.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not listen on {port} (is it built with TLS?)");
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(port: u16, ca_file: Option<PathBuf>) -> Redis {
    Redis::new(&RedisOptions {
        url: Some(format!("rediss://127.0.0.1:{port}")),
        prefix: format!("ps:test-{}:", uuid::Uuid::new_v4().simple()),
        timeout_ms: 3000,
        connect_timeout_ms: 3000,
        ca_file,
        ..RedisOptions::default()
    })
    .expect("a client")
}

#[tokio::test]
async fn should_speak_tls_to_redis_trusting_the_configured_ca_alone() {
    let pki = dev_certs::generate(&["redis"], &LOOPBACK_NAMES).expect("a CA and a server certificate");
    let other = dev_certs::generate(&["redis"], &LOOPBACK_NAMES).expect("another CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let (cert, key) = (
        write("redis.crt", &pki.services[0].cert_pem),
        write("redis.key", &pki.services[0].key_pem),
    );
    let (ca, wrong_ca) = (write("ca.crt", &pki.ca_pem), write("other-ca.crt", &other.ca_pem));
    let server = TlsRedis::start(dir, &cert, &key, &ca);

    let trusted = client(server.port, Some(ca));
    let pong: String = trusted
        .query("ping", &redis::cmd("PING"))
        .await
        .expect("Redis answers over TLS, its certificate verified against the configured CA");
    assert_eq!(pong, "PONG");

    for (what, ca_file) in [("another CA", Some(wrong_ca)), ("the web roots", None)] {
        let refused = client(server.port, ca_file);
        let result: Result<String, Error> = refused.query("ping", &redis::cmd("PING")).await;
        let error = result.expect_err(what);
        assert!(matches!(error, Error::Redis(_)), "trusting {what}: {error}");
        assert!(error.to_string().contains("certificate"), "trusting {what}: {error}");
    }
}

#[test]
fn should_refuse_a_ca_file_without_certificates_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let options = RedisOptions {
        url: Some("rediss://127.0.0.1:6380".into()),
        ca_file: Some(empty),
        ..RedisOptions::default()
    };
    let error = options.validate().expect_err("an unusable CA file is refused");
    assert!(error.to_string().contains("empty.pem"), "names the file: {error}");
}
