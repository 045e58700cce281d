//! Enumerations stored as short lowercase text (docs/data-model.md), exposed as GraphQL enums.

use async_graphql::Result;

/// A stored value outside its CHECK list means the store and this code disagree: a bug of ours.
fn unknown(kind: &str, value: &str) -> async_graphql::Error {
    tracing::error!(kind, value, "stored value outside its enumeration");
    promptsales_platform::gql::error(promptsales_platform::gql::ErrorCode::Internal, "internal error")
}

macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $db:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The value as stored.
            pub fn as_db(self) -> &'static str {
                match self {
                    $($name::$variant => $db),+
                }
            }

            /// The stored value as the enumeration.
            pub fn from_db(value: &str) -> Result<$name> {
                match value {
                    $($db => Ok($name::$variant),)+
                    other => Err(unknown(stringify!($name), other)),
                }
            }
        }
    };
}

db_enum! {
    /// Where a PromptAds campaign is in its life.
    CampaignStatus {
        /// Being prepared; not scheduled yet.
        Draft = "draft",
        /// Approved, waiting for its start.
        Scheduled = "scheduled",
        /// Running.
        Active = "active",
        /// Stopped for now.
        Paused = "paused",
        /// Ran to its end.
        Finished = "finished",
        /// Stopped for good before its end.
        Cancelled = "cancelled",
    }
}

db_enum! {
    /// Where a campaign plan is in its sign-off.
    PlanStatus {
        /// Being written by its author (also after changes were requested).
        Draft = "draft",
        /// Waiting for its approval steps.
        InReview = "in_review",
        /// Every step approved.
        Approved = "approved",
        /// A step rejected it.
        Rejected = "rejected",
        /// The campaign runs in PromptAds.
        Launched = "launched",
        /// The campaign is over.
        Closed = "closed",
    }
}

db_enum! {
    /// The decision of one approval step.
    ApprovalDecision {
        /// Not decided yet.
        Pending = "pending",
        /// Signed off.
        Approved = "approved",
        /// Turned down; the plan is rejected.
        Rejected = "rejected",
        /// Sent back to the plan's author.
        ChangesRequested = "changes_requested",
    }
}

db_enum! {
    /// State of a scheduled task.
    TaskStatus {
        /// Not started.
        Pending = "pending",
        /// Being worked on.
        InProgress = "in_progress",
        /// Finished.
        Done = "done",
        /// Dropped; cannot be completed.
        Cancelled = "cancelled",
    }
}

db_enum! {
    /// What a scheduled task is about.
    TaskKind {
        /// Creative brief and assets.
        Creative = "creative",
        /// Review of creatives and targeting.
        Review = "review",
        /// Campaign launch.
        Launch = "launch",
        /// Performance report.
        Report = "report",
        /// Follow-up with the customer.
        FollowUp = "follow_up",
        /// Anything else.
        Other = "other",
    }
}

db_enum! {
    /// How a task reminder is delivered.
    ReminderChannel {
        /// An e-mail to the assignee.
        Email = "email",
        /// A text message to the assignee.
        Sms = "sms",
        /// A notification in the portal.
        Portal = "portal",
    }
}

db_enum! {
    /// State of a subscription.
    SubscriptionStatus {
        /// In its free trial.
        Trialing = "trialing",
        /// Paid and running.
        Active = "active",
        /// Payment overdue; still served.
        PastDue = "past_due",
        /// Cancelled by the customer (kept as history).
        Cancelled = "cancelled",
        /// Ran out without renewal (kept as history).
        Expired = "expired",
    }
}

db_enum! {
    /// Which PromptSales product a plan covers.
    Subsidiary {
        /// PromptContent.
        Content = "content",
        /// PromptAds.
        Ads = "ads",
        /// PromptCrm.
        Crm = "crm",
        /// All three together.
        Bundle = "bundle",
    }
}

db_enum! {
    /// Size of a plan.
    PlanTier {
        /// Entry level.
        Starter = "starter",
        /// For growing teams.
        Growth = "growth",
        /// Highest quotas, usually unlimited.
        Enterprise = "enterprise",
    }
}

db_enum! {
    /// What a portal user may do.
    PortalUserRole {
        /// Owns the organization's account.
        Owner = "owner",
        /// Manages users and settings; signs off plans.
        Admin = "admin",
        /// Plans and runs campaigns.
        Marketer = "marketer",
        /// Reads reports.
        Analyst = "analyst",
        /// Reads only.
        Viewer = "viewer",
        /// PromptSales staff (belongs to no organization).
        Staff = "staff",
    }
}

db_enum! {
    /// State of a portal account.
    PortalUserStatus {
        /// Invited; has not signed in yet.
        Invited = "invited",
        /// Can sign in.
        Active = "active",
        /// Cannot sign in.
        Disabled = "disabled",
    }
}

db_enum! {
    /// How the output of an AI call was checked.
    ValidationMethod {
        /// Not checked.
        None = "none",
        /// Against a JSON schema.
        Schema = "schema",
        /// By a person.
        Human = "human",
        /// By a deterministic rule.
        Rule = "rule",
        /// By another model.
        LlmJudge = "llm_judge",
    }
}

/// Orders of `campaignSummaries`, all descending (dashboards show the top first).
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignSummaryOrder {
    /// Highest revenue first.
    Revenue,
    /// Highest return on investment first; campaigns that spent nothing yet (no ROI) last.
    Roi,
    /// Latest start first.
    StartsAt,
}
