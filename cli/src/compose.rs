//! `promptsales compose`: subgraph SDLs → `supergraph/supergraph.graphql` (Federation v2, join
//! v0.3), through the pinned composer in `supergraph/compose.mjs`. Composition errors are shown
//! with the subgraph, type and field the composer names.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The composition file.
    #[arg(long, default_value = "supergraph/supergraph.yaml")]
    config: PathBuf,
    /// Where to write the supergraph SDL.
    #[arg(long, default_value = "supergraph/supergraph.graphql")]
    out: PathBuf,
    /// Compose and compare with `--out` instead of writing it; fails when it is stale.
    #[arg(long)]
    check: bool,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaSource {
    /// SDL file, relative to the composition file's folder.
    pub file: PathBuf,
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

/// Composes the subgraphs `config_path` lists into a supergraph SDL.
pub fn compose(config_path: &Path) -> anyhow::Result<String> {
    let config = read_config(config_path)?;
    let base = config_path.parent().unwrap_or(Path::new("."));
    let mut subgraphs = Vec::new();
    for (name, sg) in &config.subgraphs {
        let file = base.join(&sg.schema.file);
        let sdl = std::fs::read_to_string(&file)
            .with_context(|| format!("subgraph {name}: reading its SDL {}", file.display()))?;
        subgraphs.push(serde_json::json!({ "name": name, "url": sg.url, "sdl": sdl }));
    }
    let script = base.join("compose.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .current_dir(base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running node (install Node.js 20+, then `npm ci` in supergraph/)")?;
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(serde_json::json!({ "subgraphs": subgraphs }).to_string().as_bytes())?;
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

pub fn run(args: Args) -> anyhow::Result<()> {
    let supergraph = compose(&args.config)?;
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
