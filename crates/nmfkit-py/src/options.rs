//! Options crossing into Rust as typed classes: keyword-only constructors,
//! so an unknown option is a `TypeError` naming it, and every value is
//! checked by the core's own parsers and `validate`, so a bad one is the
//! core's `ValueError`.

use crate::errors::value_error;
use nmfkit::rank::ClusterAxis;
use nmfkit::smooth::{Simplex, SmoothLoss, SmoothNmf};
use nmfkit::{Balance, Convergence, Init, Loss, Nmf, Regularization, SolverKind, UpdateOrder};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::time::Duration;

/// Threads: 0 for all cores, or a positive count.
fn threads(n: i64) -> PyResult<usize> {
    usize::try_from(n).map_err(|_| {
        PyValueError::new_err(format!(
            "n_threads must be None or a positive integer, got {n}"
        ))
    })
}

fn seconds(name: &str, t: Option<f64>) -> PyResult<Option<Duration>> {
    match t {
        None => Ok(None),
        Some(t) if t > 0.0 && t.is_finite() => Ok(Some(Duration::from_secs_f64(t))),
        Some(t) => Err(PyValueError::new_err(format!(
            "{name} must be a positive number of seconds, got {t}"
        ))),
    }
}

fn convergence(s: &str) -> PyResult<Convergence> {
    match s {
        "sklearn" => Ok(Convergence::Sklearn),
        "objective" => Ok(Convergence::Objective),
        "auto" => Ok(Convergence::Auto),
        other => Err(PyValueError::new_err(format!(
            "convergence must be 'sklearn', 'objective' or 'auto', got {other:?}"
        ))),
    }
}

/// A standard fit's options: the estimator, as the core sees it for the
/// problem in the user's orientation (scikit-learn's W-then-H order).
#[pyclass(frozen, module = "nmfkit._core")]
pub struct FitParams {
    pub est: Nmf,
    pub update_h: bool,
    pub n_runs: usize,
    /// scikit-learn's verbose level (progress lines on stdout).
    pub verbose: usize,
}

#[pymethods]
impl FitParams {
    #[new]
    #[pyo3(signature = (
        *, n_components, beta = 2.0, solver = "cd", init = "auto", seed = 0, max_iter = 200,
        tol = 1e-4, shuffle = false, n_threads = 0, extrapolate = false, convergence = "sklearn",
        time_limit = None, eval_every = None, factor_tol = None, alpha_W = 0.0, alpha_H = 0.0,
        l1_ratio = 0.0, update_H = true, n_runs = 1, balance = "auto", verbose = 0,
        diagnostics = false
    ))]
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn new(
        n_components: usize,
        beta: f64,
        solver: &str,
        init: &str,
        seed: u64,
        max_iter: usize,
        tol: f64,
        shuffle: bool,
        n_threads: i64,
        extrapolate: bool,
        convergence: &str,
        time_limit: Option<f64>,
        eval_every: Option<usize>,
        factor_tol: Option<f64>,
        alpha_W: f64,
        alpha_H: f64,
        l1_ratio: f64,
        update_H: bool,
        n_runs: usize,
        balance: &str,
        verbose: usize,
        diagnostics: bool,
    ) -> PyResult<Self> {
        let mut est = Nmf::new(n_components)
            .loss(Loss::from_beta(beta).map_err(value_error)?)
            .solver(SolverKind::parse(solver).map_err(value_error)?)
            .init(Init::parse(init).map_err(value_error)?)
            .seed(seed)
            .max_iter(max_iter)
            .tol(tol)
            .shuffle(shuffle)
            .threads(threads(n_threads)?)
            .extrapolate(extrapolate)
            .balance(Balance::parse(balance).map_err(value_error)?)
            .convergence(self::convergence(convergence)?)
            .update_order(UpdateOrder::WThenH)
            .regularization(Regularization {
                alpha_w: alpha_W,
                alpha_h: Some(alpha_H),
                l1_ratio,
            });
        est.time_limit = seconds("time_limit", time_limit)?;
        est.eval_every = eval_every;
        est.factor_tol = factor_tol;
        est.diagnostics = diagnostics;
        est.validate().map_err(value_error)?;
        if n_runs == 0 {
            return Err(PyValueError::new_err("n_runs must be at least 1"));
        }
        Ok(FitParams {
            est,
            update_h: update_H,
            n_runs,
            verbose,
        })
    }

    fn __repr__(&self) -> String {
        format!("FitParams({:?})", self.est)
    }
}

