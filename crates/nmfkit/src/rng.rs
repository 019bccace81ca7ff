//! Seeded randomness: ChaCha8 streams, and standard normal draws.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) type Rng = ChaCha8Rng;

pub(crate) fn seeded(seed: u64) -> Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// One N(0, 1) draw (Marsaglia's polar method, second value discarded so
/// that every draw consumes the stream the same way).
pub(crate) fn standard_normal(rng: &mut Rng) -> f64 {
    loop {
        let u: f64 = 2.0 * rng.random::<f64>() - 1.0;
        let v: f64 = 2.0 * rng.random::<f64>() - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * s.ln() / s).sqrt();
        }
    }
}

/// A random permutation of 0..k (Fisher–Yates).
pub(crate) fn permutation(rng: &mut Rng, k: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..k).collect();
    for i in (1..k).rev() {
        let j = rng.random_range(0..=i);
        p.swap(i, j);
    }
    p
}
