//! `@requiresScopes` enforcement, before planning. The supergraph says which scopes each field
//! needs: a field's own directive, its parent type's (every field of the type) and its return
//! type's (every field that returns the type), all of them; within one directive the caller needs
//! every scope of at least one inner list. On an interface field the requirements of the
//! implementations' fields count too, since any of them may answer it.
//!
//! The fields a caller may not see are removed from the operation that is planned (so no
//! subgraph is asked for them), come back null (a non-null one nulls its nearest nullable
//! parent, as for a failed fetch) and each gets a `FORBIDDEN` error at its response path; under
//! a list the path stops at the outermost list field, since the error is the same for every item.
//! Introspection fields and `__typename` are never restricted.

use std::collections::{BTreeSet, HashMap, HashSet};

use graphql_tools::static_graphql::{
    query::{self as q, Definition as QDef, FragmentDefinition, Selection, SelectionSet, TypeCondition},
    schema::{self as s, Definition as SDef, TypeDefinition},
};
use serde_json::{Map, Value};

use crate::{
    response::GraphqlError,
    schema::{FieldType, Kind, SchemaIndex},
    shape,
};

/// The spec the supergraph links `@requiresScopes` from.
const SPEC: &str = "specs.apollo.dev/requiresScopes/";

/// One `@requiresScopes`: any inner list, all of its scopes.
type Requirement = Vec<Vec<String>>;

/// A `Type.field` coordinate.
pub type Coordinate = (String, String);

/// The supergraph's scope requirements.
#[derive(Debug, Default)]
pub struct ScopeRules {
    types: HashMap<String, Requirement>,
    fields: HashMap<Coordinate, Requirement>,
}

/// What one caller may not see of one operation.
#[derive(Debug, Default)]
pub struct Denied {
    /// Coordinates removed before planning (part of the plan cache key).
    pub coordinates: BTreeSet<Coordinate>,
    /// The same with interface fields expanded to their object types: what response shaping nulls.
    pub concrete: HashSet<Coordinate>,
    /// One `FORBIDDEN` error per removed field and path.
    pub errors: Vec<GraphqlError>,
}

impl ScopeRules {
    /// Reads `@requiresScopes` (or the name the supergraph's `@link` gives it) from the supergraph.
    pub fn new(supergraph: &s::Document) -> ScopeRules {
        let name = directive_name(supergraph);
        let mut rules = ScopeRules::default();
        let Some(name) = name else {
            return rules;
        };
        let read = |directives: &[s::Directive]| -> Option<Requirement> {
            let mut all: Option<Requirement> = None;
            for d in directives.iter().filter(|d| d.name == name) {
                let requirement = requirement(d);
                // Two directives on one element (repeated across subgraphs) both apply: their
                // product is the one requirement that means the same.
                all = Some(match all {
                    None => requirement,
                    Some(before) => product(&before, &requirement),
                });
            }
            all
        };
        for def in &supergraph.definitions {
            let SDef::TypeDefinition(td) = def else { continue };
            let (type_name, directives, fields) = match td {
                TypeDefinition::Object(o) => (&o.name, &o.directives, Some(&o.fields)),
                TypeDefinition::Interface(i) => (&i.name, &i.directives, Some(&i.fields)),
                TypeDefinition::Scalar(t) => (&t.name, &t.directives, None),
                TypeDefinition::Enum(t) => (&t.name, &t.directives, None),
                TypeDefinition::Union(t) => (&t.name, &t.directives, None),
                TypeDefinition::InputObject(_) => continue,
            };
            if let Some(r) = read(directives) {
                rules.types.insert(type_name.clone(), r);
            }
            for field in fields.into_iter().flatten() {
                if let Some(r) = read(&field.directives) {
                    rules.fields.insert((type_name.clone(), field.name.clone()), r);
                }
            }
        }
        rules
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.fields.is_empty()
    }

