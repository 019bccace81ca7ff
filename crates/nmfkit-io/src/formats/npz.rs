//! .npz: scipy.sparse `save_npz` files (CSR, CSC, COO; unsorted indices and
//! duplicates accepted) and archives holding one plain array.

use super::row_order::{CsrRows, RowOrder};
use super::{npy, Matrix};
use crate::error::Error;
use nmfkit::CsrMatrix;
use npyz::npz::NpzArchive;
use std::io::Write;
use std::path::Path;

pub(super) fn read(path: &Path) -> Result<Matrix, Error> {
    let bad = |m: String| Error::input(path, m);
    let mut npz =
        NpzArchive::open(path).map_err(|e| bad(format!("not a valid .npz archive ({e})")))?;
    let (n, m, format) = match layout(path, &mut npz)? {
        Layout::Dense(name) => return Ok(Matrix::Dense(npy_dense(path, &mut npz, &name, true)?)),
        Layout::Sparse(n, m, format) => (n, m, format),
    };
    let array = |npz: &mut NpzArchive<_>, name: &str| -> Result<Vec<f64>, Error> {
        Ok(npy_dense(path, npz, name, false)?.data)
    };
    let data = array(&mut npz, "data")?;
    let as_index = |v: Vec<f64>, what: &str| -> Result<Vec<usize>, Error> {
        v.into_iter()
            .map(|x| {
                if x >= 0.0 && x.fract() == 0.0 {
                    Ok(x as usize)
                } else {
                    Err(bad(format!("'{what}' holds {x}, not an index")))
                }
            })
            .collect()
    };
    let csr = if format == "coo" {
        let rows = as_index(array(&mut npz, "row")?, "row")?;
        let cols = as_index(array(&mut npz, "col")?, "col")?;
        if rows.len() != data.len() || cols.len() != data.len() {
            return Err(bad("'row', 'col' and 'data' differ in length".into()));
        }
        let triplets: Vec<(usize, usize, f64)> = rows
            .into_iter()
            .zip(cols)
            .zip(data)
            .map(|((i, j), v)| (i, j, v))
            .collect();
        CsrMatrix::from_triplets(n, m, &triplets)
    } else {
        let indices = as_index(array(&mut npz, "indices")?, "indices")?;
        let indptr = as_index(array(&mut npz, "indptr")?, "indptr")?;
        match format.as_str() {
            "csr" => CsrMatrix::try_new(n, m, indptr, indices, data),
            "csc" => CsrMatrix::try_new(m, n, indptr, indices, data).map(|t| t.transpose()),
            other => {
                return Err(bad(format!(
                    "unsupported sparse format '{other}' (expected csr, csc or coo)"
                )))
            }
        }
    };
    csr.map(Matrix::Sparse).map_err(|e| bad(e.to_string()))
}

fn npy_dense<R: std::io::Read + std::io::Seek>(
    path: &Path,
    npz: &mut NpzArchive<R>,
    name: &str,
    matrix: bool,
) -> Result<nmfkit::Mat<f64>, Error> {
    let f = npz
        .by_name(name)
        .map_err(|e| Error::input(path, format!("cannot read array '{name}' ({e})")))?
        .ok_or_else(|| Error::input(path, format!("missing array '{name}'")))?;
    if matrix {
        npy::read_from(path, f)
    } else {
        npy::read_array(path, f)
    }
}

/// scipy stores the format as a byte string array (e.g. b'csr').
fn read_format<R: std::io::Read + std::io::Seek>(npz: &mut NpzArchive<R>) -> Option<String> {
    let f = npz.by_name("format").ok()??;
    let v: Vec<Vec<u8>> = f.into_vec().ok()?;
    let s = String::from_utf8(v.into_iter().next()?).ok()?;
    Some(s.trim_end_matches('\0').to_ascii_lowercase())
}

pub(super) fn write(path: &Path, m: &Matrix) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut zip = npyz::zip::ZipWriter::new(file);
    let opts = npyz::zip::write::FileOptions::default();
    let mut put = |name: &str, bytes: Vec<u8>| -> std::io::Result<()> {
        zip.start_file(format!("{name}.npy"), opts)?;
        zip.write_all(&bytes)
    };
    let i64s =
        |v: &[usize]| -> Vec<u8> { v.iter().flat_map(|&x| (x as i64).to_le_bytes()).collect() };
    match m {
        Matrix::Dense(d) => put("arr_0", npy::f64_bytes(d))?,
        Matrix::Sparse(s) => {
            put("format", npy::bytes("|S3", &[], b"csr"))?;
            put(
                "shape",
                npy::bytes("<i8", &[2], &i64s(&[s.nrows(), s.ncols()])),
            )?;
            let data: Vec<u8> = s.values().iter().flat_map(|v| v.to_le_bytes()).collect();
            put("data", npy::bytes("<f8", &[s.nnz()], &data))?;
            let idx: Vec<usize> = s.indices().iter().map(|&j| j as usize).collect();
            put("indices", npy::bytes("<i8", &[s.nnz()], &i64s(&idx)))?;
            put(
                "indptr",
                npy::bytes("<i8", &[s.nrows() + 1], &i64s(s.indptr())),
            )?;
        }
    }
    zip.finish()?.sync_all()
}

/// The archive's layout, from its keys and array shapes (no values read).
enum Layout {
    /// One plain array, by name.
    Dense(String),
    /// A scipy.sparse matrix: shape and format (csr, csc or coo).
    Sparse(usize, usize, String),
}

