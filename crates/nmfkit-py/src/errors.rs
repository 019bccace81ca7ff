//! The core's errors as Python exceptions, as scikit-learn raises them:
//! bad data and parameters are `ValueError`, a stopped fit
//! `KeyboardInterrupt`.

use nmfkit::NmfError;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::PyErr;

pub fn value_error(e: NmfError) -> PyErr {
    match e {
        NmfError::Numerical(m) => PyRuntimeError::new_err(format!("numerical failure: {m}")),
        e => PyValueError::new_err(e.to_string()),
    }
}

pub fn interrupted(what: &str) -> PyErr {
    PyKeyboardInterrupt::new_err(format!("{what} interrupted"))
}
