//! Dense X with a dense weight per entry: Σ M∘d_β(X, WH). M_ij = 0 marks a
//! missing entry, whose value is never read. The products are those of
//! M∘X; each row and column whose weights are not all 1 gets its own Gram
//! through [`Lines`].

use super::dense::dense_cross;
use super::lines::Lines;
use super::tiles;
use super::{Data, Problem, Side};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::loss::Divergence;
use crate::matrix::{Mat, MatRef};
use crate::scalar::{Scalar, EPS32};
use faer::Par;
use rayon::prelude::*;

/// Dense weighted data (see the module's notes).
pub struct DenseWeighted<'a, T: Scalar> {
    /// X; its missing entries are never read.
    x: MatRef<'a, T>,
    weights: MatRef<'a, T>,
    /// M∘X, unless that is `x` itself.
    mx: Option<Mat<T>>,
    rows: Option<Lines<T>>,
    cols: Option<Lines<T>>,
    sq_norm: f64,
    sum: f64,
    weight_sum: f64,
    has_zero: bool,
}

impl<'a, T: Scalar> DenseWeighted<'a, T> {
    /// X (n×m) and its weights (n×m, finite, ≥ 0). Entries of weight 0 are
    /// never read (they may hold NaN); every observed entry must be finite
    /// and ≥ 0.
    pub fn new(x: MatRef<'a, T>, weights: MatRef<'a, T>) -> Result<Self> {
        let (n, m) = (x.nrows, x.ncols);
        if n == 0 || m == 0 {
            return Err(NmfError::Empty { rows: n, cols: m });
        }
        if (weights.nrows, weights.ncols) != (n, m) {
            return Err(NmfError::Shape {
                what: "mask",
                got: (weights.nrows, weights.ncols),
                expected: (n, m),
            });
        }
        // M∘X can be X itself when every weight is 0 or 1 and the missing
        // entries hold 0.
        let mut as_is = true;
        for p in 0..n * m {
            let (v, w) = (x.data[p], weights.data[p]);
            if !(w.is_finite() && w >= T::ZERO) {
                return Err(bad_entry("mask", p % n, p / n, w.to_f64()));
            }
            if w > T::ZERO {
                if !(v.is_finite() && v >= T::ZERO) {
                    return Err(bad_entry("X", p % n, p / n, v.to_f64()));
                }
            } else {
                as_is &= v == T::ZERO;
            }
            as_is &= w == T::ZERO || w == T::ONE;
        }
        let weight_sum = weights.data.iter().map(|w| w.to_f64()).sum::<f64>();
        if weight_sum == 0.0 {
            return Err(invalid(
                "mask",
                "every entry is missing: there is nothing to fit",
            ));
        }
        let mx = if as_is {
            None
        } else {
            let data = x.data.iter().zip(weights.data);
            let data = data.map(|(&v, &w)| if w > T::ZERO { v * w } else { T::ZERO });
            Some(Mat::from_col_major(n, m, data.collect())?)
        };
        let (mut sq_norm, mut sum, mut has_zero) = (0.0, 0.0, false);
        for (&v, &w) in x.data.iter().zip(weights.data) {
            if w == T::ZERO {
                continue;
            }
            let (v, w) = (v.to_f64(), w.to_f64());
            sq_norm += w * v * v;
            sum += w * v;
            has_zero |= w > 0.0 && v == 0.0;
        }
        // Lines: each row's (for W) and each column's (for H) entries whose
        // weight is not 1.
        let special = |it: &mut dyn Iterator<Item = (usize, T)>| -> Vec<(u32, T)> {
            it.filter(|e| e.1 != T::ONE)
                .map(|(i, w)| (i as u32, w))
                .collect()
        };
        let col_lists: Vec<Vec<(u32, T)>> = (0..m)
            .into_par_iter()
            .map(|j| special(&mut weights.col(j).iter().copied().enumerate()))
            .collect();
        let wt = weights.transpose();
        let row_lists: Vec<Vec<(u32, T)>> = (0..n)
            .into_par_iter()
            .map(|i| special(&mut wt.col(i).iter().copied().enumerate()))
            .collect();
        let lines = |len: usize, lists: &[Vec<(u32, T)>]| {
            (!lists.iter().all(Vec::is_empty))
                .then(|| Lines::from_weights(len, T::ONE, lists.iter().map(|l| &l[..])))
        };
        Ok(DenseWeighted {
            x,
            weights,
            mx,
            rows: lines(m, &row_lists),
            cols: lines(n, &col_lists),
            sq_norm,
            sum,
            weight_sum,
            has_zero,
        })
    }

