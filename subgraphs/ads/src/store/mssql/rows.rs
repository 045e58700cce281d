//! Decoding SQL Server rows into the store's types, by column name, without panics: a column of
//! an unexpected type is a [`StoreError::Decode`], never a crash.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tiberius::{FromSql, Row};
use uuid::Uuid;

use crate::store::{
    Ad, AdResult, Campaign, CampaignChannel, CampaignMarket, Channel, ChannelTotals, DayTotals, Influencer, Market,
    MarketTotals, NegativeAd, NegativeSentimentRow, Placement, Result, SentimentSample, StoreError, Totals,
};

/// Reads columns of one row by name.
pub(super) struct Cols<'a>(pub &'a Row);

impl<'a> Cols<'a> {
    fn opt<T: FromSql<'a>>(&self, name: &str) -> Result<Option<T>> {
        self.0
            .try_get::<T, _>(name)
            .map_err(|e| StoreError::Decode(format!("column {name}: {e}")))
    }

    fn req<T: FromSql<'a>>(&self, name: &str) -> Result<T> {
        self.opt(name)?
            .ok_or_else(|| StoreError::Decode(format!("column {name} is NULL")))
    }

    pub fn uuid(&self, name: &str) -> Result<Uuid> {
        self.req(name)
    }
    pub fn opt_uuid(&self, name: &str) -> Result<Option<Uuid>> {
        self.opt(name)
    }
    pub fn string(&self, name: &str) -> Result<String> {
        self.req::<&str>(name).map(str::to_owned)
    }
    pub fn opt_string(&self, name: &str) -> Result<Option<String>> {
        Ok(self.opt::<&str>(name)?.map(str::to_owned))
    }
    pub fn i64(&self, name: &str) -> Result<i64> {
        self.req(name)
    }
    pub fn i32(&self, name: &str) -> Result<i32> {
        self.req(name)
    }
    pub fn bool(&self, name: &str) -> Result<bool> {
        self.req(name)
    }
    pub fn dec(&self, name: &str) -> Result<Decimal> {
        self.req(name)
    }
    pub fn opt_dec(&self, name: &str) -> Result<Option<Decimal>> {
        self.opt(name)
    }
    pub fn time(&self, name: &str) -> Result<DateTime<Utc>> {
        self.req(name)
    }
    pub fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        self.opt(name)
    }
    pub fn date(&self, name: &str) -> Result<NaiveDate> {
        self.req(name)
    }
}

pub(super) fn campaign(r: &Row) -> Result<Campaign> {
    let c = Cols(r);
    Ok(Campaign {
        id: c.uuid("id")?,
        organization_id: c.uuid("organization_id")?,
        brand_id: c.uuid("brand_id")?,
        product_id: c.opt_uuid("product_id")?,
        name: c.string("name")?,
        description: c.opt_string("description")?,
        objective: c.string("objective")?,
        status: c.string("status")?,
        budget: c.dec("budget")?,
        currency: c.string("currency")?,
        starts_at: c.time("starts_at")?,
        ends_at: c.time("ends_at")?,
        version: c.i32("version")?,
        created_by: c.opt_uuid("created_by")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
        deleted_at: c.opt_time("deleted_at")?,
    })
}

pub(super) fn channel(r: &Row) -> Result<Channel> {
    let c = Cols(r);
    Ok(Channel {
        id: c.uuid("id")?,
        code: c.string("code")?,
        name: c.string("name")?,
        kind: c.string("kind")?,
        default_cost_model: c.string("default_cost_model")?,
    })
}

pub(super) fn market(r: &Row) -> Result<Market> {
    let c = Cols(r);
    Ok(Market {
        id: c.uuid("id")?,
        code: c.string("code")?,
        country_code: c.string("country_code")?,
        region: c.string("region")?,
        name: c.string("name")?,
        currency: c.string("currency")?,
        timezone: c.string("timezone")?,
    })
}

pub(super) fn campaign_channel(r: &Row) -> Result<CampaignChannel> {
    let c = Cols(r);
    Ok(CampaignChannel {
        campaign_id: c.uuid("campaign_id")?,
        budget_share: c.dec("budget_share")?,
        link_updated_at: c.time("link_updated_at")?,
        link_deleted_at: c.opt_time("link_deleted_at")?,
        channel: channel(r)?,
    })
}

pub(super) fn campaign_market(r: &Row) -> Result<CampaignMarket> {
    let c = Cols(r);
    Ok(CampaignMarket {
        campaign_id: c.uuid("campaign_id")?,
        link_updated_at: c.time("link_updated_at")?,
        link_deleted_at: c.opt_time("link_deleted_at")?,
        market: market(r)?,
    })
}

pub(super) fn ad(r: &Row) -> Result<Ad> {
    let c = Cols(r);
    Ok(Ad {
        id: c.uuid("id")?,
        campaign_id: c.uuid("campaign_id")?,
        name: c.string("name")?,
        format: c.string("format")?,
        headline: c.opt_string("headline")?,
        body: c.opt_string("body")?,
        call_to_action: c.opt_string("call_to_action")?,
        landing_url: c.opt_string("landing_url")?,
        content_image_id: c.opt_uuid("content_image_id")?,
        status: c.string("status")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
    })
}

