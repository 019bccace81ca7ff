//! `nmfkit._core`: the compiled half of the Python package.
//!
//! Dense arrays are read in place: a Fortran-ordered X (n×m) is the
//! column-major matrix the core expects; a C-ordered X is the column-major
//! matrix of Xᵀ, so the transposed problem Xᵀ ≈ Hᵀ·Wᵀ is solved instead with
//! the roles of W and H (their penalties, fixed flags and update order)
//! swapped. CSC input is handled the same way. The GIL is released while
//! the core works; Ctrl-C is checked between iterations.

use nmfkit::{
    Convergence, CsrMatrix, FitOptions, HistoryEntry, Init, Input, Loss, Mat, MatRef, Nmf,
    NmfError, NmfFit, Progress, Regularization, Scalar, SolverKind, UpdateOrder,
};
use numpy::{
    Element, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Options read from the Python side's dict.
struct Params {
    est: Nmf,
    alpha_w: f64,
    alpha_h: f64,
    l1_ratio: f64,
    update_h: bool,
}

fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract::<T>().map_err(Into::into)?)),
        _ => Ok(None),
    }
}

use pyo3::conversion::FromPyObjectOwned;

fn params(d: &Bound<'_, PyDict>) -> PyResult<Params> {
    let bad = |e: NmfError| PyValueError::new_err(e.to_string());
    let rank: usize =
        get(d, "n_components")?.ok_or_else(|| PyValueError::new_err("n_components is required"))?;
    let beta: f64 = get(d, "beta")?.unwrap_or(2.0);
    let solver: String = get(d, "solver")?.unwrap_or_else(|| "cd".into());
    let init: String = get(d, "init")?.unwrap_or_else(|| "auto".into());
    let mut est = Nmf::new(rank)
        .loss(Loss::from_beta(beta).map_err(bad)?)
        .solver(SolverKind::parse(&solver).map_err(bad)?)
        .init(Init::parse(&init).map_err(bad)?)
        .seed(get(d, "seed")?.unwrap_or(0))
        .max_iter(get(d, "max_iter")?.unwrap_or(200))
        .tol(get(d, "tol")?.unwrap_or(1e-4))
        .shuffle(get(d, "shuffle")?.unwrap_or(false))
        .threads(get(d, "n_threads")?.unwrap_or(0))
        .convergence(match get::<String>(d, "convergence")?.as_deref() {
            Some("objective") => Convergence::Objective,
            Some("auto") => Convergence::Auto,
            _ => Convergence::Sklearn,
        });
    if let Some(t) = get::<f64>(d, "time_limit")? {
        if !(t > 0.0) || !t.is_finite() {
            return Err(PyValueError::new_err(format!(
                "time_limit must be a positive number of seconds, got {t}"
            )));
        }
        est = est.time_limit(Duration::from_secs_f64(t));
    }
    if let Some(e) = get::<usize>(d, "eval_every")? {
        est = est.eval_every(e);
    }
    Ok(Params {
        est,
        alpha_w: get(d, "alpha_W")?.unwrap_or(0.0),
        alpha_h: get(d, "alpha_H")?.unwrap_or(0.0),
        l1_ratio: get(d, "l1_ratio")?.unwrap_or(0.0),
        update_h: get(d, "update_H")?.unwrap_or(true),
    })
}

fn mat_from<T: Scalar + Element>(a: Option<PyReadonlyArray2<'_, T>>) -> PyResult<Option<Mat<T>>> {
    let Some(a) = a else { return Ok(None) };
    let (n, k) = (a.shape()[0], a.shape()[1]);
    let v: Vec<T> = a.as_array().iter().copied().collect();
    Ok(Some(
        Mat::from_row_major(n, k, &v).map_err(|e| PyValueError::new_err(e.to_string()))?,
    ))
}

