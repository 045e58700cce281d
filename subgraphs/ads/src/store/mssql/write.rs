//! Writes on SQL Server: the stored procedures of migration 0002. tiberius cannot bind
//! table-valued parameters, so `createCampaign` sends one parameterized batch that declares
//! table variables of the procedure's table types, inserts the bound rows into them and EXECs the
//! procedure with them. Errors THROWn by the procedures are mapped: 51000–51099 invalid input
//! (`field|rule|text`), 51100 conflict, 51104 not found; any other error stays a store error.

use std::fmt::Write as _;

use tiberius::Query;
use uuid::Uuid;

use super::{MssqlStore, P, rows};
use crate::store::{AdsStore, Campaign, Created, NewCampaign, StoreError, WriteError, parse_invalid, precheck};

/// Maps what a procedure threw to a [`WriteError`].
fn map_error(e: tiberius::error::Error) -> WriteError {
    if let tiberius::error::Error::Server(token) = &e {
        match token.code() {
            51000..=51099 => return WriteError::Invalid(parse_invalid(token.message())),
            51100 => return WriteError::Conflict(token.message().to_owned()),
            51104 => return WriteError::NotFound,
            _ => {}
        }
    }
    WriteError::Store(StoreError::Mssql(e))
}

/// The batch that fills the table variables and calls the procedure, for `channels`, `markets`
/// and `ads` rows. Only placeholder names are formatted into it; every value is bound.
fn create_batch(channels: usize, markets: usize, ads: usize) -> String {
    let mut sql = String::from(
        "SET NOCOUNT ON;
DECLARE @channels ads.CampaignChannelList;
DECLARE @markets ads.CampaignMarketList;
DECLARE @ads ads.CampaignAdList;
",
    );
    // @P1…@P13 are the campaign's own fields; the rows follow.
    let mut next = 14;
    let mut values = |count: usize, width: usize| -> String {
        (0..count)
            .map(|_| {
                let row: Vec<String> = (0..width)
                    .map(|_| {
                        let p = format!("@P{next}");
                        next += 1;
                        p
                    })
                    .collect();
                format!("({})", row.join(", "))
            })
            .collect::<Vec<_>>()
            .join(",\n    ")
    };
    let channel_rows = values(channels, 2);
    let market_rows = values(markets, 1);
    let ad_rows = values(ads, 8);
    if channels > 0 {
        let _ = writeln!(
            sql,
            "INSERT INTO @channels (channel_code, budget_share) VALUES\n    {channel_rows};"
        );
    }
    if markets > 0 {
        let _ = writeln!(sql, "INSERT INTO @markets (market_code) VALUES\n    {market_rows};");
    }
    if ads > 0 {
        let _ = writeln!(
            sql,
            "INSERT INTO @ads (ad_id, name, format, headline, body, call_to_action, landing_url, content_image_id) \
             VALUES\n    {ad_rows};"
        );
    }
    sql.push_str(
        "EXEC ads.PRADSSP_CreateCampaign
    @CampaignId = @P1, @OrganizationId = @P2, @BrandId = @P3, @ProductId = @P4, @Name = @P5,
    @Description = @P6, @Objective = @P7, @Budget = @P8, @Currency = @P9, @StartsAt = @P10,
    @EndsAt = @P11, @IdempotencyKey = @P12, @CreatedBy = @P13,
    @Channels = @channels, @Markets = @markets, @Ads = @ads;",
    );
    sql
}

impl MssqlStore {
    pub(super) async fn create_campaign_impl(
        &self,
        tenant: Option<Uuid>,
        input: &NewCampaign,
    ) -> Result<Created, WriteError> {
        precheck(input).map_err(WriteError::Invalid)?;
        let sql = create_batch(input.channels.len(), input.markets.len(), input.ads.len());
        let mut params = vec![
            P::Uuid(Some(input.id)),
            P::Uuid(tenant),
            P::Uuid(Some(input.brand_id)),
            P::Uuid(input.product_id),
            P::Str(Some(input.name.clone())),
            P::Str(input.description.clone()),
            P::Str(Some(input.objective.clone())),
            P::Dec(Some(input.budget)),
            P::Str(Some(input.currency.clone())),
            P::time(Some(input.starts_at)),
            P::time(Some(input.ends_at)),
            P::Str(input.idempotency_key.clone()),
            P::Uuid(input.created_by),
        ];
        for c in &input.channels {
            params.push(P::Str(Some(c.code.clone())));
            params.push(P::Dec(Some(c.budget_share)));
        }
        for m in &input.markets {
            params.push(P::Str(Some(m.clone())));
        }
        for a in &input.ads {
            params.extend([
                P::Uuid(Some(a.id)),
                P::Str(Some(a.name.clone())),
                P::Str(Some(a.format.clone())),
                P::Str(a.headline.clone()),
                P::Str(a.body.clone()),
                P::Str(a.call_to_action.clone()),
                P::Str(a.landing_url.clone()),
                P::Uuid(a.content_image_id),
            ]);
        }
        let row = self.call(&sql, params).await?;
        let cols = rows::Cols(&row);
        let id = cols.uuid("campaign_id")?;
        let replayed = cols.bool("replayed")?;
        let campaign = self.campaign_after_write(tenant, id).await?;
        Ok(Created { campaign, replayed })
    }

    pub(super) async fn update_campaign_status_impl(
        &self,
        tenant: Option<Uuid>,
        id: Uuid,
        status: &str,
        expected_version: i32,
    ) -> Result<Campaign, WriteError> {
        self.call(
            "EXEC ads.PRADSSP_UpdateCampaignStatus @CampaignId = @P1, @OrganizationId = @P2, @Status = @P3,
                 @ExpectedVersion = @P4;",
            vec![
                P::Uuid(Some(id)),
                P::Uuid(tenant),
                P::str(Some(status)),
                P::I32(Some(expected_version)),
            ],
        )
        .await?;
        self.campaign_after_write(tenant, id).await
    }

    /// Runs a procedure call and returns the first row of its result.
    async fn call(&self, sql: &str, params: Vec<P>) -> Result<tiberius::Row, WriteError> {
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| WriteError::Store(StoreError::Pool(e.to_string())))?;
        let mut query = Query::new(sql);
        for p in params {
            p.bind(&mut query);
        }
        let stream = query.query(&mut conn).await.map_err(map_error)?;
        stream
            .into_row()
            .await
            .map_err(map_error)?
            .ok_or_else(|| WriteError::Store(StoreError::Decode("the procedure returned no row".into())))
    }

    /// The campaign a write just made or changed, as the caller may see it.
    async fn campaign_after_write(&self, tenant: Option<Uuid>, id: Uuid) -> Result<Campaign, WriteError> {
        let found = AdsStore::campaigns_by_id(self, tenant, &[id]).await?;
        found
            .into_values()
            .next()
            .ok_or_else(|| WriteError::Store(StoreError::Decode(format!("campaign {id} vanished after its write"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_bind_every_value_of_the_create_batch() {
        let sql = create_batch(2, 1, 1);
        assert!(sql.contains(
            "INSERT INTO @channels (channel_code, budget_share) VALUES\n    (@P14, @P15),\n    (@P16, @P17);"
        ));
        assert!(sql.contains("INSERT INTO @markets (market_code) VALUES\n    (@P18);"));
        assert!(sql.contains("(@P19, @P20, @P21, @P22, @P23, @P24, @P25, @P26);"));
        assert!(!sql.contains("@P27"));
        // No rows, no INSERT: the procedure sees an empty table.
        assert!(!create_batch(1, 0, 0).contains("INSERT INTO @markets"));
    }
}
