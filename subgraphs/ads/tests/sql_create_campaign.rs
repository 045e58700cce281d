//! `ads.pradssp_create_campaign`, the PostgreSQL twin of `ads.PRADSSP_CreateCampaign`, called in
//! SQL as a database client would: a campaign and its children in one call and one transaction,
//! bad input refused with nothing written. And the measurement behind sql/ads/README.md's
//! "set-based vs row by row" figures (an ignored test that prints them).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use promptsales_platform::Store;
use promptsales_testkit::{SeededStores, TestDb};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

/// One call: the children travel as arrays of the composite types (the twin of the table-valued
/// parameters), built here from bound scalar arrays with unnest.
const CREATE: &str = "SELECT campaign_id, replayed FROM ads.pradssp_create_campaign(
    $1, NULL, $2, NULL, $3, NULL, 'sales', $4, 'USD', $5, $6, NULL, NULL,
    ARRAY(SELECT ROW(c, s)::ads.campaign_channel_item FROM unnest($7::text[], $8::numeric[]) AS t (c, s)),
    ARRAY(SELECT ROW(m)::ads.campaign_market_item FROM unnest($9::text[]) AS t (m)),
    ARRAY(SELECT ROW(i, n, f, NULL, NULL, NULL, NULL, NULL)::ads.campaign_ad_item
          FROM unnest($10::uuid[], $11::text[], $12::text[]) WITH ORDINALITY AS t (i, n, f, o) ORDER BY o))";

struct Request {
    id: Uuid,
    brand: Uuid,
    budget: Decimal,
    channels: Vec<(String, Decimal)>,
    markets: Vec<String>,
    ads: Vec<(Uuid, String, String)>,
}

impl Request {
    fn new(brand: Uuid, ads: usize) -> Request {
        Request {
            id: Uuid::new_v4(),
            brand,
            budget: Decimal::new(2_500_000, 2),
            channels: vec![
                ("instagram".into(), Decimal::new(6, 1)),
                ("facebook".into(), Decimal::new(4, 1)),
            ],
            markets: vec!["MX".into(), "US".into()],
            ads: (0..ads)
                .map(|i| (Uuid::new_v4(), format!("Creative {i}"), "image".into()))
                .collect(),
        }
    }

    async fn send(&self, pool: &PgPool) -> Result<(Uuid, bool), sqlx::Error> {
        sqlx::query_as(CREATE)
            .bind(self.id)
            .bind(self.brand)
            .bind(format!("Spring launch {}", self.id))
            .bind(self.budget)
            .bind(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap())
            .bind(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap())
            .bind(self.channels.iter().map(|c| c.0.clone()).collect::<Vec<_>>())
            .bind(self.channels.iter().map(|c| c.1).collect::<Vec<_>>())
            .bind(&self.markets)
            .bind(self.ads.iter().map(|a| a.0).collect::<Vec<_>>())
            .bind(self.ads.iter().map(|a| a.1.clone()).collect::<Vec<_>>())
            .bind(self.ads.iter().map(|a| a.2.clone()).collect::<Vec<_>>())
            .fetch_one(pool)
            .await
    }
}

/// Rows in the tables a creation writes.
async fn counts(pool: &PgPool) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM ads.campaigns), (SELECT count(*) FROM ads.campaign_channels),
                (SELECT count(*) FROM ads.campaign_markets), (SELECT count(*) FROM ads.ads)",
    )
    .fetch_one(pool)
    .await
    .expect("counts")
}

async fn a_brand(pool: &PgPool) -> Uuid {
    sqlx::query_scalar("SELECT id FROM ads.brands WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
        .fetch_one(pool)
        .await
        .expect("a seeded brand")
}

/// The SQLSTATE, DETAIL (field) and HINT (rule) of a refused call.
fn refusal(e: sqlx::Error) -> (String, String, String) {
    let db = e.as_database_error().expect("a database error");
    let pg = db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .expect("PostgreSQL");
    (
        pg.code().to_owned(),
        pg.detail().unwrap_or_default().to_owned(),
        pg.hint().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn should_create_a_campaign_with_its_children_in_one_call() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let before = counts(pool).await;
    let request = Request::new(a_brand(pool).await, 25);
    let (id, replayed) = request.send(pool).await.expect("created");
    assert_eq!((id, replayed), (request.id, false));
    assert_eq!(
        counts(pool).await,
        (before.0 + 1, before.1 + 2, before.2 + 2, before.3 + 25)
    );
    let ads: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM ads.ads WHERE campaign_id = $1 ORDER BY name")
        .bind(id)
        .fetch_all(pool)
        .await
        .expect("ads");
    let mut sent: Vec<(String, Uuid)> = request.ads.iter().map(|a| (a.1.clone(), a.0)).collect();
    sent.sort();
    assert_eq!(
        ads,
        sent.into_iter().map(|a| a.1).collect::<Vec<_>>(),
        "the caller's ids"
    );
}

#[tokio::test]
async fn should_refuse_bad_input_naming_the_field_and_write_nothing() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    let brand = a_brand(pool).await;
    let before = counts(pool).await;
    /// What the case is, how it spoils a good request, and the field and rule of the refusal.
    type Case<'a> = (&'a str, Box<dyn Fn(&mut Request)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no budget",
            Box::new(|r| r.budget = Decimal::ZERO),
            "budget",
            "positive",
        ),
        (
            "shares over 1",
            Box::new(|r| r.channels[1].1 = Decimal::new(5, 1)),
            "channels",
            "budget_share_sum",
        ),
        (
            "unknown channel",
            Box::new(|r| r.channels[0].0 = "myspace".into()),
            "channels",
            "unknown_code",
        ),
        (
            "unknown market",
            Box::new(|r| r.markets.push("ZZ".into())),
            "markets",
            "unknown_code",
        ),
        (
            "bad format on the last ad",
            Box::new(|r| r.ads.last_mut().expect("ads").2 = "hologram".into()),
            "ads.format",
            "enum",
        ),
        (
            "no such brand",
            Box::new(|r| r.brand = Uuid::new_v4()),
            "brandId",
            "not_found",
        ),
    ];
    for (what, spoil, field, rule) in cases {
        let mut request = Request::new(brand, 40);
        spoil(&mut request);
        let error = request.send(pool).await.expect_err(what);
        assert_eq!(refusal(error), ("PA001".into(), field.into(), rule.into()), "{what}");
        assert_eq!(counts(pool).await, before, "{what}: nothing written");
    }
}

