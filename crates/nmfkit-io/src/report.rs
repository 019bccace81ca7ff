//! The reports nmfkit writes, as typed structs: one schema for writing and
//! reading. Names are the same everywhere: `objective` = `divergence` (the
//! data term) + the `penalties`, in the result and in every history record.

use nmfkit::smooth::SmoothNmf;
use nmfkit::{HistoryEntry, Loss, Nmf, NmfFit, Regularization, SolverKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Bumped whenever a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// The version of the nmfkit that wrote a report.
pub const NMFKIT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What was factorized.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InputInfo {
    pub path: PathBuf,
    pub shape: [usize; 2],
    pub nnz: usize,
    pub sparse: bool,
    pub transposed: bool,
}

/// The smooth model's own settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SmoothParams {
    pub lambda_l: f64,
    pub mu: Vec<f64>,
    pub epsilon_reg: f64,
    pub eps: f64,
    pub simplex: String,
    pub normalize: bool,
    pub image_shape: Option<[usize; 2]>,
    pub dictionary: Option<PathBuf>,
}

/// The model and its solver's settings, enough to rebuild the estimator.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Params {
    pub rank: usize,
    /// "standard" (X ≈ W·H) or "smooth" (X ≈ G·W·H, ESPM's model).
    pub model: String,
    pub loss: String,
    pub beta: f64,
    pub solver: String,
    pub init: String,
    pub seed: u64,
    pub max_iter: usize,
    pub tol: f64,
    pub time_limit_s: Option<f64>,
    pub eval_every: Option<usize>,
    pub factor_tol: Option<f64>,
    pub alpha_w: f64,
    pub alpha_h: f64,
    pub l1_ratio: f64,
    pub shuffle: bool,
    pub extrapolate: bool,
    #[serde(default = "auto")]
    pub balance: String,
    pub threads: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smooth: Option<SmoothParams>,
}

fn auto() -> String {
    "auto".into()
}

fn all_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Params {
    /// The settings of a standard fit.
    pub fn of(est: &Nmf) -> Params {
        let r = est.regularization;
        Params {
            rank: est.rank,
            model: "standard".into(),
            loss: est.loss.name(),
            beta: est.loss.beta(),
            solver: est.solver.name().into(),
            init: est.init.name().into(),
            seed: est.seed,
            max_iter: est.max_iter,
            tol: est.tol,
            time_limit_s: est.time_limit.map(|d| d.as_secs_f64()),
            eval_every: est.eval_every,
            factor_tol: est.factor_tol,
            alpha_w: r.alpha_w,
            alpha_h: r.alpha_h.unwrap_or(r.alpha_w),
            l1_ratio: r.l1_ratio,
            shuffle: est.shuffle,
            extrapolate: est.extrapolate,
            balance: est.balance.name().into(),
            threads: if est.threads == 0 {
                all_threads()
            } else {
                est.threads
            },
            smooth: None,
        }
    }

    /// The settings of a smooth fit.
    pub fn of_smooth(est: &SmoothNmf, dictionary: Option<PathBuf>) -> Params {
        Params {
            rank: est.rank,
            model: "smooth".into(),
            loss: match est.loss {
                nmfkit::smooth::SmoothLoss::Kl => Loss::KullbackLeibler.name(),
                nmfkit::smooth::SmoothLoss::L2 => Loss::Frobenius.name(),
            },
            beta: match est.loss {
                nmfkit::smooth::SmoothLoss::Kl => 1.0,
                nmfkit::smooth::SmoothLoss::L2 => 2.0,
            },
            solver: "mm".into(),
            init: est.init.name().into(),
            seed: est.seed,
            max_iter: est.max_iter,
            tol: est.tol,
            time_limit_s: est.time_limit.map(|d| d.as_secs_f64()),
            eval_every: Some(est.eval_every),
            factor_tol: est.factor_tol,
            alpha_w: 0.0,
            alpha_h: 0.0,
            l1_ratio: 0.0,
            shuffle: false,
            extrapolate: false,
            balance: "off".into(),
            threads: if est.threads == 0 {
                all_threads()
            } else {
                est.threads
            },
            smooth: Some(SmoothParams {
                lambda_l: est.lambda_l,
                mu: est.mu.clone(),
                epsilon_reg: est.epsilon_reg,
                eps: est.eps,
                simplex: est.simplex.name().into(),
                normalize: est.normalize,
                image_shape: est.image_shape.map(|(h, w)| [h, w]),
                dictionary,
            }),
        }
    }

    /// The estimator these settings describe, for work with the fitted
    /// components fixed (transform, impute, eval): the smooth model's maps
    /// are then fitted by the multiplicative update of its data term.
    pub fn estimator(&self) -> Result<Nmf, nmfkit::NmfError> {
        if self.model == "smooth" {
            return Ok(Nmf::new(self.rank)
                .loss(Loss::from_beta(self.beta)?)
                .solver(SolverKind::Mu)
                .seed(self.seed)
                .max_iter(self.max_iter)
                .tol(self.tol));
        }
        let mut est = Nmf::new(self.rank)
            .loss(Loss::from_beta(self.beta)?)
            .solver(SolverKind::parse(&self.solver)?)
            .seed(self.seed)
            .max_iter(self.max_iter)
            .tol(self.tol)
            .shuffle(self.shuffle)
            .extrapolate(self.extrapolate)
            .balance(nmfkit::Balance::parse(&self.balance)?)
            .regularization(Regularization {
                alpha_w: self.alpha_w,
                alpha_h: Some(self.alpha_h),
                l1_ratio: self.l1_ratio,
            });
        est.eval_every = self.eval_every;
        est.factor_tol = self.factor_tol;
        est.time_limit = self.time_limit_s.map(Duration::from_secs_f64);
        Ok(est)
    }
}

