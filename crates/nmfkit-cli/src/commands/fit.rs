//! `nmfkit fit`: factorize a matrix file.

use crate::error::CliError;
use crate::io::{self, Format, Matrix};
use crate::model_dir::Staged;
use crate::progress::Reporter;
use crate::report;
use clap::Args;
use nmfkit::weights::SparseWeights;
use nmfkit::{CsrMatrix, FitOptions, Init, Loss, Mat, Nmf, NmfFit, Regularization, SolverKind};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
#[command(
    about = "Factorize a matrix: writes W, H and report.json into --out",
    after_help = "Examples:\n  nmfkit fit X.npy --rank 10 --out model\n  nmfkit fit counts.mtx --rank 20 --loss kl --solver mu --max-iter 500 --out topics\n  nmfkit fit X.csv --rank 5 --init custom --w0 W0.npy --h0 H0.npy --format csv --out m\n\nRows of X are samples, columns features: W is rows×rank, H is rank×columns."
)]
pub struct FitArgs {
    /// The matrix (.npy, .npz, .csv, .tsv or .mtx).
    pub input: PathBuf,
    /// Number of components k.
    #[arg(long, short = 'k')]
    pub rank: usize,
    /// auto, random, nndsvd, nndsvda, nndsvdar or custom (with --w0 and --h0).
    #[arg(long, default_value = "auto")]
    pub init: String,
    #[arg(long)]
    pub w0: Option<PathBuf>,
    #[arg(long)]
    pub h0: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub smooth: SmoothArgs,
    #[command(flatten)]
    pub mask: MaskArgs,
    /// Factorize the transpose of the input.
    #[arg(long)]
    pub transpose: bool,
    /// Folder for W, H and report.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Format of the factor files: npy, csv, tsv, mtx or npz.
    #[arg(long, default_value = "npy")]
    pub format: String,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the report to stdout.
    #[arg(long)]
    pub json: bool,
}

/// Missing or weighted entries (`fit`, `impute`).
#[derive(Args, Clone, Debug, Default)]
pub struct MaskArgs {
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
    /// `nan`: NaN entries of the data are missing (otherwise NaN is an
    /// error). `unstored` (sparse data, `fit` only): only the stored entries
    /// are observed, the others missing rather than zeros — for ratings.
    #[arg(long)]
    pub missing: Option<String>,
}

/// X and its weights, as the masked fits take them.
pub enum MaskPlan {
    /// Dense X with missing NaN set to 0, and dense weights.
    Dense { x: Mat<f64>, weights: Mat<f64> },
    /// Sparse X (missing NaN dropped), the listed weights and the weight of
    /// every other entry.
    Sparse {
        x: CsrMatrix<f64>,
        listed: CsrMatrix<f64>,
        others: f64,
    },
}

