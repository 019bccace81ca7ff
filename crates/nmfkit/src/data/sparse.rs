//! Sparse X in CSR form. Never densified: products and losses run on the
//! stored entries plus closed forms, with our own rayon kernels (measured
//! 2–4× faster here than faer's and sprs' sparse products).

use super::{Data, Problem, Side};
use crate::error::{NmfError, Result};
use crate::linalg::{axpy, det_sum, dot};
use crate::matrix::{Mat, MatRef};
use crate::scalar::{Scalar, EPS32};
use faer::Par;
use rayon::prelude::*;
use std::borrow::Cow;

/// A compressed sparse row matrix with sorted, unique column indices.
#[derive(Clone, Debug, PartialEq)]
pub struct CsrMatrix<T> {
    nrows: usize,
    ncols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    data: Vec<T>,
}

impl<T: Scalar> CsrMatrix<T> {
    /// Builds from CSR arrays. Column indices may be unsorted within a row;
    /// duplicates are summed (scipy's convention).
    pub fn try_new(
        nrows: usize,
        ncols: usize,
        indptr: Vec<usize>,
        indices: Vec<usize>,
        data: Vec<T>,
    ) -> Result<Self> {
        let bad = |s: String| Err(NmfError::InvalidSparse(s));
        if ncols > u32::MAX as usize {
            return bad(format!("{ncols} columns exceed the supported 2^32-1"));
        }
        if indptr.len() != nrows + 1 {
            return bad(format!(
                "indptr has {} entries, expected nrows + 1 = {}",
                indptr.len(),
                nrows + 1
            ));
        }
        if indices.len() != data.len() {
            return bad(format!(
                "{} indices but {} values",
                indices.len(),
                data.len()
            ));
        }
        if indptr[0] != 0 || indptr[nrows] != data.len() {
            return bad(format!(
                "indptr must start at 0 and end at nnz = {}, got {}..{}",
                data.len(),
                indptr[0],
                indptr[nrows]
            ));
        }
        if let Some(i) = (0..nrows).find(|&i| indptr[i] > indptr[i + 1]) {
            return bad(format!("indptr decreases at row {i}"));
        }
        if let Some(p) = indices.iter().position(|&j| j >= ncols) {
            return bad(format!(
                "column index {} out of range for {} columns (entry {p})",
                indices[p], ncols
            ));
        }
        // Canonicalize: sort each row by column and sum duplicates.
        let mut out_ptr = Vec::with_capacity(nrows + 1);
        let mut out_idx = Vec::with_capacity(indices.len());
        let mut out_val = Vec::with_capacity(data.len());
        out_ptr.push(0);
        let mut row: Vec<(usize, T)> = Vec::new();
        for i in 0..nrows {
            row.clear();
            row.extend((indptr[i]..indptr[i + 1]).map(|p| (indices[p], data[p])));
            if !row.windows(2).all(|w| w[0].0 < w[1].0) {
                row.sort_by_key(|e| e.0);
            }
            for &(j, v) in row.iter() {
                if out_idx.len() > *out_ptr.last().unwrap() && *out_idx.last().unwrap() == j as u32
                {
                    *out_val.last_mut().unwrap() += v;
                } else {
                    out_idx.push(j as u32);
                    out_val.push(v);
                }
            }
            out_ptr.push(out_idx.len());
        }
        Ok(CsrMatrix {
            nrows,
            ncols,
            indptr: out_ptr,
            indices: out_idx,
            data: out_val,
        })
    }

