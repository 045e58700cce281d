//! The short sentence of an answer, in the question's language, from the numbers already
//! computed (never from anything else).

use serde_json::Value;

use crate::{ask::Lang, query::Metric};

fn label(m: &str, lang: Lang) -> &'static str {
    let es = lang == Lang::Es;
    match m {
        "reach" => {
            if es {
                "alcance"
            } else {
                "reach"
            }
        }
        "views" => {
            if es {
                "vistas"
            } else {
                "views"
            }
        }
        "interactions" => {
            if es {
                "interacciones"
            } else {
                "interactions"
            }
        }
        "likes" => "likes",
        "sales" => {
            if es {
                "ventas"
            } else {
                "sales"
            }
        }
        "revenue" => {
            if es {
                "ingresos (USD)"
            } else {
                "revenue (USD)"
            }
        }
        "cost" => {
            if es {
                "costo (USD)"
            } else {
                "cost (USD)"
            }
        }
        "roi" => "ROI",
        "success_rate" => {
            if es {
                "tasa de éxito (% ventas/alcance)"
            } else {
                "success rate (% sales/reach)"
            }
        }
        "cost_per_sale" => {
            if es {
                "costo por venta (USD)"
            } else {
                "cost per sale (USD)"
            }
        }
        "engagement_rate" => {
            if es {
                "tasa de interacción (%)"
            } else {
                "engagement rate (%)"
            }
        }
        _ => "?",
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "n/a".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn metrics_text(metrics: &Value, lang: Lang) -> String {
    metrics
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{} {}", label(k, lang), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn period_text(p: &Value, lang: Lang) -> String {
    match (p["from"].as_str(), p["to"].as_str()) {
        (Some(f), Some(t)) if lang == Lang::Es => format!(" del {f} al {t}"),
        (Some(f), Some(t)) => format!(" from {f} to {t}"),
        _ => String::new(),
    }
}

/// One or two sentences summing up `answer` (as built by the engine) for `subject` (e.g. the
/// campaign names).
pub fn sentence(answer: &Value, subject: &str, lang: Lang) -> String {
    let es = lang == Lang::Es;
    let period = period_text(&answer["period"], lang);
    let intent = answer["intent"].as_str().unwrap_or("performance");
    let main = answer["metrics"][0].as_str().unwrap_or(Metric::Revenue.key());
    match intent {
        "ranking" => {
            let list = answer["ranking"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .map(|e| format!("{}. {} ({})", show(&e["rank"]), show(&e["name"]), show(&e["value"])))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            if list.is_empty() {
                return if es {
                    format!("No hay resultados para ordenar{period}.")
                } else {
                    format!("No results to rank{period}.")
                };
            }
            if es {
                format!("Por {}{period}: {list}.", label(main, lang))
            } else {
                format!("By {}{period}: {list}.", label(main, lang))
            }
        }
        "compare" => {
            let c = &answer["comparison"];
            let a = metrics_text(&c["a"]["totals"], lang);
            let b = metrics_text(&c["b"]["totals"], lang);
            let pct = show(&c["change_b_vs_a"][main]["percent"]);
            if es {
                format!(
                    "A: {a}. B: {b}. Cambio de {} de B frente a A: {pct} %.",
                    label(main, lang)
                )
            } else {
                format!(
                    "A: {a}. B: {b}. Change in {} of B against A: {pct}%.",
                    label(main, lang)
                )
            }
        }
        "trend" => {
            let t = &answer["trend"];
            let dir = match (t["direction"].as_str(), es) {
                (Some("up"), true) => "subió",
                (Some("down"), true) => "bajó",
                (Some("flat"), true) => "se mantuvo estable",
                (_, true) => "no tiene datos suficientes",
                (Some("up"), false) => "went up",
                (Some("down"), false) => "went down",
                (Some("flat"), false) => "held steady",
                _ => "has too little data",
            };
            let pct = show(&t["change_percent_second_half_vs_first"]);
            if es {
                format!(
                    "{subject}: {} {dir}{period} ({pct} % segunda mitad frente a la primera).",
                    label(main, lang)
                )
            } else {
                format!(
                    "{subject}: {} {dir}{period} ({pct}% second half against the first).",
                    label(main, lang)
                )
            }
        }
        "best_weekday" => {
            let best = show(&answer["weekdays"]["best"]);
            if es {
                format!(
                    "{subject}: el mejor día de la semana por {} es {best}{period}.",
                    label(main, lang)
                )
            } else {
                format!(
                    "{subject}: the best day of the week by {} is {best}{period}.",
                    label(main, lang)
                )
            }
        }
        "channel_mix" => {
            let list = answer["channel_mix"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .take(4)
                        .map(|e| {
                            if es {
                                format!(
                                    "{} {} % del gasto, {} % de los ingresos",
                                    show(&e["name"]),
                                    show(&e["cost_share"]),
                                    show(&e["revenue_share"])
                                )
                            } else {
                                format!(
                                    "{} {}% of spend, {}% of revenue",
                                    show(&e["name"]),
                                    show(&e["cost_share"]),
                                    show(&e["revenue_share"])
                                )
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            format!("{subject}{period}: {list}.")
        }
        "sentiment" => {
            let n = answer["sentiment"].as_array().map_or(0, Vec::len);
            if es {
                format!("{n} anuncio(s) con sentimiento neto negativo{period}.")
            } else {
                format!("{n} ad(s) with net negative sentiment{period}.")
            }
        }
        _ => {
            let totals = metrics_text(&answer["totals"], lang);
            let n = show(&answer["campaign_count"]);
            if es {
                format!("{subject}{period} ({n} campaña(s)): {totals}.")
            } else {
                format!("{subject}{period} ({n} campaign(s)): {totals}.")
            }
        }
    }
}
