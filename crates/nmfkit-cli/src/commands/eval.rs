//! `nmfkit eval`: the model's divergence and relative error on a matrix —
//! on its observed entries only with --missing/--mask, and on new rows
//! through `transform` (a held-out score) — and, with true factors, the
//! best one-to-one matching of components.

use crate::compare::compare;
use crate::fitting::same_columns;
use crate::flags::MaskFlags;
use clap::Args;
use nmfkit::metrics::explained_variance_per_component;
use nmfkit::{FitOptions, Mat, NmfError};
use nmfkit_io::formats::{read_dense, read_named, Layout};
use nmfkit_io::model::Model;
use nmfkit_io::Error;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    about = "Evaluate a model on a matrix (and against true factors), printing JSON",
    after_help = "Examples:\n  nmfkit eval X.npy --model model --truth-w X_W.npy --truth-h X_H.npy\n  nmfkit eval X_with_nan.npy --model model --missing nan\n  nmfkit eval new_rows.npy --model model      # held out: W from transform, then scored\n\nNaN entries are an error unless --missing nan says they are missing."
)]
pub struct EvalArgs {
    pub input: PathBuf,
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub mask: MaskFlags,
    /// True W (rows × k').
    #[arg(long)]
    pub truth_w: Option<PathBuf>,
    /// True H (k' × columns).
    #[arg(long)]
    pub truth_h: Option<PathBuf>,
    /// Also write the JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing (use with --out). The JSON is printed by default.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(a: EvalArgs) -> Result<(), Error> {
    let model = Model::read(&a.model)?;
    let (x, names) = read_named(&a.input, Layout::default())?;
    same_columns(&x, &names, &model, &a.input)?;
    let (n, m) = x.shape();
    let beta = model.beta();
    let blame = |e: NmfError| Error::nmf(Some(&a.input), e);
    let weighted = if a.mask.active() {
        Some(a.mask.weighted(&x, &a.input, false)?)
    } else {
        x.input().validate().map_err(|e| {
            let hint = match e {
                NmfError::NonFinite { .. } => {
                    " (give --missing nan to score only the observed entries)"
                }
                _ => "",
            };
            Error::input(&a.input, format!("{e}{hint}"))
        })?;
        None
    };
    // New rows: their W from the model's H, as `transform` computes it.
    let held_out = n != model.w.nrows;
    let w: Mat<f64> = if held_out {
        let est = model.estimator()?.max_iter(500).tol(1e-8);
        let opts = FitOptions {
            h0: Some(&model.h),
            update_h: false,
            ..Default::default()
        };
        let fit = match &weighted {
            Some(wd) => est.fit_weighted(wd, opts),
            None => est.fit_with(x.input(), opts),
        };
        fit.map_err(blame)?.w
    } else {
        model.w.clone()
    };
    let (divergence, relative_error) = match &weighted {
        Some(wd) => (
            wd.divergence(&w, &model.h, beta).map_err(blame)?,
            wd.relative_error(&w, &model.h).map_err(blame)?,
        ),
        None => (
            x.input().divergence(&w, &model.h, beta),
            nmfkit::relative_error(x.input(), &w, &model.h),
        ),
    };
    let per_component = explained_variance_per_component(&w, &model.h, |wc, hc| match &weighted {
        Some(wd) => wd.relative_error(wc, hc),
        None => Ok(nmfkit::relative_error(x.input(), wc, hc)),
    })
    .map_err(blame)?;
    let tw = a.truth_w.as_deref().map(read_dense).transpose()?;
    let th = a.truth_h.as_deref().map(read_dense).transpose()?;
    let out = json!({
        "input": a.input,
        "shape": [n, m],
        "beta": beta,
        "held_out": held_out,
        "observed_entries": weighted.as_ref().map(|wd| n * m - wd.missing_count()),
        "divergence": divergence,
        "reconstruction_err": (2.0 * divergence.max(0.0)).sqrt(),
        "relative_error": relative_error,
        "explained_variance": 1.0 - relative_error * relative_error,
        "component_explained_variance": per_component,
        "truth": compare(&w, &model.h, tw.as_ref(), th.as_ref()),
    });
    let text = serde_json::to_string_pretty(&out).unwrap_or_default();
    if let Some(p) = &a.out {
        nmfkit_io::formats::atomic_write(p, |t| std::fs::write(t, text.as_bytes()))?;
    }
    if !a.quiet {
        crate::print_line(&text);
    }
    Ok(())
}
