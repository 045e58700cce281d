//! The differential harness: operations generated from a schema are sent to our gateway and to
//! Hive Router over the same subgraphs, and the answers compared.
//!
//! - [`Hive`] runs a Hive Router binary (`HIVE_ROUTER_BIN`, else `.tools/hive-router/bin/hive_router`
//!   in the workspace, where `scripts/bench-gateway.sh` installs 0.0.43) with a YAML config like
//!   the benchmark's, pointed at the given subgraph URLs.
//! - [`Generator`] walks the schema our gateway introspects: every root field, then field paths
//!   down to a depth, with arguments (literals or variables), aliases, inline and named fragments
//!   on abstract types, and `@include`/`@skip` on variables. Seeded, so a run can be repeated.
//! - [`compare`] holds two answers equal when their `data` are equal and both or neither have
//!   errors (messages and paths are each gateway's own wording).
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// The Hive Router binary, when installed.
pub fn hive_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HIVE_ROUTER_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/hive-router/bin/hive_router");
    p.is_file().then_some(p)
}

/// A Hive Router process, stopped on drop; started again when it dies on an operation (the
/// operation then counts as a difference: a crash is an answer of its own).
pub struct Hive {
    child: std::sync::Mutex<Child>,
    pub url: String,
    binary: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Hive {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Hive {
    /// Starts Hive Router over `supergraph` with each subgraph at `urls[name]`. Headers named in
    /// `propagate` go from the client's request to every subgraph.
    pub async fn start(binary: &Path, supergraph: &str, urls: &BTreeMap<String, String>, propagate: &[&str]) -> Hive {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("supergraph.graphql");
        std::fs::write(&path, supergraph).expect("write supergraph");
        let port = free_port();
        let mut config = format!(
            "supergraph:\n  source: file\n  path: {}\nhttp:\n  host: 127.0.0.1\n  port: {port}\nlog:\n  level: error\n\
             graphiql:\n  enabled: false\nauthorization:\n  directives:\n    enabled: false\n\
             traffic_shaping:\n  all:\n    dedupe_enabled: false\noverride_subgraph_urls:\n",
            path.display()
        );
        for (name, url) in urls {
            config.push_str(&format!("  {name}: {{ url: \"{url}\" }}\n"));
        }
        if !propagate.is_empty() {
            config.push_str("headers:\n  all:\n    request:\n");
            for h in propagate {
                config.push_str(&format!("      - propagate:\n          named: {h}\n"));
            }
        }
        let config_path = dir.path().join("hive.yaml");
        std::fs::write(&config_path, config).expect("write config");
        let child = Self::spawn(binary, dir.path());
        let hive = Hive {
            child: std::sync::Mutex::new(child),
            url: format!("http://127.0.0.1:{port}/graphql"),
            binary: binary.to_owned(),
            port,
            _dir: dir,
        };
        hive.wait_ready().await;
        hive
    }

    fn spawn(binary: &Path, dir: &Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("hive.log"))
            .expect("log");
        Command::new(binary)
            .env("ROUTER_CONFIG_FILE_PATH", dir.join("hive.yaml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("Hive Router starts")
    }

    async fn wait_ready(&self) {
        let hive = self;
        let ready = format!("http://127.0.0.1:{}/readiness", self.port);
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if client.get(&ready).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(hive._dir.path().join("hive.log")).unwrap_or_default();
                panic!("Hive Router did not become ready in 60 s:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Hive Router's answer; when it gives none (the process died), a description of that with
    /// the end of its log, and the process is started again for the next operation.
    pub async fn post(&self, body: &Value, headers: &[(&str, String)]) -> Value {
        let mut request = reqwest::Client::new().post(&self.url).json(body);
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        let failure = match request.send().await {
            Ok(response) => match response.bytes().await {
                Ok(bytes) => {
                    return serde_json::from_slice(&bytes)
                        .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&bytes).into_owned()));
                }
                Err(e) => e,
            },
            Err(e) => e,
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let exited = {
            let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
            match child.try_wait() {
                Ok(Some(status)) => {
                    *child = Self::spawn(&self.binary, self._dir.path());
                    Some(status)
                }
                _ => None,
            }
        };
        let log = std::fs::read_to_string(self._dir.path().join("hive.log")).unwrap_or_default();
        // The last panic Hive Router logged (its message is the line after "panicked at").
        let lines: Vec<&str> = log.lines().collect();
        let tail = match lines.iter().rposition(|l| l.contains("panicked at")) {
            Some(i) => lines[i..lines.len().min(i + 2)].join("\n"),
            None => lines[lines.len().saturating_sub(4)..].join("\n"),
        };
        if exited.is_some() {
            self.wait_ready().await;
        }
        json!({ "hive_failed": failure.to_string(), "exited": exited.map(|s| s.to_string()), "log": tail })
    }
}

/// Operations per supergraph: `DIFFERENTIAL_OPERATIONS`, default 40 (a brief run for `make test`).
pub fn operations_per_graph() -> usize {
    std::env::var("DIFFERENTIAL_OPERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// The generator's seed: `DIFFERENTIAL_SEED`, default 23.
pub fn seed() -> u64 {
    std::env::var("DIFFERENTIAL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(23)
}

/// Every string under a key named `id` in an answer (argument values that exist).
pub fn collect_ids(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(members) => {
            for (k, v) in members {
                if k == "id" && v.is_string() {
                    out.push(v.clone());
                } else {
                    collect_ids(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_ids(i, out)),
        _ => {}
    }
}

/// Whether two answers agree: equal `data`, and errors on both sides or on neither.
pub fn compare(ours: &Value, theirs: &Value) -> bool {
    let data = |v: &Value| v.get("data").cloned().unwrap_or(Value::Null);
    let has_errors = |v: &Value| v.get("errors").and_then(Value::as_array).is_some_and(|e| !e.is_empty());
    data(ours) == data(theirs) && has_errors(ours) == has_errors(theirs)
}

/// The introspection query the generator reads the schema from.
pub const SCHEMA_QUERY: &str = r#"{ __schema { queryType { name } types { kind name
  possibleTypes { name }
  enumValues { name }
  inputFields { name type { ...R } }
  fields { name args { name type { ...R } } type { ...R } } } } }
fragment R on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

/// A tiny seeded generator (SplitMix64): the same seed gives the same operations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One generated operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub query: String,
    pub variables: Value,
}

impl Operation {
    pub fn body(&self) -> Value {
        json!({ "query": self.query, "variables": self.variables })
    }
}

/// Operations from a schema (the `data` of [`SCHEMA_QUERY`]).
pub struct Generator<'s> {
    types: BTreeMap<String, &'s Value>,
    query: String,
    /// Argument values to choose from, by the argument's named type (`ID`, `String`, `Int`, …);
    /// enums take their own values.
    pool: BTreeMap<String, Vec<Value>>,
    pub max_depth: usize,
    pub max_fields: usize,
}

/// What one operation being built has collected.
struct Build {
    variables: Vec<(String, String, Value)>,
    fragments: Vec<String>,
    aliases: usize,
}

fn named(t: &Value) -> (&str, &str) {
    match t["kind"].as_str() {
        Some("NON_NULL" | "LIST") => named(&t["ofType"]),
        _ => (
            t["kind"].as_str().unwrap_or_default(),
            t["name"].as_str().unwrap_or_default(),
        ),
    }
}

fn type_text(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_text(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_text(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or_default().to_owned(),
    }
}

fn literal(v: &Value, is_enum: bool) -> String {
    match v {
        Value::String(s) if is_enum => s.clone(),
        other => other.to_string(),
    }
}

impl<'s> Generator<'s> {
    pub fn new(schema: &'s Value, pool: BTreeMap<String, Vec<Value>>) -> Generator<'s> {
        let types = schema["__schema"]["types"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t))
            .collect();
        Generator {
            types,
            query: schema["__schema"]["queryType"]["name"]
                .as_str()
                .unwrap_or("Query")
                .to_owned(),
            pool,
            max_depth: 3,
            max_fields: 4,
        }
    }

    fn fields(&self, type_name: &str) -> Vec<&'s Value> {
        self.types
            .get(type_name)
            .and_then(|t| t["fields"].as_array())
            .map(|f| {
                f.iter()
                    .filter(|f| !f["name"].as_str().unwrap_or("__").starts_with("__"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The query's root fields, each of which at least one operation starts from.
    pub fn root_fields(&self) -> Vec<String> {
        self.fields(&self.query)
            .iter()
            .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// An operation selecting `root` (or a random root field), with random sub-selections.
    pub fn operation(&self, rng: &mut Rng, root: Option<&str>) -> Operation {
        let mut build = Build {
            variables: Vec::new(),
            fragments: Vec::new(),
            aliases: 0,
        };
        let roots = self.fields(&self.query);
        let mut picked: Vec<&Value> = match root {
            Some(r) => roots.iter().copied().filter(|f| f["name"] == r).collect(),
            None => vec![roots[rng.below(roots.len())]],
        };
        if rng.chance(30) {
            picked.push(roots[rng.below(roots.len())]);
        }
        let mut body = String::new();
        for (i, f) in picked.iter().enumerate() {
            // A second root field is always aliased: it may repeat the first with other arguments.
            body.push_str(&self.field(rng, f, 1, &mut build, i > 0));
            body.push(' ');
        }
        let vars = if build.variables.is_empty() {
            String::new()
        } else {
            let defs: Vec<String> = build.variables.iter().map(|(n, t, _)| format!("${n}: {t}")).collect();
            format!("({})", defs.join(", "))
        };
        let variables: serde_json::Map<String, Value> = build.variables.into_iter().map(|(n, _, v)| (n, v)).collect();
        Operation {
            query: format!("query Generated{vars} {{ {body}}} {}", build.fragments.join(" ")),
            variables: Value::Object(variables),
        }
    }

    fn argument_value(&self, rng: &mut Rng, ty: &Value) -> Option<(Value, bool)> {
        let (kind, name) = named(ty);
        match kind {
            "ENUM" => {
                let values = self.types.get(name)?["enumValues"].as_array()?;
                let v = values.get(rng.below(values.len()))?;
                Some((v["name"].clone(), true))
            }
            "SCALAR" => {
                let pool = self.pool.get(name)?;
                Some((pool.get(rng.below(pool.len()))?.clone(), false))
            }
            _ => None,
        }
    }

    /// One field with its arguments, alias, directives and sub-selection.
    fn field(&self, rng: &mut Rng, f: &Value, depth: usize, build: &mut Build, force_alias: bool) -> String {
        let name = f["name"].as_str().unwrap_or_default();
        let mut args = Vec::new();
        for a in f["args"].as_array().into_iter().flatten() {
            let required = a["type"]["kind"] == "NON_NULL";
            if !required && !rng.chance(40) {
                continue;
            }
            let Some((value, is_enum)) = self.argument_value(rng, &a["type"]) else {
                continue;
            };
            let arg = a["name"].as_str().unwrap_or_default();
            if rng.chance(35) {
                let var = format!("v{}", build.variables.len());
                build.variables.push((var.clone(), type_text(&a["type"]), value));
                args.push(format!("{arg}: ${var}"));
            } else {
                args.push(format!("{arg}: {}", literal(&value, is_enum)));
            }
        }
        let mut out = String::new();
        // Fields with arguments are aliased so that two of them never share a response key.
        if force_alias || !args.is_empty() || rng.chance(20) {
            build.aliases += 1;
            out.push_str(&format!("a{}: ", build.aliases));
        }
        out.push_str(name);
        if !args.is_empty() {
            out.push_str(&format!("({})", args.join(", ")));
        }
        if depth > 1 && rng.chance(10) {
            let var = format!("v{}", build.variables.len());
            let on = rng.chance(50);
            build.variables.push((var.clone(), "Boolean!".into(), Value::Bool(on)));
            let directive = if rng.chance(50) { "include" } else { "skip" };
            out.push_str(&format!(" @{directive}(if: ${var})"));
        }
        let (kind, type_name) = named(&f["type"]);
        if matches!(kind, "OBJECT" | "INTERFACE" | "UNION") {
            out.push_str(&format!(" {{ {} }}", self.selection(rng, type_name, depth + 1, build)));
        }
        out
    }

    /// A selection on `type_name`: some of its fields, and fragments on its possible types.
    fn selection(&self, rng: &mut Rng, type_name: &str, depth: usize, build: &mut Build) -> String {
        let Some(t) = self.types.get(type_name) else {
            return "__typename".into();
        };
        let mut parts = Vec::new();
        let leaf_only = depth > self.max_depth;
        let fields = self.fields(type_name);
        let mut chosen: Vec<&Value> = fields
            .iter()
            .copied()
            .filter(|f| !leaf_only || matches!(named(&f["type"]).0, "SCALAR" | "ENUM"))
            .filter(|_| rng.chance(60))
            .collect();
        chosen.truncate(self.max_fields);
        for f in chosen {
            parts.push(self.field(rng, f, depth, build, false));
        }
        if t["kind"] != "OBJECT" || rng.chance(25) {
            parts.push("__typename".into());
        }
        if let Some(possible) = t["possibleTypes"].as_array() {
            for p in possible {
                let concrete = p["name"].as_str().unwrap_or_default();
                if !rng.chance(70) {
                    continue;
                }
                // Fields under a fragment are aliased: fragments on different types may select
                // fields of the same name and different types.
                let inner = self.fragment_body(rng, concrete, depth, build);
                if rng.chance(30) {
                    let name = format!("F{}", build.fragments.len());
                    build
                        .fragments
                        .push(format!("fragment {name} on {concrete} {{ {inner} }}"));
                    parts.push(format!("...{name}"));
                } else {
                    parts.push(format!("... on {concrete} {{ {inner} }}"));
                }
            }
        }
        if parts.is_empty() {
            parts.push("__typename".into());
        }
        parts.join(" ")
    }

    fn fragment_body(&self, rng: &mut Rng, concrete: &str, depth: usize, build: &mut Build) -> String {
        let leaf_only = depth > self.max_depth;
        let mut parts = vec!["__typename".to_owned()];
        let picked: Vec<&Value> = self
            .fields(concrete)
            .into_iter()
            .filter(|_| rng.chance(50))
            .take(self.max_fields)
            .collect();
        for f in picked {
            if leaf_only && !matches!(named(&f["type"]).0, "SCALAR" | "ENUM") {
                continue;
            }
            parts.push(self.field(rng, f, depth, build, true));
        }
        parts.join(" ")
    }
}
