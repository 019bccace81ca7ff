//! The engine under every standard fit: from any [`Data`] (dense, sparse,
//! weighted, distributed) and a start, build the solver and the objective
//! and hand them to the driver.

use super::{Balance, FitOptions, Input, Nmf, NmfFit};
use crate::data::{validate_data, Data, DenseData, SparseData};
use crate::driver::{self, Balancing, Convergence, LoopSettings, ProgressFn, Rule};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::init::{initialize_oriented, Init};
use crate::linalg::gemm;
use crate::matrix::Mat;
use crate::objective::{Objective, Term};
use crate::rng::seeded;
use crate::scalar::Scalar;
use crate::solver::{
    AnlsBpp, AutoFrobenius, CoordinateDescent, Factors, GreedyCd, Hals, KlCoordinateDescent,
    MultiplicativeUpdate, ProjectedGradient, Solver, SolverKind,
};
use faer::Par;
use std::time::{Duration, Instant};

/// Runs `run` on a pool's worker: the current pool when already on one
/// (and `threads` is 0), else a fresh pool of `threads` (0: all cores).
/// From outside a pool, every parallel loop would be injected into the
/// global pool by a blocked thread, which measured 10–40 % slower per
/// iteration (README).
pub(crate) fn on_pool<R: Send>(
    threads: usize,
    run: impl FnOnce() -> Result<R> + Send,
) -> Result<R> {
    if threads == 0 && rayon::current_thread_index().is_some() {
        run()
    } else {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| invalid("threads", e.to_string()))?
            .install(run)
    }
}

/// W · H for W (n×k) and H (k×m).
pub fn inverse_transform<T: Scalar>(w: &Mat<T>, h: &Mat<T>) -> Mat<T> {
    let mut out = Mat::zeros(w.nrows, h.ncols);
    let (wr, hr) = (w.as_ref(), h.as_ref());
    let (n, m) = (w.nrows, h.ncols);
    gemm(
        &mut out.data,
        n,
        m,
        wr,
        false,
        hr,
        false,
        false,
        Par::rayon(0),
    );
    out
}

