//! `nmfkit impute`: fill the missing entries of a matrix from a model.

use crate::fitting::same_columns;
use crate::flags::MaskFlags;
use clap::Args;
use nmfkit::{FitOptions, SolverKind};
use nmfkit_io::formats::{read_named, write_matrix, Format, Layout};
use nmfkit_io::model::Model;
use nmfkit_io::Error;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    about = "Fill the missing entries of a matrix with W·H from a fitted model",
    after_help = "Examples:\n  nmfkit fit ratings.npy --rank 10 --missing nan --out model\n  nmfkit impute ratings.npy --model model --missing nan --out filled.npy\n  nmfkit impute X.csv --model model --mask M.csv --out filled.csv\n  nmfkit impute counts.npz --model model --missing-entries holes.mtx --out filled.npz\n\nW for the rows of INPUT is fitted on their observed entries with the model's H fixed; the\nobserved entries are copied unchanged and the missing ones (weight 0) replaced by W·H."
)]
pub struct ImputeArgs {
    pub input: PathBuf,
    /// Folder written by `nmfkit fit`.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub mask: MaskFlags,
    /// The filled matrix (.npy, .csv, .tsv, .mtx or .npz).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 500)]
    pub max_iter: usize,
    #[arg(long, default_value_t = 1e-8)]
    pub tol: f64,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print a JSON summary to stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ImputeArgs) -> Result<(), Error> {
    if !a.mask.active() {
        return Err(Error::usage(
            "say which entries are missing: --mask FILE, --missing-entries FILE and/or --missing nan|unstored",
        ));
    }
    Format::of(&a.out)?;
    let model = Model::read(&a.model)?;
    let (x, names) = read_named(&a.input, Layout::default())?;
    same_columns(&x, &names, &model, &a.input)?;
    let (n, m) = x.shape();
    let weighted = a.mask.weighted(&x, &a.input, false)?;
    let mut est = model.estimator()?.max_iter(a.max_iter).tol(a.tol);
    if est.loss.beta() == 2.0 {
        // W given H is a set of independent least-squares rows: solve them exactly.
        est = est.solver(SolverKind::AnlsBpp).extrapolate(false);
    }
    let opts = FitOptions {
        h0: Some(&model.h),
        update_h: false,
        ..Default::default()
    };
    let blame = |e| Error::nmf(Some(&a.input), e);
    let fit = est.fit_weighted(&weighted, opts).map_err(blame)?;
    let out = weighted.impute(&fit.w, &model.h).map_err(blame)?;
    let missing = weighted.missing_count();
    write_matrix(&a.out, &out)?;
    if a.json {
        crate::print_json(
            &serde_json::json!({"command": "impute", "shape": [n, m], "missing_entries": missing, "out": a.out, "n_iter": fit.n_iter}),
        );
    } else if !a.quiet {
        nmfkit_io::note!(
            "filled {missing} missing entries of the {n}×{m} matrix; wrote {}",
            a.out.display()
        );
    }
    Ok(())
}