    /// The scopes `granted` lacks for `parent.field`, or `None` when it may be selected.
    fn missing(&self, schema: &SchemaIndex, parent: &str, field: &str, granted: &HashSet<&str>) -> Option<Vec<String>> {
        let mut parents = vec![parent];
        if let Some(t) = schema.types.get(parent)
            && t.kind == Kind::Interface
        {
            parents.extend(t.possible.iter().map(String::as_str));
        }
        let mut requirements: Vec<&Requirement> = Vec::new();
        for p in parents {
            requirements.extend(self.fields.get(&(p.to_owned(), field.to_owned())));
            requirements.extend(self.types.get(p));
        }
        if let Some(ty) = schema.field(parent, field) {
            requirements.extend(self.types.get(named(ty)));
        }
        let mut missing: Vec<String> = Vec::new();
        for requirement in requirements {
            // The alternative that lacks the fewest scopes says best what the caller needs.
            let best = requirement
                .iter()
                .map(|all| all.iter().filter(|s| !granted.contains(s.as_str())).collect::<Vec<_>>())
                .min_by_key(Vec::len);
            for scope in best.into_iter().flatten() {
                if !missing.contains(scope) {
                    missing.push(scope.clone());
                }
            }
        }
        (!missing.is_empty()).then_some(missing)
    }

    /// What the caller with `granted` scopes may not see of the operation `selection` on `root`.
    pub fn check(
        &self,
        schema: &SchemaIndex,
        root: &str,
        selection: &SelectionSet,
        fragments: &HashMap<&str, &FragmentDefinition>,
        variables: &Map<String, Value>,
        granted: &[String],
    ) -> Denied {
        let mut walk = Walk {
            rules: self,
            schema,
            fragments,
            variables,
            granted: granted.iter().map(String::as_str).collect(),
            denied: Denied::default(),
            reported: HashSet::new(),
            spreads: Vec::new(),
        };
        if !self.is_empty() {
            walk.selection(root, selection, &mut Vec::new(), false, true);
        }
        walk.denied
    }
}

struct Walk<'a> {
    rules: &'a ScopeRules,
    schema: &'a SchemaIndex,
    fragments: &'a HashMap<&'a str, &'a FragmentDefinition>,
    variables: &'a Map<String, Value>,
    granted: HashSet<&'a str>,
    denied: Denied,
    /// (path, coordinate) pairs already reported.
    reported: HashSet<(String, String, String)>,
    /// Fragments being walked (validation refuses cycles; this guards anyway).
    spreads: Vec<String>,
}

impl Walk<'_> {
    /// `under_list`: the path already ends at a list field and grows no further.
    /// `included`: `@skip`/`@include` keep this selection in the response (errors only for those).
    fn selection(
        &mut self,
        parent: &str,
        selection: &SelectionSet,
        path: &mut Vec<Value>,
        under_list: bool,
        included: bool,
    ) {
        for item in &selection.items {
            match item {
                Selection::Field(f) => {
                    if f.name.starts_with("__") {
                        continue;
                    }
                    let included = included && shape::included(&f.directives, self.variables);
                    let key = f.alias.as_deref().unwrap_or(&f.name);
                    if !under_list {
                        path.push(Value::from(key));
                    }
                    if let Some(missing) = self.rules.missing(self.schema, parent, &f.name, &self.granted) {
                        self.deny(parent, &f.name, &missing, path, included, f.position);
                    } else if let Some(ty) = self.schema.field(parent, &f.name).cloned()
                        && !f.selection_set.items.is_empty()
                    {
                        let list = under_list || is_list(&ty);
                        self.selection(named(&ty), &f.selection_set, path, list, included);
                    }
                    if !under_list {
                        path.pop();
                    }
                }
                Selection::InlineFragment(frag) => {
                    let included = included && shape::included(&frag.directives, self.variables);
                    let on = match &frag.type_condition {
                        Some(TypeCondition::On(t)) => t.as_str(),
                        None => parent,
                    };
                    self.selection(on, &frag.selection_set, path, under_list, included);
                }
                Selection::FragmentSpread(spread) => {
                    let included = included && shape::included(&spread.directives, self.variables);
                    let name = spread.fragment_name.as_str();
                    let Some(def) = self.fragments.get(name) else { continue };
                    if self.spreads.iter().any(|s| s == name) {
                        continue;
                    }
                    self.spreads.push(name.to_owned());
                    let TypeCondition::On(on) = &def.type_condition;
                    self.selection(on, &def.selection_set, path, under_list, included);
                    self.spreads.pop();
                }
            }
        }
    }

    fn deny(
        &mut self,
        parent: &str,
        field: &str,
        missing: &[String],
        path: &[Value],
        included: bool,
        at: graphql_tools::parser::Pos,
    ) {
        let coordinate = (parent.to_owned(), field.to_owned());
        self.denied.concrete.insert(coordinate.clone());
        if let Some(t) = self.schema.types.get(parent) {
            for object in &t.possible {
                self.denied.concrete.insert((object.clone(), field.to_owned()));
            }
        }
        self.denied.coordinates.insert(coordinate);
        if !included {
            return;
        }
        let key = Value::Array(path.to_vec()).to_string();
        if !self.reported.insert((key, parent.to_owned(), field.to_owned())) {
            return;
        }
        let scopes = missing.join(", ");
        let noun = if missing.len() == 1 { "scope" } else { "scopes" };
        let mut error = GraphqlError::new(format!("missing {noun} {scopes} for {parent}.{field}"))
            .with_code("FORBIDDEN")
            .with_path(path.to_vec());
        error.locations = vec![serde_json::json!({ "line": at.line, "column": at.column })];
        self.denied.errors.push(error);
    }
}