impl Nmf {
    /// Fits W and H to X.
    pub fn fit<'a, T: Scalar>(&self, x: impl Into<Input<'a, T>>) -> Result<NmfFit<T>> {
        self.fit_with(x, FitOptions::default())
    }

    /// Fits from given initial factors (both W and H).
    pub fn fit_from<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        w0: &Mat<T>,
        h0: &Mat<T>,
    ) -> Result<NmfFit<T>> {
        self.fit_with(
            x,
            FitOptions {
                w0: Some(w0),
                h0: Some(h0),
                ..Default::default()
            },
        )
    }

    /// W for new rows X with H fixed (scikit-learn's `transform`).
    pub fn transform<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        h: &Mat<T>,
    ) -> Result<Mat<T>> {
        let opts = FitOptions {
            h0: Some(h),
            update_h: false,
            ..Default::default()
        };
        Ok(self.fit_with(x, opts)?.w)
    }

    /// The general entry point: custom initial factors, fixed H, progress.
    pub fn fit_with<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        let x = x.into();
        let run = || match x {
            Input::Dense(m) => {
                let d = DenseData::new(m);
                self.fit_data(&d, &d, opts)
            }
            Input::Sparse(s) => {
                let d = SparseData::new(s);
                self.fit_data(&d, &d, opts)
            }
        };
        on_pool(self.threads, run)
    }

    /// Fits X read from `src` a block of `batch_rows` rows at a time, for
    /// data larger than memory: the chosen solver's exact full-batch
    /// iterations, each product one pass over the batches
    /// ([`crate::data::StreamedData`]). Starts from the random start (SVD
    /// starts need X in memory) unless the options give the start.
    ///
    /// ```
    /// use nmfkit::{minibatch::InMemory, synth, Nmf, SolverKind, FitOptions};
    /// let p = synth::low_rank::<f64>(200, 30, 3, 0.0, 1);
    /// let est = Nmf::new(3).solver(SolverKind::Hals).max_iter(100);
    /// let fit = est.fit_source(&InMemory::new(&p.x), 64, FitOptions::default()).unwrap();
    /// assert!(fit.reconstruction_err < 1e-2 * p.x.norm());
    /// ```
    pub fn fit_source<T: Scalar>(
        &self,
        src: &dyn crate::minibatch::BatchSource<T>,
        batch_rows: usize,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        let est = match self.init {
            Init::Auto | Init::Random => self.clone().init(Init::Random),
            other if opts.w0.is_some() && opts.h0.is_some() => self.clone().init(other),
            other => {
                return Err(invalid(
                    "init",
                    format!(
                        "a streamed fit starts from random factors; {} needs X in memory",
                        other.name()
                    ),
                ))
            }
        };
        on_pool(self.threads, || {
            let d = crate::data::StreamedData::new(src, batch_rows)?;
            est.fit_data(&d, &d, opts)
        })
    }

    /// Validates, starts (initializing from `init_on` unless the options
    /// give the start) and fits `x`.
    pub(crate) fn fit_data<T: Scalar, D: Data<T>, I: Data<T>>(
        &self,
        x: &D,
        init_on: &I,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        self.validate()?;
        validate_data(x)?;
        let beta = self.loss.beta();
        if beta <= 0.0 && x.has_zero() {
            return Err(NmfError::ZerosWithNonPositiveBeta { beta });
        }
        let t0 = Instant::now();
        let (factors, init_used) = self.initial_factors(x, init_on, &opts)?;
        let init_time = t0.elapsed();
        let mut fit = self.run_from(x, factors, opts.update_h, opts.update_w, opts.progress)?;
        fit.init = init_used;
        fit.init_time = init_time;
        Ok(fit)
    }

    /// Runs the chosen solver from given factors on any [`Data`] — the door
    /// for data that lives elsewhere. With a distributed implementation,
    /// `wt` (k × rows) and `h` (k × columns) are this process's pieces: the
    /// rows of W and the columns of H it owns. Every process then calls this
    /// with the same settings and gets its pieces back as the fit's W and H
    /// (loss and objective are the whole problem's). X is not validated
    /// here: the caller does that ([`crate::data::validate_data`] for one
    /// process). Runs on the calling thread.
    ///
    /// ```
    /// use nmfkit::{synth, DenseData, Nmf, SolverKind};
    /// let p = synth::low_rank::<f64>(30, 20, 2, 0.0, 3);
    /// let start = synth::low_rank::<f64>(30, 20, 2, 0.0, 4);
    /// let est = Nmf::new(2).solver(SolverKind::Hals).max_iter(20).tol(0.0);
    /// let a = est.fit_pieces(&DenseData::new(p.x.as_ref()), start.w.transpose(), start.h.clone(), None).unwrap();
    /// let b = est.fit_from(&p.x, &start.w, &start.h).unwrap();
    /// assert_eq!(a.w, b.w);
    /// ```
    pub fn fit_pieces<T: Scalar, D: Data<T>>(
        &self,
        x: &D,
        wt: Mat<T>,
        h: Mat<T>,
        progress: Option<&mut ProgressFn<'_>>,
    ) -> Result<NmfFit<T>> {
        self.validate()?;
        if wt.nrows != self.rank || h.nrows != self.rank {
            return Err(invalid(
                "w0/h0",
                format!(
                    "pieces must have {} rows (k × rows of W, k × columns of H), got {} and {}",
                    self.rank, wt.nrows, h.nrows
                ),
            ));
        }
        self.run_from(x, Factors { wt, h }, true, true, progress)
    }

    /// The engine: solver, objective and loop settings for `x`, then the driver.
    fn run_from<T: Scalar, D: Data<T>>(
        &self,
        x: &D,
        mut factors: Factors<T>,
        update_h: bool,
        update_w: bool,
        progress: Option<&mut ProgressFn<'_>>,
    ) -> Result<NmfFit<T>> {
        let (n, m) = x.shape();
        let beta = self.loss.beta();
        let pen = self.regularization.penalties(n, m);
        // SPA keeps its chosen columns of X as the user's W: the factor
        // that is W in the problem as stored (H when stored transposed).
        let (update_w, update_h) = match self.solver {
            SolverKind::Spa if self.transposed_draws => (update_w, false),
            SolverKind::Spa => (false, update_h),
            _ => (update_w, update_h),
        };
        let both = update_w && update_h;
        let plan = self.plan((n, m), x.nnz(), x.is_sparse(), x.visits_lines(), both);
        let kind = plan.kind;
        let hals = || Hals::new(pen, self.hals_alpha, self.hals_delta, self.hals_sweeps);
        let mut solver: Box<dyn Solver<T, D>> = match kind {
            SolverKind::Hals if plan.combined => Box::new(AutoFrobenius::new(
                AnlsBpp::new(pen),
                hals(),
                plan.cost,
                plan.warm,
            )),
            SolverKind::Mu => Box::new(MultiplicativeUpdate::new(beta, pen)),
            SolverKind::Cd => Box::new(CoordinateDescent::new(
                pen,
                self.shuffle.then(|| seeded(self.seed)),
            )),
            SolverKind::Hals => Box::new(hals()),
            SolverKind::AnlsBpp | SolverKind::Spa => Box::new(AnlsBpp::new(pen)),
            SolverKind::GreedyCd => Box::new(GreedyCd::new(pen)),
            SolverKind::Pgrad => Box::new(ProjectedGradient::new(pen)),
            SolverKind::KlCd => {
                if !x.visits_lines() {
                    return Err(NmfError::Unsupported {
                        solver: "ccd",
                        what: "data it cannot read line by line (distributed data)".into(),
                    });
                }
                Box::new(KlCoordinateDescent::new(pen, 1))
            }
            SolverKind::Auto => unreachable!("the plan names a solver"),
        };
        let rule = match (self.convergence, kind) {
            // Its switches make a gradient ratio meaningless.
            _ if self.solver == SolverKind::Auto => Rule::Objective,
            (Convergence::Objective, _)
            | (Convergence::Auto, SolverKind::Mu | SolverKind::Hals)
            | (
                _,
                SolverKind::AnlsBpp
                | SolverKind::KlCd
                | SolverKind::GreedyCd
                | SolverKind::Pgrad
                | SolverKind::Spa,
            ) => Rule::Objective,
            (Convergence::Sklearn, SolverKind::Mu) => Rule::SklearnError,
            (Convergence::Sklearn | Convergence::Auto, _) => Rule::SklearnViolation,
        };
        let eval_every = match (rule, self.eval_every) {
            (Rule::SklearnError, _) => 10,
            (_, Some(e)) => e,
            (_, None) if beta == 2.0 => 1,
            (_, None) => 10,
        };
        let order = self.order();
        let settings = LoopSettings {
            max_iter: self.max_iter,
            tol: self.tol,
            rule,
            eval_every,
            factor_tol: self.factor_tol,
            time_limit: self.time_limit,
            sides: LoopSettings::sides(order, update_w, update_h),
            extrapolate: plan.extrapolate,
            // A fixed factor is never rescaled.
            balance: match (self.balance, kind) {
                _ if !(update_w && update_h) => Balancing::Off,
                (Balance::Off, _) | (Balance::Auto, SolverKind::Cd) => Balancing::Off,
                (Balance::End, _) | (Balance::Auto, SolverKind::Mu) => Balancing::End(pen),
                (Balance::Every, _) | (Balance::Auto, _) => Balancing::Every(pen),
            },
            diagnostics: self.diagnostics,
        };
        let terms: Vec<&dyn Term<T>> = if pen.is_zero() {
            Vec::new()
        } else {
            vec![&pen]
        };
        let objective = Objective {
            data_term: Box::new(|f: &Factors<T>| x.divergence(&f.wt, &f.h, beta)),
            terms,
            gradient: self.diagnostics.then(|| {
                Box::new(move |f: &Factors<T>| driver::projected_gradient(x, f, beta, &pen))
                    as crate::objective::DataTerm<'_, T>
            }),
            track: None,
        };
        let t1 = Instant::now();
        let out = driver::run(
            x,
            &mut factors,
            solver.as_mut(),
            &objective,
            &settings,
            progress,
        )?;
        let fit_time = t1.elapsed();
        let last = out.history.last().expect("the history holds the start");
        let (divergence, objective_value) = (last.divergence, last.objective);
        Ok(NmfFit {
            w: factors.wt.transpose(),
            h: factors.h,
            n_iter: out.n_iter,
            stop: out.stop,
            divergence,
            objective: objective_value,
            penalty_names: objective.names(),
            penalties: last.penalties.clone(),
            reconstruction_err: (2.0 * divergence.max(0.0)).sqrt(),
            history: out.history,
            init: None,
            init_time: Duration::ZERO,
            fit_time,
            notes: if plan.reason.is_empty() {
                Vec::new()
            } else {
                std::iter::once(plan.reason).chain(solver.notes()).collect()
            },
        })
    }

    /// The start: given factors, a fixed factor with the other filled, or
    /// the initialization computed on `init_on`.
    pub(crate) fn initial_factors<T: Scalar, D: Data<T>, I: Data<T>>(
        &self,
        x: &D,
        init_on: &I,
        opts: &FitOptions<'_, '_, T>,
    ) -> Result<(Factors<T>, Option<Init>)> {
        let (n, m) = x.shape();
        let k = self.rank;
        // scikit-learn's start of the free factor when the other is fixed:
        // √(mean/k) for mu (the observed mean for weighted data), zeros else.
        let fill = if self.runs_mu() {
            T::from_f64((x.sum() / x.weight_sum() / k as f64).sqrt())
        } else {
            T::ZERO
        };
        match (opts.update_w, opts.update_h, opts.w0, opts.h0) {
            (false, false, _, _) => Err(invalid(
                "update_h/update_w",
                "at least one factor must be updated",
            )),
            (false, true, w, _) => {
                // The mirror image of transform: W fixed, H from the fill.
                let w =
                    w.ok_or_else(|| invalid("w0", "a fixed W is required when update_w is false"))?;
                check_factor(w, (n, k), "W")?;
                let h = Mat::from_col_major(k, m, vec![fill; k * m])?;
                Ok((
                    Factors {
                        wt: w.transpose(),
                        h,
                    },
                    None,
                ))
            }
            (true, false, w, h) => {
                // scikit-learn's transform: H fixed, W from the fill (or
                // from the W given).
                let h =
                    h.ok_or_else(|| invalid("h0", "a fixed H is required when update_h is false"))?;
                check_factor(h, (k, m), "H")?;
                let wt = match w {
                    Some(w) => {
                        check_factor(w, (n, k), "W")?;
                        w.transpose()
                    }
                    None => Mat::from_col_major(k, n, vec![fill; k * n])?,
                };
                Ok((Factors { wt, h: h.clone() }, None))
            }
            (true, true, Some(w), Some(h)) => {
                check_factor(w, (n, k), "W")?;
                check_factor(h, (k, m), "H")?;
                Ok((
                    Factors {
                        wt: w.transpose(),
                        h: h.clone(),
                    },
                    None,
                ))
            }
            (true, true, None, None) => {
                // SPA's fit is its start (its columns are kept).
                let init = match (self.solver, self.init) {
                    (SolverKind::Spa, Init::Auto) => Init::Spa,
                    (_, init) => init,
                };
                let (wt, h) =
                    initialize_oriented(init_on, k, init, self.seed, self.transposed_draws)?;
                Ok((Factors { wt, h }, Some(init.resolve(k, n, m))))
            }
            _ => Err(invalid(
                "w0/h0",
                "a custom initialization needs both W and H",
            )),
        }
    }
}

