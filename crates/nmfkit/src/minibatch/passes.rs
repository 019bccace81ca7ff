//! The whole-data work of a minibatch fit: the data term over every
//! batch, and a batch's W solved with H fixed.

use super::source::{Batch, BatchSource};
use crate::error::Result;
use crate::matrix::Mat;
use crate::model::{FitOptions, Nmf};
use crate::scalar::Scalar;
use crate::solver::Factors;

/// The data term of W and H over every batch of `src`.
pub(super) fn divergence_over<T: Scalar>(
    src: &dyn BatchSource<T>,
    batch_size: usize,
    f: &Factors<T>,
    beta: f64,
) -> Result<f64> {
    let (n, _) = src.shape();
    let k = f.h.nrows;
    // Frobenius from products: one GEMM per batch instead of a pass over
    // every entry of WH.
    let hht = (beta == 2.0).then(|| crate::linalg::gram(&f.h, faer::Par::rayon(0)));
    let mut total = 0.0;
    for start in (0..n).step_by(batch_size.max(1)) {
        let end = (start + batch_size).min(n);
        let b = src.rows(start, end)?;
        let wt = Mat::from_col_major(k, end - start, f.wt.data[start * k..end * k].to_vec())?;
        total += b.with_data(|d| match &hht {
            Some(g) => d.frobenius_from_products(&wt, &f.h, g),
            None => d.divergence_of(&wt, &f.h, beta),
        });
    }
    Ok(total)
}

/// ΣX/(n·m) over every batch of `src`, each checked on the way (one pass).
pub(super) fn mean_of<T: Scalar>(src: &dyn BatchSource<T>, batch_size: usize) -> Result<f64> {
    let (n, m) = src.shape();
    let step = batch_size.max(1);
    let mut total = 0.0;
    for start in (0..n).step_by(step) {
        total += src.rows(start, (start + step).min(n))?.stats(start)?.sum;
    }
    Ok(total / (n as f64 * m as f64))
}

/// A batch's W (as Wᵀ, k × rows) with H fixed, by `est` — the minibatch
/// fit's multiplicative-update estimator ([`super::MiniBatchNmf`]'s
/// `standard`): updates from the flat start `fill` (√(mean/k) of the batch
/// when None) until W's relative change is at most its tolerance
/// (scikit-learn's `_solve_W`). The penalties are scaled to the batch's
/// rows, as scikit-learn scales them.
pub(crate) fn solve_w<T: Scalar>(
    batch: &Batch<T>,
    h: &Mat<T>,
    est: &Nmf,
    fill: Option<T>,
) -> Result<Mat<T>> {
    let w0 = fill.map(|v| Mat::from_fn(batch.nrows(), h.nrows, |_, _| v));
    let opts = FitOptions {
        w0: w0.as_ref(),
        h0: Some(h),
        update_h: false,
        ..Default::default()
    };
    let fit = match batch {
        Batch::Dense(m) => est.fit_with(m, opts)?,
        Batch::Sparse(s) => est.fit_with(s, opts)?,
    };
    Ok(fit.w.transpose())
}
