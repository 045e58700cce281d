//! `promptsales seed` end to end: the real binary into private databases, then SQL per store,
//! compared in Rust (the stores are separate databases, as in production).

use std::{collections::BTreeMap, process::Output};

use promptsales_platform::{Store, crypto::aad};
use promptsales_testkit::{
    SeededStores, TestDb,
    seeded::{TEST_BLIND_INDEX_KEY, TEST_KEKS},
};
use sqlx::Row;
use uuid::Uuid;

struct Stores {
    content: TestDb,
    ads: TestDb,
    crm: TestDb,
    sales: TestDb,
}

async fn fresh() -> Stores {
    Stores {
        content: TestDb::migrated(Store::Content).await,
        ads: TestDb::migrated(Store::Ads).await,
        crm: TestDb::migrated(Store::Crm).await,
        sales: TestDb::migrated(Store::Sales).await,
    }
}

fn seed(stores: &Stores, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"))
        .arg("seed")
        .args(args)
        .env("PROMPTSALES_CONTENT_URL", stores.content.url().expose().as_str())
        .env("PROMPTSALES_ADS_URL", stores.ads.url().expose().as_str())
        .env("PROMPTSALES_CRM_URL", stores.crm.url().expose().as_str())
        .env("PROMPTSALES_SALES_URL", stores.sales.url().expose().as_str())
        .env("PROMPTSALES_KEKS", TEST_KEKS)
        .env("PROMPTSALES_BLIND_INDEX_KEY", TEST_BLIND_INDEX_KEY)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run promptsales seed")
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "seed failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// md5 of every row of every seeded table (all columns but the store-set `updated_at`), per table.
async fn checksums(db: &TestDb, store: Store) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for table in promptsales_seeds::seeded_tables(store) {
        let (schema, name) = table.split_once('.').expect("schema-qualified");
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT quote_ident(column_name::text) FROM information_schema.columns
              WHERE table_schema = $1 AND table_name = $2 AND column_name <> 'updated_at' ORDER BY ordinal_position",
        )
        .bind(schema)
        .bind(name)
        .fetch_all(db.pool())
        .await
        .expect("columns");
        let sql = format!(
            "SELECT md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) FROM (SELECT ROW({})::text AS r FROM {table}) s",
            columns.join(", ")
        );
        let sum: String = sqlx::query_scalar(&sql).fetch_one(db.pool()).await.expect("checksum");
        out.insert(table.to_owned(), sum);
    }
    out
}

