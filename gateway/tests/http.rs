//! The HTTP front: GraphQL-over-HTTP status codes and media types, limits, introspection,
//! GraphiQL and the operational routes.

mod fixtures;

use axum::{body::Body, http::Request};
use fixtures::Stack;
use insta::assert_json_snapshot;
use promptsales_gateway::{Options, limits::Limits};
use serde_json::{Value, json};

fn post(body: &Value) -> Request<Body> {
    Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn should_answer_get_queries_with_the_graphql_response_media_type() {
    let stack = Stack::start().await;
    let (status, headers, body) = stack.send(get("/graphql?query=%7Bme%7Busername%7D%7D")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/graphql-response+json");
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "me": {
              "username": "ada"
            }
          }
        }
        "#);
}

#[tokio::test]
async fn should_refuse_mutations_over_get_and_run_them_over_post() {
    let stack = Stack::start().await;
    let (status, headers, body) = stack
        .send(get(
            "/graphql?query=mutation%7Brename(id%3A%22u1%22%2Cname%3A%22Ada%22)%7Bname%7D%7D",
        ))
        .await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "POST");
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "message": "mutations are only accepted over POST",
              "extensions": {
                "code": "METHOD_NOT_ALLOWED"
              }
            }
          ]
        }
        "#);
    let (status, _, body) = stack
        .send(post(
            &json!({ "query": r#"mutation { rename(id: "u1", name: "Ada") { name } }"# }),
        ))
        .await;
    assert_eq!(status, 200);
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "rename": {
              "name": "Ada"
            }
          }
        }
        "#);
}

#[tokio::test]
async fn should_refuse_unsupported_content_types_with_415() {
    let stack = Stack::start().await;
    let request = Request::post("/graphql")
        .header("content-type", "text/plain")
        .body(Body::from("{ me { name } }"))
        .expect("request");
    let (status, _, body) = stack.send(request).await;
    assert_eq!(status, 415);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "message": "send the request as application/json",
              "extensions": {
                "code": "UNSUPPORTED_MEDIA_TYPE"
              }
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn should_refuse_unparsable_and_invalid_documents_with_400() {
    let stack = Stack::start().await;
    let (status, headers, body) = stack.send(post(&json!({ "query": "{ me { name " }))).await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "application/graphql-response+json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    let (status, _, body) = stack.send(post(&json!({ "query": "{ me { nickname } }" }))).await;
    assert_eq!(status, 400);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "message": "Cannot query field \"nickname\" on type \"User\".",
              "locations": [
                {
                  "line": 1,
                  "column": 8
                }
              ],
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED"
              }
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn should_answer_200_with_errors_in_the_body_to_legacy_json_clients() {
    let stack = Stack::start().await;
    let mut request = post(&json!({ "query": "{ me { nickname } }" }));
    request
        .headers_mut()
        .insert("accept", "application/json".parse().expect("header"));
    let (status, headers, body) = stack.send(request).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn should_enforce_depth_alias_and_token_limits_with_clear_errors() {
    let options = Options {
        limits: Limits {
            max_tokens: 40,
            max_depth: 3,
            max_aliases: 2,
        },
        ..Options::default()
    };
    let stack = Stack::start_with(options).await;
    let deep = "{ reviews { author { reviews { author { name } } } } }";
    let (status, _, body) = stack.send(post(&json!({ "query": deep }))).await;
    assert_eq!(status, 400);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "message": "the operation is nested deeper than the limit of 3",
              "extensions": {
                "code": "LIMIT_EXCEEDED"
              }
            }
          ]
        }
        "#);
    let aliased = "{ a: me { name } b: me { name } c: me { name } }";
    let (status, _, body) = stack.send(post(&json!({ "query": aliased }))).await;
    assert_eq!(status, 400);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "message": "the operation uses 3 aliases; at most 2 are allowed",
              "extensions": {
                "code": "LIMIT_EXCEEDED"
              }
            }
          ]
        }
        "#);
    let long = format!("{{ {} }}", "me { name } ".repeat(20));
    let (status, _, body) = stack.send(post(&json!({ "query": long }))).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{body}");
}

#[tokio::test]
async fn should_answer_introspection_from_the_consumer_schema() {
    let stack = Stack::start().await;
    let query = r#"{ __schema { queryType { name } mutationType { name } } __type(name: "SearchResult") { kind possibleTypes { name } } }"#;
    let (status, _, body) = stack.send(post(&json!({ "query": query }))).await;
    assert_eq!(status, 200);
    assert_json_snapshot!(body, @r#"
        {
          "data": {
            "__schema": {
              "queryType": {
                "name": "Query"
              },
              "mutationType": {
                "name": "Mutation"
              }
            },
            "__type": {
              "kind": "UNION",
              "possibleTypes": [
                {
                  "name": "Review"
                },
                {
                  "name": "Product"
                }
              ]
            }
          }
        }
        "#);
    let (status, _, body) = stack
        .send(post(
            &json!({ "query": "{ __type(name: \"Product\") { fields { name } } }" }),
        ))
        .await;
    assert_eq!(status, 200);
    let fields: Vec<&str> = body["data"]["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "upc",
            "price",
            "weight",
            "inStock",
            "shippingEstimate",
            "warehouse",
            "name",
            "reviews"
        ]
    );
}

#[tokio::test]
async fn should_refuse_introspection_when_it_is_switched_off() {
    let stack = Stack::start_with(Options {
        introspection: false,
        ..Options::default()
    })
    .await;
    let (status, _, body) = stack
        .send(post(&json!({ "query": "{ __schema { queryType { name } } }" })))
        .await;
    assert_eq!(status, 400);
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "message": "introspection is disabled",
              "extensions": {
                "code": "INTROSPECTION_DISABLED"
              }
            }
          ]
        }
        "#);
}

#[tokio::test]
async fn should_serve_graphiql_health_readiness_and_metrics() {
    let stack = Stack::start().await;
    let (status, _, body) = stack.send(get("/")).await;
    assert_eq!(status, 200);
    assert!(body.as_str().is_some_and(|b| b.contains("graphiql")), "GraphiQL page");
    stack.query("{ me { name } }").await;
    stack.query("{ me { name } }").await;
    for path in ["/healthz", "/readyz"] {
        assert_eq!(stack.send(get(path)).await.0, 200, "{path}");
    }
    let (_, _, metrics) = stack.send(get("/metrics")).await;
    let metrics = metrics.as_str().expect("text").to_owned();
    for name in [
        "gateway_plan_cache_total",
        "gateway_subgraph_fetch_duration_seconds",
        "gateway_operation_duration_seconds",
        "http_requests_total",
    ] {
        assert!(metrics.contains(name), "{name} in /metrics");
    }
    assert!(metrics.contains(r#"gateway_plan_cache_total{result="hit"}"#));
}

#[tokio::test]
async fn should_stay_ready_when_a_subgraph_is_down() {
    let mut stack = Stack::start().await;
    stack.stop("accounts").await;
    assert_eq!(stack.send(get("/readyz")).await.0, 200);
    let (status, _, body) = stack.send(post(&json!({ "query": "{ me { name } }" }))).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"], Value::Null);
    assert_eq!(body["errors"][0]["extensions"]["subgraph"], "accounts");
}

#[tokio::test]
async fn should_refuse_oversized_bodies() {
    let stack = Stack::start().await;
    let huge = json!({ "query": format!("{{ me {{ name }} }} # {}", "x".repeat(300 * 1024)) });
    let (status, _, _) = stack.send(post(&huge)).await;
    assert_eq!(status, 413);
}
