//! nmfkit's benchmark harness.
//!
//! `nmfkit-bench prepare DIR` writes the fixed seeded problems (D1, D2, S1)
//! and their initial factors as .npy files, so that scikit-learn starts from
//! exactly the same data and factors (bench/compare.py does that).
//! `nmfkit-bench run DIR [targets.json]` measures nmfkit on them: ms per
//! iteration of every solver, the floor of the two big products measured in
//! the same process, and the time to reach each target loss; it prints JSON.

use nmfkit::{
    synth, CsrMatrix, Data, DenseData, FitOptions, Init, Input, Loss, Mat, Nmf, Progress, Side,
    SolverKind, SparseData, SparseWeights,
};
use nmfkit_io::formats::{read_dense, write_matrix, Matrix};
use serde_json::{json, Value};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

struct Problem {
    name: &'static str,
    k: usize,
    dense: Option<Mat<f64>>,
    sparse: Option<CsrMatrix<f64>>,
}

impl Problem {
    fn input(&self) -> Input<'_, f64> {
        match (&self.dense, &self.sparse) {
            (Some(d), _) => Input::from(d),
            (_, Some(s)) => Input::from(s),
            _ => unreachable!(),
        }
    }
}

fn problems(only: Option<&str>) -> Vec<Problem> {
    let dense = |name, n, m, k, seed| {
        let p = synth::low_rank::<f64>(n, m, k, 0.05, seed);
        Problem {
            name,
            k,
            dense: Some(p.x),
            sparse: None,
        }
    };
    let mut v = Vec::new();
    let want = |n: &str| only.is_none_or(|o| o.split(',').any(|x| x == n));
    if want("D1") {
        v.push(dense("D1", 2000, 1000, 20, 1));
    }
    if want("D2") {
        v.push(dense("D2", 20000, 500, 10, 2));
    }
    if want("S1") {
        v.push(Problem {
            name: "S1",
            k: 20,
            dense: None,
            sparse: Some(synth::sparse_low_rank(20000, 5000, 20, 0.01, 3).x),
        });
    }
    v
}

