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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_draws_have_mean_0_and_variance_1() {
        let mut rng = seeded(1);
        let n = 200_000;
        let v: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 4.0 / (n as f64).sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn permutations_are_permutations() {
        let mut rng = seeded(2);
        let mut p = permutation(&mut rng, 10);
        p.sort_unstable();
        assert_eq!(p, (0..10).collect::<Vec<_>>());
    }
}
