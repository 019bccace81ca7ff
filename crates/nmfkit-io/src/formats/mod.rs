//! Reading and writing matrices: .npy, .npz (scipy.sparse or plain arrays),
//! .csv/.tsv and Matrix Market .mtx. Sparse files stay sparse. Every write
//! goes to a temporary name first and is renamed into place.

mod csvfile;
mod mtx;
mod npy;
mod npy_rows;
mod npz;
mod row_order;
mod stream;

pub use npy_rows::{peak_memory_mb, NpyRows};
pub use row_order::{CsrRows, RowOrder};
pub use stream::RowSource;

use crate::error::Error;
use crate::names::{Detect, Names};
use nmfkit::Mat;
use std::path::{Path, PathBuf};

/// A matrix read from disk, in f64: dense or sparse.
pub type Matrix = nmfkit::Matrix<f64>;

/// The file formats nmfkit reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Npy,
    Npz,
    Csv,
    Tsv,
    Mtx,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Npy,
        Format::Npz,
        Format::Csv,
        Format::Tsv,
        Format::Mtx,
    ];

    pub fn of(path: &Path) -> Result<Format, Error> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        Ok(match ext.as_str() {
            "npy" => Format::Npy,
            "npz" => Format::Npz,
            "csv" | "txt" => Format::Csv,
            "tsv" => Format::Tsv,
            "mtx" => Format::Mtx,
            _ => {
                return Err(Error::input(
                    path,
                    format!("unknown file type '.{ext}' (expected .npy, .npz, .csv, .tsv or .mtx)"),
                ))
            }
        })
    }

    pub fn parse(s: &str) -> Result<Format, Error> {
        Format::of(Path::new(&format!("x.{s}"))).map_err(|_| {
            Error::usage(format!(
                "unknown format '{s}' (expected npy, npz, csv, tsv or mtx)"
            ))
        })
    }

    pub fn extension(&self) -> &'static str {
        match self {
            Format::Npy => "npy",
            Format::Npz => "npz",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Mtx => "mtx",
        }
    }
}

/// How a CSV/TSV file lays out its names (other formats hold numbers only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub header: Detect,
    pub index: Detect,
}

/// Reads a matrix, choosing the reader by the file's extension (a CSV's
/// header and index column are detected and dropped).
pub fn read_matrix(path: &Path) -> Result<Matrix, Error> {
    Ok(read_named(path, Layout::default())?.0)
}

/// Reads a matrix and the names a CSV/TSV file gives its rows and columns.
pub fn read_named(path: &Path, layout: Layout) -> Result<(Matrix, Names), Error> {
    let format = Format::of(path)?;
    let meta = std::fs::metadata(path).map_err(|e| Error::input(path, describe_io(&e)))?;
    if meta.is_dir() {
        return Err(Error::input(path, "is a folder, not a matrix file"));
    }
    if meta.len() == 0 {
        return Err(Error::input(path, "the file is empty"));
    }
    let mut names = Names::default();
    let m = match format {
        Format::Npy => Matrix::Dense(npy::read(path)?),
        Format::Npz => npz::read(path)?,
        Format::Csv | Format::Tsv => {
            let t = csvfile::read(path, layout)?;
            names = Names {
                rows: t.row_names,
                cols: t.col_names,
            };
            Matrix::Dense(t.x)
        }
        Format::Mtx => mtx::read(path)?,
    };
    let (n, m_) = m.shape();
    if n == 0 || m_ == 0 {
        return Err(Error::input(
            path,
            format!("the matrix is empty ({n}×{m_})"),
        ));
    }
    Ok((m, names))
}

/// Reads a dense matrix (factors, ground truth); sparse files are densified.
pub fn read_dense(path: &Path) -> Result<Mat<f64>, Error> {
    Ok(read_matrix(path)?.to_dense())
}

/// Writes a matrix by the file's extension, atomically.
pub fn write_matrix(path: &Path, m: &Matrix) -> Result<(), Error> {
    write_named(path, m, &Names::default())
}

/// [`write_matrix`] with names: a CSV/TSV file gets them as its header and
/// index column (other formats hold numbers only).
pub fn write_named(path: &Path, m: &Matrix, names: &Names) -> Result<(), Error> {
    let format = Format::of(path)?;
    let (rows, cols) = (names.rows.as_deref(), names.cols.as_deref());
    atomic_write(path, |tmp| match (format, m) {
        (Format::Npy, m) => npy::write(tmp, &m.to_dense()),
        (Format::Npz, m) => npz::write(tmp, m),
        (Format::Csv, m) => csvfile::write(tmp, &m.to_dense(), b',', rows, cols),
        (Format::Tsv, m) => csvfile::write(tmp, &m.to_dense(), b'\t', rows, cols),
        (Format::Mtx, m) => mtx::write(tmp, m),
    })
}

/// Runs `write` on a temporary file beside `path`, then renames it over
/// `path`; on failure nothing is left behind.
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), Error> {
    let tmp = temp_name(path);
    let res = write(&tmp).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::output(path, describe_io(&e)));
    }
    Ok(())
}

fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

pub fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
