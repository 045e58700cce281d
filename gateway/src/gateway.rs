//! One GraphQL request, from text to response: parse (token limit), check limits, validate
//! against the consumer schema, pick the operation, plan it (cached), execute the plan and shape
//! the result. Every outcome carries the HTTP status the GraphQL-over-HTTP spec asks for.

use std::{
    collections::{BTreeSet, HashMap},
    hash::{Hash, Hasher},
    sync::{Arc, Mutex, atomic::Ordering},
    time::{Duration, Instant},
};

use graphql_tools::{
    static_graphql::query::{self as q, Definition, Document, OperationDefinition as Op},
    validation::rules::default_rules_validation_plan,
};
use hive_router_query_planner::{
    ast::normalization::normalize_operation,
    planner::{Planner, QueryPlannerOptions, plan_nodes::QueryPlan},
    utils::cancellation::CancellationToken,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{
    check::DocumentChecker,
    coerce::InputTypes,
    execute::{Execution, fetch_count},
    fetch::{FetchContext, Fetcher},
    introspection::Introspection,
    limits::Limits,
    response::{Data, GraphqlError, Response},
    schema::SchemaIndex,
    scopes::{self, Coordinate, ScopeRules},
    shape::Shaper,
    value::Bodies,
};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the supergraph SDL does not parse: {0}")]
    Parse(String),
    #[error("the supergraph cannot be planned over: {0}")]
    Planner(String),
    #[error("the supergraph's API schema cannot be served: {0}")]
    Unservable(String),
    #[error("the subgraph client: {0}")]
    Client(#[from] crate::fetch::ClientError),
    #[error("the JWKS client: {0}")]
    JwksClient(#[from] reqwest::Error),
}

/// How the gateway treats operations and subgraphs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Operation limits (tokens, depth, aliases).
    pub limits: Limits,
    /// Whether `__schema` and `__type` are answered. Off unless a configuration turns it on:
    /// the schema is a map of every field an attacker could try, so deployments keep it closed
    /// and local exploration (`make up`, GraphiQL) opens it.
    pub introspection: bool,
    /// How many query plans are kept.
    pub plan_cache_size: u64,
    /// How long a subgraph fetch may take unless `subgraph_timeouts` names the subgraph.
    #[serde(with = "millis")]
    pub subgraph_timeout: Duration,
    /// Per-subgraph fetch timeouts, in milliseconds.
    pub subgraph_timeouts_ms: HashMap<String, u64>,
    /// Subgraph URLs that replace the ones written in the supergraph.
    pub subgraph_urls: HashMap<String, String>,
    /// How long planning one operation may take before it is abandoned.
    #[serde(with = "millis")]
    pub plan_timeout: Duration,
    /// Whether a query's subgraph fetch joins an identical one already in flight (same
    /// subgraph, body and signed claims) instead of sending its own. Mutations never do.
    pub dedupe_subgraph_requests: bool,
    /// Whether a query identical to one running (same document, operation, variables and
    /// signed claims) waits for that one's answer instead of running again. Mutations never do.
    pub dedupe_queries: bool,
    /// Most idle connections kept open to one subgraph. Connections above it are closed when
    /// they fall idle, so a burst does not leave hundreds of sockets (and their buffers) behind.
    pub subgraph_pool_max_idle_per_host: usize,
    /// Most fetches in flight to one subgraph at once; a fetch beyond it waits for a slot
    /// (within its timeout). This bounds the connections a gateway opens to a subgraph under
    /// overload. 0: no bound.
    pub subgraph_max_in_flight: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limits: Limits::default(),
            introspection: false,
            plan_cache_size: 1000,
            subgraph_timeout: Duration::from_secs(10),
            subgraph_timeouts_ms: HashMap::new(),
            subgraph_urls: HashMap::new(),
            plan_timeout: Duration::from_secs(5),
            dedupe_subgraph_requests: true,
            dedupe_queries: true,
            subgraph_pool_max_idle_per_host: 32,
            subgraph_max_in_flight: 128,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A GraphQL request as it arrived over HTTP.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub query: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
}

/// A response and the HTTP status it goes out with.
#[derive(Debug)]
pub struct Outcome {
    /// The operation that ran, once the document parsed, validated and named one (for the audit
    /// log); `None` for requests refused before that.
    pub operation: Option<Box<OperationInfo>>,
    pub status: u16,
    pub response: Response,
}

/// What the audit log may know of an operation: its kind and names, never its values (beyond a
/// target id).
#[derive(Debug, Clone, Default)]
pub struct OperationInfo {
    /// `query` or `mutation`.
    pub kind: &'static str,
    pub name: Option<String>,
    /// The root fields it selected (`__typename` and introspection left out).
    pub root_fields: Vec<String>,
    /// The names of the variables it was sent, without their values.
    pub variable_names: Vec<String>,
    /// The value of a variable named `id` or `customerId`, when it is a string or a number.
    pub target_id: Option<String>,
}

impl Outcome {
    fn bad(message: impl Into<String>, code: &str) -> Outcome {
        Outcome {
            operation: None,
            status: 400,
            response: Response::request_error(GraphqlError::new(message).with_code(code)),
        }
    }

    /// A request refused with `status` before it ran.
    pub(crate) fn refused(status: u16, message: impl Into<String>, code: &str) -> Outcome {
        Outcome {
            status,
            ..Outcome::bad(message, code)
        }
    }
}

/// The loaded supergraph and everything that serves it.
pub struct Gateway {
    planner: Planner,
    /// The supergraph's `@requires`, to repair the planner's (crate::requires).
    requires: crate::requires::RequiresIndex,
    schema: SchemaIndex,
    scopes: ScopeRules,
    /// Parses, limits and validates documents off the async workers, and caches the valid ones:
    /// clients send the same few operations over and over, and parsing plus validation against
    /// the consumer schema costs more than the rest of the gateway's own work on a warm request.
    checker: DocumentChecker,
    /// The input types, for coercing variables.
    inputs: InputTypes,
    plans: moka::sync::Cache<u64, Arc<QueryPlan>>,
    /// (document, operation, scope set) triples whose caller may see every field asked for.
    allowed: moka::sync::Cache<u64, ()>,
    fetcher: Fetcher,
    introspection: Option<Introspection>,
    options: Options,
    /// Queries running now that an identical one may wait for ([`Options::dedupe_queries`]).
    running: Running,
}

/// The queries running now, each with the channel its answer will be sent on.
type Running = Mutex<HashMap<Arc<RunningKey>, tokio::sync::watch::Receiver<Option<Arc<SharedAnswer>>>>>;

/// What makes two queries the same: the bytes that decide the answer, the caller's signed
/// claims (subject, scopes, organization) among them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RunningKey {
    query: String,
    operation: Option<String>,
    variables: String,
    claims: String,
}

