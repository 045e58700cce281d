//! Federation v2 corners over the fixture library (tests/library): a covariant interface field,
//! `@requires` of fields with arguments, `@inaccessible` values in answers and in inputs, and
//! entities whose key is null.

mod library;

use library::Library;
use promptsales_gateway::{Gateway, Options};
use serde_json::{Value, json};

#[test]
fn should_keep_the_library_supergraph_composed_from_the_library_subgraphs() {
    let composed = library::compose();
    if std::env::var_os("UPDATE_FIXTURE_SUPERGRAPH").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/library/supergraph.graphql");
        std::fs::write(path, &composed).expect("write the library supergraph");
        return;
    }
    assert!(
        composed == library::SUPERGRAPH,
        "tests/library/supergraph.graphql is stale: run \
         `UPDATE_FIXTURE_SUPERGRAPH=1 cargo test -p promptsales-gateway --test federation supergraph`"
    );
}

fn errors(body: &Value) -> Vec<(String, Value)> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["message"].as_str().unwrap_or_default().to_owned(), e["path"].clone()))
        .collect()
}

// ---- 1. a covariant interface field ----------------------------------------------------------

#[test]
fn should_load_a_supergraph_whose_implementation_narrows_an_interface_field() {
    assert!(
        library::SUPERGRAPH.contains("similar: [Book!]!"),
        "the fixture narrows Item.similar"
    );
    for introspection in [true, false] {
        let options = Options {
            introspection,
            ..Options::default()
        };
        Gateway::new(library::SUPERGRAPH, options).expect("a covariant field is valid GraphQL");
    }
}

#[tokio::test]
async fn should_introspect_the_narrowed_field_with_its_own_type() {
    let lib = Library::start().await;
    let body = lib
        .query(
            r#"{ book: __type(name: "Book") { kind fields { name type { ...T } } interfaces { name } }
                 item: __type(name: "Item") { kind possibleTypes { name } fields { name type { ...T } } } }
               fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#,
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let similar = |t: &str| {
        body["data"][t]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == "similar")
            .cloned()
            .expect("a similar field")
    };
    // [Book!]! and [Item!]!
    let inner = |f: &Value| f["type"]["ofType"]["ofType"]["ofType"].clone();
    assert_eq!(similar("book")["type"]["kind"], "NON_NULL");
    assert_eq!(similar("book")["type"]["ofType"]["kind"], "LIST");
    assert_eq!(inner(&similar("book")), json!({ "kind": "OBJECT", "name": "Book" }));
    assert_eq!(inner(&similar("item")), json!({ "kind": "INTERFACE", "name": "Item" }));
    assert_eq!(body["data"]["book"]["interfaces"], json!([{ "name": "Item" }]));
    assert_eq!(
        body["data"]["item"]["possibleTypes"],
        json!([{ "name": "Book" }, { "name": "Magazine" }])
    );
}

#[tokio::test]
async fn should_answer_the_narrowed_field_through_the_interface_and_the_object() {
    let lib = Library::start().await;
    let body = lib
        .query("{ items { __typename id similar { __typename id ... on Book { title } } } book(id: \"b1\") { similar { title } } }")
        .await;
    assert_eq!(
        body,
        json!({ "data": {
            "items": [
                { "__typename": "Book", "id": "b1", "similar": [
                    { "__typename": "Book", "id": "b2", "title": "Emma" },
                    { "__typename": "Book", "id": "b4", "title": "Walden" }
                ] },
                { "__typename": "Magazine", "id": "m1", "similar": [
                    { "__typename": "Book", "id": "b1", "title": "Dune" }
                ] }
            ],
            "book": { "similar": [{ "title": "Emma" }, { "title": "Walden" }] }
        } })
    );
}

