//! Where the three messages of a population come from, in order of availability:
//!
//! 1. the MCP client's own model, through sampling, when the client offers it;
//! 2. a configured OpenAI-compatible endpoint ([`crate::llm`]);
//! 3. the offline composer ([`crate::compose`]), which always answers.
//!
//! A model's answer must be a JSON object with exactly `awareness`, `consideration` and
//! `conversion` (schema check) whose texts fit the channel's length, differ from each other and
//! are written in the population's language (rule checks). An answer that fails is recorded as
//! such and the next source is tried. Answers of models are cached in Redis under
//! `ps:llm:v1:{model}:{sha256(prompt)}` for seven days.

use std::time::{Duration, Instant};

use promptsales_platform::redis::{KeySpace, Redis};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    brief::Population,
    compose::{self, Fit, Lang, STAGES},
    llm::LlmEndpoint,
};

/// How long a generated text is kept.
pub const LLM_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// The composer's model name in usage records.
pub const COMPOSER: &str = "promptsales-composer-v1";

/// Which source wrote a population's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Sampling,
    Endpoint,
    Composer,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Sampling => "mcp-sampling",
            Source::Endpoint => "openai-compatible",
            Source::Composer => "offline-composer",
        }
    }
}

/// One attempt at writing a population's messages (every attempt is recorded).
#[derive(Debug, Clone)]
pub struct Attempt {
    pub source: Source,
    /// `provider:model`.
    pub model: String,
    pub prompt: String,
    pub raw: String,
    pub messages: Option<[String; 3]>,
    /// What the checks found wrong (empty: passed).
    pub problems: Vec<String>,
    pub tokens_in: u32,
    pub tokens_out: u32,
    pub cache_hit: bool,
    pub latency_ms: u128,
}

/// The instructions a model gets for one population.
pub fn prompts(description: &str, product: &str, population: &Population, fit: &Fit) -> (String, String) {
    let language = match fit.lang {
        Lang::Es => "Spanish",
        Lang::En => "English",
    };
    let limit = compose::channel_limit(&fit.channel);
    let system = format!(
        "You write marketing messages for one target population. Answer with one JSON object and nothing else: \
         {{\"awareness\": \"…\", \"consideration\": \"…\", \"conversion\": \"…\"}}. Awareness introduces the product, \
         consideration gives a reason to choose it, conversion asks for the purchase. Write in {language} \
         (locale {locale}), in a {tone:?} tone, for the {channel} channel, each message at most {limit} characters, \
         each different, naming the product.",
        locale = fit.locale,
        tone = fit.tone,
        channel = fit.channel,
    );
    let user = format!(
        "Campaign: {description}\nProduct: {product}\nPopulation: {name}, ages {min}-{max}, countries {countries}, \
         interests: {interests}",
        name = population.name,
        min = population.age_min,
        max = population.age_max,
        countries = population.country_codes.join(", "),
        interests = population.interests.join(", "),
    );
    (system, user)
}

const ES_MARKERS: &[&str] = &[
    " el ", " la ", " los ", " las ", " de ", " para ", " con ", " tu ", " su ", " que ", " y ", " en ", " hoy ",
];
const EN_MARKERS: &[&str] = &[
    " the ", " and ", " for ", " your ", " you ", " with ", " to ", " of ", " today ", " it ",
];

/// Which of the two languages a text reads as, by its common words; `None` when it cannot tell.
pub fn language_of(text: &str) -> Option<Lang> {
    let padded = format!(" {} ", text.to_lowercase().replace(|c: char| !c.is_alphanumeric(), " "));
    let count = |markers: &[&str]| markers.iter().filter(|m| padded.contains(*m)).count();
    let (es, en) = (count(ES_MARKERS), count(EN_MARKERS));
    match es.cmp(&en) {
        std::cmp::Ordering::Greater => Some(Lang::Es),
        std::cmp::Ordering::Less => Some(Lang::En),
        std::cmp::Ordering::Equal => None,
    }
}

