//! Reading tiberius rows into the store's models, by column name. A NOT NULL column that comes back
//! NULL (or as another type) is a decode error naming the column, never a panic.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tiberius::{FromSql, Row};
use uuid::Uuid;

use crate::store::{CampaignCustomer, Customer, Interaction, Lead, Result, Sale, SalesCell, StoreError};

/// A model that can be read from a row of its table's column list.
pub trait FromTds: Sized {
    fn from_tds(row: &Row) -> Result<Self>;
}

/// A nullable column.
pub fn opt<'a, T: FromSql<'a>>(row: &'a Row, col: &'static str) -> Result<Option<T>> {
    row.try_get::<T, _>(col).map_err(|_| StoreError::Decode(col))
}

/// A NOT NULL column.
pub fn req<'a, T: FromSql<'a>>(row: &'a Row, col: &'static str) -> Result<T> {
    opt(row, col)?.ok_or(StoreError::Decode(col))
}

fn text(row: &Row, col: &'static str) -> Result<String> {
    req::<&str>(row, col).map(str::to_owned)
}

fn opt_text(row: &Row, col: &'static str) -> Result<Option<String>> {
    Ok(opt::<&str>(row, col)?.map(str::to_owned))
}

fn opt_bytes(row: &Row, col: &'static str) -> Result<Option<Vec<u8>>> {
    Ok(opt::<&[u8]>(row, col)?.map(<[u8]>::to_vec))
}

fn time(row: &Row, col: &'static str) -> Result<DateTime<Utc>> {
    req::<DateTime<Utc>>(row, col)
}

fn opt_time(row: &Row, col: &'static str) -> Result<Option<DateTime<Utc>>> {
    opt::<DateTime<Utc>>(row, col)
}

impl FromTds for Customer {
    fn from_tds(row: &Row) -> Result<Self> {
        Ok(Customer {
            id: req::<Uuid>(row, "id")?,
            organization_id: req::<Uuid>(row, "organization_id")?,
            first_name: text(row, "first_name")?,
            last_name: text(row, "last_name")?,
            birth_date: opt::<NaiveDate>(row, "birth_date")?,
            segment: text(row, "segment")?,
            country_code: text(row, "country_code")?,
            region: opt_text(row, "region")?,
            city: opt_text(row, "city")?,
            latitude: opt::<Decimal>(row, "latitude")?,
            longitude: opt::<Decimal>(row, "longitude")?,
            preferred_language: text(row, "preferred_language")?,
            national_id_enc: opt_bytes(row, "national_id_enc")?,
            email_enc: opt_bytes(row, "email_enc")?,
            phone_enc: opt_bytes(row, "phone_enc")?,
            marketing_consent: req::<bool>(row, "marketing_consent")?,
            consent_updated_at: opt_time(row, "consent_updated_at")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
            deleted_at: opt_time(row, "deleted_at")?,
            erased_at: opt_time(row, "erased_at")?,
        })
    }
}

impl FromTds for CampaignCustomer {
    fn from_tds(row: &Row) -> Result<Self> {
        Ok(CampaignCustomer {
            campaign_id: req::<Uuid>(row, "campaign_id")?,
            customer_id: req::<Uuid>(row, "customer_id")?,
            organization_id: req::<Uuid>(row, "organization_id")?,
            channel_id: req::<Uuid>(row, "channel_id")?,
            linked_at: time(row, "linked_at")?,
            reached: req::<bool>(row, "reached")?,
            updated_at: time(row, "updated_at")?,
            deleted_at: opt_time(row, "deleted_at")?,
        })
    }
}

impl FromTds for Lead {
    fn from_tds(row: &Row) -> Result<Self> {
        Ok(Lead {
            id: req::<Uuid>(row, "id")?,
            organization_id: req::<Uuid>(row, "organization_id")?,
            campaign_id: req::<Uuid>(row, "campaign_id")?,
            customer_id: req::<Uuid>(row, "customer_id")?,
            source_channel_id: req::<Uuid>(row, "source_channel_id")?,
            score: req::<i16>(row, "score")?,
            status: text(row, "status")?,
            purchase_intent: opt::<Decimal>(row, "purchase_intent")?,
            created_at: time(row, "created_at")?,
            converted_at: opt_time(row, "converted_at")?,
            updated_at: time(row, "updated_at")?,
            deleted_at: opt_time(row, "deleted_at")?,
        })
    }
}

impl FromTds for Interaction {
    fn from_tds(row: &Row) -> Result<Self> {
        Ok(Interaction {
            id: req::<Uuid>(row, "id")?,
            organization_id: req::<Uuid>(row, "organization_id")?,
            customer_id: req::<Uuid>(row, "customer_id")?,
            campaign_id: opt::<Uuid>(row, "campaign_id")?,
            channel_id: req::<Uuid>(row, "channel_id")?,
            kind: text(row, "kind")?,
            actor: text(row, "actor")?,
            sentiment: opt::<Decimal>(row, "sentiment")?,
            occurred_at: time(row, "occurred_at")?,
            note: opt_text(row, "note")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
            deleted_at: opt_time(row, "deleted_at")?,
        })
    }
}

impl FromTds for Sale {
    fn from_tds(row: &Row) -> Result<Self> {
        Ok(Sale {
            id: req::<Uuid>(row, "id")?,
            organization_id: req::<Uuid>(row, "organization_id")?,
            customer_id: req::<Uuid>(row, "customer_id")?,
            campaign_id: opt::<Uuid>(row, "campaign_id")?,
            channel_id: req::<Uuid>(row, "channel_id")?,
            market_id: req::<Uuid>(row, "market_id")?,
            product_id: req::<Uuid>(row, "product_id")?,
            ad_id: opt::<Uuid>(row, "ad_id")?,
            quantity: req::<i32>(row, "quantity")?,
            amount_usd: req::<Decimal>(row, "amount_usd")?,
            original_amount: req::<Decimal>(row, "original_amount")?,
            original_currency: text(row, "original_currency")?,
            fx_rate_to_usd: req::<Decimal>(row, "fx_rate_to_usd")?,
            sold_at: time(row, "sold_at")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
            deleted_at: opt_time(row, "deleted_at")?,
        })
    }
}

impl FromTds for SalesCell {
    fn from_tds(row: &Row) -> Result<Self> {
        Ok(SalesCell {
            campaign_id: req::<Uuid>(row, "campaign_id")?,
            channel_id: req::<Uuid>(row, "channel_id")?,
            market_id: req::<Uuid>(row, "market_id")?,
            sales_count: req::<i64>(row, "sales_count")?,
            quantity: req::<i64>(row, "quantity")?,
            amount_usd: req::<Decimal>(row, "amount_usd")?,
        })
    }
}

/// Every row of a result set as `T`.
pub fn all<T: FromTds>(rows: &[Row]) -> Result<Vec<T>> {
    rows.iter().map(T::from_tds).collect()
}
