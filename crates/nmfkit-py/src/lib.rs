//! `nmfkit._core`: the compiled half of the Python package.
//!
//! Dense arrays are read in place: a Fortran-ordered X (n×m) is the
//! column-major matrix the core expects; a C-ordered X is the column-major
//! matrix of Xᵀ, so the transposed problem Xᵀ ≈ Hᵀ·Wᵀ is solved instead with
//! the roles of W and H (their penalties, fixed flags and update order)
//! swapped. CSC input is handled the same way. The GIL is released while
//! the core works; Ctrl-C is checked between iterations.

use nmfkit::rank::{randomized_dense, randomized_sparse, ClusterAxis, RankStats, SurveyOptions};
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
use std::time::Duration;

/// Options read from the Python side's dict.
struct Params {
    est: Nmf,
    alpha_w: f64,
    alpha_h: f64,
    l1_ratio: f64,
    update_h: bool,
    n_runs: usize,
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
        .extrapolate(get(d, "extrapolate")?.unwrap_or(false))
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
        n_runs: get(d, "n_runs")?.unwrap_or(1),
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

/// The estimator for the problem the core solves: for the transposed
/// problem the roles of W and H (penalties, update order) are swapped.
fn oriented(p: &Params, transposed: bool) -> Nmf {
    let (aw, ah) = if transposed {
        (p.alpha_h, p.alpha_w)
    } else {
        (p.alpha_w, p.alpha_h)
    };
    let est = p
        .est
        .clone()
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
    Nmf {
        transposed_draws: transposed,
        ..est
    }
}

/// Runs `work` on its own thread with the GIL released while this thread
/// watches for Ctrl-C (Python only sees signals on the main thread) and
/// sets the flag `work` is given. Returns `work`'s result and whether it
/// was interrupted.
fn interruptible<R: Send>(
    py: Python<'_>,
    work: impl FnOnce(&AtomicBool) -> R + Send,
) -> PyResult<(R, bool)> {
    let cancel = AtomicBool::new(false);
    let out = py.detach(|| {
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| work(&cancel));
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(50));
                if Python::attach(|py| py.check_signals()).is_err() {
                    cancel.store(true, Ordering::SeqCst);
                }
            }
            handle.join()
        })
    });
    match out {
        Ok(r) => Ok((r, cancel.load(Ordering::SeqCst))),
        Err(_) => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "nmfkit: internal error (a worker thread panicked)",
        )),
    }
}

/// A progress callback that stops the fit once `cancel` is set.
fn stop_when(cancel: &AtomicBool) -> impl FnMut(&Progress) -> ControlFlow<()> + Send + '_ {
    move |_| {
        if cancel.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// `n_runs` fits from seeds derived from the seed, keeping the best.
fn run_many<T: Scalar + Element>(
    py: Python<'_>,
    x: Input<'_, T>,
    p: Params,
    transposed: bool,
) -> PyResult<(NmfFit<T>, Vec<f64>, usize)> {
    let est = oriented(&p, transposed);
    let (res, interrupted) = interruptible(py, |cancel| {
        est.fit_runs_with(x, p.n_runs, false, Some(cancel))
    })?;
    match res.map_err(|e| PyValueError::new_err(e.to_string()))? {
        Some(r) if !interrupted => Ok((r.best, r.objectives, r.best_run)),
        _ => Err(PyKeyboardInterrupt::new_err("fit interrupted")),
    }
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
    let est = oriented(&p, transposed);
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
    // The fit runs on a pool's worker; this thread watches for Ctrl-C.
    let (fit, interrupted) = interruptible(py, |cancel| {
        let mut cb = stop_when(cancel);
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
    })?;
    let fit = fit.map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((fit, interrupted))
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
    d.set_item("loss", fit.divergence)?;
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
            d.set_item("divergence", e.divergence)?;
            d.set_item("rel_decrease", e.rel_decrease)?;
            d.set_item("violation", e.violation)?;
            Ok(d)
        })
        .collect()
}

