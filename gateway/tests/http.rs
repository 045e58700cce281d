//! The HTTP front: GraphQL-over-HTTP status codes and media types, limits, introspection,
//! GraphiQL, the operational routes, CSRF prevention and CORS.

mod fixtures;

use axum::{body::Body, http::Request};
use fixtures::Stack;
use insta::assert_json_snapshot;
use promptsales_gateway::{Options, config::HttpOptions, limits::Limits, server};
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

/// A GET query as a client that is not a browser form sends it: with the header CSRF
/// prevention asks of requests that have no JSON content type.
fn get_query(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("apollo-require-preflight", "true")
        .body(Body::empty())
        .expect("request")
}

/// The fixture stack behind a router built with `options`.
async fn stack_with_http(options: HttpOptions) -> Stack {
    let mut stack = Stack::start().await;
    stack.router = server::router(stack.gateway.clone(), stack.key.clone(), options);
    stack
}

const ME: &str = "/graphql?query=%7Bme%7Busername%7D%7D";

#[tokio::test]
async fn should_answer_get_queries_with_the_graphql_response_media_type() {
    let stack = Stack::start().await;
    let (status, headers, body) = stack.send(get_query(ME)).await;
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
        .send(get_query(
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
        .header("content-type", "application/xml")
        .body(Body::from("<query>{ me { name } }</query>"))
        .expect("request");
    let (status, _, body) = stack.send(request).await;
    assert_eq!(status, 415);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    // A simple content type that passed CSRF prevention still has to be JSON.
    let request = Request::post("/graphql")
        .header("content-type", "text/plain")
        .header("apollo-require-preflight", "true")
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
            ..Limits::default()
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
            "stock",
            "warehouse",
            "name",
            "cost",
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

#[tokio::test]
async fn should_refuse_requests_a_page_could_send_cross_site_without_a_preflight() {
    let stack = Stack::start().await;
    let (status, headers, body) = stack.send(get(ME)).await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "application/graphql-response+json");
    assert_json_snapshot!(body, @r#"
        {
          "errors": [
            {
              "message": "this request was blocked as a possible cross-site request forgery (CSRF): send it with `content-type: application/json`, or with a non-empty value in one of these headers: apollo-require-preflight, x-apollo-operation-name (e.g. `apollo-require-preflight: true`)",
              "extensions": {
                "code": "CSRF_PREVENTION"
              }
            }
          ]
        }
        "#);
    let form = |content_type: Option<&str>| {
        let mut request = Request::post("/graphql");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request
            .body(Body::from(json!({ "query": "{ me { name } }" }).to_string()))
            .expect("request")
    };
    for content_type in [
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        Some("Application/X-WWW-Form-Urlencoded"),
        Some("multipart/form-data; boundary=----x"),
        None,
    ] {
        let (status, _, body) = stack.send(form(content_type)).await;
        assert_eq!(status, 400, "{content_type:?}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "CSRF_PREVENTION",
            "{content_type:?}"
        );
    }
    // A header with an empty value does not count, as in Apollo Router.
    let mut request = get(ME);
    request
        .headers_mut()
        .insert("x-apollo-operation-name", "".parse().expect("header"));
    assert_eq!(stack.send(request).await.0, 400);
    // Legacy JSON clients get the refusal as a 400 too: nothing was executed.
    let mut request = get(ME);
    request
        .headers_mut()
        .insert("accept", "application/json".parse().expect("header"));
    let (status, headers, body) = stack.send(request).await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "CSRF_PREVENTION");
}

#[tokio::test]
async fn should_accept_get_queries_that_a_browser_would_have_preflighted() {
    let stack = Stack::start().await;
    let with = |name: &str, value: &str| {
        Request::get(ME)
            .header(name, value)
            .body(Body::empty())
            .expect("request")
    };
    for (name, value) in [
        ("apollo-require-preflight", "true"),
        ("x-apollo-operation-name", "Me"),
        // Not a simple content type, so a browser asks first even though GET has no body.
        ("content-type", "application/json"),
    ] {
        let (status, _, body) = stack.send(with(name, value)).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["data"]["me"]["username"], "ada", "{name}");
    }
}

#[tokio::test]
async fn should_ask_for_the_configured_csrf_headers_or_none_when_switched_off() {
    let stack = stack_with_http(HttpOptions {
        csrf_required_headers: vec!["x-portal-client".to_owned()],
        ..HttpOptions::default()
    })
    .await;
    let mut request = get(ME);
    request
        .headers_mut()
        .insert("x-portal-client", "admin".parse().expect("header"));
    assert_eq!(stack.send(request).await.0, 200);
    let (status, _, body) = stack.send(get_query(ME)).await;
    assert_eq!(status, 400);
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.contains("x-portal-client") && !message.contains("apollo"),
        "{message}"
    );

    let stack = stack_with_http(HttpOptions {
        csrf_prevention: false,
        ..HttpOptions::default()
    })
    .await;
    assert_eq!(stack.send(get(ME)).await.0, 200);
}

