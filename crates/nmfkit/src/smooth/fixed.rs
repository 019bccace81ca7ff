//! ESPM's `fixed_W` and `fixed_H`: entries of W or H given by the user and
//! kept through the fit. A mask of the factor's shape holds the fixed values
//! (≥ 0); free entries are NaN or, as ESPM marks them, negative. The MM
//! surrogates are separable per entry, so minimizing them over the free
//! entries alone still never increases the objective. Under a simplex
//! constraint on the same factor, a column's free entries share what its
//! fixed ones leave, 1 − Σ fixed (ESPM overwrites the fixed entries after
//! its simplex step, so its columns stop summing to one; here they do):
//! with h = β·y, ½aβ²y² + bβy − c·ln(βy) equals β[½(aβ)y² + by −
//! (c/β)·ln y] plus a constant, so the budget-β problem is the unit
//! simplex's with a·β, c/β and ε/β, scaled back by β.

use super::simplex;
use crate::error::{invalid, Result};
use crate::matrix::Mat;

/// The fixed entries of one factor, stored like the factor in the fit
/// (k × columns: Wᵀ for W, H for H), NaN where free.
#[derive(Clone, Debug)]
pub(crate) struct Fixed {
    values: Mat<f64>,
    /// The same as the user sees the factor (m×k for W): its columns are
    /// the ones a simplex constraint sums.
    user: Mat<f64>,
}

impl Fixed {
    /// From the user's mask (`rows`×`cols` as the user sees the factor);
    /// `transpose` stores it as Wᵀ; `scale` multiplies the values (W under
    /// ESPM's normalization). None when nothing is fixed.
    pub(crate) fn new(
        mask: Option<&Mat<f64>>,
        what: &'static str,
        (rows, cols): (usize, usize),
        transpose: bool,
        scale: f64,
    ) -> Result<Option<Fixed>> {
        let Some(m) = mask else { return Ok(None) };
        if (m.nrows, m.ncols) != (rows, cols) {
            return Err(invalid(
                what,
                format!(
                    "has shape {}×{} but the factor is {rows}×{cols}",
                    m.nrows, m.ncols
                ),
            ));
        }
        if let Some(v) = m.data.iter().find(|v| v.is_infinite()) {
            return Err(invalid(
                what,
                format!(
                    "holds {v}: fixed values must be finite (NaN or negative marks a free entry)"
                ),
            ));
        }
        let values = Mat::from_fn(rows, cols, |i, j| {
            let v = m.get(i, j);
            if v >= 0.0 {
                v * scale
            } else {
                f64::NAN
            }
        });
        if values.data.iter().all(|v| v.is_nan()) {
            return Ok(None);
        }
        Ok(Some(Fixed {
            values: if transpose {
                values.transpose()
            } else {
                values.clone()
            },
            user: values,
        }))
    }

    /// Sets the fixed entries of column `j` of the stored factor.
    #[inline]
    pub(crate) fn apply_col(&self, j: usize, col: &mut [f64]) {
        for (c, &v) in col.iter_mut().zip(self.values.col(j)) {
            if !v.is_nan() {
                *c = v;
            }
        }
    }

    /// Sets every fixed entry of the stored factor.
    pub(crate) fn apply(&self, f: &mut Mat<f64>) {
        for j in 0..f.ncols {
            self.apply_col(j, f.col_mut(j));
        }
    }
}

impl Fixed {
    /// Under the simplex: every column's fixed entries must leave room for
    /// its free ones (Σ fixed + ε·free < 1; all fixed: Σ = 1).
    pub(crate) fn check_budget(&self, what: &'static str, eps: f64) -> Result<()> {
        for j in 0..self.user.ncols {
            let col = self.user.col(j);
            let fixed: f64 = col.iter().filter(|v| !v.is_nan()).sum();
            let free = col.iter().filter(|v| v.is_nan()).count();
            let fits = if free == 0 {
                (fixed - 1.0).abs() <= 1e-12
            } else {
                fixed + eps * (free as f64) < 1.0
            };
            if !fits {
                return Err(invalid(
                    what,
                    format!(
                        "the fixed entries of column {j} sum to {fixed}: under the simplex constraint they must leave room for the {free} free entries (sum below 1)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Sets the fixed entries of column `j` of the factor as the user sees it.
    fn apply_user_col(&self, j: usize, col: &mut [f64]) {
        for (c, &v) in col.iter_mut().zip(self.user.col(j)) {
            if !v.is_nan() {
                *c = v;
            }
        }
    }

    /// Column `j`'s free entries and the budget they share, 1 − Σ fixed;
    /// None when none of them is fixed.
    fn free_budget(&self, j: usize) -> Option<(Vec<usize>, f64)> {
        let col = self.user.col(j);
        if col.iter().all(|v| v.is_nan()) {
            return None;
        }
        let free: Vec<usize> = (0..col.len()).filter(|&t| col[t].is_nan()).collect();
        let fixed: f64 = col.iter().filter(|v| !v.is_nan()).sum();
        Some((free, 1.0 - fixed))
    }
}

/// [`simplex::solve`] for column `j` of a factor (as the user sees it: W
/// m×k, H k×p) that may hold fixed entries: they keep their values, the
/// free ones share the rest.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_on_simplex(
    fixed: Option<&Fixed>,
    j: usize,
    a: f64,
    b: &[f64],
    c: &[f64],
    eps: f64,
    col: &mut [f64],
    guess: f64,
) -> f64 {
    let Some((free, beta)) = fixed.and_then(|fx| fx.free_budget(j)) else {
        return simplex::solve(a, b, c, eps, col, guess);
    };
    let mut nu = f64::NAN;
    if !free.is_empty() {
        let bs: Vec<f64> = free.iter().map(|&t| b[t]).collect();
        let cs: Vec<f64> = free.iter().map(|&t| c[t] / beta).collect();
        let mut y = vec![0.0; free.len()];
        nu = simplex::solve(a * beta, &bs, &cs, eps / beta, &mut y, guess);
        for (&t, &v) in free.iter().zip(&y) {
            col[t] = v * beta;
        }
    }
    fixed
        .expect("some entries are fixed")
        .apply_user_col(j, col);
    nu
}

/// [`simplex::solve_quadratic`] likewise (per-entry curvatures `a`).
pub(crate) fn solve_quadratic_on_simplex(
    fixed: Option<&Fixed>,
    j: usize,
    a: &[f64],
    b: &[f64],
    eps: f64,
    v: &mut [f64],
) {
    let Some((free, beta)) = fixed.and_then(|fx| fx.free_budget(j)) else {
        simplex::solve_quadratic(a, b, eps, v);
        return;
    };
    if !free.is_empty() {
        let as_: Vec<f64> = free.iter().map(|&t| a[t] * beta).collect();
        let bs: Vec<f64> = free.iter().map(|&t| b[t]).collect();
        let mut y = vec![0.0; free.len()];
        simplex::solve_quadratic(&as_, &bs, eps / beta, &mut y);
        for (&t, &u) in free.iter().zip(&y) {
            v[t] = u * beta;
        }
    }
    fixed.expect("some entries are fixed").apply_user_col(j, v);
}
