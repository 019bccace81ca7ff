//! Reading one rank's block X_ij of the input.
//!
//! - `.npy` (little-endian f8/f4/i8/i4, C or Fortran order): read in place,
//!   only the block's bytes (a seek per row or column of the block).
//! - `.mtx` (coordinate or array): streamed, keeping only the block's entries.
//! - a folder written by `nmfkit-mpi partition`: the rank's own block file.
//! - anything else the `nmfkit` command reads (`.npz`, `.csv`, other
//!   dtypes): read whole by every rank and cut (fine for moderate sizes; use
//!   `partition` for large ones).

use crate::grid::Layout;
use nmfkit::{CsrMatrix, Mat};
use nmfkit_io::formats::{read_matrix, write_matrix, Matrix};
use nmfkit_io::Error as CliError;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The shape of the input without reading its values (npy header, mtx size
/// line, partition metadata); other formats are read whole.
pub fn shape_of(path: &Path) -> Result<(usize, usize), CliError> {
    if path.is_dir() {
        let meta = partition_meta(path)?;
        return Ok(meta.shape);
    }
    match ext(path).as_str() {
        "npy" => {
            if let Some(h) = npy_header(path)? {
                return Ok((h.rows, h.cols));
            }
        }
        "mtx" => return mtx_size(path).map(|(n, m, _)| (n, m)),
        _ => {}
    }
    Ok(read_matrix(path)?.shape())
}

/// The block rows × cols of the input.
pub fn read_block(path: &Path, layout: &Layout, i: usize, j: usize) -> Result<Matrix, CliError> {
    let (rows, cols) = (layout.row_block(i), layout.col_block(j));
    if path.is_dir() {
        let meta = partition_meta(path)?;
        if (meta.pr, meta.pc) != (layout.pr, layout.pc) {
            return Err(CliError::input(
                path,
                format!(
                    "was partitioned for a {}x{} grid, not {}x{}: partition again or pass --grid {}x{}",
                    meta.pr, meta.pc, layout.pr, layout.pc, meta.pr, meta.pc
                ),
            ));
        }
        let file = block_file(path, i, j, meta.sparse);
        let b = read_matrix(&file)?;
        if b.shape() != (rows.len(), cols.len()) {
            return Err(CliError::input(
                &file,
                format!(
                    "is {:?} but block ({i}, {j}) should be {}×{}",
                    b.shape(),
                    rows.len(),
                    cols.len()
                ),
            ));
        }
        return Ok(b);
    }
    match ext(path).as_str() {
        "npy" => {
            if let Some(h) = npy_header(path)? {
                return npy_block(path, &h, rows, cols).map(Matrix::Dense);
            }
        }
        "mtx" => return mtx_block(path, rows, cols),
        _ => {}
    }
    Ok(cut(&read_matrix(path)?, rows, cols))
}

fn ext(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// rows × cols of a matrix in memory.
pub fn cut(x: &Matrix, rows: Range<usize>, cols: Range<usize>) -> Matrix {
    match x {
        Matrix::Dense(d) => Matrix::Dense(Mat::from_fn(rows.len(), cols.len(), |a, b| {
            d.get(rows.start + a, cols.start + b)
        })),
        Matrix::Sparse(s) => {
            let mut t = Vec::new();
            for (a, r) in rows.clone().enumerate() {
                let (idx, val) = s.row(r);
                for (&c, &v) in idx.iter().zip(val) {
                    if cols.contains(&(c as usize)) {
                        t.push((a, c as usize - cols.start, v));
                    }
                }
            }
            Matrix::Sparse(
                CsrMatrix::from_triplets(rows.len(), cols.len(), &t).expect("entries in range"),
            )
        }
    }
}

struct NpyHeader {
    rows: usize,
    cols: usize,
    fortran: bool,
    /// Bytes per value and how to read one.
    size: usize,
    kind: char,
    offset: u64,
}

/// The header of a .npy file whose values can be read in place, or None
/// for a dtype that the whole-file reader must handle.
fn npy_header(path: &Path) -> Result<Option<NpyHeader>, CliError> {
    let bad = |m: &str| CliError::input(path, m.to_string());
    let mut f = File::open(path).map_err(|e| CliError::input(path, e.to_string()))?;
    let mut pre = [0u8; 10];
    f.read_exact(&mut pre)
        .map_err(|_| bad("not a .npy file (too short)"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (bad magic)"));
    }
    let (len, start) = if pre[6] == 1 {
        (u16::from_le_bytes([pre[8], pre[9]]) as usize, 10u64)
    } else {
        let mut more = [0u8; 2];
        f.read_exact(&mut more)
            .map_err(|_| bad("truncated .npy header"))?;
        (
            u32::from_le_bytes([pre[8], pre[9], more[0], more[1]]) as usize,
            12u64,
        )
    };
    let mut h = vec![0u8; len];
    f.read_exact(&mut h)
        .map_err(|_| bad("truncated .npy header"))?;
    let h = String::from_utf8_lossy(&h).to_string();
    let field = |key: &str| -> Option<String> {
        let at = h.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = h[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr").ok_or_else(|| bad("the .npy header has no descr"))?;
    let descr: String = descr
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| *c != '\'' && *c != '"')
        .collect();
    let fortran = field("fortran_order").is_some_and(|v| v.starts_with("True"));
    let shape = field("shape").ok_or_else(|| bad("the .npy header has no shape"))?;
    let inside: String = shape
        .trim_start_matches('(')
        .chars()
        .take_while(|c| *c != ')')
        .collect();
    let dims: Vec<usize> = inside
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| bad("bad shape in the .npy header"))
        })
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [n, m] => (*n, *m),
        _ => return Err(bad("expected a 2-D array (a 1-D array is no matrix)")),
    };
    let (kind, size) = match descr.as_str() {
        "<f8" => ('f', 8),
        "<f4" => ('f', 4),
        "<i8" => ('i', 8),
        "<i4" => ('i', 4),
        _ => return Ok(None),
    };
    Ok(Some(NpyHeader {
        rows,
        cols,
        fortran,
        size,
        kind,
        offset: start + len as u64,
    }))
}

