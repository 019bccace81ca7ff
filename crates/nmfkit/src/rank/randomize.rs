//! A null model for the rank survey: the same values with their structure
//! destroyed, by permuting each column's entries over the rows
//! independently (as R's NMF `randomize`). Measures that also look good on
//! such a copy say nothing about the data (Frigyesi & Höglund 2008).

use crate::data::{Csr, CsrMatrix};
use crate::matrix::Mat;
use crate::rng::{permutation, seeded};
use crate::scalar::Scalar;
use rand::RngExt;

/// Every column of `x` permuted independently.
pub fn randomized_dense<T: Scalar>(x: &Mat<T>, seed: u64) -> Mat<T> {
    let mut rng = seeded(seed);
    let mut out = x.clone();
    for j in 0..x.ncols {
        let p = permutation(&mut rng, x.nrows);
        let (src, dst) = (x.col(j), out.col_mut(j));
        for (d, &i) in dst.iter_mut().zip(&p) {
            *d = src[i];
        }
    }
    out
}

/// The sparse counterpart: each column's stored entries go to rows drawn
/// at random without replacement (Floyd's sampling), in random order — the
/// same as permuting the column, without touching its zeros.
pub fn randomized_sparse<T: Scalar>(x: &Csr<'_, T>, seed: u64) -> CsrMatrix<T> {
    let mut rng = seeded(seed);
    let n = x.nrows();
    let xt = x.transpose();
    let mut triplets = Vec::with_capacity(x.nnz());
    let mut rows: Vec<usize> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for j in 0..xt.nrows() {
        let (_, vals) = xt.row(j);
        let s = vals.len();
        rows.clear();
        seen.clear();
        for r in (n - s)..n {
            let t = rng.random_range(0..=r);
            let pick = if seen.contains(&t) { r } else { t };
            seen.insert(pick);
            rows.push(pick);
        }
        // Floyd's draw is a uniform set; shuffle which value goes where.
        let p = permutation(&mut rng, s);
        for (a, &b) in p.iter().enumerate() {
            triplets.push((rows[a], j, vals[b]));
        }
    }
    CsrMatrix::from_triplets(n, x.ncols(), &triplets)
        .expect("a permutation of a valid matrix's entries is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_cols<T: Scalar>(x: &Mat<T>) -> Vec<Vec<f64>> {
        (0..x.ncols)
            .map(|j| {
                let mut c: Vec<f64> = x.col(j).iter().map(|v| v.to_f64()).collect();
                c.sort_by(f64::total_cmp);
                c
            })
            .collect()
    }

    #[test]
    fn columns_keep_their_values_but_not_their_order() {
        let x = Mat::from_fn(50, 6, |i, j| (i * 7 + j * 3) as f64);
        let r = randomized_dense(&x, 3);
        assert_eq!(sorted_cols(&x), sorted_cols(&r));
        assert_ne!(x, r);
        assert_eq!(r, randomized_dense(&x, 3));

        let s = CsrMatrix::from_dense(
            Mat::from_fn(40, 7, |i, j| {
                ((i + j) % 5 == 0) as u8 as f64 * (i + 1) as f64
            })
            .as_ref(),
        );
        let rs = randomized_sparse(&s, 9);
        assert_eq!(rs.nnz(), s.nnz());
        assert_eq!(sorted_cols(&s.to_dense()), sorted_cols(&rs.to_dense()));
        assert_ne!(rs.to_dense(), s.to_dense());
    }
}