/// An optional initial factor given from Python.
fn start<T: Scalar + Element>(a: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Mat<T>>> {
    mat_from::<T>(a.map(|a| a.extract()).transpose()?)
}

/// Runs the fit with the GIL released and Ctrl-C checked between iterations.
fn run<T: Scalar + Element>(
    py: Python<'_>,
    x: Input<'_, T>,
    p: Params,
    transposed: bool,
    w0: Option<Mat<T>>,
    h0: Option<Mat<T>>,
) -> PyResult<(NmfFit<T>, bool)> {
    // The transposed problem swaps the roles of W and H.
    let (aw, ah) = if transposed {
        (p.alpha_h, p.alpha_w)
    } else {
        (p.alpha_w, p.alpha_h)
    };
    let est = p
        .est
        .regularization(Regularization {
            alpha_w: aw,
            alpha_h: Some(ah),
            l1_ratio: p.l1_ratio,
        })
        .update_order(if transposed {
            UpdateOrder::HThenW
        } else {
            UpdateOrder::WThenH
        });
    let (w0, h0) = if transposed {
        (h0.map(|h| h.transpose()), w0.map(|w| w.transpose()))
    } else {
        (w0, h0)
    };
    let (update_w, update_h) = if transposed {
        (p.update_h, true)
    } else {
        (true, p.update_h)
    };
    let interrupted = AtomicBool::new(false);
    let fit = py.detach(|| {
        let mut last = Instant::now();
        let mut cb = |_: &Progress| {
            if last.elapsed() >= Duration::from_millis(100) {
                last = Instant::now();
                if Python::attach(|py| py.check_signals()).is_err() {
                    interrupted.store(true, Ordering::SeqCst);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        };
        est.fit_with(
            x,
            FitOptions {
                w0: w0.as_ref(),
                h0: h0.as_ref(),
                update_h,
                update_w,
                progress: Some(&mut cb),
            },
        )
    });
    let fit = fit.map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((fit, interrupted.load(Ordering::SeqCst)))
}

/// W, H and the fit's record, back in the caller's orientation.
fn result<'py, T: Scalar + Element>(
    py: Python<'py>,
    fit: NmfFit<T>,
    transposed: bool,
    interrupted: bool,
) -> PyResult<Bound<'py, PyDict>> {
    if interrupted {
        return Err(PyKeyboardInterrupt::new_err("fit interrupted"));
    }
    // Row-major data of W (n×k) and H (k×m).
    let (w, h) = if transposed {
        // W = H'ᵀ: the column-major data of H' (k×n) is W in row-major order.
        (
            (fit.h.ncols, fit.h.nrows, fit.h.data.clone()),
            (fit.w.ncols, fit.w.nrows, fit.w.data.clone()),
        )
    } else {
        (
            (fit.w.nrows, fit.w.ncols, fit.w.to_row_major()),
            (fit.h.nrows, fit.h.ncols, fit.h.to_row_major()),
        )
    };
    let d = PyDict::new(py);
    d.set_item("W", PyArray1::from_vec(py, w.2).reshape([w.0, w.1])?)?;
    d.set_item("H", PyArray1::from_vec(py, h.2).reshape([h.0, h.1])?)?;
    d.set_item("n_iter", fit.n_iter)?;
    d.set_item("stop_reason", fit.stop.name())?;
    d.set_item("converged", fit.converged())?;
    d.set_item("loss", fit.loss)?;
    d.set_item("objective", fit.objective)?;
    d.set_item("reconstruction_err", fit.reconstruction_err)?;
    d.set_item("history", history(py, &fit.history)?)?;
    Ok(d)
}

fn history<'py>(py: Python<'py>, h: &[HistoryEntry]) -> PyResult<Vec<Bound<'py, PyDict>>> {
    h.iter()
        .map(|e| {
            let d = PyDict::new(py);
            d.set_item("iter", e.iter)?;
            d.set_item("time_s", e.time_s)?;
            d.set_item("loss", e.objective)?;
            d.set_item("divergence", e.loss)?;
            d.set_item("rel_decrease", e.rel_decrease)?;
            d.set_item("violation", e.violation)?;
            Ok(d)
        })
        .collect()
}

fn fit_dense_t<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    p: Params,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let arr: PyReadonlyArray2<'py, T> = x.extract()?;
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
    let view = MatRef::new(rows, cols, data).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let (w0, h0) = (start::<T>(w0)?, start::<T>(h0)?);
    let (fit, interrupted) = run(py, Input::Dense(view), p, transposed, w0, h0)?;
    result(py, fit, transposed, interrupted)
}

