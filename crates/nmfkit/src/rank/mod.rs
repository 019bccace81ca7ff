//! Choosing the rank: many runs per rank, their consensus, and the
//! measures R's NMF package reports (Brunet et al. 2004; Kim & Park 2007;
//! Hutchins et al. 2008 for the cophenetic correlation).
//!
//! For every rank, `n_runs` fits from seeds derived from one seed; from
//! each run only its objective, its clustering (every item's largest
//! component) and the best fit so far are kept, so memory is the consensus
//! triangle plus one fit.

mod consensus;
mod cv;
mod linkage;
mod randomize;

pub use consensus::{col_argmax, row_argmax, Consensus};
pub use cv::{cross_validation_error, cross_validation_error_sparse};
pub use linkage::{average_linkage, silhouette, Dendrogram, Merge};
pub use randomize::{randomized_dense, randomized_sparse};

use crate::error::{invalid, Result};
use crate::metrics::component_sparseness;
use crate::model::{relative_error, Input, Nmf, NmfFit};
use crate::runs::run_seeds;
use crate::scalar::Scalar;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// What the consensus clusters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClusterAxis {
    /// The samples (rows of X), each by its largest entry in W.
    #[default]
    Rows,
    /// The features (columns of X), each by its largest entry in H — R's
    /// NMF package's samples when X is genes × samples.
    Columns,
}

impl ClusterAxis {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "rows" | "samples" => Ok(ClusterAxis::Rows),
            "columns" | "cols" | "features" => Ok(ClusterAxis::Columns),
            _ => Err(invalid(
                "cluster axis",
                format!("'{s}' is not one of rows, columns"),
            )),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ClusterAxis::Rows => "rows",
            ClusterAxis::Columns => "columns",
        }
    }
}

/// Options of a rank survey.
#[derive(Clone, Copy, Default)]
pub struct SurveyOptions<'a> {
    /// Runs per rank (at least 2 for a meaningful consensus).
    pub n_runs: usize,
    pub axis: ClusterAxis,
    /// Set it to stop: runs not yet started are skipped, the running ones
    /// stop at their next iteration, and the ranks finished so far are kept.
    pub cancel: Option<&'a AtomicBool>,
    /// Called after every finished run with (rank, runs done at this rank).
    pub on_run: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// Cross-validation folds per rank (0: none); dense data only.
    pub cv_folds: usize,
    /// Share of the entries each fold holds out (0: 0.1).
    pub cv_fraction: f64,
}

/// The measures of one rank. Those of a single fit (explained variance,
/// residual, sparseness) are of the best run.
#[derive(Clone, Debug, PartialEq)]
pub struct RankStats {
    pub rank: usize,
    pub runs: usize,
    pub best_objective: f64,
    pub mean_objective: f64,
    /// 1 − ‖X − WH‖²_F / ‖X‖²_F.
    pub explained_variance: f64,
    /// ‖X − WH‖_F / ‖X‖_F.
    pub relative_error: f64,
    /// Mean Hoyer sparseness of W's columns and of H's rows.
    pub sparseness_w: f64,
    pub sparseness_h: f64,
    /// Correlation of the consensus distances with the average-linkage tree's.
    pub cophenetic: f64,
    pub dispersion: f64,
    /// Mean silhouette width of the tree cut into `rank` clusters, under
    /// the consensus distance.
    pub silhouette: f64,
    pub mean_iterations: f64,
    /// Wall time of the runs divided by their number.
    pub seconds_per_run: f64,
    /// Held-out relative error of [`cross_validation_error`], when asked.
    pub cv_error: Option<f64>,
}

/// Everything known about one rank.
#[derive(Clone, Debug)]
pub struct RankResult<T> {
    pub stats: RankStats,
    pub consensus: Consensus,
    /// The items in the average-linkage tree's leaf order.
    pub order: Vec<usize>,
    /// Each item's cluster from cutting the tree into `rank` clusters.
    pub clusters: Vec<usize>,
    /// The average-linkage tree of the consensus (1 − consensus as the
    /// distance).
    pub tree: Dendrogram,
    pub best: NmfFit<T>,
}