async fn all_checksums(s: &Stores) -> BTreeMap<String, String> {
    let mut all = checksums(&s.ads, Store::Ads).await;
    all.extend(checksums(&s.crm, Store::Crm).await);
    all.extend(checksums(&s.sales, Store::Sales).await);
    all.extend(checksums(&s.content, Store::Content).await);
    all
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

type Totals = BTreeMap<String, (i64, String)>;

/// Sales count and amount per key, from ads results and from crm sales.
async fn sales_by(stores: &Stores, ads_key: &str, crm_key: &str) -> (Totals, Totals) {
    let ads_sql = format!(
        "SELECT {ads_key} AS k, sum(sales)::bigint, sum(revenue)::text FROM ads.ad_results GROUP BY 1 HAVING sum(sales) > 0"
    );
    let crm_sql = format!(
        "SELECT {crm_key} AS k, count(*)::bigint, sum(amount_usd)::text FROM crm.sales WHERE deleted_at IS NULL GROUP BY 1"
    );
    let read = |rows: Vec<sqlx::postgres::PgRow>| -> Totals {
        rows.into_iter()
            .map(|r| (r.get::<String, _>(0), (r.get::<i64, _>(1), r.get::<String, _>(2))))
            .collect()
    };
    let ads = read(
        sqlx::query(&ads_sql)
            .fetch_all(stores.ads.pool())
            .await
            .expect("ads totals"),
    );
    let crm = read(
        sqlx::query(&crm_sql)
            .fetch_all(stores.crm.pool())
            .await
            .expect("crm totals"),
    );
    (ads, crm)
}

/// The rules that hold for any profile.
async fn check_consistency(s: &Stores) {
    // Sales count and amount agree per campaign and per (campaign, channel, market).
    let (ads, crm) = sales_by(s, "campaign_id::text", "campaign_id::text").await;
    assert!(!ads.is_empty());
    assert_eq!(ads, crm, "sales per campaign differ between PromptAds and PromptCrm");
    let key = "campaign_id::text || '/' || channel_id::text || '/' || market_id::text";
    let (ads, crm) = sales_by(s, key, key).await;
    assert_eq!(ads, crm, "sales per campaign, channel and market differ");

    // Campaigns link 400–1,000 customers each.
    let links: Vec<(String, i64)> =
        sqlx::query_as("SELECT campaign_id::text, count(*) FROM crm.campaign_customers GROUP BY 1")
            .fetch_all(s.crm.pool())
            .await
            .expect("links");
    let campaigns = count(&s.ads, "SELECT count(*) FROM ads.campaigns").await;
    assert_eq!(links.len() as i64, campaigns, "every campaign has linked customers");
    for (c, n) in &links {
        assert!((400..=1_000).contains(n), "campaign {c} links {n} customers");
    }

    // Customers who bought or interacted never exceed the audience reached; spend never the budget.
    let reach: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT campaign_id::text, sum(reach)::bigint FROM ads.ad_results GROUP BY 1",
    )
    .fetch_all(s.ads.pool())
    .await
    .expect("reach")
    .into_iter()
    .collect();
    let touched: Vec<(String, i64)> = sqlx::query_as(
        "SELECT campaign_id::text, count(DISTINCT customer_id) FROM (
            SELECT campaign_id, customer_id FROM crm.sales UNION ALL SELECT campaign_id, customer_id FROM crm.interactions
         ) t GROUP BY 1",
    )
    .fetch_all(s.crm.pool())
    .await
    .expect("touched");
    for (c, n) in touched {
        assert!(
            n <= reach[&c],
            "campaign {c}: {n} customers touched, reach {}",
            reach[&c]
        );
    }
    let over_budget = count(
        &s.ads,
        "SELECT count(*) FROM (SELECT c.id FROM ads.campaigns c JOIN ads.ad_results r ON r.campaign_id = c.id
          GROUP BY c.id, c.budget HAVING sum(r.cost) > c.budget) x",
    )
    .await;
    assert_eq!(over_budget, 0, "no campaign spends more than its budget");
    let funnel = count(
        &s.ads,
        "SELECT count(*) FROM ads.ad_results WHERE NOT (views >= interactions AND interactions >= sales)",
    )
    .await;
    assert_eq!(funnel, 0);
    // A minority of ads turns negative, and their influencers react less afterwards.
    let (negative, total): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT ad_id) FILTER (WHERE negative_type IS NOT NULL AND polarity < -0.2), count(DISTINCT ad_id)
           FROM ads.sentiment_samples",
    )
    .fetch_one(s.ads.pool())
    .await
    .expect("sentiment");
    assert!(
        negative > 0 && (negative as f64) < 0.2 * total as f64,
        "{negative} of {total} ads turn negative"
    );

    check_content(s).await;
}

/// PromptContent: real PNGs with descriptions and 3–8 hashtags, and requests and logs that name
/// campaigns and channels PromptAds holds.
async fn check_content(s: &Stores) {
    let images = count(&s.content, "SELECT count(*) FROM content.images").await;
    let spec_images = if count(&s.ads, "SELECT count(*) FROM ads.campaigns").await >= 1_000 {
        100
    } else {
        20
    };
    assert!(images >= spec_images, "{images} images");
    let bad = count(
        &s.content,
        "SELECT count(*) FROM content.images i JOIN content.image_blobs b ON b.image_id = i.id
          WHERE substring(b.data FROM 1 FOR 8) <> '\\x89504e470d0a1a0a'::bytea
             OR cardinality(i.hashtags) NOT BETWEEN 3 AND 8
             OR length(i.doc->>'description') < 200",
    )
    .await;
    assert_eq!(bad, 0, "every image is a PNG with a long description and 3–8 hashtags");
    let ads_campaigns: std::collections::BTreeSet<String> = sqlx::query_scalar("SELECT id::text FROM ads.campaigns")
        .fetch_all(s.ads.pool())
        .await
        .expect("campaigns")
        .into_iter()
        .collect();
    let channels: std::collections::BTreeSet<String> = sqlx::query_scalar("SELECT code FROM ads.channels")
        .fetch_all(s.ads.pool())
        .await
        .expect("channels")
        .into_iter()
        .collect();
    assert!(channels.contains("x"), "X is seeded: {channels:?}");
    let named: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT campaign_id::text, NULL FROM content.content_requests
         UNION ALL SELECT campaign_id::text, channel_code FROM content.campaign_logs",
    )
    .fetch_all(s.content.pool())
    .await
    .expect("content campaigns");
    let with_content: std::collections::BTreeSet<&String> = named.iter().map(|(c, _)| c).collect();
    assert!(
        with_content.len() * 5 >= ads_campaigns.len() && with_content.len() < ads_campaigns.len(),
        "content for a share of the campaigns: {} of {}",
        with_content.len(),
        ads_campaigns.len()
    );
    for (campaign, channel) in &named {
        assert!(
            ads_campaigns.contains(campaign),
            "content names campaign {campaign}, unknown to ads"
        );
        if let Some(channel) = channel {
            assert!(
                channels.contains(channel),
                "a log names channel {channel}, unknown to ads"
            );
        }
    }
}

