//! The MCP server: `getContent` and `draftCampaignMessages`, each answered through the [`Kit`]
//! (caller's token, usage records) from GraphQL calls to the gateway.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
#[allow(deprecated)] // CreateMessageRequestParams and SamplingMessage: see `sample`.
use promptsales_mcp_kit::{
    Caller, GatewayClient, GatewayError, Kit, ToolCall, ToolError, ToolOutcome,
    rmcp::{
        Peer, RoleServer, ServerHandler,
        handler::server::{router::tool::ToolRouter, wrapper::Parameters},
        model::{
            CallToolResult, CreateMessageRequestParams, Implementation, JsonObject, SamplingMessage,
            ServerCapabilities, ServerConfig,
        },
        service::RequestContext,
        tool, tool_handler, tool_router,
    },
    tool::error_result,
    usage::{self, UsageRecord, Validation},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{
    brief::{BriefArgs, GetContentArgs},
    compose::{self, STAGES},
    docs,
    generate::{self, Attempt, LlmCache, Source},
    llm::LlmEndpoint,
};

/// How long the client's model may take to answer a sampling request.
const SAMPLING_TIMEOUT: Duration = Duration::from_secs(60);

const SEARCH: &str = "query GetContent($text: String!, $first: Int!, $hashtags: [String!]!) {
  searchImages(text: $text, first: $first, hashtags: $hashtags) {
    model queryTokens embeddingCacheHit embeddingMs
    hits { score hashtags image { id url description altText } }
  }
}";

const CREATE_REQUEST: &str = "mutation CreateContentRequest($input: NewContentRequestInput!) {
  createContentRequest(input: $input) { id status }
}";

const DRAFT_LOG: &str = "mutation DraftCampaignLog($input: NewCampaignLogInput!) {
  draftCampaignLog(input: $input) { id status population channelCode messages { at locale text } }
}";

/// State shared by every session.
pub struct Shared {
    pub kit: Kit,
    /// A configured OpenAI-compatible endpoint, if any.
    pub llm: Option<LlmEndpoint>,
    pub llm_cache: LlmCache,
}

/// The PromptContent MCP server (one per MCP session; the state is shared).
#[derive(Clone)]
pub struct ContentServer {
    shared: Arc<Shared>,
    tool_router: ToolRouter<ContentServer>,
}

/// The arguments as the tool's type, or a tool error that says what is wrong with them.
fn parse<T: DeserializeOwned>(arguments: JsonObject) -> Result<T, String> {
    serde_json::from_value(Value::Object(arguments)).map_err(|e| format!("bad arguments: {e}"))
}

async fn record_ai(gateway: &GatewayClient, caller: &Caller, tool: &str, attempt: &Attempt) {
    // What failed is part of the record: the raw answer and the checks' findings.
    let result = if attempt.problems.is_empty() {
        attempt.raw.clone()
    } else {
        format!("{}\n[checks failed: {}]", attempt.raw, attempt.problems.join("; "))
    };
    let record = UsageRecord {
        tool,
        model: &attempt.model,
        prompt: &attempt.prompt,
        result: &result,
        validation: Validation::Rule,
        validated: attempt.problems.is_empty(),
        cache_hit: attempt.cache_hit,
        latency_ms: attempt.latency_ms,
        tokens_in: attempt.tokens_in,
        tokens_out: attempt.tokens_out,
    };
    if let Err(e) = usage::record(gateway, caller, &record).await {
        tracing::warn!(error = %e, tool, "an AI call could not be recorded");
    }
}

/// Length of the embeddings the content subgraph makes (all-MiniLM-L6-v2).
const EMBEDDING_DIMENSIONS: usize = 384;

/// Whether the client offered sampling when it connected.
fn offers_sampling(peer: &Peer<RoleServer>) -> bool {
    peer.peer_info()
        .is_some_and(|info| info.capabilities.sampling.is_some())
}

/// Asks the client's own model (MCP sampling). Sampling is deprecated by the newest protocol
/// revision (SEP-2577) but is what today's clients offer, and the issue asks for the client's
/// own model first.
#[allow(deprecated)]
async fn sample(peer: &Peer<RoleServer>, system: &str, user: &str) -> Result<(String, String, u32, u32), String> {
    let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(user)], 1_000)
        .with_system_prompt(system.to_owned());
    let asked = peer.create_message(params);
    let result = tokio::time::timeout(SAMPLING_TIMEOUT, asked)
        .await
        .map_err(|_| "the client's model did not answer in time".to_owned())?
        .map_err(|e| e.to_string())?;
    let text = result
        .message
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("");
    Ok((text, result.model, 0, 0))
}

/// When each stage is to be sent: one, four and eight days from now, on the hour.
fn schedule(now: DateTime<Utc>) -> [DateTime<Utc>; 3] {
    let base = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    [1, 4, 8].map(|d| base + TimeDelta::days(d))
}