/// The document without the denied fields, for planning. A selection set left empty keeps
/// `__typename`, so it stays valid and the parent still resolves to an object (or null).
pub fn without(doc: &q::Document, schema: &SchemaIndex, denied: &BTreeSet<Coordinate>) -> q::Document {
    let mut doc = doc.clone();
    for def in &mut doc.definitions {
        match def {
            QDef::Operation(op) => {
                let (root, selection) = match op {
                    q::OperationDefinition::SelectionSet(s) => (schema.query.clone(), s),
                    q::OperationDefinition::Query(o) => (schema.query.clone(), &mut o.selection_set),
                    q::OperationDefinition::Mutation(o) => (
                        schema.mutation.clone().unwrap_or_else(|| "Mutation".into()),
                        &mut o.selection_set,
                    ),
                    q::OperationDefinition::Subscription(o) => ("Subscription".into(), &mut o.selection_set),
                };
                prune(&root, selection, schema, denied);
            }
            QDef::Fragment(f) => {
                let TypeCondition::On(on) = f.type_condition.clone();
                prune(&on, &mut f.selection_set, schema, denied);
            }
        }
    }
    doc
}

fn prune(parent: &str, selection: &mut SelectionSet, schema: &SchemaIndex, denied: &BTreeSet<Coordinate>) {
    selection.items.retain_mut(|item| match item {
        Selection::Field(f) => {
            if denied.contains(&(parent.to_owned(), f.name.clone())) {
                return false;
            }
            if !f.selection_set.items.is_empty()
                && let Some(ty) = schema.field(parent, &f.name)
            {
                prune(named(ty), &mut f.selection_set, schema, denied);
            }
            true
        }
        Selection::InlineFragment(frag) => {
            let on = match &frag.type_condition {
                Some(TypeCondition::On(t)) => t.clone(),
                None => parent.to_owned(),
            };
            prune(&on, &mut frag.selection_set, schema, denied);
            true
        }
        Selection::FragmentSpread(_) => true,
    });
    if selection.items.is_empty() {
        selection.items.push(Selection::Field(q::Field {
            position: selection.span.0,
            alias: None,
            name: "__typename".into(),
            arguments: Vec::new(),
            directives: Vec::new(),
            selection_set: SelectionSet {
                span: selection.span,
                items: Vec::new(),
            },
        }));
    }
}

/// The name `@requiresScopes` has in this supergraph, if it links the spec at all.
fn directive_name(supergraph: &s::Document) -> Option<String> {
    for def in &supergraph.definitions {
        let SDef::SchemaDefinition(s::SchemaDefinition { directives, .. }) = def else {
            continue;
        };
        for link in directives.iter().filter(|d| d.name == "link") {
            let arg = |name: &str| {
                link.arguments.iter().find_map(|(n, v)| match v {
                    s::Value::String(s) if n == name => Some(s.clone()),
                    _ => None,
                })
            };
            if arg("url").is_some_and(|u| u.contains(SPEC)) {
                return Some(arg("as").unwrap_or_else(|| "requiresScopes".into()));
            }
        }
    }
    None
}

