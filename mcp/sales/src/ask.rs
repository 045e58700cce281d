//! `ask`: a free question in Spanish or English turned, offline, into the same [`Plan`] the typed
//! tools run. Names are recognised against the live catalogue (fuzzy: case, accents and typos
//! tolerated), metrics and breakdowns through the bilingual [`lexicon`](crate::lexicon), dates
//! relative to a clock that can be set. A name that matches several entries, or none, is never
//! guessed: the interpretation lists the candidates and nothing is run. Words that meant nothing
//! to the parser are listed, so a wrong or partial parse is visible.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{
    catalog::Catalogue,
    dates::{self, Found},
    lexicon::{PHRASES, STOPWORDS, Term},
    query::{Grouping, Intent, Metric, Order, Period, Plan, Selection, Series, Status},
    text::{fold, near, similarity, words},
};

/// The language of a question (answers are written in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Es,
    En,
}

/// A name of the catalogue found in the question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameMatch {
    /// `campaign`, `brand`, `channel`, `market` or `country`.
    pub kind: &'static str,
    /// The words of the question.
    pub text: String,
    /// Campaign or brand id, channel or market code, country code.
    pub key: String,
    pub name: String,
}

/// A possible meaning of a name that could not be settled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub key: String,
    pub name: String,
    pub score: f64,
}

/// A name that matched several entries (`ambiguous`) or none (`unknown`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unresolved {
    pub kind: &'static str,
    pub text: String,
    pub reason: &'static str,
    pub candidates: Vec<Candidate>,
}

/// What the parser made of a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interpretation {
    pub language: Lang,
    /// The query to run; `None` when nothing in the question could be mapped.
    pub plan: Option<Plan>,
    pub names: Vec<NameMatch>,
    /// Periods as written, with the days they mean.
    pub dates: Vec<DateText>,
    pub unresolved: Vec<Unresolved>,
    /// Words that meant nothing to the parser.
    pub not_understood: Vec<String>,
    /// Other things worth saying about the parse (e.g. a comparison missing its second side).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DateText {
    pub text: String,
    pub period: Period,
}

impl Interpretation {
    /// Whether the plan can run: mapped, and every name settled.
    pub fn runnable(&self) -> bool {
        self.plan.is_some() && self.unresolved.is_empty()
    }
}

/// One entry of the catalogue as the matcher sees it.
struct Entity {
    kind: &'static str,
    key: String,
    name: String,
    folded: String,
    words: Vec<String>,
    /// Only matched right after a word naming its kind ("canal X").
    needs_keyword: bool,
}

/// Country names the catalogue may lack (its market names are in Spanish).
const COUNTRIES: &[(&str, &[&str])] = &[
    ("MX", &["mexico", "méxico"]),
    ("US", &["estados unidos", "united states", "usa", "eeuu", "ee uu"]),
    ("CO", &["colombia"]),
    ("AR", &["argentina"]),
    ("CL", &["chile"]),
    ("PE", &["peru", "perú"]),
    ("EC", &["ecuador"]),
    ("GT", &["guatemala"]),
    ("CR", &["costa rica"]),
    ("DO", &["republica dominicana", "dominican republic"]),
    ("UY", &["uruguay"]),
    ("PA", &["panama", "panamá"]),
    ("ES", &["espana", "españa", "spain"]),
    ("BR", &["brasil", "brazil"]),
    ("CA", &["canada", "canadá"]),
];

