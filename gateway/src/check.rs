//! Parsing, limits and validation of a document, off the async workers and within a time budget.
//!
//! Validating against the consumer schema costs far more than anything else the gateway does for
//! a request it has not seen before, and some of its rules grow with the square of the document.
//! The limits ([`crate::limits`]) bound that cost before validation starts; this module bounds
//! where and how long it runs: on tokio's blocking threads, at most `validation_threads` at once,
//! and a request whose document is not through within `validation_budget_ms` (queueing included)
//! is refused. The async workers only look the document up in the cache, so `/healthz` and cached
//! answers keep their latency while expensive documents queue here.
//!
//! A document refused for its time is not cached as valid; the blocking work already started
//! still ends (validation cannot be interrupted), holding its permit until then, so a flood of
//! such documents costs at most `validation_threads` CPUs.

use std::{
    hash::{Hash, Hasher},
    sync::Arc,
    time::Duration,
};

use graphql_tools::{
    static_graphql::{query::Document, schema},
    validation::validate::ValidationPlan,
};
use tokio::sync::Semaphore;

use crate::{
    gateway::Outcome,
    limits::{self, Limits},
    response::{GraphqlError, Response},
};

/// Checks documents; cheap to clone (the cache and the permits are shared).
#[derive(Clone)]
pub(crate) struct DocumentChecker {
    schema: Arc<schema::Document>,
    validation: Arc<ValidationPlan>,
    limits: Limits,
    /// Documents that parsed, passed the limits and validated, by a hash of their text: clients
    /// send the same few operations over and over.
    documents: moka::sync::Cache<u64, Arc<Document>>,
    permits: Arc<Semaphore>,
    budget: Duration,
}

impl DocumentChecker {
    pub fn new(
        schema: Arc<schema::Document>,
        validation: ValidationPlan,
        limits: Limits,
        cache_size: u64,
    ) -> DocumentChecker {
        let threads = match limits.validation_threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        DocumentChecker {
            schema,
            validation: Arc::new(validation),
            budget: Duration::from_millis(limits.validation_budget_ms),
            limits,
            documents: moka::sync::Cache::new(cache_size),
            permits: Arc::new(Semaphore::new(threads)),
        }
    }

    /// The key a document's text is cached under.
    pub fn key(query: &str) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        query.hash(&mut hasher);
        hasher.finish()
    }

    /// The parsed, limited and validated document of `query` (cached), with its cache key.
    pub async fn check(&self, query: &str) -> Result<(u64, Arc<Document>), Box<Outcome>> {
        let key = Self::key(query);
        if let Some(doc) = self.documents.get(&key) {
            return Ok((key, doc));
        }
        let work = async {
            let permit = self
                .permits
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let checker = self.clone();
            let query = query.to_owned();
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                checker.check_now(&query)
            })
            .await
        };
        match tokio::time::timeout(self.budget, work).await {
            Ok(Ok(Ok(doc))) => {
                let doc = Arc::new(doc);
                self.documents.insert(key, doc.clone());
                Ok((key, doc))
            }
            Ok(Ok(Err(refused))) => Err(refused),
            Ok(Err(join)) => {
                tracing::error!(error = %join, "document validation panicked");
                Err(Box::new(Outcome::refused(
                    500,
                    "the gateway could not validate this document",
                    "INTERNAL",
                )))
            }
            Err(_) => {
                metrics::counter!("gateway_validation_budget_exceeded_total").increment(1);
                Err(Box::new(Outcome::refused(
                    400,
                    format!(
                        "the document could not be parsed and validated within {} ms; send a smaller one",
                        self.budget.as_millis()
                    ),
                    "VALIDATION_BUDGET_EXCEEDED",
                )))
            }
        }
    }

    /// Parse (token limit), limits and validation, on the calling thread.
    fn check_now(&self, query: &str) -> Result<Document, Box<Outcome>> {
        let doc = match graphql_tools::parser::parse_query_with_token_limit::<String>(query, self.limits.max_tokens) {
            Ok(d) => d.into_static(),
            Err(e) => {
                let message = e.to_string();
                if message.to_ascii_lowercase().contains("token limit") {
                    let limit = self.limits.max_tokens;
                    return Err(Box::new(Outcome::refused(
                        400,
                        format!("the document has more than {limit} tokens"),
                        "LIMIT_EXCEEDED",
                    )));
                }
                return Err(Box::new(Outcome::refused(
                    400,
                    message.trim().to_owned(),
                    "GRAPHQL_PARSE_FAILED",
                )));
            }
        };
        if let Err(why) = limits::check(&doc, &self.limits) {
            return Err(Box::new(Outcome::refused(400, why.message, why.code)));
        }
        let errors = graphql_tools::validation::validate::validate(&self.schema, &doc, &self.validation);
        if !errors.is_empty() {
            return Err(Box::new(Outcome {
                operation: None,
                status: 400,
                response: Response {
                    data: None,
                    errors: errors
                        .into_iter()
                        .map(|e| {
                            let mut err = GraphqlError::new(e.message).with_code("GRAPHQL_VALIDATION_FAILED");
                            err.locations = e
                                .locations
                                .iter()
                                .map(|p| serde_json::json!({ "line": p.line, "column": p.column }))
                                .collect();
                            err
                        })
                        .collect(),
                },
            }));
        }
        Ok(doc)
    }
}
