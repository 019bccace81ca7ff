//! .npz: scipy.sparse `save_npz` files (CSR, CSC, COO; unsorted indices and
//! duplicates accepted) and archives holding one plain array.

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
    let names: Vec<String> = npz.array_names().map(String::from).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    let array = |npz: &mut NpzArchive<_>, name: &str| -> Result<Vec<f64>, Error> {
        Ok(npy_dense(path, npz, name, false)?.data)
    };
    if !(has("shape") && has("data")) {
        // A plain array archive: exactly one array.
        return match names.as_slice() {
            [only] => Ok(Matrix::Dense(npy_dense(path, &mut npz, only, true)?)),
            _ => Err(bad(format!(
                "expected a scipy.sparse archive (keys shape, data, indices, indptr or row, col) or a single array, found keys {names:?}"
            ))),
        };
    }
    let shape = array(&mut npz, "shape")?;
    if shape.len() != 2 || shape.iter().any(|&d| d < 0.0 || d.fract() != 0.0) {
        return Err(bad(format!(
            "'shape' must hold two non-negative integers, got {shape:?}"
        )));
    }
    let (n, m) = (shape[0] as usize, shape[1] as usize);
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
    let csr = if has("row") && has("col") {
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
        let format = read_format(&mut npz).unwrap_or_else(|| {
            if indptr.len() == n + 1 {
                "csr".into()
            } else {
                "csc".into()
            }
        });
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
