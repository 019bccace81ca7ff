//! Names end to end (CSV header and index, name files, model folder,
//! factor files, clusters, `top`), honest `eval`, and quiet failures
//! (closed pipes, 1-D input, warnings).

mod common;
use common::*;
use std::io::Write as _;
use std::process::Stdio;

/// A planted block structure: 3 topics, each with its own 4 words and
/// 10 documents; word names say which topic they belong to.
fn topics(dir: &Path) -> (Mat<f64>, Vec<String>, Vec<String>) {
    let words: Vec<String> = (0..12)
        .map(|j| format!("t{}_word{}", j / 4, j % 4))
        .collect();
    let docs: Vec<String> = (0..30).map(|i| format!("doc{i:02}")).collect();
    let x = Mat::from_fn(30, 12, |i, j| {
        if i / 10 == j / 4 {
            (1 + i % 4) as f64 * (1 + j % 3) as f64
        } else {
            0.01
        }
    });
    let mut text = String::from(",");
    text.push_str(&words.join(","));
    text.push('\n');
    for i in 0..30 {
        text.push_str(&docs[i]);
        for j in 0..12 {
            text.push_str(&format!(",{}", x.get(i, j)));
        }
        text.push('\n');
    }
    std::fs::write(dir.join("docs.csv"), text).unwrap();
    (x, words, docs)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn csv_header_and_index_name_the_factors_clusters_and_top_features() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (x, words, docs) = topics(dir);
    let m = dir.join("m");
    ok(&[
        "fit",
        &p(dir, "docs.csv"),
        "-k",
        "3",
        "--format",
        "csv",
        "--out",
        m.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(lines(&m.join("row_names.txt")), docs);
    assert_eq!(lines(&m.join("column_names.txt")), words);
    let w = lines(&m.join("W.csv"));
    assert_eq!(w[0], ",component_1,component_2,component_3");
    assert!(w[1].starts_with("doc00,"));
    let h = lines(&m.join("H.csv"));
    assert_eq!(h[0], format!(",{}", words.join(",")));
    assert!(h[1].starts_with("component_1,"));
    // The labelled files read back as the same numbers.
    assert_eq!(read_matrix(&m.join("W.csv")).unwrap().shape(), (30, 3));
    let rep = json_file(&m.join("report.json"));
    assert_eq!(rep["top"].as_array().unwrap().len(), 3);

    // Every component's top 4 features are one planted topic's words.
    let o = ok(&["top", m.to_str().unwrap(), "--n", "4", "--json"]);
    let top: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut topics_found = Vec::new();
    for c in top.as_array().unwrap() {
        let names: Vec<&str> = c["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        let t = &names[0][..2];
        assert!(names.iter().all(|n| n.starts_with(t)), "{names:?}");
        topics_found.push(t.to_string());
        let docs_of: Vec<&str> = c["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        let block = t[1..].parse::<usize>().unwrap();
        assert!(
            docs_of
                .iter()
                .all(|n| n[3..].parse::<usize>().unwrap() / 10 == block),
            "{docs_of:?}"
        );
        let share: f64 = c["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["share"].as_f64().unwrap())
            .sum();
        assert!(share > 0.9 && share <= 1.0 + 1e-12, "{share}");
    }
    topics_found.sort();
    assert_eq!(topics_found, ["t0", "t1", "t2"]);
    // The table and the CSV.
    let o = ok(&[
        "top",
        m.to_str().unwrap(),
        "--n",
        "2",
        "--csv",
        &p(dir, "top.csv"),
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("component_1") && table.contains("_word") && table.contains("doc"),
        "{table}"
    );
    let csv = lines(&dir.join("top.csv"));
    assert_eq!(csv[0], "component,kind,rank,index,name,weight,share");
    assert_eq!(csv.len(), 1 + 3 * 2 * 2);

    // Transform: new rows keep their names; columns out of order are refused.
    let t = dir.join("W_new.csv");
    ok(&[
        "transform",
        "--model",
        m.to_str().unwrap(),
        &p(dir, "docs.csv"),
        "--out",
        t.to_str().unwrap(),
        "-q",
    ]);
    assert!(lines(&t)[1].starts_with("doc00,"));
    let mut shuffled = std::fs::read_to_string(dir.join("docs.csv")).unwrap();
    shuffled = shuffled.replacen("t0_word0,t0_word1", "t0_word1,t0_word0", 1);
    std::fs::write(dir.join("shuffled.csv"), shuffled).unwrap();
    let o = nmfkit(&[
        "transform",
        "--model",
        m.to_str().unwrap(),
        &p(dir, "shuffled.csv"),
        "--out",
        &p(dir, "w2.npy"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("t0_word1"));

    // A rank survey names its items.
    let r = dir.join("r");
    ok(&[
        "rank",
        &p(dir, "docs.csv"),
        "--ranks",
        "2..3",
        "--runs",
        "20",
        "--out",
        r.to_str().unwrap(),
        "--no-plots",
        "-q",
    ]);
    let c = lines(&r.join("clusters.csv"));
    assert_eq!(c[0], "item,rank_2,rank_3");
    assert!(c[1].starts_with("doc00,"));
    let rr = json_file(&r.join("rank.json"));
    assert!(rr.get("warnings").is_none(), "20 runs need no warning");
    let _ = x;
}

#[test]
fn name_files_header_flags_and_transpose() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (x, words, docs) = topics(dir);
    write_matrix(&dir.join("x.npy"), &Matrix::Dense(x.clone())).unwrap();
    std::fs::write(dir.join("docs.txt"), docs.join("\n")).unwrap();
    std::fs::write(dir.join("words.txt"), words.join("\n") + "\n").unwrap();
    // Transposed: rows are words now.
    let m = dir.join("m");
    ok(&[
        "fit",
        &p(dir, "x.npy"),
        "-k",
        "3",
        "--row-names",
        &p(dir, "docs.txt"),
        "--col-names",
        &p(dir, "words.txt"),
        "--transpose",
        "--out",
        m.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(lines(&m.join("row_names.txt")), words);
    assert_eq!(lines(&m.join("column_names.txt")), docs);
    // A count that does not match: exit 2 naming both counts.
    let o = nmfkit(&[
        "fit",
        &p(dir, "x.npy"),
        "-k",
        "3",
        "--col-names",
        &p(dir, "docs.txt"),
        "--out",
        &p(dir, "bad"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("30 columns names for a matrix with 12 columns"),
        "{err}"
    );
    assert!(!dir.join("bad").exists());
    // Numeric header names are data unless --header yes says otherwise;
    // a numeric index column likewise needs --index-col yes.
    std::fs::write(dir.join("num.csv"), "1,2,3\n0,4,5\n1,6,7\n").unwrap();
    let auto = nmfkit_io::formats::read_matrix(&dir.join("num.csv")).unwrap();
    assert_eq!(auto.shape(), (3, 3));
    let m2 = dir.join("m2");
    ok(&[
        "fit",
        &p(dir, "num.csv"),
        "-k",
        "1",
        "--header",
        "yes",
        "--index-col",
        "yes",
        "--out",
        m2.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(lines(&m2.join("column_names.txt")), ["2", "3"]);
    assert_eq!(lines(&m2.join("row_names.txt")), ["0", "1"]);
    // R's write.csv layout: a header one cell short of the rows.
    std::fs::write(dir.join("r.csv"), "a,b\nx,1,2\ny,3,4\n").unwrap();
    let m3 = dir.join("m3");
    ok(&[
        "fit",
        &p(dir, "r.csv"),
        "-k",
        "1",
        "--out",
        m3.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(lines(&m3.join("column_names.txt")), ["a", "b"]);
}

#[test]
fn eval_scores_observed_entries_and_new_rows_honestly() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (x, _, _) = topics(dir);
    let m = dir.join("m");
    ok(&[
        "fit",
        &p(dir, "docs.csv"),
        "-k",
        "3",
        "--out",
        m.to_str().unwrap(),
        "-q",
        "--max-iter",
        "500",
    ]);
    let mut xn = x.clone();
    xn.set(0, 0, f64::NAN);
    write_matrix(&dir.join("xn.npy"), &Matrix::Dense(xn)).unwrap();
    // NaN without --missing: an error, never a perfect score.
    let o = nmfkit(&["eval", &p(dir, "xn.npy"), "--model", m.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--missing nan"));
    let o = ok(&[
        "eval",
        &p(dir, "xn.npy"),
        "--model",
        m.to_str().unwrap(),
        "--missing",
        "nan",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["observed_entries"], 30 * 12 - 1);
    let rel = v["relative_error"].as_f64().unwrap();
    assert!(rel > 0.0 && rel < 0.2, "{rel}");
    // Per component: each explains about its own third.
    let ev: Vec<f64> = v["component_explained_variance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_f64().unwrap())
        .collect();
    assert_eq!(ev.len(), 3);
    assert!(ev.iter().all(|&e| e > 0.15 && e < 0.6), "{ev:?}");
    // New rows (fewer of them): scored through transform.
    let new = Mat::from_fn(5, 12, |i, j| x.get(i * 6, j));
    write_matrix(&dir.join("new.npy"), &Matrix::Dense(new)).unwrap();
    let o = ok(&["eval", &p(dir, "new.npy"), "--model", m.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["held_out"], true);
    assert!(v["relative_error"].as_f64().unwrap() < 0.2);
}

/// Runs nmfkit with stdout and stderr closed pipes (`| head -0`).
fn with_closed_pipes(args: &[&str]) -> std::process::ExitStatus {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nmfkit"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap()
}

#[test]
fn closed_pipes_1d_input_and_warnings_fail_quietly_or_speak_up() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (x, _, _) = topics(dir);
    write_matrix(&dir.join("x.npy"), &Matrix::Dense(x.clone())).unwrap();
    // A closed pipe is no crash (no panic, exit 0 or 141), and the
    // folder is still written.
    for args in [
        vec![
            "rank", "x.npy", "--ranks", "1..3", "--runs", "3", "--out", "r",
        ],
        vec!["fit", "x.npy", "-k", "3", "--out", "f", "--json"],
        vec!["top", "f", "--n", "3"],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.ends_with(".npy") || *a == "r" || *a == "f" {
                    p(dir, a)
                } else {
                    a.to_string()
                }
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let st = with_closed_pipes(&refs);
        assert!(
            st.code() == Some(0) || st.code() == Some(141),
            "{refs:?}: {st:?}"
        );
    }
    assert!(dir.join("r/rank.json").exists());
    // Rank 1 is never suggested; too few runs are said.
    let rr = json_file(&dir.join("r/rank.json"));
    assert_ne!(rr["suggested_rank"], 1);
    assert!(rr["warnings"][0]
        .as_str()
        .unwrap()
        .contains("3 runs per rank"));
    // A 1-D array: exit 2 naming its shape, no output.
    let mut f = std::fs::File::create(dir.join("v.npy")).unwrap();
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }";
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    f.write_all(b"\x93NUMPY\x01\x00").unwrap();
    f.write_all(&(header.len() as u16).to_le_bytes()).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    for v in [1.0f64, 2.0, 3.0, 4.0] {
        f.write_all(&v.to_le_bytes()).unwrap();
    }
    drop(f);
    let o = nmfkit(&["fit", &p(dir, "v.npy"), "-k", "1", "--out", &p(dir, "v")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1-D array of shape (4,)"), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert!(!dir.join("v").exists());
    // A rank above min(n, m): said on stderr and in the report.
    let o = ok(&[
        "fit",
        &p(dir, "x.npy"),
        "-k",
        "20",
        "--max-iter",
        "5",
        "--out",
        &p(dir, "big"),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("warning: rank 20 exceeds min(rows, columns) = 12"));
    let rep = json_file(&dir.join("big/report.json"));
    assert!(rep["warnings"][0].as_str().unwrap().contains("rank 20"));
}

#[test]
fn refits_never_mix_two_runs_in_one_folder() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    topics(dir);
    let m = dir.join("m");
    ok(&[
        "fit",
        &p(dir, "docs.csv"),
        "-k",
        "2",
        "--format",
        "csv",
        "--out",
        m.to_str().unwrap(),
        "-q",
    ]);
    ok(&["plot", m.to_str().unwrap(), "-q"]);
    assert!(m.join("W.csv").exists());
    ok(&[
        "fit",
        &p(dir, "docs.csv"),
        "-k",
        "3",
        "--out",
        m.to_str().unwrap(),
        "-q",
    ]);
    let mut files: Vec<String> = std::fs::read_dir(&m)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            ".nmfkit",
            "H.npy",
            "W.npy",
            "column_names.txt",
            "report.json",
            "row_names.txt"
        ]
    );
}

/// A PNG's size in bytes: a blank white image compresses to far less.
fn png_bytes(path: &Path) -> usize {
    std::fs::metadata(path).unwrap().len() as usize
}

#[test]
fn every_plot_kind_renders_on_small_data() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    topics(dir);
    let m = dir.join("m");
    ok(&[
        "fit",
        &p(dir, "docs.csv"),
        "-k",
        "3",
        "--out",
        m.to_str().unwrap(),
        "-q",
    ]);
    let o = ok(&["plot", m.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let written: Vec<String> = v["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            Path::new(w.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        written,
        [
            "convergence.png",
            "components.png",
            "basis.png",
            "coefficients.png",
            "reconstruction.png"
        ]
    );
    use nmfkit_cli::plot::*;
    assert_eq!(png_size(&m.join("convergence.png")), CONVERGENCE_SIZE);
    assert_eq!(png_size(&m.join("reconstruction.png")), RECONSTRUCTION_SIZE);
    assert_eq!(png_size(&m.join("components.png")), (COMPONENTS_WIDTH, 260));
    // basis.png: one row per feature (12 of them), a column per component.
    let (bw, bh) = png_size(&m.join("basis.png"));
    assert!(bw >= 400 && bh >= 360, "{bw}x{bh}");
    let (cw, ch) = png_size(&m.join("coefficients.png"));
    assert!(cw == 1000 && ch >= 220, "{cw}x{ch}");
    for f in &written {
        assert!(png_bytes(&m.join(f)) > 4000, "{f} looks empty");
    }
    // A survey: consensus maps (dendrogram, tracks, colour bar) and rank.png.
    let r = dir.join("r");
    ok(&[
        "rank",
        &p(dir, "docs.csv"),
        "--ranks",
        "2..3",
        "--runs",
        "20",
        "--random-copy",
        "--out",
        r.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(png_size(&r.join("consensus_2.png")), CONSENSUS_SIZE);
    assert_eq!(png_size(&r.join("rank.png")), RANK_SIZE);
    // Image data: tiles, one per component.
    let s = dir.join("s");
    ok(&["demo", "swimmer", "--out", s.to_str().unwrap(), "-q"]);
    let (iw, ih) = png_size(&s.join("components.png"));
    assert_eq!(iw, COMPONENTS_WIDTH);
    assert!(ih > 400, "17 tiles in 4 rows: {ih}");
}

#[test]
fn basis_rows_are_each_components_top_features_grouped() {
    use nmfkit_cli::plot::{basis_features, coefficient_order, BASIS_ROWS};
    // Three components over 300 features, each with 5 strong features.
    let h = Mat::from_fn(3, 300, |c, j| {
        if j % 60 == c * 7 && j < 300 {
            10.0 + j as f64
        } else {
            0.01 * ((j * 7 + c) % 5) as f64
        }
    });
    let rows = basis_features(&h);
    assert!(
        rows.len() <= BASIS_ROWS && rows.len() >= 15,
        "{}",
        rows.len()
    );
    // The first rows are component 1's strongest features, largest first.
    assert_eq!(rows[0], 240);
    assert!(rows.iter().take(5).all(|&j| j % 60 == 0), "{rows:?}");
    let w = Mat::from_rows(&[
        vec![0.1, 0.9],
        vec![0.8, 0.2],
        vec![0.6, 0.4],
        vec![0.0, 1.0],
    ])
    .unwrap();
    assert_eq!(coefficient_order(&w), [1, 2, 3, 0]);
}

#[test]
fn diagnostics_go_into_the_report_and_a_plot() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    topics(dir);
    let m = dir.join("m");
    ok(&[
        "fit",
        &p(dir, "docs.csv"),
        "-k",
        "3",
        "--solver",
        "mu",
        "--diagnostics",
        "--eval-every",
        "1",
        "--max-iter",
        "30",
        "--tol",
        "0",
        "--out",
        m.to_str().unwrap(),
        "-q",
    ]);
    let rep = json_file(&m.join("report.json"));
    let h = rep["history"].as_array().unwrap();
    assert_eq!(h.len(), 31);
    assert!(h[0].get("diagnostics").is_none());
    for e in &h[1..] {
        for key in ["theta_w", "theta_h", "change_w", "change_h", "kkt"] {
            assert!(
                e["diagnostics"][key].as_f64().is_some(),
                "{key} at {}",
                e["iter"]
            );
        }
    }
    ok(&["plot", m.to_str().unwrap(), "-q"]);
    assert_eq!(
        png_size(&m.join("diagnostics.png")),
        nmfkit_cli::plot::DIAGNOSTICS_SIZE
    );
}
