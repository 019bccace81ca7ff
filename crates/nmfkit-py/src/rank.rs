//! Rank surveys: many runs per rank, their consensus and the measures, on
//! X as the core stores it (the items clustered follow the orientation).

use crate::convert::{by_dtype, dtype_of, Source};
use crate::errors::{interrupted, value_error};
use crate::interrupt::interruptible;
use crate::options::{FitParams, SurveyParams};
use nmfkit::rank::{randomized_dense, randomized_sparse, ClusterAxis, RankStats, SurveyOptions};
use nmfkit::{Input, Mat, Matrix, Scalar};
use numpy::{Element, PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::Ordering;

/// One rank's details: its consensus (n×n), tree order and clusters.
struct Details {
    rank: usize,
    consensus: Mat<f64>,
    order: Vec<usize>,
    clusters: Vec<usize>,
}

/// A copy of the stored matrix with every column of X permuted.
fn randomized<T: Scalar>(x: Input<'_, T>, transposed: bool, seed: u64) -> Matrix<T> {
    // The stored matrix is Xᵀ when transposed: permute the columns of X.
    match (x, transposed) {
        (Input::Dense(m), false) => Matrix::Dense(randomized_dense(&m.to_owned(), seed)),
        (Input::Dense(m), true) => {
            Matrix::Dense(randomized_dense(&m.to_owned().transpose(), seed).transpose())
        }
        (Input::Sparse(s), false) => Matrix::Sparse(randomized_sparse(s, seed)),
        (Input::Sparse(s), true) => {
            Matrix::Sparse(randomized_sparse(&s.transpose(), seed).transpose())
        }
    }
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

fn go<'py, T: Scalar + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    p: &FitParams,
    sp: &SurveyParams,
) -> PyResult<Bound<'py, PyDict>> {
    let src = Source::<T>::extract(x)?;
    let view = src.view()?;
    let (input, transposed) = view.input();
    let est = if transposed {
        p.est.transposed()
    } else {
        p.est.clone()
    };
    // The core sees Xᵀ when transposed: the rows of X are its columns.
    let axis = match (sp.axis, transposed) {
        (a, false) => a,
        (ClusterAxis::Rows, true) => ClusterAxis::Columns,
        (ClusterAxis::Columns, true) => ClusterAxis::Rows,
    };
    let details = sp.details;
    let ((data, random), stop) = interruptible(py, 0, |w| {
        let cancel = &w.cancel;
        let opts = SurveyOptions {
            n_runs: sp.n_runs,
            axis,
            cancel: Some(cancel),
            on_run: None,
            cv_folds: sp.cv_folds,
            cv_fraction: sp.cv_fraction,
        };
        let mut kept = Vec::new();
        let data = est.survey(input, &sp.ranks, &opts, |r| {
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
                let copy = randomized(input, transposed, seed);
                est.survey(copy.input(), &sp.ranks, &opts, |_| {})
            }
            _ => Ok(Vec::new()),
        };
        (data.map(|d| (d, kept)), random)
    })?;
    if stop {
        return Err(interrupted("rank survey"));
    }
    let (table, kept) = data.map_err(value_error)?;
    let random = random.map_err(value_error)?;
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

/// The rank survey of X (and of a randomized copy), never copying X.
#[pyfunction]
pub fn survey<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    params: &FitParams,
    survey: &SurveyParams,
) -> PyResult<Bound<'py, PyDict>> {
    by_dtype!(dtype_of(x)?, go(py, x, params, survey))
}
