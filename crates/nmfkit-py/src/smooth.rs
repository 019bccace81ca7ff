//! The smooth model (ESPM's SmoothNMF) on X (channels × pixels).

use crate::convert::{history_tracked, mat_from, to_numpy};
use crate::errors::{interrupted, value_error};
use crate::interrupt::{interruptible, stop_when};
use crate::options::SmoothParams;
use nmfkit::smooth::{SmoothOptions, Truth};
use nmfkit::{Mat, MatRef};
use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A 2-D float64 array as a column-major matrix: read in place when it is
/// Fortran-ordered (as X is when it comes from a pixels × channels array's
/// transpose), else copied once into `store`.
fn col_major<'a>(
    a: &'a PyReadonlyArray2<'_, f64>,
    store: &'a mut Option<Mat<f64>>,
) -> PyResult<MatRef<'a, f64>> {
    let (n, m) = (a.shape()[0], a.shape()[1]);
    if a.is_fortran_contiguous() {
        if let Ok(data) = a.as_slice() {
            return MatRef::new(n, m, data).map_err(value_error);
        }
    }
    let v: Vec<f64> = a.as_array().t().iter().copied().collect();
    Ok(store
        .insert(Mat::from_col_major(n, m, v).map_err(value_error)?)
        .as_ref())
}

#[pyfunction]
#[pyo3(signature = (x, g, params, w0=None, h0=None, fixed_w=None, fixed_h=None, true_d=None, true_h=None))]
#[allow(clippy::too_many_arguments)]
pub fn fit_smooth<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    g: Option<PyReadonlyArray2<'py, f64>>,
    params: &SmoothParams,
    w0: Option<&Bound<'py, PyAny>>,
    h0: Option<&Bound<'py, PyAny>>,
    fixed_w: Option<&Bound<'py, PyAny>>,
    fixed_h: Option<&Bound<'py, PyAny>>,
    true_d: Option<&Bound<'py, PyAny>>,
    true_h: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (true_d, true_h) = (mat_from::<f64>(true_d)?, mat_from::<f64>(true_h)?);
    let mut x_store = None;
    let x = col_major(&x, &mut x_store)?;
    let (fixed_w, fixed_h) = (mat_from::<f64>(fixed_w)?, mat_from::<f64>(fixed_h)?);
    let mut g_store = None;
    let g = match &g {
        Some(g) => Some(col_major(g, &mut g_store)?),
        None => None,
    };
    let (w0, h0) = (mat_from::<f64>(w0)?, mat_from::<f64>(h0)?);
    let est = &params.est;
    let (fit, stop) = interruptible(py, 0, |w| {
        let mut watch = stop_when(w);
        let opts = SmoothOptions {
            w0: w0.as_ref(),
            h0: h0.as_ref(),
            fixed_w: fixed_w.as_ref(),
            fixed_h: fixed_h.as_ref(),
            truth: Truth {
                spectra: true_d.as_ref(),
                maps: true_h.as_ref(),
            },
            progress: Some(&mut watch),
            ..Default::default()
        };
        est.fit_with(x, g, opts)
    })?;
    if stop {
        return Err(interrupted("fit"));
    }
    let fit = fit.map_err(value_error)?;
    let d = PyDict::new(py);
    d.set_item("W", to_numpy(py, &fit.w)?)?;
    d.set_item("GW", to_numpy(py, &fit.gw)?)?;
    d.set_item("H", to_numpy(py, &fit.h)?)?;
    d.set_item("n_iter", fit.n_iter)?;
    d.set_item("stop_reason", fit.stop.name())?;
    d.set_item("objective", fit.objective)?;
    d.set_item("divergence", fit.divergence)?;
    d.set_item("laplacian", fit.penalty("laplacian"))?;
    d.set_item("log", fit.penalty("log"))?;
    d.set_item("norm_factor", fit.norm_factor)?;
    d.set_item(
        "history",
        history_tracked(py, &fit.history, &fit.penalty_names, &fit.tracked_names)?,
    )?;
    d.set_item("tracked_names", fit.tracked_names.clone())?;
    Ok(d)
}
