//! Deterministic randomness: every record draws from its own ChaCha8 stream, keyed by the seed, a
//! label and the record's key (an index or an id). A record therefore never depends on how many
//! others were drawn before it, the order rayon finishes in, or the wall clock.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// FNV-1a, 64 bits: a stable hash of a label (std's hashers are randomised per process).
pub(super) const fn label_hash(label: &str) -> u64 {
    let bytes = label.as_bytes();
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// SplitMix64 finaliser: spreads nearby inputs (index 0, 1, 2…) over the whole seed space.
const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream of one record: `seed` mixed with the store label "content", `label` and `key`.
pub(super) fn stream(seed: u64, label: &str, key: u64) -> ChaCha8Rng {
    let a = mix(seed ^ label_hash("content"));
    let b = mix(a ^ label_hash(label));
    let c = mix(b ^ key);
    let d = mix(c ^ a.rotate_left(17));
    let mut bytes = [0_u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip([a, b, c, d]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    ChaCha8Rng::from_seed(bytes)
}

/// A 64-bit key for a stream from an id (campaign, organization).
pub(super) fn id_key(id: Uuid) -> u64 {
    let v = id.as_u128();
    (v as u64) ^ ((v >> 64) as u64)
}

/// A random (version 4) UUID drawn from the stream.
pub(super) fn new_id(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// `t` truncated to the millisecond: BSON dates hold milliseconds, so both stores see the same value.
pub(super) fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t.timestamp_millis())
        .single()
        .expect("a millisecond timestamp taken from a valid time is valid")
}

/// A time drawn uniformly between `lo` and `hi` (inclusive, millisecond steps); `lo` when `hi < lo`.
pub(super) fn between(rng: &mut ChaCha8Rng, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let (lo, hi) = (ms(lo), ms(hi));
    let span = (hi - lo).num_milliseconds();
    if span <= 0 {
        return lo;
    }
    lo + Duration::milliseconds(rng.random_range(0..=span))
}

/// One element of a non-empty slice.
pub(super) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// `k` distinct indices of `0..n` (all of them when `k >= n`), in the order drawn.
pub(super) fn sample_indices(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = rng.random_range(i..n);
        all.swap(i, j);
    }
    all.truncate(k.min(n));
    all
}

/// Lowercase hex of bytes.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        write!(s, "{b:02x}").expect("writing to a String cannot fail");
        s
    })
}
