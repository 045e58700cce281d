//! Envelope encryption of sensitive columns (national ids, e-mails, phones, credentials).
//!
//! Each record gets its own random 256-bit data key (DEK); values are sealed with AES-256-GCM under
//! it, bound by associated data to their column and row so a ciphertext cannot be moved to another
//! row. The DEK is stored wrapped (AES-256-GCM) under a key-encryption key (KEK) from configuration,
//! next to the id of that KEK, so KEKs rotate by re-wrapping DEKs only; deleting a record's DEK
//! makes its ciphertext unreadable (crypto-shredding). A keyed HMAC-SHA256 "blind index" of a
//! normalised value keeps equality lookups and uniqueness without storing the value.
//!
//! Sealed layout: `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.

use std::collections::HashMap;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

const NONCE: usize = 12;

/// Why a key or a ciphertext was refused. Deliberately vague about which check failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("key configuration: {0}")]
    Config(String),
    #[error("unknown key-encryption key `{0}`")]
    UnknownKey(String),
    #[error("ciphertext could not be authenticated (wrong key, wrong record, or tampered)")]
    Open,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A record's data key. Zeroed when dropped.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh random data key.
    pub fn generate<R: CryptoRng + RngCore + ?Sized>(rng: &mut R) -> DataKey {
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(key.as_mut());
        DataKey(key)
    }

    /// Seals `plaintext`, bound to `aad` (say `crm.customers.email:<id>`).
    pub fn seal<R: CryptoRng + RngCore + ?Sized>(&self, plaintext: &[u8], aad: &[u8], rng: &mut R) -> Vec<u8> {
        seal(&self.0, plaintext, aad, rng)
    }

    /// Opens what [`DataKey::seal`] sealed with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        open(&self.0, sealed, aad).map(Zeroizing::new)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(***)")
    }
}

fn seal<R: CryptoRng + RngCore + ?Sized>(key: &[u8; 32], plaintext: &[u8], aad: &[u8], rng: &mut R) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; NONCE];
    rng.fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .expect("AES-GCM encryption only fails for inputs over 64 GiB");
    let mut out = Vec::with_capacity(NONCE + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < NONCE + 16 {
        return Err(Error::Open);
    }
    let (nonce, body) = sealed.split_at(NONCE);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| Error::Open)
}

/// A data key as stored: sealed under the KEK named by `kek_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub kek_id: String,
    pub sealed: Vec<u8>,
}

/// The key-encryption keys (one active, older ones kept to unwrap until re-wrapped) and the
/// blind-index key.
pub struct Keyring {
    active: String,
    keks: HashMap<String, Zeroizing<[u8; 32]>>,
    blind: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("keks", &self.keks.len())
            .finish_non_exhaustive()
    }
}

fn decode_key(what: &str, b64: &str) -> Result<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(b64.trim())
            .map_err(|_| Error::Config(format!("{what} is not base64")))?,
    );
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| Error::Config(format!("{what} must be 32 bytes (256 bits)")))?;
    Ok(Zeroizing::new(key))
}

impl Keyring {
    /// From `PROMPTSALES_KEKS` (`id:base64,id:base64,…`, the first one active) and
    /// `PROMPTSALES_BLIND_INDEX_KEY` (base64), both 32-byte keys.
    pub fn from_env() -> Result<Keyring> {
        let keks =
            std::env::var("PROMPTSALES_KEKS").map_err(|_| Error::Config("PROMPTSALES_KEKS is not set".into()))?;
        let blind = std::env::var("PROMPTSALES_BLIND_INDEX_KEY")
            .map_err(|_| Error::Config("PROMPTSALES_BLIND_INDEX_KEY is not set".into()))?;
        Keyring::parse(&keks, &blind)
    }

