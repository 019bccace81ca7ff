//! `nmfkit eval`: reconstruction error and loss, and with ground truth the
//! best one-to-one matching of components (Hungarian assignment).

use crate::error::CliError;
use crate::io;
use crate::model_dir;
use clap::Args;
use nmfkit::metrics::{map_errors, match_rows};
use nmfkit::{DenseData, Mat, SparseData};
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    about = "Evaluate a model on a matrix (and against true factors), printing JSON",
    after_help = "Example:\n  nmfkit eval X.npy --model model --truth-w X_W.npy --truth-h X_H.npy"
)]
pub struct EvalArgs {
    pub input: PathBuf,
    #[arg(long)]
    pub model: PathBuf,
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

/// Matches estimated components to true ones by the rows of H (or, with
/// only W given, the columns of W). Estimated pairs are rescaled so that
/// their H rows have the true norms before errors are taken.
pub fn compare(w: &Mat<f64>, h: &Mat<f64>, tw: Option<&Mat<f64>>, th: Option<&Mat<f64>>) -> Value {
    let by_h = th.is_some();
    let (est, tru) = match (tw, th) {
        (_, Some(th)) => (h.clone(), th.clone()),
        (Some(tw), None) => (w.transpose(), tw.transpose()),
        (None, None) => return Value::Null,
    };
    if est.ncols != tru.ncols || est.nrows < tru.nrows {
        return json!({"error": format!("true factors ({}×{}) do not fit the model's ({}×{})", tru.nrows, tru.ncols, est.nrows, est.ncols)});
    }
    let matching = match_rows(&est, &tru);
    let norm = |m: &Mat<f64>, i: usize| {
        (0..m.ncols)
            .map(|j| m.get(i, j).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut comps = Vec::new();
    for (t, &e) in matching.assignment.iter().enumerate() {
        let ne = norm(&est, e);
        let s = if ne > 0.0 { norm(&tru, t) / ne } else { 1.0 };
        let erow: Vec<f64> = (0..est.ncols).map(|j| est.get(e, j) * s).collect();
        let trow: Vec<f64> = (0..tru.ncols).map(|j| tru.get(t, j)).collect();
        let errs = map_errors(&erow, &trow);
        let mut c = json!({"truth": t, "estimate": e, "angle_deg": matching.angles[t], "mse": errs.mse, "mae": errs.mae, "r2": errs.r2});
        // The other factor, scaled the other way.
        let other = match (by_h, tw) {
            (true, Some(tw)) if tw.nrows == w.nrows => Some((
                (0..w.nrows).map(|i| w.get(i, e) / s).collect::<Vec<_>>(),
                (0..tw.nrows).map(|i| tw.get(i, t)).collect::<Vec<_>>(),
            )),
            _ => None,
        };
        if let Some((ew, twc)) = other {
            c["w_angle_deg"] = json!(nmfkit::metrics::spectral_angle(&ew, &twc));
            c["w_mse"] = json!(map_errors(&ew, &twc).mse);
        }
        comps.push(c);
    }
    let angles = &matching.angles;
    json!({
        "matched_by": if by_h { "rows of H" } else { "columns of W" },
        "mean_angle_deg": angles.iter().sum::<f64>() / angles.len().max(1) as f64,
        "max_angle_deg": angles.iter().cloned().fold(0.0, f64::max),
        "components": comps,
    })
}

pub fn run(a: EvalArgs) -> Result<(), CliError> {
    let model = model_dir::read(&a.model)?;
    let x = io::read_matrix(&a.input)?;
    let (n, m) = x.shape();
    if (n, m) != (model.w.nrows, model.h.ncols) {
        return Err(CliError::input(
            &a.input,
            format!(
                "is {n}×{m} but the model is {}×{}",
                model.w.nrows, model.h.ncols
            ),
        ));
    }
    let beta = model.report["params"]["beta"].as_f64().unwrap_or(2.0);
    let wt = model.w.transpose();
    let loss = match x.input() {
        nmfkit::Input::Dense(d) => nmfkit::beta_divergence(&DenseData::new(d), &wt, &model.h, beta),
        nmfkit::Input::Sparse(s) => {
            nmfkit::beta_divergence(&SparseData::new(s), &wt, &model.h, beta)
        }
    };
    let tw = a.truth_w.as_deref().map(io::read_dense).transpose()?;
    let th = a.truth_h.as_deref().map(io::read_dense).transpose()?;
    let out = json!({
        "input": a.input,
        "shape": [n, m],
        "beta": beta,
        "loss": loss,
        "reconstruction_err": (2.0 * loss.max(0.0)).sqrt(),
        "relative_error": nmfkit::relative_error(x.input(), &model.w, &model.h),
        "truth": compare(&model.w, &model.h, tw.as_ref(), th.as_ref()),
    });
    let text = serde_json::to_string_pretty(&out).unwrap_or_default();
    if let Some(p) = &a.out {
        io::atomic_write(p, |t| std::fs::write(t, text.as_bytes()))?;
    }
    if !a.quiet {
        println!("{text}");
    }
    Ok(())
}
