//! `nmfkit fit --model smooth`: the spectrum-image model.

mod common;
use common::*;

#[test]
fn smooth_model_fits_a_spectrum_image_and_rejects_bad_requests() {
    let d = tempfile::tempdir().unwrap();
    let x = p(d.path(), "si.npy");
    ok(&[
        "gen",
        "spectra",
        "--image-shape",
        "30x30",
        "--counts",
        "300",
        "--out",
        &x,
    ]);
    let g = p(d.path(), "si_G.npy");
    let out = d.path().join("m");
    let args = [
        "fit",
        &x,
        "--model",
        "smooth",
        "--rank",
        "3",
        "--dictionary",
        &g,
        "--image-shape",
        "30x30",
        "--lambda-l",
        "2",
        "--mu",
        "0.05",
        "--simplex",
        "h",
        "--normalize",
        "--max-iter",
        "1000",
        "--tol",
        "0",
        "--eval-every",
        "1",
        "--out",
    ];
    let mut all: Vec<&str> = args.to_vec();
    let o = out.to_string_lossy().into_owned();
    all.push(&o);
    all.push("--json");
    let r: Value = serde_json::from_slice(&ok(&all).stdout).unwrap();
    assert_eq!(r["params"]["model"], "smooth");
    let res = &r["result"];
    assert_eq!(res["n_iter"], 1000);
    let parts_of = |v: &Value| -> Vec<f64> {
        vec![
            v["divergence"].as_f64().unwrap(),
            v["penalties"]["laplacian"].as_f64().unwrap(),
            v["penalties"]["log"].as_f64().unwrap(),
        ]
    };
    for (part, v) in ["kl", "laplacian", "log"].iter().zip(parts_of(res)) {
        assert!(v.is_finite() && v != 0.0, "{part}");
    }
    // The objective never rose, and every record has its parts.
    let hist = r["history"].as_array().unwrap();
    assert_eq!(hist.len(), 1001);
    for w in hist.windows(2) {
        let (a, b) = (
            w[0]["objective"].as_f64().unwrap(),
            w[1]["objective"].as_f64().unwrap(),
        );
        assert!(b <= a + 1e-12 * a.abs());
        let parts: f64 = parts_of(&w[1]).iter().sum();
        assert!((parts - b).abs() <= 1e-9 * b.abs());
    }
    // W is m×k on G, GW the spectra (channels × k), H the maps on the simplex.
    let w = read_matrix(&out.join("W.npy")).unwrap().to_dense();
    let gw = read_matrix(&out.join("GW.npy")).unwrap().to_dense();
    let h = read_matrix(&out.join("H.npy")).unwrap().to_dense();
    assert_eq!(
        (w.nrows, w.ncols, gw.nrows, gw.ncols, h.nrows, h.ncols),
        (15, 3, 200, 3, 3, 900)
    );
    for j in 0..900 {
        assert!(((0..3).map(|t| h.get(t, j)).sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // Against the truth: spectra and maps within a few degrees.
    let e: Value = serde_json::from_slice(
        &ok(&[
            "eval",
            &x,
            "--model",
            &o,
            "--truth-w",
            &p(d.path(), "si_W.npy"),
            "--truth-h",
            &p(d.path(), "si_H.npy"),
        ])
        .stdout,
    )
    .unwrap();
    for c in e["truth"]["components"].as_array().unwrap() {
        assert!(c["w_angle_deg"].as_f64().unwrap() < 5.0, "{c}");
        assert!(c["angle_deg"].as_f64().unwrap() < 5.0, "{c}");
    }
    // Plots draw the maps as images (the shape is in the report).
    ok(&["plot", &o]);
    for png in ["convergence.png", "components.png", "reconstruction.png"] {
        png_size(&out.join(png));
    }

    // Bad requests: exit 2, a message naming the problem, nothing written.
    let short_g = p(d.path(), "short_G.npy");
    write_matrix(
        Path::new(&short_g),
        &Matrix::Dense(Mat::from_fn(150, 15, |_, _| 1.0)),
    )
    .unwrap();
    let sparse_x = p(d.path(), "si.npz");
    let xm = read_matrix(Path::new(&x)).unwrap();
    write_matrix(
        Path::new(&sparse_x),
        &Matrix::Sparse(nmfkit::CsrMatrix::from_dense(xm.to_dense().as_ref())),
    )
    .unwrap();
    let bad = d.path().join("bad");
    let b = bad.to_string_lossy().into_owned();
    for (extra, needle) in [
        (
            vec!["--model", "smooth", "--dictionary", short_g.as_str()],
            "G has shape (150, 15)",
        ),
        (
            vec!["--model", "smooth", "--image-shape", "30x20"],
            "30x20 has 600 pixels",
        ),
        (
            vec![
                "--model",
                "smooth",
                "--lambda-l",
                "-1",
                "--image-shape",
                "30x30",
            ],
            "lambda_l",
        ),
        (vec!["--model", "smooth", "--lambda-l", "1"], "image shape"),
        (vec!["--model", "smooth", "--loss", "is"], "frobenius"),
        (vec!["--model", "smooth", "--mu", "0.1,x"], "--mu"),
        (vec!["--dictionary", g.as_str()], "--model smooth"),
        (
            vec!["--model", "fancy"],
            "[possible values: standard, smooth]",
        ),
    ] {
        let mut all = vec!["fit", x.as_str(), "--rank", "3", "--out", b.as_str()];
        all.extend(extra.iter().copied());
        let o = nmfkit(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{all:?}: {err}");
        assert!(!bad.join("H.npy").exists());
    }
    let o = nmfkit(&[
        "fit", &sparse_x, "--rank", "3", "--model", "smooth", "--out", &b,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dense"));
}

#[test]
fn fixed_entries_from_files_are_kept() {
    let d = tempfile::tempdir().unwrap();
    let x = p(d.path(), "si.npy");
    ok(&[
        "gen",
        "spectra",
        "--image-shape",
        "10x10",
        "--out",
        &x,
        "-q",
    ]);
    let g = p(d.path(), "si_G.npy");
    let m = read_matrix(Path::new(&g)).unwrap().shape().1;
    let fw = Mat::from_fn(m, 3, |l, t| if l == 0 && t == 1 { 0.5 } else { -1.0 });
    let fh = Mat::from_fn(
        3,
        100,
        |t, j| if t == 2 && j < 10 { 0.125 } else { f64::NAN },
    );
    write_matrix(&d.path().join("fw.npy"), &Matrix::Dense(fw)).unwrap();
    write_matrix(&d.path().join("fh.npy"), &Matrix::Dense(fh)).unwrap();
    let out = d.path().join("m");
    ok(&[
        "fit",
        &x,
        "--model",
        "smooth",
        "--rank",
        "3",
        "--dictionary",
        &g,
        "--image-shape",
        "10x10",
        "--lambda-l",
        "1",
        "--fixed-w",
        &p(d.path(), "fw.npy"),
        "--fixed-h",
        &p(d.path(), "fh.npy"),
        "--normalize",
        "--max-iter",
        "50",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let w = read_matrix(&out.join("W.npy")).unwrap().to_dense();
    let h = read_matrix(&out.join("H.npy")).unwrap().to_dense();
    assert_eq!(w.get(0, 1), 0.5);
    assert!((0..10).all(|j| h.get(2, j) == 0.125));
    // --fixed-h alone implies the smooth model; a wrong shape names the file.
    let o = nmfkit(&[
        "fit",
        &x,
        "--model",
        "smooth",
        "--rank",
        "3",
        "--dictionary",
        &g,
        "--fixed-w",
        &p(d.path(), "fh.npy"),
        "--out",
        &p(d.path(), "bad"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("fh.npy"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn frobenius_loss_and_truth_tracking_from_files() {
    let d = tempfile::tempdir().unwrap();
    let x = p(d.path(), "si.npy");
    ok(&[
        "gen",
        "spectra",
        "--image-shape",
        "10x12",
        "--counts",
        "500",
        "--out",
        &x,
        "-q",
    ]);
    // gen spectra writes the true spectra GW as si_W.npy, the maps as si_H.npy.
    let fit = |loss: &str| -> Value {
        let o = ok(&[
            "fit",
            &x,
            "--model",
            "smooth",
            "--loss",
            loss,
            "--rank",
            "3",
            "--dictionary",
            &p(d.path(), "si_G.npy"),
            "--simplex",
            "h",
            "--truth-d",
            &p(d.path(), "si_W.npy"),
            "--truth-h",
            &p(d.path(), "si_H.npy"),
            "--max-iter",
            "100",
            "--tol",
            "0",
            "--out",
            &p(d.path(), &format!("m_{loss}")),
            "--json",
        ]);
        serde_json::from_slice(&o.stdout).unwrap()
    };
    for loss in ["kl", "frobenius"] {
        let r = fit(loss);
        let name = if loss == "kl" {
            "kullback-leibler"
        } else {
            loss
        };
        assert_eq!(r["params"]["loss"], name);
        let hist = r["history"].as_array().unwrap();
        let angle = |e: &Value| -> f64 {
            (0..3)
                .map(|t| e["tracked"][format!("angle_{t}")].as_f64().unwrap())
                .sum::<f64>()
                / 3.0
        };
        let (first, last) = (&hist[0], hist.last().unwrap());
        assert!(angle(last) < angle(first), "{loss}: {first} -> {last}");
        assert!(last["tracked"]["map_mse_2"].as_f64().unwrap().is_finite());
        assert!(last["tracked"]["true_divergence"].as_f64().unwrap() >= 0.0);
        for w in hist.windows(2) {
            let (a, b) = (
                w[0]["objective"].as_f64().unwrap(),
                w[1]["objective"].as_f64().unwrap(),
            );
            assert!(b <= a * (1.0 + 1e-10), "{loss}: {a} -> {b}");
        }
    }
    // A loss the model has no update for, and a truth of the wrong shape.
    let o = nmfkit(&[
        "fit",
        &x,
        "--model",
        "smooth",
        "--loss",
        "is",
        "--rank",
        "3",
        "--out",
        &p(d.path(), "bad"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = nmfkit(&[
        "fit",
        &x,
        "--model",
        "smooth",
        "--rank",
        "3",
        "--truth-d",
        &p(d.path(), "si_H.npy"),
        "--out",
        &p(d.path(), "bad"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("si_H.npy") && err.contains("true_D"), "{err}");
}
