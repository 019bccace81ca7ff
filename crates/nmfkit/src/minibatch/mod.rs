//! Minibatch (online) NMF for data larger than memory or arriving in a
//! stream: scikit-learn's `MiniBatchNMF` (Lefèvre, Bach & Févotte 2011)
//! on the one driver, for any β-divergence, dense or sparse rows, float32
//! or float64, from memory ([`InMemory`]) or from any reader of row blocks
//! ([`BatchSource`]).
//!
//! Each step reads `batch_size` rows, updates their rows of W with H fixed
//! and folds the batch into running statistics A and B (scaled by
//! ρ = forget_factor^(batch/n) first), H = A / B. The driver stops on
//! scikit-learn's rules: H's relative change below `tol`, or
//! `max_no_improvement` steps without a new minimum of the smoothed batch
//! cost, or `max_iter` epochs, or the time limit. Memory: the batch, W
//! (n×k), H and the two statistics (k×m each) — never X whole when the
//! source reads from disk.
//!
//! ```
//! use nmfkit::{minibatch::MiniBatchNmf, synth};
//! let p = synth::low_rank::<f64>(400, 30, 3, 0.0, 1);
//! let fit = MiniBatchNmf::new(3).batch_size(64).max_iter(300).fit(&p.x).unwrap();
//! assert!(fit.reconstruction_err < 0.05 * p.x.norm());
//! assert_eq!((fit.w.nrows, fit.h.ncols), (400, 30));
//! ```

mod online_hals;
mod passes;
mod solver;
mod source;
mod state;

pub use source::{Batch, BatchSource, InMemory};
pub use state::MiniBatchState;

use crate::builder::{setter, setter_some};
use crate::data::{validate_data, DenseData, Side, SparseData};
use crate::driver::{self, Balancing, HistoryEntry, LoopSettings, ProgressFn, Rule, StopReason};
use crate::error::{invalid, Result};
use crate::init::Init;
use crate::matrix::Mat;
use crate::model::{FitOptions, Input, Nmf};
use crate::objective::{Objective, Term};
use crate::regularization::Regularization;
use crate::scalar::Scalar;
use crate::solver::{Factors, SolverKind};
use crate::Loss;
use online_hals::OnlineHals;
pub(crate) use passes::solve_w;
use passes::{divergence_over, mean_of};
use solver::{OnlineMu, Steps, Stream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How each minibatch step updates W and H.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MiniBatchSolver {
    /// scikit-learn's online multiplicative updates, any β-divergence.
    #[default]
    Mu,
    /// Online HALS (Frobenius only): coordinate sweeps on the batch's W
    /// and on H against running statistics (Mairal et al. 2010).
    Hals,
    /// KL only: the batch's W by a sweep of `ccd`'s Newton coordinate
    /// steps (exact per coordinate, where online MU takes one
    /// multiplicative step), H from online MU's running statistics.
    Ccd,
}

/// Options of minibatch NMF, with scikit-learn's `MiniBatchNMF` defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct MiniBatchNmf {
    pub rank: usize,
    pub loss: Loss,
    /// The update of each step (scikit-learn's: multiplicative).
    pub solver: MiniBatchSolver,
    /// Rows per step (1024).
    pub batch_size: usize,
    /// Weight of the past in the statistics per epoch (0.7).
    pub forget_factor: f64,
    /// Solve each batch's W from a flat start instead of one update.
    pub fresh_restarts: bool,
    pub fresh_restarts_max_iter: usize,
    /// Updates of W in `transform` (None: `max_iter`).
    pub transform_max_iter: Option<usize>,
    /// Epochs (passes over the data).
    pub max_iter: usize,
    /// Stop when H's relative change in a step is at most this (and bound
    /// W's change in W solves); 0 disables.
    pub tol: f64,
    /// Stop after this many steps without a new minimum of the smoothed
    /// batch cost (None: never).
    pub max_no_improvement: Option<usize>,
    pub regularization: Regularization,
    pub init: Init,
    pub seed: u64,
    pub threads: usize,
    pub time_limit: Option<Duration>,
    /// Steps between evaluations of the objective on all the data (each is
    /// a pass over X); None: once per epoch.
    pub eval_every: Option<usize>,
}