/// One fit, or the best of `n_runs` (random starts; no initial factors).
fn fit_either<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: Input<'_, T>,
    p: Params,
    transposed: bool,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    if p.n_runs > 1 {
        if w0.is_some() || h0.is_some() || !p.update_h {
            return Err(PyValueError::new_err(
                "n_runs > 1 starts every run from random factors: it cannot be combined with init='custom' or a fixed H",
            ));
        }
        let (fit, objectives, best) = run_many(py, x, p, transposed)?;
        let d = result(py, fit, transposed, false)?;
        d.set_item("run_objectives", objectives)?;
        d.set_item("best_run", best)?;
        return Ok(d);
    }
    let (w0, h0) = (start::<T>(w0)?, start::<T>(h0)?);
    let (fit, interrupted) = run(py, x, p, transposed, w0, h0)?;
    result(py, fit, transposed, interrupted)
}

/// A dense array read in place: Fortran order is X, C order is Xᵀ
/// (then `true`).
fn dense_view<'a, T: Scalar + Element>(
    arr: &'a PyReadonlyArray2<'_, T>,
) -> PyResult<(MatRef<'a, T>, bool)> {
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
    Ok((view, transposed))
}

/// CSR arrays (or CSC ones, read as the CSR matrix of Xᵀ) as the core's
/// matrix.
fn csr_from<'py, T: Scalar + Element>(
    shape: (usize, usize),
    indptr: &PyReadonlyArray1<'py, i64>,
    indices: &PyReadonlyArray1<'py, i64>,
    data: &Bound<'py, PyAny>,
    csc: bool,
) -> PyResult<CsrMatrix<T>> {
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
    CsrMatrix::try_new(
        rows,
        cols,
        to_usize(indptr, "indptr")?,
        to_usize(indices, "index")?,
        data.as_array().to_vec(),
    )
    .map_err(|e| PyValueError::new_err(e.to_string()))
}

fn fit_dense_t<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    p: Params,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let arr: PyReadonlyArray2<'py, T> = x.extract()?;
    let (view, transposed) = dense_view(&arr)?;
    fit_either(py, Input::Dense(view), p, transposed, w0, h0)
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
    let m = csr_from::<T>(shape, &indptr, &indices, data, csc)?;
    fit_either(py, Input::Sparse(&m), p, csc, w0, h0)
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

/// Options of a rank survey from the Python side.
struct SurveyParams {
    ranks: Vec<usize>,
    n_runs: usize,
    axis: ClusterAxis,
    random_copy: bool,
    details: bool,
    cv_folds: usize,
    cv_fraction: f64,
}

fn survey_params(d: &Bound<'_, PyDict>) -> PyResult<SurveyParams> {
    let ranks: Vec<usize> =
        get(d, "ranks")?.ok_or_else(|| PyValueError::new_err("ranks is required"))?;
    let axis: String = get(d, "cluster")?.unwrap_or_else(|| "rows".into());
    Ok(SurveyParams {
        ranks,
        n_runs: get(d, "n_runs")?.unwrap_or(30),
        axis: ClusterAxis::parse(&axis).map_err(|e| PyValueError::new_err(e.to_string()))?,
        random_copy: get(d, "random_copy")?.unwrap_or(false),
        details: get(d, "details")?.unwrap_or(false),
        cv_folds: get(d, "cv_folds")?.unwrap_or(0),
        cv_fraction: get(d, "cv_fraction")?.unwrap_or(0.1),
    })
}

/// One rank's details: its consensus (n×n), tree order and clusters.
struct Details {
    rank: usize,
    consensus: Mat<f64>,
    order: Vec<usize>,
    clusters: Vec<usize>,
}