#[tokio::test]
async fn should_seed_the_small_profile_consistently_across_the_stores() {
    let stores = fresh().await;
    let out = ok(&seed(&stores, &["--profile", "small"]));
    assert!(out.contains("small profile:"), "{out}");
    assert!(out.contains("crm.customers"), "{out}");
    check_consistency(&stores).await;
    assert_eq!(count(&stores.crm, "SELECT count(*) FROM crm.customers").await, 4_000);

    // PII is sealed under the configured keys and opens with the customer's own data key.
    let keyring = SeededStores::keyring();
    let row = sqlx::query(
        "SELECT c.id, c.email_enc, c.email_bidx, k.key_id, k.wrapped_dek FROM crm.customers c
           JOIN crm.customer_keys k ON k.customer_id = c.id ORDER BY c.id LIMIT 1",
    )
    .fetch_one(stores.crm.pool())
    .await
    .expect("a customer");
    let id: Uuid = row.get(0);
    let wrapped = promptsales_platform::crypto::WrappedKey {
        kek_id: row.get(3),
        sealed: row.get(4),
    };
    let key = keyring.unwrap(&wrapped).expect("the data key unwraps");
    let email = key
        .open(&row.get::<Vec<u8>, _>(1), &aad("crm.customers.email", id))
        .expect("the e-mail opens");
    let email = String::from_utf8(email.to_vec()).expect("utf-8");
    assert!(email.contains('@'), "{email}");
    let bidx: Vec<u8> = row.get(2);
    assert_eq!(
        bidx,
        keyring.blind_index(
            "crm.customers.email",
            &promptsales_platform::crypto::normalize_email(&email)
        )
    );
}

#[tokio::test]
async fn should_reseed_identically_with_the_same_seed_and_differently_with_another() {
    let (a, b, c) = (fresh().await, fresh().await, fresh().await);
    ok(&seed(&a, &["--profile", "small", "--seed", "11"]));
    ok(&seed(&b, &["--profile", "small", "--seed", "11"]));
    ok(&seed(&c, &["--profile", "small", "--seed", "12"]));
    let (sa, sb, sc) = (
        all_checksums(&a).await,
        all_checksums(&b).await,
        all_checksums(&c).await,
    );
    assert_eq!(sa, sb, "same seed and now, same data");
    for table in [
        "ads.campaigns",
        "ads.ad_results",
        "crm.customers",
        "crm.sales",
        "sales.organizations",
    ] {
        assert_ne!(sa[table], sc[table], "another seed changes {table}");
    }
}

