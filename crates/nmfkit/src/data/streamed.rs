//! X read from a [`BatchSource`] a block of rows at a time, as [`Data`]:
//! every product is a pass over the batches, so every standard solver (mu,
//! hals, cd, anls, …) runs its exact full-batch iterations on data larger
//! than memory — one pass over the file per half-step — through the same
//! engine as data in memory. Memory: one batch, the factors and the
//! products.

use super::{Data, DenseData, Problem, Side, SparseData};
use crate::error::NmfError;
use crate::matrix::{Mat, MatRef};
use crate::minibatch::{Batch, BatchSource};
use crate::scalar::Scalar;
use faer::Par;
use std::sync::Mutex;

/// Runs `$body` with `$d` bound to the batch as dense or sparse [`Data`].
macro_rules! with_batch {
    ($b:expr, $d:ident => $body:expr) => {
        match $b {
            Batch::Dense(m) => {
                let $d = DenseData::new(m.as_ref());
                $body
            }
            Batch::Sparse(s) => {
                let $d = SparseData::new(s);
                $body
            }
        }
    };
}

/// A streamed X (see the module's documentation).
pub struct StreamedData<'a, T> {
    src: &'a dyn BatchSource<T>,
    batch_rows: usize,
    sq_norm: f64,
    sum: f64,
    has_zero: bool,
    // Stored entries and storage, as the in-memory data would report
    // them: solver plans (HALS's inner sweeps, auto) depend on them.
    nnz: usize,
    sparse: bool,
    first_bad: Option<(usize, usize, T)>,
    /// The first read error: products after it are zeros, and the driver
    /// stops with it ([`Problem::failure`]).
    error: Mutex<Option<NmfError>>,
}

impl<'a, T: Scalar> StreamedData<'a, T> {
    /// One pass to find ‖X‖², ΣX, zeros, the stored entries and the
    /// first bad entry.
    pub fn new(src: &'a dyn BatchSource<T>, batch_rows: usize) -> crate::Result<Self> {
        let batch_rows = batch_rows.max(1);
        let (n, _) = src.shape();
        let (mut sq_norm, mut sum, mut has_zero, mut first_bad) = (0.0, 0.0, false, None);
        let (mut nnz, mut sparse) = (0, false);
        for start in (0..n).step_by(batch_rows) {
            let b = src.rows(start, (start + batch_rows).min(n))?;
            with_batch!(&b, d => {
                sq_norm += d.sq_norm();
                sum += d.sum();
                has_zero |= d.has_zero();
                nnz += d.nnz();
                sparse |= d.is_sparse();
                if first_bad.is_none() {
                    first_bad = d.first_bad_entry().map(|(i, j, v)| (start + i, j, v));
                }
            });
        }
        Ok(StreamedData {
            src,
            batch_rows,
            sq_norm,
            sum,
            has_zero,
            nnz,
            sparse,
            first_bad,
            error: Mutex::new(None),
        })
    }

    /// Calls `f(start, batch)` for every batch, in order; a read error is
    /// kept and ends the pass.
    fn each(&self, mut f: impl FnMut(usize, &Batch<T>)) {
        let (n, _) = self.src.shape();
        for start in (0..n).step_by(self.batch_rows) {
            match self.src.rows(start, (start + self.batch_rows).min(n)) {
                Ok(b) => f(start, &b),
                Err(e) => {
                    self.error
                        .lock()
                        .expect("no panic holds it")
                        .get_or_insert(e);
                    return;
                }
            }
        }
    }
}

/// Columns `start..start + len` of a k × n factor.
fn cols<T: Scalar>(f: &Mat<T>, start: usize, len: usize) -> Mat<T> {
    let k = f.nrows;
    Mat::from_col_major(k, len, f.data[start * k..(start + len) * k].to_vec()).expect("a block")
}

/// Adds (side H) or places (side W, at the batch's columns) a batch's
/// product into `out`.
fn merge<T: Scalar>(side: Side, out: &mut Mat<T>, part: &Mat<T>, start: usize) {
    let k = out.nrows;
    match side {
        Side::H => out
            .data
            .iter_mut()
            .zip(&part.data)
            .for_each(|(o, p)| *o += *p),
        Side::W => out.data[start * k..start * k + part.data.len()].copy_from_slice(&part.data),
    }
}

impl<T: Scalar> Problem for StreamedData<'_, T> {
    fn failure(&self) -> Option<NmfError> {
        self.error.lock().expect("no panic holds it").take()
    }
}

impl<T: Scalar> Data<T> for StreamedData<'_, T> {
    fn shape(&self) -> (usize, usize) {
        self.src.shape()
    }
    fn nnz(&self) -> usize {
        self.nnz
    }
    fn is_sparse(&self) -> bool {
        self.sparse
    }
    fn sq_norm(&self) -> f64 {
        self.sq_norm
    }
    fn sum(&self) -> f64 {
        self.sum
    }
    fn has_zero(&self) -> bool {
        self.has_zero
    }

    fn cross(&self, side: Side, l: &Mat<T>, out: &mut Mat<T>, par: Par) {
        if side == Side::H {
            out.data.fill(T::ZERO);
        }
        let k = l.nrows;
        self.each(|start, b| {
            let rows = b.nrows();
            let mut part = Mat::zeros(k, if side == Side::H { out.ncols } else { rows });
            with_batch!(b, d => match side {
                Side::H => d.cross(side, &cols(l, start, rows), &mut part, par),
                Side::W => d.cross(side, l, &mut part, par),
            });
            merge(side, out, &part, start);
        });
    }

    fn cross_weighted<G>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, g: G, out: &mut Mat<T>)
    where
        G: Fn(T, T) -> T + Sync,
    {
        if side == Side::H {
            out.data.fill(T::ZERO);
        }
        let k = wt.nrows;
        self.each(|start, b| {
            let rows = b.nrows();
            let wb = cols(wt, start, rows);
            let mut part = Mat::zeros(k, if side == Side::H { out.ncols } else { rows });
            with_batch!(b, d => d.cross_weighted(side, &wb, h, &g, &mut part));
            merge(side, out, &part, start);
        });
    }

    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync,
    {
        let mut total = 0.0;
        self.each(|start, b| {
            let wb = cols(wt, start, b.nrows());
            total += with_batch!(b, d => d.fold_stored(&wb, h, &f));
        });
        total
    }

    fn divergence(&self, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
        // Batch by batch, each exact as for data in memory.
        let mut total = 0.0;
        self.each(|start, b| {
            let wb = cols(wt, start, b.nrows());
            total += with_batch!(b, d => d.divergence(&wb, h, beta));
        });
        total
    }

    fn exact_frobenius(&self) -> bool {
        true
    }

    fn first_bad_entry(&self) -> Option<(usize, usize, T)> {
        self.first_bad
    }

    fn dense_matrix(&self) -> Option<MatRef<'_, T>> {
        None
    }
}
