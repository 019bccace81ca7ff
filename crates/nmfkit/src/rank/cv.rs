//! Cross-validated rank selection: hold out a random share of the observed
//! entries, fit on the rest (a masked fit), and measure the error on the
//! held-out ones — the measure that does not depend on clustering (too
//! small a rank misses structure, too large a rank fits the noise).

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
    if folds == 0 {
        return Err(invalid("cv folds", "must be at least 1"));
    }
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(invalid(
            "cv fraction",
            format!("must be in (0, 1), got {fraction}"),
        ));
    }
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
        total += if ss > 0.0 {
            (se / ss).sqrt()
        } else {
            se.sqrt()
        };
    }
    Ok(total / folds as f64)
}
