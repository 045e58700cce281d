//! The ETL's feeds: everything the central summaries depend on that changed after a time, oldest
//! change first, tombstones included, on a keyset of `(updatedAt, key)` that stays stable while
//! rows keep changing. The ETL should re-read a small overlap behind its watermark: `updatedAt`
//! is the time of the write, and a long transaction may commit after later ones.

use async_graphql::{Context, Object, Result, connection::Connection};
use chrono::{DateTime, NaiveDate, Utc};
use promptsales_platform::gql::{encode_cursor, internal};

use super::{
    ConnectionFields, cursor, etl_page_size, part, part_time,
    reports::{AdResult, SentimentSample},
    store, tenant,
    types::{Campaign, CampaignChannel, CampaignMarket},
};
use crate::store::{AdResultKey, ByUpdate, SentimentKey};

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn day(d: &NaiveDate) -> String {
    d.to_string()
}

#[derive(Default)]
pub struct EtlQuery;

/// Change feeds for the ETL (scope `etl:run`).
#[Object]
impl EtlQuery {
    /// Campaigns created, changed or deleted after `since`, oldest change first.
    #[graphql(requires_scopes = "etl:run")]
    async fn campaigns_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time (the ETL's watermark).")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000; default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, Campaign, ConnectionFields>> {
        let first = etl_page_size(first)?;
        let after = cursor(after, 2)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByUpdate {
                    updated_at: part_time(&p, 0)?,
                    key: part(&p, 1)?,
                })
            })
            .transpose()?;
        let page = store(ctx)
            .campaigns_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |c| encode_cursor(&[&time(&c.updated_at), &c.id.to_string()]),
            Campaign,
        ))
    }

    /// Links of campaigns to channels added, changed or removed after `since`.
    #[graphql(requires_scopes = "etl:run")]
    async fn campaign_channels_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time (the ETL's watermark).")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000; default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, CampaignChannel, ConnectionFields>> {
        let first = etl_page_size(first)?;
        let after = cursor(after, 3)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByUpdate {
                    updated_at: part_time(&p, 0)?,
                    key: (part(&p, 1)?, part(&p, 2)?),
                })
            })
            .transpose()?;
        let page = store(ctx)
            .campaign_channels_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |l| {
                encode_cursor(&[
                    &time(&l.link_updated_at),
                    &l.campaign_id.to_string(),
                    &l.channel.id.to_string(),
                ])
            },
            CampaignChannel,
        ))
    }

    /// Links of campaigns to markets added or removed after `since`.
    #[graphql(requires_scopes = "etl:run")]
    async fn campaign_markets_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time (the ETL's watermark).")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000; default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, CampaignMarket, ConnectionFields>> {
        let first = etl_page_size(first)?;
        let after = cursor(after, 3)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByUpdate {
                    updated_at: part_time(&p, 0)?,
                    key: (part(&p, 1)?, part(&p, 2)?),
                })
            })
            .transpose()?;
        let page = store(ctx)
            .campaign_markets_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |l| {
                encode_cursor(&[
                    &time(&l.link_updated_at),
                    &l.campaign_id.to_string(),
                    &l.market.id.to_string(),
                ])
            },
            CampaignMarket,
        ))
    }

    /// Daily results loaded, corrected or retracted after `since`.
    #[graphql(requires_scopes = "etl:run")]
    async fn ad_results_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time (the ETL's watermark).")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000; default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, AdResult, ConnectionFields>> {
        let first = etl_page_size(first)?;
        let after = cursor(after, 5)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByUpdate {
                    updated_at: part_time(&p, 0)?,
                    key: AdResultKey {
                        ad_id: part(&p, 1)?,
                        channel_id: part(&p, 2)?,
                        market_id: part(&p, 3)?,
                        day: part(&p, 4)?,
                    },
                })
            })
            .transpose()?;
        let page = store(ctx)
            .ad_results_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |r| {
                encode_cursor(&[
                    &time(&r.updated_at),
                    &r.ad_id.to_string(),
                    &r.channel_id.to_string(),
                    &r.market_id.to_string(),
                    &day(&r.day),
                ])
            },
            AdResult,
        ))
    }

    /// Sentiment samples loaded, corrected or retracted after `since`.
    #[graphql(requires_scopes = "etl:run")]
    async fn sentiment_samples_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time (the ETL's watermark).")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000; default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, SentimentSample, ConnectionFields>> {
        let first = etl_page_size(first)?;
        let after = cursor(after, 4)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByUpdate {
                    updated_at: part_time(&p, 0)?,
                    key: SentimentKey {
                        ad_id: part(&p, 1)?,
                        channel_id: part(&p, 2)?,
                        day: part(&p, 3)?,
                    },
                })
            })
            .transpose()?;
        let page = store(ctx)
            .sentiment_samples_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |s| {
                encode_cursor(&[
                    &time(&s.updated_at),
                    &s.ad_id.to_string(),
                    &s.channel_id.to_string(),
                    &day(&s.day),
                ])
            },
            SentimentSample,
        ))
    }
}
