//! The MCP server: its tools, each answered through the [`Kit`] (cache, usage record) from
//! GraphQL queries to the gateway made with the caller's token.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use promptsales_mcp_kit::{
    Caller, GatewayError, Kit, ToolCall, ToolError, ToolOutcome,
    rmcp::{
        RoleServer, ServerHandler,
        handler::server::{router::tool::ToolRouter, wrapper::Parameters},
        model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig},
        service::RequestContext,
        tool, tool_handler, tool_router,
    },
    usage::Validation,
};
use serde_json::{Value, json};

use crate::{
    answer,
    ask::{self, Lang, Unresolved},
    catalog::Catalogue,
    engine,
    query::{Grouping, Intent, Metric, Plan, Selection},
    tools::{
        AskArgs, CompareArgs, Filters, FocusArgs, PerformanceArgs, RankingArgs, SentimentArgs, base_plan, other_side,
    },
};

/// What "today" is for relative dates: the system clock, or a fixed day (tests, replays).
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(NaiveDate),
}

impl Clock {
    pub fn today(self) -> NaiveDate {
        match self {
            Clock::System => chrono::Utc::now().date_naive(),
            Clock::Fixed(d) => d,
        }
    }
}

/// How long a caller's catalogue is reused within this process.
const CATALOGUE_TTL: Duration = Duration::from_secs(60);

/// A caller's catalogue (by key hash) and when it was fetched.
type CachedCatalogue = (Instant, Arc<Catalogue>);

/// State shared by every session of the server.
pub struct Shared {
    pub kit: Kit,
    pub clock: Clock,
    catalogues: Mutex<HashMap<[u8; 32], CachedCatalogue>>,
}

impl Shared {
    pub fn new(kit: Kit, clock: Clock) -> Arc<Shared> {
        Arc::new(Shared {
            kit,
            clock,
            catalogues: Mutex::new(HashMap::new()),
        })
    }

