//! The whole-data work of a minibatch fit: the data term over every
//! batch, and a batch's W solved with H fixed.

use super::source::{Batch, BatchSource};
use crate::error::Result;
use crate::matrix::Mat;
use crate::model::{FitOptions, Nmf};
use crate::regularization::Regularization;
use crate::scalar::Scalar;
use crate::solver::{Factors, SolverKind};
use crate::Loss;

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

/// A batch's W (as Wᵀ, k × rows) with H fixed: multiplicative updates
/// from the flat start `fill` (√(mean/k) of the batch when None) until W's
/// relative change is at most `tol` (scikit-learn's `_solve_W`), through
/// the standard engine. The penalties are scaled to the batch's rows, as
/// scikit-learn scales them.
pub(crate) fn solve_w<T: Scalar>(
    batch: &Batch<T>,
    h: &Mat<T>,
    beta: f64,
    reg: Regularization,
    (max_iter, tol): (usize, f64),
    fill: Option<T>,
) -> Result<Mat<T>> {
    let mut e = Nmf::new(h.nrows)
        .loss(Loss::from_beta(beta)?)
        .solver(SolverKind::Mu)
        .max_iter(max_iter.max(1))
        .tol(0.0)
        .regularization(reg)
        .convergence(crate::Convergence::Objective);
    e.eval_every = Some(max_iter.max(1));
    e.factor_tol = (tol > 0.0).then_some(tol);
    let w0 = fill.map(|v| Mat::from_fn(batch.nrows(), h.nrows, |_, _| v));
    let opts = FitOptions {
        w0: w0.as_ref(),
        h0: Some(h),
        update_h: false,
        ..Default::default()
    };
    let fit = match batch {
        Batch::Dense(m) => e.fit_with(m, opts)?,
        Batch::Sparse(s) => e.fit_with(s, opts)?,
    };
    Ok(fit.w.transpose())
}
