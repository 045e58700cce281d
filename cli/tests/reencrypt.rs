//! `promptsales reencrypt` over the small seed: after adding a new KEK as the active one and
//! re-wrapping, the old KEK can be dropped from the keyring and every sealed value of the crm,
//! sales and content stores still opens, to the same plaintext; a second run changes nothing; a
//! key whose KEK is not configured is reported, never skipped silently; and the command refuses
//! to start without an active KEK.

use std::process::{Command, Output};

use promptsales_platform::{
    Store,
    crypto::{Keyring, WrappedKey, aad},
};
use promptsales_seeds::pii::open_envelope;
use promptsales_testkit::{
    SeededStores,
    seeded::{TEST_BLIND_INDEX_KEY, TEST_KEKS},
};
use sqlx::PgPool;
use uuid::Uuid;

/// The new KEK of the rotation (a fixed test value).
const NEW_KEK: &str = "rot-2027:TmV3LUtFSy1mb3ItdGhlLXJlZW5jcnlwdC10ZXN0cyE=";

fn command(stores: &SeededStores, keks: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsales"));
    cmd.arg("reencrypt").args(args);
    for store in Store::ALL {
        cmd.env_remove(format!("PROMPTSALES_{}_URL", store.name().to_uppercase()));
    }
    cmd.env("PROMPTSALES_CRM_URL", stores.crm.url().expose().as_str())
        .env("PROMPTSALES_SALES_URL", stores.sales.url().expose().as_str())
        .env("PROMPTSALES_CONTENT_URL", stores.content.url().expose().as_str())
        .env("PROMPTSALES_BLIND_INDEX_KEY", TEST_BLIND_INDEX_KEY);
    match keks {
        Some(k) => cmd.env("PROMPTSALES_KEKS", k),
        None => cmd.env_remove("PROMPTSALES_KEKS"),
    };
    cmd
}

