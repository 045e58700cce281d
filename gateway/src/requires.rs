//! A repair of the `requires` the query planner writes (hive-router-query-planner 2.10.11).
//!
//! When a client asks a field with arguments (`priceIn(currency: $currency)`) that an entity
//! field also `@requires` with other arguments (`priceIn(currency: EUR)`), the planner fetches the
//! required one under an alias of its own (`_internal_qp_alias_0: priceIn(currency: EUR)`), and
//! the entity fetch's `requires` must read that alias. In some plans it does not: it reads the
//! client's `priceIn` (the representation then carries the wrong price), or it names the alias at
//! another path where the data has none ("priceIn is required"). See docs/federation.md, kind 8.
//!
//! After planning, every entity fetch's `requires` is checked against what the plan itself
//! fetches at the fetch's path: for each required field, the response key of the fetched field
//! with the same name and the arguments the supergraph's `@requires` names. When exactly one such
//! key exists and the `requires` reads another one, it is pointed at it. Anything this cannot
//! decide (no match, several, fragments it cannot see) is left as the planner wrote it.

use std::collections::BTreeSet;

use hive_router_query_planner::{
    ast::{
        fragment::FragmentDefinition,
        selection_item::SelectionItem,
        selection_set::{FieldSelection, SelectionSet},
    },
    planner::plan_nodes::{FlattenNodePath, FlattenNodePathSegment, PlanNode, QueryPlan},
    state::supergraph_state::SupergraphState,
};
use rustc_hash::FxHashMap as HashMap;

/// The supergraph's `@requires`, by (type, field, subgraph name): the required top-level fields
/// with their arguments as text (`(currency: EUR)`, empty without arguments).
#[derive(Debug, Default)]
pub struct RequiresIndex {
    by_field: HashMap<(String, String, String), Vec<(String, String)>>,
}

impl RequiresIndex {
    pub fn new(supergraph: &SupergraphState) -> RequiresIndex {
        let mut by_field = HashMap::default();
        for (type_name, definition) in &supergraph.definitions {
            for (field_name, field) in definition.fields() {
                for join in &field.join_field {
                    let (Some(requires), Some(graph)) = (&join.requires, &join.graph_id) else {
                        continue;
                    };
                    let Some(subgraph) = supergraph.known_subgraphs.get(graph) else {
                        continue;
                    };
                    if let Some(fields) = parse(requires) {
                        by_field.insert((type_name.clone(), field_name.clone(), subgraph.clone()), fields);
                    }
                }
            }
        }
        RequiresIndex { by_field }
    }

    /// Repairs the `requires` of every entity fetch of `plan` (see the module's documentation).
    pub fn repair(&self, plan: &mut QueryPlan) {
        if self.by_field.is_empty() {
            return;
        }
        let Some(root) = plan.node.as_mut() else { return };
        let mut producers = Vec::new();
        collect_producers(root, &[], &mut producers);
        self.repair_node(root, &[], &producers);
    }

    fn repair_node(&self, node: &mut PlanNode, path: &[FlattenNodePathSegment], producers: &[Producer]) {
        match node {
            PlanNode::Sequence(s) => s.nodes.iter_mut().for_each(|n| self.repair_node(n, path, producers)),
            PlanNode::Parallel(p) => p.nodes.iter_mut().for_each(|n| self.repair_node(n, path, producers)),
            PlanNode::Condition(c) => {
                for clause in [c.if_clause.as_mut(), c.else_clause.as_mut()].into_iter().flatten() {
                    self.repair_node(clause, path, producers);
                }
            }
            PlanNode::Flatten(f) => {
                let path = f.path.as_slice().to_vec();
                self.repair_node(&mut f.node, &path, producers);
            }
            PlanNode::Fetch(f) => {
                let Some(requires) = f.requires.as_mut() else { return };
                let document = &f.operation.document;
                let entity_fields = entity_fields(&document.operation.selection_set, None, &document.fragments);
                self.repair_requires(requires, &f.service_name, &entity_fields, &[path], producers);
            }
            PlanNode::BatchFetch(b) => {
                let document = &b.operation.document;
                for alias in &mut b.entity_batch.aliases {
                    let entity_fields = entity_fields(
                        &document.operation.selection_set,
                        Some(&alias.alias),
                        &document.fragments,
                    );
                    let paths: Vec<&[FlattenNodePathSegment]> =
                        alias.merge_paths.iter().map(FlattenNodePath::as_slice).collect();
                    self.repair_requires(&mut alias.requires, &b.service_name, &entity_fields, &paths, producers);
                }
            }
            PlanNode::Subscription(_) | PlanNode::Defer(_) => {}
        }
    }

