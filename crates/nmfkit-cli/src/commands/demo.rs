//! `nmfkit demo`: generate a data set, fit it, write everything (data, true
//! factors, model, report, plots, evaluation) and say what was recovered.

use super::fit::{fit_and_write, FitArgs, ModelArgs};
use super::gen::{generate, GenArgs, Kind};
use super::rank::{print_table, survey_and_write, RankArgs};
use crate::error::CliError;
use crate::io::{self, Matrix};
use clap::Args;
use nmfkit::Mat;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    about = "Generate a data set, factorize it, plot and evaluate the result",
    after_help = "Data sets:\n  swimmer   256 stick figures; rank 17 recovers the torso and the 16 limb positions (parts-based learning)\n  spectra   a spectrum image with Poisson noise; KL NMF with rank 3 unmixes the phases and their maps\n  lowrank   a noisy rank-8 matrix; HALS recovers it\n  clusters  300 samples in 4 clusters; `nmfkit rank` over ranks 2–8 finds 4 (rank selection)\n\nExample:\n  nmfkit demo --out demo_out && ls demo_out"
)]
pub struct DemoArgs {
    #[arg(value_enum, default_value = "swimmer")]
    pub kind: Kind,
    #[arg(long, default_value = "nmfkit_demo")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print a JSON summary to stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DemoArgs) -> Result<(), CliError> {
    let gen_args = GenArgs {
        kind: a.kind,
        out: a.out.join("X.npy"),
        seed: a.seed,
        rows: if a.kind == Kind::Clusters { 300 } else { 1000 },
        cols: if a.kind == Kind::Clusters { 120 } else { 400 },
        rank: if a.kind == Kind::Clusters { 4 } else { 8 },
        noise: if a.kind == Kind::Clusters { 0.1 } else { 0.01 },
        sparse: false,
        density: 0.01,
        counts: 300.0,
        image_shape: "64x64".into(),
        channels: 200,
        phases: 3,
        quiet: true,
        json: false,
    };
    let g = generate(&gen_args)?;
    std::fs::create_dir_all(&a.out).map_err(|e| CliError::output(&a.out, io::describe_io(&e)))?;
    let x_path = a.out.join("X.npy");
    io::write_matrix(&x_path, &g.x)?;
    io::write_matrix(&a.out.join("truth_W.npy"), &Matrix::Dense(g.w.clone()))?;
    io::write_matrix(&a.out.join("truth_H.npy"), &Matrix::Dense(g.h.clone()))?;

    if a.kind == Kind::Clusters {
        return clusters_demo(&a, &x_path);
    }
    let (rank, loss, solver, init, max_iter, tol) = match a.kind {
        Kind::Clusters => unreachable!("handled above"),
        // Parts need sparse factors: NNDSVD keeps its zeros, HALS keeps them sparse.
        Kind::Swimmer => (17, "frobenius", "hals", "nndsvd", 2000, 1e-7),
        // Photon counts: the Poisson (KL) loss.
        Kind::Spectra => (3, "kl", "mu", "nndsvda", 500, 1e-6),
        Kind::Lowrank => (8, "frobenius", "hals", "auto", 1000, 1e-5),
    };
    // Swimmer: NMF has several exact solutions (the torso can be shared out
    // among the limbs); among a few restarts keep the best fit, and among
    // equally good fits the most parts-like one (the sparsest H once every
    // column of W is scaled to a maximum of 1).
    let seed = if a.kind == Kind::Swimmer {
        best_swimmer_seed(&g.x, a.seed)?
    } else {
        a.seed
    };
    let fit_args = FitArgs {
        input: x_path.clone(),
        rank,
        init: init.into(),
        w0: None,
        h0: None,
        smooth: Default::default(),
        mask: Default::default(),
        model: ModelArgs {
            loss: Some(loss.into()),
            solver: Some(solver.into()),
            seed,
            max_iter,
            tol,
            time_limit: None,
            alpha_w: 0.0,
            alpha_h: None,
            l1_ratio: 0.0,
            threads: 0,
            extrapolate: "auto".into(),
        },
        transpose: false,
        out: a.out.clone(),
        format: "npy".into(),
        quiet: a.quiet || a.json,
        json: false,
    };
    let (n, m) = g.x.shape();
    let desc = json!({"path": std::fs::canonicalize(&x_path).unwrap_or(x_path.clone()), "shape": [n, m], "nnz": g.x.nnz(), "sparse": false, "transposed": false});
    let out = fit_and_write(&fit_args, &g.x, desc, 0.0)?;
    // Record the image shape so that `nmfkit plot` draws the maps as images.
    if let Some((h, w)) = g.image_shape {
        let mut report = out.report.clone();
        report["image_shape"] = json!([h, w]);
        report["demo"] = json!(format!("{:?}", a.kind).to_lowercase());
        let rp = a.out.join("report.json");
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        io::atomic_write(&rp, |t| std::fs::write(t, text.as_bytes()))?;
    }
    let written = super::plot::draw_all(&a.out, g.image_shape, Some(&x_path))?;