#[tokio::test]
async fn should_refuse_a_store_with_data_and_replace_it_with_reset() {
    let stores = fresh().await;
    ok(&seed(&stores, &["--profile", "small", "--seed", "1"]));
    let before = all_checksums(&stores).await;
    let refused = seed(&stores, &["--profile", "small", "--seed", "2"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("already holds data") && err.contains("--reset"), "{err}");
    assert_eq!(all_checksums(&stores).await, before, "a refused seed changes nothing");

    ok(&seed(&stores, &["--profile", "small", "--seed", "2", "--reset"]));
    let after = all_checksums(&stores).await;
    assert_ne!(after["crm.customers"], before["crm.customers"]);
    check_consistency(&stores).await;
}

#[tokio::test]
async fn should_explain_bad_arguments() {
    let stores = fresh().await;
    let out = seed(&stores, &["--profile", "huge"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown profile `huge` (use small or full)"));
    let out = seed(&stores, &["--now", "yesterday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an RFC 3339 time"));
}

#[tokio::test]
async fn should_clone_the_seeded_small_templates_for_tests() {
    let seeded = SeededStores::small().await;
    let stores = Stores {
        content: seeded.content,
        ads: seeded.ads,
        crm: seeded.crm,
        sales: seeded.sales,
    };
    assert_eq!(count(&stores.ads, "SELECT count(*) FROM ads.campaigns").await, 24);
    check_consistency(&stores).await;
}

/// The business's acceptance numbers, on the full profile (about a minute).
#[tokio::test]
async fn should_seed_the_full_profile_as_the_business_asked() {
    let stores = fresh().await;
    let out = ok(&seed(&stores, &["--profile", "full"]));
    println!("{out}");
    assert!(count(&stores.ads, "SELECT count(*) FROM ads.campaigns").await >= 1_000);
    assert!(count(&stores.crm, "SELECT count(*) FROM crm.customers").await >= 500_000);

    // 30% active (started, ends after now), 70% finished (ended before now), ±1%.
    let now = "TIMESTAMPTZ '2025-10-31 23:59:59+00'";
    let total = count(&stores.ads, "SELECT count(*) FROM ads.campaigns").await as f64;
    let active = count(
        &stores.ads,
        &format!(
            "SELECT count(*) FROM ads.campaigns WHERE status = 'active' AND starts_at <= {now} AND ends_at > {now}"
        ),
    )
    .await as f64;
    let finished = count(
        &stores.ads,
        &format!("SELECT count(*) FROM ads.campaigns WHERE status = 'finished' AND ends_at < {now}"),
    )
    .await as f64;
    assert!((active / total - 0.30).abs() <= 0.01, "active share {}", active / total);
    assert!(
        (finished / total - 0.70).abs() <= 0.01,
        "finished share {}",
        finished / total
    );
    assert_eq!(active + finished, total);

    // Starts between July 2024 and October 2025, with December, January and August peaks.
    let outside = count(
        &stores.ads,
        &format!("SELECT count(*) FROM ads.campaigns WHERE starts_at < TIMESTAMPTZ '2024-07-01 00:00+00' OR starts_at > {now}"),
    )
    .await;
    assert_eq!(outside, 0);
    let months: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT to_char(m, 'YYYY-MM'), (SELECT count(*) FROM ads.campaigns WHERE date_trunc('month', starts_at AT TIME ZONE 'UTC') = m)
           FROM generate_series(TIMESTAMP '2024-07-01', TIMESTAMP '2025-10-01', INTERVAL '1 month') m",
    )
    .fetch_all(stores.ads.pool())
    .await
    .expect("months")
    .into_iter()
    .collect();
    assert_eq!(months.len(), 16);
    let mut sorted: Vec<i64> = months.values().copied().collect();
    sorted.sort_unstable();
    let median = (sorted[7] + sorted[8]) as f64 / 2.0;
    for peak in ["2024-08", "2024-12", "2025-01", "2025-08"] {
        assert!(
            months[peak] as f64 > 1.5 * median,
            "{peak}: {} starts, median {median}: {months:?}",
            months[peak]
        );
    }

    check_consistency(&stores).await;
}

/// Rows per seeded table of a PostgreSQL store.
async fn table_counts(db: &TestDb, store: Store) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for table in promptsales_seeds::seeded_tables(store) {
        out.insert(
            table.to_owned(),
            count(db, &format!("SELECT count(*) FROM {table}")).await,
        );
    }
    out
}

fn seed_with(urls: &[(Store, &promptsales_platform::StoreUrl)], args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"));
    command
        .arg("seed")
        .args(args)
        .env("PROMPTSALES_KEKS", TEST_KEKS)
        .env("PROMPTSALES_BLIND_INDEX_KEY", TEST_BLIND_INDEX_KEY)
        .env("RUST_BACKTRACE", "0");
    for (store, url) in urls {
        command.env(
            format!("PROMPTSALES_{}_URL", store.name().to_uppercase()),
            url.expose().as_str(),
        );
    }
    command.output().expect("run promptsales seed")
}

fn migrate(store: Store, url: &promptsales_platform::StoreUrl) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptsales"))
        .args(["migrate", "--store", store.name()])
        .env(
            format!("PROMPTSALES_{}_URL", store.name().to_uppercase()),
            url.expose().as_str(),
        )
        .output()
        .expect("run promptsales migrate");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// PromptContent on MongoDB receives the same documents as its PostgreSQL twin, through the
/// validators; a second seed is refused and `--reset` replaces the data.
#[tokio::test]
#[ignore = "needs a MongoDB: set PROMPTSALES_MONGO_URL"]
async fn should_seed_content_into_mongodb_as_into_its_postgres_twin() {
    let twin = fresh().await;
    ok(&seed(&twin, &["--profile", "small"]));
    let expected = table_counts(&twin.content, Store::Content).await;

    let mongo = promptsales_testkit::remote::mongo_database();
    migrate(Store::Content, &mongo);
    let stores = fresh().await;
    let urls = [
        (Store::Content, &mongo),
        (Store::Ads, stores.ads.url()),
        (Store::Crm, stores.crm.url()),
        (Store::Sales, stores.sales.url()),
    ];
    let first = seed_with(&urls, &["--profile", "small"]);
    let again = seed_with(&urls, &["--profile", "small"]);
    let reset = seed_with(&urls, &["--profile", "small", "--reset"]);

    let client = mongodb::Client::with_uri_str(mongo.expose().as_str())
        .await
        .expect("client");
    let db = client.database(mongo.database().expect("database"));
    let mut found = BTreeMap::new();
    for table in expected.keys() {
        let collection = table.trim_start_matches("content.");
        let n = db
            .collection::<bson::Document>(collection)
            .count_documents(bson::doc! {})
            .await
            .expect("count");
        found.insert(table.clone(), n as i64);
    }
    promptsales_testkit::remote::drop_mongo(&mongo).await;

    ok(&first);
    assert!(!again.status.success(), "a second seed is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));
    ok(&reset);
    assert_eq!(found, expected, "documents per collection = rows per twin table");
}

/// PromptAds and PromptCrm on SQL Server: the same rows as on PostgreSQL, and sales per campaign
/// agree between the two SQL Server stores.
#[tokio::test]
#[ignore = "needs a SQL Server: set PROMPTSALES_MSSQL_URL"]
async fn should_seed_ads_and_crm_into_sql_server_as_into_postgres() {
    let twin = fresh().await;
    ok(&seed(&twin, &["--profile", "small"]));
    let ads_url = promptsales_testkit::remote::mssql_database();
    let crm_url = promptsales_testkit::remote::mssql_database();
    migrate(Store::Ads, &ads_url);
    migrate(Store::Crm, &crm_url);
    let stores = fresh().await;
    let out = seed_with(
        &[
            (Store::Content, stores.content.url()),
            (Store::Ads, &ads_url),
            (Store::Crm, &crm_url),
            (Store::Sales, stores.sales.url()),
        ],
        &["--profile", "small"],
    );

    async fn query(url: &promptsales_platform::StoreUrl, sql: &str) -> Vec<(String, i64, String)> {
        let mut client = promptsales_platform::mssql::connect(url, url.database().expect("db"), "seed-test")
            .await
            .expect("connect");
        let rows = client
            .simple_query(sql)
            .await
            .expect("query")
            .into_first_result()
            .await
            .expect("rows");
        rows.iter()
            .map(|r| {
                (
                    r.get::<&str, _>(0).unwrap_or_default().to_owned(),
                    r.get::<i64, _>(1).unwrap_or_default(),
                    r.get::<&str, _>(2).unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
    let mut counts = BTreeMap::new();
    for (store, url) in [(Store::Ads, &ads_url), (Store::Crm, &crm_url)] {
        for table in promptsales_seeds::seeded_tables(store) {
            let n = query(
                url,
                &format!("SELECT '{table}', CAST(COUNT_BIG(*) AS BIGINT), '' FROM {table}"),
            )
            .await;
            counts.insert(table.to_owned(), n[0].1);
        }
    }
    let ads_sales = query(
        &ads_url,
        "SELECT LOWER(CONVERT(NVARCHAR(36), campaign_id)), CAST(SUM(CAST(sales AS BIGINT)) AS BIGINT),
                CONVERT(NVARCHAR(50), SUM(revenue))
           FROM ads.ad_results GROUP BY campaign_id HAVING SUM(sales) > 0 ORDER BY 1",
    )
    .await;
    let crm_sales = query(
        &crm_url,
        "SELECT LOWER(CONVERT(NVARCHAR(36), campaign_id)), COUNT_BIG(*), CONVERT(NVARCHAR(50), SUM(amount_usd))
           FROM crm.sales WHERE deleted_at IS NULL GROUP BY campaign_id ORDER BY 1",
    )
    .await;
    promptsales_testkit::remote::drop_mssql(&ads_url).await;
    promptsales_testkit::remote::drop_mssql(&crm_url).await;

    ok(&out);
    let mut expected = table_counts(&twin.ads, Store::Ads).await;
    expected.extend(table_counts(&twin.crm, Store::Crm).await);
    assert_eq!(counts, expected, "rows per table on SQL Server = on PostgreSQL");
    assert!(!ads_sales.is_empty());
    assert_eq!(ads_sales, crm_sales, "sales per campaign agree between ads and crm");
}
