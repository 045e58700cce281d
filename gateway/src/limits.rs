//! Limits on what one operation may ask for, checked after parsing and before validation and
//! planning: tokens (while parsing), selections (fields, spreads and inline fragments, fragments
//! expanded), selection depth and aliases; and the structural refusals that must come before
//! anything walks the document with fragments expanded: fragment cycles (also those through
//! fields, which `graphql-tools`' rule misses) and NUL characters in string literals.
//!
//! Every walk here is bounded: counting stops at the limit and never follows a fragment cycle,
//! so a document costs at most about `max_selections` steps however it nests its fragments.
//! Validation (whose overlapping-fields rule is quadratic in the fields of one selection set)
//! runs only on documents that passed, off the async workers ([`crate::check`]).

use std::collections::{HashMap, HashSet};

use graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet, Value,
};
use serde::Deserialize;

/// Operation limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most tokens a document may have (checked while parsing).
    pub max_tokens: usize,
    /// Deepest nesting of selection sets, fragments expanded.
    pub max_depth: usize,
    /// Most aliased fields in a document.
    pub max_aliases: usize,
    /// Most selections (fields, fragment spreads and inline fragments) a document may hold,
    /// every fragment counted again at each of its spreads. GraphiQL's introspection query holds
    /// about 250; validation time grows with the square of this number.
    pub max_selections: usize,
    /// How long parsing and validating one document may take, in milliseconds, waiting for a
    /// validation thread included; past it the request is refused (`VALIDATION_BUDGET_EXCEEDED`).
    pub validation_budget_ms: u64,
    /// How many documents are parsed and validated at once, on blocking threads (0: the number
    /// of CPUs). The async workers never parse or validate, so health checks and cached answers
    /// stay quick while expensive documents wait here.
    pub validation_threads: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 30,
            max_selections: 1_000,
            validation_budget_ms: 2_000,
            validation_threads: 0,
        }
    }
}

/// Why a document is refused before validation: the message for the client and its error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub code: &'static str,
}

impl Refusal {
    fn limit(message: String) -> Refusal {
        Refusal {
            message,
            code: "LIMIT_EXCEEDED",
        }
    }
}

/// The first limit or structural rule a document breaks.
pub fn check(doc: &Document, limits: &Limits) -> Result<(), Refusal> {
    let fragments: HashMap<&str, &FragmentDefinition> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            Definition::Operation(_) => None,
        })
        .collect();
    let aliases = count_aliases(doc);
    if aliases > limits.max_aliases {
        return Err(Refusal::limit(format!(
            "the operation uses {aliases} aliases; at most {} are allowed",
            limits.max_aliases
        )));
    }
    if let Some(cycle) = fragment_cycle(doc, &fragments) {
        return Err(Refusal {
            message: format!(
                "fragment \"{cycle}\" spreads itself (through its fields); fragments must not form cycles"
            ),
            code: "GRAPHQL_VALIDATION_FAILED",
        });
    }
    let mut selections = 0;
    for def in &doc.definitions {
        let selection = match def {
            Definition::Operation(op) => operation_selection(op),
            // Fragments are counted where they are spread, and once as written.
            Definition::Fragment(f) => &f.selection_set,
        };
        if !count_selections(
            selection,
            &fragments,
            matches!(def, Definition::Operation(_)),
            &mut selections,
            limits.max_selections,
        ) {
            return Err(Refusal::limit(format!(
                "the document holds more than {} selections (fields, fragments expanded); ask for less in one request",
                limits.max_selections
            )));
        }
    }
    for def in &doc.definitions {
        if let Definition::Operation(op) = def {
            let depth = depth(
                operation_selection(op),
                &fragments,
                &mut HashSet::new(),
                limits.max_depth + 1,
            );
            if depth > limits.max_depth {
                return Err(Refusal::limit(format!(
                    "the operation is nested deeper than the limit of {}",
                    limits.max_depth
                )));
            }
        }
    }
    if has_nul_literal(doc) {
        return Err(Refusal {
            message: "a string in the document holds a NUL character (\\u0000), which no field accepts".into(),
            code: "BAD_USER_INPUT",
        });
    }
    Ok(())
}

pub(crate) fn operation_selection(op: &OperationDefinition) -> &SelectionSet {
    match op {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &q.selection_set,
        OperationDefinition::Mutation(m) => &m.selection_set,
        OperationDefinition::Subscription(s) => &s.selection_set,
    }
}