fn entities(catalogue: &Catalogue) -> Vec<Entity> {
    let mut out = Vec::new();
    let mut push = |kind, key: &str, name: &str, alias: &str| {
        let folded = fold(alias);
        if folded.is_empty() {
            return;
        }
        out.push(Entity {
            kind,
            key: key.to_owned(),
            name: name.to_owned(),
            words: folded.split(' ').map(str::to_owned).collect(),
            needs_keyword: folded.chars().count() <= 1,
            folded,
        });
    };
    for c in &catalogue.campaigns {
        push("campaign", &c.id, &c.name, &c.name);
    }
    for b in &catalogue.brands {
        push("brand", &b.key, &b.name, &b.name);
    }
    for ch in &catalogue.channels {
        push("channel", &ch.key, &ch.name, &ch.name);
        if fold(&ch.key) != fold(&ch.name) {
            push("channel", &ch.key, &ch.name, &ch.key);
        }
    }
    let mut countries: Vec<&str> = Vec::new();
    for m in &catalogue.markets {
        if m.code.eq_ignore_ascii_case(&m.country) {
            // A market that is a whole country is named as the country.
            if !countries.contains(&m.country.as_str()) {
                countries.push(&m.country);
                push("country", &m.country, &m.name, &m.name);
                for (code, aliases) in COUNTRIES {
                    if code.eq_ignore_ascii_case(&m.country) {
                        for a in aliases.iter().filter(|a| fold(a) != fold(&m.name)) {
                            push("country", &m.country, &m.name, a);
                        }
                    }
                }
            }
        } else {
            push("market", &m.code, &m.name, &m.name);
        }
    }
    out
}

fn threshold(target: &str) -> f64 {
    match target.chars().count() {
        0..=4 => 1.0,
        5..=7 => 0.8,
        _ => 0.84,
    }
}

#[derive(Debug, Clone)]
struct Hit {
    entity: usize,
    start: usize,
    len: usize,
    score: f64,
}

fn is_filler(w: &str) -> bool {
    STOPWORDS.contains(&w) || w.parse::<u32>().is_ok()
}

