//! PromptCrm customers: who they are (names, ids, contact details), where they live (a city of
//! their market, with real coordinates) and their sealed PII. Customers are laid out per
//! organization and market in contiguous index ranges, so a campaign can link customers of its
//! organization in its markets by index, before (or while) the customers themselves are drawn.

use std::collections::HashSet;

use promptsales_platform::crypto::normalize_national_id;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::Rng;
use rayon::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{
    central::Central,
    identity,
    pii::{self, seal_customer},
    rng::{self, Cumulative, Stream, keyed_uuid, stream},
    rows::{Customer, CustomerKey},
    spec::Ctx,
    words::{CITIES, CityDef},
};

/// A contiguous range of customer indices: one organization's customers in one market.
#[derive(Debug, Clone)]
pub struct Segment {
    pub org: usize,
    pub market: usize,
    pub start: usize,
    pub len: usize,
}

/// Where every customer index belongs.
#[derive(Debug)]
pub struct Layout {
    pub segments: Vec<Segment>,
    /// First index of each organization (customers of an organization are contiguous).
    pub org_start: Vec<usize>,
    pub total: usize,
}

impl Layout {
    pub fn plan(ctx: &Ctx, central: &Central) -> Layout {
        let spec = ctx.spec;
        let mut r = stream(ctx.seed, "customer-layout", 0);
        // Organization sizes are log-normal (a few big tenants, many small ones); within one, the
        // home market weighs three times its size.
        let org_weights: Vec<f64> = central
            .orgs
            .iter()
            .map(|_| rng::normal(&mut r, 0.0, 0.6).exp())
            .collect();
        let mut cells = Vec::new();
        for (o, org) in central.orgs.iter().enumerate() {
            for (k, &m) in org.footprint.iter().enumerate() {
                let w = org_weights[o] * ctx.markets[m].def.weight * if k == 0 { 3.0 } else { 1.0 };
                cells.push((o, m, w));
            }
        }
        let floor = spec.customers_per_market_floor;
        assert!(
            cells.len() * floor <= spec.customers,
            "profile too small for its market floor"
        );
        let spare = spec.customers - cells.len() * floor;
        let total_w: f64 = cells.iter().map(|c| c.2).sum();
        let mut lens: Vec<usize> = cells
            .iter()
            .map(|c| floor + (spare as f64 * c.2 / total_w) as usize)
            .collect();
        // Rounding leftovers go to the first cells, so the total is exact.
        let mut leftover = spec.customers - lens.iter().sum::<usize>();
        for l in lens.iter_mut() {
            if leftover == 0 {
                break;
            }
            *l += 1;
            leftover -= 1;
        }
        let mut segments = Vec::new();
        let mut org_start = vec![0; central.orgs.len()];
        let mut start = 0;
        for ((o, m, _), len) in cells.into_iter().zip(lens) {
            if segments.last().is_none_or(|s: &Segment| s.org != o) {
                org_start[o] = start;
            }
            segments.push(Segment {
                org: o,
                market: m,
                start,
                len,
            });
            start += len;
        }
        Layout {
            segments,
            org_start,
            total: start,
        }
    }

    pub fn segment_of(&self, index: usize) -> &Segment {
        let i = self.segments.partition_point(|s| s.start + s.len <= index);
        &self.segments[i]
    }

    pub fn segment(&self, org: usize, market: usize) -> Option<&Segment> {
        self.segments.iter().find(|s| s.org == org && s.market == market)
    }
}

/// The id of customer `index`: a pure function of the seed, so campaigns can reference customers
/// without waiting for them to be drawn.
pub fn customer_id(seed: u64, index: usize) -> Uuid {
    keyed_uuid(seed, "customer", index as u64)
}

/// A customer in clear, before sealing.
struct Person {
    first: &'static str,
    last: String,
    maternal: Option<&'static str>,
    female: bool,
    birth: NaiveDate,
    city: &'static CityDef,
    language: &'static str,
    national_id: Option<String>,
    email: String,
    phone: String,
    segment: &'static str,
    consent: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    lat: Decimal,
    lon: Decimal,
}

struct CityPicker {
    by_country: Vec<(&'static str, Vec<&'static CityDef>, Cumulative)>,
}

impl CityPicker {
    fn new() -> Self {
        let mut by_country: Vec<(&'static str, Vec<&'static CityDef>, Cumulative)> = Vec::new();
        for country in CITIES
            .iter()
            .map(|c| c.country)
            .collect::<std::collections::BTreeSet<_>>()
        {
            let cities: Vec<_> = CITIES.iter().filter(|c| c.country == country).collect();
            // Sub-linear in population: smaller cities are over-represented in marketing lists.
            let cum = Cumulative::new(cities.iter().map(|c| c.population_k.powf(0.8)));
            by_country.push((country, cities, cum));
        }
        CityPicker { by_country }
    }

