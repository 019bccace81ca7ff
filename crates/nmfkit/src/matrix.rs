//! A plain column-major dense matrix, owned ([`Mat`]) or borrowed ([`MatRef`]).
//!
//! Factors and dense data use this layout; faer is used underneath for GEMM,
//! QR and SVD through zero-copy views.

use crate::error::{NmfError, Result};
use crate::scalar::Scalar;

/// An owned dense matrix stored column by column.
#[derive(Clone, Debug, PartialEq)]
pub struct Mat<T> {
    pub nrows: usize,
    pub ncols: usize,
    /// Entry (i, j) is `data[i + j * nrows]`.
    pub data: Vec<T>,
}

/// A borrowed dense matrix stored column by column (no copy).
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    pub nrows: usize,
    pub ncols: usize,
    pub data: &'a [T],
}

impl<T: Scalar> Mat<T> {
    /// A matrix of zeros.
    pub fn zeros(nrows: usize, ncols: usize) -> Self {
        Mat {
            nrows,
            ncols,
            data: vec![T::ZERO; nrows * ncols],
        }
    }

    /// Builds from a column-major vector.
    pub fn from_col_major(nrows: usize, ncols: usize, data: Vec<T>) -> Result<Self> {
        check_len(nrows, ncols, data.len())?;
        Ok(Mat { nrows, ncols, data })
    }

    /// Builds from a row-major slice (C order, as numpy stores by default).
    pub fn from_row_major(nrows: usize, ncols: usize, data: &[T]) -> Result<Self> {
        check_len(nrows, ncols, data.len())?;
        Ok(Self::from_fn(nrows, ncols, |i, j| data[i * ncols + j]))
    }

    /// Builds from nested rows; all rows must have the same length.
    pub fn from_rows(rows: &[Vec<T>]) -> Result<Self> {
        let nrows = rows.len();
        let ncols = rows.first().map_or(0, |r| r.len());
        if let Some(bad) = rows.iter().position(|r| r.len() != ncols) {
            return Err(NmfError::Shape {
                what: "row",
                got: (bad, rows[bad].len()),
                expected: (bad, ncols),
            });
        }
        Ok(Self::from_fn(nrows, ncols, |i, j| rows[i][j]))
    }

    /// Builds entry by entry.
    pub fn from_fn(nrows: usize, ncols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(nrows * ncols);
        for j in 0..ncols {
            for i in 0..nrows {
                data.push(f(i, j));
            }
        }
        Mat { nrows, ncols, data }
    }

    #[inline]
    pub fn get(&self, i: usize, j: usize) -> T {
        self.data[i + j * self.nrows]
    }

    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: T) {
        self.data[i + j * self.nrows] = v;
    }

    /// Column `j` as a slice.
    #[inline]
    pub fn col(&self, j: usize) -> &[T] {
        &self.data[j * self.nrows..(j + 1) * self.nrows]
    }

    #[inline]
    pub fn col_mut(&mut self, j: usize) -> &mut [T] {
        &mut self.data[j * self.nrows..(j + 1) * self.nrows]
    }

    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef {
            nrows: self.nrows,
            ncols: self.ncols,
            data: &self.data,
        }
    }

    /// The transpose, as a new matrix.
    pub fn transpose(&self) -> Mat<T> {
        self.as_ref().transpose()
    }

    /// Entries in row-major order (for writing files or numpy arrays).
    pub fn to_row_major(&self) -> Vec<T> {
        self.transpose().data
    }

    /// Converts to the other precision.
    pub fn cast<U: Scalar>(&self) -> Mat<U> {
        Mat {
            nrows: self.nrows,
            ncols: self.ncols,
            data: self.data.iter().map(|v| U::from_f64(v.to_f64())).collect(),
        }
    }

    /// Frobenius norm, accumulated in f64.
    pub fn norm(&self) -> f64 {
        self.data
            .iter()
            .map(|v| v.to_f64() * v.to_f64())
            .sum::<f64>()
            .sqrt()
    }
}

impl<'a, T: Scalar> MatRef<'a, T> {
    /// Views a column-major slice.
    pub fn new(nrows: usize, ncols: usize, data: &'a [T]) -> Result<Self> {
        check_len(nrows, ncols, data.len())?;
        Ok(MatRef { nrows, ncols, data })
    }

    #[inline]
    pub fn get(&self, i: usize, j: usize) -> T {
        self.data[i + j * self.nrows]
    }

    #[inline]
    pub fn col(&self, j: usize) -> &'a [T] {
        &self.data[j * self.nrows..(j + 1) * self.nrows]
    }

    pub fn to_owned(&self) -> Mat<T> {
        Mat {
            nrows: self.nrows,
            ncols: self.ncols,
            data: self.data.to_vec(),
        }
    }

    pub fn transpose(&self) -> Mat<T> {
        // Blocked so that both sides stay in cache on large matrices.
        const B: usize = 32;
        let (n, m) = (self.nrows, self.ncols);
        let mut out = vec![T::ZERO; n * m];
        for jb in (0..m).step_by(B) {
            for ib in (0..n).step_by(B) {
                for j in jb..(jb + B).min(m) {
                    for i in ib..(ib + B).min(n) {
                        out[j + i * m] = self.data[i + j * n];
                    }
                }
            }
        }
        Mat {
            nrows: m,
            ncols: n,
            data: out,
        }
    }
}

fn check_len(nrows: usize, ncols: usize, len: usize) -> Result<()> {
    match nrows.checked_mul(ncols) {
        Some(n) if n == len => Ok(()),
        _ => Err(NmfError::InvalidParameter {
            name: "data",
            reason: format!("{len} values cannot fill a {nrows}×{ncols} matrix"),
        }),
    }
}
