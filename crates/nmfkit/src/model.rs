//! The user-facing estimator: options, validation, `fit`, `transform`.

use crate::data::{validate_data, CsrMatrix, Data, DenseData, SparseData};
use crate::driver::{
    self, Convergence, HistoryEntry, LoopSettings, ProgressFn, Rule, StopReason, UpdateOrder,
};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::init::{initialize_oriented, Init};
use crate::linalg::gemm;
use crate::loss::{beta_divergence, Loss};
use crate::matrix::{Mat, MatRef};
use crate::regularization::Regularization;
use crate::rng::seeded;
use crate::scalar::Scalar;
use crate::solver::{
    AnlsBpp, CoordinateDescent, Factors, Hals, MultiplicativeUpdate, Solver, SolverKind,
};
use faer::Par;
use std::time::{Duration, Instant};

/// The data to factorize: dense (column-major) or sparse CSR.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a, T> {
    Dense(MatRef<'a, T>),
    Sparse(&'a CsrMatrix<T>),
}

impl<'a, T: Scalar> From<&'a Mat<T>> for Input<'a, T> {
    fn from(m: &'a Mat<T>) -> Self {
        Input::Dense(m.as_ref())
    }
}
impl<'a, T: Scalar> From<MatRef<'a, T>> for Input<'a, T> {
    fn from(m: MatRef<'a, T>) -> Self {
        Input::Dense(m)
    }
}
impl<'a, T: Scalar> From<&'a CsrMatrix<T>> for Input<'a, T> {
    fn from(m: &'a CsrMatrix<T>) -> Self {
        Input::Sparse(m)
    }
}

impl<T: Scalar> Input<'_, T> {
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Input::Dense(m) => (m.nrows, m.ncols),
            Input::Sparse(s) => (s.nrows(), s.ncols()),
        }
    }
}

/// Options of a factorization X (n×m) ≈ W (n×k) · H (k×m).
///
/// ```
/// use nmfkit::{Mat, Nmf, SolverKind, Loss};
/// // A 6×4 matrix of rank 2.
/// let w0 = Mat::from_rows(&[vec![1.0, 0.0], vec![0.5, 1.0], vec![0.0, 2.0],
///                           vec![1.0, 1.0], vec![2.0, 0.1], vec![0.3, 0.7]]).unwrap();
/// let h0 = Mat::from_rows(&[vec![1.0, 0.0, 2.0, 1.0], vec![0.0, 1.0, 1.0, 3.0]]).unwrap();
/// let x = Mat::from_fn(6, 4, |i, j| (0..2).map(|t| w0.get(i, t) * h0.get(t, j)).sum::<f64>());
/// let fit = Nmf::new(2).solver(SolverKind::Hals).max_iter(500).tol(1e-12).fit(&x).unwrap();
/// assert!(fit.reconstruction_err < 1e-4 * x.norm());
/// assert_eq!(fit.w.nrows, 6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Nmf {
    pub rank: usize,
    pub loss: Loss,
    pub solver: SolverKind,
    pub init: Init,
    pub seed: u64,
    pub max_iter: usize,
    pub tol: f64,
    pub convergence: Convergence,
    /// Evaluate the objective every this many iterations (`None`: every
    /// iteration when it is free — Frobenius — and every 10 otherwise).
    pub eval_every: Option<usize>,
    /// Also stop when the factors' relative change per iteration is below this.
    pub factor_tol: Option<f64>,
    pub time_limit: Option<Duration>,
    pub regularization: Regularization,
    /// Random component order in every `cd` sweep.
    pub shuffle: bool,
    /// Threads for this fit (0: all cores).
    pub threads: usize,
    /// `None`: H first for `mu` (Lee & Seung), W first for `cd` and `hals`.
    pub update_order: Option<UpdateOrder>,
    /// Accelerated HALS: inner sweeps may cost up to α × the products…
    pub hals_alpha: f64,
    /// …and stop once they move the factor by less than δ × the first sweep.
    pub hals_delta: f64,
    /// Fix the number of HALS sweeps per half-step instead (before δ's
    /// early stop). The α rule counts stored entries, so dense and sparse
    /// copies of the same data may sweep a different number of times.
    pub hals_sweeps: Option<usize>,
    /// Extrapolate the iterates (Ang & Gillis 2019) for the Frobenius loss
    /// with `hals`: each half-step starts from the other
    /// factor pushed along its last move; a step that would raise the
    /// objective is redone without it.
    pub extrapolate: bool,
    /// X is the transpose of the user's matrix (row-major data read in
    /// place): random starts are drawn in the user's order, so both layouts
    /// of the same data start alike.
    pub transposed_draws: bool,
}

