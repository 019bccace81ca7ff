//! Sparse X in CSR form. Never densified: products and losses run on the
//! stored entries plus closed forms, with our own rayon kernels (measured
//! 2–4× faster here than faer's and sprs' sparse products).

use super::csr::{Csr, CsrMatrix};
use super::{Data, Problem, Side};
use crate::linalg::{axpy, det_sum, dot};
use crate::matrix::Mat;
use crate::scalar::{Scalar, EPS32};
use faer::Par;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::{Mutex, OnceLock};

/// Sparse data as the solvers see it: X by rows, and by columns only when a
/// product needs them. Products Wᵀ X (k×m) are gathered from a by-columns
/// copy (O(nnz), built on first need) or scattered from the rows into one
/// k×m buffer per extra thread, by size (the rule is on `SparseData::scatters`);
/// entry-wise solvers such as `ccd` always walk the copy.
pub struct SparseData<'a, T> {
    by_rows: Csr<'a, T>,
    by_cols: OnceLock<Csr<'a, T>>,
    scatter_buffers: Mutex<Vec<Vec<T>>>,
    scatter: Option<bool>,
    sq_norm: f64,
    sum: f64,
}

impl<'a, T: Scalar> SparseData<'a, T> {
    /// Reads `x` in place.
    pub fn new(x: &'a Csr<'_, T>) -> Self {
        Self::from_csr(x.view())
    }

    /// Owns its matrix (built by the caller, e.g. M∘X of weighted data).
    pub fn owned(x: CsrMatrix<T>) -> SparseData<'static, T> {
        SparseData::from_csr(x)
    }

    fn from_csr(x: Csr<'a, T>) -> Self {
        let sq_norm = x.data.iter().map(|v| v.to_f64() * v.to_f64()).sum();
        let sum = x.data.iter().map(|v| v.to_f64()).sum();
        SparseData {
            by_rows: x,
            by_cols: OnceLock::new(),
            scatter_buffers: Mutex::new(Vec::new()),
            scatter: None,
            sq_norm,
            sum,
        }
    }

    /// Forces the k×m products to be scattered from the rows (`true`, no
    /// transposed copy unless an entry-wise solver asks for one) or
    /// gathered from the transposed copy (`false`), instead of choosing by
    /// size: for tests and benchmarks.
    pub fn scattering(mut self, on: bool) -> Self {
        self.scatter = Some(on);
        self
    }

    pub fn matrix(&self) -> &Csr<'a, T> {
        &self.by_rows
    }

    /// The compressed structure whose "rows" are the output columns of `side`,
    /// and the factor gathered from.
    fn oriented(&self, side: Side) -> &Csr<'_, T> {
        match side {
            // Column j of Wᵀ X gathers rows i of column j of X.
            Side::H => self.by_cols.get_or_init(|| self.by_rows.transpose()),
            // Column i of H Xᵀ gathers columns j of row i of X.
            Side::W => &self.by_rows,
        }
    }
}

