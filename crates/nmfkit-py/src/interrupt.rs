//! Long work with the GIL released, Ctrl-C watched and progress printed:
//! Python only sees signals on its main thread, so the work runs on another
//! one (a rayon pool's worker, as every fit does) while this thread checks
//! for signals, raises a flag the work's progress callback reads, and
//! prints the callback's `verbose` lines through Python's `print` (so
//! Jupyter shows them).

use nmfkit::Progress;
use pyo3::prelude::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

/// What the work and the watching thread share.
pub struct Watch {
    pub cancel: AtomicBool,
    /// A progress line every this many iterations (0: none).
    every: usize,
    lines: Mutex<Vec<String>>,
}

impl Watch {
    fn flush(&self, py: Python<'_>) {
        let lines = std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()));
        for l in lines {
            let _ = py
                .import("builtins")
                .and_then(|b| b.getattr("print"))
                .and_then(|p| p.call1((l,)));
        }
    }
}

/// scikit-learn's verbose levels: 1 prints every 10 iterations, 2 and
/// above every iteration.
pub fn verbose_every(verbose: usize) -> usize {
    match verbose {
        0 => 0,
        1 => 10,
        _ => 1,
    }
}

/// Runs `work` with the GIL released; returns its result and whether
/// Ctrl-C interrupted it. `every` as [`verbose_every`].
pub fn interruptible<R: Send>(
    py: Python<'_>,
    every: usize,
    work: impl FnOnce(&Watch) -> R + Send,
) -> PyResult<(R, bool)> {
    let watch = Watch {
        cancel: AtomicBool::new(false),
        every,
        lines: Mutex::new(Vec::new()),
    };
    let out = py.detach(|| {
        std::thread::scope(|scope| {
            // The work says when it ends (or, panicking, drops the sender):
            // waiting on that rather than sleeping returns at once, where a
            // 50 ms sleep added up to 50 ms to every fit.
            let (done, ended) = mpsc::channel::<()>();
            let watch = &watch;
            let handle = scope.spawn(move || {
                let r = work(watch);
                let _ = done.send(());
                r
            });
            while let Err(RecvTimeoutError::Timeout) = ended.recv_timeout(Duration::from_millis(50))
            {
                Python::attach(|py| {
                    if py.check_signals().is_err() {
                        watch.cancel.store(true, Ordering::SeqCst);
                    }
                    watch.flush(py);
                });
            }
            handle.join()
        })
    });
    watch.flush(py);
    match out {
        Ok(r) => Ok((r, watch.cancel.load(Ordering::SeqCst))),
        Err(_) => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "nmfkit: internal error (a worker thread panicked)",
        )),
    }
}

/// A progress callback that stops the fit once Ctrl-C is seen and queues
/// the verbose lines: iteration, objective, its relative decrease since
/// the previous line, and the time.
pub fn stop_when(watch: &Watch) -> impl FnMut(&Progress) -> ControlFlow<()> + Send + '_ {
    let mut last: Option<f64> = None;
    move |p| {
        if watch.every > 0 && (p.iter % watch.every == 0 || p.iter == 1) {
            let decrease = last.map_or(String::new(), |l| {
                let d = if l > 0.0 { (l - p.objective) / l } else { 0.0 };
                format!("  relative decrease {d:.3e}")
            });
            let line = format!(
                "iteration {:>5}  objective {:.6e}{decrease}  {:.3} s",
                p.iter,
                p.objective,
                p.elapsed.as_secs_f64()
            );
            watch
                .lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(line);
            last = Some(p.objective);
        }
        if watch.cancel.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
