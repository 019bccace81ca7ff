//! `nmfkit fit --batch-size`: minibatch NMF, out of core for .npy.

mod common;
use common::*;

fn planted(n: usize, m: usize, seed: u64) -> Mat<f64> {
    let p = nmfkit::synth::low_rank::<f64>(n, m, 3, 0.01, seed);
    p.x
}

fn fit_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_slice(&ok(&all).stdout).unwrap()
}

#[test]
fn streamed_fit_equals_the_in_memory_fit_of_the_same_rows() {
    let d = tempfile::tempdir().unwrap();
    let x = planted(900, 30, 1);
    write_matrix(&d.path().join("X.npy"), &Matrix::Dense(x)).unwrap();
    let names: String = (0..900).map(|i| format!("r{i}\n")).collect();
    std::fs::write(d.path().join("rows.txt"), names).unwrap();
    let base = [
        "fit",
        "--rank",
        "3",
        "--batch-size",
        "100",
        "--max-iter",
        "5",
        "--seed",
        "4",
        "--init",
        "random",
    ];
    let mut streamed = base.to_vec();
    let (xs, a, b) = (p(d.path(), "X.npy"), p(d.path(), "a"), p(d.path(), "b"));
    streamed.extend([xs.as_str(), "--out", a.as_str()]);
    let r1 = fit_json(&streamed);
    // Row names take the in-memory path (names are read with the data).
    let rows = p(d.path(), "rows.txt");
    let mut memory = base.to_vec();
    memory.extend([
        xs.as_str(),
        "--out",
        b.as_str(),
        "--row-names",
        rows.as_str(),
    ]);
    let r2 = fit_json(&memory);
    assert_eq!(r1["minibatch"]["streamed"], true);
    assert_eq!(r2["minibatch"]["streamed"], false);
    assert_eq!(r1["minibatch"]["n_steps"], r2["minibatch"]["n_steps"]);
    assert_eq!(r1["params"]["model"], "minibatch");
    // scikit-learn's stopping default for minibatch epochs.
    assert_eq!(r1["params"]["tol"], 1e-4);
    for f in ["W.npy", "H.npy"] {
        let (u, v) = (
            read_matrix(&d.path().join("a").join(f)).unwrap().to_dense(),
            read_matrix(&d.path().join("b").join(f)).unwrap().to_dense(),
        );
        assert!(u == v, "{f} differs by {}", max_diff(&u, &v));
    }
    // The model folder works with transform like any other.
    ok(&[
        "transform",
        &xs,
        "--model",
        &a,
        "--out",
        &p(d.path(), "W_new.npy"),
    ]);
}

#[test]
fn online_hals_streamed_equals_in_memory_and_beats_online_mu() {
    let d = tempfile::tempdir().unwrap();
    let x = planted(900, 30, 3);
    write_matrix(&d.path().join("X.npy"), &Matrix::Dense(x.clone())).unwrap();
    write_matrix(&d.path().join("X.csv"), &Matrix::Dense(x)).unwrap();
    // A minibatch fit of `input` into `out` with `extra` flags.
    let fit = |input: &str, out: &str, extra: &[&str]| {
        let (xs, o) = (p(d.path(), input), p(d.path(), out));
        let mut args = vec!["fit", &xs, "--rank", "3", "--out", &o];
        args.extend_from_slice(extra);
        fit_json(&args)
    };
    let run = |input: &str, out: &str, solver: &str| {
        fit(
            input,
            out,
            &[
                "--batch-size",
                "100",
                "--max-iter",
                "10",
                "--tol",
                "0",
                "--max-no-improvement",
                "0",
                "--solver",
                solver,
                "--init",
                "random",
            ],
        )
    };
    let streamed = run("X.npy", "a", "hals");
    let memory = run("X.csv", "b", "hals");
    let mu = run("X.npy", "c", "mu");
    assert_eq!(streamed["minibatch"]["streamed"], true);
    assert_eq!(memory["minibatch"]["streamed"], false);
    assert!(streamed["result"]["solver_notes"][0]
        .as_str()
        .unwrap()
        .contains("online HALS"));
    assert_eq!(streamed["minibatch"]["update"], "hals");
    assert_eq!(mu["minibatch"]["update"], "mu");
    // The default (auto) is online HALS for Frobenius, online ccd for KL
    // and online MU for other losses.
    let default = |out: &str, loss: &str| {
        fit(
            "X.npy",
            out,
            &["--batch-size", "300", "--max-iter", "2", "--loss", loss],
        )
    };
    assert_eq!(default("d", "frobenius")["minibatch"]["update"], "hals");
    assert_eq!(default("e", "kl")["minibatch"]["update"], "ccd");
    assert_eq!(default("f", "is")["minibatch"]["update"], "mu");
    // transform solves W exactly with H fixed (auto: anls).
    assert_eq!(streamed["params"]["solver"], "auto");
    for f in ["W.npy", "H.npy"] {
        let (u, v) = (
            read_matrix(&d.path().join("a").join(f)).unwrap().to_dense(),
            read_matrix(&d.path().join("b").join(f)).unwrap().to_dense(),
        );
        assert!(
            max_diff(&u, &v) <= 1e-12,
            "{f} differs by {}",
            max_diff(&u, &v)
        );
    }
    let loss = |r: &Value| r["result"]["divergence"].as_f64().unwrap();
    assert!(
        loss(&streamed) < loss(&mu),
        "hals {} vs mu {}",
        loss(&streamed),
        loss(&mu)
    );
}