    let fit = out.fit.as_ref().expect("the demos fit the standard model");
    let (w_est, h_est, w_true, h_true) = match a.kind {
        // Spectra: compare unit-sum spectra (columns of W), maps scaled to match.
        Kind::Spectra => {
            let (w, mut h) = unit_sum_columns(&fit.w, &fit.h);
            // H then holds counts per pixel; the true maps are fractions.
            let total: f64 = h.data.iter().sum::<f64>() / h.ncols as f64;
            h.data.iter_mut().for_each(|v| *v /= total);
            (w, h, g.w.clone(), g.h.clone())
        }
        _ => (fit.w.clone(), fit.h.clone(), g.w.clone(), g.h.clone()),
    };
    let truth = match a.kind {
        Kind::Spectra => super::eval::compare(
            &h_est.transpose(),
            &w_est.transpose(),
            Some(&h_true.transpose()),
            Some(&w_true.transpose()),
        ),
        _ => super::eval::compare(&w_est, &h_est, Some(&w_true), Some(&h_true)),
    };
    let eval = json!({
        "relative_error": out.report["result"]["relative_error"],
        "iterations": fit.n_iter,
        "stop_reason": fit.stop.name(),
        "truth": truth,
    });
    let ep = a.out.join("eval.json");
    let text = serde_json::to_string_pretty(&eval).unwrap_or_default();
    io::atomic_write(&ep, |t| std::fs::write(t, text.as_bytes()))?;

    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"command": "demo", "report": out.report, "eval": eval, "plots": written})
            )
            .unwrap_or_default()
        );
    } else if !a.quiet {
        let angles: Vec<f64> = truth["components"]
            .as_array()
            .map(|c| c.iter().filter_map(|x| x["angle_deg"].as_f64()).collect())
            .unwrap_or_default();
        let good = angles.iter().filter(|&&x| x < 10.0).count();
        println!(
            "nmfkit demo: {:?} data, {n}×{m}, rank {rank}, {loss} loss, {solver} solver",
            a.kind
        );
        println!(
            "  fit: {} iterations ({}), relative error ‖X − WH‖/‖X‖ = {:.3e}, {:.2} s",
            fit.n_iter,
            fit.stop.name(),
            eval["relative_error"].as_f64().unwrap_or(f64::NAN),
            fit.fit_time.as_secs_f64()
        );
        let what = match a.kind {
            Kind::Swimmer => "parts (torso and limb positions)",
            Kind::Spectra => "phase spectra",
            Kind::Lowrank | Kind::Clusters => "planted components",
        };
        println!(
            "  recovered {good} of {} {what} within 10° (best one-to-one matching: mean angle {:.2}°, worst {:.2}°)",
            angles.len(),
            truth["mean_angle_deg"].as_f64().unwrap_or(f64::NAN),
            truth["max_angle_deg"].as_f64().unwrap_or(f64::NAN)
        );
        if a.kind == Kind::Spectra {
            let mse: Vec<String> = truth["components"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(|x| x["w_mse"].as_f64())
                        .map(|v| format!("{v:.4}"))
                        .collect()
                })
                .unwrap_or_default();
            println!(
                "  abundance maps, mean squared error per phase: {}",
                mse.join(", ")
            );
        }
        println!(
            "  wrote X.npy, truth_W.npy, truth_H.npy, W.npy, H.npy, report.json, eval.json and"
        );
        for w in written {
            println!("        {}", w.display());
        }
    }
    Ok(())
}