fn requirement(d: &s::Directive) -> Requirement {
    let Some((_, s::Value::List(outer))) = d.arguments.iter().find(|(n, _)| n == "scopes") else {
        return Vec::new();
    };
    outer
        .iter()
        .map(|inner| match inner {
            s::Value::List(all) => all
                .iter()
                .filter_map(|v| match v {
                    s::Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            s::Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .collect()
}

/// Both requirements at once: every pair of alternatives, joined.
fn product(a: &Requirement, b: &Requirement) -> Requirement {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let mut all = x.clone();
            all.extend(y.iter().filter(|s| !x.contains(s)).cloned());
            out.push(all);
        }
    }
    out
}

fn named(ty: &FieldType) -> &str {
    match ty {
        FieldType::Named(n) => n,
        FieldType::List(inner) | FieldType::NonNull(inner) => named(inner),
    }
}

fn is_list(ty: &FieldType) -> bool {
    match ty {
        FieldType::Named(_) => false,
        FieldType::List(_) => true,
        FieldType::NonNull(inner) => is_list(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY) { query: Query }
        type Query { secret: Secret a: String @requiresScopes(scopes: [["a", "d"], ["b", "c"]]) open: String }
        type Secret @requiresScopes(scopes: [["s"]]) { x: String }
    "#;

    fn rules() -> (ScopeRules, SchemaIndex) {
        let doc = graphql_tools::parser::parse_schema::<String>(SDL)
            .expect("sdl")
            .into_static();
        (ScopeRules::new(&doc), SchemaIndex::new(&doc))
    }

    fn missing(granted: &[&str], parent: &str, field: &str) -> Option<Vec<String>> {
        let (rules, schema) = rules();
        let granted = granted.iter().copied().collect();
        rules.missing(&schema, parent, field, &granted)
    }

    #[test]
    fn should_need_one_inner_list_in_full() {
        assert_eq!(missing(&[], "Query", "a"), Some(vec!["a".to_owned(), "d".to_owned()]));
        assert_eq!(missing(&["b"], "Query", "a"), Some(vec!["c".to_owned()]));
        assert_eq!(missing(&["a"], "Query", "a"), Some(vec!["d".to_owned()]));
        assert_eq!(missing(&["b", "c"], "Query", "a"), None);
        assert_eq!(missing(&["a", "d"], "Query", "a"), None);
        assert_eq!(missing(&[], "Query", "open"), None);
    }

    #[test]
    fn should_apply_type_requirements_to_fields_returning_and_belonging_to_the_type() {
        assert_eq!(missing(&[], "Query", "secret"), Some(vec!["s".to_owned()]));
        assert_eq!(missing(&[], "Secret", "x"), Some(vec!["s".to_owned()]));
        assert_eq!(missing(&["s"], "Secret", "x"), None);
    }

    #[test]
    fn should_read_the_requirements_of_the_checked_in_supergraph() {
        let sdl = include_str!("../../supergraph/supergraph.graphql");
        let doc = graphql_tools::parser::parse_schema::<String>(sdl)
            .expect("sdl")
            .into_static();
        let (rules, schema) = (ScopeRules::new(&doc), SchemaIndex::new(&doc));
        let missing = |granted: &[&str], parent: &str, field: &str| {
            rules.missing(&schema, parent, field, &granted.iter().copied().collect())
        };
        assert_eq!(missing(&[], "Campaign", "name"), Some(vec!["ads:read".to_owned()]));
        assert_eq!(missing(&["ads:read"], "Campaign", "name"), None);
        // Its own scope, and the one of the type it returns.
        assert_eq!(
            missing(&["ads:read"], "Campaign", "brand"),
            Some(vec!["sales:read".to_owned()])
        );
        assert_eq!(missing(&["ads:read", "sales:read"], "Campaign", "brand"), None);
        assert_eq!(missing(&[], "Brand", "id"), Some(vec!["sales:read".to_owned()]));
    }

    #[test]
    fn should_combine_repeated_directives_as_a_product() {
        let a = vec![vec!["a".to_owned()], vec!["b".to_owned()]];
        let c = vec![vec!["c".to_owned()]];
        assert_eq!(product(&a, &c), [vec!["a", "c"], vec!["b", "c"]]);
    }
}
