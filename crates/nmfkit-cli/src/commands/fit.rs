//! `nmfkit fit`: factorize a matrix file.

use crate::error::CliError;
use crate::io::{self, Format, Matrix};
use crate::model_dir::Staged;
use crate::progress::Reporter;
use crate::report;
use clap::Args;
use nmfkit::{FitOptions, Init, Loss, Nmf, NmfFit, Regularization, SolverKind};
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

/// The options of the model and its solver, shared by `fit` and `rank`.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// frobenius, kl, is, or any β value.
    #[arg(long, default_value = "frobenius")]
    pub loss: String,
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
        let loss = Loss::parse(&a.loss).map_err(usage)?;
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
    pub fit: NmfFit<f64>,
    pub report: Value,
}

/// Fits `x` and writes the model into `out` (W, H, report.json).
pub fn fit_and_write(
    a: &FitArgs,
    x: &Matrix,
    input_desc: Value,
    read_s: f64,
) -> Result<FitOutcome, CliError> {
    let t0 = Instant::now();
    let est = estimator(a)?;
    let format = Format::parse(&a.format)?;
    let custom = match (a.init.as_str(), &a.w0, &a.h0) {
        ("custom", Some(w), Some(h)) => Some((io::read_dense(w)?, io::read_dense(h)?)),
        ("custom", _, _) => return Err(CliError::usage("--init custom needs both --w0 and --h0")),
        (_, None, None) => None,
        _ => {
            return Err(CliError::usage(
                "--w0/--h0 are only used with --init custom",
            ))
        }
    };
    let mut reporter = Reporter::new(a.quiet, a.model.max_iter);
    let mut cb = |p: &nmfkit::Progress| reporter.update(p);
    let opts = FitOptions {
        w0: custom.as_ref().map(|c| &c.0),
        h0: custom.as_ref().map(|c| &c.1),
        progress: Some(&mut cb),
        ..Default::default()
    };
    let context = custom.as_ref().map(|_| a.w0.as_deref().unwrap());
    let fit = est.fit_with(x.input(), opts).map_err(|e| {
        let ctx = match &e {
            nmfkit::NmfError::Shape { what: "H", .. }
            | nmfkit::NmfError::Negative { what: "H", .. }
            | nmfkit::NmfError::AllZero { what: "H" } => a.h0.as_deref(),
            nmfkit::NmfError::Shape { what: "W", .. }
            | nmfkit::NmfError::Negative { what: "W", .. }
            | nmfkit::NmfError::AllZero { what: "W" } => context,
            _ => Some(a.input.as_path()),
        };
        CliError::nmf(ctx, e)
    })?;
    reporter.finish();
    let fit_s = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let rel = nmfkit::relative_error(x.input(), &fit.w, &fit.h);
    let mut result = report::result(&fit, x.sq_norm(), est.loss.beta());
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
    Ok(FitOutcome { fit, report })
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
    let f = &out.fit;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&out.report).unwrap_or_default()
        );
    } else if !a.quiet {
        let interrupted = if f.stop == nmfkit::StopReason::Cancelled {
            " (interrupted: the factors so far were kept)"
        } else {
            ""
        };
        eprintln!(
            "{} iterations, stopped: {}{interrupted}; objective {:.6e}, relative error {:.4e}; wrote {}",
            f.n_iter,
            f.stop.name(),
            f.objective,
            out.report["result"]["relative_error"].as_f64().unwrap_or(f64::NAN),
            a.out.display()
        );
    }
    Ok(())
}
