//! Personal data as the stores must hold it: AES-256-GCM ciphertext under a per-record data key,
//! plus HMAC blind indexes, through the platform's crypto module.
//!
//! Data keys and nonces are drawn from the record's seeded ChaCha8 stream (crypto.rs accepts any
//! `CryptoRng`), so under the same keyring a reseed writes byte-identical ciphertext and the
//! checksums of two runs can be compared. Production writes draw them from the OS RNG; this
//! determinism is only acceptable for generated, fictional data.

use base64::{Engine, engine::general_purpose::STANDARD};
use promptsales_platform::crypto::{DataKey, Keyring, aad, normalize_email, normalize_national_id};
use uuid::Uuid;

use crate::rng::Stream;

/// Sealed PII of one customer and the wrapped data key that opens it (`crm.customer_keys`).
pub struct CustomerPii {
    pub national_id_enc: Vec<u8>,
    pub email_enc: Vec<u8>,
    pub phone_enc: Vec<u8>,
    pub national_id_bidx: [u8; 32],
    pub email_bidx: [u8; 32],
    pub kek_id: String,
    pub wrapped_dek: Vec<u8>,
}

/// Blind-index purposes and associated-data columns: `<schema>.<table>.<column>`.
pub const CUSTOMER_NATIONAL_ID: &str = "crm.customers.national_id";
pub const CUSTOMER_EMAIL: &str = "crm.customers.email";
pub const CUSTOMER_PHONE: &str = "crm.customers.phone";

/// `crm.customers.pii_key_id`: names the customer's data key, which lives in `crm.customer_keys`
/// under the customer's id (its KEK is named there, so a KEK rotation does not touch customers).
pub fn customer_key_id(customer: Uuid) -> String {
    format!("crm.customer_keys:{customer}")
}

pub fn seal_customer(
    keyring: &Keyring,
    rng: &mut Stream,
    customer: Uuid,
    national_id: &str,
    email: &str,
    phone: &str,
) -> CustomerPii {
    let key = DataKey::generate(rng);
    let wrapped = keyring.wrap(&key, rng);
    CustomerPii {
        national_id_enc: key.seal(national_id.as_bytes(), &aad(CUSTOMER_NATIONAL_ID, customer), rng),
        email_enc: key.seal(email.as_bytes(), &aad(CUSTOMER_EMAIL, customer), rng),
        phone_enc: key.seal(phone.as_bytes(), &aad(CUSTOMER_PHONE, customer), rng),
        national_id_bidx: keyring.blind_index(CUSTOMER_NATIONAL_ID, &normalize_national_id(national_id)),
        email_bidx: keyring.blind_index(CUSTOMER_EMAIL, &normalize_email(email)),
        kek_id: wrapped.kek_id,
        wrapped_dek: wrapped.sealed,
    }
}

/// Seals values of a table that has no key table of its own (sales.portal_users, sales.contacts,
/// content.integrations): a fresh data key per record, wrapped under the active KEK and carried in
/// the key id as `<kek id>:<base64 of the wrapped key>` (≤ 200 characters), so the row alone names
/// everything needed to open it. `aad` binds the ciphertext to its column (and record when known).
pub struct Envelope {
    key: DataKey,
    pub key_id: String,
}

impl Envelope {
    pub fn new(keyring: &Keyring, rng: &mut Stream) -> Envelope {
        let key = DataKey::generate(rng);
        let wrapped = keyring.wrap(&key, rng);
        let key_id = format!("{}:{}", wrapped.kek_id, STANDARD.encode(&wrapped.sealed));
        Envelope { key, key_id }
    }

    pub fn seal(&self, rng: &mut Stream, aad: &[u8], plaintext: &str) -> Vec<u8> {
        self.key.seal(plaintext.as_bytes(), aad, rng)
    }
}

/// Opens a value sealed by [`Envelope`] (tests, and the services until the platform has a helper).
pub fn open_envelope(keyring: &Keyring, key_id: &str, aad: &[u8], sealed: &[u8]) -> Option<String> {
    let (kek_id, b64) = key_id.split_once(':')?;
    let wrapped = promptsales_platform::crypto::WrappedKey {
        kek_id: kek_id.to_owned(),
        sealed: STANDARD.decode(b64).ok()?,
    };
    let key = keyring.unwrap(&wrapped).ok()?;
    let plain = key.open(sealed, aad).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn should_open_what_it_sealed_and_repeat_itself_under_the_same_stream() {
        let ring = Keyring::generate("k1", &mut Stream::seed_from_u64(1));
        let id = Uuid::nil();
        let a = seal_customer(&ring, &mut Stream::seed_from_u64(2), id, "1234", "a@b.co", "+521");
        let b = seal_customer(&ring, &mut Stream::seed_from_u64(2), id, "1234", "a@b.co", "+521");
        assert_eq!(
            a.email_enc, b.email_enc,
            "seeded nonces and keys make ciphertext reproducible"
        );
        let wrapped = promptsales_platform::crypto::WrappedKey {
            kek_id: a.kek_id.clone(),
            sealed: a.wrapped_dek.clone(),
        };
        let key = ring.unwrap(&wrapped).expect("unwraps");
        assert_eq!(
            key.open(&a.email_enc, &aad(CUSTOMER_EMAIL, id))
                .expect("opens")
                .as_slice(),
            b"a@b.co"
        );

        let mut rng = Stream::seed_from_u64(3);
        let env = Envelope::new(&ring, &mut rng);
        assert!(env.key_id.len() <= 200);
        let sealed = env.seal(&mut rng, b"sales.portal_users.email", "x@y.z");
        assert_eq!(
            open_envelope(&ring, &env.key_id, b"sales.portal_users.email", &sealed).as_deref(),
            Some("x@y.z")
        );
    }
}