    /// Parses the two settings of [`Keyring::from_env`].
    pub fn parse(keks: &str, blind: &str) -> Result<Keyring> {
        let mut active = None;
        let mut map = HashMap::new();
        for entry in keks.split(',').filter(|e| !e.trim().is_empty()) {
            let (id, b64) = entry
                .split_once(':')
                .ok_or_else(|| Error::Config("each KEK is written `id:base64`".into()))?;
            let id = id.trim().to_owned();
            if id.is_empty() || id.len() > 64 {
                return Err(Error::Config("a KEK id must be 1 to 64 characters".into()));
            }
            let key = decode_key(&format!("KEK `{id}`"), b64)?;
            active.get_or_insert_with(|| id.clone());
            if map.insert(id.clone(), key).is_some() {
                return Err(Error::Config(format!("KEK `{id}` is listed twice")));
            }
        }
        let active = active.ok_or_else(|| Error::Config("no KEK configured".into()))?;
        Ok(Keyring {
            active,
            keks: map,
            blind: decode_key("the blind-index key", blind)?,
        })
    }

    /// A keyring of fresh random keys (tests, throw-away environments).
    pub fn generate<R: CryptoRng + RngCore + ?Sized>(kek_id: &str, rng: &mut R) -> Keyring {
        let mut kek = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(kek.as_mut());
        let mut blind = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(blind.as_mut());
        Keyring {
            active: kek_id.to_owned(),
            keks: HashMap::from([(kek_id.to_owned(), kek)]),
            blind,
        }
    }

    /// The id of the KEK new data keys are wrapped with.
    pub fn active_kek(&self) -> &str {
        &self.active
    }

    /// Wraps a data key under the active KEK.
    pub fn wrap<R: CryptoRng + RngCore + ?Sized>(&self, key: &DataKey, rng: &mut R) -> WrappedKey {
        let kek = &self.keks[&self.active];
        WrappedKey {
            kek_id: self.active.clone(),
            sealed: seal(kek, key.0.as_slice(), self.active.as_bytes(), rng),
        }
    }

    /// Unwraps a stored data key (any configured KEK, so rotation can re-wrap old ones).
    pub fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey> {
        let kek = self
            .keks
            .get(&wrapped.kek_id)
            .ok_or_else(|| Error::UnknownKey(wrapped.kek_id.clone()))?;
        let plain = Zeroizing::new(open(kek, &wrapped.sealed, wrapped.kek_id.as_bytes())?);
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| Error::Open)?;
        Ok(DataKey(Zeroizing::new(key)))
    }

    /// Whether `wrapped` is already wrapped under the active KEK (nothing to re-wrap).
    pub fn is_current(&self, wrapped: &WrappedKey) -> bool {
        wrapped.kek_id == self.active
    }

    /// Re-wraps a stored data key under the active KEK (KEK rotation): unwrapped with the KEK it
    /// names, sealed again under the active one with a fresh nonce. The data key itself, and so
    /// every value sealed with it, stays the same.
    pub fn rewrap<R: CryptoRng + RngCore + ?Sized>(&self, wrapped: &WrappedKey, rng: &mut R) -> Result<WrappedKey> {
        let key = self.unwrap(wrapped)?;
        Ok(self.wrap(&key, rng))
    }

    /// The blind index of a value: HMAC-SHA256 over the purpose (e.g. `crm.customers.email`) and
    /// the value, normalised by the caller (see [`normalize_email`], [`normalize_national_id`]).
    pub fn blind_index(&self, purpose: &str, normalized: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.blind.as_slice()).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// E-mail addresses compare case-insensitively and without surrounding spaces.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// National ids compare on their letters and digits only, upper case (`123.456.789-0` = `1234567890`).
