//! Deterministic randomness. Every entity draws from its own ChaCha8 stream keyed by the run's
//! seed, a label naming the kind of entity and the entity's index, so what one entity looks like
//! never depends on how many others were drawn before it or on the order rayon finishes in: a run
//! on 2 threads and a run on 64 produce the same bytes.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

pub type Stream = ChaCha8Rng;

/// FNV-1a: a stable hash of a label (std's hashers are randomised per process).
const fn label_hash(label: &str) -> u64 {
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

/// SplitMix64 finaliser: spreads nearby inputs (index 0, 1, 2 …) over the whole space.
pub const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream of entity `index` of kind `label` in the run seeded with `seed`.
pub fn stream(seed: u64, label: &str, index: u64) -> Stream {
    let a = mix(seed ^ label_hash(label));
    let b = mix(a ^ index);
    let c = mix(b ^ 0x5eed_5eed_5eed_5eed);
    let d = mix(c ^ a.rotate_left(23));
    let mut bytes = [0_u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip([a, b, c, d]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    ChaCha8Rng::from_seed(bytes)
}

/// A version-4-shaped UUID that is a pure function of (seed, label, index): ids other stores or
/// other generators must know without drawing the entity (customers, campaigns).
pub fn keyed_uuid(seed: u64, label: &str, index: u64) -> Uuid {
    let a = mix(seed ^ label_hash(label) ^ mix(index));
    let b = mix(a ^ index.rotate_left(32) ^ 0xa5a5_a5a5_a5a5_a5a5);
    let mut bytes = [0_u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A random (version 4) UUID drawn from the stream.
pub fn uuid(rng: &mut Stream) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// One element of a non-empty slice.
pub fn pick<'a, T>(rng: &mut Stream, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// An index drawn with probability proportional to `weights` (not all zero).
pub fn weighted(rng: &mut Stream, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Cumulative weights, for many draws from one distribution by binary search.
pub struct Cumulative(Vec<f64>);

impl Cumulative {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        Cumulative(
            weights
                .into_iter()
                .map(|w| {
                    acc += w;
                    acc
                })
                .collect(),
        )
    }

    pub fn draw(&self, rng: &mut Stream) -> usize {
        let total = *self.0.last().expect("a distribution has at least one outcome");
        let x = rng.random::<f64>() * total;
        self.0.partition_point(|c| *c <= x).min(self.0.len() - 1)
    }
}

/// `k` distinct indices of `0..n` (all of them, shuffled, when `k >= n`).
pub fn sample(rng: &mut Stream, n: usize, k: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    let k = k.min(n);
    for i in 0..k {
        let j = rng.random_range(i..n);
        all.swap(i, j);
    }
    all.truncate(k);
    all
}

/// A normal draw (Box–Muller), for log-normal sizes.
pub fn normal(rng: &mut Stream, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A time uniformly within `[lo, hi]` at millisecond resolution (`lo` when the range is empty).
/// Milliseconds because SQL Server `DATETIMEOFFSET(3)` and BSON dates hold no more.
pub fn between(rng: &mut Stream, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let span = (hi - lo).num_milliseconds();
    if span <= 0 {
        return lo;
    }
    lo + Duration::milliseconds(rng.random_range(0..=span))
}

/// A day uniformly within `[lo, hi]`.
pub fn day_between(rng: &mut Stream, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    let span = (hi - lo).num_days();
    if span <= 0 {
        return lo;
    }
    lo + Duration::days(rng.random_range(0..=span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_give_each_entity_its_own_repeatable_stream() {
        let a: u64 = stream(7, "customer", 1).random();
        assert_eq!(a, stream(7, "customer", 1).random::<u64>());
        assert_ne!(a, stream(7, "customer", 2).random::<u64>());
        assert_ne!(a, stream(8, "customer", 1).random::<u64>());
        assert_ne!(a, stream(7, "campaign", 1).random::<u64>());
        assert_eq!(keyed_uuid(7, "customer", 3), keyed_uuid(7, "customer", 3));
        assert_eq!(keyed_uuid(7, "customer", 3).get_version_num(), 4);
    }
}