    /// `entity_fields`: (type, field) the fetch asks of its entities.
    fn repair_requires(
        &self,
        requires: &mut SelectionSet,
        subgraph: &str,
        entity_fields: &[(String, String)],
        paths: &[&[FlattenNodePathSegment]],
        producers: &[Producer],
    ) {
        for item in &mut requires.items {
            let SelectionItem::InlineFragment(fragment) = item else {
                continue;
            };
            let type_name = fragment.type_condition.clone();
            // What the supergraph requires of this type for the fields the fetch asks: by name,
            // the argument text, when all the fields agree on it.
            let mut wanted: HashMap<String, BTreeSet<String>> = HashMap::default();
            for (t, field) in entity_fields.iter().filter(|(t, _)| *t == type_name) {
                if let Some(fields) = self.by_field.get(&(t.clone(), field.clone(), subgraph.to_owned())) {
                    for (name, arguments) in fields {
                        wanted.entry(name.clone()).or_default().insert(arguments.clone());
                    }
                }
            }
            for selected in &mut fragment.selections.items {
                let SelectionItem::Field(field) = selected else {
                    continue;
                };
                // In a requires, `priceIn: _internal_qp_alias_0` reads the member `name` names
                // and sends it as `alias`, the field's own name.
                let real = field.alias.clone().unwrap_or_else(|| field.name.clone());
                let Some(arguments) = wanted.get(&real).filter(|a| a.len() == 1).and_then(|a| a.first()) else {
                    continue;
                };
                let mut keys = BTreeSet::new();
                for path in paths {
                    let mut found = Vec::new();
                    for producer in producers {
                        if let Some(rest) = path.strip_prefix(producer.path.as_slice()) {
                            fields_at(
                                &producer.selection.items,
                                rest,
                                &type_name,
                                &producer.fragments,
                                &mut found,
                            );
                        }
                    }
                    let matching: BTreeSet<String> = found
                        .iter()
                        .filter(|f| f.name == real && arguments_text(f) == *arguments)
                        .map(|f| f.alias.clone().unwrap_or_else(|| f.name.clone()))
                        .collect();
                    keys.extend(matching);
                }
                let Some(key) = keys.first().filter(|_| keys.len() == 1) else {
                    continue;
                };
                if *key != field.name {
                    tracing::debug!(field = %real, from = %field.name, to = %key, "requires repaired");
                    field.name = key.clone();
                    field.alias = (*key != real).then(|| real.clone());
                }
            }
        }
    }
}

/// A fetch's selection and the path its data is merged at.
struct Producer {
    path: Vec<FlattenNodePathSegment>,
    selection: SelectionSet,
    fragments: Vec<FragmentDefinition>,
}

fn collect_producers(node: &PlanNode, path: &[FlattenNodePathSegment], out: &mut Vec<Producer>) {
    match node {
        PlanNode::Sequence(s) => s.nodes.iter().for_each(|n| collect_producers(n, path, out)),
        PlanNode::Parallel(p) => p.nodes.iter().for_each(|n| collect_producers(n, path, out)),
        PlanNode::Condition(c) => {
            for clause in [c.if_clause.as_ref(), c.else_clause.as_ref()].into_iter().flatten() {
                collect_producers(clause, path, out);
            }
        }
        PlanNode::Flatten(f) => collect_producers(&f.node, f.path.as_slice(), out),
        PlanNode::Fetch(f) => {
            let document = &f.operation.document;
            let selection = if f.requires.is_some() {
                // An entity fetch: its `_entities` selection lands at the flatten path.
                match entities_selection(&document.operation.selection_set, None) {
                    Some(s) => s.clone(),
                    None => return,
                }
            } else {
                document.operation.selection_set.clone()
            };
            out.push(Producer {
                path: path.to_vec(),
                selection,
                fragments: document.fragments.clone(),
            });
        }
        PlanNode::BatchFetch(b) => {
            let document = &b.operation.document;
            for alias in &b.entity_batch.aliases {
                let Some(selection) = entities_selection(&document.operation.selection_set, Some(&alias.alias)) else {
                    continue;
                };
                for merge_path in &alias.merge_paths {
                    out.push(Producer {
                        path: merge_path.as_slice().to_vec(),
                        selection: selection.clone(),
                        fragments: document.fragments.clone(),
                    });
                }
            }
        }
        PlanNode::Subscription(_) | PlanNode::Defer(_) => {}
    }
}

