//! Weighted and missing entries, built one way for every caller (the CLI
//! and the Python package both come here): from NaN entries, a list of
//! holes, a dense weight per entry or a sparse list of weighted entries,
//! for dense or sparse X.
//!
//! A weighted fit minimizes Σ M_ij·d_β(X_ij, (WH)_ij) with M ≥ 0; M_ij = 0
//! marks a missing entry, whose value is never read. Dense X gets a dense
//! M ([`Weighted::Dense`]); sparse X never becomes dense: its weights are
//! the listed entries with their own weight and one weight `others` for
//! every other entry ([`Weighted::Sparse`]).

mod fill;
#[cfg(test)]
mod tests;

pub use crate::data::SparseWeights;
pub use fill::{impute, impute_sparse, masked_divergence, sparse_masked_error};

use crate::data::CsrMatrix;
use crate::error::{invalid, Result};
use crate::matrix::Mat;
use crate::model::{Input, Matrix};
use crate::scalar::Scalar;
use std::collections::BTreeMap;

/// Which entries of X are missing by their value or storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Missing {
    /// None by value (NaN is then an error).
    #[default]
    None,
    /// NaN entries (dense, or stored in sparse X) are missing.
    Nan,
    /// Sparse X: only the stored entries are observed, the others missing
    /// rather than zeros (ratings).
    Unstored,
}

impl Missing {
    pub fn parse(s: &str) -> Result<Missing> {
        match s {
            "none" => Ok(Missing::None),
            "nan" => Ok(Missing::Nan),
            "unstored" => Ok(Missing::Unstored),
            _ => Err(invalid(
                "missing",
                format!("'{s}' is not one of none, nan, unstored"),
            )),
        }
    }
}

/// What says which entries weigh what.
#[derive(Clone, Copy, Debug, Default)]
pub struct MaskSpec<'a, T> {
    /// A weight per entry (dense), or the listed entries with their weights
    /// (sparse: every unstored entry of the mask weighs 0).
    pub mask: Option<Input<'a, T>>,
    /// Entries that are missing: the stored entries of a sparse matrix or
    /// the nonzero ones of a dense one; every other entry is observed.
    pub missing_entries: Option<Input<'a, T>>,
    pub missing: Missing,
}

impl<T> MaskSpec<'_, T> {
    /// Whether anything is missing or weighted.
    pub fn active(&self) -> bool {
        self.mask.is_some() || self.missing_entries.is_some() || self.missing != Missing::None
    }
}

/// X with its weights, ready to fit ([`crate::Nmf::fit_weighted`]).
#[derive(Clone, Debug)]
pub enum Weighted<T: 'static> {
    /// Dense X (missing entries set to 0) and a weight per entry.
    Dense { x: Mat<T>, weights: Mat<T> },
    /// Sparse X (missing NaN dropped), the listed weights and the weight of
    /// every other entry.
    Sparse {
        x: CsrMatrix<T>,
        listed: CsrMatrix<T>,
        others: T,
    },
}

fn check_shape<T: Scalar>(
    what: &'static str,
    m: &Input<'_, T>,
    shape: (usize, usize),
) -> Result<()> {
    if m.shape() != shape {
        return Err(crate::NmfError::Shape {
            what,
            got: m.shape(),
            expected: shape,
        });
    }
    Ok(())
}

/// The (row, column) of every entry a hole list names.
fn holes_of<T: Scalar>(h: &Input<'_, T>) -> Vec<(usize, usize)> {
    match h {
        Input::Dense(d) => (0..d.ncols)
            .flat_map(|j| (0..d.nrows).map(move |i| (i, j)))
            .filter(|&(i, j)| d.get(i, j) != T::ZERO)
            .collect(),
        Input::Sparse(s) => (0..s.nrows())
            .flat_map(|i| s.row(i).0.iter().map(move |&j| (i, j as usize)))
            .collect(),
    }
}

