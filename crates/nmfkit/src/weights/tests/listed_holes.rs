//! Sparse data whose missing entries are listed: equal to the dense mask,
//! never read, recovered.

use super::*;

/// A sparse planted matrix of rank `k` with exact zeros (sparse factors), its
/// dense copy, a list of special entries (holes at weight 0 and a few
/// reweighted entries, stored in X or not) and the dense weights they mean.
fn sparse_with_holes(
    n: usize,
    m: usize,
    k: usize,
    share: f64,
    seed: u64,
) -> (
    Mat<f64>,
    crate::CsrMatrix<f64>,
    crate::CsrMatrix<f64>,
    Mat<f64>,
) {
    let p = synth::low_rank::<f64>(n, m, k, 0.0, seed);
    let zw = holes(n, k, 0.5, seed + 2);
    let zh = holes(k, m, 0.5, seed + 3);
    let w = Mat::from_fn(n, k, |i, t| p.w.get(i, t) * zw.get(i, t));
    let h = Mat::from_fn(k, m, |t, j| p.h.get(t, j) * zh.get(t, j));
    let x = crate::model::inverse_transform(&w, &h);
    let keep = holes(n, m, share, seed + 1);
    let dense_w = Mat::from_fn(n, m, |i, j| {
        if keep.get(i, j) == 0.0 {
            0.0
        } else if (i * 31 + j * 17) % 23 == 0 {
            2.0
        } else {
            1.0
        }
    });
    let mut special = Vec::new();
    for i in 0..n {
        for j in 0..m {
            if dense_w.get(i, j) != 1.0 {
                special.push((i, j, dense_w.get(i, j)));
            }
        }
    }
    let xs = crate::CsrMatrix::from_dense(x.as_ref());
    let listed = crate::CsrMatrix::from_triplets(n, m, &special).unwrap();
    (x, xs, listed, dense_w)
}

#[test]
fn sparse_data_with_listed_holes_equals_the_dense_mask() {
    let (x, xs, listed, weights) = sparse_with_holes(40, 30, 3, 0.25, 40);
    assert!(xs.nnz() < 40 * 30 * 9 / 10, "the data has zeros");
    let w0 = Mat::from_fn(40, 3, |i, t| 0.2 + ((i + 3 * t) % 5) as f64 * 0.1);
    let h0 = Mat::from_fn(3, 30, |t, j| 0.3 + ((2 * j + t) % 7) as f64 * 0.1);
    let reg = crate::Regularization {
        alpha_w: 0.01,
        alpha_h: None,
        l1_ratio: 0.5,
    };
    for (solver, loss) in [
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::Mu, Loss::KullbackLeibler),
        (SolverKind::Mu, Loss::Beta(0.5)),
        (SolverKind::Mu, Loss::Beta(3.0)),
        (SolverKind::Hals, Loss::Frobenius),
        (SolverKind::Cd, Loss::Frobenius),
        (SolverKind::AnlsBpp, Loss::Frobenius),
    ] {
        for r in [crate::Regularization::default(), reg] {
            let mut est = Nmf::new(3)
                .solver(solver)
                .loss(loss)
                .regularization(r)
                .max_iter(25)
                .tol(0.0);
            est.hals_sweeps = Some(3);
            let opts = || FitOptions {
                w0: Some(&w0),
                h0: Some(&h0),
                ..Default::default()
            };
            let dense = est
                .fit_masked_with(x.as_ref(), weights.as_ref(), opts())
                .unwrap();
            let sparse = est
                .fit_masked_sparse_with(&xs, SparseWeights::holes(&listed), opts())
                .unwrap();
            let what = format!("{solver:?} {loss:?} {r:?}");
            assert!(
                rel(&sparse.w, &dense.w) < 1e-9,
                "{what}: W {}",
                rel(&sparse.w, &dense.w)
            );
            assert!(rel(&sparse.h, &dense.h) < 1e-9, "{what}: H");
            // The Frobenius closed form ½‖WH‖² − Σ_listed ½y² rounds at
            // ~1e-16·‖X‖², which shows once the fit is nearly exact.
            let floor = 1e-13 * x.norm().powi(2);
            assert!(
                (sparse.objective - dense.objective).abs() <= 1e-9 * dense.objective + floor,
                "{what}: {} vs {}",
                sparse.objective,
                dense.objective
            );
            for h in sparse.history.windows(2) {
                assert!(
                    h[1].objective <= h[0].objective * (1.0 + 1e-12) + floor,
                    "{what}: {} -> {}",
                    h[0].objective,
                    h[1].objective
                );
            }
        }
    }
}

