//! Runs a query plan: fetches in a `Parallel` run concurrently, a `Sequence` in order, a
//! `Flatten` turns the objects at its path into deduplicated entity representations (built from
//! the fetch's `requires`), and every result is merged back at the places it belongs. A fetch
//! that fails leaves its fields missing and records errors at their paths, so the rest of the
//! response still arrives.

use std::{collections::HashMap, sync::Mutex};

use futures_util::future::{BoxFuture, FutureExt, join_all};
use hive_router_query_planner::{
    ast::{selection_item::SelectionItem, selection_set::SelectionSet},
    planner::plan_nodes::{BatchFetchNode, FetchNode, FetchRewrite, FlattenNodePath, PlanNode},
};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::{
    fetch::{FetchContext, Fetcher, RequestBody},
    json::{self, Location},
    response::GraphqlError,
    schema::SchemaIndex,
    value::{Bodies, Val},
};

/// One execution of one plan.
pub struct Execution<'a> {
    pub fetcher: &'a Fetcher,
    pub schema: &'a SchemaIndex,
    pub ctx: &'a FetchContext,
    pub variables: &'a Map<String, Value>,
    /// The subgraph bodies the merged data borrows from.
    bodies: &'a Bodies,
    data: Mutex<Val<'a>>,
    errors: Mutex<Vec<GraphqlError>>,
}

/// The entities of one `_entities` call: unique representations (written into the fetch's
/// variables), and where each one's result goes.
struct Entities<'a> {
    representations: Vec<Val<'a>>,
    targets: Vec<Vec<Location>>,
}

