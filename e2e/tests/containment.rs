//! One subgraph down, or one read scope missing, costs only that subgraph's fields
//! (docs/schema-rules.md): over the real stack, a page that spans the four subgraphs is asked
//! with each subgraph stopped in turn, and with each read scope taken away in turn. The answer
//! must be the complete one with exactly that subgraph's fields null, and one error at each of
//! their paths; once the subgraph is back, the next answer is complete again.

use promptsales_e2e::{READ_SCOPES, SUBGRAPHS, TestStack};
use serde_json::{Value, json};

/// A campaign workspace of the portal: the campaign with what each subgraph adds to it, the
/// organization running it (sales), one of its customers (crm) and one of its content requests
/// with the campaign it is for (content, then ads).
const PAGE: &str = r#"
query CampaignWorkspace($campaign: ID!, $organization: ID!, $customer: ID!, $request: ID!) {
  campaign(id: $campaign) {
    id
    name
    status
    budget
    currency
    brand { id name }
    channels { budgetShare channel { code name } }
    contentRequests { id status }
    logs { id channelCode }
    salesTotal
    salesCount
    customersReached
    salesByChannel { channel { id code } amountUsd }
    approvals { id }
    schedule { id }
  }
  organization(id: $organization) { id name }
  customer(id: $customer) { id firstName }
  contentRequest(id: $request) { id status campaign { id name } }
}"#;