/// The rank survey of `x` (and of a randomized copy), with the GIL
/// released and Ctrl-C watched. `randomize` makes the copy.
fn survey_t<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: Input<'_, T>,
    transposed: bool,
    p: Params,
    sp: SurveyParams,
    randomize: impl FnOnce(u64) -> Option<Either<T>> + Send,
) -> PyResult<Bound<'py, PyDict>> {
    if sp.ranks.is_empty() || sp.ranks.contains(&0) {
        return Err(PyValueError::new_err(
            "ranks must be a non-empty list of positive integers",
        ));
    }
    let est = oriented(&p, transposed);
    // The core sees Xᵀ when transposed: the rows of X are its columns.
    let axis = match (sp.axis, transposed) {
        (a, false) => a,
        (ClusterAxis::Rows, true) => ClusterAxis::Columns,
        (ClusterAxis::Columns, true) => ClusterAxis::Rows,
    };
    let details = sp.details;
    let ((data, random), interrupted) = interruptible(py, |cancel| {
        let opts = SurveyOptions {
            n_runs: sp.n_runs,
            axis,
            cancel: Some(cancel),
            on_run: None,
            cv_folds: sp.cv_folds,
            cv_fraction: sp.cv_fraction,
        };
        let mut kept = Vec::new();
        let data = est.survey(x, &sp.ranks, &opts, |r| {
            if details {
                kept.push(Details {
                    rank: r.stats.rank,
                    consensus: r.consensus.to_dense(None),
                    order: r.order.clone(),
                    clusters: r.clusters.clone(),
                });
            }
        });
        let random = match (&data, sp.random_copy) {
            (Ok(_), true) if !cancel.load(Ordering::SeqCst) => {
                let seed = nmfkit::run_seeds(est.seed ^ 0x0005_EED0_FC0D, 1)[0];
                match randomize(seed) {
                    Some(Either::Dense(m)) => est.survey(&m, &sp.ranks, &opts, |_| {}),
                    Some(Either::Sparse(m)) => est.survey(&m, &sp.ranks, &opts, |_| {}),
                    None => Ok(Vec::new()),
                }
            }
            _ => Ok(Vec::new()),
        };
        (data.map(|d| (d, kept)), random)
    })?;
    if interrupted {
        return Err(PyKeyboardInterrupt::new_err("rank survey interrupted"));
    }
    let (table, kept) = data.map_err(|e| PyValueError::new_err(e.to_string()))?;
    let random = random.map_err(|e| PyValueError::new_err(e.to_string()))?;
    let out = PyDict::new(py);
    let rows: Vec<Bound<'py, PyDict>> = table
        .iter()
        .map(|s| ("data", s))
        .chain(random.iter().map(|s| ("randomized", s)))
        .map(|(name, s)| stats_dict(py, name, s))
        .collect::<PyResult<_>>()?;
    out.set_item("rows", rows)?;
    if details {
        let d = PyDict::new(py);
        for k in kept {
            let one = PyDict::new(py);
            let n = k.consensus.nrows;
            // Symmetric: the column-major data is also the row-major one.
            one.set_item(
                "consensus",
                PyArray1::from_vec(py, k.consensus.data).reshape([n, n])?,
            )?;
            one.set_item("order", PyArray1::from_vec(py, k.order))?;
            one.set_item("clusters", PyArray1::from_vec(py, k.clusters))?;
            d.set_item(k.rank, one)?;
        }
        out.set_item("details", d)?;
    }
    Ok(out)
}

fn stats_dict<'py>(py: Python<'py>, data: &str, s: &RankStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("data", data)?;
    d.set_item("rank", s.rank)?;
    d.set_item("runs", s.runs)?;
    d.set_item("best_objective", s.best_objective)?;
    d.set_item("mean_objective", s.mean_objective)?;
    d.set_item("explained_variance", s.explained_variance)?;
    d.set_item("relative_error", s.relative_error)?;
    d.set_item("sparseness_w", s.sparseness_w)?;
    d.set_item("sparseness_h", s.sparseness_h)?;
    d.set_item("cophenetic", s.cophenetic)?;
    d.set_item("dispersion", s.dispersion)?;
    d.set_item("silhouette", s.silhouette)?;
    d.set_item("mean_iterations", s.mean_iterations)?;
    d.set_item("seconds_per_run", s.seconds_per_run)?;
    d.set_item("cv_error", s.cv_error.unwrap_or(f64::NAN))?;
    Ok(d)
}

