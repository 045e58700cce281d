//! Full responses of the fixture shop through the gateway: aliases, fragments on interfaces and
//! unions, entity joins across subgraphs, @requires, @provides, @override, null propagation and
//! partial data when a subgraph is down.

mod fixtures;

use fixtures::Stack;
use insta::assert_json_snapshot;
use serde_json::json;

#[tokio::test]
async fn should_answer_aliases_and_typename_from_one_subgraph() {
    let stack = Stack::start().await;
    let body = stack
        .query(r#"{ cheap: topProducts(first: 2) { id: upc title: name __typename } one: product(upc: "3") { name } }"#)
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "cheap": [
              {
                "id": "1",
                "title": "Table",
                "__typename": "Product"
              },
              {
                "id": "2",
                "title": "Couch",
                "__typename": "Product"
              }
            ],
            "one": {
              "name": "Chair"
            }
          }
        }
        "#);
}

#[tokio::test]
async fn should_join_entities_across_three_subgraphs() {
    let stack = Stack::start().await;
    let body = stack
        .query("{ topProducts { upc name inStock reviews { body author { name username } } } }")
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": [
              {
                "upc": "1",
                "name": "Table",
                "inStock": true,
                "reviews": [
                  {
                    "body": "Love it",
                    "author": {
                      "name": "Ada Lovelace",
                      "username": "ada"
                    }
                  },
                  {
                    "body": "Prefer something else",
                    "author": {
                      "name": "Alan Turing",
                      "username": "alan"
                    }
                  }
                ]
              },
              {
                "upc": "2",
                "name": "Couch",
                "inStock": false,
                "reviews": [
                  {
                    "body": "Too expensive",
                    "author": {
                      "name": "Ada Lovelace",
                      "username": "ada"
                    }
                  }
                ]
              },
              {
                "upc": "3",
                "name": "Chair",
                "inStock": true,
                "reviews": [
                  {
                    "body": "Could be better",
                    "author": {
                      "name": "Alan Turing",
                      "username": "alan"
                    }
                  }
                ]
              }
            ]
          }
        }
        "#);
}

#[tokio::test]
async fn should_send_requires_fields_to_the_subgraph_that_requires_them() {
    let stack = Stack::start().await;
    let body = stack.query("{ topProducts { upc shippingEstimate } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": [
              {
                "upc": "1",
                "shippingEstimate": 50
              },
              {
                "upc": "2",
                "shippingEstimate": 0
              },
              {
                "upc": "3",
                "shippingEstimate": 25
              }
            ]
          }
        }
        "#);
}

#[tokio::test]
async fn should_take_provided_fields_from_the_providing_subgraph() {
    let stack = Stack::start().await;
    let body = stack.query("{ reviews { id product { name } } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "reviews": [
              {
                "id": "r1",
                "product": {
                  "name": "Table"
                }
              },
              {
                "id": "r2",
                "product": {
                  "name": "Couch"
                }
              },
              {
                "id": "r3",
                "product": {
                  "name": "Chair"
                }
              },
              {
                "id": "r4",
                "product": {
                  "name": "Table"
                }
              }
            ]
          }
        }
        "#);
    let fetched: Vec<&str> = stack.seen.lock().expect("lock").iter().map(|s| s.subgraph).collect();
    assert_eq!(fetched, ["reviews"], "the product names come with the reviews");
}

#[tokio::test]
async fn should_resolve_overridden_fields_in_the_overriding_subgraph() {
    let stack = Stack::start().await;
    let body = stack.query("{ reviews { author { name } } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "reviews": [
              {
                "author": {
                  "name": "Ada Lovelace"
                }
              },
              {
                "author": {
                  "name": "Ada Lovelace"
                }
              },
              {
                "author": {
                  "name": "Alan Turing"
                }
              },
              {
                "author": {
                  "name": "Alan Turing"
                }
              }
            ]
          }
        }
        "#);
}

