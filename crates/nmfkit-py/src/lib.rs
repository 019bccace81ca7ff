//! `nmfkit._core`: the compiled half of the Python package, kept thin.
//!
//! One module per concept: `options` (typed, keyword-only option classes
//! checked by the core), `convert` (numpy/scipy data read in place, dtype
//! dispatched once, results back), `fit`, `minibatch`, `weighted`, `smooth`, `rank`,
//! `errors` and `interrupt` (the GIL released, Ctrl-C watched). A C-ordered
//! array or CSC matrix is X's transpose as the core stores it: the core
//! fits it as such (`Nmf::oriented`) and hands back W and H of X.

mod convert;
mod errors;
mod fit;
mod interrupt;
mod minibatch;
mod options;
mod rank;
mod smooth;
mod weighted;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<options::FitParams>()?;
    m.add_class::<options::SurveyParams>()?;
    m.add_class::<options::SmoothParams>()?;
    m.add_class::<minibatch::MiniBatchParams>()?;
    m.add_function(wrap_pyfunction!(minibatch::fit_minibatch, m)?)?;
    m.add_function(wrap_pyfunction!(minibatch::fit_minibatch_npy, m)?)?;
    m.add_function(wrap_pyfunction!(minibatch::partial_fit_minibatch, m)?)?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(fit::beta_divergence, m)?)?;
    m.add_function(wrap_pyfunction!(weighted::fit_masked, m)?)?;
    m.add_function(wrap_pyfunction!(weighted::impute, m)?)?;
    m.add_function(wrap_pyfunction!(weighted::masked_divergence, m)?)?;
    m.add_function(wrap_pyfunction!(rank::survey, m)?)?;
    m.add_function(wrap_pyfunction!(smooth::fit_smooth, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