fn layout<R: std::io::Read + std::io::Seek>(
    path: &Path,
    npz: &mut NpzArchive<R>,
) -> Result<Layout, Error> {
    let bad = |m: String| Error::input(path, m);
    let names: Vec<String> = npz.array_names().map(String::from).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if !(has("shape") && has("data")) {
        return match names.as_slice() {
            [only] => Ok(Layout::Dense(only.clone())),
            _ => Err(bad(format!(
                "expected a scipy.sparse archive (keys shape, data, indices, indptr or row, col) or a single array, found keys {names:?}"
            ))),
        };
    }
    let shape = npy_dense(path, npz, "shape", false)?.data;
    if shape.len() != 2 || shape.iter().any(|&d| d < 0.0 || d.fract() != 0.0) {
        return Err(bad(format!(
            "'shape' must hold two non-negative integers, got {shape:?}"
        )));
    }
    let (n, m) = (shape[0] as usize, shape[1] as usize);
    let format = if has("row") && has("col") {
        "coo".to_string()
    } else {
        match read_format(npz) {
            Some(f) => f,
            None => {
                let ptr = member(path, npz, "indptr")?.shape().first().copied();
                if ptr == Some(n as u64 + 1) {
                    "csr"
                } else {
                    "csc"
                }
                .into()
            }
        }
    };
    Ok(Layout::Sparse(n, m, format))
}

fn member<'a, R: std::io::Read + std::io::Seek>(
    path: &Path,
    npz: &'a mut NpzArchive<R>,
    name: &str,
) -> Result<npyz::NpyFile<npyz::zip::read::ZipFile<'a>>, Error> {
    npz.by_name(name)
        .map_err(|e| Error::input(path, format!("cannot read array '{name}' ({e})")))?
        .ok_or_else(|| Error::input(path, format!("missing array '{name}'")))
}

/// Rewrites a .npz (sparse or one dense array, compressed or not) as a
/// row-ordered file read a batch at a time ([`RowOrder`]); `transpose`
/// streams the transpose. Each array is decompressed as it is read, so
/// memory stays bounded.
pub(crate) fn stream(path: &Path, transpose: bool) -> Result<CsrRows, Error> {
    let bad = |m: String| Error::input(path, m);
    let open =
        || NpzArchive::open(path).map_err(|e| bad(format!("not a valid .npz archive ({e})")));
    let truncated = |e: std::io::Error| bad(format!("cannot read the values ({e})"));
    let index = |x: std::io::Result<f64>, what: &str| -> Result<usize, Error> {
        let x = x.map_err(truncated)?;
        if x >= 0.0 && x.fract() == 0.0 {
            Ok(x as usize)
        } else {
            Err(bad(format!("'{what}' holds {x}, not an index")))
        }
    };
    let order = |n: usize, m: usize, entries: usize| {
        let (r, c) = if transpose { (m, n) } else { (n, m) };
        RowOrder::new(path, r, c, entries)
    };
    let put = |out: &mut RowOrder, i: usize, j: usize, v: f64| {
        if transpose {
            out.push(j, i, v)
        } else {
            out.push(i, j, v)
        }
    };
    let mut a = open()?;
    let (n, m, format) = match layout(path, &mut a)? {
        Layout::Dense(name) => {
            let f = member(path, &mut a, &name)?;
            return super::stream::dense_rows(path, f, &name, transpose);
        }
        Layout::Sparse(n, m, format) => (n, m, format),
    };
    let (mut b, mut c) = (open()?, open()?);
    let data = member(path, &mut c, "data")?;
    let entries = data.shape().first().copied().unwrap_or(0) as usize;
    let mut data = npy::values(path, data)?;
    let mut out = order(n, m, entries)?;
    match format.as_str() {
        "coo" => {
            let rows = npy::values(path, member(path, &mut a, "row")?)?;
            let mut cols = npy::values(path, member(path, &mut b, "col")?)?;
            for i in rows {
                let (Some(j), Some(v)) = (cols.next(), data.next()) else {
                    return Err(bad("'row', 'col' and 'data' differ in length".into()));
                };
                put(
                    &mut out,
                    index(i, "row")?,
                    index(j, "col")?,
                    v.map_err(truncated)?,
                )?;
            }
            if cols.next().is_some() || data.next().is_some() {
                return Err(bad("'row', 'col' and 'data' differ in length".into()));
            }
        }
        "csr" | "csc" => {
            let csc = format == "csc";
            let mut ptr = npy::values(path, member(path, &mut a, "indptr")?)?;
            let mut indices = npy::values(path, member(path, &mut b, "indices")?)?;
            let outer = if csc { m } else { n };
            let mut lo = match ptr.next() {
                Some(p) => index(p, "indptr")?,
                None => return Err(bad("'indptr' is empty".into())),
            };
            for o in 0..outer {
                let hi = match ptr.next() {
                    Some(p) => index(p, "indptr")?,
                    None => {
                        return Err(bad(format!("'indptr' has fewer than {} values", outer + 1)))
                    }
                };
                if hi < lo {
                    return Err(bad(format!("'indptr' decreases at {o}")));
                }
                for _ in lo..hi {
                    let (Some(inner), Some(v)) = (indices.next(), data.next()) else {
                        return Err(bad("'indptr' points past 'indices' or 'data'".into()));
                    };
                    let (inner, v) = (index(inner, "indices")?, v.map_err(truncated)?);
                    if csc {
                        put(&mut out, inner, o, v)?;
                    } else {
                        put(&mut out, o, inner, v)?;
                    }
                }
                lo = hi;
            }
            if ptr.next().is_some() || indices.next().is_some() || data.next().is_some() {
                return Err(bad(
                    "'indptr', 'indices' and 'data' disagree in length".into()
                ));
            }
        }
        other => {
            return Err(bad(format!(
                "unsupported sparse format '{other}' (expected csr, csc or coo)"
            )))
        }
    }
    out.finish()
}