    /// M∘X.
    fn mx(&self) -> MatRef<'_, T> {
        self.mx.as_ref().map_or(self.x, |m| m.as_ref())
    }

    /// X with the missing entries filled with their column's observed mean
    /// (the overall mean for a column with none): what the initialization
    /// of a dense weighted fit factorizes. With `by_rows`, rows' means
    /// instead — the user's columns when X is stored as its transpose.
    pub fn mean_filled(&self, by_rows: bool) -> Mat<T> {
        let (n, m) = (self.x.nrows, self.x.ncols);
        let overall = self.sum / self.weight_sum;
        // Observed sum and count per column (or per row).
        let lines = if by_rows { n } else { m };
        let mut acc = vec![(0.0f64, 0.0f64); lines];
        for j in 0..m {
            let (xc, wc) = (self.x.col(j), self.weights.col(j));
            for i in 0..n {
                if wc[i] > T::ZERO {
                    let a = &mut acc[if by_rows { i } else { j }];
                    a.0 += xc[i].to_f64();
                    a.1 += 1.0;
                }
            }
        }
        let mean: Vec<T> = acc
            .iter()
            .map(|&(s, c)| T::from_f64(if c > 0.0 { s / c } else { overall }))
            .collect();
        Mat::from_fn(n, m, |i, j| {
            if self.weights.get(i, j) == T::ZERO {
                mean[if by_rows { i } else { j }]
            } else {
                self.x.get(i, j)
            }
        })
    }
}

impl<T: Scalar> Problem for DenseWeighted<'_, T> {}

impl<T: Scalar> Data<T> for DenseWeighted<'_, T> {
    fn shape(&self) -> (usize, usize) {
        (self.x.nrows, self.x.ncols)
    }
    fn nnz(&self) -> usize {
        self.x.data.len()
    }
    fn is_sparse(&self) -> bool {
        false
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
        dense_cross(self.mx(), side, l, out, par);
    }

    fn cross_weighted<G>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, g: G, out: &mut Mat<T>)
    where
        G: Fn(T, T) -> T + Sync,
    {
        tiles::cross(Some(self.mx()), side, wt, h, g, out);
    }

    fn cross_all<P>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, psi: P, out: &mut Mat<T>)
    where
        P: Fn(T) -> T + Sync,
    {
        // A missing entry adds nothing, even where ψ is infinite.
        let g = |w: T, y: T| if w == T::ZERO { T::ZERO } else { w * psi(y) };
        tiles::cross(Some(self.weights), side, wt, h, g, out);
    }

    fn visits_lines(&self) -> bool {
        true
    }

    fn visit_lines<F>(&self, side: Side, out: &mut Mat<T>, visit: F) -> bool
    where
        F: Fn(usize, super::LineEntries<'_, T>, &mut [T]) + Sync,
    {
        super::visit_dense_lines(self.mx(), side, out, visit);
        true
    }

    fn lines(&self, side: Side) -> Option<&Lines<T>> {
        match side {
            Side::W => self.rows.as_ref(),
            Side::H => self.cols.as_ref(),
        }
    }

    fn divergence(&self, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
        let d = Divergence::new(beta);
        let (x, m) = (self.x, self.weights);
        tiles::fold_map(wt, h, |tile, buf| {
            let span = tile.cols.start * x.nrows..tile.cols.end * x.nrows;
            let (xs, ms) = (&x.data[span.clone()], &m.data[span]);
            let mut s = 0.0;
            for ((&y, &xv), &w) in buf.iter().zip(xs).zip(ms) {
                if w > T::ZERO {
                    s += w.to_f64() * d.at(xv.to_f64(), y.to_f64());
                }
            }
            s
        })
    }

    fn exact_frobenius(&self) -> bool {
        true
    }

    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync,
    {
        let eps = T::from_f64(EPS32);
        let (x, m) = (self.x, self.weights);
        tiles::fold_map(wt, h, |tile, buf| {
            let span = tile.cols.start * x.nrows..tile.cols.end * x.nrows;
            let (xs, ms) = (&x.data[span.clone()], &m.data[span]);
            let mut s = 0.0;
            for ((&y, &xv), &w) in buf.iter().zip(xs).zip(ms) {
                if w > T::ZERO && xv > eps {
                    s += w.to_f64() * f(xv, y);
                }
            }
            s
        })
    }

    fn first_bad_entry(&self) -> Option<(usize, usize, T)> {
        None
    }
}
