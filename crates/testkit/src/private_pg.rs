//! A PostgreSQL server private to one test, for what the shared server must not be changed for:
//! `shared_preload_libraries` (pg_stat_statements, auto_explain) and other server settings.
//!
//! `initdb` in a fresh directory under the temp dir, `pg_ctl start` on a free port of 127.0.0.1
//! (Unix socket in the same directory), trust authentication for the `postgres` role only; the
//! server is stopped (`-m immediate`) and the directory removed when the value is dropped. The
//! binaries come from `PROMPTSALES_PG_BINDIR`, else the newest `/usr/lib/postgresql/*/bin`, else
//! `PATH`. PostgreSQL refuses to run as root, so under root the commands run as the `postgres`
//! system user (`runuser`), which then owns the directory.
//!
//! ```no_run
//! # async fn t() {
//! let pg = promptsales_testkit::PrivatePostgres::start(&[("shared_preload_libraries", "pg_stat_statements")]);
//! let pool = pg.pool().await;
//! # }
//! ```

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
};

use rand::Rng;
use sqlx::{PgPool, postgres::PgPoolOptions};

/// A running private server; stopped and deleted on drop.
pub struct PrivatePostgres {
    dir: PathBuf,
    bindir: Option<PathBuf>,
    as_postgres: bool,
    port: u16,
}

fn bindir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PROMPTSALES_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
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

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

impl PrivatePostgres {
    /// Starts a server with `settings` (name, value) on its command line.
    pub fn start(settings: &[(&str, &str)]) -> PrivatePostgres {
        let suffix: u64 = rand::rng().random();
        let dir = std::env::temp_dir().join(format!("ps_private_pg_{suffix:016x}"));
        std::fs::create_dir(&dir).expect("create the private server's directory");
        let pg = PrivatePostgres {
            dir,
            bindir: bindir(),
            as_postgres: is_root(),
            port: free_port(),
        };
        if pg.as_postgres {
            pg.run("chown", &["postgres:postgres", &pg.path("")], false);
        }
        let data = pg.path("data");
        pg.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            true,
        );
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            pg.port,
            pg.path("")
        );
        for (name, value) in settings {
            // Values reach postgres through pg_ctl's -o, split on spaces: keep them simple.
            assert!(
                !value.contains(['\'', ' ', '"']),
                "setting {name}: quote-free, space-free values only"
            );
            options.push_str(&format!(" -c {name}={value}"));
        }
        let log = pg.path("server.log");
        pg.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start"],
            true,
        );
        pg
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// Runs a PostgreSQL binary (`pg`) or a system command, as `postgres` when we are root.
    fn run(&self, program: &str, args: &[&str], pg: bool) {
        let program = match (&self.bindir, pg) {
            (Some(dir), true) => dir.join(program).display().to_string(),
            _ => program.to_owned(),
        };
        let mut command = if self.as_postgres && pg {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", &program]);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A small pool on the `postgres` database.
    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.url("postgres"))
            .await
            .expect("connect to the private server")
    }

    /// The server's log so far (where auto_explain writes its plans).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The directory holding the data directory and the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let bin = match &self.bindir {
            Some(dir) => dir.join("pg_ctl").display().to_string(),
            None => "pg_ctl".to_owned(),
        };
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", &bin]);
            c
        } else {
            Command::new(&bin)
        };
        let _ = command.args(["-D", &data, "-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
