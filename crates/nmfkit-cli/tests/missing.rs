//! Missing and weighted entries: `fit`, `impute`, `eval` with masks, NaN and hole lists.

mod common;
use common::*;

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
        if (s >> 40).is_multiple_of(5) {
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
        if (s >> 40).is_multiple_of(7) {
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
            // Exact rows: HALS's sweep count depends on the stored entries,
            // so dense and sparse files would sweep differently.
            "--solver",
            "anls",
            "--init",
            "custom",
            "--w0",
            w0.as_str(),
            "--h0",
            h0.as_str(),
            "--max-iter",
            "300",
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
        String::from_utf8_lossy(&o.stderr).contains("weights must be finite and >= 0"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