#[tokio::test]
async fn should_apply_fragments_on_interfaces_and_named_fragments() {
    let stack = Stack::start().await;
    let body = stack
        .query(
            "{ feedback { __typename id ...on Review { rating product { upc price } } ...Q } }
             fragment Q on Question { answered text: body }",
        )
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "feedback": [
              {
                "__typename": "Review",
                "id": "r1",
                "rating": 5,
                "product": {
                  "upc": "1",
                  "price": 899
                }
              },
              {
                "__typename": "Review",
                "id": "r2",
                "rating": 1,
                "product": {
                  "upc": "2",
                  "price": 1299
                }
              },
              {
                "__typename": "Question",
                "id": "q1",
                "answered": false,
                "text": "Does it fold?"
              }
            ]
          }
        }
        "#);
}

#[tokio::test]
async fn should_apply_fragments_on_unions_and_join_union_members() {
    let stack = Stack::start().await;
    let body = stack
        .query(r#"{ search(term: "e") { __typename ... on Review { body } ... on Product { upc name inStock } } }"#)
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "search": [
              {
                "__typename": "Review",
                "body": "Love it"
              },
              {
                "__typename": "Review",
                "body": "Too expensive"
              },
              {
                "__typename": "Review",
                "body": "Could be better"
              },
              {
                "__typename": "Review",
                "body": "Prefer something else"
              },
              {
                "__typename": "Product",
                "upc": "1",
                "name": "Table",
                "inStock": true
              },
              {
                "__typename": "Product",
                "upc": "2",
                "name": "Couch",
                "inStock": false
              },
              {
                "__typename": "Product",
                "upc": "3",
                "name": "Chair",
                "inStock": true
              },
              {
                "__typename": "Product",
                "upc": "1",
                "name": "Table",
                "inStock": true
              }
            ]
          }
        }
        "#);
}

#[tokio::test]
async fn should_honour_skip_and_include_with_variables() {
    let stack = Stack::start().await;
    let body = stack
        .query_with(
            "query ($withStock: Boolean!, $noName: Boolean = true) { topProducts(first: 1) { upc name @skip(if: $noName) inStock @include(if: $withStock) } }",
            json!({ "withStock": true }),
        )
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": [
              {
                "upc": "1",
                "inStock": true
              }
            ]
          }
        }
        "#);
}

