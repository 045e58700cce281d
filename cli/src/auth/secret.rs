//! Client secrets: 32 random bytes (base64url), stored only as an Argon2id PHC string.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{Error, SaltString},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use zeroize::Zeroizing;

/// A fresh client secret. Shown once to whoever creates the client.
///
/// Never starting with `-`: a secret that does would read as an option on every command line it
/// is passed on (`--client-secret -x…`). Drawing again costs 1/64 of the first character's
/// choices, nothing of the 256 random bits.
pub fn generate() -> Zeroizing<String> {
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        let secret = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_slice()));
        if !secret.starts_with('-') {
            return secret;
        }
    }
}

/// The Argon2id (default parameters: 19 MiB, 2 passes) PHC string of `secret`.
pub fn hash(secret: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default().hash_password(secret.as_bytes(), &salt)?.to_string())
}

/// Whether `secret` matches the stored PHC string (constant time inside argon2).
pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_never_start_a_secret_with_a_dash() {
        // One in 64 draws starts with `-`; in 2000 draws that happens about 31 times.
        for _ in 0..2000 {
            let secret = generate();
            assert!(!secret.starts_with('-'), "{}", secret.as_str());
            assert_eq!(secret.len(), 43);
        }
    }
}