    /// The caller's catalogue (kept a minute per token, so a conversation does not refetch it).
    async fn catalogue(&self, caller: &Caller) -> Result<Arc<Catalogue>, GatewayError> {
        let key = caller.token_digest();
        if let Ok(map) = self.catalogues.lock()
            && let Some((at, c)) = map.get(&key)
            && at.elapsed() < CATALOGUE_TTL
        {
            return Ok(c.clone());
        }
        let fresh = Arc::new(Catalogue::fetch(&self.kit.gateway, caller).await?);
        if let Ok(mut map) = self.catalogues.lock() {
            map.retain(|_, (at, _)| at.elapsed() < CATALOGUE_TTL);
            map.insert(key, (Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }
}

/// The PromptSales MCP server (one per MCP session; the state is shared).
#[derive(Clone)]
pub struct SalesServer {
    shared: Arc<Shared>,
    tool_router: ToolRouter<SalesServer>,
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn lang_of(filters_lang: Option<&str>) -> Lang {
    match filters_lang.map(str::to_ascii_lowercase).as_deref() {
        Some("es") => Lang::Es,
        _ => Lang::En,
    }
}

fn unresolved_text(u: &[Unresolved]) -> String {
    u.iter()
        .map(|u| {
            let names: Vec<String> = u.candidates.iter().map(|c| format!("{} ({})", c.name, c.key)).collect();
            format!(
                "{} {:?} is {}; candidates: {}",
                u.kind,
                u.text,
                u.reason,
                names.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(". ")
}

/// Replaces the names in `selection` by ids and codes from the catalogue; refuses ambiguous or
/// unknown names with the candidates.
async fn resolve(shared: &Shared, caller: &Caller, selection: &mut Selection) -> Result<Vec<Value>, ToolError> {
    let needs = selection.campaigns.iter().any(|c| !is_uuid(c))
        || selection.brand.as_deref().is_some_and(|b| !is_uuid(b))
        || selection.channel.is_some()
        || selection.market.is_some()
        || selection.country.as_deref().is_some_and(|c| c.trim().len() != 2);
    if !needs {
        return Ok(Vec::new());
    }
    let catalogue = shared.catalogue(caller).await?;
    let mut open = Vec::new();
    let mut resolved = Vec::new();
    let mut settle = |kind: &'static str, value: &mut String| match ask::resolve_name(kind, value, &catalogue) {
        Ok((key, name)) => {
            resolved.push(json!({ "kind": kind, "text": value.clone(), "key": key, "name": name }));
            *value = key;
        }
        Err(u) => open.push(u),
    };
    for c in selection.campaigns.iter_mut().filter(|c| !is_uuid(c)) {
        settle("campaign", c);
    }
    if let Some(b) = selection.brand.as_mut().filter(|b| !is_uuid(b)) {
        settle("brand", b);
    }
    if let Some(c) = selection.channel.as_mut() {
        settle("channel", c);
    }
    if let Some(m) = selection.market.as_mut() {
        settle("market", m);
    }
    if let Some(c) = selection.country.as_mut() {
        if c.trim().len() == 2 {
            *c = c.trim().to_ascii_uppercase();
        } else {
            settle("country", c);
        }
    }
    if open.is_empty() {
        Ok(resolved)
    } else {
        Err(ToolError::Invalid(format!(
            "not answered, a name needs settling: {}",
            unresolved_text(&open)
        )))
    }
}

fn subject(answer: &Value, lang: Lang) -> String {
    let names: Vec<&str> = answer["campaign_names"]
        .as_array()
        .map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_str).collect());
    match (names.as_slice(), lang) {
        ([], Lang::Es) => "Las campañas seleccionadas".into(),
        ([], Lang::En) => "The selected campaigns".into(),
        (n, _) => n.join(", "),
    }
}

/// Runs a plan whose selection is settled, and shapes the tool outcome.
async fn answer_plan(
    shared: &Shared,
    caller: &Caller,
    plan: &Plan,
    lang: Lang,
    validation: Validation,
    extra: Value,
) -> Result<ToolOutcome, ToolError> {
    let outcome = engine::run(&shared.kit.gateway, caller, plan).await?;
    let mut answer = outcome.answer;
    if !plan.selection.campaigns.is_empty()
        && let Ok(catalogue) = shared.catalogue(caller).await
    {
        answer["campaign_names"] = json!(
            plan.selection
                .campaigns
                .iter()
                .map(|id| catalogue.campaign(id).map_or(id.as_str(), |c| c.name.as_str()))
                .collect::<Vec<_>>()
        );
    }
    let text = answer::sentence(&answer, &subject(&answer, lang), lang);
    let mut full = json!({
        "sentence": text,
        "answer": answer,
        "interpretation": plan,
        "graphql": outcome.ran,
    });
    if let (Value::Object(into), Value::Object(from)) = (&mut full, extra) {
        into.extend(from);
    }
    Ok(ToolOutcome {
        text,
        answer: full,
        validation,
        validated: true,
    })
}

/// Definition of the success rate, said in every tool that reports it.
pub const SUCCESS_RATE: &str = "Success rate = sales attributed to the ads ÷ people reached over the same days, as a \
percentage (how many of the people a campaign reached bought). ROI = (revenue − cost) ÷ cost. Cost per sale = cost ÷ \
sales. All numbers come from the ads' daily results in the graph (Campaign.results), in USD.";

#[tool_router]
impl SalesServer {
    pub fn new(shared: Arc<Shared>) -> SalesServer {
        SalesServer {
            shared,
            tool_router: Self::tool_router(),
        }
    }

    async fn typed(
        &self,
        ctx: &RequestContext<RoleServer>,
        tool: &'static str,
        args: Value,
        lang: Lang,
        plan: Result<Plan, String>,
    ) -> CallToolResult {
        let shared = self.shared.clone();
        let call = ToolCall {
            tool,
            prompt: args.to_string(),
            arguments: args,
        };
        self.shared
            .kit
            .run(ctx, call, move |caller| async move {
                let mut plan = plan.map_err(ToolError::Invalid)?;
                let mut resolved = resolve(&shared, &caller, &mut plan.selection).await?;
                if let Some(other) = plan.other_selection.as_mut() {
                    resolved.extend(resolve(&shared, &caller, other).await?);
                }
                answer_plan(
                    &shared,
                    &caller,
                    &plan,
                    lang,
                    Validation::Schema,
                    json!({ "resolved_names": resolved }),
                )
                .await
            })
            .await
    }

    #[tool(
        description = "Campaign performance: reach, success rate, sales count, revenue (amount sold), cost, ROI, likes, views, interactions, engagement rate and cost per sale of one or more campaigns or of every campaign meeting filters (brand, status, channel, market, country, date range), optionally with a daily or monthly series or a breakdown by campaign, channel or market. Success rate = sales attributed to the ads ÷ people reached over the same days, as a percentage. ROI = (revenue − cost) ÷ cost. Returns the numbers, a sentence, the interpretation and the GraphQL run."
    )]
    async fn campaign_performance(
        &self,
        Parameters(args): Parameters<PerformanceArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let today = self.shared.clock.today();
        let plan = base_plan(Intent::Performance, &args.filters, today).map(|mut p| {
            p.metrics = args.metrics.clone();
            p.series = args.series;
            p.group_by = args.group_by;
            p
        });
        let lang = lang_of(args.filters.language.as_deref());
        self.typed(&ctx, "sales.campaign_performance", json!(args), lang, plan)
            .await
    }

    #[tool(
        description = "Top or bottom campaigns (or channels, or markets) by any metric: reach, views, interactions, likes, sales, revenue, cost, roi, success_rate (sales ÷ people reached, %), cost_per_sale, engagement_rate. `top` lists the best first (lowest first for cost metrics), `bottom` the worst first. Same filters as campaign_performance."
    )]
    async fn top_campaigns(
        &self,
        Parameters(args): Parameters<RankingArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let today = self.shared.clock.today();
        let plan = base_plan(Intent::Ranking, &args.filters, today).and_then(|mut p| {
            if args.limit.is_some_and(|l| !(1..=100).contains(&l)) {
                return Err("`limit` must be between 1 and 100".into());
            }
            p.metrics = vec![args.metric];
            p.order = args.order;
            p.limit = args.limit;
            p.group_by = Some(match args.rank {
                Some(g @ (Grouping::Channel | Grouping::Market)) => g,
                None | Some(Grouping::Campaign) => Grouping::Campaign,
                Some(other) => return Err(format!("`rank` can be campaign, channel or market, not {other:?}")),
            });
            Ok(p)
        });
        let lang = lang_of(args.filters.language.as_deref());
        self.typed(&ctx, "sales.top_campaigns", json!(args), lang, plan).await
    }

