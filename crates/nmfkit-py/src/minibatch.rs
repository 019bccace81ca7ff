//! Minibatch NMF (scikit-learn's MiniBatchNMF): fit and partial_fit, with
//! the running statistics handed to Python and back between calls.

use crate::convert::{by_dtype, dtype_of, history, mat_from, to_numpy, Source};
use crate::errors::{interrupted, value_error};
use crate::interrupt::{interruptible, stop_when};
use nmfkit::minibatch::{MiniBatchFit, MiniBatchNmf, MiniBatchSolver, MiniBatchState};
use nmfkit::{Init, Loss, Mat, Regularization, Scalar};
use numpy::Element;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::time::Duration;

#[pyclass(frozen, module = "nmfkit._core")]
pub struct MiniBatchParams {
    pub est: MiniBatchNmf,
    pub verbose: usize,
}

#[pymethods]
impl MiniBatchParams {
    #[new]
    #[pyo3(signature = (
        *, n_components, beta = 2.0, solver = "mu", init = "auto", seed = 0, batch_size = 1024,
        forget_factor = 0.7, fresh_restarts = false, fresh_restarts_max_iter = 30,
        transform_max_iter = None, max_iter = 200, tol = 1e-4, max_no_improvement = Some(10),
        alpha_W = 0.0, alpha_H = 0.0, l1_ratio = 0.0, n_threads = 0, time_limit = None,
        verbose = 0
    ))]
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn new(
        n_components: usize,
        beta: f64,
        solver: &str,
        init: &str,
        seed: u64,
        batch_size: usize,
        forget_factor: f64,
        fresh_restarts: bool,
        fresh_restarts_max_iter: usize,
        transform_max_iter: Option<usize>,
        max_iter: usize,
        tol: f64,
        max_no_improvement: Option<usize>,
        alpha_W: f64,
        alpha_H: f64,
        l1_ratio: f64,
        n_threads: usize,
        time_limit: Option<f64>,
        verbose: usize,
    ) -> PyResult<Self> {
        let solver = match solver {
            "mu" => MiniBatchSolver::Mu,
            "hals" => MiniBatchSolver::Hals,
            "ccd" => MiniBatchSolver::Ccd,
            other => {
                return Err(PyValueError::new_err(format!(
                    "Invalid solver parameter: got {other:?} instead of one of {{'mu', 'hals', 'ccd'}}."
                )))
            }
        };
        let mut est = MiniBatchNmf::new(n_components)
            .loss(Loss::from_beta(beta).map_err(value_error)?)
            .solver(solver)
            .init(Init::parse(init).map_err(value_error)?)
            .seed(seed)
            .batch_size(batch_size)
            .forget_factor(forget_factor)
            .fresh_restarts(fresh_restarts)
            .fresh_restarts_max_iter(fresh_restarts_max_iter)
            .max_iter(max_iter)
            .tol(tol)
            .max_no_improvement(max_no_improvement)
            .threads(n_threads)
            .regularization(Regularization {
                alpha_w: alpha_W,
                alpha_h: Some(alpha_H),
                l1_ratio,
            });
        est.transform_max_iter = transform_max_iter;
        est.time_limit = match time_limit {
            None => None,
            Some(t) if t > 0.0 && t.is_finite() => Some(Duration::from_secs_f64(t)),
            Some(t) => {
                return Err(PyValueError::new_err(format!(
                    "time_limit must be a positive number of seconds, got {t}"
                )))
            }
        };
        Ok(MiniBatchParams { est, verbose })
    }
}

fn state_dict<'py, T: Scalar + Element>(
    py: Python<'py>,
    s: &MiniBatchState<T>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("H", to_numpy(py, &s.h)?)?;
    d.set_item("A", to_numpy(py, &s.numerator)?)?;
    d.set_item("B", to_numpy(py, &s.denominator)?)?;
    d.set_item("rho", s.rho)?;
    d.set_item("n_steps", s.n_steps)?;
    Ok(d)
}

fn state_from<T: Scalar + Element>(
    d: Option<&Bound<'_, PyDict>>,
) -> PyResult<Option<MiniBatchState<T>>> {
    let Some(d) = d else { return Ok(None) };
    let get = |k: &str| -> PyResult<Mat<T>> {
        let item = d
            .get_item(k)?
            .ok_or_else(|| PyValueError::new_err(format!("state lacks {k}")))?;
        Ok(mat_from::<T>(Some(&item))?.expect("given"))
    };
    let rho: f64 = d.get_item("rho")?.map_or(Ok(1.0), |v| v.extract())?;
    let n_steps: usize = d.get_item("n_steps")?.map_or(Ok(0), |v| v.extract())?;
    Ok(Some(MiniBatchState {
        h: get("H")?,
        numerator: get("A")?,
        denominator: get("B")?,
        rho,
        n_steps,
    }))
}

