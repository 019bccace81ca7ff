//! Entries in any order, rewritten as a row-ordered CSR file on disk that
//! is then read a block of rows at a time ([`CsrRows`]): how .mtx and .npz
//! inputs are streamed. A Matrix Market file lists its entries in any
//! order and a .npz is compressed, so neither can be read by rows in
//! place; one pass converts them.
//!
//! The conversion is an external bucket sort, so memory stays bounded
//! whatever the file's size: each entry goes to the bucket file of its
//! row range (at most [`MAX_BUCKETS`], about [`BUCKET_BYTES`] each), and
//! each bucket in turn is sorted in memory and appended to the CSR file.
//! The scratch files live in a fresh folder under the system's temporary
//! directory (`TMPDIR`), about 12 bytes per entry, removed when the
//! reader is dropped.

use crate::error::Error;
use nmfkit::minibatch::{Batch, BatchSource};
use nmfkit::{CsrMatrix, NmfError};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What one bucket is meant to hold in memory when it is sorted.
pub const BUCKET_BYTES: usize = 16 << 20;
/// Open bucket files at once (each with a 64 KiB buffer).
pub const MAX_BUCKETS: usize = 256;
/// A bucket entry: row within the bucket, column, value.
const ENTRY: usize = 16;

/// A folder removed with everything in it when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("nmfkit-rows-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Collects (row, column, value) entries in any order; [`finish`](RowOrder::finish)
/// gives them back by rows. Duplicates are summed,
/// as scipy and the in-memory readers do.
pub struct RowOrder {
    source: PathBuf,
    scratch: Scratch,
    rows: usize,
    cols: usize,
    rows_per_bucket: usize,
    buckets: Vec<BufWriter<File>>,
}

impl RowOrder {
    /// For an `rows`×`cols` matrix of about `entries` entries, read from
    /// `source` (named in errors).
    pub fn new(source: &Path, rows: usize, cols: usize, entries: usize) -> Result<RowOrder, Error> {
        Self::with_buckets_of(source, rows, cols, entries, BUCKET_BYTES)
    }

    /// As [`new`](RowOrder::new), with buckets of about `bytes` each.
    pub fn with_buckets_of(
        source: &Path,
        rows: usize,
        cols: usize,
        entries: usize,
        bytes: usize,
    ) -> Result<RowOrder, Error> {
        if cols > u32::MAX as usize {
            return Err(Error::input(
                source,
                format!("{cols} columns: streaming takes at most {}", u32::MAX),
            ));
        }
        let io = |e: std::io::Error| scratch_error(source, e);
        let scratch = Scratch::new().map_err(io)?;
        let want = (entries.saturating_mul(ENTRY)).div_ceil(bytes.max(ENTRY));
        let count = want.clamp(1, MAX_BUCKETS).min(rows.max(1));
        let rows_per_bucket = rows.div_ceil(count).max(1);
        if rows_per_bucket > u32::MAX as usize {
            return Err(Error::input(
                source,
                format!("{rows} rows are too many to stream"),
            ));
        }
        let buckets = (0..rows.div_ceil(rows_per_bucket).max(1))
            .map(|b| {
                File::create(scratch.0.join(format!("bucket{b}")))
                    .map(|f| BufWriter::with_capacity(64 << 10, f))
            })
            .collect::<std::io::Result<_>>()
            .map_err(io)?;
        Ok(RowOrder {
            source: source.to_path_buf(),
            scratch,
            rows,
            cols,
            rows_per_bucket,
            buckets,
        })
    }

    /// Adds one entry; `(i, j)` must be inside the matrix.
    pub fn push(&mut self, i: usize, j: usize, v: f64) -> Result<(), Error> {
        if i >= self.rows || j >= self.cols {
            return Err(Error::input(
                &self.source,
                format!(
                    "entry ({i}, {j}) is out of range for a {}×{} matrix",
                    self.rows, self.cols
                ),
            ));
        }
        let (b, local) = (i / self.rows_per_bucket, i % self.rows_per_bucket);
        let mut e = [0u8; ENTRY];
        e[..4].copy_from_slice(&(local as u32).to_le_bytes());
        e[4..8].copy_from_slice(&(j as u32).to_le_bytes());
        e[8..].copy_from_slice(&v.to_le_bytes());
        self.buckets[b]
            .write_all(&e)
            .map_err(|e| scratch_error(&self.source, e))
    }

