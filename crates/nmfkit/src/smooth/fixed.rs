//! ESPM's `fixed_W` and `fixed_H`: entries of W or H given by the user and
//! kept through the fit. A mask of the factor's shape holds the fixed values
//! (≥ 0); free entries are NaN or, as ESPM marks them, negative. The MM
//! surrogates are separable per entry, so minimizing them over the free
//! entries alone still never increases the objective; under a simplex
//! constraint on the same factor the fixed entries would change each
//! column's budget, which the simplex step does not handle, so that
//! combination is refused.

use crate::error::{invalid, Result};
use crate::matrix::Mat;

/// The fixed entries of one factor, stored like the factor in the fit
/// (k × columns: Wᵀ for W, H for H), NaN where free.
#[derive(Clone, Debug)]
pub(crate) struct Fixed {
    values: Mat<f64>,
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
                values
            },
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