/// What a subgraph's absence must cost: the positions that come back null, and the paths of
/// the errors that explain them (a reference is null because its owner's non-null field under
/// it failed, so its error is one level down).
struct Loss {
    nulls: &'static [&'static [&'static str]],
    errors: &'static [&'static [&'static str]],
}

fn loss(subgraph: &str) -> Loss {
    match subgraph {
        "content" => Loss {
            nulls: &[
                &["campaign", "contentRequests"],
                &["campaign", "logs"],
                &["contentRequest"],
            ],
            errors: &[
                &["campaign", "contentRequests"],
                &["campaign", "logs"],
                &["contentRequest"],
            ],
        },
        "ads" => Loss {
            nulls: &[&["campaign"], &["contentRequest", "campaign"]],
            errors: &[&["campaign"], &["contentRequest", "campaign", "name"]],
        },
        "crm" => Loss {
            nulls: &[
                &["campaign", "salesTotal"],
                &["campaign", "salesCount"],
                &["campaign", "customersReached"],
                &["campaign", "salesByChannel"],
                &["customer"],
            ],
            errors: &[
                &["campaign", "salesTotal"],
                &["campaign", "salesCount"],
                &["campaign", "customersReached"],
                &["campaign", "salesByChannel"],
                &["customer"],
            ],
        },
        "sales" => Loss {
            nulls: &[
                &["campaign", "brand"],
                &["campaign", "approvals"],
                &["campaign", "schedule"],
                &["organization"],
            ],
            errors: &[
                &["campaign", "brand", "name"],
                &["campaign", "approvals"],
                &["campaign", "schedule"],
                &["organization"],
            ],
        },
        other => panic!("no subgraph {other}"),
    }
}

/// The same loss when the caller lacks the subgraph's read scope: the gateway refuses the
/// reference itself when its type needs the scope (`Brand` needs `sales:read`), and a field of
/// the type under it otherwise (`Campaign.name` needs `ads:read`, `Campaign.id` nothing).
fn forbidden(subgraph: &str) -> Loss {
    match subgraph {
        "sales" => Loss {
            nulls: loss("sales").nulls,
            errors: &[
                &["campaign", "brand"],
                &["campaign", "approvals"],
                &["campaign", "schedule"],
                &["organization"],
            ],
        },
        other => loss(other),
    }
}

fn paths(list: &[&[&str]]) -> Vec<Value> {
    let mut out: Vec<Value> = list.iter().map(|p| json!(p)).collect();
    out.sort_by_key(Value::to_string);
    out
}

/// The complete answer with the lost positions null.
fn without(complete: &Value, nulls: &[&[&str]]) -> Value {
    let mut expected = complete.clone();
    for path in nulls {
        let (last, parents) = path.split_last().expect("a path");
        let mut slot = &mut expected;
        for key in parents {
            slot = &mut slot[*key];
        }
        slot[*last] = Value::Null;
    }
    expected
}

/// Checks a partial answer: everything but the lost positions as in the complete one, and one
/// error with `code` at each lost path, none elsewhere.
fn assert_lost(body: &Value, complete: &Value, lost: &Loss, code: &str, subgraph: &str) {
    assert_eq!(body["data"], without(complete, lost.nulls), "{subgraph}: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{subgraph}: errors: {body}"));
    let mut seen: Vec<Value> = errors.iter().map(|e| e["path"].clone()).collect();
    seen.sort_by_key(Value::to_string);
    assert_eq!(seen, paths(lost.errors), "{subgraph}: one error per lost field: {body}");
    for error in errors {
        assert_eq!(error["extensions"]["code"], code, "{subgraph}: {body}");
        if code == "SUBGRAPH_REQUEST_FAILED" {
            assert_eq!(error["extensions"]["subgraph"], subgraph, "{subgraph}: {body}");
        }
    }
}

/// A campaign whose workspace has something from every subgraph, and the page's variables.
async fn workspace(stack: &TestStack) -> Value {
    let body = stack
        .query(
            "{ campaigns(first: 20) { edges { node { id organization { id } contentRequests { id } \
             customers(first: 1) { edges { node { id } } } approvals { id } schedule { id } salesCount } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let campaigns = body["data"]["campaigns"]["edges"].as_array().expect("edges");
    let node = campaigns
        .iter()
        .map(|e| &e["node"])
        .find(|c| {
            [
                &c["contentRequests"],
                &c["approvals"],
                &c["schedule"],
                &c["customers"]["edges"],
            ]
            .iter()
            .all(|list| list.as_array().is_some_and(|l| !l.is_empty()))
                && c["salesCount"].as_i64().is_some_and(|n| n > 0)
        })
        .unwrap_or_else(|| panic!("the small seed has a campaign with content, customers, sales and a plan: {body}"));
    json!({
        "campaign": node["id"],
        "organization": node["organization"]["id"],
        "customer": node["customers"]["edges"][0]["node"]["id"],
        "request": node["contentRequests"][0]["id"],
    })
}

/// The complete answer, checked to hold a value at every position some subgraph can lose.
async fn complete_page(stack: &TestStack, variables: &Value) -> Value {
    let body = stack.query(PAGE, variables.clone()).await;
    assert!(body.get("errors").is_none(), "{body}");
    for subgraph in SUBGRAPHS {
        for path in loss(subgraph).nulls {
            let value = path.iter().fold(&body["data"], |v, k| &v[*k]);
            assert!(!value.is_null(), "{path:?} has a value when all is well: {body}");
        }
    }
    body
}

#[tokio::test]
async fn should_lose_only_the_fields_of_a_subgraph_that_is_down_and_recover_when_it_is_back() {
    let mut stack = TestStack::builder().start().await;
    let variables = workspace(&stack).await;
    let complete = complete_page(&stack, &variables).await;

    for subgraph in SUBGRAPHS {
        stack.stop(subgraph).await;
        let body = stack.query(PAGE, variables.clone()).await;
        assert_lost(
            &body,
            &complete["data"],
            &loss(subgraph),
            "SUBGRAPH_REQUEST_FAILED",
            subgraph,
        );

        stack.restart(subgraph).await;
        let body = stack.query(PAGE, variables.clone()).await;
        assert_eq!(body, complete, "{subgraph} is back: the next answer is complete");
    }
}

#[tokio::test]
async fn should_refuse_only_the_fields_of_the_subgraph_whose_scope_the_caller_lacks() {
    let complete = {
        let stack = TestStack::builder().start().await;
        let variables = workspace(&stack).await;
        (variables.clone(), complete_page(&stack, &variables).await)
    };
    let (variables, complete) = complete;

    for (subgraph, scope) in SUBGRAPHS
        .into_iter()
        .zip(["content:read", "ads:read", "crm:read", "sales:read"])
    {
        let scopes: Vec<&str> = READ_SCOPES.iter().copied().filter(|s| *s != scope).collect();
        // Every stack clones the same seeded template: the same ids, the same answer.
        let stack = TestStack::builder().scopes(&scopes).start().await;
        let body = stack.query(PAGE, variables.clone()).await;
        assert_lost(&body, &complete["data"], &forbidden(subgraph), "FORBIDDEN", subgraph);
    }
}
