//! Certificates for running the stack over TLS on one machine: a local CA made fresh, and one
//! certificate per service for the loopback names, signed by it. `promptsales certs` writes
//! them; tests make their own the same way.
//!
//! The CA's private key is never returned: once the service certificates are signed it is
//! dropped, so nothing on disk can mint further certificates that the clients would trust.
//! Generating a new set (and a new CA) is cheap; that is how a set is renewed.

use chrono::{Datelike, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// What the certificates are issued for: the names a local client dials.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// One service's certificate and key, PEM.
pub struct ServiceCert {
    pub name: String,
    /// The leaf certificate followed by nothing else: clients trust the CA directly.
    pub cert_pem: String,
    /// PKCS#8. Keep it private (mode 0600).
    pub key_pem: String,
}

impl std::fmt::Debug for ServiceCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCert")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A CA certificate and the service certificates it signed.
#[derive(Debug)]
pub struct DevPki {
    /// The CA certificate, PEM: what clients trust (`PROMPTSALES_TLS_CA`).
    pub ca_pem: String,
    pub services: Vec<ServiceCert>,
}

/// A fresh CA (valid 10 years) and, for each of `services`, a server certificate for `hosts`
/// (DNS names or IP addresses; valid 1 year). ECDSA P-256 throughout.
pub fn generate(services: &[&str], hosts: &[&str]) -> Result<DevPki, rcgen::Error> {
    let today = Utc::now().date_naive();
    // A day back, so a clock a little behind still accepts them.
    let start = today - chrono::Days::new(1);
    let date = |d: chrono::NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);

    let mut ca = CertificateParams::default();
    ca.distinguished_name = name("PromptSales local development CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = date(start);
    ca.not_after = date(today + chrono::Days::new(3650));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

    let services = services
        .iter()
        .map(|service| {
            let mut leaf = CertificateParams::new(hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())?;
            leaf.distinguished_name = name(&format!("PromptSales {service}"));
            leaf.is_ca = IsCa::ExplicitNoCa;
            leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            leaf.not_before = date(start);
            leaf.not_after = date(today + chrono::Days::new(365));
            let key = KeyPair::generate()?;
            let cert = leaf.signed_by(&key, &ca)?;
            Ok(ServiceCert {
                name: (*service).to_owned(),
                cert_pem: cert.pem(),
                key_pem: key.serialize_pem(),
            })
        })
        .collect::<Result<Vec<_>, rcgen::Error>>()?;
    Ok(DevPki {
        ca_pem: ca.pem(),
        services,
    })
}

fn name(common: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "PromptSales (development)");
    dn.push(DnType::CommonName, common);
    dn
}
