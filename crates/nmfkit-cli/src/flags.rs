//! The flag groups only the `nmfkit` command has (the shared ones are in
//! `nmfkit_io::flags`): the data file, missing or weighted entries, and
//! the smooth model. What they mean is decided in `settings`.

use clap::{Args, ValueEnum};
use nmfkit_io::names::Detect;
use std::path::PathBuf;

/// The data matrix.
#[derive(Args, Clone, Debug)]
pub struct DataFlags {
    /// The matrix (.npy, .npz, .csv, .tsv or .mtx).
    pub input: PathBuf,
    /// Factorize the transpose of the input.
    #[arg(long)]
    pub transpose: bool,
    #[command(flatten)]
    pub names: NameFlags,
}

/// Where the names of the data's rows and columns come from.
#[derive(Args, Clone, Debug, Default)]
pub struct NameFlags {
    /// CSV/TSV: whether the first row holds column names (auto: when a
    /// cell of it is not a number).
    #[arg(long, value_enum, default_value_t = Detect::Auto)]
    pub header: Detect,
    /// CSV/TSV: whether the first column holds row names (auto: when a cell
    /// of it is not a number, or the header's first cell is empty).
    #[arg(long, value_enum, default_value_t = Detect::Auto)]
    pub index_col: Detect,
    /// Row names, one per line (any format; replaces a CSV's index).
    #[arg(long, value_name = "FILE")]
    pub row_names: Option<PathBuf>,
    /// Column names, one per line (any format; replaces a CSV's header).
    #[arg(long, value_name = "FILE")]
    pub col_names: Option<PathBuf>,
}

/// Which entries are missing by their value or storage (`--missing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MissingFlag {
    /// NaN entries of the data are missing (otherwise NaN is an error).
    Nan,
    /// Sparse data: only the stored entries are observed, the others
    /// missing rather than zeros (ratings).
    Unstored,
}

/// Missing or weighted entries (`fit`, `impute`, `eval`).
#[derive(Args, Clone, Debug, Default)]
pub struct MaskFlags {
    /// Weights per entry, same shape and formats as the data: 0 marks a
    /// missing entry (its value is ignored), 1 a normal one, others weigh
    /// the entry in the loss. In a sparse file (.npz, .mtx) the unstored
    /// entries are weight 0: only the stored ones are observed.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// A matrix file whose stored (sparse file) or nonzero (dense file)
    /// entries are missing; every other entry is observed — for a few holes,
    /// in dense data or in sparse data whose unstored entries are zeros.
    #[arg(long, value_name = "FILE")]
    pub missing_entries: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub missing: Option<MissingFlag>,
}

/// The model (`--model`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// X ≈ W·H.
    Standard,
    /// X (channels × pixels) ≈ G·W·H with the KL loss (or --loss frobenius),
    /// Laplacian smoothness of the maps and log sparsity (ESPM's SmoothNMF).
    Smooth,
}

/// Which factor's columns sum to one (`--simplex`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimplexFlag {
    None,
    /// Every pixel's abundances sum to 1.
    H,
    /// Every component's weights on G sum to 1.
    W,
}

/// Minibatch (online) NMF, scikit-learn's MiniBatchNMF (`--batch-size`).
#[derive(Args, Clone, Debug)]
pub struct MinibatchFlags {
    /// Minibatch (online) NMF with this many rows per step; a .npy input
    /// is then read from disk a batch at a time (never held whole).
    /// --solver auto runs online HALS for Frobenius, online ccd for KL and
    /// scikit-learn's online mu otherwise.
    #[arg(long, value_name = "ROWS")]
    pub batch_size: Option<usize>,
    /// Minibatch: weight of the past statistics after one epoch, in (0, 1].
    #[arg(long, default_value_t = 0.7)]
    pub forget_factor: f64,
    /// Minibatch: solve each batch's W from a flat start.
    #[arg(long)]
    pub fresh_restarts: bool,
    /// Minibatch: stop after this many steps without a new minimum of the
    /// smoothed batch cost (0: never).
    #[arg(long, default_value_t = 10)]
    pub max_no_improvement: usize,
    /// With --batch-size: run the chosen solver's exact full-batch
    /// iterations instead, reading the .npy a batch at a time (one pass
    /// over the file per half-step).
    #[arg(long, requires = "batch_size")]
    pub full_batch: bool,
}

/// The smooth model's options (`--model smooth`).
#[derive(Args, Clone, Debug)]
pub struct SmoothFlags {
    #[arg(long = "model", value_enum, default_value_t = ModelKind::Standard)]
    pub kind: ModelKind,
    /// Smooth model: the known dictionary G (channels × m); W is then m×k
    /// and GW (the spectra) is written too.
    #[arg(long)]
    pub dictionary: Option<PathBuf>,
    /// Smooth model: the maps' image shape HxW (H·W = number of columns).
    #[arg(long)]
    pub image_shape: Option<String>,
    /// Smooth model: weight of ½·tr(HΔHᵀ), the maps' Laplacian smoothness.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub lambda_l: f64,
    /// Smooth model: weight of Σ log(H + ε_reg); one value or one per
    /// component, comma-separated.
    #[arg(long)]
    pub mu: Option<String>,
    /// Smooth model: ε_reg of the log term.
    #[arg(long, default_value_t = 1.0)]
    pub epsilon_reg: f64,
    #[arg(long, value_enum, default_value_t = SimplexFlag::None)]
    pub simplex: SimplexFlag,
    /// Smooth model: scale X by k/(mean(X)·channels) while fitting (ESPM's
    /// normalization: the weights then mean the same at any count level).
    #[arg(long)]
    pub normalize: bool,
    /// Smooth model: ESPM's fixed_W, a file of W's shape (m×k): entries ≥ 0
    /// are kept through the fit, negative or NaN ones are free.
    #[arg(long, value_name = "FILE")]
    pub fixed_w: Option<PathBuf>,
    /// Smooth model: ESPM's fixed_H (k×pixels), likewise.
    #[arg(long, value_name = "FILE")]
    pub fixed_h: Option<PathBuf>,
    /// Smooth model: known true spectra (channels × k, ESPM's true_D); each
    /// evaluation records their angles to the fitted ones.
    #[arg(long, value_name = "FILE")]
    pub truth_d: Option<PathBuf>,
    /// Smooth model: known true maps (k × pixels, ESPM's true_H); each
    /// evaluation records the matched maps' MSE.
    #[arg(long, value_name = "FILE")]
    pub truth_h: Option<PathBuf>,
}

impl Default for SmoothFlags {
    fn default() -> Self {
        SmoothFlags {
            kind: ModelKind::Standard,
            dictionary: None,
            image_shape: None,
            lambda_l: 0.0,
            mu: None,
            epsilon_reg: 1.0,
            simplex: SimplexFlag::None,
            normalize: false,
            fixed_w: None,
            fixed_h: None,
            truth_d: None,
            truth_h: None,
        }
    }
}