#[test]
fn listed_holes_of_sparse_data_are_never_read_and_are_recovered() {
    let (x, xs, listed, weights) = sparse_with_holes(100, 80, 4, 0.2, 50);
    // The same data with every hole's stored value changed (NaN or huge);
    // holes that X does not store are stored now.
    let mut t = Vec::new();
    for i in 0..100 {
        for j in 0..80 {
            let v = x.get(i, j);
            if weights.get(i, j) == 0.0 {
                t.push((i, j, if (i + j) % 2 == 0 { f64::NAN } else { 1e9 }));
            } else if v != 0.0 {
                t.push((i, j, v));
            }
        }
    }
    let other = crate::CsrMatrix::from_triplets(100, 80, &t).unwrap();
    for solver in [SolverKind::Mu, SolverKind::Hals, SolverKind::AnlsBpp] {
        let est = Nmf::new(4).solver(solver).max_iter(20).tol(0.0);
        let a = est
            .fit_masked_sparse(&xs, SparseWeights::holes(&listed))
            .unwrap();
        let b = est
            .fit_masked_sparse(&other, SparseWeights::holes(&listed))
            .unwrap();
        assert_eq!(a.w, b.w, "{solver:?}");
        assert_eq!(a.h, b.h, "{solver:?}");
    }
    // Noise-free planted data with exact zeros: the holes come back.
    let fit = Nmf::new(4)
        .solver(SolverKind::Hals)
        .max_iter(3000)
        .tol(0.0)
        .fit_masked_sparse(&xs, SparseWeights::holes(&listed))
        .unwrap();
    let wh = crate::model::inverse_transform(&fit.w, &fit.h);
    let (mut se, mut ss) = (0.0, 0.0);
    for ((a, b), w) in wh.data.iter().zip(&x.data).zip(&weights.data) {
        if *w == 0.0 {
            se += (a - b) * (a - b);
            ss += b * b;
        }
    }
    assert!(
        (se / ss).sqrt() < 1e-6,
        "held-out relative error {}",
        (se / ss).sqrt()
    );
}

#[test]
fn bad_sparse_weights_are_named() {
    let (_, xs, listed, _) = sparse_with_holes(10, 8, 2, 0.2, 60);
    let est = Nmf::new(2).max_iter(5);
    let err = |x: &crate::CsrMatrix<f64>, w: SparseWeights<'_, f64>, est: &Nmf| {
        est.fit_masked_sparse(x, w).unwrap_err().to_string()
    };
    let small = crate::CsrMatrix::from_triplets(9, 8, &[]).unwrap();
    assert!(err(&xs, SparseWeights::holes(&small), &est).contains("mask has shape"));
    let neg = crate::CsrMatrix::from_triplets(10, 8, &[(1, 2, -1.0)]).unwrap();
    assert!(err(&xs, SparseWeights::holes(&neg), &est)
        .contains("mask has a negative entry -1 at (1, 2)"));
    let nan_x = crate::CsrMatrix::from_triplets(10, 8, &[(3, 4, f64::NAN)]).unwrap();
    assert!(err(&nan_x, SparseWeights::holes(&listed), &est).contains("X has a non-finite entry"));
    // The same NaN is fine where it is missing.
    let hole = crate::CsrMatrix::from_triplets(10, 8, &[(3, 4, 0.0)]).unwrap();
    assert!(est
        .fit_masked_sparse(&nan_x, SparseWeights::holes(&hole))
        .is_ok());
    let all = crate::CsrMatrix::from_triplets(10, 8, &[]).unwrap();
    assert!(err(&xs, SparseWeights::observed(&all), &est).contains("nothing to fit"));
    let is = Nmf::new(2)
        .solver(SolverKind::Mu)
        .loss(Loss::ItakuraSaito)
        .max_iter(5);
    assert!(err(&xs, SparseWeights::holes(&listed), &is).contains("beta"));
    assert!(err(&xs, SparseWeights::holes(&listed), &Nmf::new(0)).contains("rank"));
    let ext = Nmf::new(2).solver(SolverKind::Mu).extrapolate(true);
    assert!(err(&xs, SparseWeights::holes(&listed), &ext).contains("extrapolation"));
    let odd = SparseWeights {
        listed: &listed,
        others: f64::NAN,
    };
    assert!(err(&xs, odd, &est).contains("unlisted"));
}

#[test]
fn sparse_imputation_and_error_agree_with_the_dense_ones() {
    let (x, xs, listed, weights) = sparse_with_holes(20, 15, 2, 0.3, 70);
    let w = Mat::from_fn(20, 2, |i, t| 0.1 + ((i + t) % 4) as f64 * 0.2);
    let h = Mat::from_fn(2, 15, |t, j| 0.2 + ((j * 3 + t) % 5) as f64 * 0.1);
    let dense_fill = impute(x.as_ref(), weights.as_ref(), &w, &h);
    let sparse_fill = impute_sparse(&xs, SparseWeights::holes(&listed), &w, &h).unwrap();
    assert!(rel(&sparse_fill.to_dense(), &dense_fill) < 1e-15);
    let (loss, sq) = sparse_masked_error(&xs, SparseWeights::holes(&listed), &w, &h).unwrap();
    let dense_loss = masked_divergence(x.as_ref(), weights.as_ref(), &w, &h, 2.0).unwrap();
    let dense_sq: f64 = x
        .data
        .iter()
        .zip(&weights.data)
        .map(|(v, m)| m * v * v)
        .sum();
    assert!((loss - dense_loss).abs() < 1e-12 * dense_loss);
    assert!((sq - dense_sq).abs() < 1e-12 * dense_sq);
    // Only stored entries observed: every other entry is filled.
    let pattern = crate::CsrMatrix::from_dense(
        Mat::from_fn(20, 15, |i, j| {
            if xs.row(i).0.contains(&(j as u32)) {
                1.0
            } else {
                0.0
            }
        })
        .as_ref(),
    );
    let obs = impute_sparse(&xs, SparseWeights::observed(&pattern), &w, &h).unwrap();
    assert_eq!(obs.nnz(), 20 * 15);
    let wh = crate::model::inverse_transform(&w, &h);
    let od = obs.to_dense();
    for i in 0..20 {
        for j in 0..15 {
            let want = if pattern.row(i).0.contains(&(j as u32)) {
                x.get(i, j)
            } else {
                wh.get(i, j)
            };
            assert!((od.get(i, j) - want).abs() <= 1e-14 * want.abs());
        }
    }
}
