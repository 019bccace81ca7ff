//! Inputs read a block of rows at a time, for fits that never hold X whole:
//! a .npy in place ([`NpyRows`]); a .mtx, a .npz or a transposed .npy
//! through one conversion pass to a row-ordered copy ([`CsrRows`]).

use super::mtx::{self, Entries, Header};
use super::row_order::{CsrRows, RowOrder};
use super::{npy, npz, Format, NpyRows};
use crate::error::Error;
use nmfkit::minibatch::{Batch, BatchSource};
use npyz::NpyFile;
use std::path::Path;

/// X on disk, read by rows.
pub enum RowSource {
    Npy(NpyRows),
    Converted(CsrRows),
}

impl RowSource {
    /// Opens `path` (.npy, .npz or .mtx) to be read by rows of X, or of
    /// its transpose.
    pub fn open(path: &Path, transpose: bool) -> Result<RowSource, Error> {
        match Format::of(path)? {
            Format::Npy if !transpose => NpyRows::open(path).map(RowSource::Npy),
            Format::Npy => {
                let f = std::fs::File::open(path)
                    .map_err(|e| Error::input(path, super::describe_io(&e)))?;
                let npy = NpyFile::new(std::io::BufReader::new(f))
                    .map_err(|e| Error::input(path, format!("not a valid .npy file ({e})")))?;
                dense_rows(path, npy, "X", true).map(RowSource::Converted)
            }
            Format::Npz => npz::stream(path, transpose).map(RowSource::Converted),
            Format::Mtx => {
                let mut out = MtxRows {
                    path,
                    transpose,
                    order: None,
                };
                mtx::scan(path, &mut out)?;
                out.order
                    .expect("scan reads the header or fails")
                    .finish()
                    .map(RowSource::Converted)
            }
            Format::Csv | Format::Tsv => Err(Error::input(
                path,
                "CSV/TSV input is read into memory; streaming reads .npy, .npz or .mtx",
            )),
        }
    }

    /// Stored entries: m·n for a .npy read in place.
    pub fn nnz(&self) -> usize {
        match self {
            RowSource::Npy(s) => {
                let (n, m) = s.shape();
                n * m
            }
            RowSource::Converted(s) => s.nnz(),
        }
    }

    /// Whether batches come out sparse (a converted file).
    pub fn sparse(&self) -> bool {
        matches!(self, RowSource::Converted(_))
    }
}

impl BatchSource<f64> for RowSource {
    fn shape(&self) -> (usize, usize) {
        match self {
            RowSource::Npy(s) => s.shape(),
            RowSource::Converted(s) => s.shape(),
        }
    }

    fn rows(&self, start: usize, end: usize) -> nmfkit::Result<Batch<f64>> {
        match self {
            RowSource::Npy(s) => s.rows(start, end),
            RowSource::Converted(s) => s.rows(start, end),
        }
    }
}

/// A dense array's nonzero entries, in row order of it or of its transpose.
pub(super) fn dense_rows<R: std::io::Read>(
    path: &Path,
    npy: NpyFile<R>,
    name: &str,
    transpose: bool,
) -> Result<CsrRows, Error> {
    let bad = |m: String| Error::input(path, m);
    let (n, m) = match npy.shape() {
        [n, m] => (*n as usize, *m as usize),
        other => {
            return Err(bad(format!(
                "streaming needs a 2-D array, got shape {other:?}"
            )))
        }
    };
    let fortran = npy.order() == npyz::Order::Fortran;
    let (r, c) = if transpose { (m, n) } else { (n, m) };
    let mut out = RowOrder::new(path, r, c, n * m)?;
    let mut count = 0usize;
    for (q, v) in npy::values(path, npy)?.enumerate() {
        let v = v.map_err(|e| bad(format!("cannot read the values ({e})")))?;
        let (i, j) = if fortran {
            (q % n.max(1), q / n.max(1))
        } else {
            (q / m.max(1), q % m.max(1))
        };
        if v != 0.0 {
            if transpose {
                out.push(j, i, v)?;
            } else {
                out.push(i, j, v)?;
            }
        }
        count += 1;
    }
    if count != n * m {
        return Err(bad(format!(
            "'{name}' holds {count} values for shape {n}×{m}; the file may be truncated"
        )));
    }
    out.finish()
}

/// A Matrix Market file's entries into a [`RowOrder`].
struct MtxRows<'p> {
    path: &'p Path,
    transpose: bool,
    order: Option<RowOrder>,
}

impl Entries for MtxRows<'_> {
    fn begin(&mut self, h: &Header) -> Result<(), Error> {
        let (r, c) = if self.transpose {
            (h.cols, h.rows)
        } else {
            (h.rows, h.cols)
        };
        self.order = Some(RowOrder::new(self.path, r, c, h.entries)?);
        Ok(())
    }

    fn entry(&mut self, i: usize, j: usize, v: f64) -> Result<(), Error> {
        let out = self.order.as_mut().expect("begin comes first");
        match (v == 0.0, self.transpose) {
            (true, _) => Ok(()),
            (false, false) => out.push(i, j, v),
            (false, true) => out.push(j, i, v),
        }
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
