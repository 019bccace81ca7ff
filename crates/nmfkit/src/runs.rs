//! Many independent fits from seeds derived from one seed, keeping the best
//! (the building block of consensus clustering and rank selection).

use crate::error::{invalid, Result};
use crate::init::Init;
use crate::model::{Input, Nmf, NmfFit};
use crate::scalar::Scalar;
use rayon::prelude::*;

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
        if n_runs == 0 {
            return Err(invalid("n_runs", "must be at least 1"));
        }
        let x = x.into();
        let (n, m) = x.shape();
        let seeds = run_seeds(self.seed, n_runs);
        let base = Nmf {
            init: if self.init == Init::Auto {
                Init::Random
            } else {
                self.init
            },
            ..self.clone()
        };
        let small = (n as f64) * (m as f64) * (self.rank as f64) <= SMALL_FIT;
        let one = |s: u64, threads: usize| {
            Nmf {
                seed: s,
                threads,
                ..base.clone()
            }
            .fit(x)
        };
        let fits: Vec<Result<NmfFit<T>>> = if small {
            seeds.par_iter().map(|&s| one(s, 1)).collect()
        } else {
            seeds.iter().map(|&s| one(s, self.threads)).collect()
        };
        let mut fits = fits.into_iter().collect::<Result<Vec<_>>>()?;
        let objectives: Vec<f64> = fits.iter().map(|f| f.objective).collect();
        let best_run = objectives
            .iter()
            .enumerate()
            .fold(0, |b, (i, &o)| if o < objectives[b] { i } else { b });
        let best = if keep_all {
            fits[best_run].clone()
        } else {
            fits.swap_remove(best_run)
        };
        if !keep_all {
            fits.clear();
        }
        Ok(Runs {
            best,
            best_run,
            seeds,
            objectives,
            fits,
        })
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
