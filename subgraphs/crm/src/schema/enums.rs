//! The crm enumerations (docs/data-model.md), stored as short lowercase text with a CHECK and shown
//! as GraphQL enums.

use async_graphql::Enum;

/// A GraphQL enum with its stored spelling.
macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $db:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The value as the store holds it.
            pub fn as_db(self) -> &'static str {
                match self {
                    $($name::$variant => $db,)+
                }
            }

            /// The stored value, if it is one of ours (CHECK constraints make it so).
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
    /// Where a customer stands in its relationship with the organization.
    CustomerSegment {
        /// Recently acquired, no history yet.
        New => "new",
        /// Buys now and then.
        Occasional => "occasional",
        /// Buys regularly.
        Loyal => "loyal",
        /// Highest value customers.
        Vip => "vip",
        /// Activity dropping: likely to churn.
        AtRisk => "at_risk",
        /// No longer buying.
        Churned => "churned",
    }
}

db_enum! {
    /// Stage of a lead in the sales funnel: NEW > CONTACTED > QUALIFIED > CONVERTED | LOST.
    LeadStatus {
        /// Raised, nobody has followed up yet.
        New => "new",
        /// The customer was contacted.
        Contacted => "contacted",
        /// Judged a real buying interest.
        Qualified => "qualified",
        /// Ended in a sale.
        Converted => "converted",
        /// Ended without a sale.
        Lost => "lost",
    }
}

db_enum! {
    /// What kind of touch point an interaction was.
    InteractionKind {
        /// Saw content.
        View => "view",
        /// Clicked through.
        Click => "click",
        /// Liked a post.
        Like => "like",
        /// Commented.
        Comment => "comment",
        /// Shared content.
        Share => "share",
        /// Sent or received a message.
        Message => "message",
        /// Opened an e-mail.
        EmailOpen => "email_open",
        /// Phone call.
        Call => "call",
        /// Visited a store or site.
        Visit => "visit",
    }
}

db_enum! {
    /// Who answered the customer in an interaction.
    InteractionActor {
        /// An automated agent.
        Bot => "bot",
        /// A person.
        Human => "human",
    }
}
