//! The one path every tool call takes: find the caller, serve a cached answer or compute it,
//! record the call in `sales.ai_usage` (through the gateway), keep the answer, reply.
//!
//! No answer leaves without its usage record: when the record cannot be written (for instance
//! the token lacks `sales:write`, or the gateway no longer accepts it) the call fails with that
//! reason. Since the record goes through the gateway, a cache hit is only served to a token the
//! gateway still accepts.

use std::{future::Future, time::Instant};

use promptsales_platform::{Secret, telemetry};
use rmcp::{
    RoleServer,
    model::{CallToolResult, ContentBlock},
    service::RequestContext,
};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::{
    cache::AnswerCache,
    caller::Caller,
    gateway::{GatewayClient, GatewayError},
    usage::{self, UsageRecord, Validation},
};

/// What a server's tools share.
#[derive(Clone, Debug)]
pub struct Kit {
    pub gateway: GatewayClient,
    pub cache: AnswerCache,
    /// The token used over stdio.
    pub stdio_token: Option<Secret<String>>,
    /// Recorded as the `model` of every call (the engine that produced the answers).
    pub model: &'static str,
}

/// One tool call: its name, its arguments (the cache key's input) and the prompt to record.
#[derive(Debug, Clone)]
pub struct ToolCall {
    pub tool: &'static str,
    pub arguments: Value,
    /// The question or a readable form of the arguments.
    pub prompt: String,
}

/// A computed answer.
#[derive(Debug, Clone)]
pub struct ToolOutcome {
    /// A short sentence for people (first content block).
    pub text: String,
    /// The structured answer.
    pub answer: Value,
    pub validation: Validation,
    pub validated: bool,
}

/// Why a tool could not answer. Every variant becomes a tool error the client's model can read.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments make no sense (the text says which and why).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

impl Kit {
    /// Runs `call` for the caller of `ctx`, with `compute` on a cache miss.
    pub async fn run<F, Fut>(&self, ctx: &RequestContext<RoleServer>, call: ToolCall, compute: F) -> CallToolResult
    where
        F: FnOnce(Caller) -> Fut,
        Fut: Future<Output = Result<ToolOutcome, ToolError>>,
    {
        match Caller::of(ctx, self.stdio_token.as_ref()) {
            Ok(caller) => {
                let span = tool_span(ctx, call.tool);
                self.run_inner(&caller, call, compute, true).instrument(span).await
            }
            Err(e) => error_result(&e.to_string(), "unauthenticated"),
        }
    }

    /// [`Kit::run`] for a tool that writes: never answered from the cache nor kept in it (a
    /// repeated call must write again, not replay the ids of the first one).
    pub async fn run_write<F, Fut>(
        &self,
        ctx: &RequestContext<RoleServer>,
        call: ToolCall,
        compute: F,
    ) -> CallToolResult
    where
        F: FnOnce(Caller) -> Fut,
        Fut: Future<Output = Result<ToolOutcome, ToolError>>,
    {
        match Caller::of(ctx, self.stdio_token.as_ref()) {
            Ok(caller) => {
                let span = tool_span(ctx, call.tool);
                self.run_inner(&caller, call, compute, false).instrument(span).await
            }
            Err(e) => error_result(&e.to_string(), "unauthenticated"),
        }
    }

