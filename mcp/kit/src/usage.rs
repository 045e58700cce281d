//! Every tool call recorded in `sales.ai_usage`, through the gateway's `recordAiUsage` mutation
//! with the caller's own token: the gateway verifies it and the sales subgraph takes who made the
//! call (subject, organization, request id) from the verified claims, never from us.

use serde_json::{Value, json};

use crate::{
    caller::Caller,
    gateway::{GatewayClient, GatewayError},
};

/// Longest prompt or result the mutation accepts; longer texts are cut here, marked as cut.
pub const MAX_TEXT: usize = 32_000;

const RECORD: &str = "mutation RecordAiUsage($input: AiUsageInput!) { recordAiUsage(input: $input) }";

/// How a tool's output was checked (the `ValidationMethod` of the graph).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Not checked.
    None,
    /// Checked against the tool's output schema.
    Schema,
    /// Checked by deterministic rules (e.g. every name matched the live catalogue).
    Rule,
}

impl Validation {
    /// The method as the cache keeps it, and back.
    pub fn name(self) -> &'static str {
        match self {
            Validation::None => "none",
            Validation::Schema => "schema",
            Validation::Rule => "rule",
        }
    }

    pub fn from_name(name: &str) -> Validation {
        match name {
            "schema" => Validation::Schema,
            "rule" => Validation::Rule,
            _ => Validation::None,
        }
    }

    fn as_graphql(self) -> &'static str {
        match self {
            Validation::None => "NONE",
            Validation::Schema => "SCHEMA",
            Validation::Rule => "RULE",
        }
    }
}

/// One call to record.
#[derive(Debug, Clone)]
pub struct UsageRecord<'a> {
    pub tool: &'a str,
    pub model: &'a str,
    pub prompt: &'a str,
    pub result: &'a str,
    pub validation: Validation,
    /// The verdict; ignored (sent as null) when `validation` is `None`.
    pub validated: bool,
    pub cache_hit: bool,
    pub latency_ms: u128,
    /// Prompt tokens billed or read by a model (0 when none was).
    pub tokens_in: u32,
    /// Completion tokens.
    pub tokens_out: u32,
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_TEXT {
        return text.to_owned();
    }
    const MARK: &str = "…[cut]";
    let mut out: String = text.chars().take(MAX_TEXT - MARK.chars().count()).collect();
    out.push_str(MARK);
    out
}

/// Records one call as `caller`; returns the record's id.
pub async fn record(gateway: &GatewayClient, caller: &Caller, usage: &UsageRecord<'_>) -> Result<String, GatewayError> {
    let validated = (usage.validation != Validation::None).then_some(usage.validated);
    let input = json!({
        "tool": usage.tool,
        "model": usage.model,
        "prompt": cut(usage.prompt),
        "result": cut(usage.result),
        "validationMethod": usage.validation.as_graphql(),
        "validated": validated,
        "cacheHit": usage.cache_hit,
        "latencyMs": i32::try_from(usage.latency_ms).unwrap_or(i32::MAX),
        "tokensIn": i32::try_from(usage.tokens_in).unwrap_or(i32::MAX),
        "tokensOut": i32::try_from(usage.tokens_out).unwrap_or(i32::MAX),
    });
    let response = gateway.execute(caller, RECORD, json!({ "input": input })).await?;
    match response.data["recordAiUsage"].as_str() {
        Some(id) => Ok(id.to_owned()),
        None => Err(classify(&response.errors)),
    }
}

fn classify(errors: &[Value]) -> GatewayError {
    let text = errors
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if errors
        .iter()
        .any(|e| matches!(e["extensions"]["code"].as_str(), Some("FORBIDDEN" | "UNAUTHENTICATED")))
    {
        GatewayError::Forbidden(text)
    } else {
        GatewayError::Graphql(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_cut_long_texts_to_what_the_log_accepts() {
        let long = "é".repeat(MAX_TEXT + 10);
        let cut = cut(&long);
        assert_eq!(cut.chars().count(), MAX_TEXT);
        assert!(cut.ends_with("…[cut]"));
        assert_eq!(super::cut("short"), "short");
    }
}
