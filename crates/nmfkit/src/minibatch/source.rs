//! Where minibatch NMF reads its rows from: a matrix in memory, or any
//! reader of row blocks (a file read batch by batch, so that X is never
//! held whole).

use crate::data::{Csr, CsrMatrix, Data, DenseData, SparseData};
use crate::error::{bad_entry, Result};
use crate::matrix::{Mat, MatRef};
use crate::model::Input;
use crate::scalar::Scalar;

/// A block of consecutive rows of X, owned.
#[derive(Clone, Debug, PartialEq)]
pub enum Batch<T: 'static> {
    Dense(Mat<T>),
    Sparse(CsrMatrix<T>),
}

impl<T: Scalar> Batch<T> {
    pub fn nrows(&self) -> usize {
        match self {
            Batch::Dense(m) => m.nrows,
            Batch::Sparse(s) => s.nrows(),
        }
    }

    pub fn ncols(&self) -> usize {
        match self {
            Batch::Dense(m) => m.ncols,
            Batch::Sparse(s) => s.ncols(),
        }
    }

    /// The first negative or non-finite entry, named by its row in X
    /// (`first` is the batch's first row).
    pub fn check(&self, first: usize) -> Result<()> {
        self.stats(first).map(|_| ())
    }

    /// One pass: the check of [`check`](Batch::check), and ‖X‖² and ΣX.
    pub(crate) fn stats(&self, first: usize) -> Result<BatchStats> {
        let (bad, sq_norm, sum) = match self {
            Batch::Dense(m) => {
                use rayon::prelude::*;
                let n = m.nrows.max(1);
                // Per column, in order: the same sums whatever the threads.
                let parts: Vec<(Option<usize>, f64, f64)> = m
                    .data
                    .par_chunks(n)
                    .map(|c| {
                        let bad = c.iter().position(|&v| !(v >= T::ZERO) || !v.is_finite());
                        let (mut q, mut s) = (0.0, 0.0);
                        for &v in c {
                            let v = v.to_f64();
                            q += v * v;
                            s += v;
                        }
                        (bad, q, s)
                    })
                    .collect();
                let bad = parts
                    .iter()
                    .enumerate()
                    .filter_map(|(j, p)| p.0.map(|i| (i, j, m.data[j * n + i])))
                    .min_by_key(|&(i, j, _)| (i, j));
                let q = parts.iter().map(|p| p.1).sum();
                let s = parts.iter().map(|p| p.2).sum();
                (bad, q, s)
            }
            Batch::Sparse(s) => {
                let bad = (0..s.nrows()).find_map(|i| {
                    let (cols, vals) = s.row(i);
                    cols.iter()
                        .zip(vals)
                        .find(|(_, &v)| !(v >= T::ZERO) || !v.is_finite())
                        .map(|(&j, &v)| (i, j as usize, v))
                });
                let q = s.values().iter().map(|v| v.to_f64() * v.to_f64()).sum();
                let t = s.values().iter().map(|v| v.to_f64()).sum();
                (bad, q, t)
            }
        };
        match bad {
            Some((i, j, v)) => Err(bad_entry("X", first + i, j, v.to_f64())),
            None => Ok(BatchStats { sq_norm, sum }),
        }
    }

    /// Runs `f` on the batch as [`Data`].
    pub(crate) fn with_data<R>(&self, f: impl FnOnce(&dyn BatchData<T>) -> R) -> R {
        match self {
            Batch::Dense(m) => f(&DenseData::new(m.as_ref())),
            Batch::Sparse(s) => f(&SparseData::new(s)),
        }
    }

    /// [`with_data`](Batch::with_data) with the sums known (dense batches
    /// are then not summed again).
    pub(crate) fn with_data_stats<R>(
        &self,
        st: BatchStats,
        f: impl FnOnce(&dyn BatchData<T>) -> R,
    ) -> R {
        match self {
            Batch::Dense(m) => f(&DenseData::with_stats(m.as_ref(), st.sq_norm, st.sum)),
            Batch::Sparse(s) => f(&SparseData::new(s)),
        }
    }
}

/// ‖X‖² and ΣX of a batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchStats {
    pub sq_norm: f64,
    pub sum: f64,
}