/// One evaluation of the objective.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HistoryRecord {
    pub iter: usize,
    pub time_s: f64,
    pub objective: f64,
    pub divergence: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub penalties: BTreeMap<String, f64>,
    pub rel_decrease: Option<f64>,
    pub violation: Option<f64>,
    /// With --diagnostics: θ_W, θ_H, each factor's relative change and the
    /// KKT residual relative to the start's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<DiagnosticsRecord>,
    /// The smooth model with --truth-d/--truth-h: `angle_<t>` (degrees),
    /// `map_mse_<t>` and `true_divergence` at this evaluation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tracked: BTreeMap<String, f64>,
}

/// [`nmfkit::Diagnostics`] in the report.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticsRecord {
    pub theta_w: Option<f64>,
    pub theta_h: Option<f64>,
    pub change_w: Option<f64>,
    pub change_h: Option<f64>,
    pub kkt: Option<f64>,
}

impl From<&nmfkit::Diagnostics> for DiagnosticsRecord {
    fn from(d: &nmfkit::Diagnostics) -> Self {
        DiagnosticsRecord {
            theta_w: d.theta_w,
            theta_h: d.theta_h,
            change_w: d.change_w,
            change_h: d.change_h,
            kkt: d.kkt,
        }
    }
}

fn named(names: &[&'static str], values: &[f64]) -> BTreeMap<String, f64> {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| (n.to_string(), *v))
        .collect()
}

/// A fit's history with its penalties named.
pub fn history(h: &[HistoryEntry], names: &[&'static str]) -> Vec<HistoryRecord> {
    history_tracked(h, names, &[])
}

/// [`history`] with the tracked values named too.
pub fn history_tracked(
    h: &[HistoryEntry],
    names: &[&'static str],
    tracked: &[String],
) -> Vec<HistoryRecord> {
    h.iter()
        .map(|e| HistoryRecord {
            iter: e.iter,
            time_s: e.time_s,
            objective: e.objective,
            divergence: e.divergence,
            penalties: named(names, &e.penalties),
            rel_decrease: e.rel_decrease,
            violation: e.violation,
            diagnostics: e.diagnostics.as_ref().map(DiagnosticsRecord::from),
            tracked: tracked
                .iter()
                .cloned()
                .zip(e.tracked.iter().copied())
                .collect(),
        })
        .collect()
}

/// How a fit ended.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FitResult {
    pub n_iter: usize,
    pub stop_reason: String,
    pub converged: bool,
    pub interrupted: bool,
    pub objective: f64,
    pub divergence: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub penalties: BTreeMap<String, f64>,
    /// sqrt(2·divergence): scikit-learn's `reconstruction_err_`.
    pub reconstruction_err: f64,
    /// ‖X − WH‖/‖X‖ (on the observed entries, weighted, for masked fits).
    pub relative_error: Option<f64>,
    pub init_used: Option<String>,
    /// The smooth model's scaling of X (1 without `normalize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm_factor: Option<f64>,
    /// What `solver = auto` ran and why, switches included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub solver_notes: Vec<String>,
}

impl FitResult {
    pub fn of<T: nmfkit::Scalar>(fit: &NmfFit<T>, relative_error: Option<f64>) -> FitResult {
        FitResult {
            n_iter: fit.n_iter,
            stop_reason: fit.stop.name().into(),
            converged: fit.converged(),
            interrupted: fit.stop == nmfkit::StopReason::Cancelled,
            objective: fit.objective,
            divergence: fit.divergence,
            penalties: named(&fit.penalty_names, &fit.penalties),
            reconstruction_err: fit.reconstruction_err,
            relative_error,
            init_used: fit.init.map(|i| i.name().into()),
            norm_factor: None,
            solver_notes: fit.notes.clone(),
        }
    }

    pub fn of_smooth(fit: &nmfkit::smooth::SmoothFit, relative_error: f64) -> FitResult {
        FitResult {
            n_iter: fit.n_iter,
            stop_reason: fit.stop.name().into(),
            converged: fit.stop.converged(),
            interrupted: fit.stop == nmfkit::StopReason::Cancelled,
            objective: fit.objective,
            divergence: fit.divergence,
            penalties: named(&fit.penalty_names, &fit.penalties),
            reconstruction_err: (2.0 * fit.divergence.max(0.0)).sqrt(),
            relative_error: Some(relative_error),
            init_used: None,
            norm_factor: Some(fit.norm_factor),
            solver_notes: Vec::new(),
        }
    }
}

/// Seconds spent on each part of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    pub read_s: f64,
    pub init_s: f64,
    pub fit_s: f64,
    pub total_fit_s: f64,
    pub write_s: f64,
}

/// Which entries were missing or weighted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MaskInfo {
    pub path: Option<PathBuf>,
    pub missing_entries_path: Option<PathBuf>,
    pub missing: Option<String>,
    /// Entries with weight 0.
    pub missing_entries: usize,
    /// Sparse data: the weight of every entry not listed.
    pub unlisted_weight: Option<f64>,
}