impl MaskPlan {
    pub fn sparse_weights(&self) -> Option<SparseWeights<'_, f64>> {
        match self {
            MaskPlan::Sparse { listed, others, .. } => Some(SparseWeights {
                listed,
                others: *others,
            }),
            MaskPlan::Dense { .. } => None,
        }
    }

    /// Entries with weight 0.
    pub fn missing_count(&self) -> usize {
        match self {
            MaskPlan::Dense { weights, .. } => weights.data.iter().filter(|w| **w == 0.0).count(),
            MaskPlan::Sparse { x, listed, others } => {
                let zero = listed.values().iter().filter(|w| **w == 0.0).count();
                if *others == 0.0 {
                    x.nrows() * x.ncols() - (listed.nnz() - zero)
                } else {
                    zero
                }
            }
        }
    }

    /// Fits with `est`.
    pub fn fit(&self, est: &Nmf, opts: FitOptions<'_, '_, f64>) -> nmfkit::Result<NmfFit<f64>> {
        match self {
            MaskPlan::Dense { x, weights } => {
                est.fit_masked_with(x.as_ref(), weights.as_ref(), opts)
            }
            MaskPlan::Sparse { x, .. } => {
                est.fit_masked_sparse_with(x, self.sparse_weights().expect("sparse"), opts)
            }
        }
    }

    /// (½ Σ M∘(X − WH)², Σ M∘X²).
    pub fn error(&self, w: &Mat<f64>, h: &Mat<f64>) -> nmfkit::Result<(f64, f64)> {
        match self {
            MaskPlan::Dense { x, weights } => {
                let sq = x
                    .data
                    .iter()
                    .zip(&weights.data)
                    .map(|(v, w)| w * v * v)
                    .sum();
                Ok((
                    nmfkit::weights::masked_divergence(x.as_ref(), weights.as_ref(), w, h, 2.0)?,
                    sq,
                ))
            }
            MaskPlan::Sparse { x, .. } => {
                nmfkit::weights::sparse_masked_error(x, self.sparse_weights().expect("sparse"), w, h)
            }
        }
    }

    /// X with the missing entries replaced by W·H.
    pub fn impute(&self, w: &Mat<f64>, h: &Mat<f64>) -> nmfkit::Result<Matrix> {
        Ok(match self {
            MaskPlan::Dense { x, weights } => {
                Matrix::Dense(nmfkit::weights::impute(x.as_ref(), weights.as_ref(), w, h))
            }
            MaskPlan::Sparse { x, .. } => Matrix::Sparse(nmfkit::weights::impute_sparse(
                x,
                self.sparse_weights().expect("sparse"),
                w,
                h,
            )?),
        })
    }
}

impl MaskArgs {
    pub fn active(&self) -> bool {
        self.mask.is_some() || self.missing.is_some() || self.missing_entries.is_some()
    }

    fn unstored(&self) -> bool {
        self.missing.as_deref() == Some("unstored")
    }