    fn pick(&self, r: &mut Stream, country: &str) -> &'static CityDef {
        let (_, cities, cum) = self
            .by_country
            .iter()
            .find(|c| c.0 == country)
            .expect("cities for every market");
        cities[cum.draw(r)]
    }
}

const SEGMENTS: [(&str, f64); 6] = [
    ("new", 0.20),
    ("occasional", 0.35),
    ("loyal", 0.22),
    ("vip", 0.05),
    ("at_risk", 0.12),
    ("churned", 0.06),
];

fn person(ctx: &Ctx, layout: &Layout, cities: &CityPicker, index: usize) -> Person {
    let mut r = stream(ctx.seed, "customer", index as u64);
    let seg = layout.segment_of(index);
    let market = ctx.markets[seg.market].def;
    let country = market.country;
    // About a fifth of US customers are Hispanic and most of those prefer Spanish.
    let (spanish_names, language) = if country == "US" {
        let hispanic = r.random_bool(0.2);
        (
            hispanic,
            if hispanic && r.random_bool(0.7) {
                "es-US"
            } else {
                "en-US"
            },
        )
    } else {
        (true, if r.random_bool(0.03) { "en" } else { market.language })
    };
    let female = r.random_bool(0.52);
    let first = ctx.names.first(&mut r, spanish_names, female);
    let paternal = ctx.names.last(&mut r, spanish_names);
    let two_surnames = spanish_names && country != "US" && !(matches!(country, "AR" | "UY") && r.random_bool(0.7));
    let maternal = two_surnames.then(|| ctx.names.last(&mut r, true));
    let last = match maternal {
        Some(m) => format!("{paternal} {m}"),
        None => paternal.to_owned(),
    };
    let created_at = rng::between(
        &mut r,
        ctx.window_start - Duration::days(4 * 365),
        ctx.window_start - Duration::days(1),
    );
    let age_band = rng::weighted(&mut r, &[0.12, 0.26, 0.24, 0.18, 0.12, 0.08]);
    let (lo, hi) = [(18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 80)][age_band];
    let age_days = r.random_range(lo * 365 + 1..(hi + 1) * 365);
    let birth = created_at.date_naive() - Duration::days(age_days);
    let city = cities.pick(&mut r, country);
    let national_id = identity::national_id(
        &mut r,
        country,
        index as u64,
        first,
        paternal,
        maternal,
        female,
        birth,
        city.region,
    );
    let email = identity::email(
        &mut r,
        country,
        first,
        &last,
        (index - layout.org_start[seg.org]) as u64,
    );
    let phone = identity::phone(&mut r, country, market.phone_prefix, city);
    let segment = SEGMENTS[rng::weighted(&mut r, &SEGMENTS.map(|s| s.1))].0;
    let consent = r
        .random_bool(0.62)
        .then(|| created_at + Duration::days(r.random_range(0..30)));
    // Within ~4 km of the centre.
    let jitter = |r: &mut Stream| Decimal::new(r.random_range(-40_000..=40_000), 6);
    let lat = Decimal::from_f64_retain(city.lat).expect("finite").round_dp(6) + jitter(&mut r);
    let lon = Decimal::from_f64_retain(city.lon).expect("finite").round_dp(6) + jitter(&mut r);
    Person {
        first,
        last,
        maternal,
        female,
        birth,
        city,
        language,
        national_id: Some(national_id),
        email,
        phone,
        segment,
        consent,
        created_at,
        lat,
        lon,
    }
}

/// Draws every customer in clear (in parallel), then makes national ids unique per organization,
/// as the store's unique blind index requires. Numbers come from bijections of the customer index,
/// so only two things can coincide: CURPs (built from names and birth dates) and ids of different
/// countries whose digits match once normalised (a US SSN and a Costa Rican cédula are both nine
/// digits). A coincidence draws the id again with another number, in index order, so the result
/// does not depend on scheduling.
fn people(ctx: &Ctx, layout: &Layout) -> Vec<Person> {
    let cities = CityPicker::new();
    let mut people: Vec<Person> = (0..layout.total)
        .into_par_iter()
        .map(|i| person(ctx, layout, &cities, i))
        .collect();
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    for seg in &layout.segments {
        let country = ctx.markets[seg.market].def.country;
        for (i, p) in people.iter_mut().enumerate().take(seg.start + seg.len).skip(seg.start) {
            let mut attempt = 0u64;
            while let Some(id) = &p.national_id {
                if seen.insert((seg.org, normalize_national_id(id))) {
                    break;
                }
                attempt += 1;
                if attempt > 8 {
                    p.national_id = None; // allowed: the column is nullable
                    break;
                }
                // A CURP varies in its homonym character (index + 1 …); other ids in their number,
                // moved past every index in use.
                let unique = if country == "MX" {
                    i as u64 + attempt
                } else {
                    i as u64 + attempt * 1_000_000
                };
                let (paternal, _) = p.last.split_once(' ').unwrap_or((&p.last, ""));
                let mut r = stream(ctx.seed, "customer-id-retry", i as u64 * 16 + attempt);
                p.national_id = Some(identity::national_id(
                    &mut r,
                    country,
                    unique,
                    p.first,
                    paternal,
                    p.maternal,
                    p.female,
                    p.birth,
                    p.city.region,
                ));
            }
        }
    }
    people
}