const PORTAL: &str = "https://portal.example.com";
const ELSEWHERE: &str = "https://elsewhere.example.com";

fn preflight(origin: &str) -> Request<Body> {
    Request::options("/graphql")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,authorization")
        .body(Body::empty())
        .expect("request")
}

fn cross_origin_post(origin: &str) -> Request<Body> {
    let mut request = post(&json!({ "query": "{ me { name } }" }));
    request.headers_mut().insert("origin", origin.parse().expect("header"));
    request
}

fn cors_headers(headers: &axum::http::HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn should_answer_preflights_from_configured_origins_only() {
    let stack = stack_with_http(HttpOptions {
        cors_origins: vec![PORTAL.to_owned(), "http://localhost:5173".to_owned()],
        ..HttpOptions::default()
    })
    .await;
    let (status, headers, _) = stack.send(preflight(PORTAL)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], PORTAL);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-max-age"], "600");
    assert_eq!(headers["access-control-allow-methods"], "GET,POST,OPTIONS");
    let allowed = headers["access-control-allow-headers"].to_str().expect("text");
    for name in [
        "content-type",
        "authorization",
        "x-request-id",
        "traceparent",
        "tracestate",
        "apollo-require-preflight",
        "x-apollo-operation-name",
    ] {
        assert!(allowed.split(',').any(|h| h == name), "{name} in {allowed}");
    }
    let (_, headers, _) = stack.send(preflight("http://localhost:5173")).await;
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:5173");

    let (_, headers, _) = stack.send(preflight(ELSEWHERE)).await;
    assert_eq!(cors_headers(&headers), Vec::<String>::new());
}

#[tokio::test]
async fn should_allow_cross_origin_posts_from_configured_origins_only() {
    let stack = stack_with_http(HttpOptions {
        cors_origins: vec![PORTAL.to_owned()],
        ..HttpOptions::default()
    })
    .await;
    let (status, headers, body) = stack.send(cross_origin_post(PORTAL)).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"]["name"], "Ada Lovelace");
    assert_eq!(headers["access-control-allow-origin"], PORTAL);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-expose-headers"], "x-request-id");
    // The request runs (CORS only keeps the response from the page), but the browser gets no
    // permission to read it.
    let (status, headers, _) = stack.send(cross_origin_post(ELSEWHERE)).await;
    assert_eq!(status, 200);
    assert_eq!(cors_headers(&headers), Vec::<String>::new());
}

#[tokio::test]
async fn should_send_no_cors_headers_when_no_origin_is_configured() {
    let stack = Stack::start().await;
    let (status, headers, _) = stack.send(preflight(PORTAL)).await;
    assert_eq!(status, 405);
    assert_eq!(cors_headers(&headers), Vec::<String>::new());
    let (status, headers, _) = stack.send(cross_origin_post(PORTAL)).await;
    assert_eq!(status, 200);
    assert_eq!(cors_headers(&headers), Vec::<String>::new());
}
