//! `promptsales compose`: subgraph SDLs → `supergraph/supergraph.graphql` (Federation v2, join
//! v0.3), through the pinned composer in `supergraph/compose.mjs`. Composition errors are shown
//! with the subgraph, type and field the composer names.
//!
//! A subgraph's SDL comes from a file (checked in beside the supergraph; `--export` writes our
//! four from the subgraph crates themselves) or from the running subgraph's `_service { sdl }`.
//! `--check` fails when either the exported SDL files or the supergraph are stale, so a schema
//! change that was not recomposed cannot land.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use promptsales_platform::claims::{self, Claims, ClaimsKey};
use serde::Deserialize;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The composition file.
    #[arg(long, default_value = "supergraph/supergraph.yaml")]
    config: PathBuf,
    /// Where to write the supergraph SDL.
    #[arg(long, default_value = "supergraph/supergraph.graphql")]
    out: PathBuf,
    /// Compose and compare with `--out` instead of writing it; fails when it, or an SDL file of
    /// one of our subgraphs, is stale.
    #[arg(long, conflicts_with = "export")]
    check: bool,
    /// First write the SDL files of our subgraphs (content, ads, crm, sales) from their crates.
    #[arg(long)]
    export: bool,
}

/// `supergraph.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Subgraphs by name (the name becomes the `join__Graph` value).
    pub subgraphs: BTreeMap<String, SubgraphConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphConfig {
    /// The subgraph's GraphQL endpoint, written into the supergraph for the gateway.
    pub url: String,
    pub schema: SchemaSource,
}

/// Where a subgraph's SDL comes from: `schema: { file: subgraphs/ads.graphql }` or
/// `schema: { service: true }` (asked of the running subgraph at its `url`). Exactly one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaSource {
    /// SDL file, relative to the composition file's folder.
    pub file: Option<PathBuf>,
    /// `{ _service { sdl } }` at the subgraph's URL, with claims signed by `PROMPTSALES_CLAIMS_KEY`
    /// (subgraphs refuse unsigned calls).
    #[serde(default)]
    pub service: bool,
}

/// The SDL our own subgraphs export, by the name the composition file gives them.
fn crate_sdl(name: &str) -> Option<String> {
    match name {
        "content" => Some(promptsales_content::schema::sdl()),
        "ads" => Some(promptsales_ads::schema::sdl()),
        "crm" => Some(promptsales_crm::schema::sdl()),
        "sales" => Some(promptsales_sales::schema::sdl()),
        _ => None,
    }
}

/// Asks a running subgraph for its SDL.
async fn service_sdl(name: &str, url: &str) -> anyhow::Result<String> {
    let key = ClaimsKey::from_env().with_context(|| format!("subgraph {name}: signing the `_service` query"))?;
    let claims = Claims::staff("promptsales-compose", &[]);
    let response = reqwest::Client::new()
        .post(url)
        .header(claims::HEADER, key.sign(&claims))
        .json(&serde_json::json!({ "query": "{ _service { sdl } }" }))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("subgraph {name}: asking {url} for its SDL"))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("subgraph {name}: {url} answered {status} without a GraphQL response"))?;
    body.pointer("/data/_service/sdl")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("subgraph {name}: {url} answered {status} without an SDL: {body}"))
}

#[derive(Debug, Deserialize)]
struct Output {
    supergraph: Option<String>,
    #[serde(default)]
    errors: Vec<CompositionError>,
}

#[derive(Debug, Deserialize)]
struct CompositionError {
    message: String,
    code: Option<String>,
    subgraph: Option<String>,
    coordinate: Option<String>,
}

impl std::fmt::Display for CompositionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut place = Vec::new();
        if let Some(s) = &self.subgraph {
            place.push(format!("subgraph {s}"));
        }
        if let Some(c) = &self.coordinate {
            place.push(c.clone());
        }
        if !place.is_empty() {
            write!(f, "[{}] ", place.join(", "))?;
        }
        if let Some(code) = &self.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Reads the composition file.
pub fn read_config(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml_ng::from_str(&text).with_context(|| format!("{} is not a valid composition file", path.display()))
}

/// What `--export` and `--check` do to the SDL files of our own subgraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sdls {
    Read,
    Export,
    Check,
}

/// Composes the subgraphs `config_path` lists into a supergraph SDL.
async fn compose(config_path: &Path, sdls: Sdls) -> anyhow::Result<String> {
    let config = read_config(config_path)?;
    let base = config_path.parent().unwrap_or(Path::new("."));
    let mut subgraphs = Vec::new();
    for (name, sg) in &config.subgraphs {
        let sdl = match (&sg.schema.file, sg.schema.service) {
            (Some(file), false) => {
                let file = base.join(file);
                match (sdls, crate_sdl(name)) {
                    (Sdls::Export, Some(sdl)) => {
                        std::fs::write(&file, &sdl)
                            .with_context(|| format!("subgraph {name}: writing its SDL {}", file.display()))?;
                        println!("exported {} ({} bytes)", file.display(), sdl.len());
                    }
                    (Sdls::Check, Some(sdl)) => {
                        let current = std::fs::read_to_string(&file).unwrap_or_default();
                        if current != sdl {
                            bail!(
                                "{} is stale: the {name} subgraph's schema changed; run `promptsales compose --export` and commit the result",
                                file.display()
                            );
                        }
                    }
                    _ => {}
                }
                std::fs::read_to_string(&file)
                    .with_context(|| format!("subgraph {name}: reading its SDL {}", file.display()))?
            }
            (None, true) => service_sdl(name, &sg.url).await?,
            _ => bail!("subgraph {name}: give its schema as either `file: <path>` or `service: true`"),
        };
        subgraphs.push(serde_json::json!({ "name": name, "url": sg.url, "sdl": sdl }));
    }
    // The composer and its node_modules live beside the composition file; node runs there.
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let mut child = Command::new("node")
        .arg("compose.mjs")
        .current_dir(base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running node (install Node.js 20+, then `npm ci` in supergraph/)")?;
    // A composer that exits early (missing script or modules) closes its stdin: its stderr, read
    // below, says why, so a failed write is not the error reported.
    let _ = child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(serde_json::json!({ "subgraphs": subgraphs }).to_string().as_bytes());
    let out = child.wait_with_output()?;
    let parsed: Output = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the composer failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        )
    })?;
    if !parsed.errors.is_empty() {
        let list: Vec<String> = parsed.errors.iter().map(|e| format!("  - {e}")).collect();
        bail!(
            "composition failed with {} error(s):\n{}",
            parsed.errors.len(),
            list.join("\n")
        );
    }
    parsed.supergraph.context("the composer returned no supergraph")
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let sdls = if args.export {
        Sdls::Export
    } else if args.check {
        Sdls::Check
    } else {
        Sdls::Read
    };
    let supergraph = compose(&args.config, sdls).await?;
    if args.check {
        let current = std::fs::read_to_string(&args.out).unwrap_or_default();
        if current != supergraph {
            bail!(
                "{} is stale: run `promptsales compose` and commit the result",
                args.out.display()
            );
        }
        println!("{} is up to date", args.out.display());
    } else {
        std::fs::write(&args.out, &supergraph).with_context(|| format!("writing {}", args.out.display()))?;
        println!("wrote {} ({} bytes)", args.out.display(), supergraph.len());
    }
    Ok(())
}