impl Default for MiniBatchNmf {
    fn default() -> Self {
        MiniBatchNmf {
            rank: 2,
            loss: Loss::Frobenius,
            solver: MiniBatchSolver::Mu,
            batch_size: 1024,
            forget_factor: 0.7,
            fresh_restarts: false,
            fresh_restarts_max_iter: 30,
            transform_max_iter: None,
            max_iter: 200,
            tol: 1e-4,
            max_no_improvement: Some(10),
            regularization: Regularization::default(),
            init: Init::Auto,
            seed: 0,
            threads: 0,
            time_limit: None,
            eval_every: None,
        }
    }
}

/// The result of a minibatch fit.
#[derive(Clone, Debug)]
pub struct MiniBatchFit<T> {
    pub w: Mat<T>,
    pub h: Mat<T>,
    /// Epochs started (scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// Minibatch steps (scikit-learn's `n_steps_`).
    pub n_steps: usize,
    pub stop: StopReason,
    /// The data term on all of X at the end.
    pub divergence: f64,
    /// Divergence + penalties (scaled for all of X).
    pub objective: f64,
    /// √(2·divergence), scikit-learn's `reconstruction_err_`.
    pub reconstruction_err: f64,
    /// One record per evaluation on all of X (`iter` counts steps).
    pub history: Vec<HistoryEntry>,
    /// The statistics, for further `partial_fit` steps.
    pub state: MiniBatchState<T>,
    pub fit_time: Duration,
}

impl MiniBatchNmf {
    pub fn new(rank: usize) -> Self {
        MiniBatchNmf {
            rank,
            ..Default::default()
        }
    }
    setter!(loss: Loss);
    setter!(solver: MiniBatchSolver);
    setter!(batch_size: usize);
    setter!(forget_factor: f64);
    setter!(fresh_restarts: bool);
    setter!(fresh_restarts_max_iter: usize);
    setter!(max_iter: usize);
    setter!(tol: f64);
    setter!(regularization: Regularization);
    setter!(init: Init);
    setter!(seed: u64);
    setter!(threads: usize);
    setter_some!(time_limit: Duration);
    setter_some!(transform_max_iter: usize);
    setter_some!(eval_every: usize);
    /// Stop after `steps` steps without improvement (None: never).
    pub fn max_no_improvement(mut self, steps: Option<usize>) -> Self {
        self.max_no_improvement = steps;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.rank == 0 {
            return Err(invalid("n_components", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("batch_size", "must be at least 1"));
        }
        if !(self.forget_factor > 0.0 && self.forget_factor <= 1.0) {
            return Err(invalid(
                "forget_factor",
                format!("must be in (0, 1], got {}", self.forget_factor),
            ));
        }
        if !(self.tol >= 0.0) {
            return Err(invalid("tol", format!("must be >= 0, got {}", self.tol)));
        }
        if self.solver == MiniBatchSolver::Hals && self.loss.beta() != 2.0 {
            return Err(invalid(
                "solver",
                "'hals' needs the Frobenius loss (beta_loss=2); use 'mu' for other losses",
            ));
        }
        if self.solver == MiniBatchSolver::Ccd && self.loss.beta() != 1.0 {
            return Err(invalid(
                "solver",
                "'ccd' needs the KL loss (beta_loss=1); use 'mu' for other losses",
            ));
        }
        self.regularization.validate()
    }

    /// The standard estimator for the same loss and start (initialization
    /// and W solves).
    fn standard(&self, max_iter: usize) -> Nmf {
        let kind = match self.solver {
            MiniBatchSolver::Mu => SolverKind::Mu,
            MiniBatchSolver::Hals => SolverKind::Hals,
            MiniBatchSolver::Ccd => SolverKind::KlCd,
        };
        let mut est = Nmf::new(self.rank)
            .loss(self.loss)
            .solver(kind)
            .init(self.init)
            .seed(self.seed)
            .max_iter(max_iter)
            .tol(0.0)
            .regularization(self.regularization)
            .convergence(crate::Convergence::Objective);
        est.eval_every = Some(max_iter.max(1));
        est.factor_tol = (self.tol > 0.0).then_some(self.tol);
        est
    }

    /// Fits X held in memory, initialized as scikit-learn does (on all of X).
    pub fn fit<'a, T: Scalar>(&self, x: impl Into<Input<'a, T>>) -> Result<MiniBatchFit<T>> {
        self.fit_with(x, None, None)
    }

