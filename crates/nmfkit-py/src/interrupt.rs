//! Long work with the GIL released and Ctrl-C watched: Python only sees
//! signals on its main thread, so the work runs on another one (a rayon
//! pool's worker, as every fit does) while this thread checks for signals
//! and raises a flag the work's progress callback reads.

use nmfkit::Progress;
use pyo3::prelude::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs `work` with the GIL released; returns its result and whether
/// Ctrl-C interrupted it.
pub fn interruptible<R: Send>(
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
pub fn stop_when(cancel: &AtomicBool) -> impl FnMut(&Progress) -> ControlFlow<()> + Send + '_ {
    move |_| {
        if cancel.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