/// A randomized copy, dense or sparse.
enum Either<T> {
    Dense(Mat<T>),
    Sparse(CsrMatrix<T>),
}

/// Rank survey of dense X (never copied, except for a randomized copy).
#[pyfunction]
fn survey_dense<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    params: &Bound<'py, PyDict>,
    survey: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyDict>> {
    fn go<'py, T: Scalar + Element>(
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        p: Params,
        sp: SurveyParams,
    ) -> PyResult<Bound<'py, PyDict>> {
        let arr: PyReadonlyArray2<'py, T> = x.extract()?;
        let (view, transposed) = dense_view(&arr)?;
        // The copy permutes each column of X: of the core's matrix when it
        // is X, of its rows when it is Xᵀ.
        let copy = move |seed: u64| {
            Some(Either::Dense(if transposed {
                randomized_dense(&view.to_owned().transpose(), seed).transpose()
            } else {
                randomized_dense(&view.to_owned(), seed)
            }))
        };
        survey_t(py, Input::Dense(view), transposed, p, sp, copy)
    }
    let (p, sp) = (self::params(params)?, survey_params(survey)?);
    if x.extract::<PyReadonlyArray2<'py, f64>>().is_ok() {
        go::<f64>(py, x, p, sp)
    } else if x.extract::<PyReadonlyArray2<'py, f32>>().is_ok() {
        go::<f32>(py, x, p, sp)
    } else {
        Err(PyTypeError::new_err(
            "X must be a 2-D float32 or float64 numpy array",
        ))
    }
}

/// Rank survey of sparse X given as CSR (or CSC) arrays.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn survey_sparse<'py>(
    py: Python<'py>,
    shape: (usize, usize),
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    data: &Bound<'py, PyAny>,
    csc: bool,
    params: &Bound<'py, PyDict>,
    survey: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyDict>> {
    fn go<'py, T: Scalar + Element>(
        py: Python<'py>,
        shape: (usize, usize),
        indptr: PyReadonlyArray1<'py, i64>,
        indices: PyReadonlyArray1<'py, i64>,
        data: &Bound<'py, PyAny>,
        csc: bool,
        p: Params,
        sp: SurveyParams,
    ) -> PyResult<Bound<'py, PyDict>> {
        let m = csr_from::<T>(shape, &indptr, &indices, data, csc)?;
        let copy = |seed: u64| {
            Some(Either::Sparse(if csc {
                randomized_sparse(&m.transpose(), seed).transpose()
            } else {
                randomized_sparse(&m, seed)
            }))
        };
        survey_t(py, Input::Sparse(&m), csc, p, sp, copy)
    }
    let (p, sp) = (self::params(params)?, survey_params(survey)?);
    if data.extract::<PyReadonlyArray1<'py, f64>>().is_ok() {
        go::<f64>(py, shape, indptr, indices, data, csc, p, sp)
    } else if data.extract::<PyReadonlyArray1<'py, f32>>().is_ok() {
        go::<f32>(py, shape, indptr, indices, data, csc, p, sp)
    } else {
        Err(PyTypeError::new_err(
            "sparse data must be float32 or float64",
        ))
    }
}

/// A 2-D float64 array as a column-major matrix: Fortran order is read in
/// place, anything else copied once.
fn col_major(a: &PyReadonlyArray2<'_, f64>) -> PyResult<Mat<f64>> {
    let (n, m) = (a.shape()[0], a.shape()[1]);
    let v: Vec<f64> = a.as_array().t().iter().copied().collect();
    Mat::from_col_major(n, m, v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Rows of a column-major matrix as a C-ordered numpy array.
fn to_numpy<'py>(py: Python<'py>, m: &Mat<f64>) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, m.to_row_major())
        .reshape([m.nrows, m.ncols])?
        .into_any())
}

