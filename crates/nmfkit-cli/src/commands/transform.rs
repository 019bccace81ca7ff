//! `nmfkit transform`: coefficients of new rows with the fitted H fixed.

use crate::fitting::same_columns;
use clap::Args;
use nmfkit_io::formats::{read_named, write_named, Layout, Matrix};
use nmfkit_io::model::Model;
use nmfkit_io::names::{component_names, Names};
use nmfkit_io::Error;
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

pub fn run(a: TransformArgs) -> Result<(), Error> {
    let model = Model::read(&a.model)?;
    let (x, names) = read_named(&a.input, Layout::default())?;
    same_columns(&x, &names, &model, &a.input)?;
    let est = model.estimator()?.max_iter(a.max_iter).tol(a.tol);
    let w = est
        .transform(x.input(), &model.h)
        .map_err(|e| Error::nmf(Some(&a.input), e))?;
    let (n, k) = (w.nrows, w.ncols);
    let labels = Names {
        rows: names.rows,
        cols: Some(component_names(k)),
    };
    write_named(&a.out, &Matrix::Dense(w), &labels)?;
    if a.json {
        crate::print_json(
            &serde_json::json!({"command": "transform", "shape": [n, k], "out": a.out}),
        );
    } else if !a.quiet {
        nmfkit_io::note!("wrote the {n}×{k} coefficients to {}", a.out.display());
    }
    Ok(())
}