    /// Builds from (row, column, value) triplets; duplicates are summed.
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        triplets: &[(usize, usize, T)],
    ) -> Result<Self> {
        if let Some(&(i, j, _)) = triplets.iter().find(|t| t.0 >= nrows || t.1 >= ncols) {
            return Err(NmfError::InvalidSparse(format!(
                "entry ({i}, {j}) out of range for a {nrows}×{ncols} matrix"
            )));
        }
        let mut counts = vec![0usize; nrows + 1];
        for &(i, _, _) in triplets {
            counts[i + 1] += 1;
        }
        for i in 0..nrows {
            counts[i + 1] += counts[i];
        }
        let mut next = counts.clone();
        let mut indices = vec![0usize; triplets.len()];
        let mut data = vec![T::ZERO; triplets.len()];
        for &(i, j, v) in triplets {
            indices[next[i]] = j;
            data[next[i]] = v;
            next[i] += 1;
        }
        Self::try_new(nrows, ncols, counts, indices, data)
    }

    /// The nonzero entries of a dense matrix.
    pub fn from_dense(x: MatRef<'_, T>) -> Self {
        let mut indptr = vec![0usize];
        let mut indices = Vec::new();
        let mut data = Vec::new();
        for i in 0..x.nrows {
            for j in 0..x.ncols {
                let v = x.get(i, j);
                if v != T::ZERO {
                    indices.push(j as u32);
                    data.push(v);
                }
            }
            indptr.push(data.len());
        }
        CsrMatrix {
            nrows: x.nrows,
            ncols: x.ncols,
            indptr,
            indices,
            data,
        }
    }

    pub fn nrows(&self) -> usize {
        self.nrows
    }
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    pub fn nnz(&self) -> usize {
        self.data.len()
    }
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }
    pub fn values(&self) -> &[T] {
        &self.data
    }

    /// Column indices and values of row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> (&[u32], &[T]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.data[r])
    }

    /// The pattern: every stored entry with value 1.
    pub fn pattern(&self) -> CsrMatrix<T> {
        CsrMatrix {
            data: vec![T::ONE; self.nnz()],
            ..self.clone()
        }
    }

    /// The transpose, in CSR form (that is, X in CSC form).
    pub fn transpose(&self) -> CsrMatrix<T> {
        let mut counts = vec![0usize; self.ncols + 1];
        for &j in &self.indices {
            counts[j as usize + 1] += 1;
        }
        for j in 0..self.ncols {
            counts[j + 1] += counts[j];
        }
        let mut next = counts.clone();
        let mut indices = vec![0u32; self.nnz()];
        let mut data = vec![T::ZERO; self.nnz()];
        for i in 0..self.nrows {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                let p = &mut next[j as usize];
                indices[*p] = i as u32;
                data[*p] = v;
                *p += 1;
            }
        }
        CsrMatrix {
            nrows: self.ncols,
            ncols: self.nrows,
            indptr: counts,
            indices,
            data,
        }
    }

    pub fn to_dense(&self) -> Mat<T> {
        let mut out = Mat::zeros(self.nrows, self.ncols);
        for i in 0..self.nrows {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                out.set(i, j as usize, v);
            }
        }
        out
    }

    /// Converts to the other precision.
    pub fn cast<U: Scalar>(&self) -> CsrMatrix<U> {
        CsrMatrix {
            nrows: self.nrows,
            ncols: self.ncols,
            indptr: self.indptr.clone(),
            indices: self.indices.clone(),
            data: self.data.iter().map(|v| U::from_f64(v.to_f64())).collect(),
        }
    }
}

/// Sparse data as the solvers see it: X by rows and by columns (O(nnz) extra).
pub struct SparseData<'a, T: Clone> {
    by_rows: Cow<'a, CsrMatrix<T>>,
    by_cols: CsrMatrix<T>,
    sq_norm: f64,
    sum: f64,
}

impl<'a, T: Scalar> SparseData<'a, T> {
    pub fn new(x: &'a CsrMatrix<T>) -> Self {
        Self::from_cow(Cow::Borrowed(x))
    }

    /// Owns its matrix (built by the caller, e.g. M∘X of weighted data).
    pub fn owned(x: CsrMatrix<T>) -> SparseData<'static, T> {
        SparseData::from_cow(Cow::Owned(x))
    }

    fn from_cow(x: Cow<'a, CsrMatrix<T>>) -> Self {
        let sq_norm = x.data.iter().map(|v| v.to_f64() * v.to_f64()).sum();
        let sum = x.data.iter().map(|v| v.to_f64()).sum();
        let by_cols = x.transpose();
        SparseData {
            by_rows: x,
            by_cols,
            sq_norm,
            sum,
        }
    }

    pub fn matrix(&self) -> &CsrMatrix<T> {
        &self.by_rows
    }

    /// The compressed structure whose "rows" are the output columns of `side`,
    /// and the factor gathered from.
    fn oriented(&self, side: Side) -> &CsrMatrix<T> {
        match side {
            // Column j of Wᵀ X gathers rows i of column j of X.
            Side::H => &self.by_cols,
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
        self.gather_columns(side, out, |_, i, v, o| axpy(v, l.col(i), o));
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
        self.gather_columns(side, out, |j, i, v, o| {
            let li = gathered.col(i);
            axpy(g(v, dot(li, own.col(j))), li, o);
        });
    }

    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync,
    {
        let x = &*self.by_rows;
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
        let x = &*self.by_rows;
        let p = x
            .data
            .iter()
            .position(|&v| !(v >= T::ZERO) || !v.is_finite())?;
        let i = x.indptr.partition_point(|&s| s <= p) - 1;
        Some((i, x.indices[p] as usize, x.data[p]))
    }
}