#[tokio::test]
async fn should_hide_inaccessible_types_values_and_arguments_from_introspection() {
    let lib = Library::start().await;
    let body = lib
        .query(
            r#"{ archived: __type(name: "Archived") { name }
                 format: __type(name: "Format") { enumValues { name } }
                 shelf: __type(name: "Shelf") { possibleTypes { name } }
                 query: __schema { queryType { fields { name args { name defaultValue } } } } }"#,
        )
        .await;
    assert_eq!(body["data"]["archived"], Value::Null);
    assert_eq!(
        body["data"]["format"]["enumValues"],
        json!([{ "name": "HARDCOVER" }, { "name": "PAPERBACK" }, { "name": "EBOOK" }])
    );
    assert_eq!(
        body["data"]["shelf"]["possibleTypes"],
        json!([{ "name": "Book" }, { "name": "Magazine" }])
    );
    let fields = body["data"]["query"]["queryType"]["fields"].as_array().expect("fields");
    let search = fields.iter().find(|f| f["name"] == "search").expect("search");
    assert_eq!(search["args"], json!([{ "name": "format", "defaultValue": null }]));
    assert!(
        fields
            .iter()
            .all(|f| !f["name"].as_str().unwrap_or("__").starts_with("__"))
    );
}

#[tokio::test]
async fn should_answer_introspection_with_fragments_aliases_variables_and_skip() {
    let lib = Library::start().await;
    let body = lib
        .query_with(
            r#"query Q($name: String!, $deep: Boolean!) {
                 t: __type(name: $name) { ...T kind @skip(if: $deep) }
                 __schema { mutationType { name } types @include(if: $deep) { name } }
                 __typename
               }
               fragment T on __Type { n: name fields(includeDeprecated: true) @include(if: $deep) { name } }"#,
            json!({ "name": "Person", "deep": false }),
        )
        .await;
    assert_eq!(
        body,
        json!({ "data": { "t": { "n": "Person", "kind": "OBJECT" }, "__schema": { "mutationType": null }, "__typename": "Query" } })
    );
}

#[tokio::test]
async fn should_refuse_at_load_a_supergraph_the_gateway_cannot_serve() {
    let Err(error) = Gateway::new("type Query { broken: Nowhere }", Options::default()) else {
        panic!("a supergraph without join graphs is not served");
    };
    assert!(!error.to_string().is_empty());
}

// ---- 2. @requires of fields with arguments -----------------------------------------------------

#[tokio::test]
async fn should_send_the_required_field_under_the_arguments_the_requires_names() {
    let lib = Library::start().await;
    // The client asks reviews(limit: 1); topReviewer requires reviews(limit: 3): b1's newest
    // review is ann's, but bob wrote two of the newest three.
    let body = lib
        .query("{ book(id: \"b1\") { topReviewer { handle name } reviews(limit: 1) { id } } }")
        .await;
    assert_eq!(
        body,
        json!({ "data": { "book": {
            "topReviewer": { "handle": "bob", "name": "Bob Critic" },
            "reviews": [{ "id": "r1" }]
        } } })
    );
    let sent: Vec<Value> = lib
        .representations("reviews")
        .into_iter()
        .filter(|r| r["__typename"] == "Book")
        .filter(|r| r.get("reviews").is_some())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["reviews"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn should_keep_client_aliases_apart_from_the_planner_aliases_in_requires() {
    let lib = Library::start().await;
    let body = lib
        .query(
            r#"{ books { id
                   newest: reviews(limit: 1) { id }
                   top: topReviewer { who: handle }
                   reviews(limit: 2) { reviewId: id }
                 } }"#,
        )
        .await;
    let books = body["data"]["books"].as_array().expect("books");
    assert_eq!(books[0]["top"], json!({ "who": "bob" }));
    assert_eq!(books[0]["newest"], json!([{ "id": "r1" }]));
    assert_eq!(books[0]["reviews"], json!([{ "reviewId": "r1" }, { "reviewId": "r2" }]));
    assert_eq!(books[1]["top"], json!({ "who": "cy" }));
    assert_eq!(books[3]["top"], Value::Null);
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn should_send_each_requires_the_price_in_its_own_currency() {
    let lib = Library::start().await;
    let body = lib.query("{ books { id shippingUsd shippingEur } }").await;
    assert!(body.get("errors").is_none(), "{body}");
    let books = body["data"]["books"].as_array().expect("books");
    // Dune: 20 USD, 18 EUR; a tenth of each.
    assert_eq!(books[0], json!({ "id": "b1", "shippingUsd": 2.0, "shippingEur": 1.8 }));
    assert_eq!(books[3], json!({ "id": "b4", "shippingUsd": 0.8, "shippingEur": 0.72 }));
}

#[tokio::test]
async fn should_send_the_required_price_when_the_client_asks_it_in_another_currency_and_alias() {
    let lib = Library::start().await;
    let body = lib
        .query(
            r#"{ book(id: "b2") {
                   priceIn(currency: EUR)
                   usd: priceIn(currency: USD)
                   eur: shippingEur
                   shippingUsd
                 } }"#,
        )
        .await;
    assert_eq!(
        body,
        json!({ "data": { "book": { "priceIn": 9.0, "usd": 10.0, "eur": 0.9, "shippingUsd": 1.0 } } })
    );
}