#[test]
fn a_bad_entry_in_a_late_batch_is_an_error_naming_it_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let mut x = planted(1000, 12, 2);
    x.set(900, 7, f64::NAN);
    write_matrix(&d.path().join("X.npy"), &Matrix::Dense(x)).unwrap();
    let out = d.path().join("m");
    let o = nmfkit(&[
        "fit",
        &p(d.path(), "X.npy"),
        "--rank",
        "3",
        "--batch-size",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("(900, 7)") && err.contains("X.npy"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists());
    // Settings that do not apply are refused by name.
    for (extra, needle) in [
        (vec!["--solver", "anls"], "--solver"),
        (vec!["--solver", "hals", "--loss", "kl"], "--loss frobenius"),
        (vec!["--solver", "ccd"], "--loss kl"),
        (vec!["--init", "nndsvd"], "random"),
        (vec!["--forget-factor", "2"], "--forget-factor"),
    ] {
        let mut all = vec![
            "fit",
            "--rank",
            "3",
            "--batch-size",
            "100",
            "--out",
            out.to_str().unwrap(),
        ];
        let xs = p(d.path(), "X.npy");
        all.push(&xs);
        all.extend(extra);
        let o = nmfkit(&all);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains(needle));
    }
}

#[test]
fn peak_memory_of_a_streamed_fit_does_not_grow_with_the_rows() {
    let d = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for (name, rows) in [("small.npy", 25_000), ("large.npy", 100_000)] {
        let x = Mat::from_fn(rows, 200, |i, j| {
            ((i * 31 + j * 17) % 97) as f64 / 97.0 + 0.01
        });
        write_matrix(&d.path().join(name), &Matrix::Dense(x)).unwrap();
        let r = fit_json(&[
            "fit",
            &p(d.path(), name),
            "--rank",
            "3",
            "--batch-size",
            "2000",
            "--max-iter",
            "1",
            "--out",
            &p(d.path(), &format!("m_{name}")),
        ]);
        assert_eq!(r["minibatch"]["streamed"], true);
        peaks.push(r["minibatch"]["peak_memory_mb"].as_f64().unwrap());
    }
    // The file grows from 40 MB to 160 MB; the fit holds a batch, W
    // (n×3) and the factors, so its peak barely moves.
    let ratio = peaks[1] / peaks[0];
    assert!(ratio < 1.5, "peaks {peaks:?} MB");
    assert!(peaks[1] < 80.0, "peaks {peaks:?} MB for a 160 MB file");
}

#[test]
fn full_batch_iterations_over_a_streamed_file_equal_the_in_memory_fit() {
    let d = tempfile::tempdir().unwrap();
    write_matrix(&d.path().join("X.npy"), &Matrix::Dense(planted(500, 25, 3))).unwrap();
    let xs = p(d.path(), "X.npy");
    let common = [
        "fit",
        xs.as_str(),
        "--rank",
        "3",
        "--solver",
        "hals",
        "--init",
        "random",
        "--seed",
        "2",
        "--max-iter",
        "40",
    ];
    let mut a = common.to_vec();
    let (oa, ob) = (p(d.path(), "a"), p(d.path(), "b"));
    a.extend(["--batch-size", "64", "--full-batch", "--out", oa.as_str()]);
    let r = fit_json(&a);
    assert_eq!(r["minibatch"]["full_batch"], true);
    assert_eq!(r["params"]["solver"], "hals");
    let mut b = common.to_vec();
    b.extend(["--out", ob.as_str()]);
    fit_json(&b);
    for f in ["W.npy", "H.npy"] {
        let (u, v) = (
            read_matrix(&d.path().join("a").join(f)).unwrap().to_dense(),
            read_matrix(&d.path().join("b").join(f)).unwrap().to_dense(),
        );
        assert!(max_diff(&u, &v) < 1e-9, "{f}: {}", max_diff(&u, &v));
    }
}