fn npy_block(
    path: &Path,
    h: &NpyHeader,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Result<Mat<f64>, CliError> {
    let mut f = File::open(path).map_err(|e| CliError::input(path, e.to_string()))?;
    let expected = h.offset + (h.rows * h.cols * h.size) as u64;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len < expected {
        return Err(CliError::input(
            path,
            format!(
                "holds {len} bytes but a {}×{} array needs {expected}: the file is truncated",
                h.rows, h.cols
            ),
        ));
    }
    let value = |b: &[u8]| -> f64 {
        match (h.kind, h.size) {
            ('f', 8) => f64::from_le_bytes(b.try_into().unwrap()),
            ('f', 4) => f32::from_le_bytes(b.try_into().unwrap()) as f64,
            ('i', 8) => i64::from_le_bytes(b.try_into().unwrap()) as f64,
            _ => i32::from_le_bytes(b.try_into().unwrap()) as f64,
        }
    };
    let mut out = Mat::zeros(rows.len(), cols.len());
    // Contiguous runs: a row's columns (C order) or a column's rows (Fortran).
    let (outer, inner, stride) = if h.fortran {
        (cols.clone(), rows.clone(), h.rows)
    } else {
        (rows.clone(), cols.clone(), h.cols)
    };
    let mut buf = vec![0u8; inner.len() * h.size];
    for (a, o) in outer.enumerate() {
        let at = h.offset + ((o * stride + inner.start) * h.size) as u64;
        f.seek(SeekFrom::Start(at))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(|e| CliError::input(path, format!("cannot read the block: {e}")))?;
        for (b, chunk) in buf.chunks_exact(h.size).enumerate() {
            let v = value(chunk);
            if h.fortran {
                out.set(b, a, v);
            } else {
                out.set(a, b, v);
            }
        }
    }
    Ok(out)
}

/// (rows, cols, entries) from a Matrix Market header, and whether it is coordinate.
fn mtx_size(path: &Path) -> Result<(usize, usize, bool), CliError> {
    let f = File::open(path).map_err(|e| CliError::input(path, e.to_string()))?;
    let mut lines = BufReader::new(f).lines();
    let banner = lines
        .next()
        .and_then(|l| l.ok())
        .ok_or_else(|| CliError::input(path, "the file is empty"))?;
    let coord = banner.to_ascii_lowercase().contains("coordinate");
    for line in lines {
        let line = line.map_err(|e| CliError::input(path, e.to_string()))?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('%') {
            continue;
        }
        let v: Vec<usize> = t
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        if v.len() < 2 {
            break;
        }
        return Ok((v[0], v[1], coord));
    }
    Err(CliError::input(
        path,
        "no size line in the Matrix Market header",
    ))
}

fn mtx_block(path: &Path, rows: Range<usize>, cols: Range<usize>) -> Result<Matrix, CliError> {
    let f = File::open(path).map_err(|e| CliError::input(path, e.to_string()))?;
    let mut lines = BufReader::new(f).lines();
    let banner = lines
        .next()
        .and_then(|l| l.ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !banner.starts_with("%%matrixmarket") {
        return Err(CliError::input(
            path,
            "not a Matrix Market file (no %%MatrixMarket banner)",
        ));
    }
    let coord = banner.contains("coordinate");
    let pattern = banner.contains("pattern");
    let symmetric = banner.contains("symmetric");
    if banner.contains("complex") {
        return Err(CliError::input(
            path,
            "complex Matrix Market files are not supported",
        ));
    }
    let bad = |no: usize, m: &str| CliError::input(path, format!("line {no}: {m}"));
    let mut size = None;
    let mut t = Vec::new();
    let mut dense = Mat::zeros(rows.len(), cols.len());
    let mut seen = 0usize;
    for (no, line) in lines.enumerate() {
        let no = no + 2;
        let line = line.map_err(|e| CliError::input(path, e.to_string()))?;
        let s = line.trim();
        if s.is_empty() || s.starts_with('%') {
            continue;
        }
        let parts: Vec<&str> = s.split_whitespace().collect();
        let Some((n, m)) = size else {
            let n = parts.first().and_then(|v| v.parse::<usize>().ok());
            let m = parts.get(1).and_then(|v| v.parse::<usize>().ok());
            match (n, m) {
                (Some(n), Some(m)) => size = Some((n, m)),
                _ => return Err(bad(no, "bad size line")),
            }
            continue;
        };
        let num = |q: usize| -> Result<f64, CliError> {
            parts
                .get(q)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| bad(no, "expected a number"))
        };
        if coord {
            let (r, c) = (num(0)? as usize, num(1)? as usize);
            if r == 0 || c == 0 || r > n || c > m {
                return Err(bad(
                    no,
                    &format!("entry ({r}, {c}) out of range for {n}×{m}"),
                ));
            }
            let v = if pattern { 1.0 } else { num(2)? };
            let mut keep = |r: usize, c: usize| {
                if rows.contains(&r) && cols.contains(&c) {
                    t.push((r - rows.start, c - cols.start, v));
                }
            };
            keep(r - 1, c - 1);
            if symmetric && r != c {
                keep(c - 1, r - 1);
            }
        } else {
            // Array format: column-major values.
            let (r, c) = (seen % n, seen / n);
            seen += 1;
            if rows.contains(&r) && cols.contains(&c) {
                dense.set(r - rows.start, c - cols.start, num(0)?);
            }
        }
    }
    if size.is_none() {
        return Err(CliError::input(
            path,
            "no size line in the Matrix Market header",
        ));
    }
    Ok(if coord {
        Matrix::Sparse(
            CsrMatrix::from_triplets(rows.len(), cols.len(), &t)
                .map_err(|e| CliError::input(path, e.to_string()))?,
        )
    } else {
        Matrix::Dense(dense)
    })
}

pub struct PartitionMeta {
    pub shape: (usize, usize),
    pub pr: usize,
    pub pc: usize,
    pub sparse: bool,
}

fn partition_meta(dir: &Path) -> Result<PartitionMeta, CliError> {
    let file = dir.join("partition.json");
    let text = std::fs::read_to_string(&file).map_err(|_| {
        CliError::input(
            dir,
            "is a folder without partition.json (write one with nmfkit-mpi partition)",
        )
    })?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| CliError::input(&file, e.to_string()))?;
    let num = |p: &str| -> Result<usize, CliError> {
        v.pointer(p)
            .and_then(Value::as_u64)
            .map(|x| x as usize)
            .ok_or_else(|| CliError::input(&file, format!("missing {p}")))
    };
    Ok(PartitionMeta {
        shape: (num("/shape/0")?, num("/shape/1")?),
        pr: num("/grid/0")?,
        pc: num("/grid/1")?,
        sparse: v["sparse"].as_bool().unwrap_or(false),
    })
}

