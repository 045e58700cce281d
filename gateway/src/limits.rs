//! Limits on what one operation may ask for, checked before validation and planning: tokens
//! (while parsing), selection depth and aliases.

use std::collections::{HashMap, HashSet};

use graphql_tools::static_graphql::query::{Definition, Document, FragmentDefinition, Selection, SelectionSet};
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
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 30,
        }
    }
}

/// The first limit a document breaks, as the message the client sees.
pub fn check(doc: &Document, limits: &Limits) -> Result<(), String> {
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
        return Err(format!(
            "the operation uses {aliases} aliases; at most {} are allowed",
            limits.max_aliases
        ));
    }
    for def in &doc.definitions {
        if let Definition::Operation(op) = def {
            let selection = match op {
                graphql_tools::static_graphql::query::OperationDefinition::SelectionSet(s) => s,
                graphql_tools::static_graphql::query::OperationDefinition::Query(q) => &q.selection_set,
                graphql_tools::static_graphql::query::OperationDefinition::Mutation(m) => &m.selection_set,
                graphql_tools::static_graphql::query::OperationDefinition::Subscription(s) => &s.selection_set,
            };
            let depth = depth(selection, &fragments, &mut HashSet::new(), limits.max_depth + 1);
            if depth > limits.max_depth {
                return Err(format!(
                    "the operation is nested deeper than the limit of {}",
                    limits.max_depth
                ));
            }
        }
    }
    Ok(())
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
            Definition::Operation(op) => match op {
                graphql_tools::static_graphql::query::OperationDefinition::SelectionSet(s) => count(s),
                graphql_tools::static_graphql::query::OperationDefinition::Query(q) => count(&q.selection_set),
                graphql_tools::static_graphql::query::OperationDefinition::Mutation(m) => count(&m.selection_set),
                graphql_tools::static_graphql::query::OperationDefinition::Subscription(s) => count(&s.selection_set),
            },
        })
        .sum()
}
