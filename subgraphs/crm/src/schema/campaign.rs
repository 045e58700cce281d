//! The crm side of a Campaign (owned by the ads subgraph): its customers, leads and interactions,
//! and its sales totals per channel and market, which must agree with the ads figures.

use std::collections::BTreeMap;

use async_graphql::{
    Context, ID, Object, OutputType, Result, SimpleObject,
    connection::{Connection, ConnectionNameType, Edge, EdgeNameType},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    Conn, ConnectionFields, Customer, Interaction, Lead, LeadStatus, connection,
    cursor::time_cursor,
    loader,
    loaders::{self, CustomerId},
    types::{Channel, Market, channel, market, page_args},
};
use crate::store::{self, Funnel, SalesCell};

pub struct Campaign {
    pub id: Uuid,
}

/// Names the connection of a campaign's customers (its edges carry the link).
pub struct CampaignCustomerConnectionName;

impl ConnectionNameType for CampaignCustomerConnectionName {
    fn type_name<T: OutputType>() -> String {
        "CampaignCustomerConnection".into()
    }
}

/// Names the edges of a campaign's customers.
pub struct CampaignCustomerEdgeName;

impl EdgeNameType for CampaignCustomerEdgeName {
    fn type_name<T: OutputType>() -> String {
        "CampaignCustomerEdge".into()
    }
}

/// How a customer is linked to a campaign.
#[derive(SimpleObject)]
pub struct CampaignCustomerEdgeFields {
    /// When the customer was linked to the campaign.
    pub linked_at: DateTime<Utc>,
    /// The channel the customer was linked through (owned by ads: null when ads cannot complete
    /// it or the caller lacks `ads:read`).
    pub channel: Option<Channel>,
    /// Whether the campaign reached the customer.
    pub reached: bool,
}

pub type CampaignCustomerConnection = Connection<
    String,
    Customer,
    ConnectionFields,
    CampaignCustomerEdgeFields,
    CampaignCustomerConnectionName,
    CampaignCustomerEdgeName,
>;

/// Live sales of a campaign through one channel.
#[derive(SimpleObject)]
#[graphql(requires_scopes = "crm:read")]
pub struct ChannelSales {
    /// The channel (owned by ads: null when ads cannot complete it or the caller lacks `ads:read`).
    pub channel: Option<Channel>,
    /// Sale lines.
    pub sales_count: i64,
    /// Units sold.
    pub quantity: i64,
    /// Revenue in USD.
    pub amount_usd: Decimal,
}

/// Live sales of a campaign in one market.
#[derive(SimpleObject)]
#[graphql(requires_scopes = "crm:read")]
pub struct MarketSales {
    /// The market (owned by ads: null when ads cannot complete it or the caller lacks `ads:read`).
    pub market: Option<Market>,
    /// Sale lines.
    pub sales_count: i64,
    /// Units sold.
    pub quantity: i64,
    /// Revenue in USD.
    pub amount_usd: Decimal,
}

/// Live sales of a campaign through one channel in one market (the grain of the ads results).
#[derive(SimpleObject)]
#[graphql(requires_scopes = "crm:read")]
pub struct ChannelMarketSales {
    /// The channel (owned by ads: null when ads cannot complete it or the caller lacks `ads:read`).
    pub channel: Option<Channel>,
    /// The market (owned by ads: null when ads cannot complete it or the caller lacks `ads:read`).
    pub market: Option<Market>,
    /// Sale lines.
    pub sales_count: i64,
    /// Units sold.
    pub quantity: i64,
    /// Revenue in USD.
    pub amount_usd: Decimal,
}

#[derive(Default)]
struct Totals {
    sales_count: i64,
    quantity: i64,
    amount_usd: Decimal,
}

impl Totals {
    fn add(&mut self, c: &SalesCell) {
        self.sales_count += c.sales_count;
        self.quantity += c.quantity;
        self.amount_usd += c.amount_usd;
    }
}

/// Sums cells by a key, largest revenue first (ties by id, so the order is stable).
fn totals_by(cells: &[SalesCell], key: fn(&SalesCell) -> Uuid) -> Vec<(Uuid, Totals)> {
    let mut by: BTreeMap<Uuid, Totals> = BTreeMap::new();
    for c in cells {
        by.entry(key(c)).or_default().add(c);
    }
    let mut out: Vec<(Uuid, Totals)> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.amount_usd.cmp(&a.1.amount_usd).then(a.0.cmp(&b.0)));
    out
}

impl Campaign {
    async fn cells(&self, ctx: &Context<'_>) -> Result<Vec<SalesCell>> {
        Ok(loader(ctx)
            .load_one(loaders::SalesOf(self.id))
            .await?
            .unwrap_or_default())
    }

    async fn funnel(&self, ctx: &Context<'_>) -> Result<Funnel> {
        Ok(loader(ctx)
            .load_one(loaders::FunnelOf(self.id))
            .await?
            .unwrap_or_default())
    }
}

