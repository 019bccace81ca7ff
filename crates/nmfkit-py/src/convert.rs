//! Conversions between numpy/scipy data and the core's, each made once.
//!
//! Data arrives as a 2-D numpy array (read in place: Fortran order is X's
//! column-major storage, C order that of Xᵀ) or as the tuple
//! `("sparse", shape, indptr, indices, data, is_csc)` (CSC is the CSR
//! matrix of Xᵀ). Either way the core gets the matrix it stores and a flag
//! saying whether it is Xᵀ; `Nmf::oriented` does the rest. The dtype is
//! dispatched once, by [`by_dtype!`].

use crate::errors::value_error;
use nmfkit::{Csr, HistoryEntry, Input, Mat, MatRef, NmfFit, Scalar};
use numpy::{
    Element, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// The float types the core computes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
}

/// The dtype of a data argument (an array, or a sparse tuple's data).
pub fn dtype_of(x: &Bound<'_, PyAny>) -> PyResult<Dtype> {
    let arr = match x.cast::<PyTuple>() {
        Ok(t) => t.get_item(4)?,
        Err(_) => x.clone(),
    };
    let name: String = arr.getattr("dtype")?.str()?.extract()?;
    match name.as_str() {
        "float64" => Ok(Dtype::F64),
        "float32" => Ok(Dtype::F32),
        other => Err(PyTypeError::new_err(format!(
            "X must be float32 or float64, got {other}"
        ))),
    }
}

/// Calls `f::<T>(args…)` for the data's float type.
macro_rules! by_dtype {
    ($dtype:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $dtype {
            $crate::convert::Dtype::F64 => $f::<f64>($($arg),*),
            $crate::convert::Dtype::F32 => $f::<f32>($($arg),*),
        }
    };
}
pub(crate) use by_dtype;

/// Data as numpy or scipy hold it, borrowed for the call.
pub enum Source<'py, T: Element> {
    Dense(PyReadonlyArray2<'py, T>),
    Sparse {
        shape: (usize, usize),
        indptr: Indices<'py>,
        indices: Indices<'py>,
        data: PyReadonlyArray1<'py, T>,
        csc: bool,
    },
}

/// scipy's index arrays: int32, or int64 for large matrices.
pub enum Indices<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

/// The matrix the core reads, and whether it is Xᵀ.
pub enum View<'s, T> {
    Dense(MatRef<'s, T>, bool),
    Sparse(Csr<'s, T>, bool),
}

impl<T: Scalar> View<'_, T> {
    pub fn input(&self) -> (Input<'_, T>, bool) {
        match self {
            View::Dense(m, t) => (Input::Dense(*m), *t),
            View::Sparse(m, t) => (Input::Sparse(m), *t),
        }
    }
}

impl<'py, T: Scalar + Element> Source<'py, T> {
    pub fn extract(x: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(t) = x.cast::<PyTuple>() {
            let index = |a: Bound<'py, PyAny>| -> PyResult<Indices<'py>> {
                match a.extract::<PyReadonlyArray1<'py, i32>>() {
                    Ok(a) => Ok(Indices::I32(a)),
                    Err(_) => Ok(Indices::I64(a.extract().map_err(|_| {
                        PyTypeError::new_err("sparse indices must be int32 or int64")
                    })?)),
                }
            };
            return Ok(Source::Sparse {
                shape: t.get_item(1)?.extract()?,
                indptr: index(t.get_item(2)?)?,
                indices: index(t.get_item(3)?)?,
                data: t.get_item(4)?.extract()?,
                csc: t.get_item(5)?.extract()?,
            });
        }
        Ok(Source::Dense(x.extract().map_err(|_| {
            PyTypeError::new_err("X must be a 2-D float32 or float64 numpy array")
        })?))
    }

    /// The matrix the core stores, read in place: dense arrays always,
    /// sparse ones when their rows are canonical (sorted, no duplicates,
    /// as scipy keeps them) — otherwise a canonical copy.
    pub fn view(&self) -> PyResult<View<'_, T>> {
        match self {
            Source::Dense(arr) => {
                let (n, m) = (arr.shape()[0], arr.shape()[1]);
                let (transposed, rows, cols) = if arr.is_fortran_contiguous() {
                    (false, n, m)
                } else if arr.is_c_contiguous() {
                    (true, m, n)
                } else {
                    return Err(PyValueError::new_err("X must be C- or Fortran-contiguous"));
                };
                let data = arr
                    .as_slice()
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
                let view = MatRef::new(rows, cols, data).map_err(value_error)?;
                Ok(View::Dense(view, transposed))
            }
            Source::Sparse {
                shape,
                indptr,
                indices,
                data,
                csc,
            } => {
                let (rows, cols) = if *csc { (shape.1, shape.0) } else { *shape };
                let data = contiguous(data)?;
                let m = match (indptr, indices) {
                    (Indices::I32(p), Indices::I32(i)) => {
                        Csr::borrowed(rows, cols, contiguous(p)?, contiguous(i)?, data)
                    }
                    (Indices::I64(p), Indices::I64(i)) => {
                        Csr::borrowed(rows, cols, contiguous(p)?, contiguous(i)?, data)
                    }
                    _ => {
                        return Err(PyTypeError::new_err(
                            "indptr and indices must have the same integer type",
                        ))
                    }
                };
                Ok(View::Sparse(m.map_err(value_error)?, *csc))
            }
        }
    }
}

