//! `promptsales certs`: a local CA and one TLS certificate per service, for running the whole
//! stack over https on one machine (`PROMPTSALES_TLS=1 make up`). See docs/security.md.
//!
//! Writes `ca.pem` (what clients trust: `PROMPTSALES_TLS_CA`) and `<service>.pem` with
//! `<service>-key.pem` for each service. Keys are created with mode 0600. The CA's own key is
//! never written: nothing left on disk can sign another certificate the clients would trust, and
//! renewing is generating a new set (`--force`).

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use promptsales_platform::dev_certs::{self, LOOPBACK_NAMES};

/// Every process that listens: the gateway, the four subgraphs and the dev authorization server.
pub const SERVICES: [&str; 9] = [
    "gateway",
    "content",
    "ads",
    "crm",
    "sales",
    "auth",
    "mcp-content",
    "mcp-sales",
    "worker",
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write to (created when missing; keep it out of version control).
    #[arg(long, default_value = ".dev/tls")]
    out: PathBuf,
    /// Names and addresses the certificates are valid for.
    #[arg(long = "host", default_values_t = LOOPBACK_NAMES.map(str::to_owned))]
    hosts: Vec<String>,
    /// Replace a set that is already there (clients must then trust the new `ca.pem`).
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let ca_path = args.out.join("ca.pem");
    anyhow::ensure!(
        args.force || !ca_path.exists(),
        "{} already exists: its certificates are kept (pass --force to replace the whole set)",
        ca_path.display()
    );
    let hosts: Vec<&str> = args.hosts.iter().map(String::as_str).collect();
    let pki = dev_certs::generate(&SERVICES, &hosts).context("generating the certificates")?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    for service in &pki.services {
        write(
            &args.out.join(format!("{}.pem", service.name)),
            &service.cert_pem,
            0o644,
        )?;
        write(
            &args.out.join(format!("{}-key.pem", service.name)),
            &service.key_pem,
            0o600,
        )?;
    }
    // Last: its presence says the set is complete.
    write(&ca_path, &pki.ca_pem, 0o644)?;
    println!(
        "wrote a local CA ({}) and certificates for {} valid for {} into {}",
        ca_path.display(),
        SERVICES.join(", "),
        hosts.join(", "),
        args.out.display()
    );
    Ok(())
}

/// Writes `contents` to a file created with `mode`; an existing file is replaced (and its mode
/// set), so a key never keeps looser permissions from an earlier file.
fn write(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
