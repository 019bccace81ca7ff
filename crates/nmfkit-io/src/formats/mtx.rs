//! Matrix Market: coordinate (sparse) and array (dense) files; real,
//! integer and pattern fields; general and symmetric structure.

use super::Matrix;
use crate::error::Error;
use nmfkit::{CsrMatrix, Mat};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

pub(super) fn read(path: &Path) -> Result<Matrix, Error> {
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
        let mut triplets = Vec::with_capacity(if symmetric { 2 * nnz } else { nnz });
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
            triplets.push((i, j, v));
            if symmetric && i != j {
                triplets.push((j, i, v));
            }
            count += 1;
        }
        if count != nnz {
            return Err(bad(format!(
                "the size line announces {nnz} entries but the file holds {count}"
            )));
        }
        CsrMatrix::from_triplets(n, m, &triplets)
            .map(Matrix::Sparse)
            .map_err(|e| bad(e.to_string()))
    } else {
        let [n, m] = nums[..] else {
            return Err(bad(format!("line {ln}: expected 'rows cols'")));
        };
        let mut vals = Vec::with_capacity(n * m);
        for (ln, l) in data_lines {
            let l = l.map_err(|e| bad(e.to_string()))?;
            for t in l.split_whitespace() {
                vals.push(number(ln, t)?);
            }
        }
        let expected = if symmetric { n * (n + 1) / 2 } else { n * m };
        if vals.len() != expected {
            return Err(bad(format!(
                "expected {expected} values for a {n}×{m} array, found {}",
                vals.len()
            )));
        }
        if symmetric {
            // Lower triangle, column by column.
            let mut full = Mat::zeros(n, n);
            let mut it = vals.into_iter();
            for j in 0..n {
                for i in j..n {
                    let v = it.next().unwrap();
                    full.set(i, j, v);
                    full.set(j, i, v);
                }
            }
            Ok(Matrix::Dense(full))
        } else {
            Mat::from_col_major(n, m, vals)
                .map(Matrix::Dense)
                .map_err(|e| bad(e.to_string()))
        }
    }
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
