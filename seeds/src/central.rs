//! PromptSales, the central store: organizations (tenants), their brands and products, contacts,
//! the plan price list and subscriptions, and portal users. Everything else hangs off these.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{
    pii::Envelope,
    reference::PLANS,
    rng::{self, Stream, stream},
    rows::{Contact, Organization, PortalUser, SalesBrand, SalesProduct, Subscription, SubscriptionPlan},
    spec::Ctx,
    words::{BRANDS, CATALOG, ORGANIZATIONS, OrgDef, ProductDef, ascii_slug},
};

/// An organization as the other generators need it.
#[derive(Debug)]
pub struct Org {
    pub id: Uuid,
    pub def: &'static OrgDef,
    /// Market index of the home market.
    pub home: usize,
    /// Markets it sells in (home first).
    pub footprint: Vec<usize>,
    pub spanish: bool,
    pub brands: Vec<usize>,
    /// Users who create and approve campaigns (owner and admins first, then marketers).
    pub approvers: Vec<Uuid>,
    pub marketers: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct Brand {
    pub id: Uuid,
    pub org: usize,
    pub name: String,
    pub products: Vec<usize>,
}

#[derive(Debug)]
pub struct Product {
    pub id: Uuid,
    pub brand: usize,
    pub org: usize,
    pub name: String,
    pub def: &'static ProductDef,
    pub price: Decimal,
}

/// The central store's rows plus the model the other stores are generated from.
#[derive(Default)]
pub struct Central {
    pub orgs: Vec<Org>,
    pub brands: Vec<Brand>,
    pub products: Vec<Product>,
    pub staff: Vec<Uuid>,
    pub organizations: Vec<Organization>,
    pub sales_brands: Vec<SalesBrand>,
    pub sales_products: Vec<SalesProduct>,
    pub contacts: Vec<Contact>,
    pub plans: Vec<SubscriptionPlan>,
    pub subscriptions: Vec<Subscription>,
    pub users: Vec<PortalUser>,
}

fn legal_suffix(country: &str) -> &'static str {
    match country {
        "MX" => "S.A. de C.V.",
        "CO" => "S.A.S.",
        "CL" => "SpA",
        "US" => "Inc.",
        "UY" => "S.R.L.",
        _ => "S.A.",
    }
}

fn tax_id(rng: &mut Stream, country: &str, name: &str) -> String {
    let letters: String = ascii_slug(name)
        .to_ascii_uppercase()
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(3)
        .collect();
    let n: u64 = rng.random_range(10_000_000..99_999_999);
    match country {
        "MX" => format!(
            "{letters}{:06}{}",
            rng.random_range(100_101..=241_231),
            &format!("{n}")[..3]
        ),
        "CO" => format!("{}-{}", 900_000_000 + n % 99_999_999, n % 10),
        "AR" => format!("30-{n}-{}", n % 10),
        "CL" => format!(
            "76.{:03}.{:03}-{}",
            n % 1000,
            (n / 1000) % 1000,
            crate::identity::rut_check(76_000_000 + n % 1_000_000)
        ),
        "PE" => format!("20{n:09}"),
        "US" => format!("{:02}-{:07}", 10 + n % 89, n % 10_000_000),
        _ => format!("{n}"),
    }
}

fn price(rng: &mut Stream, def: &ProductDef) -> Decimal {
    let x = rng.random_range(def.min_usd..=def.max_usd);
    // Charm pricing: x.99 for cheap items, round tens minus a cent above 100.
    let cents = if x < 100.0 {
        (x.floor() as i64) * 100 + 99
    } else {
        ((x / 10.0).round() as i64) * 1000 - 1
    };
    Decimal::new(cents.max(99), 2)
}

const JOB_TITLES: [&str; 6] = [
    "Marketing Director",
    "Head of Growth",
    "Brand Manager",
    "Finance Manager",
    "Chief Executive Officer",
    "E-commerce Lead",
];

