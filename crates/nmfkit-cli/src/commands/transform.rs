//! `nmfkit transform`: coefficients of new rows with the fitted H fixed.

use crate::error::CliError;
use crate::io::{self, Matrix};
use crate::model_dir;
use clap::Args;
use nmfkit::{Loss, Nmf, Regularization, SolverKind};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    about = "Compute W for new rows with the fitted H fixed",
    after_help = "Example:\n  nmfkit transform --model model new_rows.npy --out W_new.npy"
)]
pub struct TransformArgs {
    /// Folder written by `nmfkit fit`.
    #[arg(long)]
    pub model: PathBuf,
    /// New rows, with as many columns as the fitted data.
    pub input: PathBuf,
    /// Output file (.npy, .csv, .tsv, .mtx or .npz).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 200)]
    pub max_iter: usize,
    #[arg(long, default_value_t = 1e-4)]
    pub tol: f64,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print a JSON summary to stdout.
    #[arg(long)]
    pub json: bool,
}

/// The estimator a model was fitted with, from its report.
pub fn estimator_of(report: &Value, rank: usize) -> Result<Nmf, CliError> {
    let p = &report["params"];
    let loss = Loss::from_beta(p["beta"].as_f64().unwrap_or(2.0))
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let solver = SolverKind::parse(p["solver"].as_str().unwrap_or("cd"))
        .map_err(|e| CliError::Internal(e.to_string()))?;
    Ok(Nmf::new(rank)
        .loss(loss)
        .solver(solver)
        .seed(p["seed"].as_u64().unwrap_or(0))
        .regularization(Regularization {
            alpha_w: p["alpha_w"].as_f64().unwrap_or(0.0),
            alpha_h: p["alpha_h"].as_f64(),
            l1_ratio: p["l1_ratio"].as_f64().unwrap_or(0.0),
        }))
}

pub fn run(a: TransformArgs) -> Result<(), CliError> {
    let model = model_dir::read(&a.model)?;
    let x = io::read_matrix(&a.input)?;
    let (n, m) = x.shape();
    if m != model.h.ncols {
        return Err(CliError::input(
            &a.input,
            format!(
                "has {m} columns but the model was fitted on {} columns",
                model.h.ncols
            ),
        ));
    }
    let est = estimator_of(&model.report, model.h.nrows)?
        .max_iter(a.max_iter)
        .tol(a.tol);
    let w = est
        .transform(x.input(), &model.h)
        .map_err(|e| CliError::nmf(Some(&a.input), e))?;
    io::write_matrix(&a.out, &Matrix::Dense(w))?;
    if !a.quiet {
        eprintln!(
            "wrote the {n}×{} coefficients to {}",
            model.h.nrows,
            a.out.display()
        );
    }
    Ok(())
}
