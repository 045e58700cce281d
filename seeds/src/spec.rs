//! What a run generates: the profile's sizes, the seed and the data's "now".

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use promptsales_platform::crypto::Keyring;

use crate::{identity::Names, reference::Market};

/// A named set of sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// ~24 campaigns and ~4,000 customers: seeds in about a second, used by every test suite.
    Small,
    /// What the business asked for: 1,000 campaigns, 500,000 customers.
    Full,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(Profile::Small),
            "full" => Ok(Profile::Full),
            other => Err(format!("unknown profile `{other}` (use small or full)")),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Profile::Small => "small",
            Profile::Full => "full",
        })
    }
}

/// The sizes of a profile.
#[derive(Debug)]
pub struct Spec {
    pub organizations: usize,
    pub campaigns: usize,
    pub customers: usize,
    /// Fewest customers an organization has in each market it sells in, so that every campaign
    /// finds 400–1,000 customers to link in its markets.
    pub customers_per_market_floor: usize,
    /// Most markets in an organization's footprint.
    pub max_footprint: usize,
    pub influencers: usize,
    pub images: usize,
    pub staff_users: usize,
}

impl Profile {
    pub fn spec(self) -> &'static Spec {
        match self {
            Profile::Small => &Spec {
                organizations: 4,
                campaigns: 24,
                customers: 4_000,
                customers_per_market_floor: 450,
                max_footprint: 2,
                influencers: 40,
                images: 30,
                staff_users: 4,
            },
            Profile::Full => &Spec {
                organizations: 40,
                campaigns: 1_000,
                customers: 500_000,
                customers_per_market_floor: 1_200,
                max_footprint: 5,
                influencers: 400,
                images: 120,
                staff_users: 12,
            },
        }
    }
}

/// Customers linked to each campaign (the business rule).
pub const LINKED_CUSTOMERS: std::ops::RangeInclusive<usize> = 400..=1_000;
/// Share of campaigns active at "now"; the rest are finished.
pub const ACTIVE_SHARE: f64 = 0.30;
/// Months of campaign starts, ending with the month of "now" (July 2024 – October 2025 by default).
pub const WINDOW_MONTHS: u32 = 16;

/// The default "now" of the data: the end of October 2025.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 31, 23, 59, 59)
        .single()
        .expect("a valid time")
}

/// Everything generators share: sizes, seed, the data's clock, the keyring and the lists.
pub struct Ctx<'k> {
    pub profile: Profile,
    pub spec: &'static Spec,
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// First instant of the first month of the window.
    pub window_start: DateTime<Utc>,
    pub keyring: &'k Keyring,
    pub markets: Vec<Market>,
    pub names: Names,
}

impl<'k> Ctx<'k> {
    pub fn new(profile: Profile, seed: u64, now: DateTime<Utc>, keyring: &'k Keyring) -> Ctx<'k> {
        Ctx {
            profile,
            spec: profile.spec(),
            seed,
            now,
            window_start: window_start(now),
            keyring,
            markets: crate::reference::markets(),
            names: Names::new(),
        }
    }

    pub fn market_index(&self, code: &str) -> usize {
        self.markets
            .iter()
            .position(|m| m.def.code == code)
            .expect("a market of markets.txt")
    }

    /// The 16 (year, month) buckets of the window, oldest first.
    pub fn window_months(&self) -> Vec<(i32, u32)> {
        let d = self.window_start.date_naive();
        (0..WINDOW_MONTHS).map(|i| add_months(d.year(), d.month(), i)).collect()
    }
}

pub fn add_months(year: i32, month: u32, n: u32) -> (i32, u32) {
    let m0 = year * 12 + month as i32 - 1 + n as i32;
    (m0.div_euclid(12), (m0.rem_euclid(12) + 1) as u32)
}

pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let d = now.date_naive();
    let total = d.year() * 12 + d.month() as i32 - 1 - (WINDOW_MONTHS as i32 - 1);
    let first =
        NaiveDate::from_ymd_opt(total.div_euclid(12), (total.rem_euclid(12) + 1) as u32, 1).expect("first of month");
    Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// Midnight UTC of a day.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// Last day of a month.
pub fn month_end(year: i32, month: u32) -> NaiveDate {
    let (y, m) = add_months(year, month, 1);
    NaiveDate::from_ymd_opt(y, m, 1).expect("first of month") - Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_end_the_window_with_the_month_of_now() {
        assert_eq!(window_start(default_now()).to_rfc3339(), "2024-07-01T00:00:00+00:00");
        assert_eq!(add_months(2024, 7, 15), (2025, 10));
        assert_eq!(month_end(2024, 2), NaiveDate::from_ymd_opt(2024, 2, 29).expect("date"));
        assert!("tiny".parse::<Profile>().is_err());
    }
}
