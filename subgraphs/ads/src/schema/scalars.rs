//! The `Date` scalar and the enumerations of the ads store, each mapped to the store's lowercase
//! text in one place.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;
use promptsales_platform::gql::{ErrorCode, error};

/// A calendar day, ISO 8601 (`2025-03-31`). Results and sentiment are per day of the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar day, ISO 8601 (`2025-03-31`).
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("a date is written YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// Turns a stored enumeration value into its GraphQL enum; an unknown value (the CHECKs make it
/// impossible) is a generic error, logged.
pub(crate) fn known<E>(value: &str, parse: fn(&str) -> Option<E>) -> async_graphql::Result<E> {
    parse(value).ok_or_else(|| {
        tracing::error!(value, "unknown enumeration value in the ads store");
        error(ErrorCode::Internal, "internal error")
    })
}

macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $db:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The store's text for this value.
            pub fn as_db(self) -> &'static str {
                match self {
                    $($name::$variant => $db),+
                }
            }

            /// The value for the store's text.
            pub fn from_db(s: &str) -> Option<$name> {
                match s {
                    $($db => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

db_enum! {
    /// Where a campaign is in its life. Allowed changes: DRAFT → SCHEDULED | CANCELLED;
    /// SCHEDULED → ACTIVE | CANCELLED; ACTIVE → PAUSED | FINISHED; PAUSED → ACTIVE | FINISHED |
    /// CANCELLED. FINISHED and CANCELLED are final.
    CampaignStatus {
        /// Being prepared; nothing runs.
        Draft = "draft",
        /// Approved and waiting for its start.
        Scheduled = "scheduled",
        /// Running.
        Active = "active",
        /// Stopped for now; may resume.
        Paused = "paused",
        /// Ran to its end.
        Finished = "finished",
        /// Stopped for good before it finished.
        Cancelled = "cancelled",
    }
}

db_enum! {
    /// What a campaign is meant to achieve.
    CampaignObjective {
        /// Be known: reach and views.
        Awareness = "awareness",
        /// Bring people to a site or shop.
        Traffic = "traffic",
        /// Likes, comments, shares.
        Engagement = "engagement",
        /// Contacts who may buy.
        Leads = "leads",
        /// Purchases.
        Sales = "sales",
    }
}

db_enum! {
    /// The creative form of an ad.
    AdFormat {
        /// A still picture.
        Image = "image",
        /// A moving picture.
        Video = "video",
        /// Several pictures to swipe through.
        Carousel = "carousel",
        /// A full-screen, short-lived post.
        Story = "story",
        /// Words only: needs a headline and a body.
        Text = "text",
    }
}

db_enum! {
    /// Whether an ad is running.
    AdStatus {
        /// Being prepared.
        Draft = "draft",
        /// Running.
        Active = "active",
        /// Stopped for now.
        Paused = "paused",
        /// Done.
        Finished = "finished",
    }
}

db_enum! {
    /// The kind of a media channel.
    ChannelKind {
        /// A social network (Instagram, Facebook …).
        Social = "social",
        /// E-mail campaigns.
        Email = "email",
        /// Text messages.
        Sms = "sms",
        /// A professional network (LinkedIn …).
        Professional = "professional",
        /// An influencer network: ads placed with influencers.
        Influencer = "influencer",
        /// Search engine ads.
        Search = "search",
    }
}

db_enum! {
    /// How a placement is paid for.
    CostModel {
        /// Per thousand views.
        Cpm = "cpm",
        /// Per click.
        Cpc = "cpc",
        /// Per sale.
        Cpa = "cpa",
        /// A fixed price for the whole placement.
        Flat = "flat",
    }
}

db_enum! {
    /// Why an audience reacted badly.
    NegativeSentimentType {
        /// The ad offends.
        Offensive = "offensive",
        /// The ad promises what the product does not do.
        Misleading = "misleading",
        /// Too expensive.
        Price = "price",
        /// Complaints about the product's quality.
        Quality = "quality",
        /// Complaints about the service.
        Service = "service",
        /// Seen as spam.
        Spam = "spam",
        /// Anything else.
        Other = "other",
    }
}