pub fn normalize_national_id(id: &str) -> String {
    id.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The associated data that binds a sealed value to its column and record.
pub fn aad(column: &str, record: uuid::Uuid) -> Vec<u8> {
    format!("{column}:{record}").into_bytes()
}

/// The text form of a secret kept sealed in configuration (a credentials variable, a Kubernetes
/// Secret, a file): `ps1:{kek id}:{wrapped data key}:{sealed value}`, both parts base64url. The
/// value is sealed under a fresh data key bound to `purpose` (the associated data), so a sealed
/// API key cannot be passed off as another setting; the data key is wrapped under the active KEK.
/// Only a process holding the KEKs reads it, and rotation re-wraps it like any stored data key.
pub fn seal_text<R: CryptoRng + RngCore + ?Sized>(
    keyring: &Keyring,
    purpose: &str,
    plaintext: &str,
    rng: &mut R,
) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = DataKey::generate(rng);
    let wrapped = keyring.wrap(&key, rng);
    let sealed = key.seal(plaintext.as_bytes(), purpose.as_bytes(), rng);
    format!(
        "{SEALED_TEXT}:{}:{}:{}",
        wrapped.kek_id,
        URL_SAFE_NO_PAD.encode(&wrapped.sealed),
        URL_SAFE_NO_PAD.encode(&sealed)
    )
}

/// Prefix and version of [`seal_text`]'s form.
pub const SEALED_TEXT: &str = "ps1";

