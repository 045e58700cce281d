//! Federation entity resolvers: the gateway sends batches of `{ __typename, id }` representations
//! to `_entities`; each resolves through a DataLoader, so a batch is one store call per type.
//! Unknown or invisible ids resolve to null, except `Campaign`, which the ads subgraph owns: its
//! sales fields are then empty.

use async_graphql::{Context, ID, Object, Result};

use super::{
    AiUsage, Approval, Brand, Campaign, CampaignPlan, Organization, PlanSubscription, PortalUser, Product,
    ScheduledTask, SubscriptionPlan, loader, loaders, parse_id,
};

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// Federation: resolves an Organization reference.
    #[graphql(entity)]
    async fn find_organization_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organization>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::OrgId(id)).await?.map(Organization))
    }

    /// Federation: resolves a Brand reference.
    #[graphql(entity)]
    async fn find_brand_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Brand>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::BrandId(id)).await?.map(Brand))
    }

    /// Federation: resolves a Product reference.
    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::ProductId(id)).await?.map(Product))
    }

    /// Federation: resolves a SubscriptionPlan reference.
    #[graphql(entity)]
    async fn find_subscription_plan_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<SubscriptionPlan>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::PlanId(id)).await?.map(SubscriptionPlan))
    }

    /// Federation: resolves a PlanSubscription reference.
    #[graphql(entity)]
    async fn find_plan_subscription_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PlanSubscription>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx)
            .load_one(loaders::SubscriptionId(id))
            .await?
            .map(PlanSubscription))
    }

    /// Federation: resolves a PortalUser reference.
    #[graphql(entity)]
    async fn find_portal_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PortalUser>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::UserId(id)).await?.map(PortalUser))
    }

    /// Federation: resolves a CampaignPlan reference.
    #[graphql(entity)]
    async fn find_campaign_plan_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CampaignPlan>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx)
            .load_one(loaders::CampaignPlanId(id))
            .await?
            .map(CampaignPlan))
    }

    /// Federation: resolves an Approval reference.
    #[graphql(entity)]
    async fn find_approval_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Approval>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::ApprovalId(id)).await?.map(Approval))
    }

    /// Federation: resolves a ScheduledTask reference.
    #[graphql(entity)]
    async fn find_scheduled_task_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ScheduledTask>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::TaskId(id)).await?.map(ScheduledTask))
    }

    /// Federation: resolves an AiUsage reference.
    #[graphql(entity)]
    async fn find_ai_usage_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<AiUsage>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::AiUsageId(id)).await?.map(AiUsage))
    }

    /// Federation: the sales side of a Campaign (owned by the ads subgraph).
    #[graphql(entity)]
    async fn find_campaign_by_id(&self, id: ID) -> Result<Campaign> {
        let id = parse_id("id", &id)?;
        Ok(Campaign { id })
    }
}