impl Default for Nmf {
    fn default() -> Self {
        Nmf {
            rank: 2,
            loss: Loss::Frobenius,
            solver: SolverKind::Cd,
            init: Init::Auto,
            seed: 0,
            max_iter: 200,
            tol: 1e-4,
            convergence: Convergence::Auto,
            eval_every: None,
            factor_tol: None,
            time_limit: None,
            regularization: Regularization::default(),
            shuffle: false,
            threads: 0,
            update_order: None,
            hals_alpha: 0.5,
            hals_delta: 0.1,
            hals_sweeps: None,
            extrapolate: false,
            transposed_draws: false,
        }
    }
}

/// The result of a fit.
#[derive(Clone, Debug)]
pub struct NmfFit<T> {
    /// n×k.
    pub w: Mat<T>,
    /// k×m (scikit-learn's `components_`).
    pub h: Mat<T>,
    pub n_iter: usize,
    pub stop: StopReason,
    /// The β-divergence at the end.
    pub loss: f64,
    /// Loss + penalties at the end.
    pub objective: f64,
    /// sqrt(2 · loss), scikit-learn's `reconstruction_err_`.
    pub reconstruction_err: f64,
    pub history: Vec<HistoryEntry>,
    /// The initialization actually used.
    pub init: Option<Init>,
    pub init_time: Duration,
    pub fit_time: Duration,
}

impl<T: Scalar> NmfFit<T> {
    pub fn converged(&self) -> bool {
        self.stop.converged()
    }

    /// W · H.
    pub fn reconstruct(&self) -> Mat<T> {
        inverse_transform(&self.w, &self.h)
    }
}

/// Extra inputs of [`Nmf::fit_with`].
pub struct FitOptions<'a, 'p, T> {
    /// Initial W (n×k); with `h0`, replaces the initialization.
    pub w0: Option<&'a Mat<T>>,
    /// Initial H (k×m); with `update_h = false` it is kept fixed.
    pub h0: Option<&'a Mat<T>>,
    pub update_h: bool,
    /// With `false`, W (given as `w0`) is kept fixed and only H is fitted —
    /// the transform of the transposed problem.
    pub update_w: bool,
    pub progress: Option<&'a mut ProgressFn<'p>>,
}

impl<T> Default for FitOptions<'_, '_, T> {
    fn default() -> Self {
        FitOptions {
            w0: None,
            h0: None,
            update_h: true,
            update_w: true,
            progress: None,
        }
    }
}

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
    gemm(
        &mut out.data,
        w.nrows,
        h.ncols,
        w.as_ref(),
        false,
        h.as_ref(),
        false,
        false,
        Par::rayon(0),
    );
    out
}