impl<T: Scalar> SparseData<'_, T> {
    /// For every output column j of `side` (in parallel), zeroes it and calls
    /// `visit(j, i, value, column)` for each stored entry (i, value) of
    /// column j of the oriented matrix.
    fn gather_columns<V>(&self, side: Side, out: &mut Mat<T>, visit: V)
    where
        V: Fn(usize, usize, T, &mut [T]) + Sync,
    {
        let a = self.oriented(side);
        let k = out.nrows;
        out.data
            .par_chunks_mut(k)
            .enumerate()
            .with_min_len(16)
            .for_each(|(j, o)| {
                o.fill(T::ZERO);
                let (idx, vals) = a.row(j);
                for (&i, &v) in idx.iter().zip(vals) {
                    visit(j, i as usize, v, o);
                }
            });
    }
    /// Whether a k×m product of side H is scattered from the rows rather
    /// than gathered from a transposed copy. Gathering reads the k×n factor
    /// at random and scattering writes the k×m output at random, so each
    /// wins where its random side is the one in cache: measured here,
    /// gathering is 15–25 % faster while the k×n factor fits in 8 MiB
    /// (man-page TF-IDF, image patches) and 5× slower on 800000×20000 at
    /// k = 20 (a 128 MB factor). Scattering also saves the copy (4 +
    /// sizeof(T) bytes per entry), so it is chosen too when that copy would
    /// be over 64 MiB and over the factors' own size, as long as its one
    /// k×m buffer per extra thread is at most half the copy's size.
    /// (`nmfkit-bench`'s `sparse_products` example measures both ways.)
    fn scatters(&self, side: Side, k: usize) -> bool {
        let x = &self.by_rows;
        let size = std::mem::size_of::<T>();
        let (n, m) = (x.nrows, x.ncols);
        let buffers = (parallel_parts(x) - 1) * k * m * size;
        let transposed = x.nnz() * (4 + size);
        let factors = (n + m) * k * size;
        let faster = k * n * size > CACHED_FACTOR && m <= n;
        let smaller = transposed > SMALL_COPY && transposed > factors && 2 * buffers <= transposed;
        let wanted = self.scatter.unwrap_or(faster || smaller);
        side == Side::H && self.by_cols.get().is_none() && wanted
    }

    /// For every output column j of `side`: zeroes it and calls
    /// `visit(j, i, value, column)` for each stored entry pairing it with
    /// line i of the gathered factor — by scattering rows or gathering
    /// columns, whichever [`Self::scatters`] picks.
    fn accumulate<V>(&self, side: Side, out: &mut Mat<T>, visit: V)
    where
        V: Fn(usize, usize, T, &mut [T]) + Sync,
    {
        if self.scatters(side, out.nrows) {
            let k = out.nrows;
            self.scatter_rows(out, |i, idx, vals, t| {
                for (&j, &v) in idx.iter().zip(vals) {
                    let j = j as usize;
                    visit(j, i, v, &mut t[j * k..(j + 1) * k]);
                }
            })
        } else {
            self.gather_columns(side, out, visit)
        }
    }

    /// `out (k×m)` = Σ over rows i of `visit(i, columns, values, out)`, rows
    /// split into fixed ranges (one per thread, each into its own buffer)
    /// and the buffers summed in order: the same result for the same
    /// thread count.
    fn scatter_rows<V>(&self, out: &mut Mat<T>, visit: V)
    where
        V: Fn(usize, &[u32], &[T], &mut [T]) + Sync,
    {
        let x = &self.by_rows;
        let k = out.nrows;
        let ranges = row_ranges(x, parallel_parts(x));
        // The extra threads' buffers are kept for the next call.
        let mut extra = self
            .scatter_buffers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        extra.resize_with(ranges.len() - 1, Vec::new);
        for b in extra.iter_mut() {
            b.resize(k * x.ncols, T::ZERO);
        }
        {
            let mut targets: Vec<&mut [T]> = std::iter::once(&mut out.data[..])
                .chain(extra.iter_mut().map(|b| &mut b[..]))
                .collect();
            targets.par_iter_mut().zip(ranges).for_each(|(t, rows)| {
                t.fill(T::ZERO);
                for i in rows {
                    let (idx, vals) = x.row(i);
                    visit(i, idx, vals, t);
                }
            });
        }
        if extra.is_empty() {
            return;
        }
        const CHUNK: usize = 4096;
        out.data
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, o)| {
                for b in extra.iter() {
                    axpy(T::ONE, &b[c * CHUNK..c * CHUNK + o.len()], o);
                }
            });
    }
}

/// A transposed copy this small is made when gathering is faster (bytes).
const SMALL_COPY: usize = 64 << 20;
/// A gathered factor up to this size reads fast at random (bytes).
const CACHED_FACTOR: usize = 8 << 20;

/// Pieces a row scatter splits into: one per thread, fewer for few rows.
fn parallel_parts<T>(x: &Csr<'_, T>) -> usize {
    rayon::current_num_threads().clamp(1, x.nrows.max(1))
}

/// `parts` contiguous row ranges holding about equal numbers of entries.
fn row_ranges<T>(x: &Csr<'_, T>, parts: usize) -> Vec<Range<usize>> {
    let nnz = x.indptr[x.nrows];
    let mut bounds = vec![0];
    for p in 1..parts {
        let target = nnz * p / parts;
        let i = x.indptr.partition_point(|&s| s < target).min(x.nrows);
        bounds.push(i.max(*bounds.last().unwrap()));
    }
    bounds.push(x.nrows);
    bounds.windows(2).map(|b| b[0]..b[1]).collect()
}

impl<T: Scalar> Problem for SparseData<'_, T> {}