#[tokio::test]
async fn should_roll_back_the_campaign_when_a_child_fails_to_insert() {
    let stores = SeededStores::small().await;
    let pool = stores.ads.pool();
    // A fault injected below the function: inserting the ad named "boom" fails after the
    // campaign, its links and the other ads were written by the same call.
    sqlx::raw_sql(
        "CREATE FUNCTION test_fail_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.name = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER fail_on_boom BEFORE INSERT ON ads.ads FOR EACH ROW EXECUTE FUNCTION test_fail_on_boom();",
    )
    .execute(pool)
    .await
    .expect("fault injection");
    let before = counts(pool).await;
    let mut request = Request::new(a_brand(pool).await, 30);
    request.ads.last_mut().expect("ads").1 = "boom".into();
    let error = request.send(pool).await.expect_err("the injected failure");
    assert!(error.to_string().contains("injected failure"), "{error}");
    assert_eq!(counts(pool).await, before, "the whole call was rolled back");
}

/// Inserts the same campaign row by row: one statement, one round trip, per row.
async fn create_row_by_row(pool: &PgPool, r: &Request) {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO ads.campaigns (id, organization_id, brand_id, name, objective, status, budget, currency,
                                    starts_at, ends_at, version)
         SELECT $1, b.organization_id, b.id, $3, 'sales', 'draft', $4, 'USD', $5, $6, 1 FROM ads.brands b WHERE b.id = $2",
    )
    .bind(r.id)
    .bind(r.brand)
    .bind(format!("Spring launch {}", r.id))
    .bind(r.budget)
    .bind(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap())
    .bind(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap())
    .execute(&mut *tx)
    .await
    .expect("campaign");
    for (code, share) in &r.channels {
        sqlx::query(
            "INSERT INTO ads.campaign_channels (campaign_id, channel_id, budget_share)
             SELECT $1, id, $3 FROM ads.channels WHERE code = $2",
        )
        .bind(r.id)
        .bind(code)
        .bind(share)
        .execute(&mut *tx)
        .await
        .expect("channel");
    }
    for code in &r.markets {
        sqlx::query(
            "INSERT INTO ads.campaign_markets (campaign_id, market_id) SELECT $1, id FROM ads.markets WHERE code = $2",
        )
        .bind(r.id)
        .bind(code)
        .execute(&mut *tx)
        .await
        .expect("market");
    }
    for (id, name, format) in &r.ads {
        sqlx::query("INSERT INTO ads.ads (id, campaign_id, name, format, status) VALUES ($1, $2, $3, $4, 'draft')")
            .bind(id)
            .bind(r.id)
            .bind(name)
            .bind(format)
            .execute(&mut *tx)
            .await
            .expect("ad");
    }
    tx.commit().await.expect("commit");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Run with `cargo nextest run --workspace --run-ignored only -E 'test(measure_)' --no-capture`.
#[tokio::test]
#[ignore = "a measurement, not a check: prints the figures of sql/ads/README.md"]
async fn measure_set_based_creation_against_row_by_row() {
    let db = TestDb::migrated(Store::Ads).await;
    let pool = db.pool();
    let (brand, org) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query("INSERT INTO ads.brands (id, organization_id, name) VALUES ($1, $2, 'Bench brand')")
        .bind(brand)
        .bind(org)
        .execute(pool)
        .await
        .expect("brand");
    for code in ["instagram", "facebook"] {
        let id = promptsales_platform::ids::reference_id(promptsales_platform::ids::RefKind::Channel, code);
        sqlx::query(
            "INSERT INTO ads.channels (id, code, name, kind) VALUES ($1, $2, $2, 'social') ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(code)
        .execute(pool)
        .await
        .expect("channel");
    }
    for (code, country) in [("MX", "MX"), ("US", "US")] {
        let id = promptsales_platform::ids::reference_id(promptsales_platform::ids::RefKind::Market, code);
        sqlx::query(
            "INSERT INTO ads.markets (id, code, country_code, region, name, currency, timezone)
             VALUES ($1, $2, $3, 'NA', $2, 'USD', 'America/Mexico_City') ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(code)
        .bind(country)
        .execute(pool)
        .await
        .expect("market");
    }
    println!("| ads per campaign | set-based, one call (median) | row by row, N+5 statements (median) | ratio |");
    println!("|---:|---:|---:|---:|");
    for n in [1, 10, 100, 1000] {
        let reps = if n >= 1000 { 7 } else { 21 };
        let (mut set_based, mut row_by_row) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let r = Request::new(brand, n);
            let t = Instant::now();
            r.send(pool).await.expect("set-based");
            set_based.push(t.elapsed());
            let r = Request::new(brand, n);
            let t = Instant::now();
            create_row_by_row(pool, &r).await;
            row_by_row.push(t.elapsed());
        }
        let (a, b) = (median(set_based), median(row_by_row));
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {:.1}x |",
            a.as_secs_f64() * 1e3,
            b.as_secs_f64() * 1e3,
            b.as_secs_f64() / a.as_secs_f64()
        );
    }
}