#[tokio::test]
async fn should_return_partial_data_with_errors_at_their_paths_when_a_subgraph_is_down() {
    let mut stack = Stack::start().await;
    stack.stop("inventory").await;
    let body = stack.query("{ topProducts(first: 2) { upc name inStock } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": [
              {
                "upc": "1",
                "name": "Table",
                "inStock": null
              },
              {
                "upc": "2",
                "name": "Couch",
                "inStock": null
              }
            ]
          },
          "errors": [
            {
              "message": "subgraph inventory could not be reached",
              "path": [
                "topProducts",
                0,
                "inStock"
              ],
              "extensions": {
                "code": "SUBGRAPH_REQUEST_FAILED",
                "subgraph": "inventory"
              }
            },
            {
              "message": "subgraph inventory could not be reached",
              "path": [
                "topProducts",
                1,
                "inStock"
              ],
              "extensions": {
                "code": "SUBGRAPH_REQUEST_FAILED",
                "subgraph": "inventory"
              }
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn should_propagate_null_of_a_non_null_field_to_the_nearest_nullable_parent() {
    let mut stack = Stack::start().await;
    stack.stop("inventory").await;
    let body = stack
        .query("{ topProducts(first: 2) { upc shippingEstimate } me { username } }")
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": null,
            "me": {
              "username": "ada"
            }
          },
          "errors": [
            {
              "message": "subgraph inventory could not be reached",
              "path": [
                "topProducts",
                0,
                "shippingEstimate"
              ],
              "extensions": {
                "code": "SUBGRAPH_REQUEST_FAILED",
                "subgraph": "inventory"
              }
            },
            {
              "message": "subgraph inventory could not be reached",
              "path": [
                "topProducts",
                1,
                "shippingEstimate"
              ],
              "extensions": {
                "code": "SUBGRAPH_REQUEST_FAILED",
                "subgraph": "inventory"
              }
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn should_return_root_fields_of_other_subgraphs_when_one_root_subgraph_is_down() {
    let mut stack = Stack::start().await;
    stack.stop("reviews").await;
    let body = stack.query("{ me { username } reviews { id } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": null,
          "errors": [
            {
              "message": "subgraph reviews could not be reached",
              "path": [
                "reviews"
              ],
              "extensions": {
                "code": "SUBGRAPH_REQUEST_FAILED",
                "subgraph": "reviews"
              }
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn should_send_signed_claims_request_id_and_trace_context_to_every_subgraph() {
    let stack = Stack::start().await;
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .header("x-request-id", "req-42")
        .body(axum::body::Body::from(
            json!({ "query": "{ topProducts { inStock reviews { id } } }" }).to_string(),
        ))
        .expect("request");
    let (status, _, body) = stack.send(request).await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    let seen = stack.seen.lock().expect("lock").clone();
    let mut subgraphs: Vec<&str> = seen.iter().map(|s| s.subgraph).collect();
    subgraphs.sort_unstable();
    // The fixtures refuse fetches without a valid claims header, so every fetch here carried one.
    assert_eq!(subgraphs, ["inventory", "products", "reviews"]);
    for s in &seen {
        assert_eq!(
            s.traceparent.as_deref(),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        );
        assert_eq!(s.request_id.as_deref(), Some("req-42"));
    }
}

#[tokio::test]
async fn should_execute_batched_entity_fetches_for_union_and_interface_members() {
    let stack = Stack::start().await;
    let body = stack
        .query(r#"{ search(term: "Love") { ... on Product { name inStock } } feedback { ... on Review { product { price } } } }"#)
        .await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "search": [
              {},
              {
                "name": "Table",
                "inStock": true
              }
            ],
            "feedback": [
              {
                "product": {
                  "price": 899
                }
              },
              {
                "product": {
                  "price": 1299
                }
              },
              {}
            ]
          }
        }
        "#);
}

#[tokio::test]
async fn should_move_subgraph_errors_of_entity_fetches_to_the_entities_paths() {
    let stack = Stack::start().await;
    let body = stack.query("{ topProducts { upc warehouse } }").await;
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": [
              {
                "upc": "1",
                "warehouse": "Berlin"
              },
              {
                "upc": "2",
                "warehouse": null
              },
              {
                "upc": "3",
                "warehouse": "Berlin"
              }
            ]
          },
          "errors": [
            {
              "message": "the warehouse system is down",
              "path": [
                "topProducts",
                1,
                "warehouse"
              ],
              "extensions": {
                "subgraph": "inventory"
              }
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn should_send_each_distinct_representation_once() {
    let stack = Stack::start().await;
    let body = stack.query("{ reviews { product { upc inStock } } }").await;
    assert_eq!(
        body["data"]["reviews"][3]["product"],
        json!({ "upc": "1", "inStock": true })
    );
    let seen = stack.seen.lock().expect("lock").clone();
    let inventory: Vec<usize> = seen
        .iter()
        .filter(|s| s.subgraph == "inventory")
        .map(|s| s.representations)
        .collect();
    // Four reviews of three distinct products.
    assert_eq!(inventory, [3]);
}

#[tokio::test]
async fn should_return_partial_data_when_a_subgraph_is_slower_than_its_timeout() {
    let options = promptsales_gateway::Options {
        subgraph_timeouts_ms: [("inventory".to_owned(), 200)].into(),
        ..Default::default()
    };
    let stack = Stack::start_with(options).await;
    stack.slow_down("inventory", std::time::Duration::from_secs(3));
    let started = std::time::Instant::now();
    let body = stack.query("{ topProducts(first: 1) { upc inStock } }").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the timeout cut the fetch short"
    );
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "topProducts": [
              {
                "upc": "1",
                "inStock": null
              }
            ]
          },
          "errors": [
            {
              "message": "subgraph inventory did not answer within 200ms",
              "path": [
                "topProducts",
                0,
                "inStock"
              ],
              "extensions": {
                "code": "SUBGRAPH_REQUEST_FAILED",
                "subgraph": "inventory"
              }
            }
          ]
        }
        "#);
}

/// A stand-in subgraph that answers every request with `body`.
async fn answering(body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}/graphql", listener.local_addr().expect("bound"));
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(move || async move { ([("content-type", "application/json")], body) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn should_pass_escaped_strings_and_unicode_through_unchanged() {
    // The body is parsed in place: strings with escapes are the ones copied, and every string is
    // escaped again on the way out.
    let url = answering(
        r#"{"data":{"topProducts":[{"upc":"1","title":"Ta\"ble\\ \u00e9 \ud83d\ude00\n\u0001"},{"upc":"2","title":"Couch"}]}}"#,
    )
    .await;
    let options = promptsales_gateway::Options {
        subgraph_urls: [("products".to_owned(), url)].into(),
        ..Default::default()
    };
    let stack = Stack::start_with(options).await;
    let body = stack.query("{ topProducts(first: 2) { upc title: name } }").await;
    assert_eq!(
        body,
        json!({ "data": { "topProducts": [
            { "upc": "1", "title": "Ta\"ble\\ é 😀\n\u{1}" },
            { "upc": "2", "title": "Couch" },
        ] } })
    );
}

#[tokio::test]
async fn should_answer_partial_data_when_a_subgraph_answers_broken_json() {
    // Cut short, and a control character inside a string: neither is JSON.
    for broken in [
        r#"{"data":{"_entities":[{"__typename":"Product","inStock":true}"#,
        "{\"data\":{\"_entities\":[{\"__typename\":\"Product\",\"name\":\"a\u{1}b\"}]}}",
    ] {
        let options = promptsales_gateway::Options {
            subgraph_urls: [("inventory".to_owned(), answering(broken).await)].into(),
            ..Default::default()
        };
        let stack = Stack::start_with(options).await;
        let body = stack.query("{ topProducts(first: 1) { upc inStock } }").await;
        assert_eq!(
            body,
            json!({
                "data": { "topProducts": [{ "upc": "1", "inStock": null }] },
                "errors": [{
                    "message": "subgraph inventory answered with something that is not a GraphQL response",
                    "path": ["topProducts", 0, "inStock"],
                    "extensions": { "code": "SUBGRAPH_REQUEST_FAILED", "subgraph": "inventory" },
                }],
            }),
            "{broken}"
        );
    }
}

#[tokio::test]
async fn should_put_an_error_at_every_field_a_failed_entity_fetch_was_to_add() {
    let mut stack = Stack::start().await;
    stack.stop("inventory").await;
    let body = stack
        .query("{ topProducts(first: 1) { upc inStock shippingEstimate } }")
        .await;
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("errors: {body}"));
    // One error per field; their order is not part of the contract.
    let mut paths: Vec<String> = errors.iter().map(|e| e["path"].to_string()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            json!(["topProducts", 0, "inStock"]).to_string(),
            json!(["topProducts", 0, "shippingEstimate"]).to_string()
        ],
        "a client tells each null from a value by its own error: {body}"
    );
    assert!(
        errors.iter().all(|e| e["extensions"]["subgraph"] == "inventory"),
        "{body}"
    );
}

/// When `@skip` removes every field of a selection, the object is an empty map by the spec, but
/// the fixture subgraphs (async-graphql) answer `null` for it. That null sits in a non-null
/// position (`[Review!]!`), so it propagates to the nearest nullable parent with an error, as
/// result coercion says; the gateway does not invent an object the subgraph did not return.
/// Found by the differential check: Hive Router passes the null on inside the non-null list
/// without an error (docs/federation.md).
#[tokio::test]
async fn should_propagate_the_null_a_subgraph_answers_for_a_selection_skipped_entirely() {
    let stack = Stack::start().await;
    let body = stack
        .query_with(
            r#"query($skip: Boolean!) { me { username reviews { id @skip(if: $skip) } } }"#,
            json!({ "skip": true }),
        )
        .await;
    assert_json_snapshot!(body, @r#"
    {
      "data": {
        "me": null
      },
      "errors": [
        {
          "message": "Cannot return null for non-nullable field User.reviews.",
          "path": [
            "me",
            "reviews",
            0
          ]
        }
      ]
    }
    "#);
    let body = stack
        .query_with(
            r#"query($skip: Boolean!) { me { username reviews { id @skip(if: $skip) } } }"#,
            json!({ "skip": false }),
        )
        .await;
    assert_eq!(body["data"]["me"]["reviews"][0]["id"], "r1", "{body}");
}