pub(super) fn placement(r: &Row) -> Result<Placement> {
    let c = Cols(r);
    Ok(Placement {
        id: c.uuid("id")?,
        ad_id: c.uuid("ad_id")?,
        channel_id: c.uuid("channel_id")?,
        influencer_id: c.opt_uuid("influencer_id")?,
        cost_model: c.string("cost_model")?,
        unit_cost: c.dec("unit_cost")?,
        starts_at: c.opt_time("starts_at")?,
        ends_at: c.opt_time("ends_at")?,
    })
}

pub(super) fn influencer(r: &Row) -> Result<Influencer> {
    let c = Cols(r);
    Ok(Influencer {
        id: c.uuid("id")?,
        channel_id: c.uuid("channel_id")?,
        handle: c.string("handle")?,
        display_name: c.string("display_name")?,
        followers: c.i64("followers")?,
        niche: c.opt_string("niche")?,
        country_code: c.opt_string("country_code")?,
    })
}

pub(super) fn ad_result(r: &Row) -> Result<AdResult> {
    let c = Cols(r);
    Ok(AdResult {
        campaign_id: c.uuid("campaign_id")?,
        ad_id: c.uuid("ad_id")?,
        channel_id: c.uuid("channel_id")?,
        market_id: c.uuid("market_id")?,
        day: c.date("day")?,
        likes: c.i64("likes")?,
        views: c.i64("views")?,
        interactions: c.i64("interactions")?,
        sales: c.i64("sales")?,
        exposure_hours: c.dec("exposure_hours")?,
        reach: c.i64("reach")?,
        cost: c.dec("cost")?,
        revenue: c.dec("revenue")?,
        updated_at: c.time("updated_at")?,
        deleted_at: c.opt_time("deleted_at")?,
    })
}

pub(super) fn sentiment(r: &Row) -> Result<SentimentSample> {
    let c = Cols(r);
    Ok(SentimentSample {
        campaign_id: c.uuid("campaign_id")?,
        ad_id: c.uuid("ad_id")?,
        channel_id: c.uuid("channel_id")?,
        day: c.date("day")?,
        polarity: c.dec("polarity")?,
        positive_count: c.i32("positive_count")?,
        neutral_count: c.i32("neutral_count")?,
        negative_count: c.i32("negative_count")?,
        negative_type: c.opt_string("negative_type")?,
        influencer_reactions: c.i32("influencer_reactions")?,
        updated_at: c.time("updated_at")?,
        deleted_at: c.opt_time("deleted_at")?,
    })
}

pub(super) fn totals(r: &Row) -> Result<Totals> {
    let c = Cols(r);
    Ok(Totals {
        views: c.i64("views")?,
        interactions: c.i64("interactions")?,
        likes: c.i64("likes")?,
        sales: c.i64("sales")?,
        reach: c.i64("reach")?,
        exposure_hours: c.dec("exposure_hours")?,
        cost: c.dec("cost")?,
        revenue: c.dec("revenue")?,
    })
}

pub(super) fn day_totals(r: &Row) -> Result<DayTotals> {
    let c = Cols(r);
    Ok(DayTotals {
        campaign_id: c.uuid("campaign_id")?,
        day: c.date("day")?,
        totals: totals(r)?,
    })
}

pub(super) fn channel_totals(r: &Row) -> Result<ChannelTotals> {
    let c = Cols(r);
    Ok(ChannelTotals {
        campaign_id: c.uuid("campaign_id")?,
        channel_id: c.uuid("channel_id")?,
        totals: totals(r)?,
    })
}

pub(super) fn market_totals(r: &Row) -> Result<MarketTotals> {
    let c = Cols(r);
    Ok(MarketTotals {
        campaign_id: c.uuid("campaign_id")?,
        market_id: c.uuid("market_id")?,
        totals: totals(r)?,
    })
}

pub(super) fn negative_ad(r: &Row) -> Result<NegativeAd> {
    let c = Cols(r);
    Ok(NegativeAd {
        ad_id: c.uuid("ad_id")?,
        campaign_id: c.uuid("campaign_id")?,
        polarity_since: c.dec("polarity_since")?,
        polarity_before: c.opt_dec("polarity_before")?,
        positive_since: c.i64("positive_since")?,
        neutral_since: c.i64("neutral_since")?,
        negative_since: c.i64("negative_since")?,
        dominant_negative_type: c.opt_string("dominant_negative_type")?,
        reactions_before: c.opt_dec("reactions_before")?,
        reactions_since: c.dec("reactions_since")?,
        reaction_drop: c.opt_dec("reaction_drop")?,
    })
}

pub(super) fn negative_sentiment_row(r: &Row) -> Result<NegativeSentimentRow> {
    let c = Cols(r);
    // The function lists a row's influencers as comma-separated ids (STRING_AGG).
    let mut influencer_ids = c
        .opt_string("influencer_ids")?
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Uuid>()
                .map_err(|e| StoreError::Decode(format!("influencer_ids: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    influencer_ids.sort();
    Ok(NegativeSentimentRow {
        ad_id: c.uuid("ad_id")?,
        campaign_id: c.uuid("campaign_id")?,
        channel_id: c.uuid("channel_id")?,
        influencer_ids,
        negative_type: c.opt_string("negative_type")?,
        positive_mentions: c.i64("positive_mentions")?,
        neutral_mentions: c.i64("neutral_mentions")?,
        negative_mentions: c.i64("negative_mentions")?,
        polarity: c.dec("polarity")?,
        reactions_previous: c.dec("reactions_previous")?,
        reactions_current: c.dec("reactions_current")?,
        reaction_drop_pct: c.dec("reaction_drop_pct")?,
    })
}