/// The one check of a user-given factor: shape, sign, finiteness (naming
/// the first bad entry) and not all zero.
pub(crate) fn check_factor<T: Scalar>(
    f: &Mat<T>,
    expected: (usize, usize),
    what: &'static str,
) -> Result<()> {
    if (f.nrows, f.ncols) != expected {
        return Err(NmfError::Shape {
            what,
            got: (f.nrows, f.ncols),
            expected,
        });
    }
    if let Some((row, col, v)) = crate::data::first_bad(f.nrows, &f.data) {
        return Err(bad_entry(what, row, col, v.to_f64()));
    }
    if f.data.iter().all(|&v| v == T::ZERO) {
        return Err(NmfError::AllZero { what });
    }
    Ok(())
}

/// ‖X − WH‖_F / ‖X‖_F, without densifying sparse X (0 when X is zero).
pub fn relative_error<'a, T: Scalar>(x: impl Into<Input<'a, T>>, w: &Mat<T>, h: &Mat<T>) -> f64 {
    let wt = w.transpose();
    let (d, norm) = match x.into() {
        Input::Dense(m) => {
            let d = DenseData::new(m);
            (d.divergence(&wt, h, 2.0), d.sq_norm())
        }
        Input::Sparse(s) => {
            let d = SparseData::new(s);
            (d.divergence(&wt, h, 2.0), d.sq_norm())
        }
    };
    if norm > 0.0 {
        (2.0 * d / norm).sqrt()
    } else {
        0.0
    }
}