fn fit_dict<'py, T: Scalar + Element>(
    py: Python<'py>,
    fit: &MiniBatchFit<T>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = state_dict(py, &fit.state)?;
    d.set_item("W", to_numpy(py, &fit.w)?)?;
    d.set_item("H", to_numpy(py, &fit.h)?)?;
    d.set_item("n_iter", fit.n_iter)?;
    d.set_item("n_steps", fit.n_steps)?;
    d.set_item("stop_reason", fit.stop.name())?;
    d.set_item("divergence", fit.divergence)?;
    d.set_item("objective", fit.objective)?;
    d.set_item("reconstruction_err", fit.reconstruction_err)?;
    d.set_item("history", history(py, &fit.history, &[])?)?;
    Ok(d)
}

fn go_fit<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    p: &MiniBatchParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let src = Source::<T>::extract(x)?;
    let view = src.view()?;
    let (input, transposed) = view.input();
    let (w0, h0) = (mat_from::<T>(w0)?, mat_from::<T>(h0)?);
    let start = w0.as_ref().zip(h0.as_ref());
    let every = crate::interrupt::verbose_every(p.verbose);
    let (res, stop) = interruptible(py, every, |w| {
        let mut cb = stop_when(w);
        p.est.fit_stored(input, transposed, start, Some(&mut cb))
    })?;
    if stop {
        return Err(interrupted("fit"));
    }
    fit_dict(py, &res.map_err(value_error)?)
}

/// Fits X (numpy, read in place, or a CSR tuple) by minibatch steps.
#[pyfunction]
#[pyo3(signature = (x, params, w0=None, h0=None))]
pub fn fit_minibatch<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    params: &MiniBatchParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    by_dtype!(dtype_of(x)?, go_fit(py, x, params, w0, h0))
}

fn go_partial<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    p: &MiniBatchParams,
    state: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let src = Source::<T>::extract(x)?;
    let view = src.view()?;
    let (input, transposed) = view.input();
    let state = state_from::<T>(state)?;
    let (res, stop) = interruptible(py, 0, |_| {
        p.est.partial_fit_stored(input, transposed, state)
    })?;
    if stop {
        return Err(interrupted("partial_fit"));
    }
    state_dict(py, &res.map_err(value_error)?)
}

/// One minibatch step on X from `state` (None: a first step).
#[pyfunction]
#[pyo3(signature = (x, params, state=None))]
pub fn partial_fit_minibatch<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    params: &MiniBatchParams,
    state: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    by_dtype!(dtype_of(x)?, go_partial(py, x, params, state))
}

fn go_fit_npy<'py, T: Scalar + Element>(
    py: Python<'py>,
    path: &str,
    p: &MiniBatchParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let src = nmfkit_io::formats::NpyRows::open(std::path::Path::new(path))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let (w0, h0) = (mat_from::<T>(w0)?, mat_from::<T>(h0)?);
    let every = crate::interrupt::verbose_every(p.verbose);
    let (res, stop) = interruptible(py, every, |w| {
        let mut cb = stop_when(w);
        p.est
            .fit_source(&src, w0.as_ref(), h0.as_ref(), Some(&mut cb))
    })?;
    if stop {
        return Err(interrupted("fit"));
    }
    fit_dict(py, &res.map_err(value_error)?)
}

/// Fits the 2-D array of a .npy file read a batch of rows at a time with
/// positioned reads (never mapped or held whole), in `dtype`.
#[pyfunction]
#[pyo3(signature = (path, params, dtype, w0=None, h0=None))]
pub fn fit_minibatch_npy<'py>(
    py: Python<'py>,
    path: &str,
    params: &MiniBatchParams,
    dtype: &str,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    match dtype {
        "float64" => go_fit_npy::<f64>(py, path, params, w0, h0),
        "float32" => go_fit_npy::<f32>(py, path, params, w0, h0),
        other => Err(PyTypeError::new_err(format!(
            "dtype must be float32 or float64, got {other}"
        ))),
    }
}