/// `report.json` of a fit (`nmfkit fit`, `nmfkit demo`, `nmfkit-mpi fit`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FitReport {
    pub schema_version: u32,
    pub nmfkit_version: String,
    pub command: String,
    pub input: InputInfo,
    pub params: Params,
    pub factor_format: String,
    pub result: FitResult,
    pub timings: Timings,
    pub history: Vec<HistoryRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskInfo>,
    /// The shape of the images the rows of H are (for plots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_shape: Option<[usize; 2]>,
    /// What only a distributed run records (grid, traffic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed: Option<serde_json::Value>,
    /// What the user should know about the settings (also on stderr).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Each component's top features and samples (`nmfkit top`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<crate::top::ComponentTop>,
    /// A minibatch fit's settings, steps and memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minibatch: Option<MinibatchInfo>,
}

/// What a minibatch fit (`--batch-size`) records besides the standard parts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MinibatchInfo {
    pub batch_size: usize,
    pub forget_factor: f64,
    pub fresh_restarts: bool,
    pub max_no_improvement: Option<usize>,
    /// Minibatch steps taken (`result.n_iter` counts epochs).
    pub n_steps: usize,
    /// Each step's update: "mu" (scikit-learn's online multiplicative
    /// updates) or "hals" (online HALS); empty for --full-batch.
    #[serde(default)]
    pub update: String,
    /// Whether X was read from disk a batch at a time (never whole).
    pub streamed: bool,
    /// The standard solver's full-batch iterations over the streamed
    /// batches (--full-batch) rather than minibatch steps.
    #[serde(default)]
    pub full_batch: bool,
    /// The process's peak resident memory (Linux), MB.
    pub peak_memory_mb: Option<f64>,
    /// What the memory grows with.
    pub memory: String,
}

