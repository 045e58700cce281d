//! Deterministic identifiers for reference data that several stores share.
//!
//! Channels, markets and subscription plans are written to more than one store. Deriving their ids
//! from their codes (UUIDv5) lets every store agree on them without a lookup across stores.

use uuid::Uuid;

/// Namespace of all PromptSales UUIDv5 identifiers (itself UUIDv5 of "promptsales" in the URL namespace).
pub const PROMPTSALES_NS: Uuid = Uuid::from_u128(0xf0ac_c9c8_d232_5d2e_89b9_e570_2d27_39a9);

/// Kinds of reference data whose ids derive from a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Channel,
    Market,
    Plan,
}

impl RefKind {
    fn prefix(self) -> &'static str {
        match self {
            RefKind::Channel => "channel",
            RefKind::Market => "market",
            RefKind::Plan => "plan",
        }
    }
}

/// The id of a channel, market or plan with this code, the same in every store.
pub fn reference_id(kind: RefKind, code: &str) -> Uuid {
    let name = format!("{}:{}", kind.prefix(), code.to_ascii_lowercase());
    Uuid::new_v5(&PROMPTSALES_NS, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_derive_the_same_id_for_the_same_code_whatever_its_case() {
        assert_eq!(
            reference_id(RefKind::Channel, "Instagram"),
            reference_id(RefKind::Channel, "instagram")
        );
        assert_ne!(
            reference_id(RefKind::Channel, "mx"),
            reference_id(RefKind::Market, "mx")
        );
        assert_eq!(reference_id(RefKind::Market, "MX").get_version_num(), 5);
    }

    #[test]
    fn should_keep_the_namespace_documented() {
        assert_eq!(PROMPTSALES_NS, Uuid::new_v5(&Uuid::NAMESPACE_URL, b"promptsales"));
    }
}