    /// X and its weights. `transpose`: the data was transposed after
    /// reading; so are the mask files.
    pub fn plan(&self, x: &Matrix, input: &Path, transpose: bool) -> Result<MaskPlan, CliError> {
        if let Some(m) = &self.missing {
            if m != "nan" && m != "unstored" {
                return Err(CliError::usage(format!(
                    "--missing must be 'nan' or 'unstored', got '{m}'"
                )));
            }
        }
        let (n, m) = x.shape();
        let read = |path: &Path| -> Result<Matrix, CliError> {
            let mut w = io::read_matrix(path)?;
            if transpose {
                w = w.transpose();
            }
            if w.shape() != (n, m) {
                let (a, b) = w.shape();
                return Err(CliError::input(
                    path,
                    format!("the mask is {a}×{b} but the data is {n}×{m}"),
                ));
            }
            Ok(w)
        };
        let mask = self.mask.as_deref().map(read).transpose()?;
        if let (Some(Matrix::Dense(w)), Some(path)) = (&mask, &self.mask) {
            if let Some(v) = w.data.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                return Err(CliError::input(
                    path,
                    format!("mask weights must be finite and >= 0, found {v}"),
                ));
            }
        }
        let holes = self.missing_entries.as_deref().map(read).transpose()?;
        let nan = self.missing.as_deref() == Some("nan");
        match x {
            Matrix::Dense(xd) => {
                if self.unstored() {
                    return Err(CliError::input(
                        input,
                        "--missing unstored needs sparse data (.npz or .mtx): a dense file stores every entry",
                    ));
                }
                let mut weights = match mask {
                    Some(w) => w.to_dense(),
                    None => Mat::from_fn(n, m, |_, _| 1.0),
                };
                match holes {
                    Some(Matrix::Dense(hd)) => {
                        for (w, h) in weights.data.iter_mut().zip(&hd.data) {
                            if *h != 0.0 {
                                *w = 0.0;
                            }
                        }
                    }
                    Some(Matrix::Sparse(hs)) => {
                        for i in 0..n {
                            for &j in hs.row(i).0 {
                                weights.set(i, j as usize, 0.0);
                            }
                        }
                    }
                    None => {}
                }
                let mut filled = xd.clone();
                if nan {
                    for (v, w) in filled.data.iter_mut().zip(weights.data.iter_mut()) {
                        if v.is_nan() {
                            *v = 0.0;
                            *w = 0.0;
                        }
                    }
                }
                Ok(MaskPlan::Dense { x: filled, weights })
            }
            Matrix::Sparse(xs) => {
                if self.unstored() {
                    if mask.is_some() || holes.is_some() {
                        return Err(CliError::usage(
                            "--missing unstored already says which entries are observed: drop --mask and --missing-entries",
                        ));
                    }
                    let ones = xs.values().iter().map(|_| 1.0).collect();
                    let idx = xs.indices().iter().map(|&j| j as usize).collect();
                    let listed = CsrMatrix::try_new(n, m, xs.indptr().to_vec(), idx, ones)
                        .map_err(|e| CliError::nmf(Some(input), e))?;
                    return Ok(MaskPlan::Sparse {
                        x: xs.clone(),
                        listed,
                        others: 0.0,
                    });
                }
                // Listed weights as (row, column) → weight.
                let mut listed: std::collections::BTreeMap<(usize, usize), f64> =
                    Default::default();
                let mut others = 1.0;
                match mask {
                    Some(Matrix::Sparse(ws)) => {
                        others = 0.0;
                        for i in 0..n {
                            let (idx, val) = ws.row(i);
                            for (&j, &v) in idx.iter().zip(val) {
                                if !(v.is_finite() && v >= 0.0) {
                                    return Err(CliError::input(
                                        self.mask.as_deref().expect("mask"),
                                        format!("mask weights must be finite and >= 0, found {v}"),
                                    ));
                                }
                                listed.insert((i, j as usize), v);
                            }
                        }
                    }
                    Some(Matrix::Dense(wd)) => {
                        for j in 0..m {
                            for i in 0..n {
                                let v = wd.get(i, j);
                                if v != 1.0 {
                                    listed.insert((i, j), v);
                                }
                            }
                        }
                    }
                    None => {}
                }
                let mut hole = |i: usize, j: usize| {
                    listed.insert((i, j), 0.0);
                };
                match &holes {
                    Some(Matrix::Dense(hd)) => {
                        for j in 0..m {
                            for i in 0..n {
                                if hd.get(i, j) != 0.0 {
                                    hole(i, j);
                                }
                            }
                        }
                    }
                    Some(Matrix::Sparse(hs)) => {
                        for i in 0..n {
                            for &j in hs.row(i).0 {
                                hole(i, j as usize);
                            }
                        }
                    }
                    None => {}
                }
                // Stored NaN: missing with --missing nan (dropped from X),
                // else left for the core to name.
                let mut t = Vec::with_capacity(xs.nnz());
                for i in 0..n {
                    let (idx, val) = xs.row(i);
                    for (&j, &v) in idx.iter().zip(val) {
                        if nan && v.is_nan() {
                            hole(i, j as usize);
                        } else {
                            t.push((i, j as usize, v));
                        }
                    }
                }
                let x = CsrMatrix::from_triplets(n, m, &t)
                    .map_err(|e| CliError::nmf(Some(input), e))?;
                let lt: Vec<(usize, usize, f64)> =
                    listed.into_iter().map(|((i, j), v)| (i, j, v)).collect();
                let listed = CsrMatrix::from_triplets(n, m, &lt)
                    .map_err(|e| CliError::nmf(Some(input), e))?;
                Ok(MaskPlan::Sparse { x, listed, others })
            }
        }
    }
}