/// Seeds of the runs at `rank`: derived from the seed and the rank, so a
/// rank's runs do not depend on which other ranks are surveyed.
fn rank_seeds(seed: u64, rank: usize, n_runs: usize) -> Vec<u64> {
    let mixed = run_seeds(seed ^ (rank as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93), 1)[0];
    run_seeds(mixed, n_runs)
}

/// The share of entries each fold holds out (0 means the default 0.1).
fn cv_fraction(opts: &SurveyOptions) -> f64 {
    if opts.cv_fraction > 0.0 {
        opts.cv_fraction
    } else {
        0.1
    }
}

impl Nmf {
    /// The estimator of the cross-validation fits: a random start where
    /// the start is automatic (a masked fit has no SVD of X).
    fn cv_estimator(&self) -> Nmf {
        Nmf {
            init: if self.init == crate::Init::Auto {
                crate::Init::Random
            } else {
                self.init
            },
            ..self.clone()
        }
    }

    fn cv_seed(&self) -> u64 {
        rank_seeds(self.seed ^ 0xC055_7A11_DA7E, self.rank, 1)[0]
    }

    /// `n_runs` fits at this estimator's rank, their consensus and measures.
    /// `None` when cancelled.
    ///
    /// ```
    /// use nmfkit::{rank::SurveyOptions, synth, Nmf, SolverKind};
    /// let x = synth::clustered::<f64>(40, 30, 3, 0.05, 1).x;
    /// let opts = SurveyOptions { n_runs: 5, ..Default::default() };
    /// let r = Nmf::new(3).solver(SolverKind::Hals).seed(1).survey_rank(&x, &opts).unwrap().unwrap();
    /// assert!(r.stats.cophenetic > 0.9);
    /// assert_eq!(r.consensus.get(0, 0), 1.0);
    /// ```
    pub fn survey_rank<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        opts: &SurveyOptions<'_>,
    ) -> Result<Option<RankResult<T>>> {
        let x = x.into();
        if opts.n_runs == 0 {
            return Err(invalid("n_runs", "must be at least 1"));
        }
        let (n, m) = x.shape();
        let items = match opts.axis {
            ClusterAxis::Rows => n,
            ClusterAxis::Columns => m,
        };
        let t0 = Instant::now();
        let seeds = rank_seeds(self.seed, self.rank, opts.n_runs);
        let done = AtomicUsize::new(0);
        let best = std::sync::Mutex::new(None::<(usize, NmfFit<T>)>);
        let kept = self.map_runs(x, &seeds, opts.cancel, |i, fit| {
            let labels = match opts.axis {
                ClusterAxis::Rows => row_argmax(&fit.w),
                ClusterAxis::Columns => col_argmax(&fit.h),
            };
            let summary = (fit.objective, fit.n_iter, labels);
            let mut b = best.lock().unwrap_or_else(|p| p.into_inner());
            let better = match &*b {
                None => true,
                Some((j, f)) => {
                    fit.objective < f.objective || (fit.objective == f.objective && i < *j)
                }
            };
            if better {
                *b = Some((i, fit));
            }
            drop(b);
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(f) = opts.on_run {
                f(self.rank, d);
            }
            summary
        })?;
        if kept.iter().any(|k| k.is_none()) {
            return Ok(None);
        }
        let seconds_per_run = t0.elapsed().as_secs_f64() / opts.n_runs as f64;
        let Some((_, best)) = best.into_inner().unwrap_or_else(|p| p.into_inner()) else {
            return Ok(None);
        };
        let mut consensus = Consensus::new(items);
        let (mut sum_obj, mut sum_iter) = (0.0, 0.0);
        for (obj, iters, labels) in kept.into_iter().flatten() {
            sum_obj += obj;
            sum_iter += iters as f64;
            consensus.add(&labels);
        }
        let mut dist = consensus.distances();
        let tree = average_linkage(items, &mut dist);
        drop(dist);
        let distance = |i: usize, j: usize| 1.0 - consensus.get(i, j);
        let clusters = tree.cut(self.rank);
        let rel = relative_error(x, &best.w, &best.h);
        let (sparseness_w, sparseness_h) = component_sparseness(&best.w, &best.h);
        let runs = opts.n_runs as f64;
        let cv_error = match (opts.cv_folds, x) {
            (0, _) => None,
            (folds, Input::Dense(xd)) => {
                let xd = xd.to_owned().cast::<f64>();
                Some(cross_validation_error(
                    &self.cv_estimator(),
                    xd.as_ref(),
                    folds,
                    cv_fraction(opts),
                    self.cv_seed(),
                )?)
            }
            (folds, Input::Sparse(xs)) => {
                let xs = xs.cast::<f64>();
                Some(cross_validation_error_sparse(
                    &self.cv_estimator(),
                    &xs,
                    folds,
                    cv_fraction(opts),
                    self.cv_seed(),
                )?)
            }
        };
        let stats = RankStats {
            rank: self.rank,
            runs: opts.n_runs,
            best_objective: best.objective,
            mean_objective: sum_obj / runs,
            explained_variance: 1.0 - rel * rel,
            relative_error: rel,
            sparseness_w,
            sparseness_h,
            cophenetic: tree.cophenetic_correlation(distance),
            dispersion: consensus.dispersion(),
            silhouette: silhouette(&clusters, distance),
            mean_iterations: sum_iter / runs,
            seconds_per_run,
            cv_error,
        };
        Ok(Some(RankResult {
            stats,
            order: tree.leaf_order(),
            clusters,
            consensus,
            tree,
            best,
        }))
    }

    /// [`survey_rank`](Nmf::survey_rank) at every rank of `ranks` (this
    /// estimator's other options apply to all), handing each rank's full
    /// result to `each` (to plot its consensus, say) and keeping the
    /// measures. Stops early, keeping the ranks done, when cancelled.
    ///
    /// ```
    /// use nmfkit::{rank::SurveyOptions, synth, Nmf, SolverKind};
    /// let x = synth::clustered::<f64>(40, 30, 3, 0.05, 1).x;
    /// let opts = SurveyOptions { n_runs: 5, ..Default::default() };
    /// let est = Nmf::new(1).solver(SolverKind::Hals).seed(1);
    /// let table = est.survey(&x, &[2, 3, 4], &opts, |_| {}).unwrap();
    /// assert_eq!(table.len(), 3);
    /// ```
    pub fn survey<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        ranks: &[usize],
        opts: &SurveyOptions<'_>,
        mut each: impl FnMut(&RankResult<T>),
    ) -> Result<Vec<RankStats>> {
        let x = x.into();
        if ranks.is_empty() {
            return Err(invalid("ranks", "give at least one rank"));
        }
        let mut out = Vec::with_capacity(ranks.len());
        for &k in ranks {
            let est = Nmf {
                rank: k,
                ..self.clone()
            };
            match est.survey_rank(x, opts)? {
                Some(r) => {
                    each(&r);
                    out.push(r.stats);
                }
                None => break,
            }
        }
        Ok(out)
    }
}

/// A suggestion, not a verdict: among the ranks whose cophenetic
/// correlation is within 0.01 of the best (Brunet et al.'s measure, which
/// saturates near 1 once runs agree), the one with the largest dispersion
/// (Kim & Park's, which also drops when a cluster is split at random);
/// ties go to the lower rank. Rank 1 is never suggested: one cluster is
/// consensus by construction (cophenetic and dispersion are 1 there).
pub fn suggested_rank(table: &[RankStats]) -> Option<usize> {
    let table: Vec<&RankStats> = table.iter().filter(|s| s.rank >= 2).collect();
    let best = table
        .iter()
        .map(|s| s.cophenetic)
        .fold(f64::NEG_INFINITY, f64::max);
    table
        .iter()
        .filter(|s| s.cophenetic >= best - 0.01)
        .fold(None::<&RankStats>, |b, &s| match b {
            Some(b) if b.dispersion >= s.dispersion => Some(b),
            _ => Some(s),
        })
        .map(|s| s.rank)
}

#[cfg(test)]
mod tests;