#[tokio::test]
async fn should_send_requires_from_entities_in_nested_lists() {
    let lib = Library::start().await;
    let body = lib
        .query("{ bookGrid { id shippingEur topReviewer { handle } } }")
        .await;
    assert_eq!(
        body,
        json!({ "data": { "bookGrid": [
            [{ "id": "b1", "shippingEur": 1.8, "topReviewer": { "handle": "bob" } }, null],
            [{ "id": "b2", "shippingEur": 0.9, "topReviewer": { "handle": "cy" } },
             { "id": "b4", "shippingEur": 0.72, "topReviewer": null }]
        ] } })
    );
}

// ---- 3. @inaccessible values in answers and in inputs --------------------------------------

#[tokio::test]
async fn should_null_an_inaccessible_enum_value_with_an_error_and_propagate() {
    let lib = Library::start().await;
    // Book.format is non-null: the book becomes null, the list item is nullable.
    let body = lib.query("{ books { title format } }").await;
    assert_eq!(
        body["data"],
        json!({ "books": [
            { "title": "Dune", "format": "HARDCOVER" },
            { "title": "Emma", "format": "PAPERBACK" },
            null,
            { "title": "Walden", "format": "EBOOK" }
        ] })
    );
    let errors = errors(&body);
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0].1, json!(["books", 2, "format"]));
    assert!(errors[0].0.contains("Format"), "{}", errors[0].0);
    assert!(!body.to_string().contains("AUDIO"), "{body}");
}

#[tokio::test]
async fn should_null_an_inaccessible_member_of_a_union_with_an_error() {
    let lib = Library::start().await;
    let body = lib
        .query("{ shelf { __typename ... on Book { id } ... on Magazine { id issue } } }")
        .await;
    assert_eq!(
        body["data"],
        json!({ "shelf": [
            { "__typename": "Book", "id": "b2" },
            null,
            { "__typename": "Magazine", "id": "m1", "issue": 7 }
        ] })
    );
    let errors = errors(&body);
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0].1, json!(["shelf", 1]));
    assert!(!body.to_string().contains("Archived"), "{body}");
}

#[tokio::test]
async fn should_refuse_inaccessible_input_values_and_arguments() {
    let lib = Library::start().await;
    for (query, variables) in [
        ("{ cheapest(currency: INTERNAL) }", Value::Null),
        (
            "query ($c: Currency!) { cheapest(currency: $c) }",
            json!({ "c": "INTERNAL" }),
        ),
        ("{ search(format: AUDIO) { id } }", Value::Null),
        (
            "query ($f: Format) { search(format: $f) { id } }",
            json!({ "f": "AUDIO" }),
        ),
        ("{ search(includeDrafts: true) { id } }", Value::Null),
        (
            "query ($f: [Format]) { search(format: $f) { id } }",
            json!({ "f": "EBOOK" }),
        ),
    ] {
        let (status, body) = lib.post(query, variables.clone()).await;
        assert_eq!(status, 400, "{query} {variables}: {body}");
        assert!(body.get("data").is_none(), "{query}: {body}");
    }
    let seen = lib.seen.lock().expect("lock").len();
    assert_eq!(seen, 0, "no subgraph was asked");
    let body = lib
        .query_with(
            "query ($c: Currency!) { cheapest(currency: $c) }",
            json!({ "c": "EUR" }),
        )
        .await;
    assert_eq!(body, json!({ "data": { "cheapest": 7.2 } }));
}

