//! `nmfkit fit --model smooth`: the regularized Poisson model with a known
//! dictionary (ESPM's SmoothNMF), for spectrum images.

use super::fit::{FitArgs, FitOutcome};
use crate::error::CliError;
use crate::io::{self, Format, Matrix};
use crate::model_dir::Staged;
use crate::progress::Reporter;
use nmfkit::smooth::{Simplex, SmoothNmf, SmoothOptions};
use nmfkit::Init;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The estimator from the flags.
fn estimator(a: &FitArgs) -> Result<SmoothNmf, CliError> {
    let usage = |e: nmfkit::NmfError| CliError::usage(e.to_string());
    let s = &a.smooth;
    if let Some(l) = a.model.loss.as_deref() {
        if !matches!(l, "kl" | "kullback-leibler" | "1" | "1.0") {
            return Err(CliError::usage(format!(
                "the smooth model's loss is the KL divergence (Poisson counts); --loss {l} does not apply"
            )));
        }
    }
    if a.mask.active() {
        return Err(CliError::usage(
            "the smooth model does not take --mask/--missing yet",
        ));
    }
    if let Some(solver) = &a.model.solver {
        return Err(CliError::usage(format!(
            "the smooth model has its own solver (multiplicative MM updates); --solver {solver} does not apply"
        )));
    }
    if a.model.alpha_w != 0.0 || a.model.alpha_h.is_some() || a.model.l1_ratio != 0.0 {
        return Err(CliError::usage(
            "the smooth model regularizes with --lambda-l and --mu, not --alpha-w/--alpha-h/--l1-ratio",
        ));
    }
    let mu = match &s.mu {
        None => Vec::new(),
        Some(text) => text
            .split(',')
            .map(|v| {
                v.trim().parse::<f64>().map_err(|_| {
                    CliError::usage(format!("--mu '{text}': '{}' is not a number", v.trim()))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let init = match a.init.as_str() {
        "custom" => Init::Auto,
        other => Init::parse(other).map_err(usage)?,
    };
    let mut est = SmoothNmf::new(a.rank)
        .lambda_l(s.lambda_l)
        .mu(mu)
        .epsilon_reg(s.epsilon_reg)
        .simplex(Simplex::parse(&s.simplex).map_err(usage)?)
        .normalize(s.normalize)
        .max_iter(a.model.max_iter)
        .tol(a.model.tol)
        .eval_every(s.eval_every)
        .init(init)
        .seed(a.model.seed)
        .threads(a.model.threads);
    if let Some(shape) = &s.image_shape {
        let (h, w) = super::parse_shape(shape)?;
        est = est.image_shape(h, w);
    }
    if let Some(t) = a.model.time_limit {
        if !(t > 0.0) || !t.is_finite() {
            return Err(CliError::usage(format!(
                "--time-limit must be a positive number of seconds, got {t}"
            )));
        }
        est.time_limit = Some(Duration::from_secs_f64(t));
    }
    Ok(est)
}

/// Fits the smooth model and writes W, H, GW (with a dictionary) and the
/// report into `out`.
pub fn fit_and_write(
    a: &FitArgs,
    x: &Matrix,
    input_desc: Value,
    read_s: f64,
) -> Result<FitOutcome, CliError> {
    let t0 = Instant::now();
    let est = estimator(a)?;
    let format = Format::parse(&a.format)?;
    let Matrix::Dense(xd) = x else {
        return Err(CliError::input(
            &a.input,
            "the smooth model needs dense data (spectrum images are stored dense): save X as .npy or .csv",
        ));
    };
    let g = a
        .smooth
        .dictionary
        .as_deref()
        .map(io::read_dense)
        .transpose()?;
    let custom = a.custom_start()?;
    let mut reporter = Reporter::new(a.quiet, a.model.max_iter);
    let mut cb = |p: &nmfkit::Progress| reporter.update(p);
    let opts = SmoothOptions {
        w0: custom.as_ref().map(|c| &c.0),
        h0: custom.as_ref().map(|c| &c.1),
        progress: Some(&mut cb),
        ..Default::default()
    };
    let fit = est
        .fit_with(xd.as_ref(), g.as_ref().map(|g| g.as_ref()), opts)
        .map_err(|e| {
            let ctx = match &e {
                nmfkit::NmfError::Shape { what: "G", .. }
                | nmfkit::NmfError::Negative { what: "G", .. }
                | nmfkit::NmfError::NonFinite { what: "G", .. } => a.smooth.dictionary.as_deref(),
                nmfkit::NmfError::InvalidParameter {
                    name: "dictionary", ..
                } => a.smooth.dictionary.as_deref(),
                nmfkit::NmfError::Shape { what: "H", .. }
                | nmfkit::NmfError::AllZero { what: "H" } => a.h0.as_deref(),
                nmfkit::NmfError::Shape { what: "W", .. }
                | nmfkit::NmfError::AllZero { what: "W" } => a.w0.as_deref(),
                nmfkit::NmfError::InvalidParameter { .. } => None,
                _ => Some(a.input.as_path()),
            };
            CliError::nmf(ctx, e)
        })?;
    reporter.finish();
    let fit_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let rel = nmfkit::relative_error(x.input(), &fit.gw, &fit.h);
    let result = json!({
        "n_iter": fit.n_iter,
        "stop_reason": fit.stop.name(),
        "converged": fit.stop.converged(),
        "interrupted": fit.stop == nmfkit::StopReason::Cancelled,
        "objective": fit.objective,
        "kl": fit.divergence,
        "laplacian": fit.penalty("laplacian"),
        "log_term": fit.penalty("log"),
        "norm_factor": fit.norm_factor,
        "relative_error": rel,
    });
    let history: Vec<Value> = fit
        .history
        .iter()
        .map(|e| {
            json!({
                "iter": e.iter,
                "time_s": e.time_s,
                "loss": e.objective,
                "kl": e.divergence,
                "laplacian": e.penalties[0],
                "log_term": e.penalties[1],
            })
        })
        .collect();
    let mut report = json!({
        "nmfkit_version": env!("CARGO_PKG_VERSION"),
        "command": "fit",
        "model": "smooth",
        "input": input_desc,
        "dictionary": a.smooth.dictionary.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        "params": {
            "rank": est.rank,
            "model": "smooth",
            "loss": "kl",
            "beta": 1.0,
            "lambda_l": est.lambda_l,
            "mu": est.mu,
            "epsilon_reg": est.epsilon_reg,
            "eps": est.eps,
            "simplex": est.simplex.name(),
            "normalize": est.normalize,
            "init": est.init.name(),
            "seed": est.seed,
            "max_iter": est.max_iter,
            "tol": est.tol,
            "eval_every": est.eval_every,
            "time_limit_s": est.time_limit.map(|d| d.as_secs_f64()),
        },
        "factor_format": format.extension(),
        "image_shape": est.image_shape.map(|(h, w)| json!([h, w])),
        "result": result,
        "timings": {"read_s": read_s, "fit_s": fit.fit_time.as_secs_f64(), "total_fit_s": fit_s},
        "history": history,
    });
    let mut staged = Staged::new(&a.out)?;
    let ext = format.extension();
    staged.matrix(&format!("W.{ext}"), &Matrix::Dense(fit.w.clone()))?;
    staged.matrix(&format!("H.{ext}"), &Matrix::Dense(fit.h.clone()))?;
    if g.is_some() {
        staged.matrix(&format!("GW.{ext}"), &Matrix::Dense(fit.gw.clone()))?;
    }
    report["timings"]["write_s"] = json!(t1.elapsed().as_secs_f64());
    staged.json("report.json", &report)?;
    staged.commit()?;
    Ok(FitOutcome { fit: None, report })
}