/// A rank survey's own options.
#[pyclass(frozen, module = "nmfkit._core")]
pub struct SurveyParams {
    pub ranks: Vec<usize>,
    pub n_runs: usize,
    pub axis: ClusterAxis,
    pub random_copy: bool,
    pub details: bool,
    pub cv_folds: usize,
    pub cv_fraction: f64,
}

#[pymethods]
impl SurveyParams {
    #[new]
    #[pyo3(signature = (
        *, ranks, n_runs = 30, cluster = "rows", random_copy = false, details = false,
        cv_folds = 0, cv_fraction = 0.1
    ))]
    fn new(
        ranks: Vec<usize>,
        n_runs: usize,
        cluster: &str,
        random_copy: bool,
        details: bool,
        cv_folds: usize,
        cv_fraction: f64,
    ) -> PyResult<Self> {
        if ranks.is_empty() || ranks.contains(&0) {
            return Err(PyValueError::new_err(
                "ranks must be a non-empty list of positive integers",
            ));
        }
        if n_runs == 0 {
            return Err(PyValueError::new_err("n_runs must be at least 1"));
        }
        Ok(SurveyParams {
            ranks,
            n_runs,
            axis: ClusterAxis::parse(cluster).map_err(value_error)?,
            random_copy,
            details,
            cv_folds,
            cv_fraction,
        })
    }
}

/// The smooth model's options, with ESPM's names.
#[pyclass(frozen, module = "nmfkit._core")]
pub struct SmoothParams {
    pub est: SmoothNmf,
}

#[pymethods]
impl SmoothParams {
    #[new]
    #[pyo3(signature = (
        *, n_components, lambda_L = 0.0, mu = Vec::new(), epsilon_reg = 1.0, log_shift = 1e-14,
        simplex = "none", normalize = false, max_iter = 200, tol = 1e-4, eval_every = 10,
        init = "auto", seed = 0, n_threads = 0, shape_2d = None, time_limit = None,
        factor_tol = None, l2 = false, diagnostics = false
    ))]
    #[allow(non_snake_case, clippy::too_many_arguments)]
    fn new(
        n_components: usize,
        lambda_L: f64,
        mu: Vec<f64>,
        epsilon_reg: f64,
        log_shift: f64,
        simplex: &str,
        normalize: bool,
        max_iter: usize,
        tol: f64,
        eval_every: usize,
        init: &str,
        seed: u64,
        n_threads: i64,
        shape_2d: Option<(usize, usize)>,
        time_limit: Option<f64>,
        factor_tol: Option<f64>,
        l2: bool,
        diagnostics: bool,
    ) -> PyResult<Self> {
        let mut est = SmoothNmf::new(n_components)
            .loss(if l2 { SmoothLoss::L2 } else { SmoothLoss::Kl })
            .diagnostics(diagnostics)
            .lambda_l(lambda_L)
            .mu(mu)
            .epsilon_reg(epsilon_reg)
            .eps(log_shift)
            .simplex(Simplex::parse(simplex).map_err(value_error)?)
            .normalize(normalize)
            .max_iter(max_iter)
            .tol(tol)
            .eval_every(eval_every)
            .init(Init::parse(init).map_err(value_error)?)
            .seed(seed)
            .threads(threads(n_threads)?);
        est.image_shape = shape_2d;
        est.time_limit = seconds("time_limit", time_limit)?;
        est.factor_tol = factor_tol;
        Ok(SmoothParams { est })
    }
}