impl<T: Scalar> Data<T> for SparseData<'_, T> {
    fn shape(&self) -> (usize, usize) {
        (self.by_rows.nrows, self.by_rows.ncols)
    }
    fn nnz(&self) -> usize {
        self.by_rows.nnz()
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
    fn has_zero(&self) -> bool {
        let (n, m) = self.shape();
        self.nnz() < n * m || self.by_rows.data.contains(&T::ZERO)
    }

    fn cross(&self, side: Side, l: &Mat<T>, out: &mut Mat<T>, _par: Par) {
        let wide = crate::linalg::simd_wide();
        if self.scatters(side, out.nrows) {
            return self.scatter_rows(out, |i, idx, vals, t| {
                scattered_sum(wide, idx, vals, l.col(i), t)
            });
        }
        let a = self.oriented(side);
        out.data
            .par_chunks_mut(out.nrows)
            .enumerate()
            .with_min_len(16)
            .for_each(|(j, o)| {
                let (idx, vals) = a.row(j);
                gathered_sum(wide, idx, vals, l, o)
            });
    }

    fn cross_weighted<G>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, g: G, out: &mut Mat<T>)
    where
        G: Fn(T, T) -> T + Sync,
    {
        // For side H the gathered factor is Wt and the output's own is H.
        let (gathered, own) = match side {
            Side::H => (wt, h),
            Side::W => (h, wt),
        };
        self.accumulate(side, out, |j, i, v, o| {
            let li = gathered.col(i);
            axpy(g(v, dot(li, own.col(j))), li, o);
        });
    }

    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync,
    {
        let x = &self.by_rows;
        let eps = T::from_f64(EPS32);
        det_sum(x.nrows, |i| {
            let (idx, vals) = x.row(i);
            let wi = wt.col(i);
            idx.iter()
                .zip(vals)
                .filter(|(_, &v)| v > eps)
                .map(|(&j, &v)| f(v, dot(wi, h.col(j as usize))))
                .sum()
        })
    }

    fn visits_lines(&self) -> bool {
        true
    }

    fn visit_lines<F>(&self, side: Side, out: &mut Mat<T>, visit: F) -> bool
    where
        F: Fn(usize, super::LineEntries<'_, T>, &mut [T]) + Sync,
    {
        let a = self.oriented(side);
        let k = out.nrows;
        out.data
            .par_chunks_mut(k.max(1))
            .enumerate()
            .with_min_len(16)
            .for_each(|(j, r)| {
                let (idx, val) = a.row(j);
                visit(j, super::LineEntries::Sparse { idx, val }, r)
            });
        true
    }

    fn first_bad_entry(&self) -> Option<(usize, usize, T)> {
        let x = &self.by_rows;
        let p = x
            .data
            .iter()
            .position(|&v| !(v >= T::ZERO) || !v.is_finite())?;
        let i = x.indptr.partition_point(|&s| s <= p) - 1;
        Some((i, x.indices[p] as usize, x.data[p]))
    }
}

/// o = Σ v·l.col(i) over the entries (i, v), compiled for AVX2 when `wide`
/// (the CPU has it): see [`gathered_sum_body`].
fn gathered_sum<T: Scalar>(wide: bool, idx: &[u32], vals: &[T], l: &Mat<T>, o: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<T: Scalar>(idx: &[u32], vals: &[T], l: &Mat<T>, o: &mut [T]) {
            gathered_sum_body(idx, vals, l, o)
        }
        if wide {
            // SAFETY: `wide` is only true when the features were detected.
            return unsafe { avx2(idx, vals, l, o) };
        }
    }
    let _ = wide;
    gathered_sum_body(idx, vals, l, o)
}

/// o = Σ v·l.col(i) over the entries (i, v), a slice of o at a time with
/// its sums in registers across the entries (an axpy per entry would load
/// and store o each time); the order of the sums is the axpy's.
#[inline(always)]
fn gathered_sum_body<T: Scalar>(idx: &[u32], vals: &[T], l: &Mat<T>, o: &mut [T]) {
    #[inline(always)]
    fn piece<T: Scalar, const W: usize>(
        idx: &[u32],
        vals: &[T],
        l: &Mat<T>,
        c0: usize,
        o: &mut [T],
    ) {
        let k = l.nrows;
        let mut acc = [T::ZERO; W];
        for (&i, &v) in idx.iter().zip(vals) {
            let li = &l.data[i as usize * k + c0..][..W];
            for t in 0..W {
                acc[t] += v * li[t];
            }
        }
        o[c0..c0 + W].copy_from_slice(&acc);
    }
    // One pass over the entries per piece of at most 32 (eight AVX2
    // registers of f64), each piece's width a constant.
    macro_rules! width {
        ($w:expr, $c0:expr, $($n:literal)*) => {
            match $w {
                $($n => piece::<T, $n>(idx, vals, l, $c0, o),)*
                _ => unreachable!(),
            }
        };
    }
    let k = l.nrows;
    let mut c0 = 0;
    while c0 < k {
        let w = (k - c0).min(32);
        width!(w, c0, 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32);
        c0 += w;
    }
}

/// t.col(j) += v·li over the entries (j, v) of one row, compiled for AVX2
/// when `wide` (the CPU has it).
fn scattered_sum<T: Scalar>(wide: bool, idx: &[u32], vals: &[T], li: &[T], t: &mut [T]) {
    #[inline(always)]
    fn body<T: Scalar>(idx: &[u32], vals: &[T], li: &[T], t: &mut [T]) {
        let k = li.len();
        for (&j, &v) in idx.iter().zip(vals) {
            let j = j as usize;
            axpy(v, li, &mut t[j * k..(j + 1) * k]);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<T: Scalar>(idx: &[u32], vals: &[T], li: &[T], t: &mut [T]) {
            body(idx, vals, li, t)
        }
        if wide {
            // SAFETY: `wide` is only true when the features were detected.
            return unsafe { avx2(idx, vals, li, t) };
        }
    }
    let _ = wide;
    body(idx, vals, li, t)
}