/// The smooth model (ESPM's SmoothNMF) on X (channels × pixels).
#[pyfunction]
#[pyo3(signature = (x, g, params, w0=None, h0=None))]
fn fit_smooth<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    g: Option<PyReadonlyArray2<'py, f64>>,
    params: &Bound<'py, PyDict>,
    w0: Option<PyReadonlyArray2<'py, f64>>,
    h0: Option<PyReadonlyArray2<'py, f64>>,
) -> PyResult<Bound<'py, PyDict>> {
    use nmfkit::smooth::{Simplex, SmoothNmf, SmoothOptions};
    let bad = |e: NmfError| PyValueError::new_err(e.to_string());
    let rank: usize = get(params, "n_components")?
        .ok_or_else(|| PyValueError::new_err("n_components is required"))?;
    let simplex: String = get(params, "simplex")?.unwrap_or_else(|| "none".into());
    let init: String = get(params, "init")?.unwrap_or_else(|| "auto".into());
    let mut est = SmoothNmf::new(rank)
        .lambda_l(get(params, "lambda_L")?.unwrap_or(0.0))
        .mu(get(params, "mu")?.unwrap_or_default())
        .epsilon_reg(get(params, "epsilon_reg")?.unwrap_or(1.0))
        .eps(get(params, "log_shift")?.unwrap_or(1e-14))
        .simplex(Simplex::parse(&simplex).map_err(bad)?)
        .normalize(get(params, "normalize")?.unwrap_or(false))
        .max_iter(get(params, "max_iter")?.unwrap_or(200))
        .tol(get(params, "tol")?.unwrap_or(1e-4))
        .eval_every(get(params, "eval_every")?.unwrap_or(10))
        .init(Init::parse(&init).map_err(bad)?)
        .seed(get(params, "seed")?.unwrap_or(0))
        .threads(get(params, "n_threads")?.unwrap_or(0));
    if let Some((h, w)) = get::<(usize, usize)>(params, "shape_2d")? {
        est = est.image_shape(h, w);
    }
    let x = col_major(&x)?;
    let g = g.map(|g| col_major(&g)).transpose()?;
    let w0 = w0.map(|a| col_major(&a)).transpose()?;
    let h0 = h0.map(|a| col_major(&a)).transpose()?;
    let (fit, interrupted) = interruptible(py, |cancel| {
        let mut watch = stop_when(cancel);
        let opts = SmoothOptions {
            w0: w0.as_ref(),
            h0: h0.as_ref(),
            progress: Some(&mut watch),
            ..Default::default()
        };
        est.fit_with(x.as_ref(), g.as_ref().map(|g| g.as_ref()), opts)
    })?;
    if interrupted {
        return Err(PyKeyboardInterrupt::new_err("fit interrupted"));
    }
    let fit = fit.map_err(bad)?;
    let d = PyDict::new(py);
    d.set_item("W", to_numpy(py, &fit.w)?)?;
    d.set_item("GW", to_numpy(py, &fit.gw)?)?;
    d.set_item("H", to_numpy(py, &fit.h)?)?;
    d.set_item("n_iter", fit.n_iter)?;
    d.set_item("stop_reason", fit.stop.name())?;
    d.set_item("objective", fit.objective)?;
    d.set_item("kl", fit.divergence)?;
    d.set_item("laplacian", fit.penalty("laplacian"))?;
    d.set_item("log_term", fit.penalty("log"))?;
    d.set_item("norm_factor", fit.norm_factor)?;
    let hist: Vec<Bound<'py, PyDict>> = fit
        .history
        .iter()
        .map(|e| {
            let h = PyDict::new(py);
            h.set_item("iter", e.iter)?;
            h.set_item("time_s", e.time_s)?;
            h.set_item("loss", e.objective)?;
            h.set_item("kl", e.divergence)?;
            h.set_item("laplacian", e.penalties[0])?;
            h.set_item("log_term", e.penalties[1])?;
            Ok(h)
        })
        .collect::<PyResult<_>>()?;
    d.set_item("history", hist)?;
    Ok(d)
}

