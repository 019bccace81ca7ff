//! Matrix Market: coordinate (sparse) and array (dense) files; real,
//! integer and pattern fields; general and symmetric structure.

use super::Matrix;
use crate::error::Error;
use nmfkit::{CsrMatrix, Mat};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

/// What the header and size line of a Matrix Market file say.
pub(super) struct Header {
    pub coordinate: bool,
    pub rows: usize,
    pub cols: usize,
    /// Entries the matrix will have at most (both triangles when symmetric).
    pub entries: usize,
}

/// Where [`scan`] puts what it reads.
pub(super) trait Entries {
    fn begin(&mut self, h: &Header) -> Result<(), Error>;
    /// One entry, 0-based.
    fn entry(&mut self, i: usize, j: usize, v: f64) -> Result<(), Error>;
}

/// The matrix in memory: triplets for a coordinate file, a dense matrix
/// for an array.
enum InMemory {
    Empty,
    Triplets(usize, usize, Vec<(usize, usize, f64)>),
    Dense(Mat<f64>),
}

impl Entries for InMemory {
    fn begin(&mut self, h: &Header) -> Result<(), Error> {
        *self = if h.coordinate {
            InMemory::Triplets(h.rows, h.cols, Vec::with_capacity(h.entries))
        } else {
            InMemory::Dense(Mat::zeros(h.rows, h.cols))
        };
        Ok(())
    }

    fn entry(&mut self, i: usize, j: usize, v: f64) -> Result<(), Error> {
        match self {
            InMemory::Triplets(_, _, t) => t.push((i, j, v)),
            InMemory::Dense(d) => d.set(i, j, v),
            InMemory::Empty => unreachable!("begin comes first"),
        }
        Ok(())
    }
}

pub(super) fn read(path: &Path) -> Result<Matrix, Error> {
    let mut out = InMemory::Empty;
    scan(path, &mut out)?;
    match out {
        InMemory::Triplets(n, m, t) => CsrMatrix::from_triplets(n, m, &t)
            .map(Matrix::Sparse)
            .map_err(|e| Error::input(path, e.to_string())),
        InMemory::Dense(d) => Ok(Matrix::Dense(d)),
        InMemory::Empty => unreachable!("scan reads the header or fails"),
    }
}

