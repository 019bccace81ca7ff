//! β-divergences against a plain transcription of scikit-learn's
//! `_beta_divergence`, on dense and sparse data.

mod common;
use common::*;
use nmfkit::*;

/// scikit-learn's definition, written out entry by entry on dense data.
fn reference(x: &Mat<f64>, w: &Mat<f64>, h: &Mat<f64>, beta: f64) -> f64 {
    let eps = f32::EPSILON as f64;
    let wh = inverse_transform(w, h);
    if beta == 2.0 {
        return x
            .data
            .iter()
            .zip(&wh.data)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            / 2.0;
    }
    let keep: Vec<(f64, f64)> = x
        .data
        .iter()
        .zip(&wh.data)
        .filter(|(a, _)| **a > eps)
        .map(|(a, b)| (*a, b.max(eps)))
        .collect();
    if beta == 1.0 {
        let sum_wh: f64 = wh.data.iter().sum();
        keep.iter().map(|(a, b)| a * (a / b).ln()).sum::<f64>() + sum_wh
            - keep.iter().map(|(a, _)| a).sum::<f64>()
    } else if beta == 0.0 {
        keep.iter().map(|(a, b)| a / b).sum::<f64>()
            - x.data.len() as f64
            - keep.iter().map(|(a, b)| (a / b).ln()).sum::<f64>()
    } else {
        let sum_wh_beta: f64 = wh.data.iter().map(|v| v.powf(beta)).sum();
        let sum_x_wh: f64 = keep.iter().map(|(a, b)| a * b.powf(beta - 1.0)).sum();
        let xb: f64 = keep.iter().map(|(a, _)| a.powf(beta)).sum();
        (xb - beta * sum_x_wh + sum_wh_beta * (beta - 1.0)) / (beta * (beta - 1.0))
    }
}

#[test]
fn beta_divergence_matches_the_reference_dense_and_sparse() {
    let (x, w, h) = problem(40, 30, 3, 2);
    let xh = with_holes(&x);
    let csr = CsrMatrix::from_dense(xh.as_ref());
    let wt = w.transpose();
    for beta in [2.0, 1.0, 0.0, 0.5, 1.5, 3.0, -0.5] {
        let r = reference(&x, &w, &h, beta);
        let got = beta_divergence(&DenseData::new(x.as_ref()), &wt, &h, beta);
        assert!(
            (got - r).abs() <= 1e-10 * r.abs(),
            "dense beta={beta}: {got} vs {r}"
        );
        if beta > 0.0 {
            let r = reference(&xh, &w, &h, beta);
            let dense = beta_divergence(&DenseData::new(xh.as_ref()), &wt, &h, beta);
            let sparse = beta_divergence(&SparseData::new(&csr), &wt, &h, beta);
            assert!(
                (dense - r).abs() <= 1e-10 * r.abs(),
                "holes dense beta={beta}"
            );
            assert!(
                (sparse - r).abs() <= 1e-10 * r.abs(),
                "sparse beta={beta}: {sparse} vs {r}"
            );
        }
    }
}

#[test]
fn divergence_is_zero_at_a_perfect_fit() {
    let p = synth::low_rank::<f64>(20, 10, 2, 0.0, 1);
    let wt = p.w.transpose();
    let d = DenseData::new(p.x.as_ref());
    for beta in [2.0, 1.0, 0.0, 0.5] {
        assert!(beta_divergence(&d, &wt, &p.h, beta).abs() < 1e-10);
    }
}

#[test]
fn reconstruction_error_is_the_frobenius_norm_for_beta_2() {
    let (x, w, h) = problem(20, 10, 2, 3);
    let d = DenseData::new(x.as_ref());
    let direct = rel_diff(&inverse_transform(&w, &h), &x) * x.norm();
    let got = reconstruction_error(&d, &w.transpose(), &h, 2.0);
    assert!((got - direct).abs() < 1e-12 * direct);
}
