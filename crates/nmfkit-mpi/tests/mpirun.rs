//! Runs `nmfkit-mpi` through `mpirun` (oversubscribed on small machines) and
//! checks its factors against one process's fit from the same start.

use nmfkit::{CsrMatrix, Loss, Mat, Nmf, SolverKind};
use nmfkit_io::formats::{read_matrix, write_matrix, Matrix};
use std::path::Path;
use std::process::{Command, Output};

fn mpirun(np: usize, args: &[&str]) -> Output {
    Command::new("mpirun")
        .args(["--oversubscribe", "-np", &np.to_string()])
        .arg(env!("CARGO_BIN_EXE_nmfkit-mpi"))
        .args(args)
        // CI runs as root; OpenMPI refuses that unless told.
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .expect("mpirun (install openmpi-bin)")
}

/// `mpirun` that must succeed.
fn mpirun_ok(np: usize, args: &[&str]) {
    let o = mpirun(np, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A factor file ("W" or "H") of a model folder.
fn factor(out: &str, name: &str) -> Mat<f64> {
    read_matrix(&Path::new(out).join(format!("{name}.npy")))
        .unwrap()
        .to_dense()
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!((a.nrows, a.ncols), (b.nrows, b.ncols));
    let d: f64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    d.sqrt() / b.norm()
}

/// A noisy rank-3 matrix with odd sizes (uneven splits), dense, and a
/// sparse copy with about 60 % of its entries zero.
fn data() -> (Mat<f64>, CsrMatrix<f64>) {
    let p = nmfkit::synth::low_rank::<f64>(37, 29, 3, 0.05, 11);
    let mut s = 3u64;
    let sparse = Mat::from_fn(37, 29, |i, j| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if (s >> 40) % 5 < 3 {
            0.0
        } else {
            p.x.get(i, j)
        }
    });
    (p.x, CsrMatrix::from_dense(sparse.as_ref()))
}

fn start() -> (Mat<f64>, Mat<f64>) {
    (
        Mat::from_fn(37, 3, |i, t| 0.3 + ((i * 7 + t * 3) % 11) as f64 * 0.05),
        Mat::from_fn(3, 29, |t, j| 0.2 + ((j * 5 + t) % 13) as f64 * 0.05),
    )
}

#[test]
fn every_grid_gives_the_single_process_factors() {
    let d = tempfile::tempdir().unwrap();
    let (xd, xs) = data();
    let (w0, h0) = start();
    let path = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    write_matrix(Path::new(&path("X.npy")), &Matrix::Dense(xd.clone())).unwrap();
    write_matrix(Path::new(&path("S.npz")), &Matrix::Sparse(xs.clone())).unwrap();
    write_matrix(Path::new(&path("S.mtx")), &Matrix::Sparse(xs.clone())).unwrap();
    write_matrix(Path::new(&path("W0.npy")), &Matrix::Dense(w0.clone())).unwrap();
    write_matrix(Path::new(&path("H0.npy")), &Matrix::Dense(h0.clone())).unwrap();
    let configs = [
        ("mu", "frobenius", SolverKind::Mu, Loss::Frobenius),
        ("mu", "kl", SolverKind::Mu, Loss::KullbackLeibler),
        ("hals", "frobenius", SolverKind::Hals, Loss::Frobenius),
        ("anls", "frobenius", SolverKind::AnlsBpp, Loss::Frobenius),
    ];
    let grids = [
        (1, "1x1"),
        (2, "1x2"),
        (2, "2x1"),
        (4, "1x4"),
        (4, "2x2"),
        (4, "4x1"),
    ];
    let mut runs = 0;
    for (input, dense) in [("X.npy", true), ("S.npz", false), ("S.mtx", false)] {
        for (solver, loss, sk, lk) in configs {
            let est = Nmf::new(3).solver(sk).loss(lk).max_iter(30).tol(0.0);
            let want = if dense {
                est.fit_from(&xd, &w0, &h0)
            } else {
                est.fit_from(&xs, &w0, &h0)
            }
            .unwrap();
            for (np, grid) in grids {
                // Every grid on the dense file; the sparse files on two.
                if !dense && !matches!(grid, "2x2" | "1x4") {
                    continue;
                }
                let out = path(&format!("out_{input}_{solver}_{loss}_{grid}"));
                let o = mpirun(
                    np,
                    &[
                        "fit",
                        &path(input),
                        "--rank",
                        "3",
                        "--solver",
                        solver,
                        "--loss",
                        loss,
                        "--extrapolate",
                        "off",
                        "--init",
                        "custom",
                        "--w0",
                        &path("W0.npy"),
                        "--h0",
                        &path("H0.npy"),
                        "--max-iter",
                        "30",
                        "--tol",
                        "0",
                        "--grid",
                        grid,
                        "--out",
                        &out,
                        "--quiet",
                    ],
                );
                assert!(
                    o.status.success(),
                    "{input} {solver} {loss} {grid}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                let (w, h) = (factor(&out, "W"), factor(&out, "H"));
                let what = format!("{input} {solver} {loss} {grid}");
                assert!(rel(&w, &want.w) < 1e-10, "{what}: W {}", rel(&w, &want.w));
                assert!(rel(&h, &want.h) < 1e-10, "{what}: H {}", rel(&h, &want.h));
                let r: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(Path::new(&out).join("report.json")).unwrap(),
                )
                .unwrap();
                assert_eq!(r["result"]["n_iter"], 30);
                let l = r["result"]["divergence"].as_f64().unwrap();
                assert!(
                    (l - want.divergence).abs() <= 1e-9 * want.divergence,
                    "{what}: loss {l} vs {}",
                    want.divergence
                );
                let per = &r["distributed"]["per_iteration"];
                if np > 1 {
                    assert!(per["bytes_received_per_rank_mean"].as_f64().unwrap() > 0.0);
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 4 * (6 + 2 + 2));
}

#[test]
fn random_starts_partitions_and_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let (xd, xs) = data();
    let path = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    write_matrix(Path::new(&path("S.npz")), &Matrix::Sparse(xs.clone())).unwrap();
    // A random start is one process's random start.
    let want = Nmf::new(3)
        .solver(SolverKind::Hals)
        .init(nmfkit::Init::Random)
        .seed(5)
        .max_iter(20)
        .tol(0.0)
        .fit(&xs)
        .unwrap();
    // Per-block files, read by each rank alone.
    let o = Command::new(env!("CARGO_BIN_EXE_nmfkit-mpi"))
        .args([
            "partition",
            &path("S.npz"),
            "--grid",
            "2x2",
            "--out",
            &path("blocks"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for input in [path("S.npz"), path("blocks")] {
        let out = path("rand");
        let _ = std::fs::remove_dir_all(&out);
        mpirun_ok(
            4,
            &[
                "fit",
                &input,
                "--rank",
                "3",
                "--solver",
                "hals",
                "--extrapolate",
                "off",
                "--init",
                "random",
                "--seed",
                "5",
                "--max-iter",
                "20",
                "--tol",
                "0",
                "--grid",
                "2x2",
                "--out",
                &out,
                "--quiet",
            ],
        );
        let w = factor(&out, "W");
        assert!(rel(&w, &want.w) < 1e-10, "{input}: {}", rel(&w, &want.w));
    }
    // Extrapolated HALS: the accept/redo decisions are taken on the
    // all-reduced objective, the same on every rank and as in one process
    // (8 iterations: while the objective still falls by more than rounding).
    let (w0, h0) = start();
    write_matrix(Path::new(&path("W0.npy")), &Matrix::Dense(w0.clone())).unwrap();
    write_matrix(Path::new(&path("H0.npy")), &Matrix::Dense(h0.clone())).unwrap();
    let want = Nmf::new(3)
        .solver(SolverKind::Hals)
        .extrapolate(true)
        .max_iter(8)
        .tol(0.0)
        .fit_from(&xs, &w0, &h0)
        .unwrap();
    let out = path("ext");
    mpirun_ok(
        4,
        &[
            "fit",
            &path("S.npz"),
            "--rank",
            "3",
            "--solver",
            "hals",
            "--extrapolate",
            "on",
            "--init",
            "custom",
            "--w0",
            &path("W0.npy"),
            "--h0",
            &path("H0.npy"),
            "--max-iter",
            "8",
            "--tol",
            "0",
            "--grid",
            "2x2",
            "--out",
            &out,
            "--quiet",
        ],
    );
    let w = factor(&out, "W");
    assert!(
        rel(&w, &want.w) < 1e-10,
        "extrapolated: {}",
        rel(&w, &want.w)
    );
    // The grid the blocks were written for is the one to use.
    let o = mpirun(
        4,
        &[
            "fit",
            &path("blocks"),
            "--rank",
            "3",
            "--grid",
            "1x4",
            "--out",
            &path("bad1"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("partitioned for a 2x2 grid"));
    // A negative entry in one rank's block: one message, exit 2, no output.
    let mut neg = xd.clone();
    neg.set(30, 25, -1.0);
    write_matrix(Path::new(&path("neg.npy")), &Matrix::Dense(neg)).unwrap();
    let o = mpirun(
        4,
        &[
            "fit",
            &path("neg.npy"),
            "--rank",
            "3",
            "--grid",
            "2x2",
            "--out",
            &path("bad2"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("negative entry -1 at (30, 25)"), "{err}");
    assert_eq!(err.matches("nmfkit-mpi: error").count(), 1, "{err}");
    assert!(!Path::new(&path("bad2")).join("W.npy").exists());
    // A grid that does not match the number of ranks, a missing file, a bad loss.
    for (args, needle) in [
        (
            vec![
                "fit",
                &path("S.npz") as &str,
                "--rank",
                "3",
                "--grid",
                "3x1",
                "--out",
                "x",
            ],
            "needs 3 ranks",
        ),
        (
            vec!["fit", "/nonexistent.npy", "--rank", "3", "--out", "x"],
            "nonexistent",
        ),
        (
            vec![
                "fit",
                &path("S.npz") as &str,
                "--rank",
                "3",
                "--loss",
                "is",
                "--out",
                "x",
            ],
            "Frobenius and KL",
        ),
    ] {
        let o = mpirun(2, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.matches("nmfkit-mpi: error").count(), 1, "{err}");
    }
}

#[test]
fn sigint_to_the_ranks_stops_all_of_them_and_keeps_the_factors() {
    let d = tempfile::tempdir().unwrap();
    let path = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    let x = nmfkit::synth::low_rank::<f64>(600, 400, 10, 0.3, 4).x;
    write_matrix(Path::new(&path("Y.npy")), &Matrix::Dense(x)).unwrap();
    let out = path("stopped_fit");
    let mut child = Command::new("mpirun")
        .args(["--oversubscribe", "-np", "2"])
        .arg(env!("CARGO_BIN_EXE_nmfkit-mpi"))
        .args([
            "fit",
            &path("Y.npy"),
            "--rank",
            "10",
            "--solver",
            "mu",
            "--max-iter",
            "100000000",
            "--tol",
            "0",
        ])
        .args(["--time-limit", "120", "--out", &out, "--quiet"])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .spawn()
        .expect("mpirun");
    // The ranks of this run (not mpirun, which would abort the job): the
    // processes named nmfkit-mpi whose command line has this run's folder.
    let ranks = || -> Vec<String> {
        let o = Command::new("pgrep")
            .args(["-f", &out])
            .output()
            .expect("pgrep");
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "nmfkit-mpi")
            })
            .map(str::to_string)
            .collect()
    };
    let t0 = std::time::Instant::now();
    while ranks().len() < 2 && t0.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    // One rank is enough: the flag is all-reduced.
    let pids = ranks();
    assert!(!pids.is_empty(), "no rank found");
    Command::new("kill")
        .args(["-INT", &pids[pids.len() - 1]])
        .status()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed().as_secs() > 90 {
            let _ = child.kill();
            panic!("the ranks did not stop");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&out).join("report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["result"]["stop_reason"], "cancelled");
    assert!(Path::new(&out).join("W.npy").exists());
}
