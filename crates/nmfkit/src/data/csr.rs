//! The CSR matrix type: owned, or borrowing arrays it was given (scipy's,
//! read in place from Python) when they are already canonical.

use crate::error::{NmfError, Result};
use crate::matrix::{Mat, MatRef};
use crate::scalar::Scalar;
use std::ops::Deref;

/// An array owned, or borrowed for `'a`.
#[derive(Debug)]
pub(crate) enum Cow<'a, T> {
    Owned(Vec<T>),
    Borrowed(&'a [T]),
}

impl<T> Deref for Cow<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Cow::Owned(v) => v,
            Cow::Borrowed(s) => s,
        }
    }
}

impl<T: Clone> Cow<'_, T> {
    fn into_owned(self) -> Vec<T> {
        match self {
            Cow::Owned(v) => v,
            Cow::Borrowed(s) => s.to_vec(),
        }
    }
}

impl<T: Clone> Clone for Cow<'_, T> {
    /// A borrowed array stays borrowed; an owned one is copied.
    fn clone(&self) -> Self {
        match self {
            Cow::Owned(v) => Cow::Owned(v.clone()),
            Cow::Borrowed(s) => Cow::Borrowed(s),
        }
    }
}

impl<T: PartialEq> PartialEq for Cow<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T> From<Vec<T>> for Cow<'_, T> {
    fn from(v: Vec<T>) -> Self {
        Cow::Owned(v)
    }
}

/// An integer type CSR arrays come in (scipy uses int32 or int64).
pub trait CsrIndex: Copy {
    /// The value as an index; None when negative or too large.
    fn index(self) -> Option<usize>;
    /// For error messages.
    fn display(self) -> String;
    /// The same bits as `u32`s, when the type has their size (then any
    /// negative value reads as an index too large to pass validation).
    fn as_u32s(_s: &[Self]) -> Option<&[u32]> {
        None
    }
    /// The same bits as `usize`s, when the type has their size.
    fn as_usizes(_s: &[Self]) -> Option<&[usize]> {
        None
    }
}

/// Reinterprets a slice as another type of the same size and alignment.
fn same_bits<A, B>(s: &[A]) -> Option<&[B]> {
    if std::mem::size_of::<A>() != std::mem::size_of::<B>()
        || std::mem::align_of::<A>() < std::mem::align_of::<B>()
    {
        return None;
    }
    // SAFETY: only instantiated below with primitive integers of equal size,
    // for which every bit pattern is valid; alignment was checked.
    Some(unsafe { std::slice::from_raw_parts(s.as_ptr() as *const B, s.len()) })
}

macro_rules! csr_index {
    ($($t:ty),*) => {$(
        impl CsrIndex for $t {
            fn index(self) -> Option<usize> {
                usize::try_from(self).ok()
            }
            fn display(self) -> String {
                self.to_string()
            }
            fn as_u32s(s: &[Self]) -> Option<&[u32]> {
                same_bits(s)
            }
            fn as_usizes(s: &[Self]) -> Option<&[usize]> {
                same_bits(s)
            }
        }
    )*};
}
csr_index!(i32, i64, u32, u64, usize);

/// A compressed sparse row matrix with sorted, unique column indices, whose
/// arrays are owned or borrowed for `'a` ([`Csr::borrowed`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Csr<'a, T> {
    pub(crate) nrows: usize,
    pub(crate) ncols: usize,
    pub(crate) indptr: Cow<'a, usize>,
    pub(crate) indices: Cow<'a, u32>,
    pub(crate) data: Cow<'a, T>,
}

/// A CSR matrix that owns its arrays.
pub type CsrMatrix<T> = Csr<'static, T>;

fn bad<R>(s: String) -> Result<R> {
    Err(NmfError::InvalidSparse(s))
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
        Self::from_slices(nrows, ncols, &indptr, &indices, &data)
    }

    /// Builds from borrowed CSR arrays with any integer index type, owning
    /// a copy: 4 bytes per index and one value per entry.
    pub fn from_slices<I: CsrIndex>(
        nrows: usize,
        ncols: usize,
        indptr: &[I],
        indices: &[I],
        data: &[T],
    ) -> Result<Self> {
        Ok(Csr::borrowed(nrows, ncols, indptr, indices, data)?.into_owned())
    }

    /// Builds from (row, column, value) triplets; duplicates are summed.
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        triplets: &[(usize, usize, T)],
    ) -> Result<Self> {
        if let Some(&(i, j, _)) = triplets.iter().find(|t| t.0 >= nrows || t.1 >= ncols) {
            return bad(format!(
                "entry ({i}, {j}) out of range for a {nrows}×{ncols} matrix"
            ));
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
        Csr::from_parts(x.nrows, x.ncols, indptr, indices, data)
    }

    /// From arrays already checked and canonical.
    pub(crate) fn from_parts(
        nrows: usize,
        ncols: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        data: Vec<T>,
    ) -> Self {
        Csr {
            nrows,
            ncols,
            indptr: indptr.into(),
            indices: indices.into(),
            data: data.into(),
        }
    }
}

