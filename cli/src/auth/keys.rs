//! ES256 signing keys: generated here, sealed at rest with the platform keyring, published as JWKs.
//!
//! ES256 (ECDSA on P-256) rather than RS256: a key is generated in microseconds (RSA-2048 takes
//! up to seconds, which matters for rotation and for tests), keys and signatures are small, and
//! every JWT library and the gateway verify it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use promptsales_platform::crypto::{DataKey, Keyring, WrappedKey};
use rand::RngCore;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// The one algorithm this server signs with.
pub const ALGORITHM: &str = "ES256";

/// A new key as it is stored: public JWK in clear, private key sealed.
pub struct NewKey {
    pub kid: String,
    pub public_jwk: Value,
    pub kek_id: String,
    pub wrapped_dek: Vec<u8>,
    pub private_key: Vec<u8>,
}

/// Associated data of a sealed private key: bound to its row, so it cannot be swapped with another.
fn aad(kid: &str) -> Vec<u8> {
    format!("sales.oauth_signing_keys.private_key:{kid}").into_bytes()
}

/// Generates a P-256 key and seals its PKCS#8 form under a fresh data key wrapped by the keyring.
pub fn generate(keyring: &Keyring) -> anyhow::Result<NewKey> {
    let mut rng = rand::rng();
    let secret = loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        // Zero or a value above the group order is refused; retried (probability about 2^-32).
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(bytes.as_slice()) {
            break key;
        }
    };
    let mut id = [0u8; 9];
    rng.fill_bytes(&mut id);
    let kid = format!("{}-{}", chrono::Utc::now().format("%Y%m%d"), URL_SAFE_NO_PAD.encode(id));
    let point = secret.verifying_key().to_encoded_point(false);
    let (x, y) = (
        point.x().expect("uncompressed point"),
        point.y().expect("uncompressed point"),
    );
    let public_jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(x),
        "y": URL_SAFE_NO_PAD.encode(y),
        "kid": kid,
        "alg": ALGORITHM,
        "use": "sig",
    });
    let der = secret
        .to_pkcs8_der()
        .map_err(|e| anyhow::anyhow!("encoding a signing key: {e}"))?;
    let dek = DataKey::generate(&mut rng);
    let wrapped = keyring.wrap(&dek, &mut rng);
    let private_key = dek.seal(der.as_bytes(), &aad(&kid), &mut rng);
    Ok(NewKey {
        kid,
        public_jwk,
        kek_id: wrapped.kek_id,
        wrapped_dek: wrapped.sealed,
        private_key,
    })
}

/// Opens a stored private key into the form `jsonwebtoken` signs with.
pub fn open(
    keyring: &Keyring,
    kid: &str,
    kek_id: &str,
    wrapped_dek: &[u8],
    sealed: &[u8],
) -> anyhow::Result<EncodingKey> {
    let dek = keyring.unwrap(&WrappedKey {
        kek_id: kek_id.to_owned(),
        sealed: wrapped_dek.to_vec(),
    })?;
    let der = dek.open(sealed, &aad(kid))?;
    // Parsed once here so that a damaged key fails now, not as a bad signature later.
    p256::ecdsa::SigningKey::from_pkcs8_der(&der).map_err(|e| anyhow::anyhow!("signing key {kid}: {e}"))?;
    Ok(EncodingKey::from_ec_der(&der))
}
