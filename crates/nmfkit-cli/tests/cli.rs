//! Integration tests that run the `nmfkit` binary.

use nmfkit::Mat;
use nmfkit_cli::io::{read_matrix, write_matrix, Matrix};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nmfkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmfkit"))
        .args(args)
        .output()
        .expect("run nmfkit")
}

fn ok(args: &[&str]) -> Output {
    let out = nmfkit(args);
    assert!(
        out.status.success(),
        "nmfkit {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!((a.nrows, a.ncols), (b.nrows, b.ncols));
    let scale = b.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    (
        u32::from_be_bytes(b[16..20].try_into().unwrap()),
        u32::from_be_bytes(b[20..24].try_into().unwrap()),
    )
}

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
        "--max-iter",
        "300",
        "--out",
        &p(dir, "m"),
        "--json",
        "-q",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints the report");
    assert_eq!(report["input"]["shape"], serde_json::json!([120, 40]));
    let hist = report["history"].as_array().unwrap();
    assert!(hist.len() > 2 && hist[0]["iter"] == 0);
    for key in ["iter", "time_s", "loss"] {
        assert!(
            hist.iter().all(|h| h.get(key).is_some()),
            "history entries need {key}"
        );
    }
    assert!(report["result"]["relative_error"].as_f64().unwrap() < 0.02);
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
    // No staging leftovers.
    assert!(std::fs::read_dir(dir.join("m")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));
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
fn demos_recover_their_ground_truth() {
    let d = tempfile::tempdir().unwrap();
    for (kind, max_angle) in [("swimmer", 10.0), ("spectra", 5.0), ("lowrank", 10.0)] {
        let out = d.path().join(kind);
        let o = ok(&["demo", kind, "--out", &out.to_string_lossy()]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("recovered"), "{text}");
        let ev = json_file(&out.join("eval.json"));
        let comps = ev["truth"]["components"].as_array().unwrap();
        let worst = comps
            .iter()
            .map(|c| c["angle_deg"].as_f64().unwrap())
            .fold(0.0, f64::max);
        assert!(worst < max_angle, "{kind}: worst matched angle {worst}°");
        if kind == "swimmer" {
            assert_eq!(comps.len(), 17);
        }
        if kind == "spectra" {
            assert!(
                comps.iter().all(|c| c["w_mse"].as_f64().unwrap() < 0.02),
                "spectra maps: {comps:?}"
            );
        }
        for png in ["convergence.png", "components.png", "reconstruction.png"] {
            png_size(&out.join(png));
        }
    }
}

/// Every bad input: exit code 2, a one-line message naming the problem, and
/// no output written.
#[test]
fn bad_inputs_exit_2_with_a_clear_message_and_no_output() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let good = Mat::from_fn(6, 4, |i, j| (i + j) as f64 + 1.0);
    write_matrix(&dir.join("good.npy"), &Matrix::Dense(good.clone())).unwrap();
    let npy = std::fs::read(dir.join("good.npy")).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let with = |v: f64| {
        let mut m = good.clone();
        m.set(2, 1, v);
        m
    };
    for (name, m) in [
        ("nan.npy", with(f64::NAN)),
        ("inf.npy", with(f64::INFINITY)),
        ("neg.npy", with(-3.0)),
    ] {
        write_matrix(&dir.join(name), &Matrix::Dense(m)).unwrap();
    }
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (
            write("truncated.npy", &npy[..npy.len() - 20]),
            vec![],
            "truncated",
        ),
        (
            write("corrupt.npy", b"this is not numpy at all, just text"),
            vec![],
            "not a valid .npy",
        ),
        (
            write("text.csv", b"1,2,3\n4,abc,6\n"),
            vec![],
            "'abc' is not a number",
        ),
        (write("ragged.csv", b"1,2,3\n4,5\n"), vec![], "expected 3"),
        (
            write(
                "range.mtx",
                b"%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n4 2 2.0\n",
            ),
            vec![],
            "out of range",
        ),
        (
            write(
                "count.mtx",
                b"%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1.0\n2 2 2.0\n",
            ),
            vec![],
            "announces 3 entries",
        ),
        (write("empty.npy", b""), vec![], "empty"),
        (
            write("keys.npz", &zip_with("other", &npy)),
            vec![],
            "expected a scipy.sparse archive",
        ),
        (dir.join("nan.npy"), vec![], "non-finite"),
        (dir.join("inf.npy"), vec![], "non-finite"),
        (dir.join("neg.npy"), vec![], "negative"),
        (dir.join("missing.npy"), vec![], "no such file"),
        (dir.join("good.npy"), vec!["--rank", "0"], "rank"),
        (
            dir.join("good.npy"),
            vec!["--rank", "5", "--init", "nndsvd"],
            "too large",
        ),
        (
            dir.join("good.npy"),
            vec!["--solver", "cd", "--loss", "kl"],
            "does not support",
        ),
        (dir.join("good.npy"), vec!["--loss", "banana"], "banana"),
    ];
    for (i, (input, extra, needle)) in cases.iter().enumerate() {
        let out_dir = dir.join(format!("out{i}"));
        let mut args = vec![
            "fit".to_string(),
            input.to_string_lossy().into_owned(),
            "--out".into(),
            out_dir.to_string_lossy().into_owned(),
            "-q".into(),
        ];
        if !extra.iter().any(|a| *a == "--rank") {
            args.extend(["--rank".into(), "2".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = nmfkit(&argv);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(2),
            "case {i} ({}): {err}",
            input.display()
        );
        assert!(
            err.contains(needle),
            "case {i}: message '{err}' should mention '{needle}'"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "case {i}: one line, no backtrace: {err}"
        );
        let leftovers = std::fs::read_dir(&out_dir).map(|r| r.count()).unwrap_or(0);
        assert_eq!(leftovers, 0, "case {i}: output written despite the error");
    }
    // The npz case must name the keys it expected.
    let o = nmfkit(&[
        "fit",
        &p(dir, "keys.npz"),
        "--rank",
        "2",
        "--out",
        &p(dir, "o"),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // Usage errors from clap are exit code 2 as well.
    assert_eq!(nmfkit(&["fit"]).status.code(), Some(2));
}

/// A zip archive holding two arrays under names scipy does not use.
fn zip_with(name: &str, npy: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = npyz::zip::ZipWriter::new(&mut buf);
        let o = npyz::zip::write::FileOptions::default();
        z.start_file(format!("{name}.npy"), o).unwrap();
        z.write_all(npy).unwrap();
        z.start_file("second.npy", o).unwrap();
        z.write_all(npy).unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

/// A 400×300 noisy rank-10 matrix in `dir/X.npy`: slow enough to interrupt.
fn noisy_rank_10(dir: &Path) {
    ok(&[
        "gen",
        "lowrank",
        "--rows",
        "400",
        "--cols",
        "300",
        "--rank",
        "10",
        "--noise",
        "0.1",
        "--out",
        &p(dir, "X.npy"),
        "-q",
    ]);
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

#[test]
fn every_subcommand_has_help_and_json() {
    for sub in [
        "fit",
        "transform",
        "eval",
        "plot",
        "demo",
        "gen",
        "rank",
        "impute",
    ] {
        let o = ok(&[sub, "--help"]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("Example"), "{sub} --help has examples");
        assert!(text.contains("--quiet"), "{sub} has --quiet");
    }
    let d = tempfile::tempdir().unwrap();
    let o = ok(&["gen", "swimmer", "--out", &p(d.path(), "s.npy"), "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([256, 1024]));
}

#[test]
fn rank_survey_finds_the_planted_clusters_and_writes_its_folder() {
    let d = tempfile::tempdir().unwrap();
    let x = p(d.path(), "C.npy");
    ok(&[
        "gen", "clusters", "--rows", "120", "--cols", "60", "--rank", "3", "--noise", "0.1",
        "--out", &x,
    ]);
    let out = d.path().join("survey");
    let o = ok(&[
        "rank",
        &x,
        "--ranks",
        "2..5",
        "--runs",
        "10",
        "--random-copy",
        "--seed",
        "4",
        "--out",
        &out.to_string_lossy(),
        "--json",
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r, json_file(&out.join("rank.json")));
    assert_eq!(r["suggested_rank"], 3);
    let table = r["table"].as_array().unwrap();
    assert_eq!(table.len(), 4);
    let best = |key: &str| {
        table
            .iter()
            .max_by(|a, b| {
                a[key]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b[key].as_f64().unwrap())
            })
            .unwrap()["rank"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(best("cophenetic"), 3);
    assert_eq!(best("dispersion"), 3);
    // The randomized copy has no cluster structure to agree on.
    let random = r["randomized_table"].as_array().unwrap();
    assert_eq!(random.len(), 4);
    assert!(random[1]["cophenetic"].as_f64().unwrap() < table[1]["cophenetic"].as_f64().unwrap());
    // The CSV holds the same rows as the JSON, data then randomized.
    let csv = std::fs::read_to_string(out.join("rank.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 4 + 4);
    assert!(lines[0].starts_with("data,rank,runs,best_objective"));
    assert!(lines[2].starts_with("data,3,10,"));
    assert!(lines[5].starts_with("randomized,2,10,"));
    // clusters.csv: item, then the cluster at each rank; at rank 3 the
    // planted clusters (item i in cluster i mod 3).
    let clusters = std::fs::read_to_string(out.join("clusters.csv")).unwrap();
    let rows: Vec<Vec<usize>> = clusters
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 120);
    for a in &rows {
        for b in &rows {
            assert_eq!(a[2] == b[2], a[0] % 3 == b[0] % 3);
        }
    }
    for k in 2..=5 {
        assert_eq!(
            png_size(&out.join(format!("consensus_{k}.png"))),
            (640, 680)
        );
    }
    assert_eq!(png_size(&out.join("rank.png")), (1200, 760));

    // Same seed, same table (timings aside).
    let again = d.path().join("again");
    let o2 = ok(&[
        "rank",
        &x,
        "--ranks",
        "2..5",
        "--runs",
        "10",
        "--random-copy",
        "--seed",
        "4",
        "--out",
        &again.to_string_lossy(),
        "--json",
        "--no-plots",
    ]);
    let r2: Value = serde_json::from_slice(&o2.stdout).unwrap();
    for (a, b) in table.iter().zip(r2["table"].as_array().unwrap()) {
        for key in ["best_objective", "cophenetic", "dispersion", "silhouette"] {
            assert_eq!(a[key], b[key]);
        }
    }
    assert!(!again.join("rank.png").exists());

    // Cross-validation: the held-out error is lowest at the planted rank.
    let cvd = d.path().join("cv");
    let o3 = ok(&[
        "rank",
        &x,
        "--ranks",
        "2..5",
        "--runs",
        "3",
        "--cv-folds",
        "2",
        "--seed",
        "4",
        "--out",
        &cvd.to_string_lossy(),
        "--json",
        "--no-plots",
    ]);
    let r3: Value = serde_json::from_slice(&o3.stdout).unwrap();
    let cv: Vec<f64> = r3["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cv_error"].as_f64().unwrap())
        .collect();
    let lowest = (0..cv.len()).fold(0, |b, i| if cv[i] < cv[b] { i } else { b });
    assert_eq!(lowest + 2, 3, "{cv:?}");
    assert!(std::fs::read_to_string(cvd.join("rank.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .ends_with(",cv_error"));

    // Bad requests: exit 2, one line, nothing written.
    for (args, needle) in [
        (vec!["--ranks", "0..3"], "ranks start at 1"),
        (vec!["--ranks", "5..2"], "empty"),
        (vec!["--runs", "0"], "--runs"),
        (vec!["--cluster", "diagonal"], "diagonal"),
        (vec!["--loss", "kl", "--solver", "cd"], "cd"),
        (
            vec!["--cv-folds", "2", "--cv-fraction", "1.5"],
            "--cv-fraction",
        ),
    ] {
        let bad = d.path().join("bad");
        let mut all = vec!["rank", x.as_str(), "--out"];
        let b = bad.to_string_lossy().into_owned();
        all.push(&b);
        all.extend(args.iter().copied());
        let o = nmfkit(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{all:?}: {err}");
        assert!(!bad.join("rank.json").exists());
    }
}

#[test]
fn clusters_demo_suggests_the_planted_rank() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    let o = ok(&["demo", "clusters", "--out", &out.to_string_lossy()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("suggested rank 4 (planted: 4)"), "{text}");
    assert_eq!(json_file(&out.join("rank.json"))["suggested_rank"], 4);
}

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
    assert_eq!(r["model"], "smooth");
    let res = &r["result"];
    assert_eq!(res["n_iter"], 1000);
    for part in ["kl", "laplacian", "log_term"] {
        assert!(
            res[part].as_f64().unwrap().is_finite() && res[part].as_f64().unwrap() != 0.0,
            "{part}"
        );
    }
    // The objective never rose, and every record has its parts.
    let hist = r["history"].as_array().unwrap();
    assert_eq!(hist.len(), 1001);
    for w in hist.windows(2) {
        let (a, b) = (
            w[0]["loss"].as_f64().unwrap(),
            w[1]["loss"].as_f64().unwrap(),
        );
        assert!(b <= a + 1e-12 * a.abs());
        let parts: f64 = ["kl", "laplacian", "log_term"]
            .iter()
            .map(|k| w[1][*k].as_f64().unwrap())
            .sum();
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
        (vec!["--model", "smooth", "--loss", "frobenius"], "KL"),
        (vec!["--model", "smooth", "--mu", "0.1,x"], "--mu"),
        (vec!["--dictionary", g.as_str()], "--model smooth"),
        (vec!["--model", "fancy"], "standard or smooth"),
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
fn missing_values_fit_impute_and_bad_masks() {
    let d = tempfile::tempdir().unwrap();
    let x = p(d.path(), "X.npy");
    ok(&[
        "gen", "lowrank", "--rows", "80", "--cols", "60", "--rank", "4", "--out", &x,
    ]);
    let truth = read_matrix(Path::new(&x)).unwrap().to_dense();
    // 20 % of the entries missing, as NaN in one file and as a 0/1 mask in another.
    let mut s = 7u64;
    let weights = Mat::from_fn(80, 60, |_, _| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if (s >> 40) % 5 == 0 {
            0.0
        } else {
            1.0
        }
    });
    let mut holes = truth.clone();
    for (v, w) in holes.data.iter_mut().zip(&weights.data) {
        if *w == 0.0 {
            *v = f64::NAN;
        }
    }
    let xn = p(d.path(), "Xnan.npy");
    let mp = p(d.path(), "M.csv");
    write_matrix(Path::new(&xn), &Matrix::Dense(holes)).unwrap();
    write_matrix(Path::new(&mp), &Matrix::Dense(weights.clone())).unwrap();
    let m1 = p(d.path(), "m1");
    let r: Value = serde_json::from_slice(
        &ok(&[
            "fit",
            &xn,
            "--rank",
            "4",
            "--missing",
            "nan",
            "--solver",
            "hals",
            "--max-iter",
            "3000",
            "--tol",
            "0",
            "--out",
            &m1,
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    let missing = weights.data.iter().filter(|w| **w == 0.0).count();
    assert_eq!(r["mask"]["missing_entries"], missing);
    assert!(
        r["result"]["relative_error"].as_f64().unwrap() < 1e-4,
        "{}",
        r["result"]
    );
    // The same holes given as a mask (the data's values there are then ignored).
    let m2 = p(d.path(), "m2");
    ok(&[
        "fit",
        &x,
        "--rank",
        "4",
        "--mask",
        &mp,
        "--solver",
        "hals",
        "--max-iter",
        "3000",
        "--tol",
        "0",
        "--out",
        &m2,
        "--quiet",
    ]);
    let h1 = read_matrix(&Path::new(&m1).join("H.npy"))
        .unwrap()
        .to_dense();
    let h2 = read_matrix(&Path::new(&m2).join("H.npy"))
        .unwrap()
        .to_dense();
    assert_eq!(h1, h2);
    // Impute: observed entries unchanged, missing ones close to the truth.
    let filled = p(d.path(), "filled.npy");
    ok(&[
        "impute",
        &xn,
        "--model",
        &m1,
        "--missing",
        "nan",
        "--out",
        &filled,
        "--quiet",
    ]);
    let f = read_matrix(Path::new(&filled)).unwrap().to_dense();
    let (mut se, mut ss) = (0.0, 0.0);
    for ((a, b), w) in f.data.iter().zip(&truth.data).zip(&weights.data) {
        if *w == 0.0 {
            se += (a - b) * (a - b);
            ss += b * b;
        } else {
            assert_eq!(a, b);
        }
    }
    assert!(
        (se / ss).sqrt() < 1e-3,
        "held-out error {}",
        (se / ss).sqrt()
    );

    // Bad requests: exit 2 with the problem named.
    let short = p(d.path(), "short.csv");
    write_matrix(
        Path::new(&short),
        &Matrix::Dense(Mat::from_fn(80, 59, |_, _| 1.0)),
    )
    .unwrap();
    let sparse = p(d.path(), "X.npz");
    write_matrix(
        Path::new(&sparse),
        &Matrix::Sparse(nmfkit::CsrMatrix::from_dense(truth.as_ref())),
    )
    .unwrap();
    let bad = p(d.path(), "bad");
    for (args, needle) in [
        (
            vec!["fit", xn.as_str(), "--rank", "4", "--out", bad.as_str()],
            "non-finite",
        ),
        (
            vec![
                "fit",
                x.as_str(),
                "--rank",
                "4",
                "--mask",
                short.as_str(),
                "--out",
                bad.as_str(),
            ],
            "the mask is 80×59",
        ),
        (
            vec![
                "fit",
                sparse.as_str(),
                "--rank",
                "4",
                "--missing",
                "unstored",
                "--missing-entries",
                mp.as_str(),
                "--out",
                bad.as_str(),
            ],
            "already says which entries are observed",
        ),
        (
            vec![
                "fit",
                xn.as_str(),
                "--rank",
                "4",
                "--missing",
                "zero",
                "--out",
                bad.as_str(),
            ],
            "--missing",
        ),
        (
            vec![
                "impute",
                xn.as_str(),
                "--model",
                m1.as_str(),
                "--out",
                bad.as_str(),
            ],
            "missing",
        ),
    ] {
        let o = nmfkit(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn only_stored_entries_observed_for_sparse_ratings() {
    let d = tempfile::tempdir().unwrap();
    let x = p(d.path(), "R.npz");
    ok(&[
        "gen",
        "lowrank",
        "--sparse",
        "--density",
        "0.5",
        "--rows",
        "80",
        "--cols",
        "60",
        "--rank",
        "3",
        "--out",
        &x,
    ]);
    let fit = |extra: &[&str], out: &str| -> Value {
        let mut args = vec![
            "fit",
            x.as_str(),
            "--rank",
            "3",
            "--solver",
            "hals",
            "--max-iter",
            "1500",
            "--tol",
            "0",
            "--out",
            out,
            "--json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_slice(&ok(&args).stdout).unwrap()
    };
    // Stored values come from a rank-3 product: with only them observed the
    // fit is (near) exact; reading the unstored ones as zeros it cannot be.
    let observed = fit(&["--missing", "unstored"], &p(d.path(), "m1"));
    let zeros = fit(&[], &p(d.path(), "m2"));
    assert_eq!(observed["mask"]["missing"], "unstored");
    let (a, b) = (
        observed["result"]["relative_error"].as_f64().unwrap(),
        zeros["result"]["relative_error"].as_f64().unwrap(),
    );
    assert!(a < 1e-3 && b > 0.1, "observed-only {a}, zeros {b}");
    let dense = p(d.path(), "R.npy");
    write_matrix(
        Path::new(&dense),
        &Matrix::Dense(read_matrix(Path::new(&x)).unwrap().to_dense()),
    )
    .unwrap();
    let o = nmfkit(&[
        "fit",
        &dense,
        "--rank",
        "3",
        "--missing",
        "unstored",
        "--out",
        &p(d.path(), "bad"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sparse"));
}

#[test]
fn sparse_data_takes_masks_and_listed_holes() {
    let d = tempfile::tempdir().unwrap();
    // A rank-3 matrix with exact zeros (sparse factors), dense and sparse.
    let w = Mat::from_fn(70, 3, |i, t| {
        if (i + t) % 3 == 0 {
            0.0
        } else {
            0.2 + ((i * 7 + t) % 5) as f64 * 0.2
        }
    });
    let h = Mat::from_fn(3, 50, |t, j| {
        if (j + 2 * t) % 4 == 0 {
            0.0
        } else {
            0.3 + ((j * 3 + t) % 7) as f64 * 0.1
        }
    });
    let truth = nmfkit::inverse_transform(&w, &h);
    let (xd, xs) = (p(d.path(), "X.npy"), p(d.path(), "X.npz"));
    write_matrix(Path::new(&xd), &Matrix::Dense(truth.clone())).unwrap();
    write_matrix(
        Path::new(&xs),
        &Matrix::Sparse(nmfkit::CsrMatrix::from_dense(truth.as_ref())),
    )
    .unwrap();
    // 15 % holes: as a list (.mtx) and as a dense 0/1 mask.
    let mut t = Vec::new();
    let mut s = 11u64;
    let weights = Mat::from_fn(70, 50, |i, j| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if (s >> 40) % 7 == 0 {
            t.push((i, j, 1.0));
            0.0
        } else {
            1.0
        }
    });
    let (holes, mask) = (p(d.path(), "holes.mtx"), p(d.path(), "M.npy"));
    write_matrix(
        Path::new(&holes),
        &Matrix::Sparse(nmfkit::CsrMatrix::from_triplets(70, 50, &t).unwrap()),
    )
    .unwrap();
    write_matrix(Path::new(&mask), &Matrix::Dense(weights.clone())).unwrap();
    let (w0, h0) = (p(d.path(), "W0.npy"), p(d.path(), "H0.npy"));
    write_matrix(
        Path::new(&w0),
        &Matrix::Dense(Mat::from_fn(70, 3, |i, t| 0.5 + ((i + t) % 3) as f64 * 0.1)),
    )
    .unwrap();
    write_matrix(
        Path::new(&h0),
        &Matrix::Dense(Mat::from_fn(3, 50, |t, j| {
            0.5 + ((j + 2 * t) % 5) as f64 * 0.1
        })),
    )
    .unwrap();
    let fit = |input: &str, extra: &[&str], out: &str| -> (Value, Mat<f64>) {
        let mut args = vec![
            "fit",
            input,
            "--rank",
            "3",
            "--solver",
            "hals",
            "--init",
            "custom",
            "--w0",
            w0.as_str(),
            "--h0",
            h0.as_str(),
            "--max-iter",
            "2000",
            "--tol",
            "0",
            "--out",
            out,
            "--json",
        ];
        args.extend_from_slice(extra);
        let r: Value = serde_json::from_slice(&ok(&args).stdout).unwrap();
        (
            r,
            read_matrix(&Path::new(out).join("W.npy"))
                .unwrap()
                .to_dense(),
        )
    };
    let (r_dense, w_dense) = fit(&xd, &["--mask", &mask], &p(d.path(), "a"));
    let (r_list, w_list) = fit(&xs, &["--missing-entries", &holes], &p(d.path(), "b"));
    let (_, w_mask) = fit(&xs, &["--mask", &mask], &p(d.path(), "c"));
    let (_, w_dense_list) = fit(&xd, &["--missing-entries", &holes], &p(d.path(), "e"));
    assert!(
        max_diff(&w_list, &w_dense) < 1e-9,
        "{}",
        max_diff(&w_list, &w_dense)
    );
    assert!(max_diff(&w_mask, &w_dense) < 1e-9);
    assert!(max_diff(&w_dense_list, &w_dense) < 1e-12);
    assert_eq!(r_list["mask"]["missing_entries"], t.len());
    assert_eq!(
        r_list["mask"]["missing_entries"],
        r_dense["mask"]["missing_entries"]
    );
    assert!(
        r_list["result"]["relative_error"].as_f64().unwrap() < 1e-4,
        "{}",
        r_list["result"]
    );
    // Impute the holes of the sparse file: a sparse file back, observed
    // entries kept, holes close to the truth.
    let filled = p(d.path(), "filled.npz");
    ok(&[
        "impute",
        &xs,
        "--model",
        &p(d.path(), "b"),
        "--missing-entries",
        &holes,
        "--out",
        &filled,
        "--quiet",
    ]);
    let f = read_matrix(Path::new(&filled)).unwrap();
    assert!(f.is_sparse());
    let f = f.to_dense();
    let (mut se, mut ss) = (0.0, 0.0);
    for ((a, b), m) in f.data.iter().zip(&truth.data).zip(&weights.data) {
        if *m == 0.0 {
            se += (a - b) * (a - b);
            ss += b * b;
        } else {
            assert_eq!(a, b);
        }
    }
    assert!(
        (se / ss).sqrt() < 1e-3,
        "held-out error {}",
        (se / ss).sqrt()
    );
    // A negative weight in a sparse mask is named.
    let neg = p(d.path(), "neg.mtx");
    write_matrix(
        Path::new(&neg),
        &Matrix::Sparse(nmfkit::CsrMatrix::from_triplets(70, 50, &[(2, 3, -1.0)]).unwrap()),
    )
    .unwrap();
    let o = nmfkit(&[
        "fit",
        &xs,
        "--rank",
        "3",
        "--mask",
        &neg,
        "--out",
        &p(d.path(), "bad"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("mask weights must be finite and >= 0"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
