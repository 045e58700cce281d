//! The platform's Redis client over TLS with a CA of our own (`ca_file` / `PROMPTSALES_REDIS_CA`),
//! against a private `redis-server` that speaks TLS only, with a certificate that CA signed: it
//! answers with that CA trusted, and a client trusting another CA (or the web roots alone) gets
//! no answer. Through Sentinels too: a TLS-only Sentinel (set up as `k8s/base/stores/redis.yaml`
//! sets up its own) names the master, and the client reaches both over TLS with that CA.

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
        TlsRedis::start_with(dir, cert, key, ca, &[])
    }

    fn start_with(dir: tempfile::TempDir, cert: &Path, key: &Path, ca: &Path, extra: &[&str]) -> TlsRedis {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(extra)
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
        wait_for(port);
        redis
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits for a listener on `port` (bounded): a start that fails is reported, not waited on forever.
fn wait_for(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("redis-server did not listen on {port} (is it built with TLS?)");
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server certificate (and key) of a fresh CA, that CA, and another CA, written to a folder.
struct Pki {
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
    wrong_ca: PathBuf,
}

fn pki() -> (tempfile::TempDir, Pki) {
    let pki = dev_certs::generate(&["redis"], &LOOPBACK_NAMES).expect("a CA and a server certificate");
    let other = dev_certs::generate(&["redis"], &LOOPBACK_NAMES).expect("another CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let files = Pki {
        cert: write("redis.crt", &pki.services[0].cert_pem),
        key: write("redis.key", &pki.services[0].key_pem),
        ca: write("ca.crt", &pki.ca_pem),
        wrong_ca: write("other-ca.crt", &other.ca_pem),
    };
    (dir, files)
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
    let (
        dir,
        Pki {
            cert,
            key,
            ca,
            wrong_ca,
        },
    ) = pki();
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

/// The deployment's shape in small: a TLS-only master that requires a password and a TLS-only
/// Sentinel (TLS 1.3, `tls-replication yes` so it speaks TLS to the master) that requires it too.
/// The client asks the Sentinel for the master over `rediss://` and writes and reads there, with
/// our CA alone trusted; with another CA it reaches neither.
#[tokio::test]
async fn should_follow_the_master_that_a_tls_sentinel_names() {
    let (
        _dir,
        Pki {
            cert,
            key,
            ca,
            wrong_ca,
        },
    ) = pki();
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let master = TlsRedis::start_with(
        tempfile::tempdir().expect("tempdir"),
        &cert,
        &key,
        &ca,
        &["--requirepass", &password, "--tls-protocols", "TLSv1.3"],
    );

    let sentinel_port = free_port();
    let sentinel_dir = tempfile::tempdir().expect("tempdir");
    let conf = sentinel_dir.path().join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port 0\nbind 127.0.0.1\ntls-port {sentinel_port}\ntls-cert-file {cert}\ntls-key-file {key}\n\
             tls-ca-cert-file {ca}\ntls-auth-clients no\ntls-replication yes\ntls-protocols TLSv1.3\n\
             requirepass {password}\nsentinel monitor promptsales 127.0.0.1 {port} 1\n\
             sentinel auth-pass promptsales {password}\n",
            cert = cert.display(),
            key = key.display(),
            ca = ca.display(),
            port = master.port,
        ),
    )
    .expect("write the Sentinel's config");
    let mut sentinel = Command::new("redis-server")
        .arg(&conf)
        .arg("--sentinel")
        .stdout(Stdio::null())
        .spawn()
        .expect("start redis-server as a Sentinel");
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _sentinel = Kill(&mut sentinel);
    wait_for(sentinel_port);

    let client = |ca_file: PathBuf| {
        Redis::new(&RedisOptions {
            url: Some(format!("rediss://:{password}@127.0.0.1/0")),
            // No password in the Sentinel's URL: the master's is used for it too, as in k8s.
            sentinels: vec![format!("rediss://127.0.0.1:{sentinel_port}")],
            sentinel_master: Some("promptsales".into()),
            prefix: format!("ps:test-{}:", uuid::Uuid::new_v4().simple()),
            timeout_ms: 3000,
            connect_timeout_ms: 3000,
            ca_file: Some(ca_file),
            ..RedisOptions::default()
        })
        .expect("a client")
    };
    let trusted = client(ca);
    let key_name = trusted
        .keys()
        .key(promptsales_platform::redis::KeySpace::Lock, &["sentinel"]);
    // The first command may find the master not asked yet (that happens in the background).
    let mut written = Err(Error::Open);
    for _ in 0..100 {
        written = trusted
            .query::<()>("set", redis::cmd("SET").arg(&key_name).arg("through the sentinel"))
            .await;
        if written.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    written.expect("the master the Sentinel names takes a write over TLS");
    let read: String = trusted
        .query("get", redis::cmd("GET").arg(&key_name))
        .await
        .expect("and gives it back");
    assert_eq!(read, "through the sentinel");

    let stranger = client(wrong_ca);
    for _ in 0..20 {
        let result: Result<String, Error> = stranger.query("ping", &redis::cmd("PING")).await;
        assert!(
            result.is_err(),
            "a client trusting another CA reached Redis: {result:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