fn block_file(dir: &Path, i: usize, j: usize, sparse: bool) -> PathBuf {
    dir.join(format!(
        "block_{i}_{j}.{}",
        if sparse { "npz" } else { "npy" }
    ))
}

/// `nmfkit-mpi partition`: one file per block plus partition.json, staged
/// and renamed into place.
pub fn partition(input: &Path, pr: usize, pc: usize, out: &Path) -> Result<Value, CliError> {
    let x = read_matrix(input)?;
    let (n, m) = x.shape();
    if pr > n || pc > m {
        return Err(CliError::usage(format!(
            "a {pr}x{pc} grid has more process rows or columns than the {n}×{m} matrix"
        )));
    }
    let layout = Layout::new(n, m, pr, pc);
    let mut staged = nmfkit_io::folder::Staged::new(out, false)?;
    for i in 0..pr {
        for j in 0..pc {
            let b = cut(&x, layout.row_block(i), layout.col_block(j));
            let name = block_file(Path::new(""), i, j, x.is_sparse());
            staged.file(&name.to_string_lossy(), |p| write_matrix(p, &b))?;
        }
    }
    let meta = json!({"shape": [n, m], "grid": [pr, pc], "sparse": x.is_sparse(), "nnz": x.nnz(),
                      "source": input, "blocks": "block_I_J.npz (sparse CSR) or .npy: rows R_I × columns C_J, balanced splits"});
    staged.json("partition.json", &meta)?;
    staged.commit()?;
    Ok(meta)
}