/// The smooth model's options (`--model smooth`).
#[derive(Args, Clone, Debug)]
pub struct SmoothArgs {
    /// standard (X ≈ W·H) or smooth: X (channels × pixels) ≈ G·W·H with the
    /// KL loss, Laplacian smoothness of the maps and log sparsity (ESPM's
    /// SmoothNMF model).
    #[arg(long = "model", default_value = "standard")]
    pub kind: String,
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
    /// Smooth model: none, h (every pixel's abundances sum to 1) or w.
    #[arg(long, default_value = "none")]
    pub simplex: String,
    /// Smooth model: scale X by k/(mean(X)·channels) while fitting (ESPM's
    /// normalization: the weights then mean the same at any count level).
    #[arg(long)]
    pub normalize: bool,
    /// Smooth model: evaluate the objective every this many iterations.
    #[arg(long, default_value_t = 10)]
    pub eval_every: usize,
}

impl Default for SmoothArgs {
    fn default() -> Self {
        SmoothArgs {
            kind: "standard".into(),
            dictionary: None,
            image_shape: None,
            lambda_l: 0.0,
            mu: None,
            epsilon_reg: 1.0,
            simplex: "none".into(),
            normalize: false,
            eval_every: 10,
        }
    }
}

impl SmoothArgs {
    pub fn is_smooth(&self) -> Result<bool, CliError> {
        match self.kind.as_str() {
            "standard" => {
                let given = [
                    ("--dictionary", self.dictionary.is_some()),
                    ("--image-shape", self.image_shape.is_some()),
                    ("--lambda-l", self.lambda_l != 0.0),
                    ("--mu", self.mu.is_some()),
                    ("--simplex", self.simplex != "none"),
                    ("--normalize", self.normalize),
                ];
                if let Some((flag, _)) = given.iter().find(|g| g.1) {
                    return Err(CliError::usage(format!(
                        "{flag} belongs to the smooth model: add --model smooth"
                    )));
                }
                Ok(false)
            }
            "smooth" => Ok(true),
            other => Err(CliError::usage(format!(
                "--model must be standard or smooth, got '{other}'"
            ))),
        }
    }
}

/// The options of the model and its solver, shared by `fit` and `rank`.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// frobenius (default), kl, is, or any β value.
    #[arg(long)]
    pub loss: Option<String>,
    /// mu, cd, hals or anls (default: hals for Frobenius, mu otherwise).
    #[arg(long)]
    pub solver: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 200)]
    pub max_iter: usize,
    #[arg(long, default_value_t = 1e-4)]
    pub tol: f64,
    /// Stop after this many seconds (keeping the factors so far).
    #[arg(long)]
    pub time_limit: Option<f64>,
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
    /// Extrapolate the iterates (Ang & Gillis 2019): auto (on for hals with
    /// the Frobenius loss), on or off. Much faster on slowly converging
    /// (sparse) data; the objective still never increases.
    #[arg(long, default_value = "auto")]
    pub extrapolate: String,
}

impl FitArgs {
    /// The initial W and H read from --w0/--h0 with --init custom.
    pub fn custom_start(&self) -> Result<Option<(Mat<f64>, Mat<f64>)>, CliError> {
        match (self.init.as_str(), &self.w0, &self.h0) {
            ("custom", Some(w), Some(h)) => Ok(Some((io::read_dense(w)?, io::read_dense(h)?))),
            ("custom", _, _) => Err(CliError::usage("--init custom needs both --w0 and --h0")),
            (_, None, None) => Ok(None),
            _ => Err(CliError::usage(
                "--w0/--h0 are only used with --init custom",
            )),
        }
    }
}

/// Builds the estimator from the flags.
pub fn estimator(a: &FitArgs) -> Result<Nmf, CliError> {
    let init = if a.init == "custom" {
        Init::Auto
    } else {
        Init::parse(&a.init).map_err(|e| CliError::usage(e.to_string()))?
    };
    Ok(a.model.estimator(a.rank)?.init(init))
}

