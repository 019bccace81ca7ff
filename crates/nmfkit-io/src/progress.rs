//! Progress on stderr: a bar on a terminal, plain lines otherwise, nothing
//! with --quiet. Ctrl-C asks the fit to stop; it keeps the factors so far.

use indicatif::{ProgressBar, ProgressStyle};
use nmfkit::Progress;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The process's Ctrl-C flag (the handler is installed on first use).
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}

pub struct Reporter {
    bar: Option<ProgressBar>,
    plain: bool,
    last_line: Instant,
    interrupted: Arc<AtomicBool>,
    /// Minibatch fits: steps per epoch (the bar counts batches).
    per_epoch: Option<usize>,
}

impl Reporter {
    pub fn new(quiet: bool, max_iter: usize) -> Self {
        Self::with_unit(quiet, max_iter, "iterations", None)
    }

    /// A bar over minibatch steps: epochs, batches/s and the smoothed
    /// batch cost.
    pub fn batches(quiet: bool, total_steps: usize, per_epoch: usize) -> Self {
        Self::with_unit(quiet, total_steps, "batches", Some(per_epoch.max(1)))
    }

    fn with_unit(quiet: bool, len: usize, unit: &str, per_epoch: Option<usize>) -> Self {
        let interrupted = interrupt_flag();
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let b = ProgressBar::new(len as u64);
            b.set_style(
                ProgressStyle::with_template(&format!(
                    "{{bar:30}} {{pos}}/{{len}} {unit}  {{msg}}  {{per_sec}}  ETA {{eta}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Reporter {
            bar,
            plain: !quiet && !tty,
            last_line: Instant::now(),
            interrupted,
            per_epoch,
        }
    }

    fn message(&self, p: &Progress) -> String {
        match (self.per_epoch, p.batch_cost) {
            (Some(e), cost) => format!(
                "epoch {}/{}  smoothed batch cost {}",
                p.iter.div_ceil(e).max(1),
                p.max_iter.div_ceil(e),
                cost.map_or("-".into(), |c| format!("{c:.6e}"))
            ),
            (None, _) => format!("objective {:.6e}", p.objective),
        }
    }

    /// The callback given to the fit.
    pub fn update(&mut self, p: &Progress) -> ControlFlow<()> {
        if let Some(b) = &self.bar {
            b.set_position(p.iter as u64);
            b.set_message(self.message(p));
        } else if self.plain && self.last_line.elapsed() >= Duration::from_secs(1) {
            let t = p.elapsed.as_secs_f64();
            match self.per_epoch {
                Some(_) => crate::note!(
                    "batch {}/{}  {}  {:.1} batches/s  {t:.1} s",
                    p.iter,
                    p.max_iter,
                    self.message(p),
                    p.iter as f64 / t.max(1e-9)
                ),
                None => crate::note!(
                    "iteration {}/{}  objective {:.6e}  {t:.1} s",
                    p.iter,
                    p.max_iter,
                    p.objective
                ),
            }
            self.last_line = Instant::now();
        }
        if self.interrupted.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Progress over many runs (`nmfkit rank`): a bar on a terminal, a line
/// every second otherwise. Safe to call from the runs' threads.
pub struct RunCounter {
    bar: Option<ProgressBar>,
    plain: bool,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    last_line: Mutex<Instant>,
}

impl RunCounter {
    pub fn new(quiet: bool, total: usize) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let b = ProgressBar::new(total as u64);
            b.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {msg}  ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        RunCounter {
            bar,
            plain: !quiet && !tty,
            total,
            done: 0.into(),
            last_line: Mutex::new(Instant::now()),
        }
    }

    /// One more run finished; `what` says where (e.g. "rank 4").
    pub fn tick(&self, what: &str) {
        let d = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar {
            b.set_position(d as u64);
            b.set_message(what.to_string());
        } else if self.plain {
            let mut last = self.last_line.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() >= Duration::from_secs(1) || d == self.total {
                crate::note!("run {d}/{}  {what}", self.total);
                *last = Instant::now();
            }
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