pub fn generate(ctx: &Ctx) -> Central {
    let spec = ctx.spec;
    let mut c = Central::default();
    let epoch = ctx.window_start - Duration::days(400);
    let mut pick_rng = stream(ctx.seed, "organizations", 0);
    let chosen = rng::sample(&mut pick_rng, ORGANIZATIONS.len(), spec.organizations);

    for (plan_index, p) in PLANS.iter().enumerate() {
        c.plans.push(SubscriptionPlan {
            id: p.id(),
            code: p.code,
            subsidiary: p.subsidiary,
            tier: p.tier,
            name: p.name,
            monthly_price: Decimal::from(p.monthly),
            annual_price: Decimal::from(p.annual),
            limits: serde_json::from_str(p.limits).expect("plan limits are JSON"),
            active: true,
            created_at: epoch - Duration::days(365) + Duration::hours(plan_index as i64),
        });
    }

    for (i, &def_index) in chosen.iter().enumerate() {
        let def = &ORGANIZATIONS[def_index];
        let mut r = stream(ctx.seed, "organization", i as u64);
        let id = rng::uuid(&mut r);
        let home = ctx.market_index(def.market);
        let created_at = rng::between(&mut r, epoch - Duration::days(900), epoch);
        // Footprint: home market plus others, larger markets more likely.
        let size = r.random_range(1..=spec.max_footprint);
        let mut footprint = vec![home];
        let weights: Vec<f64> = ctx.markets.iter().map(|m| m.def.weight).collect();
        while footprint.len() < size {
            let m = rng::weighted(&mut r, &weights);
            if !footprint.contains(&m) {
                footprint.push(m);
            }
        }
        let spanish = ctx.markets[home].def.language.starts_with("es");
        c.organizations.push(Organization {
            id,
            name: def.name,
            legal_name: Some(format!("{} {}", def.name, legal_suffix(def.market))),
            tax_id: Some(tax_id(&mut r, def.market, def.name)),
            country_code: ctx.markets[home].def.country,
            industry: Some(def.industry),
            status: "active",
            created_at,
        });

        // Brands and their products.
        let names: Vec<&str> = BRANDS.iter().filter(|b| b.0 == def.industry).map(|b| b.1).collect();
        let brand_count = r.random_range(1..=3.min(names.len()));
        let mut brands = Vec::new();
        for (bi, name_index) in rng::sample(&mut r, names.len(), brand_count).into_iter().enumerate() {
            let name = names[name_index].to_owned();
            let brand_id = rng::uuid(&mut r);
            let brand_created = rng::between(&mut r, created_at, created_at + Duration::days(120));
            let tld = def.domain.rsplit('.').next().unwrap_or("com");
            c.sales_brands.push(SalesBrand {
                id: brand_id,
                organization_id: id,
                name: name.clone(),
                description: Some(if spanish {
                    format!("Marca de {} para {}", def.name, ctx.markets[home].def.name)
                } else {
                    format!("{} brand by {}", name, def.name)
                }),
                website: Some(format!("https://www.{}.{tld}", ascii_slug(&name))),
                created_at: brand_created,
            });
            let brand_index = c.brands.len();
            let catalog: Vec<&'static ProductDef> = CATALOG.iter().filter(|p| p.industry == def.industry).collect();
            let count = r.random_range(3..=catalog.len().clamp(3, 6));
            let mut products = Vec::new();
            for (pi, ci) in rng::sample(&mut r, catalog.len(), count).into_iter().enumerate() {
                let pdef = catalog[ci];
                let base = if spanish { pdef.name_es } else { pdef.name_en };
                let name = format!("{name} {base}");
                let price = price(&mut r, pdef);
                let product_id = rng::uuid(&mut r);
                let code: String = ascii_slug(def.name).to_ascii_uppercase().chars().take(4).collect();
                c.sales_products.push(SalesProduct {
                    id: product_id,
                    brand_id,
                    organization_id: id,
                    sku: format!(
                        "{code}-{}{}-{:04}",
                        bi + 1,
                        pdef.category.chars().take(3).collect::<String>().to_ascii_uppercase(),
                        pi + 1
                    ),
                    name: name.clone(),
                    description: Some(format!("{base} — {}", pdef.category)),
                    category: Some(pdef.category),
                    unit_price: price,
                    currency: "USD",
                    active: true,
                    created_at: rng::between(&mut r, brand_created, brand_created + Duration::days(60)),
                });
                products.push(c.products.len());
                c.products.push(Product {
                    id: product_id,
                    brand: brand_index,
                    org: i,
                    name,
                    def: pdef,
                    price,
                });
            }
            brands.push(brand_index);
            c.brands.push(Brand {
                id: brand_id,
                org: i,
                name,
                products,
            });
        }

        // Contacts: a primary marketing contact and a billing one.
        for (k, title) in [JOB_TITLES[r.random_range(0..3)], JOB_TITLES[3]]
            .into_iter()
            .enumerate()
        {
            let female = r.random_bool(0.5);
            let full = format!(
                "{} {}",
                ctx.names.first(&mut r, spanish, female),
                ctx.names.last(&mut r, spanish)
            );
            let contact_id = rng::uuid(&mut r);
            let email = format!(
                "{}.{}{}@{}",
                ascii_slug(full.split(' ').next().unwrap_or("x")),
                ascii_slug(full.rsplit(' ').next().unwrap_or("y")),
                k,
                def.domain
            );
            let env = Envelope::new(ctx.keyring, &mut r);
            let email_aad = promptsales_platform::crypto::aad("sales.contacts.email", contact_id);
            let phone_aad = promptsales_platform::crypto::aad("sales.contacts.phone", contact_id);
            let phone = format!(
                "+{}{}",
                ctx.markets[home].def.phone_prefix,
                r.random_range(2_000_000_000_u64..9_999_999_999)
            );
            c.contacts.push(Contact {
                id: contact_id,
                organization_id: id,
                full_name: full,
                job_title: Some(title),
                email_enc: Some(env.seal(&mut r, &email_aad, &email)),
                email_bidx: Some(ctx.keyring.blind_index(
                    "sales.contacts.email",
                    &promptsales_platform::crypto::normalize_email(&email),
                )),
                phone_enc: Some(env.seal(&mut r, &phone_aad, &phone)),
                pii_key_id: Some(env.key_id),
                is_primary: k == 0,
                created_at: created_at + Duration::days(1 + k as i64),
            });
        }

        // Subscriptions: a bundle, or one to three subsidiary plans; some history.
        let bundle = r.random_bool(0.35);
        let tier = ["starter", "growth", "enterprise"][rng::weighted(&mut r, &[0.3, 0.5, 0.2])];
        let subs: Vec<&str> = if bundle {
            vec!["bundle"]
        } else {
            let all = ["ads", "crm", "content"];
            let n = r.random_range(1..=3);
            all[..n].to_vec()
        };
        for sub in subs {
            let plan = PLANS
                .iter()
                .find(|p| p.subsidiary == sub && p.tier == tier)
                .expect("every subsidiary has every tier");
            let started = rng::between(&mut r, created_at, created_at + Duration::days(60));
            let status = ["active", "active", "active", "active", "past_due", "trialing"][r.random_range(0..6)];
            let period_end = ctx.now + Duration::days(r.random_range(1..=30));
            c.subscriptions.push(Subscription {
                id: rng::uuid(&mut r),
                organization_id: id,
                plan_id: plan.id(),
                status,
                started_at: if status == "trialing" {
                    ctx.now - Duration::days(r.random_range(1..14))
                } else {
                    started
                },
                current_period_end: period_end,
                cancelled_at: None,
                seats: r.random_range(2..=25),
                created_at: started,
            });
            if r.random_bool(0.25) {
                // An earlier, smaller plan that was cancelled when they upgraded.
                let old = PLANS
                    .iter()
                    .find(|p| p.subsidiary == sub && p.tier == "starter")
                    .expect("starter plan");
                let old_start = started - Duration::days(r.random_range(120..400));
                c.subscriptions.push(Subscription {
                    id: rng::uuid(&mut r),
                    organization_id: id,
                    plan_id: old.id(),
                    status: "cancelled",
                    started_at: old_start,
                    current_period_end: started,
                    cancelled_at: Some(started - Duration::days(3)),
                    seats: r.random_range(1..=5),
                    created_at: old_start,
                });
            }
        }

        // Portal users.
        let full = ctx.profile == crate::spec::Profile::Full;
        let roles: Vec<&'static str> = std::iter::once("owner")
            .chain(std::iter::repeat_n("admin", r.random_range(1..=2)))
            .chain(std::iter::repeat_n(
                "marketer",
                if full { r.random_range(2..=5) } else { 2 },
            ))
            .chain(std::iter::repeat_n("analyst", r.random_range(1..=2)))
            .chain(std::iter::repeat_n("viewer", r.random_range(0..=2)))
            .collect();
        let (mut approvers, mut marketers) = (Vec::new(), Vec::new());
        for (k, role) in roles.into_iter().enumerate() {
            let female = r.random_bool(0.5);
            let first = ctx.names.first(&mut r, spanish, female);
            let last = ctx.names.last(&mut r, spanish);
            let email = format!("{}.{}{}@{}", ascii_slug(first), ascii_slug(last), k, def.domain);
            let user_id = rng::uuid(&mut r);
            let user_created = created_at + Duration::days(2 + k as i64 * 3);
            let status = if k > 2 && r.random_bool(0.08) {
                "invited"
            } else {
                "active"
            };
            c.users.push(user(
                ctx,
                &mut r,
                user_id,
                Some(id),
                &email,
                format!("{first} {last}"),
                role,
                status,
                user_created,
            ));
            match role {
                "owner" | "admin" => approvers.push(user_id),
                "marketer" => marketers.push(user_id),
                _ => {}
            }
        }
        c.orgs.push(Org {
            id,
            def,
            home,
            footprint,
            spanish,
            brands,
            approvers,
            marketers,
            created_at,
        });
    }

    // PromptSales staff: no organization.
    let mut r = stream(ctx.seed, "staff", 0);
    for k in 0..spec.staff_users {
        let female = r.random_bool(0.5);
        let spanish = r.random_bool(0.6);
        let first = ctx.names.first(&mut r, spanish, female);
        let last = ctx.names.last(&mut r, spanish);
        let email = format!("{}.{}{k}@promptsales.com", ascii_slug(first), ascii_slug(last));
        let id = rng::uuid(&mut r);
        c.users.push(user(
            ctx,
            &mut r,
            id,
            None,
            &email,
            format!("{first} {last}"),
            "staff",
            "active",
            epoch - Duration::days(300),
        ));
        c.staff.push(id);
    }
    c
}

#[allow(clippy::too_many_arguments)]
fn user(
    ctx: &Ctx,
    r: &mut Stream,
    id: Uuid,
    org: Option<Uuid>,
    email: &str,
    display_name: String,
    role: &'static str,
    status: &'static str,
    created_at: DateTime<Utc>,
) -> PortalUser {
    let env = Envelope::new(ctx.keyring, r);
    let aad = promptsales_platform::crypto::aad("sales.portal_users.email", id);
    PortalUser {
        id,
        organization_id: org,
        email_enc: env.seal(r, &aad, email),
        email_bidx: ctx.keyring.blind_index(
            "sales.portal_users.email",
            &promptsales_platform::crypto::normalize_email(email),
        ),
        display_name,
        role,
        status,
        last_login_at: (status == "active").then(|| ctx.now - Duration::minutes(r.random_range(5..60 * 24 * 30))),
        pii_key_id: env.key_id,
        created_at,
    }
}
