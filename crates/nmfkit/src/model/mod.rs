//! The user-facing estimator: its options ([`Nmf`]), inputs and result.
//! The fits themselves are in `fit.rs` (plain data), `weighted.rs`
//! (weighted and missing entries) and `oriented.rs` (data given as its
//! transpose); all of them run the one engine of `fit.rs`.

mod auto;
mod fit;
mod oriented;
mod weighted;

pub(crate) use fit::{check_factor, on_pool};
pub use fit::{inverse_transform, relative_error};

use crate::builder::{setter, setter_some};
use crate::data::{Csr, CsrMatrix};
use crate::driver::{Convergence, HistoryEntry, ProgressFn, StopReason, UpdateOrder};
use crate::error::{invalid, NmfError, Result};
use crate::init::Init;
use crate::loss::Loss;
use crate::matrix::{Mat, MatRef};
use crate::regularization::Regularization;
use crate::scalar::Scalar;
use crate::solver::SolverKind;
use std::time::Duration;

/// The data to factorize: dense (column-major) or sparse CSR.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a, T> {
    Dense(MatRef<'a, T>),
    /// CSR, owned or read in place ([`Csr::borrowed`]).
    Sparse(&'a Csr<'a, T>),
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
impl<'a, 'b: 'a, T: Scalar> From<&'a Csr<'b, T>> for Input<'a, T> {
    fn from(m: &'a Csr<'b, T>) -> Self {
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

    /// Checks for emptiness, negative and non-finite entries.
    pub fn validate(&self) -> Result<()> {
        match self {
            Input::Dense(m) => crate::data::validate_data(&crate::DenseData::new(*m)),
            Input::Sparse(s) => crate::data::validate_data(&crate::SparseData::new(s)),
        }
    }

    /// D_β(X ‖ WH) for W (n×k) and H (k×m).
    pub fn divergence(&self, w: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
        use crate::data::Data;
        let wt = w.transpose();
        match self {
            Input::Dense(m) => crate::DenseData::new(*m).divergence(&wt, h, beta),
            Input::Sparse(s) => crate::SparseData::new(s).divergence(&wt, h, beta),
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Matrix<T> {
        match self {
            Input::Dense(m) => Matrix::Dense(m.to_owned()),
            Input::Sparse(s) => Matrix::Sparse(s.view().into_owned()),
        }
    }
}

/// An owned matrix, dense (column-major) or sparse CSR.
#[derive(Clone, Debug, PartialEq)]
pub enum Matrix<T: 'static> {
    Dense(Mat<T>),
    Sparse(CsrMatrix<T>),
}

impl<T: Scalar> Matrix<T> {
    pub fn shape(&self) -> (usize, usize) {
        self.input().shape()
    }

    /// Stored entries (all entries for dense).
    pub fn nnz(&self) -> usize {
        match self {
            Matrix::Dense(m) => m.data.len(),
            Matrix::Sparse(s) => s.nnz(),
        }
    }

    pub fn is_sparse(&self) -> bool {
        matches!(self, Matrix::Sparse(_))
    }

    /// A view to fit.
    pub fn input(&self) -> Input<'_, T> {
        match self {
            Matrix::Dense(m) => Input::from(m),
            Matrix::Sparse(s) => Input::from(s),
        }
    }

    pub fn to_dense(&self) -> Mat<T> {
        match self {
            Matrix::Dense(m) => m.clone(),
            Matrix::Sparse(s) => s.to_dense(),
        }
    }

    pub fn transpose(&self) -> Matrix<T> {
        match self {
            Matrix::Dense(m) => Matrix::Dense(m.transpose()),
            Matrix::Sparse(s) => Matrix::Sparse(s.transpose()),
        }
    }

    /// The stored values (every entry for dense data).
    pub fn values(&self) -> &[T] {
        match self {
            Matrix::Dense(m) => &m.data,
            Matrix::Sparse(s) => s.values(),
        }
    }

    /// Squared Frobenius norm, in f64.
    pub fn sq_norm(&self) -> f64 {
        self.values().iter().map(|v| v.to_f64() * v.to_f64()).sum()
    }

    /// Converts to the other precision.
    pub fn cast<U: Scalar>(&self) -> Matrix<U> {
        match self {
            Matrix::Dense(m) => Matrix::Dense(m.cast()),
            Matrix::Sparse(s) => Matrix::Sparse(s.cast()),
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
    /// Record θ coefficients, factor changes and the KKT residual at every
    /// evaluation ([`crate::Diagnostics`]; costs a gradient per evaluation).
    pub diagnostics: bool,
    /// Rescale each component (W's column up, H's row down) to equal norms,
    /// or to the scaling that minimizes the elastic net: WH is unchanged.
    pub balance: Balance,
}

/// When the components are rescaled (their product unchanged).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Balance {
    /// After every iteration for `hals` and `anls` (whose precision needs
    /// it), at the end for `mu` (whose iterates it would not change), and
    /// never for `cd`, which reproduces scikit-learn's factors.
    #[default]
    Auto,
    /// After every iteration and at the end.
    Every,
    /// Once, at the end of the fit.
    End,
    /// Never: the factors as the solver leaves them.
    Off,
}

impl Balance {
    pub fn parse(s: &str) -> Result<Balance> {
        match s {
            "auto" => Ok(Balance::Auto),
            "every" | "on" => Ok(Balance::Every),
            "end" => Ok(Balance::End),
            "off" => Ok(Balance::Off),
            _ => Err(invalid(
                "balance",
                format!("'{s}' is not one of auto, every, end, off"),
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Balance::Auto => "auto",
            Balance::Every => "every",
            Balance::End => "end",
            Balance::Off => "off",
        }
    }
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
            diagnostics: false,
            balance: Balance::Auto,
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
    /// The data term at the end: the β-divergence (weighted for weighted data).
    pub divergence: f64,
    /// Divergence + penalties at the end.
    pub objective: f64,
    /// The penalty terms' names (e.g. "elastic_net"), empty without any.
    pub penalty_names: Vec<&'static str>,
    /// Their values at the end.
    pub penalties: Vec<f64>,
    /// sqrt(2 · divergence), scikit-learn's `reconstruction_err_`.
    pub reconstruction_err: f64,
    pub history: Vec<HistoryEntry>,
    /// The initialization actually used.
    pub init: Option<Init>,
    pub init_time: Duration,
    pub fit_time: Duration,
    /// What ran and why (`solver = auto`; empty for a named solver).
    pub notes: Vec<String>,
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
    setter!(diagnostics: bool);
    setter!(max_iter: usize);
    setter!(tol: f64);
    setter!(convergence: Convergence);
    setter!(shuffle: bool);
    setter!(threads: usize);
    setter!(regularization: Regularization);
    setter!(extrapolate: bool);
    setter!(balance: Balance);

    setter_some!(eval_every: usize);
    setter_some!(factor_tol: f64);
    setter_some!(time_limit: Duration);
    setter_some!(update_order: UpdateOrder);

    /// Checks the options (not the data).
    pub fn validate(&self) -> Result<()> {
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
        if self.extrapolate
            && (self.loss != Loss::Frobenius
                || !matches!(self.solver, SolverKind::Hals | SolverKind::Auto))
        {
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
        if !self.solver.handles(self.loss.beta()) {
            let alt = match self.loss {
                Loss::Frobenius => "use solver auto, hals, anls, cd or mu",
                Loss::KullbackLeibler => "use solver auto, ccd or mu",
                _ => "use solver auto or mu",
            };
            return Err(NmfError::Unsupported {
                solver: self.solver.name(),
                what: format!("the {} loss ({alt})", self.loss.name()),
            });
        }
        Ok(())
    }
}
