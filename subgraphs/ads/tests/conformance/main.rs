//! The ads store's conformance suite: one set of checks, written once over `Arc<dyn AdsStore>`,
//! run against PostgreSQL always and against SQL Server when `PROMPTSALES_MSSQL_URL` names one
//! (those tests are ignored otherwise, so a run without the server reports them as skipped).

#[path = "../common/mod.rs"]
mod common;
mod suite;

use common::Env;

macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let env = Env::postgres().await;
                    suite::$name(&env.store, &env.fixture).await;
                }
            )+
        }

        mod sql_server {
            use super::*;
            $(
                #[tokio::test]
                #[ignore = "needs a SQL Server: set PROMPTSALES_MSSQL_URL"]
                async fn $name() {
                    let env = Env::sql_server().await;
                    suite::$name(&env.store, &env.fixture).await;
                }
            )+
        }
    };
}

conformance!(
    should_list_campaigns_newest_first_in_keyset_pages,
    should_filter_campaigns_by_each_criterion,
    should_show_each_tenant_only_its_own_rows,
    should_load_relations_of_many_campaigns_at_once,
    should_serve_the_reference_data,
    should_report_results_aggregated_by_the_store,
    should_find_ads_whose_sentiment_turned_negative,
    should_report_negative_sentiment_per_brand_against_the_previous_period,
    should_create_a_campaign_with_its_channels_markets_and_ads_in_one_call,
    should_return_the_same_campaign_when_a_create_is_retried_with_its_key,
    should_refuse_invalid_campaigns_naming_field_and_rule_and_write_nothing,
    should_change_status_only_along_allowed_transitions,
    should_refuse_a_status_change_at_a_stale_version,
    should_feed_every_change_to_the_etl_with_tombstones,
    should_resolve_facts_by_their_natural_keys,
);