/// The answer of a query, for the identical ones that waited for it.
#[derive(Debug)]
struct SharedAnswer {
    status: u16,
    response: Response,
    contains_pii: bool,
}

/// Takes a running query out of the map when its run ends or is dropped (its client went
/// away): those waiting then see the channel close and run the query themselves.
struct Finished<'g> {
    running: &'g Running,
    key: Arc<RunningKey>,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
}

impl Gateway {
    pub fn new(supergraph_sdl: &str, options: Options) -> Result<Gateway, Error> {
        let parsed = graphql_tools::parser::parse_schema(supergraph_sdl)
            .map_err(|e| Error::Parse(e.to_string()))?
            .into_static();
        let planner = Planner::new_from_supergraph(&parsed, QueryPlannerOptions::default())
            .map_err(|e| Error::Planner(e.to_string()))?;
        let mut schema = SchemaIndex::new(&planner.consumer_schema.document);
        schema.cache_hints = crate::cache::hints::CacheHints::new(&parsed);
        schema.keys = crate::keys::EntityKeys::new(&planner.supergraph);
        let scopes = ScopeRules::new(&parsed);
        let mut endpoints = planner.supergraph.subgraph_endpoint_map.clone();
        for (name, url) in &options.subgraph_urls {
            endpoints.insert(name.clone(), url.clone());
        }
        let timeouts = options
            .subgraph_timeouts_ms
            .iter()
            .map(|(k, v)| (k.clone(), Duration::from_millis(*v)))
            .collect();
        let pool = crate::fetch::PoolLimits {
            max_idle_per_host: options.subgraph_pool_max_idle_per_host,
            max_in_flight: options.subgraph_max_in_flight,
        };
        let fetcher = Fetcher::new(endpoints, options.subgraph_timeout, timeouts, pool)?;
        // Built even when introspection is off: it checks that the API schema is one the
        // gateway can describe and shape (every type it names is defined).
        let introspection = Introspection::new(planner.consumer_schema.document.clone()).map_err(Error::Unservable)?;
        let introspection = options.introspection.then_some(introspection);
        let checker = DocumentChecker::new(
            planner.consumer_schema.document.clone(),
            default_rules_validation_plan(),
            options.limits.clone(),
            options.plan_cache_size,
        );
        let inputs = InputTypes::new(&planner.consumer_schema.document);
        let requires = crate::requires::RequiresIndex::new(&planner.supergraph);
        Ok(Gateway {
            requires,
            schema,
            scopes,
            checker,
            inputs,
            plans: moka::sync::Cache::new(options.plan_cache_size),
            allowed: moka::sync::Cache::new(options.plan_cache_size * 4),
            fetcher,
            introspection,
            planner,
            options,
            running: Mutex::default(),
        })
    }

