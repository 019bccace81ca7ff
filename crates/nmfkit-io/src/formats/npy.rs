//! .npy: reads f16-free numeric types (float, int, uint, bool) in C or
//! Fortran order, 2-D (a 1-D array is no matrix, except inside a sparse .npz);
//! writes little-endian f64 C order.

use crate::error::Error;
use nmfkit::Mat;
use npyz::{DType, NpyFile, Order, TypeChar};
use std::io::{BufReader, Read, Write};
use std::path::Path;

/// Reads a dense matrix from an opened .npy stream; a 1-D array is refused
/// (it is no matrix).
pub(super) fn read_from(path: &Path, npy: NpyFile<impl Read>) -> Result<Mat<f64>, Error> {
    if let [n] = npy.shape() {
        return Err(Error::input(
            path,
            format!("a 1-D array of shape ({n},) is not a matrix: save it as ({n}, 1) or (1, {n}) (numpy: x.reshape(-1, 1))"),
        ));
    }
    read_array(path, npy)
}

/// Reads a 1-D (as a column) or 2-D array: the parts of a sparse .npz.
pub(super) fn read_array(path: &Path, npy: NpyFile<impl Read>) -> Result<Mat<f64>, Error> {
    let bad = |m: String| Error::input(path, m);
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let (rows, cols) = match shape.as_slice() {
        [n] => (*n, 1),
        [n, m] => (*n, *m),
        other => return Err(bad(format!("expected a 2-D array, got shape {other:?}"))),
    };
    let fortran = npy.order() == Order::Fortran;
    let values: Vec<f64> = values(path, npy)?
        .collect::<std::io::Result<_>>()
        .map_err(|e| {
            bad(format!(
                "cannot read the values ({e}); the file may be truncated"
            ))
        })?;
    if values.len() != rows * cols {
        return Err(bad(format!(
            "holds {} values for shape {rows}×{cols}; the file may be truncated",
            values.len()
        )));
    }
    Ok(if fortran {
        Mat::from_col_major(rows, cols, values).map_err(|e| bad(e.to_string()))?
    } else {
        Mat::from_row_major(rows, cols, &values).map_err(|e| bad(e.to_string()))?
    })
}

/// The values of an opened .npy stream as f64, in the order stored, read
/// as they are consumed (numeric and bool types).
pub(super) fn values<'r, R: Read + 'r>(
    path: &Path,
    npy: NpyFile<R>,
) -> Result<Box<dyn Iterator<Item = std::io::Result<f64>> + 'r>, Error> {
    let bad = |m: String| Error::input(path, m);
    let ts = match npy.dtype() {
        DType::Plain(ts) => ts,
        other => return Err(bad(format!("unsupported dtype {}", other.descr()))),
    };
    let typed = |e: npyz::DTypeError| bad(format!("unsupported dtype {ts} ({e})"));
    macro_rules! as_f64 {
        ($t:ty) => {
            Box::new(
                npy.data::<$t>()
                    .map_err(typed)?
                    .map(|r| r.map(|v| v as f64)),
            )
        };
    }
    Ok(match (ts.type_char(), ts.num_bytes()) {
        (TypeChar::Float, Some(8)) => as_f64!(f64),
        (TypeChar::Float, Some(4)) => as_f64!(f32),
        (TypeChar::Int, Some(8)) => as_f64!(i64),
        (TypeChar::Int, Some(4)) => as_f64!(i32),
        (TypeChar::Int, Some(2)) => as_f64!(i16),
        (TypeChar::Int, Some(1)) => as_f64!(i8),
        (TypeChar::Uint, Some(8)) => as_f64!(u64),
        (TypeChar::Uint, Some(4)) => as_f64!(u32),
        (TypeChar::Uint, Some(2)) => as_f64!(u16),
        (TypeChar::Uint, Some(1)) => as_f64!(u8),
        (TypeChar::Bool, _) => Box::new(
            npy.data::<bool>()
                .map_err(typed)?
                .map(|r| r.map(|b| b as u8 as f64)),
        ),
        _ => {
            return Err(bad(format!(
                "unsupported dtype {ts} (expected a float, integer or bool array)"
            )))
        }
    })
}

pub(super) fn read(path: &Path) -> Result<Mat<f64>, Error> {
    let f = std::fs::File::open(path).map_err(|e| Error::input(path, super::describe_io(&e)))?;
    let npy = NpyFile::new(BufReader::new(f))
        .map_err(|e| Error::input(path, format!("not a valid .npy file ({e})")))?;
    read_from(path, npy)
}

/// .npy bytes (format 1.0) of a 1-D or 2-D little-endian array.
pub(super) fn bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

pub(super) fn f64_bytes(m: &Mat<f64>) -> Vec<u8> {
    let data: Vec<u8> = m
        .to_row_major()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    bytes("<f8", &[m.nrows, m.ncols], &data)
}

pub(super) fn write(path: &Path, m: &Mat<f64>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(&f64_bytes(m))?;
    f.into_inner()?.sync_all()
}
