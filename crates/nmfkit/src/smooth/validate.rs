//! The smooth model's checks of its options and inputs.

use super::laplacian::Grid;
use super::{Simplex, SmoothNmf};
use crate::data::{validate_data, Data, DenseData};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::matrix::MatRef;

impl SmoothNmf {
    pub(super) fn validate(
        &self,
        x: MatRef<'_, f64>,
        g: Option<MatRef<'_, f64>>,
    ) -> Result<Option<Grid>> {
        let (n, p) = (x.nrows, x.ncols);
        let k = self.rank;
        if k == 0 {
            return Err(NmfError::ZeroRank);
        }
        validate_data(&DenseData::new(x))?;
        if let Some(g) = g {
            if g.nrows != n {
                return Err(NmfError::Shape {
                    what: "G",
                    got: (g.nrows, g.ncols),
                    expected: (n, g.ncols),
                });
            }
            if g.ncols == 0 {
                return Err(invalid("dictionary", "G has no columns"));
            }
            if let Some((row, col, v)) = DenseData::new(g).first_bad_entry() {
                return Err(bad_entry("G", row, col, v));
            }
            if let Some(q) = (0..g.ncols).find(|&q| g.col(q).iter().all(|&v| v == 0.0)) {
                return Err(invalid(
                    "dictionary",
                    format!("column {q} of G is all zeros: its weight could not be learned"),
                ));
            }
        }
        let finite_nonneg = |name: &'static str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(invalid(
                    name,
                    format!("must be a finite number >= 0, got {v}"),
                ))
            }
        };
        finite_nonneg("lambda_l", self.lambda_l)?;
        for &m in &self.mu {
            finite_nonneg("mu", m)?;
        }
        if !(self.mu.len() <= 1 || self.mu.len() == k) {
            return Err(invalid(
                "mu",
                format!(
                    "give one value or one per component ({k}), got {}",
                    self.mu.len()
                ),
            ));
        }
        if !(self.epsilon_reg.is_finite() && self.epsilon_reg > 0.0) {
            return Err(invalid(
                "epsilon_reg",
                format!("must be > 0, got {}", self.epsilon_reg),
            ));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(invalid("eps", format!("must be > 0, got {}", self.eps)));
        }
        let simplex_len = match (self.simplex, g) {
            (Simplex::H, _) => k,
            (Simplex::W, Some(g)) => g.ncols,
            (Simplex::W, None) => n,
            (Simplex::None, _) => 0,
        };
        if simplex_len > 0 && self.eps * simplex_len as f64 >= 1.0 {
            return Err(invalid(
                "eps",
                format!(
                    "{} entries of at least {} cannot sum to 1",
                    simplex_len, self.eps
                ),
            ));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(invalid("tol", format!("must be >= 0, got {}", self.tol)));
        }
        if self.eval_every == 0 {
            return Err(invalid("eval_every", "must be at least 1"));
        }
        if let Some(ft) = self.factor_tol {
            if !(ft >= 0.0) {
                return Err(invalid("factor_tol", format!("must be >= 0, got {ft}")));
            }
        }
        let grid = match self.image_shape {
            Some((h, w)) => {
                if h * w != p {
                    return Err(invalid(
                        "image_shape",
                        format!(
                            "{h}x{w} has {} pixels but X has {p} columns (pixels)",
                            h * w
                        ),
                    ));
                }
                Some(Grid {
                    height: h,
                    width: w,
                })
            }
            None if self.lambda_l > 0.0 => {
                return Err(invalid(
                    "image_shape",
                    "the Laplacian term (lambda_l > 0) needs the image shape of the maps",
                ))
            }
            None => None,
        };
        Ok(grid)
    }
}
