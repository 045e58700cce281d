//! `sql/crm/postgres/scripts/02_encrypted_backup_restore.sh` on a seeded crm clone: it encrypts
//! national ids and context under a key the database does not hold, dumps the database, starts a
//! second PostgreSQL on another port and data directory, restores there, and reads the copy with
//! no key, a wrong key and the right key. The key is generated here for the run.

use std::{path::Path, process::Command};

use promptsales_testkit::SeededStores;
use rand::Rng;

#[tokio::test]
async fn should_restore_ciphertext_that_only_the_restored_key_can_read_on_a_second_server() {
    let stores = SeededStores::small().await;
    let pool = stores.crm.pool();
    let customers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM crm.customers WHERE deleted_at IS NULL AND erased_at IS NULL")
            .fetch_one(pool)
            .await
            .expect("customers");
    assert!(customers > 100);

    let kek: String = (0..43)
        .map(|_| {
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
            alphabet[rand::rng().random_range(0..alphabet.len())] as char
        })
        .collect();
    // Only this user may read the key file, removed as soon as the script has run.
    let kek_file = std::env::temp_dir().join(format!("ps_crm_kek_{:016x}", rand::rng().random::<u64>()));
    {
        use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&kek_file)
            .expect("create the key file");
        f.write_all(kek.as_bytes()).expect("write the key file");
    }

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/crm/postgres/scripts/02_encrypted_backup_restore.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(stores.crm.url().expose().as_str())
        .arg(&kek_file)
        .output()
        .expect("run the script");
    let _ = std::fs::remove_file(&kek_file);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stdout}\n--- stderr\n{stderr}");
    assert!(
        !stdout.contains(&kek) && !stderr.contains(&kek),
        "the key is never printed"
    );

    // The four reads, in order: the source's round trip, then no key, wrong key, restored key.
    let counts: Vec<(i64, i64, String)> = stdout
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                [a, b, c] => Some((a.parse().ok()?, b.parse().ok()?, (*c).to_owned())),
                _ => None,
            }
        })
        .collect();
    assert_eq!(
        counts,
        [
            (customers, customers, String::new()),
            (
                customers,
                0,
                "no key-encryption key on this server: crm_vault.kek is not set".to_owned()
            ),
            (customers, 0, "Wrong key or corrupt data".to_owned()),
            (customers, customers, String::new()),
        ],
        "{stdout}"
    );
    assert!(stdout.contains("key in the backup: no"), "{stdout}");
    // The restored copy shows ciphertext: PGP messages opening with a symmetric-key session
    // key packet (new-format tag 3, byte 0xc3), not text.
    let ciphertexts = stdout.lines().filter(|l| l.trim_start().starts_with("c3")).count();
    assert_eq!(ciphertexts, 9, "three rows in each of the three reads: {stdout}");

    // It really was another server, and it is gone.
    let port = stdout
        .lines()
        .find_map(|l| l.strip_prefix("second server: 127.0.0.1:"))
        .and_then(|l| l.split(',').next())
        .expect("the second server's port");
    assert_ne!(port, stores.crm.url().expose().port().unwrap_or(5432).to_string());
    let work = stdout
        .lines()
        .find_map(|l| l.strip_prefix("work directory: "))
        .expect("the work directory");
    assert!(!Path::new(work).exists(), "the second server's directory was removed");

    // The source keeps only wrapped keys and ciphertext.
    let plain: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM crm_vault.customer_secrets WHERE position('NID-'::bytea IN national_id_enc) > 0",
    )
    .fetch_one(pool)
    .await
    .expect("ciphertext");
    assert_eq!(plain, 0);
}
