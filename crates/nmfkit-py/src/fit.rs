//! Standard fits: one fit, or the best of `n_runs`, on dense or sparse X.

use crate::convert::{by_dtype, dtype_of, fit_dict, mat_from, Source};
use crate::errors::{interrupted, value_error};
use crate::interrupt::{interruptible, stop_when, verbose_every};
use crate::options::FitParams;
use nmfkit::{FitOptions, Mat, Nmf, NmfFit, Scalar};
use numpy::Element;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn go<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    p: &FitParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let src = Source::<T>::extract(x)?;
    let view = src.view()?;
    let (input, transposed) = view.input();
    if p.n_runs > 1 {
        if w0.is_some() || h0.is_some() || !p.update_h {
            return Err(PyValueError::new_err(
                "n_runs > 1 starts every run from random factors: it cannot be combined with init='custom' or a fixed H",
            ));
        }
        // Runs of the problem as stored: their draws are the user's order.
        let est = p.est.clone();
        let est = if transposed { est.transposed() } else { est };
        let (res, stop) = interruptible(py, 0, |w| {
            est.fit_runs_with(input, p.n_runs, false, Some(&w.cancel))
        })?;
        let runs = match res.map_err(value_error)? {
            Some(r) if !stop => r,
            _ => return Err(interrupted("fit")),
        };
        let best = if transposed {
            runs.best.transposed()
        } else {
            runs.best
        };
        let d = fit_dict(py, &best)?;
        d.set_item("run_objectives", runs.objectives)?;
        d.set_item("best_run", runs.best_run)?;
        return Ok(d);
    }
    let starts = (mat_from::<T>(w0)?, mat_from::<T>(h0)?);
    watched_fit(py, p, transposed, starts, |e, o| e.fit_with(input, o))
}
/// One fit of the problem as stored, from the given starts, with the GIL
/// released and Ctrl-C watched; `fit` gets the estimator and options for
/// the stored orientation. Returns W and H of X.
pub fn watched_fit<'py, T: Scalar + Element>(
    py: Python<'py>,
    p: &FitParams,
    transposed: bool,
    (w0, h0): (Option<Mat<T>>, Option<Mat<T>>),
    fit: impl FnOnce(&Nmf, FitOptions<'_, '_, T>) -> nmfkit::Result<NmfFit<T>> + Send,
) -> PyResult<Bound<'py, PyDict>> {
    let (res, stop) = interruptible(py, verbose_every(p.verbose), |w| {
        let mut cb = stop_when(w);
        let opts = FitOptions {
            w0: w0.as_ref(),
            h0: h0.as_ref(),
            update_h: p.update_h,
            update_w: true,
            progress: Some(&mut cb),
        };
        p.est.oriented(transposed, opts, fit)
    })?;
    if stop {
        return Err(interrupted("fit"));
    }
    fit_dict(py, &res.map_err(value_error)?)
}

/// Fits X (a numpy array read in place, or a sparse tuple): W, H and the record.
#[pyfunction]
#[pyo3(signature = (x, params, w0=None, h0=None))]
pub fn fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    params: &FitParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    by_dtype!(dtype_of(x)?, go(py, x, params, w0, h0))
}

fn divergence_of<T: Scalar + Element>(
    x: &Bound<'_, PyAny>,
    w: &Bound<'_, PyAny>,
    h: &Bound<'_, PyAny>,
    beta: f64,
) -> PyResult<f64> {
    let src = Source::<T>::extract(x)?;
    let view = src.view()?;
    let (input, transposed) = view.input();
    let (w, h) = (
        mat_from::<T>(Some(w))?.expect("given"),
        mat_from::<T>(Some(h))?.expect("given"),
    );
    let (w, h) = if transposed {
        (h.transpose(), w.transpose())
    } else {
        (w, h)
    };
    let (n, m) = input.shape();
    if w.nrows != n || h.ncols != m || w.ncols != h.nrows {
        return Err(PyValueError::new_err("shapes of X, W and H do not match"));
    }
    Ok(input.divergence(&w, &h, beta))
}

/// The β-divergence between X and W·H, as scikit-learn defines it.
#[pyfunction]
pub fn beta_divergence(
    x: &Bound<'_, PyAny>,
    w: &Bound<'_, PyAny>,
    h: &Bound<'_, PyAny>,
    beta: f64,
) -> PyResult<f64> {
    by_dtype!(dtype_of(x)?, divergence_of(x, w, h, beta))
}