/// Rank selection on 300 samples in 4 planted clusters: a survey of ranks
/// 2–8 with 20 runs each, beside a randomized copy.
fn clusters_demo(a: &DemoArgs, x_path: &std::path::Path) -> Result<(), CliError> {
    let planted = 4;
    let args = RankArgs {
        input: x_path.to_path_buf(),
        ranks: "2..8".into(),
        runs: 20,
        cluster: "rows".into(),
        random_copy: true,
        cv_folds: 0,
        cv_fraction: 0.1,
        model: ModelArgs {
            loss: None,
            solver: Some("hals".into()),
            seed: a.seed,
            max_iter: 200,
            tol: 1e-4,
            time_limit: None,
            alpha_w: 0.0,
            alpha_h: None,
            l1_ratio: 0.0,
            threads: 0,
            extrapolate: "auto".into(),
        },
        transpose: false,
        out: a.out.clone(),
        no_plots: false,
        quiet: a.quiet || a.json,
        json: false,
    };
    let (report, table) = survey_and_write(&args)?;
    let suggested = report["suggested_rank"].as_u64();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"command": "demo", "planted_rank": planted, "report": report})
            )
            .unwrap_or_default()
        );
    } else if !a.quiet {
        println!("nmfkit demo: 300 samples in {planted} planted clusters (300×120), ranks 2–8, 20 HALS runs each");
        print_table(&table);
        println!(
            "  suggested rank {} (planted: {planted}): highest dispersion among the ranks with the best cophenetic correlation",
            suggested.map_or("?".to_string(), |k| k.to_string())
        );
        println!("  wrote X.npy, truth_W.npy, truth_H.npy, rank.json, rank.csv, clusters.csv, rank.png and consensus_<k>.png into {}", a.out.display());
    }
    Ok(())
}

/// Scales W's columns to sum 1 (and H's rows the other way).
fn unit_sum_columns(w: &Mat<f64>, h: &Mat<f64>) -> (Mat<f64>, Mat<f64>) {
    let k = w.ncols;
    let s: Vec<f64> = (0..k)
        .map(|t| (0..w.nrows).map(|i| w.get(i, t)).sum::<f64>())
        .collect();
    let scale = |t: usize| if s[t] > 0.0 { s[t] } else { 1.0 };
    (
        Mat::from_fn(w.nrows, k, |i, t| w.get(i, t) / scale(t)),
        Mat::from_fn(k, h.ncols, |t, j| h.get(t, j) * scale(t)),
    )
}

/// The seed, among 8 from `base`, whose HALS + NNDSVD fit scores best.
fn best_swimmer_seed(x: &Matrix, base: u64) -> Result<u64, CliError> {
    let mut best: Option<(f64, f64, u64)> = None;
    let scale = x.sq_norm();
    for seed in base..base + 8 {
        let fit = nmfkit::Nmf::new(17)
            .solver(nmfkit::SolverKind::Hals)
            .init(nmfkit::Init::Nndsvd)
            .seed(seed)
            .max_iter(2000)
            .tol(1e-7)
            .fit(x.input())
            .map_err(|e| CliError::nmf(None, e))?;
        // Objectives equal to 1e-6 of ‖X‖² count as ties.
        let obj = (fit.objective / scale * 1e6).round();
        let mass: f64 = (0..17)
            .map(|t| {
                let wmax = (0..fit.w.nrows)
                    .map(|i| fit.w.get(i, t))
                    .fold(0.0, f64::max);
                (0..fit.h.ncols).map(|j| fit.h.get(t, j)).sum::<f64>() * wmax
            })
            .sum();
        if best.is_none_or(|(bo, bm, _)| (obj, mass) < (bo, bm)) {
            best = Some((obj, mass, seed));
        }
    }
    Ok(best.map_or(base, |b| b.2))
}