    /// The subgraphs and the URLs their fetches go to.
    pub fn subgraphs(&self) -> Vec<(String, String)> {
        let mut list: Vec<(String, String)> = self
            .planner
            .supergraph
            .subgraph_endpoint_map
            .keys()
            .map(|k| (k.clone(), self.fetcher.endpoint(k).unwrap_or_default().to_owned()))
            .collect();
        list.sort();
        list
    }

    /// The consumer schema's hash, and its index: the response cache keys on the first (a new
    /// supergraph gives new keys) and tags entries with the types the second names.
    pub(crate) fn cache_view(&self) -> (u64, &SchemaIndex) {
        (self.planner.consumer_schema.hash, &self.schema)
    }

    /// The plan of an operation (cached), for execution and for inspection.
    pub fn plan(&self, query: &str, operation_name: Option<&str>) -> Result<Arc<QueryPlan>, String> {
        let doc = graphql_tools::parser::parse_query::<String>(query)
            .map_err(|e| e.to_string())?
            .into_static();
        let mut hasher = std::hash::DefaultHasher::new();
        query.hash(&mut hasher);
        self.plan_document(hasher.finish(), &doc, operation_name, &BTreeSet::new())
    }

    /// Plans `doc` without the `denied` fields (see [`crate::scopes`]).
    /// `doc_key`: the hash of the document's text (see [`Gateway::valid_document`]).
    fn plan_document(
        &self,
        doc_key: u64,
        doc: &Document,
        operation_name: Option<&str>,
        denied: &BTreeSet<Coordinate>,
    ) -> Result<Arc<QueryPlan>, String> {
        // The plan depends on the text, the chosen operation, the supergraph and the fields the
        // caller's scopes removed; progressive override labels would join the key once they are used.
        let mut hasher = std::hash::DefaultHasher::new();
        (doc_key, operation_name, self.planner.consumer_schema.hash, denied).hash(&mut hasher);
        let key = hasher.finish();
        if let Some(plan) = self.plans.get(&key) {
            metrics::counter!("gateway_plan_cache_total", "result" => "hit").increment(1);
            return Ok(plan);
        }
        metrics::counter!("gateway_plan_cache_total", "result" => "miss").increment(1);
        let started = Instant::now();
        let pruned;
        let doc = if denied.is_empty() {
            doc
        } else {
            pruned = scopes::without(doc, &self.schema, denied);
            &pruned
        };
        // The planner is another project's code: a panic in it (the differential check found
        // operations that make it index out of range) must cost this operation only, answered
        // with an error, not the connection without an answer (or a test process).
        let planned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let normalized =
                normalize_operation(&self.planner.supergraph, doc, operation_name).map_err(|e| e.to_string())?;
            let token = CancellationToken::with_timeout(self.options.plan_timeout);
            self.planner
                .plan_from_normalized_operation(&normalized.operation, Default::default(), &token)
                .map_err(|e| e.to_string())
        }));
        let mut plan = planned.map_err(|_| "the query planner panicked".to_owned())??;
        // The planner sometimes points an entity fetch's requires at the wrong member when a
        // required field is also asked with other arguments (docs/federation.md, kind 8).
        self.requires.repair(&mut plan);
        metrics::histogram!("gateway_plan_duration_seconds").record(started.elapsed().as_secs_f64());
        let plan = Arc::new(plan);
        self.plans.insert(key, plan.clone());
        Ok(plan)
    }

    /// What the caller with `granted` may not see of the operation; `check` walks it. Callers send
    /// the same operations with the same scopes over and over, and most may see everything they
    /// ask for: that answer depends on neither variables nor anything else, so it is remembered
    /// per document, operation and scope set, and the walk is skipped. Operations that lose
    /// fields are walked every time (their errors carry paths that depend on `@skip`/`@include`).
    fn denied(
        &self,
        doc_key: u64,
        operation_name: Option<&str>,
        granted: &[String],
        check: impl FnOnce() -> scopes::Denied,
    ) -> scopes::Denied {
        if self.scopes.is_empty() {
            return scopes::Denied::default();
        }
        let mut sorted: Vec<&str> = granted.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut hasher = std::hash::DefaultHasher::new();
        (doc_key, operation_name, sorted).hash(&mut hasher);
        let key = hasher.finish();
        if self.allowed.contains_key(&key) {
            return scopes::Denied::default();
        }
        let denied = check();
        if denied.coordinates.is_empty() {
            self.allowed.insert(key, ());
        }
        denied
    }

    /// The parsed document of `query`, checked against the limits and validated (cached), off
    /// the async workers ([`crate::check`]). Also returns the hash of the text the document is
    /// cached under, which later caches reuse.
    async fn valid_document(&self, query: &str) -> Result<(u64, Arc<Document>), Box<Outcome>> {
        self.checker.check(query).await
    }

    /// Whether `query` parses, passes the limits and validates (then it is cached for the
    /// request that runs it): `Err` is the answer to send instead. For persisted queries, which
    /// register only documents that pass.
    pub async fn check_document(&self, query: &str) -> Result<(), Outcome> {
        self.checker.check(query).await.map(|_| ()).map_err(|o| *o)
    }

    /// Runs `run`, the query `query`, unless an identical one is running: then waits for that
    /// one's answer. If the one running goes away unanswered (its client left), runs `run`.
    async fn run_once(
        &self,
        query: &str,
        operation_name: Option<&str>,
        variables: &Map<String, Value>,
        ctx: &FetchContext,
        run: impl Future<Output = Outcome>,
    ) -> Outcome {
        let key = Arc::new(RunningKey {
            query: query.to_owned(),
            operation: operation_name.map(str::to_owned),
            variables: Value::Object(variables.clone()).to_string(),
            claims: ctx.claims.clone(),
        });
        let waiting = {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            match running.get(&key) {
                Some(answer) => Err(answer.clone()),
                None => {
                    let (tx, rx) = tokio::sync::watch::channel(None);
                    running.insert(key.clone(), rx);
                    Ok(tx)
                }
            }
        };
        match waiting {
            Ok(tx) => {
                let finished = Finished {
                    running: &self.running,
                    key,
                };
                let outcome = run.await;
                let answer = SharedAnswer {
                    status: outcome.status,
                    response: outcome.response.clone(),
                    contains_pii: ctx.contains_pii.load(Ordering::Relaxed),
                };
                // Sent before the entry leaves the map, so no one who joined misses it.
                let _ = tx.send(Some(Arc::new(answer)));
                drop(finished);
                outcome
            }
            Err(mut rx) => {
                let shared = rx
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|a| a.as_ref().cloned());
                let Some(answer) = shared else {
                    return run.await;
                };
                metrics::counter!("gateway_operations_shared_total").increment(1);
                if answer.contains_pii {
                    ctx.contains_pii.store(true, Ordering::Relaxed);
                }
                Outcome {
                    operation: None,
                    status: answer.status,
                    response: answer.response.clone(),
                }
            }
        }
    }

    /// Runs one request for a caller with the `granted` scopes. `allow_mutation` is false for GET.
    pub async fn execute(
        &self,
        request: Request,
        allow_mutation: bool,
        ctx: &FetchContext,
        granted: &[String],
    ) -> Outcome {
        let mut operation = None;
        let mut outcome = self
            .execute_operation(request, allow_mutation, ctx, granted, &mut operation)
            .await;
        outcome.operation = operation.map(Box::new);
        outcome
    }

    /// [`Gateway::execute`], noting the operation in `info` once it is known.
    async fn execute_operation(
        &self,
        request: Request,
        allow_mutation: bool,
        ctx: &FetchContext,
        granted: &[String],
        info: &mut Option<OperationInfo>,
    ) -> Outcome {
        let Some(query) = request.query.as_deref().filter(|q| !q.trim().is_empty()) else {
            return Outcome::bad("the request has no query", "BAD_REQUEST");
        };
        let (doc_key, doc) = match self.valid_document(query).await {
            Ok(found) => found,
            Err(outcome) => return *outcome,
        };
        let doc: &Document = &doc;
        let operation_name = request.operation_name.as_deref().filter(|n| !n.is_empty());
        let Some(op) = select_operation(doc, operation_name) else {
            return Outcome::bad(
                match operation_name {
                    Some(n) => format!("the document has no operation named {n}"),
                    None => "the document has several operations: say which one with operationName".into(),
                },
                "BAD_REQUEST",
            );
        };
        let (kind, selection, var_defs) = parts(op);
        *info = Some(OperationInfo {
            kind,
            name: op_name(op).map(str::to_owned),
            root_fields: root_fields(selection, doc)
                .into_iter()
                .filter(|n| !n.starts_with("__"))
                .collect(),
            variable_names: request.variables.iter().flat_map(|v| v.keys().cloned()).collect(),
            target_id: ["id", "customerId"]
                .iter()
                .find_map(|k| match request.variables.as_ref()?.get(*k)? {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                }),
        });
        if kind == "subscription" {
            return Outcome::bad("subscriptions are not supported", "NOT_SUPPORTED");
        }
        if kind == "mutation" && !allow_mutation {
            return Outcome {
                operation: None,
                status: 405,
                response: Response::request_error(
                    GraphqlError::new("mutations are only accepted over POST").with_code("METHOD_NOT_ALLOWED"),
                ),
            };
        }
        let variables = match self.inputs.coerce(var_defs, request.variables.unwrap_or_default()) {
            Ok(v) => v,
            Err(why) => return Outcome::bad(why, "BAD_USER_INPUT"),
        };
        let fragments = doc
            .definitions
            .iter()
            .filter_map(|d| match d {
                Definition::Fragment(f) => Some((f.name.as_str(), f)),
                Definition::Operation(_) => None,
            })
            .collect();
        let introspective = root_fields(selection, doc)
            .into_iter()
            .filter(|n| n.starts_with("__") && n != "__typename")
            .count();
        let root_type = if kind == "mutation" {
            self.schema.mutation.clone().unwrap_or_else(|| "Mutation".into())
        } else {
            self.schema.query.clone()
        };
        if introspective > 0 {
            let Some(introspection) = &self.introspection else {
                return Outcome::bad("introspection is disabled", "INTROSPECTION_DISABLED");
            };
            let data_fields = root_fields(selection, doc)
                .into_iter()
                .filter(|n| !n.starts_with("__"))
                .count();
            if data_fields > 0 {
                return Outcome::bad(
                    "ask for __schema and __type in an operation of their own, without data fields",
                    "BAD_REQUEST",
                );
            }
            let response = introspection.execute(query, operation_name, &variables).await;
            return Outcome {
                operation: None,
                status: 200,
                response,
            };
        }
        let run = async {
            // Scopes are checked on data fields only: introspection was answered above.
            let denied = self.denied(doc_key, operation_name, granted, || {
                self.scopes
                    .check(&self.schema, &root_type, selection, &fragments, &variables, granted)
            });
            let plan = match self.plan_document(doc_key, doc, operation_name, &denied.coordinates) {
                Ok(p) => p,
                Err(why) => {
                    tracing::error!(error = %why, "planning failed");
                    return Outcome {
                        operation: None,
                        status: 500,
                        response: Response::request_error(
                            GraphqlError::new("the gateway could not plan this operation").with_code("INTERNAL"),
                        ),
                    };
                }
            };
            let bodies = Bodies::new(plan.node.as_ref().map_or(0, fetch_count));
            let sharing;
            let ctx = if kind == "query" && self.options.dedupe_subgraph_requests {
                sharing = FetchContext {
                    share: true,
                    ..ctx.clone()
                };
                &sharing
            } else {
                ctx
            };
            let execution = Execution::new(&self.fetcher, &self.schema, ctx, &variables, &bodies);
            if let Some(node) = &plan.node {
                execution.run(node).await;
            }
            let (data, subgraph_errors) = execution.finish();
            let mut errors = denied.errors;
            errors.extend(subgraph_errors);
            let shaper = Shaper::new(&self.schema, fragments, &variables, &mut errors, &denied.concrete);
            let data = shaper.shape_root(&root_type, selection, &data, bodies.kept_bytes());
            Outcome {
                operation: None,
                status: 200,
                response: Response {
                    data: Some(Data::Text(data)),
                    errors,
                },
            }
        };
        if kind != "query" || !self.options.dedupe_queries {
            return run.await;
        }
        self.run_once(query, operation_name, &variables, ctx, run).await
    }
}

