//! Sparse X with sparse weights: every entry listed in the weights matrix
//! has its own weight, every other entry the weight `others`.
//!
//! - `others = 1`: X's unstored entries stay observed zeros (the default
//!   meaning of sparse data) and the list names the holes (weight 0) or the
//!   reweighted entries.
//! - `others = 0`: only the listed entries are observed (ratings).
//!
//! The products are those of M∘X (sparse); each line's Gram corrects
//! `others`·L Lᵀ by its entries whose weight differs from `others`
//! ([`Lines`]): O((nnz + listed)·k + n·k²) per half-step, nothing n×m. Only
//! β other than 1 and 2 with `others > 0` needs Σ (WH)^(β−1) over every
//! entry, as plain sparse data does.

use super::csr::{Csr, CsrMatrix};
use super::lines::Lines;
use super::sparse::SparseData;
use super::{gram_of, row_sums_of, tiles, Data, Problem, Side};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::linalg::{det_sum, dot, inner};
use crate::loss::Divergence;
use crate::matrix::Mat;
use crate::scalar::{Scalar, EPS32};
use faer::Par;
use rayon::prelude::*;

/// The weights of a sparse weighted fit (see the module's notes).
#[derive(Clone, Copy, Debug)]
pub struct SparseWeights<'a, T> {
    /// Entries with their own weight (finite, ≥ 0; 0 = missing, X's value
    /// there is never read).
    pub listed: &'a Csr<'a, T>,
    /// The weight of every entry not listed (finite, ≥ 0): 1 keeps X's
    /// unstored entries as observed zeros, 0 observes only the listed ones.
    pub others: T,
}

impl<'a, T: Scalar> SparseWeights<'a, T> {
    /// `listed` marks missing entries (their stored weights should be 0);
    /// every other entry, stored in X or not, weighs 1.
    pub fn holes(listed: &'a Csr<'a, T>) -> Self {
        SparseWeights {
            listed,
            others: T::ONE,
        }
    }

    /// Only the listed entries are observed, with their weights.
    pub fn observed(listed: &'a Csr<'a, T>) -> Self {
        SparseWeights {
            listed,
            others: T::ZERO,
        }
    }
}

/// An entry that X stores or the weights list: column, value (0 where
/// missing or unstored) and weight.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<T> {
    pub j: u32,
    pub x: T,
    pub m: T,
}

/// Sparse weighted data (see the module's notes).
pub struct SparseWeighted<T: Scalar> {
    shape: (usize, usize),
    /// Per row of X, its stored and listed entries (those that differ from
    /// an unlisted zero), in column order.
    rows: Vec<Vec<Entry<T>>>,
    others: T,
    mx: SparseData<'static, T>,
    row_lines: Option<Lines<T>>,
    col_lines: Option<Lines<T>>,
    sq_norm: f64,
    sum: f64,
    weight_sum: f64,
    has_zero: bool,
}

/// Row i of X merged with row i of the weights; entries that behave like an
/// unlisted one (weight `others`, value 0) are dropped. Checks values and
/// weights on the way.
fn merge_rows<T: Scalar>(
    x: &Csr<'_, T>,
    wts: &Csr<'_, T>,
    others: T,
) -> Result<Vec<Vec<Entry<T>>>> {
    (0..x.nrows())
        .into_par_iter()
        .map(|i| {
            let (xi, xv) = x.row(i);
            let (wi, wv) = wts.row(i);
            let mut out = Vec::with_capacity(xi.len().max(wi.len()));
            let (mut a, mut b) = (0, 0);
            while a < xi.len() || b < wi.len() {
                let ja = xi.get(a).copied().unwrap_or(u32::MAX);
                let jb = wi.get(b).copied().unwrap_or(u32::MAX);
                let j = ja.min(jb);
                let v = if ja == j {
                    a += 1;
                    xv[a - 1]
                } else {
                    T::ZERO
                };
                let m = if jb == j {
                    b += 1;
                    wv[b - 1]
                } else {
                    others
                };
                if !(m.is_finite() && m >= T::ZERO) {
                    return Err(bad_entry("mask", i, j as usize, m.to_f64()));
                }
                if m == T::ZERO {
                    // Missing: the stored value is never read.
                    if others != T::ZERO {
                        out.push(Entry { j, x: T::ZERO, m });
                    }
                    continue;
                }
                if !(v.is_finite() && v >= T::ZERO) {
                    return Err(bad_entry("X", i, j as usize, v.to_f64()));
                }
                if v != T::ZERO || m != others {
                    out.push(Entry { j, x: v, m });
                }
            }
            Ok(out)
        })
        .collect()
}