impl<T: Scalar> Weighted<T> {
    /// Builds the weights of X from `spec`.
    pub fn build(x: Input<'_, T>, spec: &MaskSpec<'_, T>) -> Result<Weighted<T>> {
        let (n, m) = x.shape();
        if let Some(mask) = &spec.mask {
            check_shape("mask", mask, (n, m))?;
            let values = match mask {
                Input::Dense(d) => d.data,
                Input::Sparse(s) => s.values(),
            };
            if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v >= T::ZERO)) {
                return Err(invalid(
                    "mask",
                    format!("weights must be finite and >= 0, found {v}"),
                ));
            }
        }
        if let Some(h) = &spec.missing_entries {
            check_shape("missing entries", h, (n, m))?;
        }
        let nan = spec.missing == Missing::Nan;
        match x {
            Input::Dense(xd) => {
                if spec.missing == Missing::Unstored {
                    return Err(invalid(
                        "missing",
                        "'unstored' needs sparse data: a dense matrix stores every entry",
                    ));
                }
                let mut weights = match &spec.mask {
                    Some(w) => w.to_owned().to_dense(),
                    None => Mat::from_fn(n, m, |_, _| T::ONE),
                };
                if let Some(h) = &spec.missing_entries {
                    for (i, j) in holes_of(h) {
                        weights.set(i, j, T::ZERO);
                    }
                }
                let mut filled = xd.to_owned();
                for (v, w) in filled.data.iter_mut().zip(weights.data.iter_mut()) {
                    if nan && v.to_f64().is_nan() {
                        *w = T::ZERO;
                    }
                    if *w == T::ZERO {
                        *v = T::ZERO;
                    }
                }
                Ok(Weighted::Dense { x: filled, weights })
            }
            Input::Sparse(xs) => {
                if spec.missing == Missing::Unstored {
                    if spec.mask.is_some() || spec.missing_entries.is_some() {
                        return Err(invalid(
                            "missing",
                            "'unstored' already says which entries are observed: give no mask or missing entries with it",
                        ));
                    }
                    return Ok(Weighted::Sparse {
                        x: xs.view().into_owned(),
                        listed: xs.pattern(),
                        others: T::ZERO,
                    });
                }
                // Listed weights as (row, column) → weight.
                let mut listed: BTreeMap<(usize, usize), T> = BTreeMap::new();
                let mut others = T::ONE;
                match &spec.mask {
                    Some(Input::Sparse(ws)) => {
                        others = T::ZERO;
                        for i in 0..n {
                            let (idx, val) = ws.row(i);
                            for (&j, &v) in idx.iter().zip(val) {
                                listed.insert((i, j as usize), v);
                            }
                        }
                    }
                    Some(Input::Dense(wd)) => {
                        for j in 0..m {
                            for i in 0..n {
                                let v = wd.get(i, j);
                                if v != T::ONE {
                                    listed.insert((i, j), v);
                                }
                            }
                        }
                    }
                    None => {}
                }
                if let Some(h) = &spec.missing_entries {
                    for ij in holes_of(h) {
                        listed.insert(ij, T::ZERO);
                    }
                }
                // Stored NaN: missing with `Missing::Nan` (dropped from X),
                // else left for the fit to name.
                let mut t = Vec::with_capacity(xs.nnz());
                for i in 0..n {
                    let (idx, val) = xs.row(i);
                    for (&j, &v) in idx.iter().zip(val) {
                        if nan && v.to_f64().is_nan() {
                            listed.insert((i, j as usize), T::ZERO);
                        } else {
                            t.push((i, j as usize, v));
                        }
                    }
                }
                let x = CsrMatrix::from_triplets(n, m, &t)?;
                let lt: Vec<(usize, usize, T)> =
                    listed.into_iter().map(|((i, j), v)| (i, j, v)).collect();
                let listed = CsrMatrix::from_triplets(n, m, &lt)?;
                Ok(Weighted::Sparse { x, listed, others })
            }
        }
    }

    pub fn shape(&self) -> (usize, usize) {
        match self {
            Weighted::Dense { x, .. } => (x.nrows, x.ncols),
            Weighted::Sparse { x, .. } => (x.nrows(), x.ncols()),
        }
    }

    /// The sparse weights, for sparse X.
    pub fn sparse_weights(&self) -> Option<SparseWeights<'_, T>> {
        match self {
            Weighted::Sparse { listed, others, .. } => Some(SparseWeights {
                listed,
                others: *others,
            }),
            Weighted::Dense { .. } => None,
        }
    }

    /// Entries with weight 0.
    pub fn missing_count(&self) -> usize {
        match self {
            Weighted::Dense { weights, .. } => {
                weights.data.iter().filter(|w| **w == T::ZERO).count()
            }
            Weighted::Sparse { x, listed, others } => {
                let zero = listed.values().iter().filter(|w| **w == T::ZERO).count();
                if *others == T::ZERO {
                    x.nrows() * x.ncols() - (listed.nnz() - zero)
                } else {
                    zero
                }
            }
        }
    }

    /// (½ Σ M∘(X − WH)², Σ M∘X²): the weighted Frobenius loss and the
    /// weighted norm it is relative to.
    pub fn frobenius(&self, w: &Mat<T>, h: &Mat<T>) -> Result<(f64, f64)> {
        match self {
            Weighted::Dense { x, weights } => {
                let sq = x
                    .data
                    .iter()
                    .zip(&weights.data)
                    .map(|(v, m)| m.to_f64() * v.to_f64() * v.to_f64())
                    .sum();
                Ok((
                    masked_divergence(x.as_ref(), weights.as_ref(), w, h, 2.0)?,
                    sq,
                ))
            }
            Weighted::Sparse { x, .. } => {
                sparse_masked_error(x, self.sparse_weights().expect("sparse"), w, h)
            }
        }
    }

    /// Σ M∘d_β(X, WH) for W (n×k) and H (k×m).
    pub fn divergence(&self, w: &Mat<T>, h: &Mat<T>, beta: f64) -> Result<f64> {
        use crate::data::{Data, DenseWeighted, SparseWeighted};
        let wt = w.transpose();
        Ok(match self {
            Weighted::Dense { x, weights } => {
                DenseWeighted::new(x.as_ref(), weights.as_ref())?.divergence(&wt, h, beta)
            }
            Weighted::Sparse { x, .. } => {
                let sw = self.sparse_weights().expect("sparse");
                SparseWeighted::new(x, sw)?.divergence(&wt, h, beta)
            }
        })
    }

    /// ‖M∘(X − WH)‖ / ‖M∘X‖ in the weighted norm (0 when M∘X is 0).
    pub fn relative_error(&self, w: &Mat<T>, h: &Mat<T>) -> Result<f64> {
        let (loss, sq) = self.frobenius(w, h)?;
        // The sparse closed form may round a near-exact fit slightly below 0.
        Ok(if sq > 0.0 {
            (2.0 * loss.max(0.0) / sq).sqrt()
        } else {
            0.0
        })
    }

    /// X with the missing entries replaced by W·H (sparse stays sparse).
    pub fn impute(&self, w: &Mat<T>, h: &Mat<T>) -> Result<Matrix<T>> {
        Ok(match self {
            Weighted::Dense { x, weights } => {
                Matrix::Dense(impute(x.as_ref(), weights.as_ref(), w, h))
            }
            Weighted::Sparse { x, .. } => Matrix::Sparse(impute_sparse(
                x,
                self.sparse_weights().expect("sparse"),
                w,
                h,
            )?),
        })
    }
}
