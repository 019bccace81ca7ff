//! Many independent fits from seeds derived from one seed, keeping the best
//! (the building block of consensus clustering and rank selection).

use crate::error::{invalid, Result};
use crate::init::Init;
use crate::model::{FitOptions, Input, Nmf, NmfFit};
use crate::scalar::Scalar;
use rayon::prelude::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Problems below this many n·m·k multiply-adds per product run their fits
/// in parallel, one thread each; larger ones run one after the other with
/// parallel kernels.
const SMALL_FIT: f64 = 4e6;

/// The result of [`Nmf::fit_runs`].
#[derive(Clone, Debug)]
pub struct Runs<T> {
    /// The fit with the lowest objective (the first one on ties).
    pub best: NmfFit<T>,
    /// Its index among the runs.
    pub best_run: usize,
    /// The seed of every run.
    pub seeds: Vec<u64>,
    /// The final objective of every run.
    pub objectives: Vec<f64>,
    /// Every fit, when asked for (otherwise empty, to bound memory).
    pub fits: Vec<NmfFit<T>>,
}

/// `n` seeds derived from `seed` (SplitMix64): the same whatever the
/// thread count or the order in which runs finish.
pub fn run_seeds(seed: u64, n: usize) -> Vec<u64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

impl Nmf {
    /// Runs `n_runs` independent fits and keeps the best by objective.
    ///
    /// Each run uses its own seed from [`run_seeds`]. With `init` left at
    /// `Auto` the runs start from random factors (NNDSVD would give every run
    /// nearly the same start). Small problems run their fits in parallel with
    /// one thread each, so their results do not depend on the thread count.
    ///
    /// ```
    /// use nmfkit::{synth, Nmf, SolverKind};
    /// let x = synth::low_rank::<f64>(60, 40, 3, 0.05, 1).x;
    /// let runs = Nmf::new(3).solver(SolverKind::Hals).seed(7).fit_runs(&x, 5, false).unwrap();
    /// assert_eq!(runs.objectives.len(), 5);
    /// assert!(runs.objectives.iter().all(|&o| o >= runs.best.objective));
    /// ```
    pub fn fit_runs<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        n_runs: usize,
        keep_all: bool,
    ) -> Result<Runs<T>> {
        self.fit_runs_with(x, n_runs, keep_all, None)?
            .ok_or_else(|| invalid("n_runs", "no run finished"))
    }

    /// [`fit_runs`](Nmf::fit_runs) that stops when `cancel` is set
    /// (`None` then).
    pub fn fit_runs_with<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        n_runs: usize,
        keep_all: bool,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<Runs<T>>> {
        if n_runs == 0 {
            return Err(invalid("n_runs", "must be at least 1"));
        }
        let seeds = run_seeds(self.seed, n_runs);
        // Only the best fit so far is held (and every fit when asked), so
        // memory does not grow with the number of runs.
        let best: Mutex<Option<(usize, NmfFit<T>)>> = Mutex::new(None);
        let kept = self.map_runs(x.into(), &seeds, cancel, |i, fit| {
            let objective = fit.objective;
            let copy = keep_all.then(|| fit.clone());
            let mut b = best.lock().unwrap_or_else(|p| p.into_inner());
            let better = match &*b {
                None => true,
                Some((j, f)) => objective < f.objective || (objective == f.objective && i < *j),
            };
            if better {
                *b = Some((i, fit));
            }
            (objective, copy)
        })?;
        if kept.iter().any(Option::is_none) {
            return Ok(None);
        }
        let (objectives, fits): (Vec<f64>, Vec<Option<NmfFit<T>>>) =
            kept.into_iter().flatten().unzip();
        let fits: Vec<NmfFit<T>> = fits.into_iter().flatten().collect();
        let (best_run, best) = best
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .ok_or_else(|| invalid("n_runs", "no run finished"))?;
        Ok(Some(Runs {
            best,
            best_run,
            seeds,
            objectives,
            fits,
        }))
    }

    /// Fits once per seed and maps each fit to what the caller keeps (so
    /// that memory holds summaries, not factors). Runs whose turn comes
    /// after `cancel` is set are skipped (`None`); a run in progress stops
    /// at its next iteration.
    pub(crate) fn map_runs<T: Scalar, S: Send>(
        &self,
        x: Input<'_, T>,
        seeds: &[u64],
        cancel: Option<&AtomicBool>,
        keep: impl Fn(usize, NmfFit<T>) -> S + Sync,
    ) -> Result<Vec<Option<S>>> {
        let (n, m) = x.shape();
        let base = Nmf {
            init: if self.init == Init::Auto {
                Init::Random
            } else {
                self.init
            },
            ..self.clone()
        };
        let small = (n as f64) * (m as f64) * (self.rank as f64) <= SMALL_FIT;
        let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        let one = |i: usize, threads: usize| -> Result<Option<S>> {
            if cancelled() {
                return Ok(None);
            }
            let est = Nmf {
                seed: seeds[i],
                threads,
                ..base.clone()
            };
            let mut watch = |_: &crate::Progress| {
                if cancelled() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            };
            let opts = FitOptions {
                progress: cancel.map(|_| &mut watch as &mut crate::ProgressFn<'_>),
                ..Default::default()
            };
            Ok(Some(keep(i, est.fit_with(x, opts)?)))
        };
        let out: Vec<Result<Option<S>>> = if small {
            (0..seeds.len())
                .into_par_iter()
                .map(|i| one(i, 1))
                .collect()
        } else {
            (0..seeds.len()).map(|i| one(i, self.threads)).collect()
        };
        out.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{synth, SolverKind};

    #[test]
    fn seeds_are_distinct_and_fixed() {
        let a = run_seeds(5, 100);
        let mut b = a.clone();
        b.sort_unstable();
        b.dedup();
        assert_eq!(b.len(), 100);
        assert_eq!(a, run_seeds(5, 100));
        assert_eq!(&a[..10], &run_seeds(5, 10)[..]);
    }

    #[test]
    fn best_run_has_the_lowest_objective_and_runs_are_reproducible() {
        let x = synth::low_rank::<f64>(50, 30, 4, 0.2, 3).x;
        let est = Nmf::new(4).solver(SolverKind::Hals).seed(11).max_iter(50);
        let all = est.fit_runs(&x, 6, true).unwrap();
        assert_eq!(all.fits.len(), 6);
        let min = all.objectives.iter().cloned().fold(f64::INFINITY, f64::min);
        assert_eq!(all.best.objective, min);
        assert_eq!(all.objectives[all.best_run], min);
        // Different seeds really give different fits.
        assert!(all.objectives.iter().any(|&o| o != min));
        // Same seed, whatever the thread count: the same runs.
        for threads in [1, 2] {
            let again = Nmf {
                threads,
                ..est.clone()
            }
            .fit_runs(&x, 6, false)
            .unwrap();
            assert_eq!(again.objectives, all.objectives);
            assert_eq!(again.best.w, all.best.w);
            assert!(again.fits.is_empty());
        }
        assert!(est.fit_runs(&x, 0, false).is_err());
    }
}