impl<T: Scalar> SparseWeighted<T> {
    pub fn new(x: &Csr<'_, T>, weights: SparseWeights<'_, T>) -> Result<Self> {
        let (n, m) = (x.nrows(), x.ncols());
        let d = weights.others;
        if n == 0 || m == 0 {
            return Err(NmfError::Empty { rows: n, cols: m });
        }
        let listed = weights.listed;
        if (listed.nrows(), listed.ncols()) != (n, m) {
            return Err(NmfError::Shape {
                what: "mask",
                got: (listed.nrows(), listed.ncols()),
                expected: (n, m),
            });
        }
        if !(d.is_finite() && d >= T::ZERO) {
            return Err(invalid(
                "mask",
                format!("the weight of unlisted entries must be finite and >= 0, got {d}"),
            ));
        }
        let rows = merge_rows(x, listed, d)?;
        let count: usize = rows.iter().map(Vec::len).sum();
        let (mut sq_norm, mut sum, mut weight_sum) = (0.0, 0.0, 0.0);
        let mut has_zero = d > T::ZERO && count < n * m;
        let mut t = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            for e in r {
                let (v, w) = (e.x.to_f64(), e.m.to_f64());
                sq_norm += w * v * v;
                sum += w * v;
                weight_sum += w;
                has_zero |= w > 0.0 && v == 0.0;
                if e.x != T::ZERO && e.m != T::ZERO {
                    t.push((i, e.j as usize, e.m * e.x));
                }
            }
        }
        weight_sum += d.to_f64() * (n * m - count) as f64;
        if weight_sum == 0.0 {
            return Err(invalid(
                "mask",
                "every entry is missing: there is nothing to fit",
            ));
        }
        let mx = SparseData::owned(CsrMatrix::from_triplets(n, m, &t)?);
        // Each line's entries whose weight differs from `others`.
        let special = |r: &[Entry<T>]| -> Vec<(u32, T)> {
            r.iter().filter(|e| e.m != d).map(|e| (e.j, e.m)).collect()
        };
        let row_lists: Vec<Vec<(u32, T)>> = rows.iter().map(|r| special(r)).collect();
        let mut col_lists: Vec<Vec<(u32, T)>> = vec![Vec::new(); m];
        for (i, r) in row_lists.iter().enumerate() {
            for &(j, w) in r {
                col_lists[j as usize].push((i as u32, w));
            }
        }
        // Lines start from `others`·L Lᵀ; none is needed when every weight is 1.
        let lines = |len: usize, lists: &[Vec<(u32, T)>]| {
            (d != T::ONE || !lists.iter().all(Vec::is_empty))
                .then(|| Lines::from_weights(len, d, lists.iter().map(|l| &l[..])))
        };
        Ok(SparseWeighted {
            shape: (n, m),
            row_lines: lines(m, &row_lists),
            col_lines: lines(n, &col_lists),
            rows,
            others: d,
            mx,
            sq_norm,
            sum,
            weight_sum,
            has_zero,
        })
    }

    /// The weight of every unlisted entry.
    pub fn others(&self) -> T {
        self.others
    }

    pub(crate) fn rows(&self) -> &[Vec<Entry<T>>] {
        &self.rows
    }
}

impl<T: Scalar> Problem for SparseWeighted<T> {}

impl<T: Scalar> Data<T> for SparseWeighted<T> {
    fn shape(&self) -> (usize, usize) {
        self.shape
    }
    fn nnz(&self) -> usize {
        self.mx.nnz()
    }
    fn is_sparse(&self) -> bool {
        true
    }
    fn sq_norm(&self) -> f64 {
        self.sq_norm
    }
    fn sum(&self) -> f64 {
        self.sum
    }
    fn weight_sum(&self) -> f64 {
        self.weight_sum
    }
    fn has_zero(&self) -> bool {
        self.has_zero
    }

    fn cross(&self, side: Side, l: &Mat<T>, out: &mut Mat<T>, par: Par) {
        self.mx.cross(side, l, out, par);
    }

    fn cross_weighted<G>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, g: G, out: &mut Mat<T>)
    where
        G: Fn(T, T) -> T + Sync,
    {
        self.mx.cross_weighted(side, wt, h, g, out);
    }

    fn cross_all<P>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, psi: P, out: &mut Mat<T>)
    where
        P: Fn(T) -> T + Sync,
    {
        match self.lines(side) {
            Some(lines) => lines.cross_all(side, wt, h, &psi, out),
            // Every weight 1: the plain product.
            None => tiles::cross(None, side, wt, h, |_, y| psi(y), out),
        }
    }

    fn visits_lines(&self) -> bool {
        true
    }

    fn visit_lines<F>(&self, side: Side, out: &mut Mat<T>, visit: F) -> bool
    where
        F: Fn(usize, super::LineEntries<'_, T>, &mut [T]) + Sync,
    {
        self.mx.visit_lines(side, out, visit)
    }

    fn lines(&self, side: Side) -> Option<&Lines<T>> {
        match side {
            Side::W => self.row_lines.as_ref(),
            Side::H => self.col_lines.as_ref(),
        }
    }

    /// Σ_listed m·d(x, y) + others·Σ_unlisted d(0, y), the unlisted part
    /// from closed forms where β has one.
    fn divergence(&self, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
        let div = Divergence::new(beta);
        let d = self.others.to_f64();
        let listed = det_sum(self.rows.len(), |i| {
            let wi = wt.col(i);
            self.rows[i]
                .iter()
                .map(|e| {
                    let y = dot(wi, h.col(e.j as usize)).to_f64();
                    let m = e.m.to_f64();
                    let own = if m > 0.0 {
                        m * div.at(e.x.to_f64(), y)
                    } else {
                        0.0
                    };
                    own - d * div.at_zero(y)
                })
                .sum()
        });
        if d == 0.0 {
            return listed;
        }
        let all = if beta == 2.0 {
            0.5 * inner(&gram_of(self, wt).data, &gram_of(self, h).data)
        } else if beta == 1.0 {
            inner(&row_sums_of(self, wt), &row_sums_of(self, h))
        } else if beta == 0.0 {
            -((self.shape.0 * self.shape.1) as f64)
        } else {
            tiles::fold(None, wt, h, |_, y| div.at_zero(y.to_f64()))
        };
        listed + d * all
    }

    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync,
    {
        let eps = T::from_f64(EPS32);
        det_sum(self.rows.len(), |i| {
            let wi = wt.col(i);
            self.rows[i]
                .iter()
                .filter(|e| e.m > T::ZERO && e.x > eps)
                .map(|e| e.m.to_f64() * f(e.x, dot(wi, h.col(e.j as usize))))
                .sum()
        })
    }

    fn first_bad_entry(&self) -> Option<(usize, usize, T)> {
        None
    }
}