/// The shared start: nndsvda (scikit-learn's default init).
fn start(p: &Problem) -> (Mat<f64>, Mat<f64>) {
    let (wt, h) = match p.input() {
        Input::Dense(m) => nmfkit::init::initialize(&DenseData::new(m), p.k, Init::Nndsvda, 0),
        Input::Sparse(s) => nmfkit::init::initialize(&SparseData::new(s), p.k, Init::Nndsvda, 0),
    }
    .expect("init");
    (wt.transpose(), h)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Milliseconds of X·Hᵀ plus Wᵀ·X (the floor of a Frobenius iteration),
/// measured on a pool's worker as the fits run (see `Nmf::fit_with`).
fn floor_ms<D: Data<f64> + Sync>(x: &D, w: &Mat<f64>, h: &Mat<f64>) -> f64 {
    rayon::ThreadPoolBuilder::new()
        .build()
        .expect("thread pool")
        .install(|| floor_ms_here(x, w, h))
}

fn floor_ms_here<D: Data<f64>>(x: &D, w: &Mat<f64>, h: &Mat<f64>) -> f64 {
    let wt = w.transpose();
    let (n, m) = x.shape();
    let k = h.nrows;
    let mut a = Mat::zeros(k, n);
    let mut b = Mat::zeros(k, m);
    let par = faer::Par::rayon(0);
    for _ in 0..3 {
        x.cross(Side::W, h, &mut a, par);
        x.cross(Side::H, &wt, &mut b, par);
    }
    let times: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            x.cross(Side::W, h, &mut a, par);
            x.cross(Side::H, &wt, &mut b, par);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    median(times)
}

/// (name, solver, loss, extrapolate).
fn configs() -> Vec<(&'static str, SolverKind, Loss, bool)> {
    vec![
        ("cd", SolverKind::Cd, Loss::Frobenius, false),
        ("hals", SolverKind::Hals, Loss::Frobenius, false),
        ("hals_e", SolverKind::Hals, Loss::Frobenius, true),
        ("mu", SolverKind::Mu, Loss::Frobenius, false),
        ("anls", SolverKind::AnlsBpp, Loss::Frobenius, false),
        ("mu_kl", SolverKind::Mu, Loss::KullbackLeibler, false),
    ]
}

fn run(dir: &Path, targets: Option<Value>, only: Option<&str>) -> Value {
    let mut out = serde_json::Map::new();
    for p in problems(only) {
        let w0 =
            read_dense(&dir.join(format!("{}_W0.npy", p.name))).expect("W0: run prepare first");
        let h0 =
            read_dense(&dir.join(format!("{}_H0.npy", p.name))).expect("H0: run prepare first");
        let floor = match p.input() {
            Input::Dense(m) => floor_ms(&DenseData::new(m), &w0, &h0),
            Input::Sparse(s) => floor_ms(&SparseData::new(s), &w0, &h0),
        };
        let mut res = serde_json::Map::new();
        res.insert("floor_ms".into(), json!(floor));
        for (name, solver, loss, extrapolate) in configs() {
            let iters = 30;
            // Per-iteration cost, losses evaluated as the defaults do.
            let est = Nmf::new(p.k)
                .solver(solver)
                .loss(loss)
                .extrapolate(extrapolate)
                .tol(0.0)
                .max_iter(iters);
            let ms: Vec<f64> = (0..3)
                .map(|_| {
                    let fit = est.fit_from(p.input(), &w0, &h0).unwrap();
                    fit.fit_time.as_secs_f64() * 1e3 / fit.n_iter as f64
                })
                .collect();
            let mut r = json!({ "ms_per_iter": median(ms) });
            // Time to reach the target loss (scikit-learn's final loss).
            let key = if loss == Loss::Frobenius { "fro" } else { "kl" };
            if let Some(target) = targets
                .as_ref()
                .and_then(|t| t[p.name][key]["loss"].as_f64())
            {
                // Frobenius losses come free with the products: check every
                // iteration; KL is checked every 10, as scikit-learn does.
                let every = if loss == Loss::Frobenius { 1 } else { 10 };
                let mut hit = None;
                let t0 = Instant::now();
                let mut cb = |pr: &Progress| {
                    if pr.objective <= target {
                        hit = Some((pr.iter, t0.elapsed().as_secs_f64()));
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                };
                let est = est
                    .clone()
                    .max_iter(20000)
                    .eval_every(every)
                    .time_limit(std::time::Duration::from_secs(120));
                let fit = est
                    .fit_with(
                        p.input(),
                        FitOptions {
                            w0: Some(&w0),
                            h0: Some(&h0),
                            progress: Some(&mut cb),
                            ..Default::default()
                        },
                    )
                    .unwrap();
                r["time_to_target_s"] = json!(hit.map(|h| h.1));
                r["iters_to_target"] = json!(hit.map(|h| h.0));
                r["final_loss"] = json!(fit.divergence);
            }
            res.insert(name.into(), r);
        }
        out.insert(p.name.into(), Value::Object(res));
    }
    Value::Object(out)
}

fn prepare(dir: &Path, only: Option<&str>) {
    std::fs::create_dir_all(dir).expect("create output folder");
    for p in problems(only) {
        let (w0, h0) = start(&p);
        let (file, x) = match (&p.dense, &p.sparse) {
            (Some(x), _) => (format!("{}_X.npy", p.name), Matrix::Dense(x.clone())),
            (_, Some(s)) => (format!("{}_X.npz", p.name), Matrix::Sparse(s.clone())),
            _ => unreachable!(),
        };
        let write = |name: String, m: &Matrix| {
            write_matrix(&dir.join(name), m).expect("write benchmark data")
        };
        write(file, &x);
        write(format!("{}_W0.npy", p.name), &Matrix::Dense(w0));
        write(format!("{}_H0.npy", p.name), &Matrix::Dense(h0));
        eprintln!("prepared {}", p.name);
    }
}

/// The smooth model on ESPM's toy (3 phases, 200 channels, a 15-column
/// dictionary, 100×100 maps, 300 counts per pixel; λ_L = 2, μ = 0.05,
/// simplex on H, 200 iterations): time per iteration and the matched
/// angles and map errors, with and without ESPM's normalization.
fn smooth(seed: u64, threads: usize) -> Value {
    use nmfkit::smooth::{Simplex, SmoothNmf};
    let s = synth::spectra::<f64>(&synth::SpectraOptions {
        seed,
        ..Default::default()
    });
    let mut out = Vec::new();
    for normalize in [true, false] {
        let est = SmoothNmf::new(3)
            .lambda_l(2.0)
            .mu(vec![0.05])
            .simplex(Simplex::H)
            .image_shape(100, 100)
            .normalize(normalize)
            .max_iter(
                std::env::var("SMOOTH_ITERS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(200),
            )
            .tol(0.0)
            .eval_every(10)
            .threads(threads);
        let t = Instant::now();
        let fit = est
            .fit(s.x.as_ref(), Some(s.g.as_ref()))
            .expect("smooth fit");
        let secs = t.elapsed().as_secs_f64();
        let m = nmfkit::metrics::match_rows(&fit.gw.transpose(), &s.spectra.transpose());
        let maps: Vec<Value> = m
            .assignment
            .iter()
            .enumerate()
            .map(|(t, &e)| {
                let err = nmfkit::metrics::map_errors(
                    &(0..s.maps.ncols)
                        .map(|j| fit.h.get(e, j))
                        .collect::<Vec<_>>(),
                    &(0..s.maps.ncols)
                        .map(|j| s.maps.get(t, j))
                        .collect::<Vec<_>>(),
                );
                json!({"mse": err.mse, "mae": err.mae, "r2": err.r2})
            })
            .collect();
        let obj: Vec<f64> = fit.history.iter().map(|e| e.objective).collect();
        out.push(json!({
            "normalize": normalize,
            "seconds": secs,
            "iterations": fit.n_iter,
            "iterations_per_second": fit.n_iter as f64 / secs,
            "angles_deg": m.angles,
            "maps": maps,
            "objective_nonincreasing": obj.windows(2).all(|w| w[1] <= w[0] + 1e-12 * w[0].abs()),
            "objective": {"kl": fit.divergence, "laplacian": fit.penalty("laplacian"), "log": fit.penalty("log")},
        }));
    }
    json!({"problem": "ESPM toy: 200 channels × 10000 pixels, k = 3, G 200×15", "seed": seed, "runs": out})
}

/// The masked iteration's cost against the unmasked one on D1 (10 % of the
/// entries missing), ms per iteration from 30-iteration fits, same start.
fn masked() -> Value {
    let x = synth::low_rank::<f64>(2000, 1000, 20, 0.05, 1).x;
    let weights = Mat::from_fn(2000, 1000, |i, j| {
        if (i * 31 + j * 17) % 10 == 0 {
            0.0
        } else {
            1.0
        }
    });
    let mut out = serde_json::Map::new();
    for (name, solver, loss) in [
        ("mu", SolverKind::Mu, Loss::Frobenius),
        ("mu_kl", SolverKind::Mu, Loss::KullbackLeibler),
        ("hals", SolverKind::Hals, Loss::Frobenius),
        ("anls", SolverKind::AnlsBpp, Loss::Frobenius),
    ] {
        let est = Nmf::new(20)
            .solver(solver)
            .loss(loss)
            .init(Init::Nndsvda)
            .max_iter(30)
            .tol(0.0);
        let plain = est.fit(&x).expect("fit");
        let m = est
            .fit_masked(x.as_ref(), weights.as_ref())
            .expect("masked fit");
        let per = |f: &nmfkit::NmfFit<f64>| f.fit_time.as_secs_f64() * 1e3 / f.n_iter as f64;
        out.insert(
            name.into(),
            json!({"unmasked_ms": per(&plain), "masked_ms": per(&m), "ratio": per(&m) / per(&plain)}),
        );
    }
    // S1: the sparse data with only its stored entries observed, against
    // the usual fit where unstored entries are observed zeros.
    let xs = synth::sparse_low_rank::<f64>(20000, 5000, 20, 0.01, 3).x;
    // Holes in S1 (unstored entries stay observed zeros): every 10th stored
    // entry and 0.1 % of all entries, ~200k in all.
    let mut t = Vec::new();
    for i in 0..xs.nrows() {
        for (p, &j) in xs.row(i).0.iter().enumerate() {
            if (i + p) % 10 == 0 {
                t.push((i, j as usize, 0.0));
            }
        }
        for j in (i % 1000..xs.ncols()).step_by(1000) {
            if !xs.row(i).0.contains(&(j as u32)) {
                t.push((i, j, 0.0));
            }
        }
    }
    let holes = nmfkit::CsrMatrix::from_triplets(xs.nrows(), xs.ncols(), &t).expect("holes");
    let mut sparse = serde_json::Map::new();
    for (name, solver, loss) in [
        ("mu", SolverKind::Mu, Loss::Frobenius),
        ("mu_kl", SolverKind::Mu, Loss::KullbackLeibler),
        ("hals", SolverKind::Hals, Loss::Frobenius),
        ("anls", SolverKind::AnlsBpp, Loss::Frobenius),
    ] {
        let est = Nmf::new(20)
            .solver(solver)
            .loss(loss)
            .init(Init::Random)
            .max_iter(10)
            .tol(0.0);
        let plain = est.fit(&xs).expect("fit");
        let obs = est.fit_observed(&xs).expect("observed fit");
        let holed = est
            .fit_masked_sparse(&xs, SparseWeights::holes(&holes))
            .expect("fit with holes");
        let per = |f: &nmfkit::NmfFit<f64>| f.fit_time.as_secs_f64() * 1e3 / f.n_iter as f64;
        sparse.insert(
            name.into(),
            json!({"unmasked_ms": per(&plain), "observed_only_ms": per(&obs), "ratio": per(&obs) / per(&plain),
                   "holes_ms": per(&holed), "holes_ratio": per(&holed) / per(&plain)}),
        );
    }
    json!({"problem": "D1 dense 2000×1000, k = 20, 10 % missing", "solvers": out,
           "sparse_problem": "S1 sparse 20000×5000 at 1 %, k = 20: only stored entries observed, and with holes listed (unstored entries observed zeros)", "holes": holes.nnz(), "sparse": sparse})
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: nmfkit-bench prepare DIR [--only D1,D2,S1] | nmfkit-bench run DIR [targets.json] [--only …] | nmfkit-bench smooth [SEED] [THREADS] | nmfkit-bench masked";
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.as_str());
    let pos: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with("--") && Some(a.as_str()) != only)
        .collect();
    match pos.as_slice() {
        [cmd] if cmd.as_str() == "masked" => {
            println!("{}", serde_json::to_string_pretty(&masked()).unwrap());
        }
        [cmd, rest @ ..] if cmd.as_str() == "smooth" => {
            let seed = rest.first().and_then(|s| s.parse().ok()).unwrap_or(0);
            let threads = rest.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            println!(
                "{}",
                serde_json::to_string_pretty(&smooth(seed, threads)).unwrap()
            );
        }
        [cmd, dir] if cmd.as_str() == "prepare" => prepare(Path::new(dir), only),
        [cmd, dir, rest @ ..] if cmd.as_str() == "run" => {
            let targets = rest.first().map(|f| {
                serde_json::from_str(&std::fs::read_to_string(f).expect("read targets"))
                    .expect("parse targets")
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&run(Path::new(dir), targets, only)).unwrap()
            );
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
