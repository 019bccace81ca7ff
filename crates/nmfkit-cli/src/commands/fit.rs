//! `nmfkit fit`: factorize a matrix file.

use crate::error::CliError;
use crate::io::{self, Format, Matrix};
use crate::model_dir::Staged;
use crate::progress::Reporter;
use crate::report;
use clap::Args;
use nmfkit::{FitOptions, Init, Loss, Mat, Nmf, NmfFit, Regularization, SolverKind};
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
    /// the entry in the loss.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// `nan`: NaN entries of the data are missing (otherwise NaN is an
    /// error). `unstored` (sparse data, `fit` only): only the stored entries
    /// are observed, the others missing rather than zeros — for ratings.
    #[arg(long)]
    pub missing: Option<String>,
}

impl MaskArgs {
    pub fn active(&self) -> bool {
        self.mask.is_some() || self.missing.is_some()
    }

    /// (X with missing NaN set to 0, the weights) for dense X.
    /// `transpose`: the data was transposed after reading; so is the mask.
    pub fn weights(
        &self,
        x: &Matrix,
        input: &Path,
        transpose: bool,
    ) -> Result<(Mat<f64>, Mat<f64>), CliError> {
        if let Some(m) = &self.missing {
            if m != "nan" {
                return Err(CliError::usage(format!(
                    "--missing must be 'nan', got '{m}'"
                )));
            }
        }
        let Matrix::Dense(xd) = x else {
            return Err(CliError::input(
                input,
                "masks and missing values need dense data for now (save X as .npy or .csv)",
            ));
        };
        let (n, m) = (xd.nrows, xd.ncols);
        let mut weights = match &self.mask {
            Some(path) => {
                let mut w = io::read_dense(path)?;
                if transpose {
                    w = w.transpose();
                }
                if (w.nrows, w.ncols) != (n, m) {
                    return Err(CliError::input(
                        path,
                        format!(
                            "the mask is {}×{} but the data is {n}×{m}",
                            w.nrows, w.ncols
                        ),
                    ));
                }
                if let Some(v) = w.data.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                    return Err(CliError::input(
                        path,
                        format!("mask weights must be finite and >= 0, found {v}"),
                    ));
                }
                w
            }
            None => Mat::from_fn(n, m, |_, _| 1.0),
        };
        let mut filled = xd.clone();
        if self.missing.is_some() {
            for (v, w) in filled.data.iter_mut().zip(weights.data.iter_mut()) {
                if v.is_nan() {
                    *v = 0.0;
                    *w = 0.0;
                }
            }
        }
        Ok((filled, weights))
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
    let unstored = a.mask.missing.as_deref() == Some("unstored");
    let masked = if a.mask.active() && !unstored {
        Some(a.mask.weights(x, &a.input, a.transpose)?)
    } else {
        None
    };
    let fitted = match (&masked, unstored, x) {
        (_, true, Matrix::Sparse(s)) => {
            if a.mask.mask.is_some() {
                return Err(CliError::usage(
                    "--missing unstored already says which entries are observed: drop --mask",
                ));
            }
            est.fit_observed_with(s, opts)
        }
        (_, true, Matrix::Dense(_)) => return Err(CliError::input(
            &a.input,
            "--missing unstored needs sparse data (.npz or .mtx): a dense file stores every entry",
        )),
        (Some((xf, wts)), _, _) => est.fit_masked_with(xf.as_ref(), wts.as_ref(), opts),
        (None, _, _) => est.fit_with(x.input(), opts),
    };
    let fit = fitted.map_err(|e| {
        let ctx = match &e {
            nmfkit::NmfError::Shape { what: "H", .. }
            | nmfkit::NmfError::Negative { what: "H", .. }
            | nmfkit::NmfError::AllZero { what: "H" } => a.h0.as_deref(),
            nmfkit::NmfError::Shape { what: "W", .. }
            | nmfkit::NmfError::Negative { what: "W", .. }
            | nmfkit::NmfError::AllZero { what: "W" } => context,
            nmfkit::NmfError::InvalidParameter { name: "mask", .. } => a.mask.mask.as_deref(),
            _ => Some(a.input.as_path()),
        };
        CliError::nmf(ctx, e)
    })?;
    reporter.finish();
    let fit_s = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let (rel, x_sq) = match (&masked, x) {
        (None, Matrix::Sparse(s)) if unstored => {
            let sq: f64 = s.values().iter().map(|v| v * v).sum();
            ((2.0 * fit.loss / sq.max(f64::MIN_POSITIVE)).sqrt(), sq)
        }
        _ => match &masked {
            Some((xf, wts)) => {
                let sq: f64 = xf.data.iter().zip(&wts.data).map(|(v, w)| w * v * v).sum();
                let se = 2.0
                    * nmfkit::masked::masked_divergence(
                        xf.as_ref(),
                        wts.as_ref(),
                        &fit.w,
                        &fit.h,
                        2.0,
                    );
                ((se / sq.max(f64::MIN_POSITIVE)).sqrt(), sq)
            }
            None => (
                nmfkit::relative_error(x.input(), &fit.w, &fit.h),
                x.sq_norm(),
            ),
        },
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
    if unstored {
        report["mask"] = json!({"missing": "unstored", "observed_entries": x.nnz()});
    }
    if let Some((_, wts)) = &masked {
        report["mask"] = json!({
            "path": a.mask.mask.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            "missing": a.mask.missing,
            "missing_entries": wts.data.iter().filter(|w| **w == 0.0).count(),
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