/// A 1-D array's elements in place.
fn contiguous<'a, E: Element>(a: &'a PyReadonlyArray1<'_, E>) -> PyResult<&'a [E]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err("sparse arrays must be contiguous"))
}

/// A matrix given from Python (a start, a factor), copied into the core's layout.
pub fn mat_from<T: Scalar + Element>(a: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Mat<T>>> {
    let Some(a) = a else { return Ok(None) };
    let a: PyReadonlyArray2<'_, T> = a
        .extract()
        .map_err(|_| PyTypeError::new_err("W and H must be 2-D arrays of X's dtype"))?;
    let (n, k) = (a.shape()[0], a.shape()[1]);
    let v: Vec<T> = a.as_array().iter().copied().collect();
    Ok(Some(Mat::from_row_major(n, k, &v).map_err(value_error)?))
}

/// Rows of a column-major matrix as a C-ordered numpy array.
pub fn to_numpy<'py, T: Scalar + Element>(
    py: Python<'py>,
    m: &Mat<T>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, m.to_row_major())
        .reshape([m.nrows, m.ncols])?
        .into_any())
}

/// Named values as a dict.
fn named<'py>(
    py: Python<'py>,
    names: &[&'static str],
    values: &[f64],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (n, v) in names.iter().zip(values) {
        d.set_item(n, v)?;
    }
    Ok(d)
}

/// The history: one dict per evaluation, with the same names everywhere.
pub fn history<'py>(
    py: Python<'py>,
    h: &[HistoryEntry],
    names: &[&'static str],
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    history_tracked(py, h, names, &[])
}

/// [`history`] with the tracked values (the smooth model's errors against
/// true factors) as further keys.
pub fn history_tracked<'py>(
    py: Python<'py>,
    h: &[HistoryEntry],
    names: &[&'static str],
    tracked: &[String],
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    h.iter()
        .map(|e| {
            let d = PyDict::new(py);
            d.set_item("iter", e.iter)?;
            d.set_item("time_s", e.time_s)?;
            d.set_item("objective", e.objective)?;
            d.set_item("divergence", e.divergence)?;
            d.set_item("penalties", named(py, names, &e.penalties)?)?;
            d.set_item("rel_decrease", e.rel_decrease)?;
            d.set_item("violation", e.violation)?;
            if let Some(g) = &e.diagnostics {
                d.set_item("theta_W", g.theta_w)?;
                d.set_item("theta_H", g.theta_h)?;
                d.set_item("change_W", g.change_w)?;
                d.set_item("change_H", g.change_h)?;
                d.set_item("kkt", g.kkt)?;
            }
            for (n, v) in tracked.iter().zip(&e.tracked) {
                d.set_item(n, v)?;
            }
            Ok(d)
        })
        .collect()
}

/// A standard fit as a dict: W (n×k), H (k×m) and its record.
pub fn fit_dict<'py, T: Scalar + Element>(
    py: Python<'py>,
    fit: &NmfFit<T>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("W", to_numpy(py, &fit.w)?)?;
    d.set_item("H", to_numpy(py, &fit.h)?)?;
    d.set_item("n_iter", fit.n_iter)?;
    d.set_item("stop_reason", fit.stop.name())?;
    d.set_item("solver_notes", fit.notes.clone())?;
    d.set_item("converged", fit.converged())?;
    d.set_item("divergence", fit.divergence)?;
    d.set_item("objective", fit.objective)?;
    d.set_item("penalties", named(py, &fit.penalty_names, &fit.penalties)?)?;
    d.set_item("reconstruction_err", fit.reconstruction_err)?;
    d.set_item("history", history(py, &fit.history, &fit.penalty_names)?)?;
    Ok(d)
}
