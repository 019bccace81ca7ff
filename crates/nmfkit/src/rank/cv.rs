//! Cross-validated rank selection: hold out a random share of the observed
//! entries, fit on the rest (a masked fit), and measure the error on the
//! held-out ones — the measure that does not depend on clustering (too
//! small a rank misses structure, too large a rank fits the noise).

use crate::data::{CsrMatrix, SparseWeights};
use crate::error::{invalid, Result};
use crate::matrix::{Mat, MatRef};
use crate::model::Nmf;
use crate::rng::seeded;
use crate::weights::impute;
use rand::RngExt;

/// ‖X − WH‖ / ‖X‖ over the held-out entries, averaged over `folds` folds,
/// each holding out `fraction` of the entries (drawn independently per fold
/// from `seed`). The fit uses this estimator's options at its rank.
///
/// ```
/// use nmfkit::{rank::cross_validation_error, synth, Nmf, SolverKind};
/// let x = synth::low_rank::<f64>(40, 30, 3, 0.01, 2).x;
/// let est = Nmf::new(3).solver(SolverKind::Hals).max_iter(300);
/// assert!(cross_validation_error(&est, x.as_ref(), 2, 0.1, 0).unwrap() < 0.05);
/// ```
pub fn cross_validation_error(
    est: &Nmf,
    x: MatRef<'_, f64>,
    folds: usize,
    fraction: f64,
    seed: u64,
) -> Result<f64> {
    check(folds, fraction)?;
    let (n, m) = (x.nrows, x.ncols);
    let mut rng = seeded(seed);
    let mut total = 0.0;
    for _ in 0..folds {
        let weights = Mat::from_fn(n, m, |_, _| {
            if rng.random::<f64>() < fraction {
                0.0
            } else {
                1.0
            }
        });
        let fit = est.fit_masked(x, weights.as_ref())?;
        let filled = impute(x, weights.as_ref(), &fit.w, &fit.h);
        let (mut se, mut ss) = (0.0, 0.0);
        for ((&a, &b), &w) in filled.data.iter().zip(x.data).zip(&weights.data) {
            if w == 0.0 {
                se += (a - b) * (a - b);
                ss += b * b;
            }
        }
        total += relative(se, ss);
    }
    Ok(total / folds as f64)
}

fn check(folds: usize, fraction: f64) -> Result<()> {
    if folds == 0 {
        return Err(invalid("cv folds", "must be at least 1"));
    }
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(invalid(
            "cv fraction",
            format!("must be in (0, 1), got {fraction}"),
        ));
    }
    Ok(())
}

fn relative(se: f64, ss: f64) -> f64 {
    if ss > 0.0 {
        (se / ss).sqrt()
    } else {
        se.sqrt()
    }
}

/// [`cross_validation_error`] on sparse X, in O((nnz + held out)·k) per
/// fold. Uniform holes would be almost all zeros on sparse data, so each
/// fold holds out `fraction` of the stored entries and as many unstored
/// ones (zeros, drawn from the same rows): the score weighs "where are the
/// counts" and "how large are they" alike.
///
/// ```
/// use nmfkit::{rank::cross_validation_error_sparse, synth, CsrMatrix, Nmf, SolverKind};
/// let x = synth::low_rank::<f64>(40, 30, 3, 0.01, 2).x;
/// let xs = CsrMatrix::from_dense(x.as_ref());
/// let est = Nmf::new(3).solver(SolverKind::Hals).max_iter(300);
/// assert!(cross_validation_error_sparse(&est, &xs, 2, 0.1, 0).unwrap() < 0.05);
/// ```
pub fn cross_validation_error_sparse(
    est: &Nmf,
    x: &CsrMatrix<f64>,
    folds: usize,
    fraction: f64,
    seed: u64,
) -> Result<f64> {
    check(folds, fraction)?;
    let (n, m) = (x.nrows(), x.ncols());
    let mut rng = seeded(seed);
    let mut total = 0.0;
    for _ in 0..folds {
        // (row, column, true value) of every held-out entry.
        let mut held: Vec<(usize, usize, f64)> = Vec::new();
        for i in 0..n {
            let (cols, vals) = x.row(i);
            let start = held.len();
            for (&j, &v) in cols.iter().zip(vals) {
                if rng.random::<f64>() < fraction {
                    held.push((i, j as usize, v));
                }
            }
            let wanted = held.len() - start;
            let mut tries = 0;
            while held.len() - start < 2 * wanted && tries < 20 * wanted {
                tries += 1;
                let j = rng.random_range(0..m);
                let stored = cols.binary_search(&(j as u32)).is_ok();
                if !stored && !held[start..].iter().any(|h| h.1 == j) {
                    held.push((i, j, 0.0));
                }
            }
        }
        let holes: Vec<(usize, usize, f64)> = held.iter().map(|&(i, j, _)| (i, j, 0.0)).collect();
        let listed = CsrMatrix::from_triplets(n, m, &holes)?;
        let fit = est.fit_masked_sparse(x, SparseWeights::holes(&listed))?;
        let k = fit.h.nrows;
        let (mut se, mut ss) = (0.0, 0.0);
        for &(i, j, v) in &held {
            let wh: f64 = (0..k).map(|c| fit.w.get(i, c) * fit.h.get(c, j)).sum();
            se += (wh - v) * (wh - v);
            ss += v * v;
        }
        total += relative(se, ss);
    }
    Ok(total / folds as f64)
}
