//! Opaque keyset cursors (platform::gql's `v1|…` format) for the crm lists: names (customer list),
//! `(time, id)` (timelines, `…UpdatedSince`) and `(time, campaign, customer)` (link changes).

use async_graphql::Result;
use chrono::{DateTime, SecondsFormat, Utc};
use promptsales_platform::gql::{bad_input, decode_cursor, encode_cursor};
use uuid::Uuid;

use crate::store::{LinkAfter, NameAfter, TimeAfter};

fn bad() -> async_graphql::Error {
    bad_input("after", "cursor", "not a cursor this API returned")
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| bad())
}

fn time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad())
}

/// Full precision, so the keyset resumes exactly where the page ended.
fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Names may hold the cursor's `|` separator: `%` and `|` are percent-escaped.
fn escape(s: &str) -> String {
    s.replace('%', "%25").replace('|', "%7C")
}

fn unescape(s: &str) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("%25") => out.push('%'),
            Some("%7C") => out.push('|'),
            _ => return Err(bad()),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn name_cursor(last_name: &str, first_name: &str, id: Uuid) -> String {
    encode_cursor(&[&escape(last_name), &escape(first_name), &id.to_string()])
}

pub fn name_after(after: Option<String>) -> Result<Option<NameAfter>> {
    after
        .map(|c| {
            let p = decode_cursor(&c, 3)?;
            Ok(NameAfter {
                last_name: unescape(&p[0])?,
                first_name: unescape(&p[1])?,
                id: uuid(&p[2])?,
            })
        })
        .transpose()
}

pub fn time_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    encode_cursor(&[&time_text(at), &id.to_string()])
}

pub fn time_after(after: Option<String>) -> Result<Option<TimeAfter>> {
    after
        .map(|c| {
            let p = decode_cursor(&c, 2)?;
            Ok(TimeAfter {
                at: time(&p[0])?,
                id: uuid(&p[1])?,
            })
        })
        .transpose()
}

pub fn link_cursor(at: DateTime<Utc>, campaign: Uuid, customer: Uuid) -> String {
    encode_cursor(&[&time_text(at), &campaign.to_string(), &customer.to_string()])
}

pub fn link_after(after: Option<String>) -> Result<Option<LinkAfter>> {
    after
        .map(|c| {
            let p = decode_cursor(&c, 3)?;
            Ok(LinkAfter {
                at: time(&p[0])?,
                campaign_id: uuid(&p[1])?,
                customer_id: uuid(&p[2])?,
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_round_trip_names_holding_the_separator() {
        let id = Uuid::new_v4();
        let c = name_cursor("Pérez|100%", "Ana %7C", id);
        let a = name_after(Some(c)).expect("valid").expect("some");
        assert_eq!(
            (a.last_name.as_str(), a.first_name.as_str(), a.id),
            ("Pérez|100%", "Ana %7C", id)
        );
    }

    #[test]
    fn should_round_trip_times_to_the_microsecond() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:20:30.123456Z")
            .expect("valid")
            .with_timezone(&Utc);
        let id = Uuid::new_v4();
        assert_eq!(
            time_after(Some(time_cursor(at, id))).expect("valid"),
            Some(TimeAfter { at, id })
        );
    }

    #[test]
    fn should_refuse_cursors_of_another_shape() {
        let c = time_cursor(Utc::now(), Uuid::nil());
        assert!(name_after(Some(c.clone())).is_err());
        assert!(link_after(Some(c)).is_err());
        assert!(unescape("%zz").is_err());
    }
}
