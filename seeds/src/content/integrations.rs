//! Two to four integrations per organization. Credentials are fake secrets made from the stream,
//! handed to the caller's `encrypt` (the crypto module) as JSON; only its ciphertext is kept.
//! `encrypt` is called in a fixed order (organizations as given, then integration by integration)
//! and nothing drawn depends on its output, so a deterministic `encrypt` gives identical data.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::{
    Encrypt,
    records::Integration,
    rng::{between, hex, id_key, new_id, sample_indices, stream},
    words::INTEGRATIONS,
};

/// Smallest AES-256-GCM envelope: 12-byte nonce and 16-byte tag (the PostgreSQL CHECK).
const MIN_CIPHERTEXT: usize = 28;

fn secret(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    format!("seed_{}", hex(&raw))
}

/// The credentials an auth method needs, as the JSON the application would encrypt.
fn credentials(rng: &mut ChaCha8Rng, auth_method: &str, endpoint: &str) -> serde_json::Value {
    match auth_method {
        "api_key" => serde_json::json!({ "api_key": secret(rng, 16) }),
        "bearer" => serde_json::json!({ "token": secret(rng, 20) }),
        "basic" => serde_json::json!({ "username": "promptsales", "password": secret(rng, 12) }),
        _ => serde_json::json!({
            "client_id": format!("seed-client-{}", hex(&rng.random::<[u8; 4]>())),
            "client_secret": secret(rng, 16),
            "token_url": format!("{}/oauth2/token", endpoint.trim_end_matches('/')),
        }),
    }
}

pub(super) fn build(seed: u64, now: DateTime<Utc>, organizations: &[Uuid], encrypt: &Encrypt<'_>) -> Vec<Integration> {
    let mut out = Vec::new();
    for &org in organizations {
        let mut rng = stream(seed, "integrations", id_key(org));
        let slug = format!("org-{}", &org.simple().to_string()[..8]);
        let n = rng.random_range(2..=4);
        let mut picked = sample_indices(&mut rng, INTEGRATIONS.len(), n);
        picked.sort();
        for t in picked {
            let def = &INTEGRATIONS[t];
            let endpoint = def
                .endpoint
                .replace("{slug}", &slug)
                .replace("{dc}", &format!("us{}", rng.random_range(1..=21)));
            let id = new_id(&mut rng);
            let created_at = between(&mut rng, now - Duration::days(400), now - Duration::days(5));
            let has_auth = def.auth_method != "none";
            // One in ten that need credentials was set up but never given them: it stays disabled.
            let pending = has_auth && rng.random_bool(0.1);
            let plaintext = (has_auth && !pending).then(|| credentials(&mut rng, def.auth_method, &endpoint));
            let enabled = !pending && rng.random_bool(if has_auth { 0.85 } else { 0.7 });
            let deleted = rng.random_bool(0.05);
            let updated_at = between(&mut rng, created_at, now);
            let (credentials_enc, credentials_key_id) = match plaintext {
                Some(json) => {
                    let (ciphertext, key_id) = encrypt(json.to_string().as_bytes());
                    assert!(
                        ciphertext.len() >= MIN_CIPHERTEXT && !key_id.is_empty(),
                        "encrypt must return an AES-GCM envelope (nonce, ciphertext, tag) and a key id"
                    );
                    (Some(ciphertext), Some(key_id))
                }
                None => (None, None),
            };
            out.push(Integration {
                id,
                organization_id: org,
                name: def.name.to_owned(),
                kind: def.kind.to_owned(),
                endpoint,
                auth_method: def.auth_method.to_owned(),
                credentials_enc,
                credentials_key_id,
                // A deleted integration was switched off first.
                enabled: enabled && !deleted,
                created_at,
                updated_at,
                deleted_at: deleted.then_some(updated_at),
            });
        }
    }
    out
}
