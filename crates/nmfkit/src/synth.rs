//! Synthetic data with known factors, for examples, tests and benchmarks.

use crate::data::CsrMatrix;
use crate::matrix::Mat;
use crate::model::inverse_transform;
use crate::rng::{seeded, standard_normal};
use crate::scalar::Scalar;
use rand::RngExt;

/// X = W₀·H₀ (+ noise) with the factors that made it.
#[derive(Clone, Debug)]
pub struct Planted<T> {
    pub x: Mat<T>,
    pub w: Mat<T>,
    pub h: Mat<T>,
}

/// Dense n×m of rank k: W₀, H₀ uniform on [0, 1), plus |N(0, noise²)| noise.
pub fn low_rank<T: Scalar>(n: usize, m: usize, k: usize, noise: f64, seed: u64) -> Planted<T> {
    let mut rng = seeded(seed);
    let w = Mat::from_fn(n, k, |_, _| T::from_f64(rng.random::<f64>()));
    let h = Mat::from_fn(k, m, |_, _| T::from_f64(rng.random::<f64>()));
    let mut x = inverse_transform(&w, &h);
    if noise > 0.0 {
        for v in x.data.iter_mut() {
            *v += T::from_f64((noise * standard_normal(&mut rng)).abs());
        }
    }
    Planted { x, w, h }
}

/// Sparse n×m: a low-rank pattern W₀H₀ kept at a random `density` of the
/// entries (the values there are those of W₀H₀, so the data are non-negative
/// with a low-rank structure on the stored entries).
pub fn sparse_low_rank<T: Scalar>(
    n: usize,
    m: usize,
    k: usize,
    density: f64,
    seed: u64,
) -> CsrMatrix<T> {
    let mut rng = seeded(seed);
    let w: Vec<f64> = (0..n * k).map(|_| rng.random::<f64>()).collect();
    let h: Vec<f64> = (0..k * m).map(|_| rng.random::<f64>()).collect();
    let per_row = ((density * m as f64).round() as usize).clamp(1, m);
    let mut indptr = vec![0usize];
    let mut indices = Vec::with_capacity(n * per_row);
    let mut values = Vec::with_capacity(n * per_row);
    let mut cols: Vec<usize> = Vec::with_capacity(per_row);
    for i in 0..n {
        cols.clear();
        // Floyd's sampling of per_row distinct columns.
        for j in (m - per_row)..m {
            let t = rng.random_range(0..=j);
            if cols.contains(&t) {
                cols.push(j);
            } else {
                cols.push(t);
            }
        }
        cols.sort_unstable();
        for &j in &cols {
            let v: f64 = (0..k).map(|t| w[i * k + t] * h[t * m + j]).sum();
            indices.push(j);
            values.push(T::from_f64(v));
        }
        indptr.push(indices.len());
    }
    CsrMatrix::try_new(n, m, indptr, indices, values).expect("generator builds a valid CSR matrix")
}