/// The customers of one block, sealed, with their keys.
pub struct Block {
    pub customers: Vec<Customer>,
    pub keys: Vec<CustomerKey>,
}

/// All customers, sealed in parallel blocks of `block` and handed to `sink` in index order.
pub fn generate(ctx: &Ctx, central: &Central, layout: &Layout, block: usize, mut sink: impl FnMut(Block)) {
    let people = people(ctx, layout);
    let blocks: Vec<usize> = (0..layout.total).step_by(block).collect();
    // Seal a few blocks at a time in parallel, then hand them over in order (bounded memory).
    for group in blocks.chunks(rayon::current_num_threads().max(1) * 2) {
        let sealed: Vec<Block> = group
            .par_iter()
            .map(|&start| {
                let end = (start + block).min(layout.total);
                let mut out = Block {
                    customers: Vec::with_capacity(end - start),
                    keys: Vec::with_capacity(end - start),
                };
                for (i, person) in people.iter().enumerate().take(end).skip(start) {
                    let (c, k) = seal(ctx, central, layout, person, i);
                    out.customers.push(c);
                    out.keys.push(k);
                }
                out
            })
            .collect();
        for b in sealed {
            sink(b);
        }
    }
}

fn seal(ctx: &Ctx, central: &Central, layout: &Layout, p: &Person, index: usize) -> (Customer, CustomerKey) {
    let id = customer_id(ctx.seed, index);
    let seg = layout.segment_of(index);
    let mut r = stream(ctx.seed, "customer-pii", index as u64);
    let sealed = seal_customer(
        ctx.keyring,
        &mut r,
        id,
        p.national_id.as_deref().unwrap_or(""),
        &p.email,
        &p.phone,
    );
    let has_id = p.national_id.is_some();
    let customer = Customer {
        id,
        organization_id: central.orgs[seg.org].id,
        first_name: p.first,
        last_name: p.last.clone(),
        birth_date: Some(p.birth),
        segment: p.segment,
        country_code: ctx.markets[seg.market].def.country,
        region: Some(p.city.region),
        city: Some(p.city.name),
        latitude: Some(p.lat),
        longitude: Some(p.lon),
        preferred_language: p.language,
        national_id_enc: has_id.then_some(sealed.national_id_enc),
        email_enc: Some(sealed.email_enc),
        phone_enc: Some(sealed.phone_enc),
        national_id_bidx: has_id.then_some(sealed.national_id_bidx),
        email_bidx: Some(sealed.email_bidx),
        pii_key_id: Some(pii::customer_key_id(id)),
        marketing_consent: p.consent.is_some(),
        consent_updated_at: p.consent,
        created_at: p.created_at,
        erased_at: None,
    };
    let key = CustomerKey {
        customer_id: id,
        key_id: sealed.kek_id,
        wrapped_dek: sealed.wrapped_dek,
        created_at: p.created_at,
        rotated_at: None,
    };
    (customer, key)
}

/// The year a customer was born (tests read it back to check ages).
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    day.year() - birth.year() - i32::from((day.month(), day.day()) < (birth.month(), birth.day()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use promptsales_platform::crypto::Keyring;
    use rand::SeedableRng;

    use super::*;
    use crate::spec::{Profile, default_now};

    #[test]
    fn should_give_every_customer_of_an_organization_its_own_national_id_and_email() {
        let keyring = Keyring::generate("k", &mut rand::rngs::StdRng::seed_from_u64(1));
        let ctx = Ctx::new(Profile::Full, 3, default_now(), &keyring);
        let central = crate::central::generate(&ctx);
        let layout = Layout::plan(&ctx, &central);
        let people = people(&ctx, &layout);
        let mut ids: HashMap<(usize, String), usize> = HashMap::new();
        let mut emails: HashMap<(usize, String), usize> = HashMap::new();
        for (i, p) in people.iter().enumerate() {
            let org = layout.segment_of(i).org;
            if let Some(id) = &p.national_id {
                let norm = promptsales_platform::crypto::normalize_national_id(id);
                if let Some(j) = ids.insert((org, norm), i) {
                    panic!(
                        "customers {j} and {i} share {id} ({})",
                        ctx.markets[layout.segment_of(i).market].def.code
                    );
                }
            }
            assert!(
                emails.insert((org, p.email.to_lowercase()), i).is_none(),
                "e-mail {}",
                p.email
            );
        }
    }
}