/// The products minibatch steps need of a batch, object-safe.
pub(crate) trait BatchData<T: Scalar> {
    /// One multiplicative update of W; returns the data term after it when
    /// the update's products give it (β = 2).
    fn mu_w_step(
        &self,
        mu: &mut crate::solver::MultiplicativeUpdate<T>,
        f: &mut crate::Factors<T>,
    ) -> Option<f64>;
    /// One sweep of KL coordinate descent over W's rows.
    fn ccd_w_step(&self, ccd: &mut crate::solver::KlCoordinateDescent, f: &mut crate::Factors<T>);
    fn mu_terms(
        &self,
        mu: &mut crate::solver::MultiplicativeUpdate<T>,
        f: &crate::Factors<T>,
    ) -> (Mat<T>, Mat<T>);
    fn divergence_of(&self, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64;
    /// ½‖X − WH‖² from products (HHᵀ given): one GEMM, no pass over the
    /// entries of WH.
    fn frobenius_from_products(&self, wt: &Mat<T>, h: &Mat<T>, hht: &Mat<T>) -> f64;
    /// [`Data::cross`] with every thread.
    fn cross_of(&self, side: crate::data::Side, l: &Mat<T>, out: &mut Mat<T>);
    /// Stored entries (all of them when dense).
    fn stored(&self) -> usize;
}

impl<T: Scalar, D: Data<T>> BatchData<T> for D {
    fn mu_w_step(
        &self,
        mu: &mut crate::solver::MultiplicativeUpdate<T>,
        f: &mut crate::Factors<T>,
    ) -> Option<f64> {
        use crate::solver::{Solver, Want};
        let want = Want {
            after: true,
            before: false,
        };
        mu.half_step(self, f, crate::data::Side::W, want).divergence
    }
    fn ccd_w_step(&self, ccd: &mut crate::solver::KlCoordinateDescent, f: &mut crate::Factors<T>) {
        use crate::solver::{Solver, Want};
        ccd.half_step(self, f, crate::data::Side::W, Want::default());
    }
    fn mu_terms(
        &self,
        mu: &mut crate::solver::MultiplicativeUpdate<T>,
        f: &crate::Factors<T>,
    ) -> (Mat<T>, Mat<T>) {
        mu.terms(self, f, crate::data::Side::H)
    }
    fn divergence_of(&self, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
        self.divergence(wt, h, beta)
    }
    fn cross_of(&self, side: crate::data::Side, l: &Mat<T>, out: &mut Mat<T>) {
        self.cross(side, l, out, faer::Par::rayon(0));
    }
    fn stored(&self) -> usize {
        self.nnz()
    }
    fn frobenius_from_products(&self, wt: &Mat<T>, h: &Mat<T>, hht: &Mat<T>) -> f64 {
        let mut c = Mat::zeros(wt.nrows, wt.ncols);
        self.cross(crate::data::Side::W, h, &mut c, faer::Par::rayon(0));
        let gw = crate::linalg::gram(wt, faer::Par::rayon(0));
        let dot = |a: &Mat<T>, b: &Mat<T>| -> f64 {
            a.data
                .iter()
                .zip(&b.data)
                .map(|(x, y)| x.to_f64() * y.to_f64())
                .sum()
        };
        (0.5 * (self.sq_norm() - 2.0 * dot(&c, wt) + dot(&gw, hht))).max(0.0)
    }
}

/// Rows of X, a block at a time.
pub trait BatchSource<T: Scalar>: Sync {
    /// (rows, columns) of the whole X.
    fn shape(&self) -> (usize, usize);
    /// Rows `start..end` (end ≤ rows). A reader reports what went wrong
    /// (a malformed file), naming the rows.
    fn rows(&self, start: usize, end: usize) -> Result<Batch<T>>;
}

/// X held in memory, dense or CSR — or dense Xᵀ (X in row-major order, as
/// a C-ordered numpy array is: a batch of X's rows is then contiguous).
pub struct InMemory<'a, T> {
    x: Input<'a, T>,
    transposed: bool,
}

impl<'a, T: Scalar> InMemory<'a, T> {
    pub fn new(x: impl Into<Input<'a, T>>) -> Self {
        InMemory {
            x: x.into(),
            transposed: false,
        }
    }

    /// The rows of X from the column-major storage of Xᵀ.
    pub fn of_transpose(xt: MatRef<'a, T>) -> Self {
        InMemory {
            x: Input::Dense(xt),
            transposed: true,
        }
    }
}

impl<T: Scalar> BatchSource<T> for InMemory<'_, T> {
    fn shape(&self) -> (usize, usize) {
        let (r, c) = self.x.shape();
        if self.transposed {
            (c, r)
        } else {
            (r, c)
        }
    }

    fn rows(&self, start: usize, end: usize) -> Result<Batch<T>> {
        Ok(match self.x {
            Input::Dense(m) if self.transposed => Batch::Dense(transpose_block(m, start, end)),
            Input::Dense(m) => {
                // One contiguous piece per column.
                let b = end - start;
                let mut data = Vec::with_capacity(b * m.ncols);
                for j in 0..m.ncols {
                    data.extend_from_slice(&m.data[j * m.nrows + start..j * m.nrows + end]);
                }
                Batch::Dense(Mat::from_col_major(b, m.ncols, data)?)
            }
            Input::Sparse(s) => Batch::Sparse(row_block(s, start, end)),
        })
    }
}

/// Columns `start..end` of the column-major `xt` (rows of X), transposed
/// into a column-major (end − start) × rows block: blocks of 8 rows, so
/// that each write fills a whole cache line.
fn transpose_block<T: Scalar>(xt: MatRef<'_, T>, start: usize, end: usize) -> Mat<T> {
    const ROWS: usize = 8;
    let (m, b) = (xt.nrows, end - start);
    let mut out = vec![T::ZERO; b * m];
    let src = &xt.data[start * m..end * m];
    for i0 in (0..b).step_by(ROWS) {
        let rows = ROWS.min(b - i0);
        let block = &src[i0 * m..(i0 + rows) * m];
        for j in 0..m {
            let dst = &mut out[j * b + i0..j * b + i0 + rows];
            for (r, d) in dst.iter_mut().enumerate() {
                *d = block[r * m + j];
            }
        }
    }
    Mat::from_col_major(b, m, out).expect("the block's shape")
}

/// Rows `start..end` of a CSR matrix as a CSR matrix of their own.
pub(crate) fn row_block<T: Scalar>(s: &Csr<'_, T>, start: usize, end: usize) -> CsrMatrix<T> {
    let ptr = s.indptr();
    let (a, b) = (ptr[start], ptr[end]);
    Csr {
        nrows: end - start,
        ncols: s.ncols(),
        indptr: ptr[start..=end]
            .iter()
            .map(|p| p - a)
            .collect::<Vec<_>>()
            .into(),
        indices: s.indices()[a..b].to_vec().into(),
        data: s.values()[a..b].to_vec().into(),
    }
}