fn run(stores: &SeededStores, keks: Option<&str>, args: &[&str]) -> Output {
    command(stores, keks, args).output().expect("run promptsales")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "reencrypt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The report line of one table: (re-wrapped, failed).
fn counts(report: &str, table: &str) -> (u64, u64) {
    let line = report
        .lines()
        .find(|l| l.starts_with(table))
        .unwrap_or_else(|| panic!("no line for {table} in {report}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[2].parse().expect("count"), words[4].parse().expect("count"))
}

fn ring(keks: &str) -> Keyring {
    Keyring::parse(keks, TEST_BLIND_INDEX_KEY).expect("valid test keys")
}

/// A customer's id, KEK id, wrapped data key, sealed e-mail and sealed phone.
type CustomerKeyRow = (Uuid, String, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

/// Every sealed value of the three stores, opened with `keyring`, in a fixed order.
async fn open_all(stores: &SeededStores, keyring: &Keyring) -> Vec<String> {
    let mut clear = Vec::new();
    let customers: Vec<CustomerKeyRow> = sqlx::query_as(
        "SELECT c.id, k.key_id, k.wrapped_dek, c.email_enc, c.phone_enc
         FROM crm.customers c JOIN crm.customer_keys k ON k.customer_id = c.id ORDER BY c.id",
    )
    .fetch_all(stores.crm.pool())
    .await
    .expect("customers");
    assert!(customers.len() > 50, "the small seed has customers");
    for (id, kek_id, sealed, email, phone) in customers {
        let key = keyring
            .unwrap(&WrappedKey { kek_id, sealed })
            .unwrap_or_else(|e| panic!("customer {id}: {e}"));
        for (column, value) in [("crm.customers.email", email), ("crm.customers.phone", phone)] {
            if let Some(value) = value {
                let plain = key.open(&value, &aad(column, id)).expect("opens");
                clear.push(String::from_utf8(plain.to_vec()).expect("utf-8"));
            }
        }
    }
    let sales = stores.sales.pool();
    for (table, column) in [("contacts", "email"), ("portal_users", "email")] {
        let rows: Vec<(Uuid, String, Vec<u8>)> = sqlx::query_as(&format!(
            "SELECT id, pii_key_id, {column}_enc FROM sales.{table} WHERE {column}_enc IS NOT NULL ORDER BY id"
        ))
        .fetch_all(sales)
        .await
        .expect("sales rows");
        assert!(!rows.is_empty(), "the small seed has {table}");
        for (id, key_id, sealed) in rows {
            let purpose = format!("sales.{table}.{column}");
            let plain = open_envelope(keyring, &key_id, &aad(&purpose, id), &sealed)
                .unwrap_or_else(|| panic!("{table} {id} does not open"));
            clear.push(plain);
        }
    }
    let integrations: Vec<(Uuid, String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, credentials_key_id, credentials_enc FROM content.integrations
         WHERE credentials_enc IS NOT NULL ORDER BY id",
    )
    .fetch_all(stores.content.pool())
    .await
    .expect("integrations");
    assert!(
        !integrations.is_empty(),
        "the small seed has integrations with credentials"
    );
    for (id, key_id, sealed) in integrations {
        let plain = open_envelope(keyring, &key_id, b"content.integrations.credentials", &sealed)
            .unwrap_or_else(|| panic!("integration {id} does not open"));
        clear.push(plain);
    }
    clear
}

async fn kek_ids(pool: &PgPool, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(pool).await.expect("kek ids")
}

#[tokio::test]
async fn should_rewrap_every_data_key_so_the_old_kek_can_be_removed() {
    let stores = SeededStores::small().await;
    let old = ring(TEST_KEKS);
    let before = open_all(&stores, &old).await;
    let rotating = format!("{NEW_KEK},{TEST_KEKS}");

    // In two steps, as an interrupted run would leave it: crm first, then everything.
    let crm_only = stdout(&run(&stores, Some(&rotating), &["--store", "crm", "--batch", "7"]));
    let (rewrapped, failed) = counts(&crm_only, "crm.customer_keys");
    assert!(rewrapped > 50 && failed == 0, "{crm_only}");
    let all = stdout(&run(&stores, Some(&rotating), &["--batch", "7"]));
    assert_eq!(counts(&all, "crm.customer_keys"), (0, 0), "crm was done already: {all}");
    for table in ["sales.contacts", "sales.portal_users", "content.integrations"] {
        let (rewrapped, failed) = counts(&all, table);
        assert!(rewrapped > 0 && failed == 0, "{table}: {all}");
    }

    let new_only = ring(NEW_KEK);
    assert_eq!(
        open_all(&stores, &new_only).await,
        before,
        "same plaintext under the new KEK alone"
    );
    for (pool, sql) in [
        (stores.crm.pool(), "SELECT DISTINCT key_id FROM crm.customer_keys"),
        (
            stores.sales.pool(),
            "SELECT DISTINCT split_part(pii_key_id, ':', 1) FROM sales.contacts WHERE pii_key_id IS NOT NULL",
        ),
        (
            stores.sales.pool(),
            "SELECT DISTINCT split_part(pii_key_id, ':', 1) FROM sales.portal_users",
        ),
        (
            stores.content.pool(),
            "SELECT DISTINCT split_part(credentials_key_id, ':', 1) FROM content.integrations
             WHERE credentials_key_id IS NOT NULL",
        ),
    ] {
        assert_eq!(kek_ids(pool, sql).await, ["rot-2027"], "{sql}");
    }
    let rotated: i64 = sqlx::query_scalar("SELECT count(*) FROM crm.customer_keys WHERE rotated_at IS NULL")
        .fetch_one(stores.crm.pool())
        .await
        .expect("rotated_at");
    assert_eq!(rotated, 0, "every re-wrapped key says when");
    // The table holds ciphertext, not the values.
    let email = before.first().expect("a value").clone();
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM crm.customers WHERE position(convert_to($1, 'UTF8') in email_enc) > 0",
    )
    .bind(&email)
    .fetch_one(stores.crm.pool())
    .await
    .expect("scan");
    assert_eq!(leaked, 0);

    // Nothing left: a run with the new KEK alone changes nothing.
    let wrapped: Vec<Vec<u8>> = sqlx::query_scalar("SELECT wrapped_dek FROM crm.customer_keys ORDER BY customer_id")
        .fetch_all(stores.crm.pool())
        .await
        .expect("wrapped");
    let again = stdout(&run(&stores, Some(NEW_KEK), &[]));
    for table in [
        "crm.customer_keys",
        "sales.contacts",
        "sales.portal_users",
        "content.integrations",
    ] {
        assert_eq!(counts(&again, table), (0, 0), "{again}");
    }
    let after: Vec<Vec<u8>> = sqlx::query_scalar("SELECT wrapped_dek FROM crm.customer_keys ORDER BY customer_id")
        .fetch_all(stores.crm.pool())
        .await
        .expect("wrapped");
    assert_eq!(after, wrapped);
}

#[tokio::test]
async fn should_report_keys_under_an_unconfigured_kek_and_fail_after_doing_the_rest() {
    let stores = SeededStores::small().await;
    let lost: Uuid = sqlx::query_scalar(
        "UPDATE crm.customer_keys SET key_id = 'lost-kek'
         WHERE customer_id = (SELECT min(customer_id::text)::uuid FROM crm.customer_keys) RETURNING customer_id",
    )
    .fetch_one(stores.crm.pool())
    .await
    .expect("a key under an unknown KEK");
    let out = run(
        &stores,
        Some(&format!("{NEW_KEK},{TEST_KEKS}")),
        &["--store", "crm", "--batch", "10"],
    );
    assert!(!out.status.success());
    let (report, errors) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let (rewrapped, failed) = counts(&report, "crm.customer_keys");
    assert!(rewrapped > 50, "{report}");
    assert_eq!(failed, 1, "{report}");
    assert!(errors.contains("unknown key-encryption key `lost-kek`"), "{errors}");
    let left: String = sqlx::query_scalar("SELECT key_id FROM crm.customer_keys WHERE customer_id = $1")
        .bind(lost)
        .fetch_one(stores.crm.pool())
        .await
        .expect("the lost key");
    assert_eq!(left, "lost-kek", "left as it was");
}

#[tokio::test]
async fn should_refuse_to_start_without_the_expected_active_kek() {
    let stores = SeededStores::small().await;
    let none = run(&stores, None, &[]);
    assert!(!none.status.success());
    let errors = String::from_utf8_lossy(&none.stderr);
    assert!(errors.contains("no active key-encryption key"), "{errors}");

    let stale = run(&stores, Some(TEST_KEKS), &["--expect-active", "rot-2027"]);
    assert!(!stale.status.success());
    let errors = String::from_utf8_lossy(&stale.stderr);
    assert!(
        errors.contains("the active KEK is `test-kek`, not `rot-2027`"),
        "{errors}"
    );
    let untouched: i64 = sqlx::query_scalar("SELECT count(*) FROM crm.customer_keys WHERE key_id <> 'test-kek'")
        .fetch_one(stores.crm.pool())
        .await
        .expect("count");
    assert_eq!(untouched, 0);
}