    async fn run_inner<F, Fut>(&self, caller: &Caller, call: ToolCall, compute: F, cacheable: bool) -> CallToolResult
    where
        F: FnOnce(Caller) -> Fut,
        Fut: Future<Output = Result<ToolOutcome, ToolError>>,
    {
        let started = Instant::now();
        let key = if cacheable {
            self.cache.key(call.tool, caller, &call.arguments)
        } else {
            None
        };
        if let Some(key) = &key
            && let Some(cached) = self.cache.get(key).await
            && let (Some(text), Some(answer)) = (cached["text"].as_str(), cached.get("answer"))
        {
            let outcome = ToolOutcome {
                text: text.to_owned(),
                answer: answer.clone(),
                validation: Validation::from_name(cached["validation"].as_str().unwrap_or("none")),
                validated: cached["validated"].as_bool().unwrap_or(false),
            };
            return match self.record(caller, &call, &outcome, true, started).await {
                Ok(()) => success(&outcome, true),
                Err(e) => error_result(&format!("not answered: the call could not be recorded ({e})"), "usage"),
            };
        }
        let outcome = match compute(caller.clone()).await {
            Ok(outcome) => outcome,
            Err(e) => {
                let kind = match &e {
                    ToolError::Invalid(_) => "invalid",
                    ToolError::Gateway(GatewayError::Unauthenticated(_)) => "unauthenticated",
                    ToolError::Gateway(GatewayError::Forbidden(_)) => "forbidden",
                    ToolError::Gateway(_) => "gateway",
                };
                // A refused token cannot record anything either; other failures are recorded.
                if !matches!(kind, "unauthenticated") {
                    let failed = ToolOutcome {
                        text: e.to_string(),
                        answer: json!({ "error": e.to_string() }),
                        validation: Validation::Rule,
                        validated: false,
                    };
                    let _ = self.record(caller, &call, &failed, false, started).await;
                }
                return error_result(&e.to_string(), kind);
            }
        };
        if let Err(e) = self.record(caller, &call, &outcome, false, started).await {
            return error_result(&format!("not answered: the call could not be recorded ({e})"), "usage");
        }
        if let Some(key) = &key {
            let entry = json!({
                "text": outcome.text,
                "answer": outcome.answer,
                "validation": outcome.validation.name(),
                "validated": outcome.validated,
            });
            self.cache.put(key, caller, &entry).await;
        }
        success(&outcome, false)
    }

    async fn record(
        &self,
        caller: &Caller,
        call: &ToolCall,
        outcome: &ToolOutcome,
        cache_hit: bool,
        started: Instant,
    ) -> Result<(), GatewayError> {
        let result = outcome.answer.to_string();
        let record = UsageRecord {
            tool: call.tool,
            model: self.model,
            prompt: &call.prompt,
            result: &result,
            validation: outcome.validation,
            validated: outcome.validated,
            cache_hit,
            latency_ms: started.elapsed().as_millis(),
            tokens_in: 0,
            tokens_out: 0,
        };
        usage::record(&self.gateway, caller, &record).await.map(|_| ())
    }
}

/// The span of one tool call, while traces are exported. Over HTTP it continues the trace the
/// client named in its request's `traceparent`; every gateway request of the call names this
/// span in turn (`GatewayClient::execute`), so one tool call is one trace from the client through
/// the gateway to the subgraphs.
fn tool_span(ctx: &RequestContext<RoleServer>, tool: &'static str) -> tracing::Span {
    if !telemetry::tracing_enabled() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        "mcp tool call",
        otel.name = %format_args!("tools/call {tool}"),
        otel.kind = "server",
        mcp.tool = tool,
    );
    if let Some(parts) = ctx.extensions.get::<http::request::Parts>() {
        telemetry::join_remote_parent(&span, &parts.headers);
    }
    span
}

fn success(outcome: &ToolOutcome, cached: bool) -> CallToolResult {
    let mut answer = outcome.answer.clone();
    if let Value::Object(map) = &mut answer {
        map.insert("cached".into(), Value::Bool(cached));
    }
    let mut result = CallToolResult::structured(answer);
    result.content.insert(0, ContentBlock::text(outcome.text.clone()));
    result
}

/// A tool error the client's model can read: a sentence and `{ "error": kind, "message": … }`.
pub fn error_result(message: &str, kind: &str) -> CallToolResult {
    let mut result = CallToolResult::structured_error(json!({ "error": kind, "message": message }));
    result.content.insert(0, ContentBlock::text(message.to_owned()));
    result
}
