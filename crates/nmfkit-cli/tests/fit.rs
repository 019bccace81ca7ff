//! `nmfkit fit`, `transform`, `eval`, `plot` and `gen`: round trips, formats, stopping.

mod common;
use common::*;

#[test]
fn gen_fit_transform_eval_plot_round() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(&[
        "gen",
        "lowrank",
        "--rows",
        "120",
        "--cols",
        "40",
        "--rank",
        "4",
        "--noise",
        "0.01",
        "--out",
        &p(dir, "X.npy"),
        "-q",
    ]);
    for f in ["X.npy", "X_W.npy", "X_H.npy"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let out = ok(&[
        "fit",
        &p(dir, "X.npy"),
        "--rank",
        "4",
        "--out",
        &p(dir, "m"),
        "--json",
        "-q",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints the report");
    assert_eq!(report["input"]["shape"], serde_json::json!([120, 40]));
    let hist = report["history"].as_array().unwrap();
    assert!(hist.len() > 2 && hist[0]["iter"] == 0);
    for key in ["iter", "time_s", "objective", "divergence"] {
        assert!(
            hist.iter().all(|h| h.get(key).is_some()),
            "history entries need {key}"
        );
    }
    assert!(report["result"]["relative_error"].as_f64().unwrap() < 0.02);
    // The default solver is auto, and the report says what it ran and why.
    assert_eq!(report["params"]["solver"], "auto");
    // A standard fit's defaults: its objective rule ends it, not max_iter.
    assert_eq!(report["params"]["max_iter"], 1000);
    assert_eq!(report["params"]["tol"], 1e-5);
    let notes = report["result"]["solver_notes"].as_array().unwrap();
    assert!(notes[0].as_str().unwrap().contains("anls"), "{notes:?}");
    assert_eq!(
        json_file(&dir.join("m/report.json"))["result"],
        report["result"]
    );

    ok(&[
        "transform",
        "--model",
        &p(dir, "m"),
        &p(dir, "X.npy"),
        "--out",
        &p(dir, "Wnew.npy"),
        "-q",
    ]);
    let w_new = read_matrix(&dir.join("Wnew.npy")).unwrap().to_dense();
    let w_fit = read_matrix(&dir.join("m/W.npy")).unwrap().to_dense();
    assert!(
        max_diff(&w_new, &w_fit) < 0.05,
        "transform of the training rows is close to W"
    );

    let out = ok(&[
        "eval",
        &p(dir, "X.npy"),
        "--model",
        &p(dir, "m"),
        "--truth-w",
        &p(dir, "X_W.npy"),
        "--truth-h",
        &p(dir, "X_H.npy"),
    ]);
    let ev: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ev["relative_error"].as_f64().unwrap() < 0.02);
    assert_eq!(ev["truth"]["components"].as_array().unwrap().len(), 4);

    ok(&["plot", &p(dir, "m"), "-q"]);
    assert_eq!(
        png_size(&dir.join("m/convergence.png")),
        nmfkit_cli::plot::CONVERGENCE_SIZE
    );
    assert_eq!(
        png_size(&dir.join("m/reconstruction.png")),
        nmfkit_cli::plot::RECONSTRUCTION_SIZE
    );
    assert_eq!(
        png_size(&dir.join("m/components.png")).0,
        nmfkit_cli::plot::COMPONENTS_WIDTH
    );
    // No staging leftovers, in the folder or beside it; only the marker.
    let hidden = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    };
    assert_eq!(hidden(&dir.join("m")), vec![nmfkit_io::folder::MARKER]);
    assert!(hidden(dir).is_empty(), "{:?}", hidden(dir));
}