    #[tool(
        description = "Compare two campaigns, or two periods, side by side: totals of each side and the change of B against A (difference and percent) for each metric. Side B repeats only what differs from A (another campaign, or another from/to). Success rate = sales ÷ people reached, %."
    )]
    async fn compare(
        &self,
        Parameters(args): Parameters<CompareArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let today = self.shared.clock.today();
        let b = other_side(&args.a, &args.b);
        let plan = base_plan(Intent::Compare, &args.a, today).and_then(|mut p| {
            let other = base_plan(Intent::Compare, &b, today)?;
            p.metrics = args.metrics.clone();
            p.other_selection = Some(other.selection);
            p.other_period = other.period;
            Ok(p)
        });
        let lang = lang_of(args.a.language.as_deref());
        self.typed(&ctx, "sales.compare", json!(args), lang, plan).await
    }

    #[tool(
        description = "Trend of a metric over the period: monthly points (daily for two months or less), and whether the second half is up, down or flat (±5 %) against the first."
    )]
    async fn trend(&self, Parameters(args): Parameters<FocusArgs>, ctx: RequestContext<RoleServer>) -> CallToolResult {
        let today = self.shared.clock.today();
        let plan = base_plan(Intent::Trend, &args.filters, today).map(|mut p| {
            p.metrics = vec![args.metric.unwrap_or(Metric::Revenue)];
            p
        });
        let lang = lang_of(args.filters.language.as_deref());
        self.typed(&ctx, "sales.trend", json!(args), lang, plan).await
    }

    #[tool(
        description = "Best day of the week for a metric (default revenue): per weekday, the total over the period and the average per day with results; ratios (roi, success_rate, cost_per_sale) are computed over each weekday's totals."
    )]
    async fn best_weekday(
        &self,
        Parameters(args): Parameters<FocusArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let today = self.shared.clock.today();
        let plan = base_plan(Intent::BestWeekday, &args.filters, today).map(|mut p| {
            p.metrics = vec![args.metric.unwrap_or(Metric::Revenue)];
            p
        });
        let lang = lang_of(args.filters.language.as_deref());
        self.typed(&ctx, "sales.best_weekday", json!(args), lang, plan).await
    }

    #[tool(
        description = "Channel mix: per channel, its share of spend, revenue and sales, and its ROI and cost per sale, for the selected campaigns and days."
    )]
    async fn channel_mix(
        &self,
        Parameters(args): Parameters<FocusArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let today = self.shared.clock.today();
        let plan = base_plan(Intent::ChannelMix, &args.filters, today);
        let lang = lang_of(args.filters.language.as_deref());
        self.typed(&ctx, "sales.channel_mix", json!(args), lang, plan).await
    }

    #[tool(
        description = "Cost per sale (cost ÷ sales, USD) of the selected campaigns and days, overall and per channel, with cost and sales."
    )]
    async fn cost_per_sale(
        &self,
        Parameters(args): Parameters<FocusArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let today = self.shared.clock.today();
        let plan = base_plan(Intent::Performance, &args.filters, today).map(|mut p| {
            p.metrics = vec![Metric::CostPerSale, Metric::Cost, Metric::Sales];
            p.group_by = Some(Grouping::Channel);
            p
        });
        let lang = lang_of(args.filters.language.as_deref());
        self.typed(&ctx, "sales.cost_per_sale", json!(args), lang, plan).await
    }

    #[tool(
        description = "Negative-sentiment report: ads whose audience turned against them (net sentiment below zero since `since`, most negative first), with positive/neutral/negative mentions, the dominant negative type and the drop in influencer reactions; optionally only some campaigns."
    )]
    async fn sentiment_report(
        &self,
        Parameters(args): Parameters<SentimentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let today = self.shared.clock.today();
        let filters = Filters {
            campaigns: args.campaigns.clone(),
            ..Filters::default()
        };
        let plan = base_plan(Intent::Sentiment, &filters, today).and_then(|mut p| {
            if args.limit.is_some_and(|l| !(1..=100).contains(&l)) {
                return Err("`limit` must be between 1 and 100".into());
            }
            p.period = args.since.map(|s| crate::query::Period::new(s, today));
            p.limit = args.limit;
            Ok(p)
        });
        let lang = lang_of(args.language.as_deref());
        self.typed(&ctx, "sales.sentiment_report", json!(args), lang, plan)
            .await
    }

    #[tool(
        description = "Ask a free question about campaign performance in Spanish or English, e.g. \"¿Cuál fue el alcance y el porcentaje de éxito de la campaña Verano Fresco en diciembre?\", \"Which channels sold most for brand X last quarter?\", \"top 5 campañas por ROI en México en 2025\". It is parsed offline into the same structured query the other tools run (names matched to the live catalogue, typos and accents tolerated; dates relative to today). The answer has the numbers, a sentence in the question's language, the interpretation used and the GraphQL run. An ambiguous or unknown name returns the candidates and runs nothing; words that could not be mapped are listed. Success rate = sales ÷ people reached, %."
    )]
    async fn ask(&self, Parameters(args): Parameters<AskArgs>, ctx: RequestContext<RoleServer>) -> CallToolResult {
        let shared = self.shared.clone();
        let question = args.question.trim().to_owned();
        let call = ToolCall {
            tool: "sales.ask",
            prompt: question.clone(),
            arguments: json!({ "question": question, "today": shared.clock.today() }),
        };
        self.shared
            .kit
            .run(&ctx, call, move |caller| async move {
                if question.is_empty() || question.chars().count() > 1_000 {
                    return Err(ToolError::Invalid("the question must have 1 to 1000 characters".into()));
                }
                let catalogue = shared.catalogue(&caller).await?;
                let interpretation = ask::parse(&question, &catalogue, shared.clock.today());
                let lang = interpretation.language;
                if interpretation.runnable() {
                    let plan = interpretation.plan.clone().expect("runnable means planned");
                    let extra = json!({ "question": question, "understood": interpretation });
                    return answer_plan(&shared, &caller, &plan, lang, Validation::Rule, extra).await;
                }
                let text = not_run_sentence(&interpretation);
                Ok(ToolOutcome {
                    text: text.clone(),
                    answer: json!({
                        "question": question,
                        "sentence": text,
                        "answer": Value::Null,
                        "understood": interpretation,
                        "graphql": [],
                    }),
                    validation: Validation::Rule,
                    validated: false,
                })
            })
            .await
    }
}