/// The selection of the `_entities` field (under `alias` in a batch).
fn entities_selection<'s>(operation: &'s SelectionSet, alias: Option<&str>) -> Option<&'s SelectionSet> {
    operation.items.iter().find_map(|item| match item {
        SelectionItem::Field(f) if f.name == "_entities" && f.alias.as_deref() == alias => Some(&f.selections),
        _ => None,
    })
}

/// The (type, field) pairs an entity fetch asks (fragment spreads expanded).
fn entity_fields(
    operation: &SelectionSet,
    alias: Option<&str>,
    fragments: &[FragmentDefinition],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(selection) = entities_selection(operation, alias) {
        typed_fields(&selection.items, None, fragments, &mut out, 0);
    }
    out
}

fn typed_fields(
    items: &[SelectionItem],
    type_name: Option<&str>,
    fragments: &[FragmentDefinition],
    out: &mut Vec<(String, String)>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    for item in items {
        match item {
            SelectionItem::Field(f) => {
                if let Some(t) = type_name {
                    out.push((t.to_owned(), f.name.clone()));
                }
            }
            SelectionItem::InlineFragment(f) => {
                typed_fields(&f.selections.items, Some(&f.type_condition), fragments, out, depth + 1)
            }
            SelectionItem::FragmentSpread(name) => {
                if let Some(fragment) = fragments.iter().find(|f| f.name == *name) {
                    typed_fields(
                        &fragment.selection_set.items,
                        Some(&fragment.type_condition),
                        fragments,
                        out,
                        depth + 1,
                    );
                }
            }
        }
    }
}

/// The fields selected at `path` (response keys, lists and type conditions) on `type_name`.
fn fields_at<'s>(
    items: &'s [SelectionItem],
    path: &[FlattenNodePathSegment],
    type_name: &str,
    fragments: &'s [FragmentDefinition],
    out: &mut Vec<&'s FieldSelection>,
) {
    let Some((segment, rest)) = path.split_first() else {
        // Fields of `type_name` here: plain ones and those of fragments on that type.
        for item in items {
            match item {
                SelectionItem::Field(f) => out.push(f),
                SelectionItem::InlineFragment(f) if f.type_condition == type_name => {
                    fields_at(&f.selections.items, &[], type_name, fragments, out)
                }
                SelectionItem::FragmentSpread(name) => {
                    if let Some(fragment) = fragments
                        .iter()
                        .find(|f| f.name == *name && f.type_condition == type_name)
                    {
                        fields_at(&fragment.selection_set.items, &[], type_name, fragments, out);
                    }
                }
                SelectionItem::InlineFragment(_) => {}
            }
        }
        return;
    };
    match segment {
        FlattenNodePathSegment::List => fields_at(items, rest, type_name, fragments, out),
        FlattenNodePathSegment::TypeCondition(types) => {
            for item in items {
                match item {
                    SelectionItem::InlineFragment(f) if types.contains(&f.type_condition) => {
                        fields_at(&f.selections.items, rest, type_name, fragments, out)
                    }
                    SelectionItem::Field(_) => fields_at(std::slice::from_ref(item), rest, type_name, fragments, out),
                    _ => {}
                }
            }
        }
        FlattenNodePathSegment::Field(key) => {
            for item in items {
                match item {
                    SelectionItem::Field(f) if f.alias.as_deref().unwrap_or(&f.name) == key => {
                        fields_at(&f.selections.items, rest, type_name, fragments, out)
                    }
                    SelectionItem::InlineFragment(f) => fields_at(&f.selections.items, path, type_name, fragments, out),
                    SelectionItem::FragmentSpread(name) => {
                        if let Some(fragment) = fragments.iter().find(|f| f.name == *name) {
                            fields_at(&fragment.selection_set.items, path, type_name, fragments, out);
                        }
                    }
                    SelectionItem::Field(_) => {}
                }
            }
        }
    }
}

fn arguments_text(field: &FieldSelection) -> String {
    field.arguments.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// The top-level fields of a `@requires` field set, with their arguments as text.
fn parse(requires: &str) -> Option<Vec<(String, String)>> {
    let text = format!("{{{requires}}}");
    let doc = graphql_tools::parser::parse_query::<String>(&text).ok()?;
    let graphql_tools::parser::query::Definition::Operation(
        graphql_tools::parser::query::OperationDefinition::SelectionSet(set),
    ) = doc.definitions.into_iter().next()?
    else {
        return None;
    };
    let set = SelectionSet::from(set);
    Some(
        set.items
            .iter()
            .filter_map(|item| match item {
                SelectionItem::Field(f) => Some((f.name.clone(), arguments_text(f))),
                _ => None,
            })
            .collect(),
    )
}