#[test]
fn every_format_round_trips_and_gives_the_same_factors() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    // A matrix with zeros, so that the sparse files are really sparse.
    let x = Mat::from_fn(30, 12, |i, j| {
        if (i + 2 * j) % 3 == 0 {
            0.0
        } else {
            ((i * 7 + j * 3) % 11) as f64 / 4.0 + 0.25
        }
    });
    let sparse = nmfkit::CsrMatrix::from_dense(x.as_ref());
    let mut fits = Vec::new();
    for (name, m) in [
        ("x.npy", Matrix::Dense(x.clone())),
        ("x.csv", Matrix::Dense(x.clone())),
        ("x.tsv", Matrix::Dense(x.clone())),
        ("dense.mtx", Matrix::Dense(x.clone())),
        ("sparse.mtx", Matrix::Sparse(sparse.clone())),
        ("sparse.npz", Matrix::Sparse(sparse.clone())),
        ("dense.npz", Matrix::Dense(x.clone())),
    ] {
        let path = dir.join(name);
        write_matrix(&path, &m).unwrap();
        let back = read_matrix(&path).unwrap();
        assert_eq!(back.is_sparse(), m.is_sparse(), "{name} keeps its storage");
        assert_eq!(back.to_dense(), x, "{name} round trip");
        let out = dir.join(format!("fit_{name}"));
        ok(&[
            "fit",
            &path.to_string_lossy(),
            "--rank",
            "3",
            "--solver",
            "cd",
            "--init",
            "nndsvda",
            "--max-iter",
            "50",
            "--tol",
            "0",
            "--out",
            &out.to_string_lossy(),
            "-q",
        ]);
        fits.push((
            name,
            read_matrix(&out.join("W.npy")).unwrap().to_dense(),
            read_matrix(&out.join("H.npy")).unwrap().to_dense(),
        ));
    }
    let (_, w0, h0) = &fits[0];
    for (name, w, h) in &fits[1..] {
        assert!(
            max_diff(w, w0) < 1e-10 && max_diff(h, h0) < 1e-10,
            "{name} gives other factors"
        );
    }
    // Factor files in every format.
    for fmt in ["csv", "mtx", "npz", "tsv"] {
        let out = dir.join(format!("fmt_{fmt}"));
        ok(&[
            "fit",
            &p(dir, "x.npy"),
            "--rank",
            "3",
            "--max-iter",
            "20",
            "--format",
            fmt,
            "--out",
            &out.to_string_lossy(),
            "-q",
        ]);
        let w = read_matrix(&out.join(format!("W.{fmt}")))
            .unwrap()
            .to_dense();
        assert_eq!((w.nrows, w.ncols), (30, 3));
    }
}

#[test]
fn scipy_style_npz_with_unsorted_coo_and_csc_is_read() {
    let d = tempfile::tempdir().unwrap();
    // A CSR written by us, then read back as CSC by transposing twice.
    let x = Mat::from_fn(5, 4, |i, j| {
        if i == j {
            1.0 + i as f64
        } else if i == 4 {
            2.0
        } else {
            0.0
        }
    });
    let s = nmfkit::CsrMatrix::from_dense(x.as_ref());
    let path = d.path().join("s.npz");
    write_matrix(&path, &Matrix::Sparse(s)).unwrap();
    assert_eq!(read_matrix(&path).unwrap().to_dense(), x);
}

#[test]
fn transpose_flag_factorizes_the_transpose() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(&[
        "gen",
        "lowrank",
        "--rows",
        "50",
        "--cols",
        "20",
        "--rank",
        "3",
        "--out",
        &p(dir, "X.npy"),
        "-q",
    ]);
    ok(&[
        "fit",
        &p(dir, "X.npy"),
        "--rank",
        "3",
        "--transpose",
        "--out",
        &p(dir, "t"),
        "-q",
    ]);
    let w = read_matrix(&dir.join("t/W.npy")).unwrap();
    assert_eq!(w.shape(), (20, 3));
    ok(&["plot", &p(dir, "t"), "-q"]);
    assert!(dir.join("t/reconstruction.png").exists());
}

#[test]
fn time_limit_stops_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    noisy_rank_10(dir);
    ok(&[
        "fit",
        &p(dir, "X.npy"),
        "--rank",
        "10",
        "--solver",
        "mu",
        "--tol",
        "0",
        "--max-iter",
        "1000000",
        "--time-limit",
        "0.3",
        "--out",
        &p(dir, "m"),
        "-q",
    ]);
    let r = json_file(&dir.join("m/report.json"));
    assert_eq!(r["result"]["stop_reason"], "time_limit");
}

/// Ctrl-C (SIGINT) stops a long fit cleanly: exit 0, the factors so far are
/// written, and the report says the fit was interrupted.
#[cfg(unix)]
#[test]
fn ctrl_c_keeps_the_factors_so_far() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    noisy_rank_10(dir);
    let child = Command::new(env!("CARGO_BIN_EXE_nmfkit"))
        .args([
            "fit",
            &p(dir, "X.npy"),
            "--rank",
            "10",
            "--solver",
            "mu",
            "--tol",
            "0",
            "--max-iter",
            "100000000",
            // If Ctrl-C failed, the fit still ends (and the test fails on
            // the stop reason instead of hanging).
            "--time-limit",
            "60",
            "--out",
            &p(dir, "m"),
            "-q",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit code {:?}", out.status.code());
    let r = json_file(&dir.join("m/report.json"));
    assert_eq!(r["result"]["stop_reason"], "cancelled");
    assert_eq!(r["result"]["interrupted"], true);
    assert!(r["result"]["n_iter"].as_u64().unwrap() > 0);
    assert!(dir.join("m/W.npy").exists() && dir.join("m/H.npy").exists());
}
