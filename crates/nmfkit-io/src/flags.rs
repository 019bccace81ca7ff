//! The command-line flags every runner shares (`nmfkit fit`, `nmfkit rank`,
//! `nmfkit-mpi fit`), as parsed by clap. What they mean for the core is
//! decided in [`crate::settings`]; flags with a fixed set of values are
//! value enums, so clap itself rejects anything else.

use crate::formats::Format;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// The solver (`--solver`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SolverFlag {
    /// Chosen from the loss, the data and the fit's progress (ANLS then
    /// accelerated HALS for Frobenius, ccd for KL, mu otherwise).
    Auto,
    /// Multiplicative updates (every loss).
    Mu,
    /// scikit-learn's coordinate descent (Frobenius).
    Cd,
    /// Accelerated HALS (Frobenius).
    Hals,
    /// Alternating NNLS by block principal pivoting (Frobenius).
    Anls,
    /// Coordinate descent with Newton steps (KL).
    Ccd,
    /// Greedy coordinate descent (Hsieh & Dhillon; NMF.jl's default), Frobenius.
    Greedycd,
    /// Alternating NNLS by projected gradient (Lin 2007), Frobenius.
    Pgrad,
    /// Separable NMF: k columns of X as W (kept), H exact (Gillis & Vavasis).
    Spa,
}

/// A switch whose default depends on the rest (`--extrapolate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    Auto,
    On,
    Off,
}

/// When the components are rescaled (`--balance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BalanceFlag {
    /// Every iteration for hals and anls, at the end for mu, never for cd.
    Auto,
    /// After every iteration.
    Every,
    /// Once, at the end.
    End,
    Off,
}

/// The initialization (`--init`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitFlag {
    /// nndsvda when the rank allows it, random otherwise.
    Auto,
    Random,
    Nndsvd,
    Nndsvda,
    Nndsvdar,
    /// The successive projection algorithm: k columns of X as W, H by NNLS.
    Spa,
    /// The factors given by --w0 and --h0.
    Custom,
}

/// The options of the model and its solver.
#[derive(Args, Clone, Debug)]
pub struct ModelFlags {
    /// frobenius (default), kl, is, or any β value.
    #[arg(long)]
    pub loss: Option<String>,
    /// The solver; auto (the default) says in the report what it ran and why.
    #[arg(long, value_enum, default_value_t = SolverFlag::Auto)]
    pub solver: SolverFlag,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// At most this many iterations (default: 1000 for a standard fit,
    /// whose --tol rule ends it; 200 for --batch-size epochs, the smooth
    /// model and rank surveys, as scikit-learn and ESPM have it).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Stop when the objective's average relative decrease per iteration
    /// over the last 10 is below this (default 1e-5); with --batch-size,
    /// when H's relative change in a step is (scikit-learn's rule, 1e-4);
    /// for the smooth model and rank surveys, 1e-4. 0 runs to --max-iter
    /// (or the time limit).
    #[arg(long)]
    pub tol: Option<f64>,
    /// Stop after this many seconds (keeping the factors so far).
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Evaluate the objective every this many iterations (default: every
    /// iteration for the Frobenius loss, every 10 otherwise).
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Also stop when the factors change by less than this (relative) in
    /// an iteration.
    #[arg(long)]
    pub factor_tol: Option<f64>,
    #[arg(long, default_value_t = 0.0)]
    pub alpha_w: f64,
    /// Defaults to --alpha-w.
    #[arg(long)]
    pub alpha_h: Option<f64>,
    #[arg(long, default_value_t = 0.0)]
    pub l1_ratio: f64,
    /// Threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Extrapolate the iterates (Ang & Gillis 2019): auto is on for hals
    /// with the Frobenius loss; solver auto decides it itself. Much faster on slowly converging (sparse)
    /// data; the objective still never increases.
    #[arg(long, value_enum, default_value_t = Switch::Auto)]
    pub extrapolate: Switch,
    /// Rescale each component (W's column up, H's row down; WH unchanged)
    /// to equal norms, or to the scaling that minimizes the elastic net.
    #[arg(long, value_enum, default_value_t = BalanceFlag::Auto)]
    pub balance: BalanceFlag,
    /// Record θ_W, θ_H, each factor's relative change and the KKT residual
    /// at every evaluation (history in report.json, diagnostics.png); with
    /// --eval-every 1, at every iteration.
    #[arg(long)]
    pub diagnostics: bool,
}

/// How the factors start.
#[derive(Args, Clone, Debug)]
pub struct StartFlags {
    #[arg(long, value_enum, default_value_t = InitFlag::Auto)]
    pub init: InitFlag,
    /// Initial W (rows × rank), with --init custom.
    #[arg(long)]
    pub w0: Option<PathBuf>,
    /// Initial H (rank × columns), with --init custom.
    #[arg(long)]
    pub h0: Option<PathBuf>,
}

/// The format of the factor files (`--format`).
#[derive(Args, Clone, Debug)]
pub struct FormatFlag {
    /// Format of the factor files.
    #[arg(long, value_enum, default_value_t = Format::Npy)]
    pub format: Format,
}

/// Where a run writes its folder, and what it prints.
#[derive(Args, Clone, Debug)]
pub struct OutputFlags {
    /// Folder for the results (replaced whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace --out even if it holds files nmfkit did not write.
    #[arg(long)]
    pub force: bool,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the report to stdout.
    #[arg(long)]
    pub json: bool,
}