/// The operation `name` of `doc`, or its only one when no name is given.
pub(crate) fn select_operation<'d>(doc: &'d Document, name: Option<&str>) -> Option<&'d Op> {
    let mut ops = doc.definitions.iter().filter_map(|d| match d {
        Definition::Operation(op) => Some(op),
        Definition::Fragment(_) => None,
    });
    match name {
        Some(n) => ops.find(|op| op_name(op) == Some(n)),
        None => {
            let first = ops.next()?;
            ops.next().is_none().then_some(first)
        }
    }
}

fn op_name(op: &Op) -> Option<&str> {
    match op {
        Op::SelectionSet(_) => None,
        Op::Query(q) => q.name.as_deref(),
        Op::Mutation(m) => m.name.as_deref(),
        Op::Subscription(s) => s.name.as_deref(),
    }
}

fn parts(op: &Op) -> (&'static str, &q::SelectionSet, &[q::VariableDefinition]) {
    match op {
        Op::SelectionSet(s) => ("query", s, &[]),
        Op::Query(q) => ("query", &q.selection_set, &q.variable_definitions),
        Op::Mutation(m) => ("mutation", &m.selection_set, &m.variable_definitions),
        Op::Subscription(s) => ("subscription", &s.selection_set, &s.variable_definitions),
    }
}

/// Root field names, through fragments.
fn root_fields(selection: &q::SelectionSet, doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    for item in &selection.items {
        match item {
            q::Selection::Field(f) => out.push(f.name.clone()),
            q::Selection::InlineFragment(i) => out.extend(root_fields(&i.selection_set, doc)),
            q::Selection::FragmentSpread(s) => {
                for d in &doc.definitions {
                    if let Definition::Fragment(f) = d
                        && f.name == s.fragment_name
                    {
                        out.extend(root_fields(&f.selection_set, doc));
                    }
                }
            }
        }
    }
    out
}

pub(crate) fn to_json(v: &q::Value) -> Value {
    match v {
        q::Value::Variable(_) | q::Value::Null => Value::Null,
        q::Value::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        q::Value::Float(f) => Value::from(*f),
        q::Value::String(s) => Value::from(s.as_str()),
        q::Value::Boolean(b) => Value::from(*b),
        q::Value::Enum(e) => Value::from(e.as_str()),
        q::Value::List(items) => Value::Array(items.iter().map(to_json).collect()),
        q::Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}
