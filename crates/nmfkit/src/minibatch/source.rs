//! Where minibatch NMF reads its rows from: a matrix in memory, or any
//! reader of row blocks (a file read batch by batch, so that X is never
//! held whole).

use crate::data::{first_bad, Csr, CsrMatrix, Data, DenseData, SparseData};
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
        let bad = match self {
            Batch::Dense(m) => first_bad(m.nrows, &m.data),
            Batch::Sparse(s) => (0..s.nrows()).find_map(|i| {
                let (cols, vals) = s.row(i);
                cols.iter()
                    .zip(vals)
                    .find(|(_, &v)| !(v >= T::ZERO) || !v.is_finite())
                    .map(|(&j, &v)| (i, j as usize, v))
            }),
        };
        match bad {
            Some((i, j, v)) => Err(bad_entry("X", first + i, j, v.to_f64())),
            None => Ok(()),
        }
    }

    /// Runs `f` on the batch as [`Data`].
    pub(crate) fn with_data<R>(&self, f: impl FnOnce(&dyn BatchData<T>) -> R) -> R {
        match self {
            Batch::Dense(m) => f(&DenseData::new(m.as_ref())),
            Batch::Sparse(s) => f(&SparseData::new(s)),
        }
    }
}

/// The products minibatch steps need of a batch, object-safe.
pub(crate) trait BatchData<T: Scalar> {
    fn mu_w_step(&self, mu: &mut crate::solver::MultiplicativeUpdate<T>, f: &mut crate::Factors<T>);
    fn mu_terms(
        &self,
        mu: &mut crate::solver::MultiplicativeUpdate<T>,
        f: &crate::Factors<T>,
    ) -> (Mat<T>, Mat<T>);
    fn divergence_of(&self, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64;
    fn sum_of(&self) -> f64;
}

impl<T: Scalar, D: Data<T>> BatchData<T> for D {
    fn mu_w_step(
        &self,
        mu: &mut crate::solver::MultiplicativeUpdate<T>,
        f: &mut crate::Factors<T>,
    ) {
        use crate::solver::Solver;
        mu.half_step(self, f, crate::data::Side::W, Default::default());
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
    fn sum_of(&self) -> f64 {
        self.sum()
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
            Input::Dense(m) if self.transposed => {
                Batch::Dense(Mat::from_fn(end - start, m.nrows, |i, j| {
                    m.get(j, start + i)
                }))
            }
            Input::Dense(m) => Batch::Dense(Mat::from_fn(end - start, m.ncols, |i, j| {
                m.get(start + i, j)
            })),
            Input::Sparse(s) => Batch::Sparse(row_block(s, start, end)),
        })
    }
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