impl<'a, T: Scalar> Csr<'a, T> {
    /// CSR over the given arrays with any integer index type (scipy's int32
    /// or int64), checked in one pass. When the rows are already sorted and
    /// free of duplicates, the values are borrowed, and so are the indices
    /// (int32) and the row pointers (int64): no copy of X. Otherwise rows
    /// are sorted and duplicates summed into an owned copy.
    pub fn borrowed<I: CsrIndex>(
        nrows: usize,
        ncols: usize,
        indptr: &'a [I],
        indices: &'a [I],
        data: &'a [T],
    ) -> Result<Self> {
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
        let ptr: Cow<'a, usize> = match I::as_usizes(indptr) {
            Some(p) => Cow::Borrowed(p),
            None => {
                let mut v = Vec::with_capacity(nrows + 1);
                for (i, p) in indptr.iter().enumerate() {
                    match p.index() {
                        Some(p) => v.push(p),
                        None => return bad(format!("indptr[{i}] is negative")),
                    }
                }
                Cow::Owned(v)
            }
        };
        if ptr[0] != 0 || ptr[nrows] != data.len() {
            return bad(format!(
                "indptr must start at 0 and end at nnz = {}, got {}..{}",
                data.len(),
                ptr[0] as isize,
                ptr[nrows] as isize
            ));
        }
        if let Some(i) = (0..nrows).find(|&i| ptr[i] > ptr[i + 1]) {
            return bad(format!("indptr decreases at row {i}"));
        }
        let idx: Cow<'a, u32> = match I::as_u32s(indices) {
            Some(u) => Cow::Borrowed(u),
            None => {
                let mut v = Vec::with_capacity(indices.len());
                for j in indices {
                    // Out of range here is reported by the check below.
                    v.push(
                        j.index()
                            .map_or(u32::MAX, |j| j.min(u32::MAX as usize) as u32),
                    );
                }
                Cow::Owned(v)
            }
        };
        let mut canonical = true;
        for i in 0..nrows {
            let row = &idx[ptr[i]..ptr[i + 1]];
            if let Some(q) = row.iter().position(|&j| j as usize >= ncols) {
                let p = ptr[i] + q;
                return bad(format!(
                    "column index {} out of range for {} columns (entry {p})",
                    indices[p].display(),
                    ncols
                ));
            }
            canonical &= row.windows(2).all(|w| w[0] < w[1]);
        }
        if canonical {
            return Ok(Csr {
                nrows,
                ncols,
                indptr: ptr,
                indices: idx,
                data: Cow::Borrowed(data),
            });
        }
        // Sort each row by column and sum duplicates, in place in the copy.
        let mut out_idx = idx.into_owned();
        let mut out_val = data.to_vec();
        let mut out_ptr = Vec::with_capacity(nrows + 1);
        out_ptr.push(0);
        let mut row: Vec<(u32, T)> = Vec::new();
        let mut w = 0;
        for i in 0..nrows {
            row.clear();
            row.extend((ptr[i]..ptr[i + 1]).map(|p| (out_idx[p], out_val[p])));
            row.sort_by_key(|e| e.0);
            let start = w;
            for &(j, v) in row.iter() {
                if w > start && out_idx[w - 1] == j {
                    out_val[w - 1] += v;
                } else {
                    out_idx[w] = j;
                    out_val[w] = v;
                    w += 1;
                }
            }
            out_ptr.push(w);
        }
        out_idx.truncate(w);
        out_val.truncate(w);
        out_idx.shrink_to_fit();
        out_val.shrink_to_fit();
        Ok(Csr::from_parts(nrows, ncols, out_ptr, out_idx, out_val))
    }

    /// The same matrix, borrowing this one's arrays.
    pub fn view(&self) -> Csr<'_, T> {
        Csr {
            nrows: self.nrows,
            ncols: self.ncols,
            indptr: Cow::Borrowed(&self.indptr),
            indices: Cow::Borrowed(&self.indices),
            data: Cow::Borrowed(&self.data),
        }
    }

    /// The same matrix owning its arrays (copying the borrowed ones).
    pub fn into_owned(self) -> CsrMatrix<T> {
        Csr {
            nrows: self.nrows,
            ncols: self.ncols,
            indptr: Cow::Owned(self.indptr.into_owned()),
            indices: Cow::Owned(self.indices.into_owned()),
            data: Cow::Owned(self.data.into_owned()),
        }
    }

    /// Whether the values are borrowed (X read in place).
    pub fn borrows_values(&self) -> bool {
        matches!(self.data, Cow::Borrowed(_))
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
        Csr::from_parts(
            self.nrows,
            self.ncols,
            self.indptr.to_vec(),
            self.indices.to_vec(),
            vec![T::ONE; self.nnz()],
        )
    }

    /// The transpose, in CSR form (that is, X in CSC form).
    pub fn transpose(&self) -> CsrMatrix<T> {
        let mut counts = vec![0usize; self.ncols + 1];
        for &j in self.indices.iter() {
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
        Csr::from_parts(self.ncols, self.nrows, counts, indices, data)
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
        Csr::from_parts(
            self.nrows,
            self.ncols,
            self.indptr.to_vec(),
            self.indices.to_vec(),
            self.data.iter().map(|v| U::from_f64(v.to_f64())).collect(),
        )
    }
}
