//! GraphQL object types of the sales subgraph. Each wraps a store row; relations go through the
//! request's DataLoaders.

mod ai;
mod campaign;
mod catalog;
mod enums;
mod people;
mod planning;

pub use ai::AiUsage;
pub use campaign::{Campaign, CampaignSummary, DailyMetric};
pub use catalog::{Brand, Organization, Product};
pub use enums::*;
pub use people::{Contact, PlanLimit, PlanSubscription, PortalUser, SubscriptionPlan};
pub use planning::{Approval, CampaignPlan, ScheduledTask, TaskReminder};

use async_graphql::ID;
use uuid::Uuid;

pub(crate) fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}