impl<'a> Execution<'a> {
    pub fn new(
        fetcher: &'a Fetcher,
        schema: &'a SchemaIndex,
        ctx: &'a FetchContext,
        variables: &'a Map<String, Value>,
        bodies: &'a Bodies,
    ) -> Execution<'a> {
        Execution {
            fetcher,
            schema,
            ctx,
            variables,
            bodies,
            data: Mutex::new(Val::Object(Vec::new())),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// The merged data and the errors collected on the way.
    pub fn finish(self) -> (Val<'a>, Vec<GraphqlError>) {
        (
            self.data.into_inner().unwrap_or_else(|p| p.into_inner()),
            self.errors.into_inner().unwrap_or_else(|p| p.into_inner()),
        )
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Val<'a>> {
        // Locks are only held in synchronous sections, so a poisoned lock means a panic elsewhere
        // mid-merge; its data is still the best answer we have.
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn error(&self, e: GraphqlError) {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    pub fn run<'s>(&'s self, node: &'s PlanNode) -> BoxFuture<'s, ()> {
        async move {
            match node {
                PlanNode::Fetch(f) => self.root_fetch(f).await,
                PlanNode::Sequence(s) => {
                    for n in &s.nodes {
                        self.run(n).await;
                    }
                }
                PlanNode::Parallel(p) => {
                    join_all(p.nodes.iter().map(|n| self.run(n))).await;
                }
                PlanNode::Flatten(fl) => match fl.node.as_ref() {
                    PlanNode::Fetch(f) => self.entity_fetch(f, &fl.path).await,
                    other => self.run(other).await,
                },
                PlanNode::BatchFetch(b) => self.batch_fetch(b).await,
                PlanNode::Condition(c) => {
                    let on = self
                        .variables
                        .get(&c.condition)
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let branch = if on { &c.if_clause } else { &c.else_clause };
                    if let Some(n) = branch {
                        self.run(n).await;
                    }
                }
                PlanNode::Subscription(_) | PlanNode::Defer(_) => {
                    self.error(
                        GraphqlError::new("subscriptions and @defer are not supported").with_code("NOT_SUPPORTED"),
                    );
                }
            }
        }
        .boxed()
    }

    /// The request for a fetch, with the client's variables it uses.
    fn request(&self, query: &str, usages: Option<&std::collections::BTreeSet<String>>) -> RequestBody {
        let mut body = RequestBody::new(query);
        for name in usages.into_iter().flatten() {
            if let Some(value) = self.variables.get(name) {
                body.json_variable(name, value);
            }
        }
        body
    }

    async fn root_fetch(&self, f: &FetchNode) {
        let body = self.request(&f.operation.document_str, f.variable_usages.as_ref());
        let result = self
            .fetcher
            .fetch(&f.service_name, body.finish(), self.ctx, self.bodies)
            .await;
        match result {
            Ok(mut response) => {
                if let Some(rewrites) = &f.output_rewrites {
                    json::rewrite(&mut response.data, rewrites, self.schema);
                }
                json::merge(&mut self.data(), response.data);
                for e in response.errors {
                    self.error(GraphqlError::from_subgraph(&e, &f.service_name));
                }
            }
            Err(e) => {
                // Every root field this fetch was to resolve gets the error.
                for key in root_keys(&f.operation.document.operation.selection_set) {
                    self.error(failed(&e, &f.service_name).with_path(vec![Value::from(key)]));
                }
            }
        }
    }

    fn entities(
        &self,
        subgraph: &str,
        paths: &[&FlattenNodePath],
        requires: &SelectionSet,
        rewrites: Option<&Vec<FetchRewrite>>,
    ) -> Entities<'a> {
        let data = self.data();
        // Representations by a hash of their value; equal hashes are compared before sharing.
        let mut seen: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
        let mut out = Entities {
            representations: Vec::new(),
            targets: Vec::new(),
        };
        for path in paths {
            for location in json::locations(&data, path.as_slice(), self.schema) {
                let Some(object) = json::get(&data, &location) else {
                    continue;
                };
                let Some(mut rep) = json::project(object, &requires.items, self.schema) else {
                    continue;
                };
                if let Some(r) = rewrites {
                    json::rewrite(&mut rep, r, self.schema);
                }
                // Without its key the subgraph cannot resolve it, and would refuse the whole batch.
                if !self.schema.keys.complete(subgraph, &rep) {
                    continue;
                }
                let same = seen.entry(rep.fingerprint()).or_default();
                let index = match same.iter().copied().find(|i| out.representations[*i] == rep) {
                    Some(i) => i,
                    None => {
                        out.representations.push(rep);
                        out.targets.push(Vec::new());
                        same.push(out.representations.len() - 1);
                        out.representations.len() - 1
                    }
                };
                out.targets[index].push(location);
            }
        }
        out
    }

    async fn entity_fetch(&self, f: &FetchNode, path: &FlattenNodePath) {
        let Some(requires) = &f.requires else {
            return self.root_fetch(f).await;
        };
        let entities = self.entities(&f.service_name, &[path], requires, f.input_rewrites.as_ref());
        if entities.representations.is_empty() {
            return;
        }
        let mut body = self.request(&f.operation.document_str, f.variable_usages.as_ref());
        body.representations("representations", &entities.representations);
        let selection = entities_selection(&f.operation.document.operation.selection_set, None);
        let result = self
            .fetcher
            .fetch(&f.service_name, body.finish(), self.ctx, self.bodies)
            .await;
        match result {
            Ok(mut response) => {
                let list = response.data.take("_entities");
                let missing = self.merge_entities(list, &entities, f.output_rewrites.as_ref());
                self.map_errors(response.errors, "_entities", &entities, &missing, &f.service_name);
            }
            Err(e) => self.fail_entities(&e, &f.service_name, &entities, selection),
        }
    }

    async fn batch_fetch(&self, b: &BatchFetchNode) {
        let batches: Vec<Entities<'a>> = b
            .entity_batch
            .aliases
            .iter()
            .map(|a| {
                self.entities(
                    &b.service_name,
                    &a.merge_paths.iter().collect::<Vec<_>>(),
                    &a.requires,
                    a.input_rewrites.as_ref(),
                )
            })
            .collect();
        if batches.iter().all(|e| e.representations.is_empty()) {
            return;
        }
        let mut body = self.request(&b.operation.document_str, b.variable_usages.as_ref());
        for (alias, entities) in b.entity_batch.aliases.iter().zip(&batches) {
            body.representations(&alias.representations_variable_name, &entities.representations);
        }
        let result = self
            .fetcher
            .fetch(&b.service_name, body.finish(), self.ctx, self.bodies)
            .await;
        match result {
            Ok(mut response) => {
                let mut missing = Vec::new();
                for (alias, entities) in b.entity_batch.aliases.iter().zip(&batches) {
                    let list = response.data.take(&alias.alias);
                    missing.push(self.merge_entities(list, entities, alias.output_rewrites.as_ref()));
                }
                let mut by_alias: HashMap<&str, Vec<Value>> = HashMap::new();
                for e in response.errors {
                    let head = e
                        .get("path")
                        .and_then(|p| p.get(0))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    match b.entity_batch.aliases.iter().position(|a| a.alias == head) {
                        Some(i) => by_alias
                            .entry(b.entity_batch.aliases[i].alias.as_str())
                            .or_default()
                            .push(e),
                        None => self.error(GraphqlError::from_subgraph(&e, &b.service_name)),
                    }
                }
                for ((alias, entities), missing) in b.entity_batch.aliases.iter().zip(&batches).zip(&missing) {
                    if let Some(errors) = by_alias.remove(alias.alias.as_str()) {
                        self.map_errors(errors, &alias.alias, entities, missing, &b.service_name);
                    }
                }
            }
            Err(e) => {
                for (alias, entities) in b.entity_batch.aliases.iter().zip(&batches) {
                    let selection =
                        entities_selection(&b.operation.document.operation.selection_set, Some(&alias.alias));
                    self.fail_entities(&e, &b.service_name, entities, selection);
                }
            }
        }
    }

    /// Merges the entities a subgraph returned; says which ones came back null (or not at all).
    fn merge_entities(
        &self,
        list: Option<Val<'a>>,
        entities: &Entities<'a>,
        rewrites: Option<&Vec<FetchRewrite>>,
    ) -> Vec<bool> {
        let mut missing = vec![true; entities.targets.len()];
        let Some(Val::List(items)) = list else {
            return missing;
        };
        let mut data = self.data();
        for (i, (mut item, targets)) in items.into_iter().zip(&entities.targets).enumerate() {
            if item.is_null() {
                continue;
            }
            missing[i] = false;
            if let Some(r) = rewrites {
                json::rewrite(&mut item, r, self.schema);
            }
            // Every place but the last gets a copy; the last takes the item itself.
            if let Some((last, others)) = targets.split_last() {
                for location in others {
                    if let Some(slot) = json::get_mut(&mut data, location) {
                        json::merge(slot, item.clone());
                    }
                }
                if let Some(slot) = json::get_mut(&mut data, last) {
                    json::merge(slot, item);
                }
            }
        }
        missing
    }

    /// Subgraph errors at `[_entities, i, …rest]` move to every place entity `i` stands in the
    /// response. Some subgraphs (async-graphql 7) leave the index out (`[_entities, field]`); such
    /// an error is put on the entities that came back null.
    fn map_errors(&self, errors: Vec<Value>, root: &str, entities: &Entities<'a>, missing: &[bool], subgraph: &str) {
        let mut out = Vec::new();
        let data = self.data();
        for raw in errors {
            let error = GraphqlError::from_subgraph(&raw, subgraph);
            let (indexes, rest): (Vec<usize>, Vec<Value>) = match error.path.as_deref() {
                Some([Value::String(head), Value::Number(i), rest @ ..]) if head == root => {
                    (i.as_u64().map(|i| i as usize).into_iter().collect(), rest.to_vec())
                }
                Some([Value::String(head), rest @ ..]) if head == root => {
                    ((0..missing.len()).filter(|i| missing[*i]).collect(), rest.to_vec())
                }
                _ => (Vec::new(), Vec::new()),
            };
            let targets: Vec<&Location> = indexes
                .iter()
                .filter_map(|i| entities.targets.get(*i))
                .flatten()
                .collect();
            if targets.is_empty() {
                out.push(GraphqlError { path: None, ..error });
                continue;
            }
            for location in targets {
                let mut path = json::path(&data, location);
                path.extend(rest.iter().cloned());
                out.push(error.clone().with_path(path));
            }
        }
        drop(data);
        for e in out {
            self.error(e);
        }
    }

    /// A failed entity fetch: an error at every field it was to add to each entity, so a client
    /// can tell each of those nulls from a value that is null (the other subgraphs' fields of the
    /// entity stand: the fields one subgraph adds to another's entity are nullable,
    /// docs/schema-rules.md).
    fn fail_entities(
        &self,
        e: &crate::fetch::FetchError,
        subgraph: &str,
        entities: &Entities<'a>,
        selection: Option<&SelectionSet>,
    ) {
        let data = self.data();
        let mut errors = Vec::new();
        for location in entities.targets.iter().flatten() {
            let typename = json::get(&data, location).and_then(Val::typename).unwrap_or_default();
            let path = json::path(&data, location);
            let fields = selection
                .map(|s| fields_for(s, typename, self.schema))
                .unwrap_or_default();
            if fields.is_empty() {
                errors.push(failed(e, subgraph).with_path(path));
                continue;
            }
            for field in fields {
                let mut path = path.clone();
                path.push(Value::from(field));
                errors.push(failed(e, subgraph).with_path(path));
            }
        }
        drop(data);
        for err in errors {
            self.error(err);
        }
    }
}

/// How many fetches a plan can run at most (every fetch node, both branches of a condition):
/// the room the execution's [`Bodies`] need.
pub fn fetch_count(node: &PlanNode) -> usize {
    match node {
        PlanNode::Fetch(_) | PlanNode::BatchFetch(_) => 1,
        PlanNode::Sequence(s) => s.nodes.iter().map(fetch_count).sum(),
        PlanNode::Parallel(p) => p.nodes.iter().map(fetch_count).sum(),
        PlanNode::Flatten(f) => fetch_count(&f.node),
        PlanNode::Condition(c) => [&c.if_clause, &c.else_clause]
            .into_iter()
            .flatten()
            .map(|n| fetch_count(n))
            .sum(),
        PlanNode::Subscription(_) | PlanNode::Defer(_) => 0,
    }
}

fn failed(e: &crate::fetch::FetchError, subgraph: &str) -> GraphqlError {
    GraphqlError::new(e.to_string())
        .with_code("SUBGRAPH_REQUEST_FAILED")
        .with_subgraph(subgraph)
}

fn root_keys(selection: &SelectionSet) -> Vec<String> {
    let mut keys = Vec::new();
    for item in &selection.items {
        match item {
            SelectionItem::Field(f) if f.name != "__typename" => keys.push(f.selection_identifier().to_owned()),
            SelectionItem::InlineFragment(frag) => keys.extend(root_keys(&frag.selections)),
            _ => {}
        }
    }
    keys
}

/// The selection inside `_entities` (or the aliased `_entities` of a batch).
fn entities_selection<'s>(selection: &'s SelectionSet, alias: Option<&str>) -> Option<&'s SelectionSet> {
    selection.items.iter().find_map(|item| match item {
        SelectionItem::Field(f) if f.name == "_entities" && f.alias.as_deref() == alias => Some(&f.selections),
        _ => None,
    })
}

/// The response keys an entity selection adds to an object of `typename`, each once, in order.
fn fields_for<'s>(selection: &'s SelectionSet, typename: &str, schema: &SchemaIndex) -> Vec<&'s str> {
    let mut keys: Vec<&str> = Vec::new();
    let mut add = |field: &'s hive_router_query_planner::ast::selection_set::FieldSelection| {
        let key = field.selection_identifier();
        if field.name != "__typename" && !keys.contains(&key) {
            keys.push(key);
        }
    };
    for item in &selection.items {
        match item {
            SelectionItem::InlineFragment(f)
                if f.type_condition == typename || schema.applies(&f.type_condition, typename) =>
            {
                for i in &f.selections.items {
                    if let SelectionItem::Field(field) = i {
                        add(field);
                    }
                }
            }
            SelectionItem::Field(field) => add(field),
            _ => {}
        }
    }
    keys
}
