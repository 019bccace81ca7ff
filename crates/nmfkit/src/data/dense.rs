//! Dense X: the products are GEMMs, the other losses' terms tiled WH
//! kernels (`tiles`).

use super::{first_bad, Data, Problem, Side};
use crate::linalg::{det_sum, gemm};
use crate::matrix::{Mat, MatRef};
use crate::scalar::{Scalar, EPS32};
use faer::Par;
use rayon::prelude::*;

/// Dense data: a borrowed column-major n×m matrix.
pub struct DenseData<'a, T> {
    x: MatRef<'a, T>,
    sq_norm: f64,
    sum: f64,
}

impl<'a, T: Scalar> DenseData<'a, T> {
    pub fn new(x: MatRef<'a, T>) -> Self {
        let n = x.nrows;
        let sq_norm = det_sum(x.ncols, |j| {
            x.data[j * n..(j + 1) * n]
                .iter()
                .map(|v| v.to_f64() * v.to_f64())
                .sum()
        });
        let sum = det_sum(x.ncols, |j| {
            x.data[j * n..(j + 1) * n].iter().map(|v| v.to_f64()).sum()
        });
        DenseData { x, sq_norm, sum }
    }

    /// With ‖X‖² and ΣX known already (a batch whose one checking pass
    /// found them), so that nothing is summed again.
    pub(crate) fn with_stats(x: MatRef<'a, T>, sq_norm: f64, sum: f64) -> Self {
        DenseData { x, sq_norm, sum }
    }

    pub fn matrix(&self) -> MatRef<'a, T> {
        self.x
    }
}

impl<T: Scalar> Problem for DenseData<'_, T> {}

impl<T: Scalar> Data<T> for DenseData<'_, T> {
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
    fn has_zero(&self) -> bool {
        self.x.data.par_iter().any(|&v| v == T::ZERO)
    }

    fn cross(&self, side: Side, l: &Mat<T>, out: &mut Mat<T>, par: Par) {
        dense_cross(self.x, side, l, out, par);
    }

    fn cross_weighted<G>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, g: G, out: &mut Mat<T>)
    where
        G: Fn(T, T) -> T + Sync,
    {
        super::tiles::cross(Some(self.x), side, wt, h, g, out);
    }

    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync,
    {
        let eps = T::from_f64(EPS32);
        super::tiles::fold(
            Some(self.x),
            wt,
            h,
            |x, wh| if x > eps { f(x, wh) } else { 0.0 },
        )
    }

    fn visits_lines(&self) -> bool {
        true
    }

    fn visit_lines<F>(&self, side: Side, out: &mut Mat<T>, visit: F) -> bool
    where
        F: Fn(usize, super::LineEntries<'_, T>, &mut [T]) + Sync,
    {
        super::visit_dense_lines(self.x, side, out, visit);
        true
    }

    fn first_bad_entry(&self) -> Option<(usize, usize, T)> {
        first_bad(self.x.nrows, self.x.data)
    }

    fn dense_matrix(&self) -> Option<MatRef<'_, T>> {
        Some(self.x)
    }
}

/// Side H: `out = L·X`; side W: `out = L·Xᵀ` (one GEMM).
pub(crate) fn dense_cross<T: Scalar>(
    x: MatRef<'_, T>,
    side: Side,
    l: &Mat<T>,
    out: &mut Mat<T>,
    par: Par,
) {
    let k = l.nrows;
    let (cols, xt) = match side {
        Side::H => (x.ncols, false),
        Side::W => (x.nrows, true),
    };
    gemm(&mut out.data, k, cols, l.as_ref(), false, x, xt, false, par);
}