impl ModelArgs {
    /// The estimator at rank `rank` with these options.
    pub fn estimator(&self, rank: usize) -> Result<Nmf, CliError> {
        let a = self;
        let usage = |e: nmfkit::NmfError| CliError::usage(e.to_string());
        let loss = Loss::parse(a.loss.as_deref().unwrap_or("frobenius")).map_err(usage)?;
        let solver = match &a.solver {
            Some(s) => SolverKind::parse(s).map_err(usage)?,
            None if loss == Loss::Frobenius => SolverKind::Hals,
            None => SolverKind::Mu,
        };
        let mut est = Nmf::new(rank)
            .loss(loss)
            .solver(solver)
            .seed(a.seed)
            .max_iter(a.max_iter)
            .tol(a.tol)
            .threads(a.threads)
            .extrapolate(match a.extrapolate.as_str() {
                "auto" => solver == SolverKind::Hals && loss == Loss::Frobenius,
                "on" => true,
                "off" => false,
                other => {
                    return Err(CliError::usage(format!(
                        "--extrapolate must be auto, on or off, got '{other}'"
                    )))
                }
            })
            .regularization(Regularization {
                alpha_w: a.alpha_w,
                alpha_h: a.alpha_h,
                l1_ratio: a.l1_ratio,
            });
        if let Some(t) = a.time_limit {
            if !(t > 0.0) || !t.is_finite() {
                return Err(CliError::usage(format!(
                    "--time-limit must be a positive number of seconds, got {t}"
                )));
            }
            est = est.time_limit(Duration::from_secs_f64(t));
        }
        Ok(est)
    }
}

/// Everything a fit produced, for `fit` and `demo`.
pub struct FitOutcome {
    /// The standard model's fit (None for the smooth model).
    pub fit: Option<NmfFit<f64>>,
    pub report: Value,
}