/// Opens what [`seal_text`] made for `purpose`.
pub fn open_text(keyring: &Keyring, purpose: &str, text: &str) -> Result<Zeroizing<String>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let shape = || Error::Config(format!("a sealed value has the form {SEALED_TEXT}:<kek>:<key>:<value>"));
    let mut parts = text.trim().splitn(4, ':');
    let (Some(SEALED_TEXT), Some(kek_id), Some(wrapped), Some(sealed)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(shape());
    };
    let wrapped = WrappedKey {
        kek_id: kek_id.to_owned(),
        sealed: URL_SAFE_NO_PAD.decode(wrapped).map_err(|_| shape())?,
    };
    let sealed = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| shape())?;
    let plain = keyring.unwrap(&wrapped)?.open(&sealed, purpose.as_bytes())?;
    let text = std::str::from_utf8(&plain).map_err(|_| Error::Open)?;
    Ok(Zeroizing::new(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    fn ring() -> Keyring {
        Keyring::generate("k1", &mut StdRng::seed_from_u64(7))
    }

    #[test]
    fn should_open_sealed_text_only_for_its_purpose_and_keys() {
        let mut rng = StdRng::seed_from_u64(3);
        let text = seal_text(&ring(), "mcp.content.llm", r#"{"api_key":"sk-1"}"#, &mut rng);
        assert!(text.starts_with("ps1:k1:"), "{text}");
        assert!(!text.contains("sk-1"));
        assert_eq!(
            open_text(&ring(), "mcp.content.llm", &text)
                .expect("test setup")
                .as_str(),
            r#"{"api_key":"sk-1"}"#
        );
        assert!(matches!(open_text(&ring(), "other.setting", &text), Err(Error::Open)));
        let stranger = Keyring::generate("k1", &mut StdRng::seed_from_u64(8));
        assert!(matches!(
            open_text(&stranger, "mcp.content.llm", &text),
            Err(Error::Open)
        ));
        let other_kek = Keyring::generate("k2", &mut StdRng::seed_from_u64(7));
        assert!(matches!(open_text(&other_kek, "mcp.content.llm", &text), Err(Error::UnknownKey(k)) if k == "k1"));
        for bad in ["sk-1", "ps1:k1:abc", "ps2:k1:a:b", "ps1:k1:!!:b"] {
            let err = open_text(&ring(), "mcp.content.llm", bad).expect_err("an error");
            assert!(err.to_string().contains("ps1:<kek>:<key>:<value>"), "{bad}: {err}");
        }
    }

    #[test]
    fn should_open_what_it_sealed_and_nothing_moved_or_tampered() {
        let mut rng = StdRng::seed_from_u64(1);
        let key = DataKey::generate(&mut rng);
        let sealed = key.seal(b"ana@example.com", b"crm.customers.email:1", &mut rng);
        assert_ne!(&sealed[NONCE..], b"ana@example.com");
        assert_eq!(
            key.open(&sealed, b"crm.customers.email:1").expect("opens").as_slice(),
            b"ana@example.com"
        );
        assert!(
            key.open(&sealed, b"crm.customers.email:2").is_err(),
            "moved to another record"
        );
        let mut tampered = sealed.clone();
        tampered[NONCE] ^= 1;
        assert!(key.open(&tampered, b"crm.customers.email:1").is_err());
    }

    #[test]
    fn should_unwrap_data_keys_with_any_configured_kek_and_refuse_unknown_ones() {
        let ring = ring();
        let mut rng = StdRng::seed_from_u64(2);
        let key = DataKey::generate(&mut rng);
        let wrapped = ring.wrap(&key, &mut rng);
        let sealed = key.seal(b"x", b"a", &mut rng);
        assert_eq!(
            ring.unwrap(&wrapped)
                .expect("unwraps")
                .open(&sealed, b"a")
                .expect("opens")
                .as_slice(),
            b"x"
        );
        let other = WrappedKey {
            kek_id: "k0".into(),
            sealed: wrapped.sealed.clone(),
        };
        assert_eq!(
            ring.unwrap(&other).expect_err("unknown").to_string(),
            "unknown key-encryption key `k0`"
        );
    }

    #[test]
    fn should_rewrap_a_data_key_under_the_new_active_kek_keeping_the_key() {
        let k = |b: u8| STANDARD.encode([b; 32]);
        let old = Keyring::parse(&format!("k1:{}", k(1)), &k(9)).expect("old ring");
        let both = Keyring::parse(&format!("k2:{},k1:{}", k(2), k(1)), &k(9)).expect("rotating ring");
        let new = Keyring::parse(&format!("k2:{}", k(2)), &k(9)).expect("new ring");
        let mut rng = StdRng::seed_from_u64(3);
        let key = DataKey::generate(&mut rng);
        let sealed = key.seal(b"secret", b"a", &mut rng);
        let wrapped = old.wrap(&key, &mut rng);
        assert!(!both.is_current(&wrapped));
        let rewrapped = both
            .rewrap(&wrapped, &mut rng)
            .expect("the old KEK is still configured");
        assert_eq!(rewrapped.kek_id, "k2");
        assert!(both.is_current(&rewrapped));
        assert!(new.unwrap(&wrapped).is_err(), "the old wrapping needs the old KEK");
        let opened = new
            .unwrap(&rewrapped)
            .expect("unwraps")
            .open(&sealed, b"a")
            .expect("opens");
        assert_eq!(opened.as_slice(), b"secret");
        assert!(
            new.rewrap(&wrapped, &mut rng).is_err(),
            "cannot re-wrap without the old KEK"
        );
    }

    #[test]
    fn should_match_blind_indexes_of_equal_normalised_values_only() {
        let ring = ring();
        let a = ring.blind_index("crm.customers.email", &normalize_email(" Ana@Example.com "));
        let b = ring.blind_index("crm.customers.email", &normalize_email("ana@example.com"));
        let c = ring.blind_index("sales.contacts.email", &normalize_email("ana@example.com"));
        assert_eq!(a, b);
        assert_ne!(a, c, "a blind index is bound to its purpose");
        assert_eq!(normalize_national_id("123.456.789-k"), "123456789K");
    }

    #[test]
    fn should_parse_key_settings_and_explain_mistakes() {
        let k = STANDARD.encode([1u8; 32]);
        let ring = Keyring::parse(&format!("2026a:{k},2025b:{k}"), &k).expect("valid");
        assert_eq!(ring.active_kek(), "2026a");
        let short = STANDARD.encode([1u8; 16]);
        assert_eq!(
            Keyring::parse(&format!("a:{short}"), &k)
                .expect_err("short")
                .to_string(),
            "key configuration: KEK `a` must be 32 bytes (256 bits)"
        );
        assert!(Keyring::parse("", &k).is_err());
        assert!(!format!("{ring:?}").contains(&k));
    }
}
