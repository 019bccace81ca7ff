//! Progress on stderr: a bar on a terminal, plain lines otherwise, nothing
//! with --quiet. Ctrl-C asks the fit to stop; it keeps the factors so far.

use indicatif::{ProgressBar, ProgressStyle};
use nmfkit::Progress;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Reporter {
    bar: Option<ProgressBar>,
    plain: bool,
    last_line: Instant,
    interrupted: Arc<AtomicBool>,
}

impl Reporter {
    pub fn new(quiet: bool, max_iter: usize) -> Self {
        let interrupted = Arc::new(AtomicBool::new(false));
        let flag = interrupted.clone();
        // Only the first handler registration succeeds; later fits in the
        // same process (tests) keep it.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let b = ProgressBar::new(max_iter as u64);
            b.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} iterations  {msg}  {per_sec}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Reporter {
            bar,
            plain: !quiet && !tty,
            last_line: Instant::now(),
            interrupted,
        }
    }

    /// The callback given to the fit.
    pub fn update(&mut self, p: &Progress) -> ControlFlow<()> {
        if let Some(b) = &self.bar {
            b.set_position(p.iter as u64);
            b.set_message(format!("objective {:.6e}", p.objective));
        } else if self.plain && self.last_line.elapsed() >= Duration::from_secs(1) {
            eprintln!(
                "iteration {}/{}  objective {:.6e}  {:.1} s",
                p.iter,
                p.max_iter,
                p.objective,
                p.elapsed.as_secs_f64()
            );
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