impl FitReport {
    /// A report of this version of nmfkit.
    pub fn new(command: &str, input: InputInfo, params: Params, result: FitResult) -> FitReport {
        FitReport {
            schema_version: SCHEMA_VERSION,
            nmfkit_version: NMFKIT_VERSION.into(),
            command: command.into(),
            input,
            params,
            factor_format: "npy".into(),
            result,
            timings: Timings::default(),
            history: Vec::new(),
            mask: None,
            image_shape: None,
            distributed: None,
            warnings: Vec::new(),
            top: Vec::new(),
            minibatch: None,
        }
    }
}

/// One row of a rank survey's table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RankRow {
    pub rank: usize,
    pub runs: usize,
    pub best_objective: f64,
    pub mean_objective: f64,
    pub explained_variance: f64,
    pub relative_error: f64,
    pub sparseness_w: f64,
    pub sparseness_h: f64,
    pub cophenetic: f64,
    pub dispersion: f64,
    pub silhouette: f64,
    pub mean_iterations: f64,
    pub seconds_per_run: f64,
    pub cv_error: Option<f64>,
}

impl From<&nmfkit::rank::RankStats> for RankRow {
    fn from(s: &nmfkit::rank::RankStats) -> RankRow {
        RankRow {
            rank: s.rank,
            runs: s.runs,
            best_objective: s.best_objective,
            mean_objective: s.mean_objective,
            explained_variance: s.explained_variance,
            relative_error: s.relative_error,
            sparseness_w: s.sparseness_w,
            sparseness_h: s.sparseness_h,
            cophenetic: s.cophenetic,
            dispersion: s.dispersion,
            silhouette: s.silhouette,
            mean_iterations: s.mean_iterations,
            seconds_per_run: s.seconds_per_run,
            cv_error: s.cv_error,
        }
    }
}

/// The survey's own settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SurveyParams {
    pub ranks: Vec<usize>,
    pub runs: usize,
    pub cluster: String,
    pub random_copy: bool,
    pub cv_folds: usize,
    pub cv_fraction: f64,
}

/// Seconds of a survey.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SurveyTimings {
    pub read_s: f64,
    pub survey_s: f64,
    pub total_s: f64,
    pub seconds_per_run: f64,
}

/// `rank.json` of `nmfkit rank`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RankReport {
    pub schema_version: u32,
    pub nmfkit_version: String,
    pub command: String,
    pub input: InputInfo,
    /// The model settings every run used (its `rank` is the first surveyed).
    pub params: Params,
    pub survey: SurveyParams,
    pub items_clustered: usize,
    pub interrupted: bool,
    pub suggested_rank: Option<usize>,
    pub table: Vec<RankRow>,
    pub randomized_table: Vec<RankRow>,
    pub timings: SurveyTimings,
    /// What the user should know about the settings (also on stderr).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A warning when the rank exceeds min(n, m): the factorization is then
/// not unique and the extra components only split others or stay empty.
pub fn rank_warning(k: usize, n: usize, m: usize) -> Option<String> {
    (k > n.min(m)).then(|| {
        format!(
            "rank {k} exceeds min(rows, columns) = {} of the {n}×{m} data: the extra components cannot add anything and the factors are not unique",
            n.min(m)
        )
    })
}
