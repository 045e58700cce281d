//! The sales store's pool speaks TLS to PostgreSQL and verifies the server as deployments ask
//! (`sslmode=verify-full&sslrootcert=<the cluster's CA>`): against a private server that accepts
//! TLS clients only, it connects with the right CA and refuses a server whose certificate another
//! CA signed, with an error that says so.

use promptsales_platform::{
    StoreUrl,
    dev_certs::{self, LOOPBACK_NAMES},
};
use promptsales_sales::store::{PgStore, SalesStore};
use promptsales_testkit::PrivatePg;

fn url(pg: &PrivatePg, options: &str) -> StoreUrl {
    StoreUrl::parse(&format!("{}?{options}", pg.url("postgres").expose())).expect("a valid store URL")
}

#[tokio::test]
async fn should_connect_with_verify_full_and_refuse_a_server_signed_by_another_ca() {
    let pki = dev_certs::generate(&["postgres"], &LOOPBACK_NAMES).expect("a CA and a server certificate");
    let other = dev_certs::generate(&["postgres"], &LOOPBACK_NAMES).expect("another CA");
    let server = &pki.services[0];
    let pg = PrivatePg::start_with_tls(&server.cert_pem, &server.key_pem, &[]);
    let ca = pg.dir().join("ca.crt");
    let wrong_ca = pg.dir().join("other-ca.crt");
    std::fs::write(&ca, &pki.ca_pem).expect("write the CA");
    std::fs::write(&wrong_ca, &other.ca_pem).expect("write the other CA");

    // The server takes TCP clients over TLS only: a connection that works went over TLS.
    let plain = PgStore::connect(&url(&pg, "sslmode=disable"))
        .await
        .expect("a lazy pool");
    let refused = plain.ping().await.expect_err("the server refuses clients without TLS");
    assert!(refused.to_string().contains("no encryption"), "{refused}");

    let verified = PgStore::connect(&url(&pg, &format!("sslmode=verify-full&sslrootcert={}", ca.display())))
        .await
        .expect("a lazy pool");
    verified
        .ping()
        .await
        .expect("connects over TLS, the server's certificate and name verified");

    let spoofed = PgStore::connect(&url(
        &pg,
        &format!("sslmode=verify-full&sslrootcert={}", wrong_ca.display()),
    ))
    .await
    .expect("a lazy pool");
    let error = spoofed
        .ping()
        .await
        .expect_err("a server whose certificate the trusted CA did not sign is refused")
        .to_string();
    // rustls names the failed check (the other CA has the same name: `BadSignature`).
    assert!(
        error.contains("invalid peer certificate"),
        "the error says why: {error}"
    );
}
