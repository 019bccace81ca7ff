//! Rank 0 gathers the factor pieces and the per-rank figures, and writes
//! the model folder with its report.

use crate::fit::Plan;
use crate::grid::{self, Layout};
use crate::FitArgs;
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use nmfkit::{Mat, NmfFit};
use nmfkit_io::folder::Staged;
use nmfkit_io::model::{write_factors, write_report, Factors};
use nmfkit_io::report::{self, FitReport, FitResult, InputInfo, Params, Timings};
use nmfkit_io::Error as CliError;
use serde_json::json;

/// Rank 0 gets W (n×k), H (k×m) and every rank's `mine`.
pub(crate) fn gather(
    world: &SimpleCommunicator,
    layout: &Layout,
    fit: &NmfFit<f64>,
    mine: &[f64; 3],
) -> (Option<Mat<f64>>, Option<Mat<f64>>, Vec<f64>) {
    let k = fit.h.nrows;
    let p = layout.p();
    let root = world.process_at_rank(0);
    let wt = fit.w.transpose();
    if world.rank() != 0 {
        root.gather_varcount_into(&wt.data[..]);
        root.gather_varcount_into(&fit.h.data[..]);
        root.gather_into(&mine[..]);
        return (None, None, Vec::new());
    }
    let pieces = |f: &dyn Fn(usize, usize) -> std::ops::Range<usize>| -> (Vec<i32>, Vec<i32>) {
        let mut counts = Vec::new();
        let mut displs = Vec::new();
        let mut at = 0;
        for r in 0..p {
            let (i, j) = layout.coords(r);
            let len = (f(i, j).len() * k) as i32;
            counts.push(len);
            displs.push(at);
            at += len;
        }
        (counts, displs)
    };
    let mut w_all = vec![0.0; layout.n * k];
    let (c, d) = pieces(&|i, j| layout.w_piece(i, j));
    root.gather_varcount_into_root(&wt.data[..], &mut PartitionMut::new(&mut w_all[..], c, d));
    let mut h_all = vec![0.0; layout.m * k];
    let (c, d) = pieces(&|i, j| layout.h_piece(i, j));
    root.gather_varcount_into_root(
        &fit.h.data[..],
        &mut PartitionMut::new(&mut h_all[..], c.clone(), d.clone()),
    );
    let mut stats = vec![0.0; 3 * p];
    root.gather_into_root(&mine[..], &mut stats[..]);
    // W's rows come in world-rank order; H's pieces are placed by their columns.
    let w = Mat::from_col_major(k, layout.n, w_all)
        .expect("k × n")
        .transpose();
    let mut h = Mat::zeros(k, layout.m);
    for r in 0..p {
        let (i, j) = layout.coords(r);
        let cols = layout.h_piece(i, j);
        let src = &h_all[d[r] as usize..d[r] as usize + c[r] as usize];
        h.data[cols.start * k..cols.end * k].copy_from_slice(src);
    }
    (Some(w), Some(h), stats)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn write_model(
    a: &FitArgs,
    plan: &Plan,
    fit: &NmfFit<f64>,
    w: Mat<f64>,
    h: Mat<f64>,
    stats: &[f64],
    read_s: f64,
    fit_s: f64,
    x_sq: f64,
) -> Result<(), CliError> {
    let format = a.format.format;
    let p = plan.layout.p();
    let col = |c: usize| -> Vec<f64> { (0..p).map(|r| stats[3 * r + c]).collect() };
    let (comm, bytes, compute) = (col(0), col(1), col(2));
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let faun = 8.0 * grid::faun_words(&plan.layout, a.rank);
    let full = NmfFit {
        w,
        h,
        ..fit.clone()
    };
    let (n, m) = (plan.layout.n, plan.layout.m);
    let input = InputInfo {
        path: std::fs::canonicalize(&a.input).unwrap_or_else(|_| a.input.clone()),
        shape: [n, m],
        nnz: 0,
        sparse: false,
        transposed: false,
    };
    let rel = (x_sq > 0.0).then(|| (2.0 * full.divergence.max(0.0) / x_sq).sqrt());
    let mut params = Params::of(&plan.est);
    params.init = format!("{:?}", a.start.init).to_lowercase();
    let result = FitResult::of(
        &full,
        if plan.est.loss.beta() == 2.0 {
            rel
        } else {
            None
        },
    );
    let mut report = FitReport::new("nmfkit-mpi fit", input, params, result);
    report.factor_format = format.extension().into();
    report.timings = Timings {
        read_s,
        fit_s,
        total_fit_s: fit_s,
        ..Default::default()
    };
    report.history = report::history(&fit.history, &fit.penalty_names);
    report.distributed = Some(json!({
        "ranks": p,
        "grid": [plan.layout.pr, plan.layout.pc],
        "threads_per_rank": plan.threads,
        "per_iteration": {
            "time_s": fit_s / fit.n_iter.max(1) as f64,
            "compute_s_max": max(&compute),
            "communicate_s_max": max(&comm),
            "communicate_s_mean": mean(&comm),
            "bytes_received_per_rank_mean": mean(&bytes),
            "bytes_received_per_rank_max": max(&bytes),
            "mpi_faun_formula_bytes": faun,
        },
    }));
    let out = &a.output;
    let mut staged = Staged::new(&out.out, out.force)?;
    let factors = Factors {
        w: &full.w,
        h: &full.h,
        gw: None,
        // The distributed reader takes numbers only (.npy/.npz/.mtx).
        names: &nmfkit_io::names::Names::default(),
    };
    write_factors(&mut staged, format, &factors)?;
    write_report(&mut staged, &report)?;
    staged.commit()?;
    if out.json {
        nmfkit_io::stdout::print_json(&report);
    } else if !out.quiet {
        nmfkit_io::note!(
            "{} ranks ({}x{}): {} iterations, stopped: {}, divergence {:.6e}; wrote {}",
            p,
            plan.layout.pr,
            plan.layout.pc,
            fit.n_iter,
            report.result.stop_reason,
            fit.divergence,
            out.out.display()
        );
    }
    Ok(())
}