/// Why a question was not run, in its language: the candidates, or what was and was not understood.
fn not_run_sentence(i: &ask::Interpretation) -> String {
    let es = i.language == Lang::Es;
    if !i.unresolved.is_empty() {
        let parts: Vec<String> = i
            .unresolved
            .iter()
            .map(|u| {
                let names: Vec<&str> = u.candidates.iter().take(5).map(|c| c.name.as_str()).collect();
                match (u.reason, es) {
                    ("ambiguous", true) => format!("«{}» puede ser: {}", u.text, names.join(" | ")),
                    ("ambiguous", false) => format!("\"{}\" could be: {}", u.text, names.join(" | ")),
                    (_, true) => format!("no encontré «{}»; lo más parecido: {}", u.text, names.join(" | ")),
                    (_, false) => format!("no match for \"{}\"; closest: {}", u.text, names.join(" | ")),
                }
            })
            .collect();
        return if es {
            format!("No respondí para no adivinar: {}. Indica cuál.", parts.join("; "))
        } else {
            format!("Not answered, to avoid guessing: {}. Say which one.", parts.join("; "))
        };
    }
    let unknown = i.not_understood.join(" ");
    if es {
        format!(
            "No pude convertir la pregunta en una consulta. No entendí: «{unknown}». Prueba con una métrica (alcance, ventas, ROI…), una campaña, marca, canal o país y un periodo."
        )
    } else {
        format!(
            "I could not turn the question into a query. Not understood: \"{unknown}\". Try a metric (reach, sales, ROI…), a campaign, brand, channel or country and a period."
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SalesServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("promptsales-mcp-sales", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "PromptSales campaign performance, answered from the PromptSales graph with your own token (its scopes and \
                 organization apply). Use `ask` for a free question in Spanish or English, or the typed tools. {SUCCESS_RATE}"
            ))
    }
}