fn forbidden_text(e: &GatewayError) -> Option<String> {
    match e {
        GatewayError::Forbidden(m) => Some(m.clone()),
        GatewayError::Graphql(m) if m.contains("FORBIDDEN") => Some(m.clone()),
        _ => None,
    }
}

#[tool_router]
impl ContentServer {
    pub fn new(shared: Arc<Shared>) -> ContentServer {
        ContentServer {
            shared,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        name = "getContent",
        description = docs::get_content(),
        input_schema = rmcp::handler::server::common::schema_for_type::<GetContentArgs>()
    )]
    async fn get_content(
        &self,
        Parameters(arguments): Parameters<JsonObject>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let args = match parse::<GetContentArgs>(arguments).and_then(|a| a.checked().map(|c| (a, c))) {
            Ok(ok) => ok,
            Err(message) => return error_result(&message, "invalid"),
        };
        let (raw, (description, limit, hashtags)) = args;
        let shared = self.shared.clone();
        let call = ToolCall {
            tool: "content.getContent",
            arguments: json!(raw),
            prompt: description.clone(),
        };
        self.shared
            .kit
            .run(&ctx, call, move |caller| async move {
                let variables = json!({ "text": description, "first": limit, "hashtags": hashtags });
                let response = shared.kit.gateway.execute(&caller, SEARCH, variables).await?;
                if let Some(errors) = response.error_text() {
                    return Err(ToolError::Gateway(GatewayError::Graphql(errors)));
                }
                let search = &response.data["searchImages"];
                // The query's embedding is an AI call of its own (made by the content subgraph).
                let model = format!("local:{}", search["model"].as_str().unwrap_or("unknown"));
                let result = format!("a {EMBEDDING_DIMENSIONS}-number embedding");
                let record = UsageRecord {
                    tool: "content.getContent.embedding",
                    model: &model,
                    prompt: &description,
                    result: &result,
                    validation: Validation::None,
                    validated: false,
                    cache_hit: search["embeddingCacheHit"].as_bool().unwrap_or(false),
                    latency_ms: u128::from(search["embeddingMs"].as_u64().unwrap_or(0)),
                    tokens_in: u32::try_from(search["queryTokens"].as_u64().unwrap_or(0)).unwrap_or(0),
                    tokens_out: 0,
                };
                usage::record(&shared.kit.gateway, &caller, &record).await?;

                let mut counts: BTreeMap<String, u32> = BTreeMap::new();
                let images: Vec<Value> = search["hits"]
                    .as_array()
                    .map(|hits| {
                        hits.iter()
                            .map(|h| {
                                for t in h["hashtags"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                                    *counts.entry(t.to_owned()).or_default() += 1;
                                }
                                json!({
                                    "id": h["image"]["id"],
                                    "url": h["image"]["url"],
                                    "description": h["image"]["description"],
                                    "altText": h["image"]["altText"],
                                    "score": h["score"],
                                    "hashtags": h["hashtags"],
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut tags: Vec<(String, u32)> = counts.into_iter().collect();
                tags.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let text = if images.is_empty() {
                    "No image matches.".to_owned()
                } else {
                    format!(
                        "{} images, best first; most common hashtags: {}.",
                        images.len(),
                        tags.iter()
                            .take(5)
                            .map(|(t, _)| format!("#{t}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                };
                Ok(ToolOutcome {
                    text,
                    answer: json!({
                        "images": images,
                        "hashtags": tags.iter().map(|(t, n)| json!({ "tag": t, "images": n })).collect::<Vec<_>>(),
                        "model": search["model"],
                    }),
                    validation: Validation::Schema,
                    validated: true,
                })
            })
            .await
    }

    #[tool(
        name = "draftCampaignMessages",
        description = docs::draft_campaign_messages(),
        input_schema = rmcp::handler::server::common::schema_for_type::<BriefArgs>()
    )]
    async fn draft_campaign_messages(
        &self,
        Parameters(arguments): Parameters<JsonObject>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let parsed = parse::<BriefArgs>(arguments).and_then(|b| b.check().map(|c| (b, c)));
        let (brief, campaign_id) = match parsed {
            Ok(ok) => ok,
            Err(message) => return error_result(&message, "invalid"),
        };
        let shared = self.shared.clone();
        let peer = ctx.peer.clone();
        let call = ToolCall {
            tool: "content.draftCampaignMessages",
            arguments: json!(brief),
            prompt: brief.campaign_description.clone(),
        };
        self.shared
            .kit
            .run_write(&ctx, call, move |caller| async move {
                draft(&shared, &peer, &caller, &brief, campaign_id).await
            })
            .await
    }
}

/// The brief tool's work, as `caller`.
async fn draft(
    shared: &Shared,
    peer: &Peer<RoleServer>,
    caller: &Caller,
    brief: &BriefArgs,
    campaign_id: uuid::Uuid,
) -> Result<ToolOutcome, ToolError> {
    let gateway = &shared.kit.gateway;
    let refused = |e: GatewayError| match forbidden_text(&e) {
        Some(m) => ToolError::Gateway(GatewayError::Forbidden(format!(
            "draftCampaignMessages stores a content request and drafts, which needs the content:write scope and a \
             portal user's token: {m}"
        ))),
        None => ToolError::Gateway(e),
    };
    let input = json!({
        "organizationId": brief.organization_id,
        "campaignId": campaign_id,
        "campaignDescription": brief.campaign_description.trim(),
        "targetAudiences": brief.populations.iter().map(|p| json!({
            "name": p.name.trim(),
            "ageMin": p.age_min,
            "ageMax": p.age_max,
            "locales": p.locales,
            "interests": p.interests,
            "countryCodes": p.country_codes,
        })).collect::<Vec<_>>(),
    });
    let created = gateway
        .execute(caller, CREATE_REQUEST, json!({ "input": input }))
        .await
        .map_err(refused)?;
    if let Some(errors) = created.error_text() {
        return Err(refused(GatewayError::Graphql(errors)));
    }
    let request_id = created.data["createContentRequest"]["id"].clone();

    let product = compose::product_of(&brief.campaign_description, brief.product.as_deref());
    let sampling = offers_sampling(peer);
    let at = schedule(Utc::now());
    let mut populations = Vec::new();
    for population in &brief.populations {
        let fit = compose::fit(population);
        let (system, user) = generate::prompts(&brief.campaign_description, &product, population, &fit);
        let mut chosen: Option<Attempt> = None;
        if sampling {
            let attempt = generate::through_cache(
                &shared.llm_cache,
                Source::Sampling,
                "client-model",
                (system.as_str(), user.as_str()),
                &fit,
                || sample(peer, &system, &user),
            )
            .await;
            record_ai(gateway, caller, "content.draftCampaignMessages.generate", &attempt).await;
            chosen = attempt.messages.is_some().then_some(attempt);
        }
        if chosen.is_none()
            && let Some(endpoint) = &shared.llm
        {
            let attempt =
                generate::with_endpoint(&shared.llm_cache, endpoint, (system.as_str(), user.as_str()), &fit).await;
            record_ai(gateway, caller, "content.draftCampaignMessages.generate", &attempt).await;
            chosen = attempt.messages.is_some().then_some(attempt);
        }
        let attempt = match chosen {
            Some(a) => a,
            None => {
                let a = generate::composed(&brief.campaign_description, &product, population, &fit);
                record_ai(gateway, caller, "content.draftCampaignMessages.generate", &a).await;
                a
            }
        };
        let Some(messages) = attempt.messages.clone() else {
            return Err(ToolError::Invalid(format!(
                "the messages for {} failed their checks: {}",
                population.name,
                attempt.problems.join("; ")
            )));
        };
        let log_input = json!({
            "organizationId": brief.organization_id,
            "campaignId": campaign_id,
            "contentRequestId": request_id,
            "population": population.name.trim(),
            "channelCode": fit.channel,
            "messages": messages.iter().zip(at).map(|(text, at)| json!({
                "at": at.to_rfc3339(), "locale": fit.locale, "text": text,
            })).collect::<Vec<_>>(),
        });
        let stored = gateway
            .execute(caller, DRAFT_LOG, json!({ "input": log_input }))
            .await
            .map_err(refused)?;
        if let Some(errors) = stored.error_text() {
            return Err(refused(GatewayError::Graphql(errors)));
        }
        let log = &stored.data["draftCampaignLog"];
        populations.push(json!({
            "population": population.name.trim(),
            "campaignLogId": log["id"],
            "status": log["status"],
            "channel": fit.channel,
            "locale": fit.locale,
            "tone": fit.tone,
            "source": attempt.source.name(),
            "model": attempt.model,
            "messages": STAGES.iter().zip(&messages).zip(at).map(|((stage, text), at)| json!({
                "stage": stage.name(), "text": text, "at": at.to_rfc3339(),
            })).collect::<Vec<_>>(),
        }));
    }
    let text = format!(
        "Stored content request {} and {} drafts of three messages each, waiting for approval (PENDING_APPROVAL).",
        request_id.as_str().unwrap_or("?"),
        populations.len()
    );
    Ok(ToolOutcome {
        text,
        answer: json!({
            "contentRequestId": request_id,
            "status": "PENDING_APPROVAL",
            "populations": populations,
        }),
        // Every population's messages passed the schema and rule checks (or the call failed above).
        validation: Validation::Rule,
        validated: true,
    })
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ContentServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "promptsales-mcp-content",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "PromptContent: find images of the content library by description (`getContent`) and turn a campaign \
                 brief into three messages per target population for human review (`draftCampaignMessages`). Every \
                 call runs with your own token through the PromptSales gateway."
                    .to_owned(),
            )
    }
}
