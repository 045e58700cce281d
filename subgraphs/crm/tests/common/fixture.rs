//! A small crm data set with known answers, sealed under a test keyring exactly as the seeder and
//! the writers seal it, and loaded into PostgreSQL or SQL Server with bound parameters.
//!
//! Organization A: customers Ana García López, Bruno Díaz, Carla Torres, Elena Ruiz (erased: no
//! PII) and Diego Ramírez (deleted); campaigns C1 and C2. Organization B: Fernando Gómez (same
//! e-mail as Ana, which is allowed across organizations) and campaign C3.
//!
//! Names are ASCII in their first letters so both engines sort them the same way.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use promptsales_platform::crypto::{DataKey, Keyring, aad, normalize_email, normalize_national_id};
use rust_decimal::Decimal;
use uuid::Uuid;

pub const EMAIL: &str = "crm.customers.email";
pub const PHONE: &str = "crm.customers.phone";
pub const NATIONAL_ID: &str = "crm.customers.national_id";

/// One customer in clear, with what the store holds.
pub struct Person {
    pub id: Uuid,
    pub org: Uuid,
    pub first: &'static str,
    pub last: &'static str,
    pub country: &'static str,
    pub city: &'static str,
    pub segment: &'static str,
    /// (national id, e-mail, phone) in clear; None for an erased customer.
    pub pii: Option<(&'static str, &'static str, &'static str)>,
    pub birth: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
}

/// What `crm.customers` and `crm.customer_keys` hold for a person.
pub struct Sealed {
    pub national_id_enc: Option<Vec<u8>>,
    pub email_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub national_id_bidx: Option<Vec<u8>>,
    pub email_bidx: Option<Vec<u8>>,
    pub pii_key_id: Option<String>,
    pub kek_id: String,
    pub wrapped_dek: Vec<u8>,
}

pub struct Link {
    pub campaign: Uuid,
    pub customer: Uuid,
    pub org: Uuid,
    pub channel: Uuid,
    pub linked_at: DateTime<Utc>,
    pub reached: bool,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub struct LeadRow {
    pub id: Uuid,
    pub org: Uuid,
    pub campaign: Uuid,
    pub customer: Uuid,
    pub channel: Uuid,
    pub score: i16,
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub struct InteractionRow {
    pub id: Uuid,
    pub org: Uuid,
    pub customer: Uuid,
    pub campaign: Option<Uuid>,
    pub channel: Uuid,
    pub kind: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub struct SaleRow {
    pub id: Uuid,
    pub org: Uuid,
    pub customer: Uuid,
    pub campaign: Option<Uuid>,
    pub channel: Uuid,
    pub market: Uuid,
    pub product: Uuid,
    pub quantity: i32,
    pub amount_usd: Decimal,
    pub original_amount: Decimal,
    pub currency: &'static str,
    pub fx: Decimal,
    pub sold_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub struct Fixture {
    /// The keys the data was sealed with (the subgraph under test gets the same instance).
    pub keyring: Arc<Keyring>,
    pub org_a: Uuid,
    pub org_b: Uuid,
    pub c1: Uuid,
    pub c2: Uuid,
    pub c3: Uuid,
    pub social: Uuid,
    pub email_channel: Uuid,
    pub mx: Uuid,
    pub us: Uuid,
    pub people: Vec<Person>,
    pub sealed: Vec<Sealed>,
    pub links: Vec<Link>,
    pub leads: Vec<LeadRow>,
    pub interactions: Vec<InteractionRow>,
    pub sales: Vec<SaleRow>,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn h(n: i64) -> DateTime<Utc> {
    t0() + Duration::hours(n)
}

fn usd(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn seal(keyring: &Keyring, p: &Person) -> Sealed {
    let mut rng = rand::rng();
    let key = DataKey::generate(&mut rng);
    let wrapped = keyring.wrap(&key, &mut rng);
    let (nid_enc, email_enc, phone_enc, nid_bidx, email_bidx, key_id) = match p.pii {
        Some((nid, email, phone)) => (
            Some(key.seal(nid.as_bytes(), &aad(NATIONAL_ID, p.id), &mut rng)),
            Some(key.seal(email.as_bytes(), &aad(EMAIL, p.id), &mut rng)),
            Some(key.seal(phone.as_bytes(), &aad(PHONE, p.id), &mut rng)),
            Some(keyring.blind_index(NATIONAL_ID, &normalize_national_id(nid)).to_vec()),
            Some(keyring.blind_index(EMAIL, &normalize_email(email)).to_vec()),
            Some(format!("crm.customer_keys:{}", p.id)),
        ),
        None => (None, None, None, None, None, None),
    };
    Sealed {
        national_id_enc: nid_enc,
        email_enc,
        phone_enc,
        national_id_bidx: nid_bidx,
        email_bidx,
        pii_key_id: key_id,
        kek_id: wrapped.kek_id,
        wrapped_dek: wrapped.sealed,
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let keyring = Arc::new(Keyring::generate("test-kek", &mut rand::rng()));
        let (org_a, org_b) = (Uuid::new_v4(), Uuid::new_v4());
        let (c1, c2, c3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (social, email_channel) = (Uuid::new_v4(), Uuid::new_v4());
        let (mx, us) = (Uuid::new_v4(), Uuid::new_v4());
        let birth = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let person = |org, first, last, country, city, segment, pii, b| Person {
            id: Uuid::new_v4(),
            org,
            first,
            last,
            country,
            city,
            segment,
            pii,
            birth: b,
            created_at: h(-1000),
            deleted_at: None,
            erased_at: None,
        };
        let ana = person(
            org_a,
            "Ana",
            "García López",
            "MX",
            "Guadalajara",
            "loyal",
            Some(("GALA800101MJCRPN01", "Ana.Garcia@example.com", "+523312345678")),
            birth(1980, 1, 1),
        );
        let bruno = person(
            org_a,
            "Bruno",
            "Díaz",
            "MX",
            "Monterrey",
            "vip",
            Some(("DIBR750505HNLZRN02", "bruno.diaz@example.com.mx", "+528112345600")),
            birth(1975, 5, 5),
        );
        let carla = person(
            org_a,
            "Carla",
            "Torres",
            "US",
            "Houston",
            "new",
            Some(("123-45-6789", "carla@example.com", "+17135550142")),
            birth(1990, 9, 9),
        );
        let mut diego = person(
            org_a,
            "Diego",
            "Ramírez",
            "MX",
            "Guadalajara",
            "at_risk",
            Some(("RADI850202HJCMRG03", "diego@example.com", "+523398765432")),
            birth(1985, 2, 2),
        );
        diego.deleted_at = Some(h(-10));
        let mut elena = person(org_a, "Elena", "Ruiz", "CO", "Bogotá", "occasional", None, None);
        elena.erased_at = Some(h(-5));
        let fernando = person(
            org_b,
            "Fernando",
            "Gómez",
            "MX",
            "Guadalajara",
            "loyal",
            Some(("GOFE700303HJCMRR04", "ana.garcia@example.com", "+523311112222")),
            birth(1970, 3, 3),
        );
        let (a, b, c, d, f) = (ana.id, bruno.id, carla.id, diego.id, fernando.id);
        let people = vec![ana, bruno, carla, diego, elena, fernando];
        let sealed = people.iter().map(|p| seal(&keyring, p)).collect();

        let link = |campaign, customer, org, linked_at, reached| Link {
            campaign,
            customer,
            org,
            channel: social,
            linked_at,
            reached,
            deleted_at: None,
        };
        let links = vec![
            link(c1, a, org_a, h(1), true),
            link(c1, b, org_a, h(2), true),
            link(c1, c, org_a, h(3), false),
            Link {
                deleted_at: Some(h(20)),
                ..link(c1, d, org_a, h(4), true)
            },
            link(c2, a, org_a, h(5), false),
            link(c3, f, org_b, h(1), true),
        ];
        let lead = |customer, status, created: i64| LeadRow {
            id: Uuid::new_v4(),
            org: org_a,
            campaign: c1,
            customer,
            channel: social,
            score: 50,
            status,
            created_at: h(created),
            deleted_at: None,
        };
        let leads = vec![
            lead(a, "converted", 6),
            lead(b, "qualified", 7),
            lead(c, "new", 8),
            lead(b, "lost", 9),
            LeadRow {
                deleted_at: Some(h(30)),
                ..lead(c, "converted", 10)
            },
        ];
        let touch = |customer, campaign, kind, at: i64| InteractionRow {
            id: Uuid::new_v4(),
            org: org_a,
            customer,
            campaign,
            channel: social,
            kind,
            occurred_at: h(at),
            deleted_at: None,
        };
        let interactions = vec![
            touch(a, Some(c1), "view", 11),
            touch(a, Some(c1), "click", 12),
            touch(a, None, "visit", 13),
            touch(b, Some(c1), "message", 14),
            InteractionRow {
                deleted_at: Some(h(40)),
                ..touch(a, Some(c1), "like", 15)
            },
        ];
        let product = Uuid::new_v4();
        let sale = |org, customer, campaign, channel, market, quantity, cents: i64, at: i64| SaleRow {
            id: Uuid::new_v4(),
            org,
            customer,
            campaign,
            channel,
            market,
            product,
            quantity,
            amount_usd: usd(cents),
            original_amount: usd(cents),
            currency: "USD",
            fx: Decimal::ONE,
            sold_at: h(at),
            deleted_at: None,
        };
        let sales = vec![
            sale(org_a, a, Some(c1), social, mx, 2, 20_000, 16),
            sale(org_a, b, Some(c1), email_channel, mx, 1, 5_050, 17),
            // 600.00 MXN at 0.05 USD per peso.
            SaleRow {
                original_amount: usd(60_000),
                currency: "MXN",
                fx: Decimal::new(5, 2),
                ..sale(org_a, c, Some(c1), social, us, 3, 3_000, 18)
            },
            sale(org_a, a, None, social, mx, 1, 2_000, 19),
            // Refunded: counts nowhere.
            SaleRow {
                deleted_at: Some(h(50)),
                ..sale(org_a, b, Some(c1), social, mx, 9, 99_999, 20)
            },
            sale(org_b, f, Some(c3), social, mx, 1, 7_000, 21),
        ];
        Fixture {
            keyring,
            org_a,
            org_b,
            c1,
            c2,
            c3,
            social,
            email_channel,
            mx,
            us,
            people,
            sealed,
            links,
            leads,
            interactions,
            sales,
        }
    }

    pub fn person(&self, first: &str) -> &Person {
        self.people
            .iter()
            .find(|p| p.first == first)
            .unwrap_or_else(|| panic!("no {first} in the fixture"))
    }
}