/// Runs `fit` with the given starts and a Ctrl-C watch (see
/// [`interruptible`]) and returns its result dict (the caller's orientation).
fn watched_fit<'py>(
    py: Python<'py>,
    w0: Option<Mat<f64>>,
    h0: Option<Mat<f64>>,
    update_h: bool,
    fit: impl FnOnce(FitOptions<'_, '_, f64>) -> nmfkit::Result<NmfFit<f64>> + Send,
) -> PyResult<Bound<'py, PyDict>> {
    let (fit, interrupted) = interruptible(py, |cancel| {
        let mut cb = stop_when(cancel);
        fit(FitOptions {
            w0: w0.as_ref(),
            h0: h0.as_ref(),
            update_h,
            update_w: true,
            progress: Some(&mut cb),
        })
    })?;
    if interrupted {
        return Err(PyKeyboardInterrupt::new_err("fit interrupted"));
    }
    let fit = fit.map_err(|e| PyValueError::new_err(e.to_string()))?;
    result(py, fit, false, false)
}

/// A masked fit: X and the weights dense float64 (copied to the core's
/// layout), 0 = missing (its value ignored, NaN allowed).
#[pyfunction]
#[pyo3(signature = (x, weights, params, w0=None, h0=None))]
fn fit_masked<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    params: &Bound<'py, PyDict>,
    w0: Option<PyReadonlyArray2<'py, f64>>,
    h0: Option<PyReadonlyArray2<'py, f64>>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = self::params(params)?;
    let est = oriented(&p, false);
    let x = col_major(&x)?;
    let weights = col_major(&weights)?;
    let w0 = w0.map(|a| col_major(&a)).transpose()?;
    let h0 = h0.map(|a| col_major(&a)).transpose()?;
    watched_fit(py, w0, h0, p.update_h, |opts| {
        est.fit_masked_with(x.as_ref(), weights.as_ref(), opts)
    })
}

/// A masked fit of sparse X (CSR or CSC arrays) with sparse weights (CSR
/// arrays of the listed entries; every other entry weighs `others`: 1 keeps
/// unstored entries as observed zeros, 0 observes only the listed ones).
#[pyfunction]
#[pyo3(signature = (shape, indptr, indices, data, csc, listed, others, params, w0=None, h0=None))]
#[allow(clippy::too_many_arguments)]
fn fit_masked_sparse<'py>(
    py: Python<'py>,
    shape: (usize, usize),
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    data: &Bound<'py, PyAny>,
    csc: bool,
    listed: (
        PyReadonlyArray1<'py, i64>,
        PyReadonlyArray1<'py, i64>,
        Bound<'py, PyAny>,
    ),
    others: f64,
    params: &Bound<'py, PyDict>,
    w0: Option<PyReadonlyArray2<'py, f64>>,
    h0: Option<PyReadonlyArray2<'py, f64>>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = self::params(params)?;
    let m = csr_from::<f64>(shape, &indptr, &indices, data, csc)?;
    // CSC arrays are the CSR matrix of Xᵀ: make X's.
    let m = if csc { m.transpose() } else { m };
    let wts = csr_from::<f64>(shape, &listed.0, &listed.1, &listed.2, false)?;
    let est = oriented(&p, false);
    let w0 = w0.map(|a| col_major(&a)).transpose()?;
    let h0 = h0.map(|a| col_major(&a)).transpose()?;
    watched_fit(py, w0, h0, p.update_h, |opts| {
        est.fit_masked_sparse_with(
            &m,
            nmfkit::SparseWeights {
                listed: &wts,
                others,
            },
            opts,
        )
    })
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
    m.add_function(wrap_pyfunction!(survey_dense, m)?)?;
    m.add_function(wrap_pyfunction!(survey_sparse, m)?)?;
    m.add_function(wrap_pyfunction!(fit_smooth, m)?)?;
    m.add_function(wrap_pyfunction!(fit_masked, m)?)?;
    m.add_function(wrap_pyfunction!(fit_masked_sparse, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