/// Fits `x` and writes the model into `out` (W, H, report.json).
pub fn fit_and_write(
    a: &FitArgs,
    x: &Matrix,
    input_desc: Value,
    read_s: f64,
) -> Result<FitOutcome, CliError> {
    if a.smooth.is_smooth()? {
        return super::smooth::fit_and_write(a, x, input_desc, read_s);
    }
    let t0 = Instant::now();
    let est = estimator(a)?;
    let format = Format::parse(&a.format)?;
    let custom = a.custom_start()?;
    let mut reporter = Reporter::new(a.quiet, a.model.max_iter);
    let mut cb = |p: &nmfkit::Progress| reporter.update(p);
    let opts = FitOptions {
        w0: custom.as_ref().map(|c| &c.0),
        h0: custom.as_ref().map(|c| &c.1),
        progress: Some(&mut cb),
        ..Default::default()
    };
    let context = custom.as_ref().map(|_| a.w0.as_deref().unwrap());
    let plan = if a.mask.active() {
        Some(a.mask.plan(x, &a.input, a.transpose)?)
    } else {
        None
    };
    // Masked fits have their own loop, without extrapolation.
    if plan.is_some() && a.model.extrapolate == "on" {
        return Err(CliError::usage(
            "--extrapolate on applies to fits without masks or missing values",
        ));
    }
    let est = if plan.is_some() {
        est.extrapolate(false)
    } else {
        est
    };
    let fitted = match &plan {
        Some(p) => p.fit(&est, opts),
        None => est.fit_with(x.input(), opts),
    };
    let fit = fitted.map_err(|e| {
        let ctx = match &e {
            nmfkit::NmfError::Shape { what: "H", .. }
            | nmfkit::NmfError::Negative { what: "H", .. }
            | nmfkit::NmfError::AllZero { what: "H" } => a.h0.as_deref(),
            nmfkit::NmfError::Shape { what: "W", .. }
            | nmfkit::NmfError::Negative { what: "W", .. }
            | nmfkit::NmfError::AllZero { what: "W" } => context,
            nmfkit::NmfError::InvalidParameter { name: "mask", .. }
            | nmfkit::NmfError::Negative { what: "mask", .. }
            | nmfkit::NmfError::NonFinite { what: "mask", .. } => {
                a.mask.mask.as_deref().or(a.mask.missing_entries.as_deref())
            }
            _ => Some(a.input.as_path()),
        };
        CliError::nmf(ctx, e)
    })?;
    reporter.finish();
    let fit_s = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let (rel, x_sq) = match &plan {
        Some(p) => {
            let (loss, sq) = p
                .error(&fit.w, &fit.h)
                .map_err(|e| CliError::nmf(Some(&a.input), e))?;
            // The sparse closed form may round a near-exact fit slightly below 0.
            ((2.0 * loss.max(0.0) / sq.max(f64::MIN_POSITIVE)).sqrt(), sq)
        }
        None => (
            nmfkit::relative_error(x.input(), &fit.w, &fit.h),
            x.sq_norm(),
        ),
    };
    let mut result = report::result(&fit, x_sq, est.loss.beta());
    result["relative_error"] = json!(rel);
    let mut report = json!({
        "nmfkit_version": env!("CARGO_PKG_VERSION"),
        "command": "fit",
        "input": input_desc,
        "params": report::params(&est),
        "factor_format": format.extension(),
        "result": result,
        "timings": {"read_s": read_s, "init_s": fit.init_time.as_secs_f64(), "fit_s": fit.fit_time.as_secs_f64(), "total_fit_s": fit_s},
        "history": report::history(&fit.history),
    });
    if let Some(p) = &plan {
        report["mask"] = json!({
            "path": a.mask.mask.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            "missing_entries_path": a.mask.missing_entries.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            "missing": a.mask.missing,
            "missing_entries": p.missing_count(),
            "unlisted_weight": p.sparse_weights().map(|w| w.others),
        });
    }
    let mut staged = Staged::new(&a.out)?;
    staged.matrix(
        &format!("W.{}", format.extension()),
        &Matrix::Dense(fit.w.clone()),
    )?;
    staged.matrix(
        &format!("H.{}", format.extension()),
        &Matrix::Dense(fit.h.clone()),
    )?;
    report["timings"]["write_s"] = json!(t1.elapsed().as_secs_f64());
    staged.json("report.json", &report)?;
    staged.commit()?;
    Ok(FitOutcome {
        fit: Some(fit),
        report,
    })
}

/// Reads the input (optionally transposed) and describes it for the report.
pub fn read_input(path: &Path, transpose: bool) -> Result<(Matrix, Value, f64), CliError> {
    let t = Instant::now();
    let mut x = io::read_matrix(path)?;
    if transpose {
        x = x.transpose();
    }
    let (n, m) = x.shape();
    let desc = json!({
        "path": std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        "shape": [n, m],
        "nnz": x.nnz(),
        "sparse": x.is_sparse(),
        "transposed": transpose,
    });
    Ok((x, desc, t.elapsed().as_secs_f64()))
}

pub fn run(a: FitArgs) -> Result<(), CliError> {
    let (x, desc, read_s) = read_input(&a.input, a.transpose)?;
    let out = fit_and_write(&a, &x, desc, read_s)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&out.report).unwrap_or_default()
        );
    } else if !a.quiet {
        let r = &out.report["result"];
        let interrupted = if r["interrupted"].as_bool() == Some(true) {
            " (interrupted: the factors so far were kept)"
        } else {
            ""
        };
        eprintln!(
            "{} iterations, stopped: {}{interrupted}; objective {:.6e}, relative error {:.4e}; wrote {}",
            r["n_iter"],
            r["stop_reason"].as_str().unwrap_or("?"),
            r["objective"].as_f64().unwrap_or(f64::NAN),
            r["relative_error"].as_f64().unwrap_or(f64::NAN),
            a.out.display()
        );
    }
    Ok(())
}