/// The schema check and the rule checks of a model's answer: the three texts, or what is wrong.
pub fn check(raw: &str, fit: &Fit) -> Result<[String; 3], Vec<String>> {
    // Models sometimes wrap JSON in a code fence: take the outermost object.
    let json = match (raw.find('{'), raw.rfind('}')) {
        (Some(a), Some(b)) if a < b => &raw[a..=b],
        _ => return Err(vec!["schema: the answer holds no JSON object".into()]),
    };
    let value: Value = serde_json::from_str(json).map_err(|e| vec![format!("schema: not JSON ({e})")])?;
    let Some(object) = value.as_object() else {
        return Err(vec!["schema: not a JSON object".into()]);
    };
    let mut problems = Vec::new();
    if object.len() != 3 {
        problems.push(format!("schema: {} keys instead of exactly three", object.len()));
    }
    let mut texts = Vec::new();
    for stage in STAGES {
        match object.get(stage.name()).and_then(Value::as_str).map(str::trim) {
            Some(t) if !t.is_empty() => texts.push(t.to_owned()),
            _ => problems.push(format!("schema: `{}` is missing or empty", stage.name())),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let limit = compose::channel_limit(&fit.channel);
    for (stage, text) in STAGES.iter().zip(&texts) {
        let n = text.chars().count();
        if n > limit {
            problems.push(format!(
                "rule: {} has {n} characters, over the {} limit of {limit}",
                stage.name(),
                fit.channel
            ));
        }
    }
    if texts[0] == texts[1] || texts[1] == texts[2] || texts[0] == texts[2] {
        problems.push("rule: the three messages must differ".into());
    }
    let all = texts.join(" ");
    if let Some(lang) = language_of(&all)
        && lang != fit.lang
    {
        problems.push(format!(
            "rule: written in {lang:?}, the population reads {:?}",
            fit.lang
        ));
    }
    if problems.is_empty() {
        let [a, b, c]: [String; 3] = texts.try_into().map_err(|_| vec!["schema: three texts".to_owned()])?;
        Ok([a, b, c])
    } else {
        Err(problems)
    }
}

/// The generation cache (`ps:llm:`); `None` inside: off.
#[derive(Clone, Debug)]
pub struct LlmCache {
    redis: Option<Redis>,
}

impl LlmCache {
    pub fn new(redis: Option<Redis>) -> LlmCache {
        LlmCache { redis }
    }

    fn key(&self, model: &str, system: &str, user: &str) -> Option<(Redis, String)> {
        let redis = self.redis.clone()?;
        let digest = Sha256::new()
            .chain_update(system.as_bytes())
            .chain_update([0u8])
            .chain_update(user.as_bytes())
            .finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let key = redis.keys().key(KeySpace::Llm, &[model, &hex]);
        Some((redis, key))
    }

    /// The cached `{text, tokens_in, tokens_out}` of `model` for this prompt.
    pub async fn get(&self, model: &str, system: &str, user: &str) -> Option<Value> {
        let (redis, key) = self.key(model, system, user)?;
        let bytes: Option<Vec<u8>> = redis.query("llm_get", redis::cmd("GET").arg(&key)).await.ok()?;
        serde_json::from_slice(&bytes?).ok()
    }

    pub async fn put(&self, model: &str, system: &str, user: &str, value: &Value) {
        let Some((redis, key)) = self.key(model, system, user) else {
            return;
        };
        let _ = redis
            .query::<()>(
                "llm_set",
                redis::cmd("SET")
                    .arg(&key)
                    .arg(value.to_string())
                    .arg("EX")
                    .arg(LLM_TTL.as_secs()),
            )
            .await;
    }
}

/// An attempt with a model through the cache: `call` runs on a miss and gives
/// `(text, served model, tokens in, tokens out)`.
pub async fn through_cache<F, Fut>(
    cache: &LlmCache,
    source: Source,
    model: &str,
    (system, user): (&str, &str),
    fit: &Fit,
    call: F,
) -> Attempt
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(String, String, u32, u32), String>>,
{
    let started = Instant::now();
    let prompt = format!("{system}\n\n{user}");
    let (raw, served, tokens_in, tokens_out, cache_hit) = match cache.get(model, system, user).await {
        Some(hit) => (
            hit["text"].as_str().unwrap_or_default().to_owned(),
            hit["model"].as_str().unwrap_or(model).to_owned(),
            0,
            0,
            true,
        ),
        None => match call().await {
            Ok((text, served, tokens_in, tokens_out)) => (text, served, tokens_in, tokens_out, false),
            Err(e) => {
                return Attempt {
                    source,
                    model: format!("{}:{model}", source.name()),
                    prompt,
                    raw: String::new(),
                    messages: None,
                    problems: vec![format!("call failed: {e}")],
                    tokens_in: 0,
                    tokens_out: 0,
                    cache_hit: false,
                    latency_ms: started.elapsed().as_millis(),
                };
            }
        },
    };
    let checked = check(&raw, fit);
    // Only answers that pass are kept: a bad one is retried by the next caller, not replayed.
    if checked.is_ok() && !cache_hit {
        cache
            .put(model, system, user, &json!({ "text": raw, "model": served }))
            .await;
    }
    let served = if served.is_empty() { model.to_owned() } else { served };
    Attempt {
        source,
        model: format!("{}:{served}", source.name()),
        prompt,
        raw,
        messages: checked.as_ref().ok().cloned(),
        problems: checked.err().unwrap_or_default(),
        tokens_in,
        tokens_out,
        cache_hit,
        latency_ms: started.elapsed().as_millis(),
    }
}

/// The composer's attempt (checked like a model's, so a regression in it shows).
pub fn composed(description: &str, product: &str, population: &Population, fit: &Fit) -> Attempt {
    let started = Instant::now();
    let messages = compose::compose(product, population, fit);
    let raw = json!({
        "awareness": messages[0],
        "consideration": messages[1],
        "conversion": messages[2],
    })
    .to_string();
    let checked = check(&raw, fit);
    let (system, user) = prompts(description, product, population, fit);
    Attempt {
        source: Source::Composer,
        model: format!("{}:{COMPOSER}", Source::Composer.name()),
        prompt: format!("{system}\n\n{user}"),
        raw,
        messages: checked.as_ref().ok().cloned(),
        problems: checked.err().unwrap_or_default(),
        tokens_in: 0,
        tokens_out: 0,
        cache_hit: false,
        latency_ms: started.elapsed().as_millis(),
    }
}

/// An attempt with the configured endpoint.
pub async fn with_endpoint(cache: &LlmCache, endpoint: &LlmEndpoint, prompts: (&str, &str), fit: &Fit) -> Attempt {
    through_cache(cache, Source::Endpoint, &endpoint.model, prompts, fit, || async {
        endpoint
            .complete(prompts.0, prompts.1)
            .await
            .map(|c| (c.text, c.model, c.tokens_in, c.tokens_out))
            .map_err(|e| e.to_string())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(lang: Lang, channel: &str) -> Fit {
        Fit {
            lang,
            locale: if lang == Lang::Es { "es-MX" } else { "en-US" }.into(),
            tone: compose::Tone::Friendly,
            channel: channel.into(),
        }
    }

    #[test]
    fn should_accept_three_fitting_messages_even_in_a_code_fence() {
        let raw = "```json\n{\"awareness\": \"Conoce el nuevo café de la casa\", \"consideration\": \"Hecho para ti y para tu día\", \"conversion\": \"Cómpralo hoy en la tienda\"}\n```";
        let texts = check(raw, &fit(Lang::Es, "instagram")).expect("valid");
        assert_eq!(texts[2], "Cómpralo hoy en la tienda");
    }

    #[test]
    fn should_refuse_a_wrong_shape_length_or_language() {
        let f = fit(Lang::Es, "sms");
        assert!(check("no json here", &f).is_err());
        let missing = check(r#"{"awareness": "a", "consideration": "b"}"#, &f).expect_err("two keys");
        assert!(missing.iter().any(|p| p.contains("conversion")), "{missing:?}");
        let long = format!(
            r#"{{"awareness": "{}", "consideration": "b de la", "conversion": "c de la"}}"#,
            "x ".repeat(100)
        );
        assert!(check(&long, &f).expect_err("long").iter().any(|p| p.contains("limit")));
        let english = r#"{"awareness": "Meet the new coffee for you", "consideration": "Made for your day and your mood", "conversion": "Buy it today with the app"}"#;
        assert!(
            check(english, &f)
                .expect_err("english")
                .iter()
                .any(|p| p.contains("written in"))
        );
    }

    #[test]
    fn should_tell_spanish_from_english() {
        assert_eq!(language_of("Consigue tu café hoy en la tienda"), Some(Lang::Es));
        assert_eq!(language_of("Get your coffee today with the app"), Some(Lang::En));
    }
}