    /// Sorts each bucket and writes the CSR file: indptr (u64), column
    /// indices (u32) and values (f64), each in a file of its own.
    pub fn finish(self) -> Result<CsrRows, Error> {
        let RowOrder {
            source,
            scratch,
            rows,
            cols,
            rows_per_bucket,
            buckets,
        } = self;
        let io = |e: std::io::Error| scratch_error(&source, e);
        let create = |name: &str| {
            File::create(scratch.0.join(name)).map(|f| BufWriter::with_capacity(1 << 20, f))
        };
        let (mut indptr, mut indices, mut values) = (
            create("indptr").map_err(io)?,
            create("indices").map_err(io)?,
            create("values").map_err(io)?,
        );
        let mut nnz = 0u64;
        indptr.write_all(&nnz.to_le_bytes()).map_err(io)?;
        for (b, bucket) in buckets.into_iter().enumerate() {
            drop(bucket.into_inner().map_err(|e| io(e.into_error()))?);
            let path = scratch.0.join(format!("bucket{b}"));
            let mut bytes = Vec::new();
            BufReader::new(File::open(&path).map_err(io)?)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            std::fs::remove_file(&path).map_err(io)?;
            let mut entries: Vec<(u32, u32, f64)> = bytes
                .chunks_exact(ENTRY)
                .map(|e| {
                    let u =
                        |r: std::ops::Range<usize>| u32::from_le_bytes(e[r].try_into().unwrap());
                    (
                        u(0..4),
                        u(4..8),
                        f64::from_le_bytes(e[8..].try_into().unwrap()),
                    )
                })
                .collect();
            drop(bytes);
            entries.sort_unstable_by_key(|e| (e.0, e.1));
            let first = b * rows_per_bucket;
            let here = rows_per_bucket.min(rows - first);
            let mut at = 0;
            for local in 0..here as u32 {
                while at < entries.len() && entries[at].0 == local {
                    let (_, j, mut v) = entries[at];
                    at += 1;
                    while at < entries.len() && entries[at].0 == local && entries[at].1 == j {
                        v += entries[at].2;
                        at += 1;
                    }
                    indices.write_all(&j.to_le_bytes()).map_err(io)?;
                    values.write_all(&v.to_le_bytes()).map_err(io)?;
                    nnz += 1;
                }
                indptr.write_all(&nnz.to_le_bytes()).map_err(io)?;
            }
        }
        let open = |w: BufWriter<File>, name: &str| -> Result<File, Error> {
            w.into_inner().map_err(|e| io(e.into_error()))?;
            File::open(scratch.0.join(name)).map_err(io)
        };
        Ok(CsrRows {
            source: source.clone(),
            rows,
            cols,
            nnz: nnz as usize,
            indptr: open(indptr, "indptr")?,
            indices: open(indices, "indices")?,
            values: open(values, "values")?,
            _scratch: scratch,
        })
    }
}

fn scratch_error(source: &Path, e: std::io::Error) -> Error {
    Error::input(
        source,
        format!(
            "cannot write the row-ordered copy under {} ({e}); set TMPDIR to a folder with room",
            std::env::temp_dir().display()
        ),
    )
}

/// A row-ordered CSR file, read a block of rows at a time with positioned
/// reads: memory is one batch, whatever the file's size.
pub struct CsrRows {
    source: PathBuf,
    rows: usize,
    cols: usize,
    nnz: usize,
    indptr: File,
    indices: File,
    values: File,
    _scratch: Scratch,
}

impl CsrRows {
    /// Stored entries (after duplicates are summed).
    pub fn nnz(&self) -> usize {
        self.nnz
    }

    fn read(&self, file: &File, at: u64, buf: &mut [u8], start: usize) -> nmfkit::Result<()> {
        file.read_exact_at(buf, at)
            .map_err(|e| NmfError::InvalidParameter {
                name: "X",
                reason: format!(
                    "{}: cannot read rows from {start} of its row-ordered copy ({e})",
                    self.source.display()
                ),
            })
    }
}

impl BatchSource<f64> for CsrRows {
    fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    fn rows(&self, start: usize, end: usize) -> nmfkit::Result<Batch<f64>> {
        let b = end - start;
        let mut buf = vec![0u8; (b + 1) * 8];
        self.read(&self.indptr, (start * 8) as u64, &mut buf, start)?;
        let ptr: Vec<u64> = buf
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let (lo, len) = (ptr[0], (ptr[b] - ptr[0]) as usize);
        let mut buf = vec![0u8; len * 4];
        self.read(&self.indices, lo * 4, &mut buf, start)?;
        let indices: Vec<u64> = buf
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as u64)
            .collect();
        let mut buf = vec![0u8; len * 8];
        self.read(&self.values, lo * 8, &mut buf, start)?;
        let values: Vec<f64> = buf
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let ptr: Vec<u64> = ptr.iter().map(|p| p - lo).collect();
        CsrMatrix::from_slices(b, self.cols, &ptr, &indices, &values).map(Batch::Sparse)
    }
}