/// A marketing campaign (owned by the ads subgraph); this subgraph adds its customers, leads,
/// interactions and sales. Figures count live rows only (deleted links and leads, and refunded
/// sales, are left out) of the caller's organization. Every field but the key is nullable
/// (docs/schema-rules.md): when this subgraph fails, or the caller lacks `crm:read`, only these
/// fields are null, never the campaign.
#[Object]
impl Campaign {
    /// The campaign id, the same in every store.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Customers linked to the campaign, most recently linked first; each edge says when, through
    /// which channel, and whether the campaign reached them.
    #[graphql(requires_scopes = "crm:read")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Option<CampaignCustomerConnection>> {
        let args = page_args(first, after)?;
        let page = loader(ctx)
            .load_one(loaders::CampaignCustomersOf(self.id, args))
            .await?
            .unwrap_or_else(store::Page::empty);
        let customers = loader(ctx)
            .load_many(page.items.iter().map(|l| CustomerId(l.customer_id)))
            .await?;
        let mut conn = Connection::with_additional_fields(
            args.after.is_some(),
            page.has_more,
            ConnectionFields {
                total_count: page.total,
            },
        );
        for link in page.items {
            // A link whose customer is outside the caller's organization cannot exist (both rows
            // carry the customer's organization); skip rather than fail if it ever does.
            let Some(c) = customers.get(&CustomerId(link.customer_id)) else {
                continue;
            };
            conn.edges.push(Edge::with_additional_fields(
                time_cursor(link.linked_at, link.customer_id),
                Customer(c.clone()),
                CampaignCustomerEdgeFields {
                    linked_at: link.linked_at,
                    channel: Some(channel(link.channel_id)),
                    reached: link.reached,
                },
            ));
        }
        Ok(Some(conn))
    }

    /// Leads the campaign raised, newest first, optionally only those in one status.
    #[graphql(requires_scopes = "crm:read")]
    async fn leads(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only leads in this status.")] status: Option<LeadStatus>,
    ) -> Result<Option<Conn<Lead>>> {
        let args = page_args(first, after)?;
        let page = loader(ctx)
            .load_one(loaders::CampaignLeadsOf(self.id, args, status.map(LeadStatus::as_db)))
            .await?
            .unwrap_or_else(store::Page::empty);
        Ok(Some(connection(
            page,
            args.after.is_some(),
            |l| time_cursor(l.created_at, l.id),
            Lead,
        )))
    }

    /// Interactions attributed to the campaign, newest first.
    #[graphql(requires_scopes = "crm:read")]
    async fn interactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Option<Conn<Interaction>>> {
        let args = page_args(first, after)?;
        let page = loader(ctx)
            .load_one(loaders::CampaignInteractionsOf(self.id, args))
            .await?
            .unwrap_or_else(store::Page::empty);
        Ok(Some(connection(
            page,
            args.after.is_some(),
            |i| time_cursor(i.occurred_at, i.id),
            Interaction,
        )))
    }

    /// Revenue attributed to the campaign in USD: the sum of `amountUsd` of its sales, refunds
    /// excluded; 0 when none.
    #[graphql(requires_scopes = "crm:read")]
    async fn sales_total(&self, ctx: &Context<'_>) -> Result<Option<Decimal>> {
        Ok(Some(self.cells(ctx).await?.iter().map(|c| c.amount_usd).sum()))
    }

    /// Number of sale lines attributed to the campaign, refunds excluded.
    #[graphql(requires_scopes = "crm:read")]
    async fn sales_count(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(Some(self.cells(ctx).await?.iter().map(|c| c.sales_count).sum()))
    }

    /// Lead conversion rate: the campaign's leads with status CONVERTED divided by all its leads
    /// (live leads only), a fraction in [0, 1] rounded to 4 decimals; null when it has no leads.
    #[graphql(requires_scopes = "crm:read")]
    async fn conversion_rate(&self, ctx: &Context<'_>) -> Result<Option<Decimal>> {
        let f = self.funnel(ctx).await?;
        Ok((f.leads > 0).then(|| (Decimal::from(f.converted_leads) / Decimal::from(f.leads)).round_dp(4)))
    }

    /// Customers linked to the campaign that it reached (never above the `customers` total).
    #[graphql(requires_scopes = "crm:read")]
    async fn customers_reached(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(Some(self.funnel(ctx).await?.customers_reached))
    }

    /// Sales per channel, largest revenue first.
    #[graphql(requires_scopes = "crm:read")]
    async fn sales_by_channel(&self, ctx: &Context<'_>) -> Result<Option<Vec<ChannelSales>>> {
        Ok(Some(
            totals_by(&self.cells(ctx).await?, |c| c.channel_id)
                .into_iter()
                .map(|(id, t)| ChannelSales {
                    channel: Some(channel(id)),
                    sales_count: t.sales_count,
                    quantity: t.quantity,
                    amount_usd: t.amount_usd,
                })
                .collect(),
        ))
    }

    /// Sales per market, largest revenue first.
    #[graphql(requires_scopes = "crm:read")]
    async fn sales_by_market(&self, ctx: &Context<'_>) -> Result<Option<Vec<MarketSales>>> {
        Ok(Some(
            totals_by(&self.cells(ctx).await?, |c| c.market_id)
                .into_iter()
                .map(|(id, t)| MarketSales {
                    market: Some(market(id)),
                    sales_count: t.sales_count,
                    quantity: t.quantity,
                    amount_usd: t.amount_usd,
                })
                .collect(),
        ))
    }

    /// Sales per (channel, market): the grain at which they must agree with the ads results.
    #[graphql(requires_scopes = "crm:read")]
    async fn sales_by_channel_and_market(&self, ctx: &Context<'_>) -> Result<Option<Vec<ChannelMarketSales>>> {
        Ok(Some(
            self.cells(ctx)
                .await?
                .into_iter()
                .map(|c| ChannelMarketSales {
                    channel: Some(channel(c.channel_id)),
                    market: Some(market(c.market_id)),
                    sales_count: c.sales_count,
                    quantity: c.quantity,
                    amount_usd: c.amount_usd,
                })
                .collect(),
        ))
    }
}
