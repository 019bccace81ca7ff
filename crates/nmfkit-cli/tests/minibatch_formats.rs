//! `nmfkit fit --batch-size` on .npz and .mtx files: they are streamed
//! through a row-ordered scratch copy and give what the in-memory fit of
//! the same file gives.

mod common;
use common::*;
use nmfkit::CsrMatrix;

/// Planted rank-3 data with about half its entries zeroed: sparse, with
/// empty rows, so batches differ in size and some are empty.
fn sparse_planted(n: usize, m: usize, seed: u64) -> CsrMatrix<f64> {
    let x = nmfkit::synth::low_rank::<f64>(n, m, 3, 0.01, seed).x;
    let holed = Mat::from_fn(n, m, |i, j| {
        if (i * 7 + j * 3) % 2 == 0 || i % 11 == 5 {
            0.0
        } else {
            x.get(i, j)
        }
    });
    CsrMatrix::from_dense(holed.as_ref())
}

fn fit_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_slice(&ok(&all).stdout).unwrap()
}

fn factors(dir: &Path) -> [Mat<f64>; 2] {
    ["W.npy", "H.npy"].map(|f| read_matrix(&dir.join(f)).unwrap().to_dense())
}

/// Fits `file` streamed and in memory (row names force the in-memory
/// path) with the same settings; returns both reports.
fn both_ways(dir: &Path, file: &str, rows: usize, extra: &[&str]) -> [Value; 2] {
    let names: String = (0..rows).map(|i| format!("r{i}\n")).collect();
    std::fs::write(dir.join("rows.txt"), names).unwrap();
    let (x, names) = (p(dir, file), p(dir, "rows.txt"));
    let mut base = vec![
        "fit",
        &x,
        "--rank",
        "3",
        "--seed",
        "4",
        "--init",
        "random",
        "--max-iter",
        "5",
    ];
    base.extend(extra);
    let (a, b) = (p(dir, "streamed"), p(dir, "memory"));
    let mut streamed = base.clone();
    streamed.extend(["--out", &a]);
    let mut memory = base;
    memory.extend(["--out", &b, "--row-names", &names]);
    [fit_json(&streamed), fit_json(&memory)]
}

#[test]
fn streamed_npz_and_mtx_fits_equal_the_in_memory_fits() {
    let d = tempfile::tempdir().unwrap();
    let x = sparse_planted(700, 40, 1);
    for file in ["X.npz", "X.mtx"] {
        write_matrix(&d.path().join(file), &Matrix::Sparse(x.clone())).unwrap();
        for transpose in [false, true] {
            let rows = if transpose { 40 } else { 700 };
            // Row names name the file's rows, before any transpose.
            let mut extra = vec!["--batch-size", if transpose { "8" } else { "64" }];
            if transpose {
                extra.push("--transpose");
            }
            let [s, m] = both_ways(d.path(), file, 700, &extra);
            assert_eq!(s["minibatch"]["streamed"], true, "{file}");
            assert_eq!(m["minibatch"]["streamed"], false, "{file}");
            assert_eq!(s["minibatch"]["n_steps"], m["minibatch"]["n_steps"]);
            let note = s["minibatch"]["memory"].as_str().unwrap_or_default();
            assert!(note.contains("copy on disk"), "{file}: {note}");
            let ([w1, h1], [w2, h2]) = (
                factors(&d.path().join("streamed")),
                factors(&d.path().join("memory")),
            );
            // Same entries, same batches; only the start's mean of X is
            // summed batch by batch when streamed: equal to rounding.
            assert!(
                max_diff(&w1, &w2) < 1e-12,
                "{file} W: {}",
                max_diff(&w1, &w2)
            );
            assert!(
                max_diff(&h1, &h2) < 1e-12,
                "{file} H: {}",
                max_diff(&h1, &h2)
            );
            assert_eq!(w1.nrows, rows);
        }
    }
}

#[test]
fn full_batch_iterations_over_an_mtx_file_equal_the_in_memory_fit() {
    let d = tempfile::tempdir().unwrap();
    let x = sparse_planted(300, 25, 3);
    write_matrix(&d.path().join("X.mtx"), &Matrix::Sparse(x)).unwrap();
    let xs = p(d.path(), "X.mtx");
    let base = [
        "fit",
        &xs,
        "--rank",
        "3",
        "--solver",
        "hals",
        "--init",
        "random",
        "--seed",
        "2",
        "--max-iter",
        "10",
        "--tol",
        "0",
    ];
    let (a, b) = (p(d.path(), "streamed"), p(d.path(), "memory"));
    let mut streamed = base.to_vec();
    streamed.extend(["--batch-size", "50", "--full-batch", "--out", &a]);
    let s = fit_json(&streamed);
    assert_eq!(s["minibatch"]["full_batch"], true);
    assert_eq!(s["minibatch"]["streamed"], true);
    let mut memory = base.to_vec();
    memory.extend(["--out", &b]);
    fit_json(&memory);
    let ([w1, h1], [w2, h2]) = (
        factors(&d.path().join("streamed")),
        factors(&d.path().join("memory")),
    );
    assert!(max_diff(&w1, &w2) < 1e-9, "W: {}", max_diff(&w1, &w2));
    assert!(max_diff(&h1, &h2) < 1e-9, "H: {}", max_diff(&h1, &h2));
}

#[test]
fn a_bad_entry_in_a_late_row_of_an_mtx_file_is_named_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let x = sparse_planted(1000, 12, 2);
    // Written in column order, the bad row-900 entry is not the last line.
    let mut t: Vec<(usize, usize, f64)> = Vec::new();
    for i in 0..x.nrows() {
        let (cols, vals) = x.row(i);
        t.extend(cols.iter().zip(vals).map(|(&j, &v)| (i, j as usize, v)));
    }
    t.push((900, 7, -2.5));
    t.sort_by_key(|&(i, j, _)| (j, i));
    let mut text = format!(
        "%%MatrixMarket matrix coordinate real general\n1000 12 {}\n",
        t.len()
    );
    for (i, j, v) in &t {
        text.push_str(&format!("{} {} {v}\n", i + 1, j + 1));
    }
    std::fs::write(d.path().join("X.mtx"), text).unwrap();
    let out = d.path().join("m");
    let o = nmfkit(&[
        "fit",
        &p(d.path(), "X.mtx"),
        "--rank",
        "3",
        "--batch-size",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("900") && err.contains("X.mtx"), "{err}");
    assert!(err.contains("negative"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists());
}

#[test]
fn peak_memory_of_a_streamed_npz_fit_does_not_grow_with_the_rows() {
    let d = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    // 40 stored entries per row: 1.6M and 6.4M entries (19 and 77 MB as
    // CSR), both more than one sorting bucket holds.
    for (name, rows) in [("small.npz", 40_000), ("large.npz", 160_000)] {
        let t: Vec<(usize, usize, f64)> = (0..rows)
            .flat_map(|i| (0..40).map(move |k| (i, (i * 13 + k * 37) % 2000, 1.0 + (k % 3) as f64)))
            .collect();
        let x = CsrMatrix::from_triplets(rows, 2000, &t).unwrap();
        write_matrix(&d.path().join(name), &Matrix::Sparse(x)).unwrap();
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
    // In memory the large file's CSR alone is 58 MB more than the small
    // one's; streamed, only W (n×3, 3 MB more) grows.
    let ratio = peaks[1] / peaks[0];
    assert!(ratio < 1.5, "peaks {peaks:?} MB");
}