/// Adds the selections of `selection` to `count` (fragments expanded when `expand`); false as
/// soon as the count passes `max`, which also bounds the walk.
fn count_selections(
    selection: &SelectionSet,
    fragments: &HashMap<&str, &FragmentDefinition>,
    expand: bool,
    count: &mut usize,
    max: usize,
) -> bool {
    for item in &selection.items {
        *count += 1;
        if *count > max {
            return false;
        }
        let within = match item {
            Selection::Field(f) => Some(&f.selection_set),
            Selection::InlineFragment(i) => Some(&i.selection_set),
            // Cycles were refused before counting, so expansion ends.
            Selection::FragmentSpread(s) if expand => fragments.get(s.fragment_name.as_str()).map(|f| &f.selection_set),
            Selection::FragmentSpread(_) => None,
        };
        if let Some(within) = within
            && !count_selections(within, fragments, expand, count, max)
        {
            return false;
        }
    }
    true
}

/// The name of a fragment that reaches itself through spreads anywhere in its selection (inside
/// fields and inline fragments too), if one does.
fn fragment_cycle<'d>(doc: &'d Document, fragments: &HashMap<&'d str, &'d FragmentDefinition>) -> Option<&'d str> {
    fn spreads<'d>(selection: &'d SelectionSet, out: &mut Vec<&'d str>) {
        for item in &selection.items {
            match item {
                Selection::Field(f) => spreads(&f.selection_set, out),
                Selection::InlineFragment(i) => spreads(&i.selection_set, out),
                Selection::FragmentSpread(s) => out.push(s.fragment_name.as_str()),
            }
        }
    }
    let edges: HashMap<&str, Vec<&str>> = fragments
        .iter()
        .map(|(name, f)| {
            let mut out = Vec::new();
            spreads(&f.selection_set, &mut out);
            (*name, out)
        })
        .collect();
    // Iterative depth-first search with three colours: a grey fragment met again is a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        Grey,
        Black,
    }
    let mut colour: HashMap<&str, Colour> = HashMap::new();
    for def in &doc.definitions {
        let Definition::Fragment(root) = def else { continue };
        if colour.contains_key(root.name.as_str()) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(root.name.as_str(), 0)];
        colour.insert(root.name.as_str(), Colour::Grey);
        while let Some((name, next)) = stack.last_mut() {
            let targets = &edges[*name];
            if *next == targets.len() {
                colour.insert(*name, Colour::Black);
                stack.pop();
                continue;
            }
            let target = targets[*next];
            *next += 1;
            if !edges.contains_key(target) {
                continue; // unknown fragment: validation reports it
            }
            match colour.get(target) {
                Some(Colour::Grey) => return Some(fragments[target].name.as_str()),
                Some(Colour::Black) => {}
                None => {
                    colour.insert(target, Colour::Grey);
                    stack.push((target, 0));
                }
            }
        }
    }
    None
}

/// Whether a string literal anywhere in the document (arguments, directives, variable defaults)
/// holds a NUL, which PostgreSQL text cannot store and no subgraph should see.
fn has_nul_literal(doc: &Document) -> bool {
    fn value(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::List(items) => items.iter().any(value),
            Value::Object(fields) => fields.iter().any(|(_, v)| value(v)),
            _ => false,
        }
    }
    fn directives(ds: &[graphql_tools::static_graphql::query::Directive]) -> bool {
        ds.iter().any(|d| d.arguments.iter().any(|(_, v)| value(v)))
    }
    fn selection(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match item {
            Selection::Field(f) => {
                f.arguments.iter().any(|(_, v)| value(v)) || directives(&f.directives) || selection(&f.selection_set)
            }
            Selection::InlineFragment(i) => directives(&i.directives) || selection(&i.selection_set),
            Selection::FragmentSpread(s) => directives(&s.directives),
        })
    }
    doc.definitions.iter().any(|d| match d {
        Definition::Fragment(f) => directives(&f.directives) || selection(&f.selection_set),
        Definition::Operation(op) => {
            let defaults = match op {
                OperationDefinition::Query(q) => &q.variable_definitions[..],
                OperationDefinition::Mutation(m) => &m.variable_definitions[..],
                OperationDefinition::Subscription(s) => &s.variable_definitions[..],
                OperationDefinition::SelectionSet(_) => &[],
            };
            defaults.iter().any(|v| v.default_value.as_ref().is_some_and(value)) || selection(operation_selection(op))
        }
    })
}

