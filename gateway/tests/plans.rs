//! Query plans of the fixture shop, as the planner makes them over the fixture supergraph.

mod fixtures;

use insta::assert_snapshot;
use promptsales_gateway::{Gateway, Options};

fn plan(query: &str) -> String {
    let gateway = Gateway::new(fixtures::SUPERGRAPH, Options::default()).expect("the fixture supergraph loads");
    gateway.plan(query, None).expect("plans").to_string()
}

#[test]
fn should_plan_a_single_fetch_for_one_subgraph() {
    assert_snapshot!(plan("{ topProducts(first: 2) { upc name } }"), @r#"
        QueryPlan {
          Fetch(service: "products") {
            {
              topProducts(first: 2) {
                upc
                name
              }
            }
          },
        },
        "#);
}

#[test]
fn should_plan_entity_joins_in_sequence_and_parallel() {
    assert_snapshot!(plan("{ topProducts { name inStock reviews { body author { name } } } }"), @r#"
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                topProducts {
                  __typename
                  name
                  upc
                }
              }
            },
            Parallel {
              Flatten(path: "topProducts.@") {
                Fetch(service: "reviews") {
                  {
                    ... on Product {
                      __typename
                      upc
                    }
                  } =>
                  {
                    ... on Product {
                      reviews {
                        body
                        author {
                          __typename
                          id
                        }
                      }
                    }
                  }
                },
              },
              Flatten(path: "topProducts.@") {
                Fetch(service: "inventory") {
                  {
                    ... on Product {
                      __typename
                      upc
                    }
                  } =>
                  {
                    ... on Product {
                      inStock
                    }
                  }
                },
              },
            },
            Flatten(path: "topProducts.@.reviews.@.author") {
              Fetch(service: "accounts") {
                {
                  ... on User {
                    __typename
                    id
                  }
                } =>
                {
                  ... on User {
                    name
                  }
                }
              },
            },
          },
        },
        "#);
}

#[test]
fn should_plan_requires_after_the_fields_it_needs() {
    assert_snapshot!(plan("{ topProducts { shippingEstimate } }"), @r#"
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                topProducts {
                  __typename
                  upc
                  price
                  weight
                }
              }
            },
            Flatten(path: "topProducts.@") {
              Fetch(service: "inventory") {
                {
                  ... on Product {
                    __typename
                    price
                    weight
                    upc
                  }
                } =>
                {
                  ... on Product {
                    shippingEstimate
                  }
                }
              },
            },
          },
        },
        "#);
}

#[test]
fn should_plan_provided_fields_without_another_fetch() {
    assert_snapshot!(plan("{ reviews { product { name } } }"), @r#"
        QueryPlan {
          Fetch(service: "reviews") {
            {
              reviews {
                product {
                  name
                }
              }
            }
          },
        },
        "#);
}

#[test]
fn should_plan_overridden_fields_against_the_overriding_subgraph() {
    assert_snapshot!(plan("{ reviews { author { name username } } }"), @r#"
        QueryPlan {
          Sequence {
            Fetch(service: "reviews") {
              {
                reviews {
                  author {
                    __typename
                    id
                    username
                  }
                }
              }
            },
            Flatten(path: "reviews.@.author") {
              Fetch(service: "accounts") {
                {
                  ... on User {
                    __typename
                    id
                  }
                } =>
                {
                  ... on User {
                    name
                  }
                }
              },
            },
          },
        },
        "#);
}

#[test]
fn should_plan_fragments_on_unions_and_interfaces() {
    assert_snapshot!(
        plan("{ search(term: \"a\") { ... on Product { name inStock } } feedback { ... on Review { product { price } } } }"),
        @r#"
        QueryPlan {
          Sequence {
            Fetch(service: "reviews") {
              {
                search(term: "a") {
                  __typename
                  ... on Product {
                    ...a
                  }
                }
                feedback {
                  __typename
                  ... on Review {
                    product {
                      ...a
                    }
                  }
                }
              }
              fragment a on Product {
                __typename
                upc
              }
            },
            Parallel {
              BatchFetch(service: "products") {
                {
                  _e0 {
                    paths: [
                      "feedback.@|[Review].product"
                    ]
                    {
                      ... on Product {
                        __typename
                        upc
                      }
                    }
                  }
                  _e1 {
                    paths: [
                      "search.@|[Product]"
                    ]
                    {
                      ... on Product {
                        __typename
                        upc
                      }
                    }
                  }
                }
                {
                  _e0: _entities(representations: $__batch_reps_0) {
                    ... on Product {
                      price
                    }
                  }
                  _e1: _entities(representations: $__batch_reps_1) {
                    ... on Product {
                      name
                    }
                  }
                }
              },
              Flatten(path: "search.@|[Product]") {
                Fetch(service: "inventory") {
                  {
                    ... on Product {
                      __typename
                      upc
                    }
                  } =>
                  {
                    ... on Product {
                      inStock
                    }
                  }
                },
              },
            },
          },
        },
        "#
    );
}

#[test]
fn should_plan_conditions_for_skip_and_include_variables() {
    assert_snapshot!(plan("query ($s: Boolean!) { topProducts { upc inStock @include(if: $s) } }"), @r#"
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                topProducts {
                  __typename
                  upc
                }
              }
            },
            Include(if: $s) {
              Flatten(path: "topProducts.@") {
                Fetch(service: "inventory") {
                  {
                    ... on Product {
                      __typename
                      upc
                    }
                  } =>
                  {
                    ... on Product {
                      inStock
                    }
                  }
                },
              },
            },
          },
        },
        "#);
}

#[test]
fn should_reuse_a_cached_plan() {
    let gateway = Gateway::new(fixtures::SUPERGRAPH, Options::default()).expect("loads");
    let first = gateway.plan("{ me { name } }", None).expect("plans");
    let second = gateway.plan("{ me { name } }", None).expect("plans");
    assert!(std::sync::Arc::ptr_eq(&first, &second));
}