/// Reads a file once, in file order: `out` gets the header, then every (row, column, value), 0-based, both triangles of a symmetric
/// matrix, every value of an array (column by column).
pub(super) fn scan(path: &Path, out: &mut dyn Entries) -> Result<(), Error> {
    let bad = |m: String| Error::input(path, m);
    let f = std::fs::File::open(path).map_err(|e| bad(super::describe_io(&e)))?;
    let mut lines = BufReader::new(f).lines().enumerate();
    let (_, header) = lines
        .next()
        .ok_or_else(|| bad("the file is empty".into()))?;
    let header = header.map_err(|e| bad(e.to_string()))?;
    let h: Vec<String> = header
        .split_whitespace()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if h.len() != 5 || h[0] != "%%matrixmarket" || h[1] != "matrix" {
        return Err(bad(format!(
            "line 1: expected '%%MatrixMarket matrix <format> <field> <symmetry>', got '{header}'"
        )));
    }
    let coordinate = match h[2].as_str() {
        "coordinate" => true,
        "array" => false,
        other => return Err(bad(format!("unsupported format '{other}'"))),
    };
    let pattern = match h[3].as_str() {
        "real" | "integer" | "double" => false,
        "pattern" if coordinate => true,
        other => {
            return Err(bad(format!(
                "unsupported field '{other}' (real, integer or pattern)"
            )))
        }
    };
    let symmetric = match h[4].as_str() {
        "general" => false,
        "symmetric" => true,
        other => {
            return Err(bad(format!(
                "unsupported symmetry '{other}' (general or symmetric)"
            )))
        }
    };
    let mut data_lines = lines.filter_map(|(i, l)| match l {
        Ok(l) if l.trim().is_empty() || l.trim_start().starts_with('%') => None,
        other => Some((i + 1, other)),
    });
    let (ln, size) = data_lines
        .next()
        .ok_or_else(|| bad("missing the size line".into()))?;
    let size = size.map_err(|e| bad(e.to_string()))?;
    let nums: Vec<usize> = size
        .split_whitespace()
        .map(|t| {
            t.parse::<usize>()
                .map_err(|_| bad(format!("line {ln}: '{t}' is not a size")))
        })
        .collect::<Result<_, _>>()?;
    let number = |ln: usize, t: &str| {
        t.parse::<f64>()
            .map_err(|_| bad(format!("line {ln}: '{t}' is not a number")))
    };
    if coordinate {
        let [n, m, nnz] = nums[..] else {
            return Err(bad(format!("line {ln}: expected 'rows cols entries'")));
        };
        let entries = if symmetric {
            nnz.saturating_mul(2)
        } else {
            nnz
        };
        out.begin(&Header {
            coordinate,
            rows: n,
            cols: m,
            entries,
        })?;
        let mut count = 0usize;
        for (ln, l) in data_lines {
            let l = l.map_err(|e| bad(e.to_string()))?;
            let t: Vec<&str> = l.split_whitespace().collect();
            let want = if pattern { 2 } else { 3 };
            if t.len() != want {
                return Err(bad(format!(
                    "line {ln}: expected {want} fields, got {}",
                    t.len()
                )));
            }
            let idx = |s: &str, max: usize, what: &str| -> Result<usize, Error> {
                match s.parse::<usize>() {
                    Ok(v) if v >= 1 && v <= max => Ok(v - 1),
                    _ => Err(bad(format!(
                        "line {ln}: {what} index '{s}' is out of range 1..={max}"
                    ))),
                }
            };
            let (i, j) = (idx(t[0], n, "row")?, idx(t[1], m, "column")?);
            let v = if pattern { 1.0 } else { number(ln, t[2])? };
            out.entry(i, j, v)?;
            if symmetric && i != j {
                out.entry(j, i, v)?;
            }
            count += 1;
        }
        if count != nnz {
            return Err(bad(format!(
                "the size line announces {nnz} entries but the file holds {count}"
            )));
        }
    } else {
        let [n, m] = nums[..] else {
            return Err(bad(format!("line {ln}: expected 'rows cols'")));
        };
        if symmetric && n != m {
            return Err(bad(format!(
                "line {ln}: a symmetric array must be square, got {n}×{m}"
            )));
        }
        out.begin(&Header {
            coordinate,
            rows: n,
            cols: m,
            entries: n.saturating_mul(m),
        })?;
        let expected = if symmetric { n * (n + 1) / 2 } else { n * m };
        // Column by column; a symmetric array lists its lower triangle.
        let (mut i, mut j, mut count) = (0usize, 0usize, 0usize);
        for (ln, l) in data_lines {
            let l = l.map_err(|e| bad(e.to_string()))?;
            for t in l.split_whitespace() {
                let v = number(ln, t)?;
                count += 1;
                if count > expected {
                    continue;
                }
                out.entry(i, j, v)?;
                if symmetric && i != j {
                    out.entry(j, i, v)?;
                }
                i += 1;
                if i == n {
                    j += 1;
                    i = if symmetric { j } else { 0 };
                }
            }
        }
        if count != expected {
            return Err(bad(format!(
                "expected {expected} values for a {n}×{m} array, found {count}"
            )));
        }
    }
    Ok(())
}

pub(super) fn write(path: &Path, m: &Matrix) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    match m {
        Matrix::Dense(d) => {
            writeln!(w, "%%MatrixMarket matrix array real general")?;
            writeln!(w, "{} {}", d.nrows, d.ncols)?;
            for v in &d.data {
                writeln!(w, "{v}")?;
            }
        }
        Matrix::Sparse(s) => {
            writeln!(w, "%%MatrixMarket matrix coordinate real general")?;
            writeln!(w, "{} {} {}", s.nrows(), s.ncols(), s.nnz())?;
            for i in 0..s.nrows() {
                let (cols, vals) = s.row(i);
                for (&j, v) in cols.iter().zip(vals) {
                    writeln!(w, "{} {} {v}", i + 1, j + 1)?;
                }
            }
        }
    }
    w.into_inner().map_err(|e| e.into_error())?.sync_all()
}