// ---- 4. entities whose key is null -----------------------------------------------------------

#[tokio::test]
async fn should_leave_entities_without_their_key_out_of_the_batch() {
    let lib = Library::start().await;
    // b1 by frank, b2 by an anonymous writer (handle null), b3 by nobody (writer null), b4 by henry.
    let body = lib.query("{ books { id writer { handle name } } }").await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["books"],
        json!([
            { "id": "b1", "writer": { "handle": "frank", "name": "Frank Herbert" } },
            { "id": "b2", "writer": { "handle": null, "name": null } },
            { "id": "b3", "writer": null },
            { "id": "b4", "writer": { "handle": "henry", "name": "Henry David Thoreau" } }
        ])
    );
    let sent = lib.representations("people");
    assert_eq!(
        sent,
        vec![
            json!({ "__typename": "Person", "handle": "frank" }),
            json!({ "__typename": "Person", "handle": "henry" })
        ]
    );
}

#[tokio::test]
async fn should_leave_null_keys_out_inside_nested_lists_and_aliases() {
    let lib = Library::start().await;
    let body = lib.query("{ grid: bookGrid { id by: writer { n: name } } }").await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["grid"],
        json!([
            [{ "id": "b1", "by": { "n": "Frank Herbert" } }, null],
            [{ "id": "b2", "by": { "n": null } }, { "id": "b4", "by": { "n": "Henry David Thoreau" } }]
        ])
    );
    assert!(
        lib.representations("people").iter().all(|r| r["handle"].is_string()),
        "{:?}",
        lib.representations("people")
    );
}

/// An operation the query planner (hive-router-query-planner 2.10) panics on, found by the
/// differential check (it indexes out of range in `merge_path.rs`; Hive Router's own worker dies
/// on it too). The panic costs that operation only: a 500 with an `INTERNAL` error, and the
/// gateway goes on serving.
#[tokio::test]
async fn should_answer_an_error_when_the_planner_panics_and_keep_serving() {
    let lib = Library::start().await;
    let query = r#"query Generated($v0: Currency!, $v1: Boolean!, $v2: Currency!, $v3: Currency!, $v4: Boolean!, $v5: Currency!, $v6: Int!, $v7: Boolean!) { a1: shelf { __typename ...F0 } a10: book(id: "b3") { a11: title a12: format similar { a13: priceIn(currency: $v3) a14: similar { id @skip(if: $v4) a15: priceIn(currency: $v5) shippingUsd shippingEur } a16: reviews(limit: $v6) { a17: body } topReviewer { name } } a18: reviews(limit: 3) { a19: reviewerHandle @include(if: $v7) body } } } fragment F0 on Book { __typename a2: id a3: format a4: priceIn(currency: $v0) a5: similar @include(if: $v1) { id title a6: priceIn(currency: $v2) similar { a7: title a8: format a9: shippingUsd shippingEur } } }"#;
    let variables = json!({"v0":"EUR","v1":true,"v2":"USD","v3":"USD","v4":true,"v5":"EUR","v6":1,"v7":false});
    let (status, body) = lib.post(query, variables).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body}");
    let (status, body) = lib.post(r#"{ book(id: "b1") { title } }"#, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["book"]["title"], "Dune", "{body}");
}