macro_rules! setter {
    ($(#[$m:meta])* $name:ident: $t:ty) => {
        $(#[$m])*
        pub fn $name(mut self, v: $t) -> Self {
            self.$name = v;
            self
        }
    };
}

impl Nmf {
    /// Default options for rank `k`.
    pub fn new(rank: usize) -> Self {
        Nmf {
            rank,
            ..Default::default()
        }
    }

    setter!(loss: Loss);
    setter!(solver: SolverKind);
    setter!(init: Init);
    setter!(seed: u64);
    setter!(max_iter: usize);
    setter!(tol: f64);
    setter!(convergence: Convergence);
    setter!(shuffle: bool);
    setter!(threads: usize);
    setter!(regularization: Regularization);
    setter!(extrapolate: bool);

    pub fn eval_every(mut self, n: usize) -> Self {
        self.eval_every = Some(n);
        self
    }
    pub fn factor_tol(mut self, t: f64) -> Self {
        self.factor_tol = Some(t);
        self
    }
    pub fn time_limit(mut self, d: Duration) -> Self {
        self.time_limit = Some(d);
        self
    }
    pub fn update_order(mut self, o: UpdateOrder) -> Self {
        self.update_order = Some(o);
        self
    }

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
        Ok(self
            .fit_with(
                x,
                FitOptions {
                    h0: Some(h),
                    update_h: false,
                    ..Default::default()
                },
            )?
            .w)
    }

    /// The general entry point: custom initial factors, fixed H, progress.
    pub fn fit_with<'a, T: Scalar>(
        &self,
        x: impl Into<Input<'a, T>>,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        let x = x.into();
        let run = || match x {
            Input::Dense(m) => self.fit_data(&DenseData::new(m), opts),
            Input::Sparse(s) => self.fit_data(&SparseData::new(s), opts),
        };
        on_pool(self.threads, run)
    }

    fn validate(&self) -> Result<()> {
        if self.rank == 0 {
            return Err(NmfError::ZeroRank);
        }
        if self.max_iter == 0 {
            return Err(invalid("max_iter", "must be at least 1"));
        }
        if !(self.tol >= 0.0) || !self.tol.is_finite() {
            return Err(invalid(
                "tol",
                format!("must be a finite value >= 0, got {}", self.tol),
            ));
        }
        if self.eval_every == Some(0) {
            return Err(invalid("eval_every", "must be at least 1"));
        }
        if let Some(ft) = self.factor_tol {
            if !(ft >= 0.0) {
                return Err(invalid("factor_tol", format!("must be >= 0, got {ft}")));
            }
        }
        if !(self.hals_alpha >= 0.0) || !(0.0..=1.0).contains(&self.hals_delta) {
            return Err(invalid(
                "hals_alpha/hals_delta",
                "need alpha >= 0 and delta in [0, 1]",
            ));
        }
        self.regularization.validate()?;
        if self.extrapolate && (self.loss != Loss::Frobenius || self.solver != SolverKind::Hals) {
            // MU could never revive the entries a push sets to zero, and
            // ANLS measured slower with it (bench/run.sh: its exact steps
            // leave the accepted, extrapolated factor far from optimal).
            return Err(NmfError::Unsupported {
                solver: self.solver.name(),
                what: format!(
                    "extrapolation with the {} loss (it takes hals and the Frobenius loss)",
                    self.loss.name()
                ),
            });
        }
        if self.solver != SolverKind::Mu && self.loss != Loss::Frobenius {
            return Err(NmfError::Unsupported {
                solver: self.solver.name(),
                what: format!("the {} loss (use solver mu)", self.loss.name()),
            });
        }
        Ok(())
    }

    fn fit_data<T: Scalar, D: Data<T>>(
        &self,
        x: &D,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        self.validate()?;
        validate_data(x)?;
        let beta = self.loss.beta();
        if beta <= 0.0 && x.has_zero() {
            return Err(NmfError::ZerosWithNonPositiveBeta { beta });
        }

        let t0 = Instant::now();
        let (factors, init_used) = self.initial_factors(x, &opts)?;
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
        let mut solver: Box<dyn Solver<T, D>> = match self.solver {
            SolverKind::Mu => Box::new(MultiplicativeUpdate::new(beta, pen)),
            SolverKind::Cd => Box::new(CoordinateDescent::new(
                pen,
                self.shuffle.then(|| seeded(self.seed)),
            )),
            SolverKind::Hals => Box::new(Hals::new(
                pen,
                self.hals_alpha,
                self.hals_delta,
                self.hals_sweeps,
            )),
            SolverKind::AnlsBpp => Box::new(AnlsBpp::new(pen)),
        };
        let rule = match (self.convergence, self.solver) {
            (Convergence::Objective, _)
            | (Convergence::Auto, SolverKind::Mu | SolverKind::Hals)
            | (_, SolverKind::AnlsBpp) => Rule::Objective,
            (Convergence::Sklearn, SolverKind::Mu) => Rule::SklearnError,
            (Convergence::Sklearn | Convergence::Auto, _) => Rule::SklearnViolation,
        };
        let eval_every = match (rule, self.eval_every) {
            (Rule::SklearnError, _) => 10,
            (_, Some(e)) => e,
            (_, None) if beta == 2.0 => 1,
            (_, None) => 10,
        };
        let order = self.update_order.unwrap_or(match self.solver {
            SolverKind::Mu => UpdateOrder::HThenW,
            _ => UpdateOrder::WThenH,
        });
        let settings = LoopSettings {
            max_iter: self.max_iter,
            tol: self.tol,
            rule,
            eval_every,
            factor_tol: self.factor_tol,
            time_limit: self.time_limit,
            order,
            update_h,
            update_w,
            beta,
            pen,
            extrapolate: self.extrapolate,
        };
        let t1 = Instant::now();
        let out = driver::run(x, &mut factors, solver.as_mut(), &settings, progress)?;
        let fit_time = t1.elapsed();

        let loss = beta_divergence(x, &factors.wt, &factors.h, beta);
        let objective = loss + driver::penalty_value(x, &pen, &factors);
        Ok(NmfFit {
            w: factors.wt.transpose(),
            h: factors.h,
            n_iter: out.n_iter,
            stop: out.stop,
            loss,
            objective,
            reconstruction_err: (2.0 * loss.max(0.0)).sqrt(),
            history: out.history,
            init: None,
            init_time: Duration::ZERO,
            fit_time,
        })
    }

    fn initial_factors<T: Scalar, D: Data<T>>(
        &self,
        x: &D,
        opts: &FitOptions<'_, '_, T>,
    ) -> Result<(Factors<T>, Option<Init>)> {
        let (n, m) = x.shape();
        let k = self.rank;
        let fill = |solver: SolverKind| match solver {
            SolverKind::Mu => T::from_f64((x.sum() / (n as f64 * m as f64) / k as f64).sqrt()),
            _ => T::ZERO,
        };
        if !opts.update_h && !opts.update_w {
            return Err(invalid(
                "update_h/update_w",
                "at least one factor must be updated",
            ));
        }
        if !opts.update_w {
            // The mirror image of transform: W fixed, H from a constant or zeros.
            let w = opts
                .w0
                .ok_or_else(|| invalid("w0", "a fixed W is required when update_w is false"))?;
            check_factor(w, (n, k), "W")?;
            let h = Mat::from_col_major(k, m, vec![fill(self.solver); k * m])?;
            return Ok((
                Factors {
                    wt: w.transpose(),
                    h,
                },
                None,
            ));
        }
        if !opts.update_h {
            // scikit-learn's transform: H fixed, W from a constant (mu) or zeros.
            let h = opts
                .h0
                .ok_or_else(|| invalid("h0", "a fixed H is required when update_h is false"))?;
            check_factor(h, (k, m), "H")?;
            let wt = Mat::from_col_major(k, n, vec![fill(self.solver); k * n])?;
            return Ok((Factors { wt, h: h.clone() }, None));
        }
        match (opts.w0, opts.h0) {
            (Some(w), Some(h)) => {
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
            (None, None) => {
                let (wt, h) =
                    initialize_oriented(x, k, self.init, self.seed, self.transposed_draws)?;
                Ok((Factors { wt, h }, Some(self.init.resolve(k, n, m))))
            }
            _ => Err(invalid(
                "w0/h0",
                "a custom initialization needs both W and H",
            )),
        }
    }
}

/// Shape, sign, finiteness and non-zero checks of a user-given factor.
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
        let value = v.to_f64();
        return Err(bad_entry(what, row, col, value));
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
            (beta_divergence(&d, &wt, h, 2.0), d.sq_norm())
        }
        Input::Sparse(s) => {
            let d = SparseData::new(s);
            (beta_divergence(&d, &wt, h, 2.0), d.sq_norm())
        }
    };
    if norm > 0.0 {
        (2.0 * d / norm).sqrt()
    } else {
        0.0
    }
}
