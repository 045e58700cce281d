//! Query plans of the portal's main operations over the checked-in supergraph: a change to a
//! subgraph schema, the composer or the planner that changes how they are fetched shows here.

use promptsales_e2e::SUPERGRAPH;
use promptsales_gateway::{Gateway, Options};

fn plan(query: &str) -> String {
    let gateway = Gateway::new(SUPERGRAPH, Options::default()).expect("the supergraph loads");
    gateway.plan(query, None).expect("plans").to_string()
}

#[test]
fn should_plan_the_campaign_page_as_one_ads_fetch_then_three_parallel_entity_fetches() {
    insta::assert_snapshot!(plan(
        r#"query($id: ID!) { campaign(id: $id) { name status results { totals { sales revenue } }
            salesCount salesTotal logs { channelCode } summary { revenue } } }"#
    ));
}

#[test]
fn should_plan_channel_names_of_crm_sales_through_ads() {
    insta::assert_snapshot!(plan(
        r#"query($id: ID!) { campaign(id: $id) { salesByChannel { salesCount channel { code name } } } }"#
    ));
}

#[test]
fn should_plan_negative_sentiment_ads_with_their_campaign_summary() {
    insta::assert_snapshot!(plan(
        r#"{ negativeSentimentAds(first: 5) { edges { node { polaritySince ad { name } campaign { name summary { revenue } } } } } }"#
    ));
}

#[test]
fn should_plan_brands_with_their_campaigns_and_crm_sales_across_three_subgraphs() {
    insta::assert_snapshot!(plan(
        r#"{ brands(first: 3) { edges { node { name campaigns { name salesCount } } } } }"#
    ));
}
