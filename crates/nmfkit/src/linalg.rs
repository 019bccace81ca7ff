//! Small dense kernels the solvers share: GEMM through faer, Gram matrices,
//! and reductions whose result does not depend on how rayon splits the work.

use crate::matrix::{Mat, MatRef};
use crate::scalar::Scalar;
use faer::{Accum, Par};
use rayon::prelude::*;

/// Columns handled by one rayon task in column-parallel kernels. Fixed, so
/// that every reduction adds the same partial sums in the same order
/// whatever the thread count.
pub(crate) const COL_CHUNK: usize = 64;

fn view<T: Scalar>(m: MatRef<'_, T>) -> faer::MatRef<'_, T> {
    faer::MatRef::from_column_major_slice(m.data, m.nrows, m.ncols)
}

/// `out = op(a) · op(b)` (or `out += …` when `accumulate`), where `op`
/// transposes when the flag says so. `out` is column-major `rows × cols`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Scalar>(
    out: &mut [T],
    out_rows: usize,
    out_cols: usize,
    a: MatRef<'_, T>,
    a_t: bool,
    b: MatRef<'_, T>,
    b_t: bool,
    accumulate: bool,
    par: Par,
) {
    let dst = faer::MatMut::from_column_major_slice_mut(out, out_rows, out_cols);
    let av = view(a);
    let bv = view(b);
    let av = if a_t { av.transpose() } else { av };
    let bv = if b_t { bv.transpose() } else { bv };
    debug_assert_eq!(av.nrows(), out_rows);
    debug_assert_eq!(bv.ncols(), out_cols);
    debug_assert_eq!(av.ncols(), bv.nrows());
    let acc = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(dst, acc, av, bv, T::ONE, par);
}

/// Gram matrix `F·Fᵀ` (k×k) of a factor stored k×cols.
pub(crate) fn gram<T: Scalar>(f: &Mat<T>, par: Par) -> Mat<T> {
    let k = f.nrows;
    let mut g = Mat::zeros(k, k);
    gemm(
        &mut g.data,
        k,
        k,
        f.as_ref(),
        false,
        f.as_ref(),
        true,
        false,
        par,
    );
    // Symmetrize exactly: downstream coordinate updates rely on G[t,r] == G[r,t].
    for r in 0..k {
        for t in 0..r {
            let v = g.data[t + r * k];
            g.data[r + t * k] = v;
        }
    }
    g
}

/// Sum over `0..n` of `f(j)`, accumulated in f64 in a fixed order.
pub(crate) fn det_sum<F>(n: usize, f: F) -> f64
where
    F: Fn(usize) -> f64 + Sync,
{
    let parts: Vec<f64> = (0..n.div_ceil(COL_CHUNK))
        .into_par_iter()
        .map(|c| {
            let lo = c * COL_CHUNK;
            let hi = (lo + COL_CHUNK).min(n);
            (lo..hi).map(&f).sum::<f64>()
        })
        .collect();
    parts.iter().sum()
}

/// Dot product of two equal-length slices, accumulated in `T`.
#[inline]
pub(crate) fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    // Four independent accumulators let the compiler vectorize.
    let mut s = [T::ZERO; 4];
    let chunks = a.len() / 4;
    for c in 0..chunks {
        for l in 0..4 {
            s[l] += a[4 * c + l] * b[4 * c + l];
        }
    }
    let mut tail = T::ZERO;
    for i in 4 * chunks..a.len() {
        tail += a[i] * b[i];
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `y += alpha · x`.
#[inline]
pub(crate) fn axpy<T: Scalar>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Frobenius inner product ⟨a, b⟩ in f64.
pub(crate) fn inner<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x.to_f64() * y.to_f64())
        .sum()
}

/// Row sums of a k×cols factor: `out[t] = Σ_j F[t, j]`.
pub(crate) fn row_sums<T: Scalar>(f: &Mat<T>) -> Vec<T> {
    let k = f.nrows;
    let mut s = vec![T::ZERO; k];
    for col in f.data.chunks_exact(k.max(1)) {
        for (st, &v) in s.iter_mut().zip(col) {
            *st += v;
        }
    }
    s
}