/// Kind 8 of the differential check (docs/federation.md): a field that `@requires`
/// `priceIn(currency: EUR)` beside the client's own `priceIn` with a variable argument, under a
/// conditional sibling. The required price must reach the shipping subgraph whatever the variable
/// says: the answers equal those of the same fields asked one by one.
///
/// hive-router-query-planner 2.10.11 (the latest) fetches the required price as
/// `_internal_qp_alias_0: priceIn(currency: EUR)` beside the client's `priceIn(currency: $currency)`
/// but writes the entity fetch's requires as plain `priceIn`, and when another path needs the same
/// requires it gives that path the alias instead (batched or not): the representation would carry
/// the client's price, or none. The gateway repairs such requires after planning (requires.rs).
#[tokio::test]
async fn should_send_the_required_argument_set_beside_a_client_field_with_a_variable_argument() {
    required_argument_sets_beside_variables(&[true]).await;
}

/// The same with the conditional sibling included: the planner then selects
/// `... on Book @skip(if: $skip) { priceIn(currency: USD) }` and `priceIn(currency: EUR)` under
/// one response key in the same fetch (two argument sets for one key: the subgraph answers one
/// of them), which no repair of the requires can undo; the fetch itself would have to alias one.
/// Open: docs/federation.md, kind 8.
#[tokio::test]
#[ignore = "kind 8 of docs/federation.md: the planner selects two argument sets under one response key"]
async fn should_send_both_required_argument_sets_when_the_conditional_sibling_is_included() {
    required_argument_sets_beside_variables(&[false]).await;
}

async fn required_argument_sets_beside_variables(skips: &[bool]) {
    let lib = Library::start().await;
    let alone = lib
        .query("{ search(format: PAPERBACK) { id shippingEur shippingUsd } shelf { ... on Book { id shippingEur } } }")
        .await;
    // The shelf's archived book is inaccessible: its place is null with an error, in both.
    let errors = |body: &Value| body["errors"].as_array().map_or(0, Vec::len);
    let query = r#"query($skip: Boolean!, $currency: Currency!) {
        search(format: PAPERBACK) { id shippingUsd @skip(if: $skip) shippingEur }
        shelf { ... on Book { id priceIn(currency: $currency) shippingEur } }
    }"#;
    for &skip in skips {
        for currency in ["USD", "EUR"] {
            let body = lib
                .query_with(query, json!({ "skip": skip, "currency": currency }))
                .await;
            assert_eq!(errors(&body), errors(&alone), "skip {skip}, {currency}: {body}");
            assert!(
                !body.to_string().contains("is required"),
                "skip {skip}, {currency}: {body}"
            );
            let data = &body["data"];
            let search = data["search"].as_array().expect("search");
            assert_eq!(search.len(), alone["data"]["search"].as_array().expect("search").len());
            for (got, want) in search.iter().zip(alone["data"]["search"].as_array().expect("search")) {
                assert_eq!(got["id"], want["id"]);
                assert_eq!(
                    got["shippingEur"], want["shippingEur"],
                    "skip {skip}, {currency}: {body}"
                );
                if skip {
                    assert!(got.get("shippingUsd").is_none(), "{body}");
                } else {
                    assert_eq!(got["shippingUsd"], want["shippingUsd"], "{body}");
                }
            }
            let shelf = data["shelf"].as_array().expect("shelf");
            for (got, want) in shelf.iter().zip(alone["data"]["shelf"].as_array().expect("shelf")) {
                assert_eq!(
                    got["shippingEur"], want["shippingEur"],
                    "skip {skip}, {currency}: {body}"
                );
                if let Some(id) = got["id"].as_str() {
                    let price = lib
                        .query(&format!(
                            r#"{{ book(id: "{id}") {{ priceIn(currency: {currency}) }} }}"#
                        ))
                        .await;
                    assert_eq!(
                        got["priceIn"], price["data"]["book"]["priceIn"],
                        "{id} in {currency}: {body}"
                    );
                }
            }
        }
    }
}