    /// [`fit`](MiniBatchNmf::fit) from given W and H, with progress.
    pub fn fit_with<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        start: Option<(&Mat<T>, &Mat<T>)>,
        progress: Option<&mut ProgressFn<'_>>,
    ) -> Result<MiniBatchFit<T>> {
        self.fit_stored(x.into(), false, start, progress)
    }

    /// [`fit_with`](MiniBatchNmf::fit_with) on X as stored: with
    /// `transposed`, `x` is Xᵀ (dense; X in row-major order), read in place.
    pub fn fit_stored<T: Scalar>(
        &self,
        x: Input<'_, T>,
        transposed: bool,
        start: Option<(&Mat<T>, &Mat<T>)>,
        progress: Option<&mut ProgressFn<'_>>,
    ) -> Result<MiniBatchFit<T>> {
        self.validate()?;
        let src = self.source(x, transposed)?;
        crate::model::on_pool(self.threads, || {
            let (wt, h) = self.start_on(x, transposed, start)?;
            let state = MiniBatchState::start(self.solver, h, self.rho(src.shape().0));
            self.run(&src, wt, state, progress)
        })
    }

    fn source<'a, T: Scalar>(&self, x: Input<'a, T>, transposed: bool) -> Result<InMemory<'a, T>> {
        Ok(match (x, transposed) {
            (x, false) => InMemory::new(x),
            (Input::Dense(m), true) => InMemory::of_transpose(m),
            (Input::Sparse(_), true) => {
                return Err(invalid("X", "CSR of Xᵀ: give the rows of X as CSR"))
            }
        })
    }

    /// Validates X and starts W (as Wᵀ) and H: the given ones, or the
    /// initialization on all of X (on Xᵀ with the roles swapped when so
    /// stored, as the standard fit does).
    fn start_on<T: Scalar>(
        &self,
        x: Input<'_, T>,
        transposed: bool,
        start: Option<(&Mat<T>, &Mat<T>)>,
    ) -> Result<(Mat<T>, Mat<T>)> {
        let swapped = start.map(|(w, h)| (h.transpose(), w.transpose()));
        let opts = match (transposed, &swapped) {
            (true, Some((w, h))) => FitOptions {
                w0: Some(w),
                h0: Some(h),
                ..Default::default()
            },
            _ => FitOptions {
                w0: start.map(|s| s.0),
                h0: start.map(|s| s.1),
                ..Default::default()
            },
        };
        let init = if transposed {
            self.standard(1).transposed()
        } else {
            self.standard(1)
        };
        let (f, _) = match x {
            Input::Dense(m) => {
                let d = DenseData::new(m);
                validate_data(&d)?;
                init.initial_factors(&d, &d, &opts)?
            }
            Input::Sparse(s) => {
                let d = SparseData::new(s);
                validate_data(&d)?;
                init.initial_factors(&d, &d, &opts)?
            }
        };
        Ok(if transposed { (f.h, f.wt) } else { (f.wt, f.h) })
    }

    fn rho(&self, n: usize) -> f64 {
        let batch = self.batch_size.min(n.max(1));
        self.forget_factor.powf(batch as f64 / n.max(1) as f64)
    }

    /// Fits rows read from `src`, never holding X whole: from `h0` (and
    /// `w0`, else W = √(mean(X)/k)) or scikit-learn's random start
    /// |N(0,1)|·√(mean(X)/k) for both, the same draws as the in-memory
    /// fit's (one pass first to find the mean).
    pub fn fit_source<T: Scalar>(
        &self,
        src: &dyn BatchSource<T>,
        w0: Option<&Mat<T>>,
        h0: Option<&Mat<T>>,
        progress: Option<&mut ProgressFn<'_>>,
    ) -> Result<MiniBatchFit<T>> {
        self.validate()?;
        let (n, m) = src.shape();
        if n == 0 || m == 0 {
            return Err(crate::NmfError::Empty { rows: n, cols: m });
        }
        crate::model::on_pool(self.threads, || {
            let mean = mean_of(src, self.batch_size)?;
            let k = self.rank;
            let (wt, h) = match (w0, h0) {
                (Some(w), Some(h)) => {
                    crate::model::check_factor(w, (n, k), "W")?;
                    crate::model::check_factor(h, (k, m), "H")?;
                    (w.transpose(), h.clone())
                }
                (None, Some(h)) => {
                    crate::model::check_factor(h, (k, m), "H")?;
                    let fill = T::from_f64((mean / k as f64).sqrt());
                    (Mat::from_col_major(k, n, vec![fill; k * n])?, h.clone())
                }
                (Some(_), None) => {
                    return Err(invalid("w0", "a custom start needs H (W alone is not one)"))
                }
                // The in-memory random start, draw for draw.
                (None, None) => crate::init::random_init::<T>(n, m, k, mean, self.seed, false),
            };
            let state = MiniBatchState::start(self.solver, h, self.rho(n));
            self.run(src, wt, state, progress)
        })
    }

    /// One step on X with H and the statistics of `state` (scikit-learn's
    /// `partial_fit`): W solved for X from a flat start, then H folded in.
    /// Without a state, H starts from the initialization on this X and ρ
    /// is fixed from its size.
    pub fn partial_fit<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        state: Option<MiniBatchState<T>>,
    ) -> Result<MiniBatchState<T>> {
        self.partial_fit_stored(x.into(), false, state)
    }

    /// [`partial_fit`](MiniBatchNmf::partial_fit) on X as stored (see
    /// [`fit_stored`](MiniBatchNmf::fit_stored)).
    pub fn partial_fit_stored<T: Scalar>(
        &self,
        x: Input<'_, T>,
        transposed: bool,
        state: Option<MiniBatchState<T>>,
    ) -> Result<MiniBatchState<T>> {
        self.validate()?;
        let src = self.source(x, transposed)?;
        let (n, m) = src.shape();
        let state = match state {
            Some(s) => {
                if s.h.ncols != m || s.h.nrows != self.rank {
                    return Err(invalid(
                        "X",
                        format!(
                            "has {m} columns; the model has {} features and {} components",
                            s.h.ncols, s.h.nrows
                        ),
                    ));
                }
                let k = self.rank;
                let stats = match self.solver {
                    MiniBatchSolver::Mu | MiniBatchSolver::Ccd => (k, s.h.ncols),
                    MiniBatchSolver::Hals => (k, k),
                };
                if (s.denominator.nrows, s.denominator.ncols) != stats {
                    return Err(invalid(
                        "state",
                        "its statistics are of another minibatch solver's shape",
                    ));
                }
                s
            }
            None => {
                let (_, h) =
                    crate::model::on_pool(self.threads, || self.start_on(x, transposed, None))?;
                MiniBatchState::start(self.solver, h, self.rho(n))
            }
        };
        let one = MiniBatchNmf {
            batch_size: n,
            max_iter: 1,
            fresh_restarts: true,
            fresh_restarts_max_iter: self.transform_iters(),
            eval_every: Some(1),
            ..self.clone()
        };
        let wt = Mat::zeros(self.rank, n);
        crate::model::on_pool(self.threads, || Ok(one.run(&src, wt, state, None)?.state))
    }

    fn transform_iters(&self) -> usize {
        self.transform_max_iter.unwrap_or(self.max_iter)
    }

    /// W for rows X with H fixed: multiplicative updates from a flat
    /// start until W's relative change is below `tol` (scikit-learn's
    /// `MiniBatchNMF.transform`).
    pub fn transform<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        h: &Mat<T>,
    ) -> Result<Mat<T>> {
        let mut est = self.standard(self.transform_iters());
        est.threads = self.threads;
        est.transform(x, h)
    }

    /// The loop: one driver iteration per step, `max_iter` epochs.
    fn run<T: Scalar>(
        &self,
        src: &dyn BatchSource<T>,
        wt: Mat<T>,
        state: MiniBatchState<T>,
        progress: Option<&mut ProgressFn<'_>>,
    ) -> Result<MiniBatchFit<T>> {
        let t0 = Instant::now();
        let (n, m) = src.shape();
        let batch_size = self.batch_size.min(n);
        let per_epoch = n.div_ceil(batch_size);
        let beta = self.loss.beta();
        let problem = Stream { src };
        let failed = Mutex::new(None);
        let pen = self.regularization.penalties(n, m);
        let data_term = |f: &Factors<T>| -> f64 {
            match divergence_over(src, batch_size, f, beta) {
                Ok(v) => v,
                Err(e) => {
                    failed.lock().expect("no panics hold it").get_or_insert(e);
                    f64::NAN
                }
            }
        };
        let terms: Vec<&dyn Term<T>> = if pen.is_zero() {
            Vec::new()
        } else {
            vec![&pen]
        };
        let objective = Objective {
            data_term: Box::new(data_term),
            terms,
            gradient: None,
            track: None,
        };
        let settings = LoopSettings {
            max_iter: self.max_iter.saturating_mul(per_epoch),
            tol: self.tol,
            rule: Rule::Minibatch {
                n_samples: n,
                max_no_improvement: self.max_no_improvement,
            },
            eval_every: self.eval_every.unwrap_or(per_epoch).max(1),
            factor_tol: None,
            time_limit: self.time_limit,
            sides: vec![Side::W, Side::H],
            extrapolate: false,
            balance: Balancing::Off,
            diagnostics: false,
        };
        let mut f = Factors {
            wt,
            h: state.h.clone(),
        };
        let steps = Steps::new(batch_size, state);
        let (mut mu, mut hals) = (None, None);
        let solver: &mut dyn crate::solver::Solver<T, Stream<'_, T>> = match self.solver {
            MiniBatchSolver::Mu | MiniBatchSolver::Ccd => mu.insert(OnlineMu {
                beta,
                regularization: self.regularization,
                fresh: (self.fresh_restarts).then(|| self.standard(self.fresh_restarts_max_iter)),
                newton_w: self.solver == MiniBatchSolver::Ccd,
                steps,
            }),
            MiniBatchSolver::Hals => hals.insert(OnlineHals {
                regularization: self.regularization,
                fresh_sweeps: (self.fresh_restarts).then_some(self.fresh_restarts_max_iter.max(1)),
                steps,
            }),
        };
        let out = driver::run(&problem, &mut f, solver, &objective, &settings, progress);
        let state = mu
            .map(|s| s.steps.state)
            .or(hals.map(|s| s.steps.state))
            .expect("one of the solvers ran");
        if let Some(e) = failed.lock().expect("no panics hold it").take() {
            return Err(e);
        }
        let out = out?;
        if self.fresh_restarts {
            // scikit-learn's final W: solved for every row with the last H,
            // from √(mean/k) of all of X (one more pass to find the mean).
            let est = self.standard(self.transform_iters());
            let (k, step) = (self.rank, batch_size);
            let fill = T::from_f64((mean_of(src, step)? / k as f64).sqrt());
            for start in (0..n).step_by(step) {
                let end = (start + step).min(n);
                let b = src.rows(start, end)?;
                let wb = solve_w(&b, &f.h, &est, Some(fill))?;
                f.wt.data[start * k..end * k].copy_from_slice(&wb.data);
            }
        }
        // The last record measured these factors unless W was re-solved.
        let divergence = match out.history.last() {
            Some(e) if e.iter == out.n_iter && !self.fresh_restarts => e.divergence,
            _ => divergence_over(src, batch_size, &f, beta)?,
        };
        let penalty: f64 = objective.penalties(&problem, &f).iter().sum();
        let n_steps = state.n_steps;
        Ok(MiniBatchFit {
            w: f.wt.transpose(),
            n_iter: n_steps
                .div_ceil(per_epoch)
                .max(out.n_iter.div_ceil(per_epoch)),
            n_steps,
            stop: out.stop,
            divergence,
            objective: divergence + penalty,
            reconstruction_err: (2.0 * divergence.max(0.0)).sqrt(),
            history: out.history,
            h: f.h,
            state,
            fit_time: t0.elapsed(),
        })
    }
}