/// Name hits of every entity on free windows of the question.
fn hits(ws: &[String], used: &[bool], ents: &[Entity]) -> Vec<Hit> {
    let mut out = Vec::new();
    let free = |s: usize, l: usize| s + l <= ws.len() && (s..s + l).all(|i| !used[i]);
    let after_keyword = |s: usize, kind: &str| {
        s > 0
            && match kind {
                "campaign" => matches!(ws[s - 1].as_str(), "campana" | "campaign"),
                "channel" => matches!(ws[s - 1].as_str(), "canal" | "channel"),
                _ => false,
            }
    };
    for (e, ent) in ents.iter().enumerate() {
        let n = ent.words.len();
        // The whole name (a name missing a word is matched as a part, below).
        {
            let len = n;
            for start in 0..ws.len() {
                if !free(start, len) || (ent.needs_keyword && !after_keyword(start, ent.kind)) {
                    continue;
                }
                let text = ws[start..start + len].join(" ");
                let score = similarity(&text, &ent.folded);
                if score >= threshold(&ent.folded) {
                    out.push(Hit {
                        entity: e,
                        start,
                        len,
                        score,
                    });
                }
            }
        }
        // Part of a campaign's name ("Verano Fresco" of "Frescura Verano Fresco 2025"): two words
        // or more, or one after the word "campaña"; slightly below a whole-name match.
        if ent.kind == "campaign" && n > 1 {
            for k in 1..n {
                for part in ent.words.windows(k) {
                    if part.iter().all(|w| is_filler(w)) {
                        continue;
                    }
                    let target = part.join(" ");
                    for start in 0..ws.len() {
                        if !free(start, k) || (k == 1 && (!after_keyword(start, "campaign") || target.len() < 4)) {
                            continue;
                        }
                        let text = ws[start..start + k].join(" ");
                        let score = similarity(&text, &target);
                        if score >= threshold(&target) {
                            out.push(Hit {
                                entity: e,
                                start,
                                len: k,
                                score: score * 0.97,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// How close `text` is to an entity: its whole name or its best part.
fn closeness(text: &str, ent: &Entity) -> f64 {
    let n = text.split(' ').count();
    let mut best = similarity(text, &ent.folded);
    for k in n.saturating_sub(1).max(1)..=(n + 1).min(ent.words.len()) {
        for part in ent.words.windows(k) {
            best = best.max(similarity(text, &part.join(" ")) * 0.97);
        }
    }
    best
}

fn candidates(text: &str, kind: &str, ents: &[Entity]) -> Vec<Candidate> {
    let mut scored: Vec<Candidate> = Vec::new();
    for ent in ents.iter().filter(|e| e.kind == kind) {
        let score = closeness(text, ent);
        match scored.iter_mut().find(|c| c.key == ent.key) {
            Some(c) => c.score = c.score.max(score),
            None => scored.push(Candidate {
                key: ent.key.clone(),
                name: ent.name.clone(),
                score,
            }),
        }
    }
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
    scored.truncate(5);
    for c in &mut scored {
        c.score = (c.score * 1000.0).round() / 1000.0;
    }
    scored
}

/// Names found, and names that stayed open.
fn match_names(ws: &[String], used: &mut [bool], ents: &[Entity]) -> (Vec<NameMatch>, Vec<Unresolved>) {
    let mut all = hits(ws, used, ents);
    // Best match first; among equals the longer one ("Frescura Verano Fresco 2025" the campaign
    // before "Frescura" the brand).
    all.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.len.cmp(&a.len))
            .then_with(|| a.start.cmp(&b.start))
    });
    let mut names = Vec::new();
    let mut open = Vec::new();
    for hit in &all {
        if (hit.start..hit.start + hit.len).any(|i| used[i]) {
            continue;
        }
        let kind = ents[hit.entity].kind;
        let overlaps = |h: &Hit| h.start < hit.start + hit.len && hit.start < h.start + h.len;
        let mut rivals: Vec<&Hit> = all
            .iter()
            .filter(|h| {
                ents[h.entity].kind == kind
                    && ents[h.entity].key != ents[hit.entity].key
                    && overlaps(h)
                    && h.len == hit.len
                    && h.score >= hit.score - 0.02
            })
            .collect();
        rivals.dedup_by(|a, b| ents[a.entity].key == ents[b.entity].key);
        for u in used.iter_mut().skip(hit.start).take(hit.len) {
            *u = true;
        }
        let text = ws[hit.start..hit.start + hit.len].join(" ");
        if rivals.is_empty() {
            let ent = &ents[hit.entity];
            names.push((
                hit.start,
                NameMatch {
                    kind,
                    text,
                    key: ent.key.clone(),
                    name: ent.name.clone(),
                },
            ));
        } else {
            let mut cands: Vec<Candidate> = std::iter::once(hit)
                .chain(rivals)
                .map(|h| Candidate {
                    key: ents[h.entity].key.clone(),
                    name: ents[h.entity].name.clone(),
                    score: (h.score * 1000.0).round() / 1000.0,
                })
                .collect();
            cands.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
            let mut seen = Vec::new();
            cands.retain(|c| {
                let fresh = !seen.contains(&c.key);
                seen.push(c.key.clone());
                fresh
            });
            open.push(Unresolved {
                kind,
                text,
                reason: "ambiguous",
                candidates: cands,
            });
        }
    }
    // In the order they were written ("compare A with B": A first).
    names.sort_by_key(|(at, _)| *at);
    (names.into_iter().map(|(_, n)| n).collect(), open)
}

/// A lexicon phrase at `i`: exact words first, then with a typo in the longer words.
fn phrase_at(ws: &[String], used: &[bool], i: usize, typos: bool) -> Option<(usize, Term)> {
    for (phrase, term) in PHRASES {
        let parts: Vec<&str> = phrase.split(' ').collect();
        if i + parts.len() > ws.len() || (i..i + parts.len()).any(|j| used[j]) {
            continue;
        }
        let ok = parts
            .iter()
            .zip(&ws[i..])
            .all(|(p, w)| if typos { near(w, p) } else { w == p });
        if ok {
            return Some((parts.len(), *term));
        }
    }
    None
}

fn detect_language(question: &str, ws: &[String]) -> Lang {
    const ES: &[&str] = &[
        "de", "la", "el", "los", "las", "que", "cual", "cuales", "en", "por", "campana", "campanas", "ventas",
        "alcance", "mejores", "del", "fue", "como", "cuanto", "y", "canal", "canales", "ultimo", "mes", "ano",
        "compara", "ingresos",
    ];
    const EN: &[&str] = &[
        "the",
        "of",
        "what",
        "which",
        "in",
        "by",
        "campaign",
        "campaigns",
        "sales",
        "reach",
        "best",
        "was",
        "how",
        "much",
        "and",
        "channel",
        "channels",
        "last",
        "month",
        "year",
        "for",
        "did",
        "compare",
        "revenue",
    ];
    let es = ws.iter().filter(|w| ES.contains(&w.as_str())).count()
        + usize::from(question.contains(['¿', '¡', 'ñ', 'á', 'é', 'í', 'ó', 'ú']));
    let en = ws.iter().filter(|w| EN.contains(&w.as_str())).count();
    if es > en { Lang::Es } else { Lang::En }
}

/// Words following a keyword ("campaña", "brand") that name nothing: an unknown name.
fn unknown_after(ws: &[String], used: &[bool], at: usize) -> Option<(usize, usize)> {
    let mut end = at;
    while end < ws.len()
        && end - at < 5
        && !used[end]
        && !is_filler(&ws[end])
        && phrase_at(ws, used, end, false).is_none()
    {
        end += 1;
    }
    (end > at).then_some((at, end - at))
}

/// Words just before a keyword ("the Zzyzx campaign") that name nothing: an unknown name.
fn unknown_before(ws: &[String], used: &[bool], at: usize) -> Option<(usize, usize)> {
    let mut start = at;
    while start > 0
        && at - start < 5
        && !used[start - 1]
        && !is_filler(&ws[start - 1])
        && phrase_at(ws, used, start - 1, false).is_none()
    {
        start -= 1;
    }
    (start < at).then_some((start, at - start))
}

/// Parses `question` against `catalogue`, with `today` as the clock.
pub fn parse(question: &str, catalogue: &Catalogue, today: NaiveDate) -> Interpretation {
    let ws = words(question);
    let language = detect_language(question, &ws);
    let mut used = vec![false; ws.len()];
    let ents = entities(catalogue);

    // Names first (they may hold years and lexicon words), then dates, then the lexicon.
    let (mut names, mut unresolved) = match_names(&ws, &mut used, &ents);
    let found: Vec<Found> = dates::find(&ws, &mut used, today);
    let mut terms: Vec<(usize, Term)> = Vec::new();
    for typos in [false, true] {
        let mut i = 0;
        while i < ws.len() {
            match (!used[i]).then(|| phrase_at(&ws, &used, i, typos)).flatten() {
                Some((len, term)) => {
                    for u in used.iter_mut().skip(i).take(len) {
                        *u = true;
                    }
                    terms.push((i, term));
                    i += len;
                }
                None => i += 1,
            }
        }
    }
    terms.sort_by_key(|(i, _)| *i);

    // Words after "campaña"/"brand" that matched nothing are a name we do not know.
    for &(i, term) in &terms {
        let kind = match term {
            Term::CampaignWord => "campaign",
            Term::BrandWord => "brand",
            _ => continue,
        };
        // "la campaña X" names it after the word, "the X campaign" before it.
        if let Some((start, len)) = unknown_after(&ws, &used, i + 1).or_else(|| unknown_before(&ws, &used, i)) {
            let text = ws[start..start + len].join(" ");
            for u in used.iter_mut().skip(start).take(len) {
                *u = true;
            }
            unresolved.push(Unresolved {
                kind,
                candidates: candidates(&text, kind, &ents),
                text,
                reason: "unknown",
            });
        }
    }

    // A brand named beside an ambiguous campaign name may settle it.
    if let Some(brand) = names.iter().find(|n| n.kind == "brand").map(|n| n.key.clone()) {
        unresolved.retain_mut(|u| {
            if u.kind != "campaign" || u.reason != "ambiguous" {
                return true;
            }
            let of_brand: Vec<&crate::catalog::CampaignRef> = u
                .candidates
                .iter()
                .filter_map(|c| catalogue.campaign(&c.key))
                .filter(|c| c.brand_id.as_deref() == Some(brand.as_str()))
                .collect();
            if let [only] = of_brand.as_slice() {
                names.push(NameMatch {
                    kind: "campaign",
                    text: u.text.clone(),
                    key: only.id.clone(),
                    name: only.name.clone(),
                });
                return false;
            }
            true
        });
    }

    let not_understood: Vec<String> = ws
        .iter()
        .zip(&used)
        .filter(|(w, u)| !**u && !is_filler(w))
        .map(|(w, _)| w.clone())
        .collect();

    let mut notes = Vec::new();
    let plan = build_plan(&ws, &names, &found, &terms, &mut notes);
    // A date alone does not make a question about campaigns ("who won the match yesterday?").
    let plan = plan.filter(|_| !(names.is_empty() && terms.is_empty() && unresolved.is_empty()));
    Interpretation {
        language,
        plan,
        names,
        dates: found
            .iter()
            .map(|f| DateText {
                text: f.text.clone(),
                period: f.period,
            })
            .collect(),
        unresolved,
        not_understood,
        notes,
    }
}

fn build_plan(
    ws: &[String],
    names: &[NameMatch],
    found: &[Found],
    terms: &[(usize, Term)],
    notes: &mut Vec<String>,
) -> Option<Plan> {
    let has = |t: Term| terms.iter().any(|(_, x)| *x == t);
    let intent_term = |i: Intent| has(Term::Intent(i));
    let mut metrics: Vec<Metric> = Vec::new();
    for (_, t) in terms {
        if let Term::Metric(m) = t
            && !metrics.contains(m)
        {
            metrics.push(*m);
        }
    }
    let order = if has(Term::Order(Order::Bottom)) {
        Order::Bottom
    } else {
        Order::Top
    };
    let ranked = has(Term::Order(Order::Top)) || has(Term::Order(Order::Bottom));
    let campaigns: Vec<&NameMatch> = names.iter().filter(|n| n.kind == "campaign").collect();
    let named = |kind: &str| names.iter().find(|n| n.kind == kind).map(|n| n.key.clone());
    let mut selection = Selection {
        campaigns: campaigns.iter().map(|c| c.key.clone()).collect(),
        brand: named("brand"),
        channel: named("channel"),
        market: named("market"),
        country: named("country"),
        status: terms.iter().find_map(|(_, t)| match t {
            Term::Status(s) => Some(*s),
            _ => None,
        }),
    };
    // A grouping word right before a name of its kind only introduces it ("el canal Instagram").
    let group = terms.iter().find_map(|(_, t)| match t {
        Term::Group(Grouping::Channel) if selection.channel.is_some() => None,
        Term::Group(Grouping::Market) if selection.market.is_some() || selection.country.is_some() => None,
        Term::Group(g) => Some(*g),
        _ => None,
    });
    let series = terms.iter().find_map(|(_, t)| match t {
        Term::Series(s) => Some(*s),
        _ => None,
    });
    let intent = if intent_term(Intent::Sentiment) {
        Intent::Sentiment
    } else if intent_term(Intent::Compare) {
        Intent::Compare
    } else if intent_term(Intent::BestWeekday) {
        Intent::BestWeekday
    } else if intent_term(Intent::ChannelMix) {
        Intent::ChannelMix
    } else if intent_term(Intent::Trend) {
        Intent::Trend
    } else if ranked && campaigns.len() != 1 {
        Intent::Ranking
    } else {
        Intent::Performance
    };
    let mut plan = Plan::new(intent);
    plan.order = order;
    plan.series = series;
    plan.metrics = metrics;
    let mut periods: Vec<Period> = found.iter().map(|f| f.period).collect();
    if intent == Intent::Compare {
        if selection.campaigns.len() >= 2 {
            let second = selection.campaigns.split_off(1);
            plan.other_selection = Some(Selection {
                campaigns: second[..1].to_vec(),
                ..selection.clone()
            });
        } else if periods.len() >= 2 {
            plan.other_period = Some(periods[1]);
            periods.truncate(1);
        } else {
            notes.push("a comparison needs two campaigns or two periods; only one was found".into());
        }
    }
    plan.period = match periods.as_slice() {
        [] => None,
        [one] => Some(*one),
        many => Some(Period::new(
            many.iter().map(|p| p.from).min()?,
            many.iter().map(|p| p.to).max()?,
        )),
    };
    plan.group_by = match intent {
        Intent::Ranking => Some(match group {
            Some(g @ (Grouping::Channel | Grouping::Market)) => g,
            _ => Grouping::Campaign,
        }),
        _ => group.filter(|g| !(*g == Grouping::Campaign && selection.campaigns.len() == 1)),
    };
    if matches!(intent, Intent::Ranking | Intent::Sentiment) {
        plan.limit = limit(ws, terms);
    }
    if intent == Intent::Trend && plan.series.is_none() {
        plan.series = Some(Series::Monthly).filter(|_| plan.period.is_none_or(|p| (p.to - p.from).num_days() > 62));
    }
    plan.selection = selection;
    Some(plan)
}

/// "top 5", "5 mejores", "las 3 peores", "best ten": the number beside an order word or before
/// "campañas"/"campaigns".
fn limit(ws: &[String], terms: &[(usize, Term)]) -> Option<u32> {
    for (i, t) in terms {
        if !matches!(t, Term::Order(_) | Term::Group(_)) {
            continue;
        }
        for j in [i + 1, i.wrapping_sub(1)] {
            if let Some(n) = ws
                .get(j)
                .and_then(|w| dates::number(w))
                .filter(|n| (1..=100).contains(n))
            {
                return Some(n);
            }
        }
    }
    None
}

/// Status words as the interpretation shows them.
pub fn status_name(s: Status) -> &'static str {
    s.graphql()
}

/// Settles one name a typed tool was given (`kind`: campaign, brand, channel, market, country):
/// the entry it names, or the candidates when it names none or several.
pub fn resolve_name(kind: &'static str, text: &str, catalogue: &Catalogue) -> Result<(String, String), Unresolved> {
    let ents: Vec<Entity> = entities(catalogue).into_iter().filter(|e| e.kind == kind).collect();
    let folded = fold(text);
    let exact: Vec<&Entity> = ents
        .iter()
        .filter(|e| e.folded == folded || e.key.eq_ignore_ascii_case(text.trim()))
        .collect();
    let mut keys: Vec<&str> = exact.iter().map(|e| e.key.as_str()).collect();
    keys.dedup();
    if let ([key], Some(e)) = (keys.as_slice(), exact.first()) {
        return Ok(((*key).to_owned(), e.name.clone()));
    }
    let cands = candidates(&folded, kind, &ents);
    let unresolved = |reason, candidates| Unresolved {
        kind,
        text: text.to_owned(),
        reason,
        candidates,
    };
    if keys.len() > 1 {
        return Err(unresolved("ambiguous", cands));
    }
    match cands.as_slice() {
        [best, rest @ ..] if best.score >= threshold(&folded).min(0.84) => {
            if rest.first().is_some_and(|second| second.score >= best.score - 0.02) {
                Err(unresolved("ambiguous", cands))
            } else {
                Ok((best.key.clone(), best.name.clone()))
            }
        }
        _ => Err(unresolved("unknown", cands)),
    }
}