/// Depth of a selection set; stops counting past `cap` and never follows a fragment cycle.
fn depth<'d>(
    selection: &'d SelectionSet,
    fragments: &HashMap<&str, &'d FragmentDefinition>,
    visiting: &mut HashSet<&'d str>,
    cap: usize,
) -> usize {
    if cap == 0 {
        return 0;
    }
    let mut deepest = 0;
    for item in &selection.items {
        let d = match item {
            Selection::Field(f) if f.selection_set.items.is_empty() => 1,
            Selection::Field(f) => 1 + depth(&f.selection_set, fragments, visiting, cap - 1),
            Selection::InlineFragment(i) => depth(&i.selection_set, fragments, visiting, cap),
            Selection::FragmentSpread(s) => match fragments.get(s.fragment_name.as_str()) {
                Some(f) if visiting.insert(f.name.as_str()) => {
                    let d = depth(&f.selection_set, fragments, visiting, cap);
                    visiting.remove(f.name.as_str());
                    d
                }
                _ => 0,
            },
        };
        deepest = deepest.max(d);
    }
    deepest
}

fn count_aliases(doc: &Document) -> usize {
    fn count(selection: &SelectionSet) -> usize {
        selection
            .items
            .iter()
            .map(|i| match i {
                Selection::Field(f) => usize::from(f.alias.is_some()) + count(&f.selection_set),
                Selection::InlineFragment(i) => count(&i.selection_set),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.definitions
        .iter()
        .map(|d| match d {
            Definition::Fragment(f) => count(&f.selection_set),
            Definition::Operation(op) => count(operation_selection(op)),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(query: &str, limits: &Limits) -> Option<Refusal> {
        let doc = graphql_tools::parser::parse_query::<String>(query)
            .expect("parses")
            .into_static();
        check(&doc, limits).err()
    }

    #[test]
    fn should_refuse_a_document_repeating_one_field_past_the_selection_limit() {
        let query = format!("{{ channels {{ {} }} }}", "code ".repeat(14_500));
        let why = refusal(&query, &Limits::default()).expect("refused");
        assert_eq!(why.code, "LIMIT_EXCEEDED");
        assert!(why.message.contains("1000 selections"), "{}", why.message);
    }

    #[test]
    fn should_count_a_fragment_at_every_spread() {
        let limits = Limits {
            max_selections: 50,
            ..Limits::default()
        };
        let fields = "a b c d e f g h i j";
        let ok = format!("{{ x {{ ...F ...F }} }} fragment F on X {{ {fields} }}");
        assert_eq!(refusal(&ok, &limits), None);
        let spreads = "...F ".repeat(6);
        let over = format!("{{ x {{ {spreads} }} }} fragment F on X {{ {fields} }}");
        assert_eq!(refusal(&over, &limits).expect("refused").code, "LIMIT_EXCEEDED");
    }

    #[test]
    fn should_refuse_fragment_cycles_through_fields_as_validation_errors() {
        let through_fields = "{ a { ...A } } fragment A on T { b { c { ...B } } } fragment B on U { d { ...A } }";
        let why = refusal(through_fields, &Limits::default()).expect("refused");
        assert_eq!(why.code, "GRAPHQL_VALIDATION_FAILED");
        let direct = "{ a { ...A } } fragment A on T { ...A }";
        assert_eq!(
            refusal(direct, &Limits::default()).expect("refused").code,
            "GRAPHQL_VALIDATION_FAILED"
        );
        let diamond =
            "{ a { ...A ...B } } fragment A on T { x { ...C } } fragment B on T { y { ...C } } fragment C on U { z }";
        assert_eq!(refusal(diamond, &Limits::default()), None);
    }

    #[test]
    fn should_refuse_nul_characters_in_string_literals() {
        let why = refusal(
            r#"{ customers(filter: { city: "Lima\u0000" }) { id } }"#,
            &Limits::default(),
        )
        .expect("refused");
        assert_eq!(why.code, "BAD_USER_INPUT");
        let default = r#"query($s: String = "a\u0000") { search(text: $s) }"#;
        assert_eq!(
            refusal(default, &Limits::default()).expect("refused").code,
            "BAD_USER_INPUT"
        );
        assert_eq!(refusal(r#"{ search(text: "plain") }"#, &Limits::default()), None);
    }
}
