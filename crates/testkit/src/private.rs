//! A PostgreSQL server private to one test, for what the shared server must not be changed for:
//! `shared_preload_libraries` (pg_stat_statements, auto_explain), a superuser for untrusted
//! extensions (dblink, postgres_fdw), server-wide settings, statistics and clients on other
//! addresses. `initdb` into a temporary directory, started on a free local port with trust
//! authentication for its superuser `postgres`, stopped (immediate) and removed on drop.
//!
//! The binaries come from `PROMPTSALES_PG_BINDIR`, else `pg_config --bindir`, else the newest
//! `/usr/lib/postgresql/*/bin`, else `PATH`. PostgreSQL refuses to run as root; when the test runs
//! as root the server's commands run as the `postgres` system user (`runuser`), which then owns
//! the directory.
//!
//! ```no_run
//! let pg = promptsales_testkit::PrivatePg::start(&[("shared_preload_libraries", "pg_stat_statements")]);
//! let url = pg.url("postgres"); // postgres://postgres@127.0.0.1:<port>/postgres
//! ```

use std::{
    net::TcpListener,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use promptsales_platform::StoreUrl;

/// A running private server; dropping it stops the server and deletes its files.
pub struct PrivatePg {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    bindir: Option<PathBuf>,
}

impl PrivatePg {
    /// Creates and starts a server with `settings` appended to its `postgresql.conf`; a value is
    /// single-quoted unless it already starts with a quote. Panics with the server's log on failure.
    pub fn start(settings: &[(&str, &str)]) -> PrivatePg {
        PrivatePg::start_inner(settings, None)
    }

    /// [`PrivatePg::start`] serving TLS with `cert_pem` (the chain) and `key_pem`, and accepting
    /// TCP clients over TLS only (`hostssl` in `pg_hba.conf`), TLS 1.3 as deployments do: a
    /// client that connects at all has verified the server (or chosen not to).
    pub fn start_with_tls(cert_pem: &str, key_pem: &str, settings: &[(&str, &str)]) -> PrivatePg {
        PrivatePg::start_inner(settings, Some((cert_pem, key_pem)))
    }

    fn start_inner(settings: &[(&str, &str)], tls: Option<(&str, &str)>) -> PrivatePg {
        let dir = tempfile::Builder::new()
            .prefix("ps_private_pg_")
            .tempdir()
            .expect("temporary directory for the private server");
        let as_postgres = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let bindir = bindir();
        let mut pg = PrivatePg {
            dir,
            port: 0,
            as_postgres,
            bindir,
        };
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(pg.dir.path())
                .status()
                .expect("run chown");
            assert!(status.success(), "chown the private server's directory to postgres");
        }
        let data = pg.data_dir();
        pg.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C.UTF-8".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        let mut conf = format!(
            "\n# promptsales testkit\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 30\n",
            pg.dir.path().display()
        );
        for (name, value) in settings {
            let value = if value.starts_with('\'') {
                (*value).to_owned()
            } else {
                format!("'{value}'")
            };
            conf.push_str(&format!("{name} = {value}\n"));
        }
        if let Some((cert_pem, key_pem)) = tls {
            let cert = pg.write_private("server.crt", cert_pem);
            let key = pg.write_private("server.key", key_pem);
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nssl_min_protocol_version = 'TLSv1.3'\n",
                cert.display(),
                key.display()
            ));
            let hba = data.join("pg_hba.conf");
            let text = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
            let tls_only: String = text
                .lines()
                .map(|line| match line.strip_prefix("host ") {
                    Some(rest) => format!("hostssl {rest}\n"),
                    None => format!("{line}\n"),
                })
                .collect();
            std::fs::write(&hba, tls_only).expect("write pg_hba.conf");
        }
        let conf_file = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_file).expect("read postgresql.conf");
        text.push_str(&conf);
        std::fs::write(&conf_file, text).expect("write postgresql.conf");

        // A free port can be taken by someone else between the probe and the start: try again.
        let log = pg.dir.path().join("server.log");
        for attempt in 0..5 {
            pg.port = free_port();
            let out = pg.try_run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    format!("-p {}", pg.port).as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "start".as_ref(),
                ],
            );
            if out.status.success() {
                return pg;
            }
            if attempt == 4 {
                panic!(
                    "the private PostgreSQL did not start: {}\n{}",
                    String::from_utf8_lossy(&out.stderr),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `database` on this server, as its superuser `postgres`.
    pub fn url(&self, database: &str) -> StoreUrl {
        StoreUrl::parse(&format!("postgres://postgres@127.0.0.1:{}/{database}", self.port))
            .expect("a valid private server URL")
    }

    /// A small pool on `database`, as the superuser.
    pub async fn pool(&self, database: &str) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(self.url(database).expose().as_str())
            .await
            .unwrap_or_else(|e| panic!("connect to the private server's {database}: {e}"))
    }

    /// Lets clients from `cidr` (an address outside loopback, e.g. a network namespace's) log in
    /// with trust authentication, and reloads the configuration. The server must also listen on
    /// an address they can reach (`listen_addresses` in the settings given to [`PrivatePg::start`]).
    pub fn trust_host(&self, cidr: &str) {
        assert!(
            cidr.bytes().all(|b| b.is_ascii_hexdigit() || b"./:".contains(&b)),
            "an address or CIDR, got {cidr:?}"
        );
        let hba = self.data_dir().join("pg_hba.conf");
        let mut text = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        text.push_str(&format!("host all all {cidr} trust\n"));
        std::fs::write(&hba, text).expect("write pg_hba.conf");
        let data = self.data_dir();
        self.run("pg_ctl", &["-D".as_ref(), data.as_os_str(), "reload".as_ref()]);
    }

    /// The server's log so far (for assertion messages, and where auto_explain writes plans).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The directory holding the data directory and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` beside the data directory, readable by the server's user alone (PostgreSQL
    /// refuses a key file that others can read).
    fn write_private(&self, name: &str, contents: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
        if self.as_postgres {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(&path)
                .status()
                .expect("run chown");
            assert!(status.success(), "chown {} to postgres", path.display());
        }
        path
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn program(&self, name: &str) -> PathBuf {
        match &self.bindir {
            Some(dir) if dir.join(name).exists() => dir.join(name),
            _ => PathBuf::from(name),
        }
    }

    fn try_run(&self, name: &str, args: &[&std::ffi::OsStr]) -> Output {
        let program = self.program(name);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", program.display()))
    }

    fn run(&self, name: &str, args: &[&std::ffi::OsStr]) {
        let out = self.try_run(name, args);
        assert!(
            out.status.success(),
            "{name} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data_dir();
        // Immediate: nothing here needs a clean shutdown, and the directory goes next.
        let out = self.try_run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
        if !out.status.success() {
            eprintln!(
                "warning: stopping the private PostgreSQL in {}: {}",
                Path::display(self.dir.path()),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn bindir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PROMPTSALES_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| dir.join("initdb").exists());
    if from_pg_config.is_some() {
        return from_pg_config;
    }
    // Debian installs initdb and pg_ctl off PATH, one directory per major version.
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}
