//! Weighted fits and imputation: X and its mask (a weight per entry, dense
//! or sparse) and which values are missing go to the core, which builds the
//! weights the one way the CLI uses too (`nmfkit::weights`). The mask comes
//! in X's layout (the Python side makes it so), and a transposed X is
//! fitted as its transpose, like any other fit.

use crate::convert::{by_dtype, dtype_of, mat_from, to_numpy, Source};
use crate::errors::value_error;
use crate::fit::watched_fit;
use crate::options::FitParams;
use nmfkit::weights::{MaskSpec, Missing, Weighted};
use nmfkit::{Matrix, Scalar};
use numpy::{Element, PyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The weights of X (in the orientation the core stores it) and that
/// orientation.
fn weighted<T: Scalar + Element>(
    x: &Bound<'_, PyAny>,
    mask: Option<&Bound<'_, PyAny>>,
    missing: &str,
) -> PyResult<(Weighted<T>, bool)> {
    let src = Source::<T>::extract(x)?;
    let view = src.view()?;
    let (input, transposed) = view.input();
    let mask_src = mask.map(Source::<T>::extract).transpose()?;
    let mask_view = mask_src.as_ref().map(|m| m.view()).transpose()?;
    let mask_view = mask_view.as_ref().map(|v| v.input());
    if let Some((_, t)) = &mask_view {
        if *t != transposed {
            return Err(PyValueError::new_err(
                "the mask must be stored like X (C or F order, CSR or CSC)",
            ));
        }
    }
    let spec = MaskSpec {
        mask: mask_view.map(|m| m.0),
        missing_entries: None,
        missing: Missing::parse(missing).map_err(value_error)?,
    };
    Ok((
        Weighted::build(input, &spec).map_err(value_error)?,
        transposed,
    ))
}

fn fit_go<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    missing: &str,
    p: &FitParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    if p.n_runs > 1 {
        return Err(PyValueError::new_err(
            "n_runs > 1 is not supported with missing values or masks yet",
        ));
    }
    let (wd, transposed) = weighted::<T>(x, mask, missing)?;
    let starts = (mat_from::<T>(w0)?, mat_from::<T>(h0)?);
    watched_fit(py, p, transposed, starts, |e, o| e.fit_weighted(&wd, o))
}

/// A weighted fit: `mask` a weight per entry (0 = missing), `missing`
/// "none", "nan" or "unstored".
#[pyfunction]
#[pyo3(signature = (x, mask, missing, params, w0=None, h0=None))]
pub fn fit_masked<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    missing: &str,
    params: &FitParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    by_dtype!(dtype_of(x)?, fit_go(py, x, mask, missing, params, w0, h0))
}

/// W and H of X as the core stores X (swapped and transposed for Xᵀ).
fn stored_factors<T: Scalar + Element>(
    w: &Bound<'_, PyAny>,
    h: &Bound<'_, PyAny>,
    transposed: bool,
) -> PyResult<(nmfkit::Mat<T>, nmfkit::Mat<T>)> {
    let (w, h) = (
        mat_from::<T>(Some(w))?.expect("given"),
        mat_from::<T>(Some(h))?.expect("given"),
    );
    Ok(if transposed {
        (h.transpose(), w.transpose())
    } else {
        (w, h)
    })
}

fn divergence_go<T: Scalar + Element>(
    x: &Bound<'_, PyAny>,
    mask: Option<&Bound<'_, PyAny>>,
    missing: &str,
    w: &Bound<'_, PyAny>,
    h: &Bound<'_, PyAny>,
    beta: f64,
) -> PyResult<f64> {
    let (wd, transposed) = weighted::<T>(x, mask, missing)?;
    let (w, h) = stored_factors::<T>(w, h, transposed)?;
    wd.divergence(&w, &h, beta).map_err(value_error)
}

/// The β-divergence between X and W·H on the observed entries only
/// (weighted by the mask).
#[pyfunction]
pub fn masked_divergence(
    x: &Bound<'_, PyAny>,
    mask: Option<&Bound<'_, PyAny>>,
    missing: &str,
    w: &Bound<'_, PyAny>,
    h: &Bound<'_, PyAny>,
    beta: f64,
) -> PyResult<f64> {
    by_dtype!(dtype_of(x)?, divergence_go(x, mask, missing, w, h, beta))
}

fn impute_go<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    missing: &str,
    w: &Bound<'py, PyAny>,
    h: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (wd, transposed) = weighted::<T>(x, mask, missing)?;
    let (w, h) = stored_factors::<T>(w, h, transposed)?;
    Ok(match wd.impute(&w, &h).map_err(value_error)? {
        // The stored matrix is Xᵀ when transposed: its rows are X's columns.
        Matrix::Dense(m) if transposed => to_numpy(py, &m)?.getattr("T")?,
        Matrix::Dense(m) => to_numpy(py, &m)?,
        Matrix::Sparse(s) => {
            let idx: Vec<i64> = s.indices().iter().map(|&j| j as i64).collect();
            let ptr: Vec<i64> = s.indptr().iter().map(|&p| p as i64).collect();
            let format = if transposed { "csc" } else { "csr" };
            (
                format,
                PyArray1::from_vec(py, s.values().to_vec()),
                PyArray1::from_vec(py, idx),
                PyArray1::from_vec(py, ptr),
            )
                .into_pyobject(py)?
                .into_any()
        }
    })
}

/// X with its missing entries replaced by W·H: a dense array, or for sparse
/// X the tuple (format, data, indices, indptr) in X's format.
#[pyfunction]
pub fn impute<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    missing: &str,
    w: &Bound<'py, PyAny>,
    h: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    by_dtype!(dtype_of(x)?, impute_go(py, x, mask, missing, w, h))
}