/// Fits dense X (float32 or float64, C or Fortran order, never copied).
#[pyfunction]
#[pyo3(signature = (x, params, w0=None, h0=None))]
fn fit_dense<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    params: &Bound<'py, PyDict>,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = self::params(params)?;
    if x.extract::<PyReadonlyArray2<'py, f64>>().is_ok() {
        fit_dense_t::<f64>(py, x, p, w0, h0)
    } else if x.extract::<PyReadonlyArray2<'py, f32>>().is_ok() {
        fit_dense_t::<f32>(py, x, p, w0, h0)
    } else {
        Err(PyTypeError::new_err(
            "X must be a 2-D float32 or float64 numpy array",
        ))
    }
}

fn fit_sparse_t<'py, T: Scalar + Element>(
    py: Python<'py>,
    shape: (usize, usize),
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    data: &Bound<'py, PyAny>,
    csc: bool,
    p: Params,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let data: PyReadonlyArray1<'py, T> = data.extract()?;
    let to_usize = |a: &PyReadonlyArray1<'py, i64>, what: &str| -> PyResult<Vec<usize>> {
        a.as_array()
            .iter()
            .map(|&v| {
                usize::try_from(v)
                    .map_err(|_| PyValueError::new_err(format!("negative {what} {v}")))
            })
            .collect()
    };
    let (rows, cols) = if csc { (shape.1, shape.0) } else { shape };
    let m = CsrMatrix::try_new(
        rows,
        cols,
        to_usize(&indptr, "indptr")?,
        to_usize(&indices, "index")?,
        data.as_array().to_vec(),
    )
    .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let (w0, h0) = (start::<T>(w0)?, start::<T>(h0)?);
    let (fit, interrupted) = run(py, Input::Sparse(&m), p, csc, w0, h0)?;
    result(py, fit, csc, interrupted)
}

/// Fits sparse X given as CSR (or CSC) arrays; never densified.
#[pyfunction]
#[pyo3(signature = (shape, indptr, indices, data, csc, params, w0=None, h0=None))]
#[allow(clippy::too_many_arguments)]
fn fit_sparse<'py>(
    py: Python<'py>,
    shape: (usize, usize),
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    data: &Bound<'py, PyAny>,
    csc: bool,
    params: &Bound<'py, PyDict>,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = self::params(params)?;
    if data.extract::<PyReadonlyArray1<'py, f64>>().is_ok() {
        fit_sparse_t::<f64>(py, shape, indptr, indices, data, csc, p, w0, h0)
    } else if data.extract::<PyReadonlyArray1<'py, f32>>().is_ok() {
        fit_sparse_t::<f32>(py, shape, indptr, indices, data, csc, p, w0, h0)
    } else {
        Err(PyTypeError::new_err(
            "sparse data must be float32 or float64",
        ))
    }
}

/// The β-divergence between X (dense) and W·H, as scikit-learn defines it.
#[pyfunction]
fn beta_divergence(
    x: PyReadonlyArray2<'_, f64>,
    w: PyReadonlyArray2<'_, f64>,
    h: PyReadonlyArray2<'_, f64>,
    beta: f64,
) -> PyResult<f64> {
    let to_mat = |a: &PyReadonlyArray2<'_, f64>| -> PyResult<Mat<f64>> {
        let v: Vec<f64> = a.as_array().iter().copied().collect();
        Mat::from_row_major(a.shape()[0], a.shape()[1], &v)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    };
    let (x, w, h) = (to_mat(&x)?, to_mat(&w)?, to_mat(&h)?);
    if w.nrows != x.nrows || h.ncols != x.ncols || w.ncols != h.nrows {
        return Err(PyValueError::new_err("shapes of X, W and H do not match"));
    }
    Ok(nmfkit::beta_divergence(
        &nmfkit::DenseData::new(x.as_ref()),
        &w.transpose(),
        &h,
        beta,
    ))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit_dense, m)?)?;
    m.add_function(wrap_pyfunction!(fit_sparse, m)?)?;
    m.add_function(wrap_pyfunction!(beta_divergence, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
