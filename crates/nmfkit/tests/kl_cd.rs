//! KL coordinate descent (`ccd`): monotone, the same fixed points as KL
//! multiplicative updates, sparse = dense, masks through the one engine.

mod common;

use common::rel_diff;
use nmfkit::{inverse_transform, synth, CsrMatrix, Loss, Mat, Nmf, Regularization, SolverKind};

/// Exact Poisson-like planted data: X = W·H with zeros in W and H, so that
/// X has exact zeros and the KL optimum is the planted product.
fn planted(n: usize, m: usize, k: usize, seed: u64) -> (Mat<f64>, Mat<f64>, Mat<f64>) {
    let p = synth::low_rank::<f64>(n, m, k, 0.0, seed);
    let w = Mat::from_fn(n, k, |i, t| {
        if (i + 2 * t) % 5 == 0 {
            0.0
        } else {
            p.w.get(i, t)
        }
    });
    let h = Mat::from_fn(k, m, |t, j| {
        if (3 * t + j) % 4 == 0 {
            0.0
        } else {
            p.h.get(t, j)
        }
    });
    let x = inverse_transform(&w, &h);
    (x, w, h)
}

fn monotone(hist: &[nmfkit::HistoryEntry], what: &str) {
    for p in hist.windows(2) {
        assert!(
            p[1].objective <= p[0].objective * (1.0 + 1e-12) + 1e-12,
            "{what}: {} -> {} at iteration {}",
            p[0].objective,
            p[1].objective,
            p[1].iter
        );
    }
}

fn kl(solver: SolverKind, k: usize) -> Nmf {
    Nmf::new(k)
        .solver(solver)
        .loss(Loss::KullbackLeibler)
        .seed(3)
}

#[test]
fn ccd_is_monotone_on_dense_sparse_and_masked_data_with_penalties() {
    let (x, _, _) = planted(70, 45, 5, 1);
    let noisy = Mat::from_fn(70, 45, |i, j| {
        let v = x.get(i, j);
        if (i * 7 + j) % 6 == 0 {
            0.0
        } else {
            v * (1.0 + 0.3 * (((i * j) % 7) as f64 - 3.0) / 3.0)
        }
    });
    let csr = CsrMatrix::from_dense(noisy.as_ref());
    let est = kl(SolverKind::KlCd, 5).max_iter(60).tol(0.0);
    monotone(&est.fit(&noisy).unwrap().history, "dense");
    monotone(&est.fit(&csr).unwrap().history, "sparse");
    let pen = est.clone().regularization(Regularization {
        alpha_w: 0.05,
        alpha_h: None,
        l1_ratio: 0.5,
    });
    monotone(&pen.fit(&noisy).unwrap().history, "penalized");
    let mask = Mat::from_fn(70, 45, |i, j| if (i + 3 * j) % 5 == 0 { 0.0 } else { 1.0 });
    let masked = est.fit_masked(noisy.as_ref(), mask.as_ref()).unwrap();
    monotone(&masked.history, "masked");
}

#[test]
fn ccd_and_mu_both_recover_a_planted_problem() {
    let (x, _, _) = planted(60, 40, 4, 2);
    let scale = x.norm();
    for (solver, iters) in [(SolverKind::KlCd, 400), (SolverKind::Mu, 4000)] {
        let fit = kl(solver, 4).max_iter(iters).tol(0.0).fit(&x).unwrap();
        let err = rel_diff(&fit.reconstruct(), &x);
        assert!(err < 1e-3, "{solver:?}: relative error {err}");
        assert!(
            fit.objective < 1e-5 * scale * scale,
            "{solver:?}: KL {}",
            fit.objective
        );
    }
}

#[test]
fn ccd_reaches_mu_s_fixed_point_from_the_same_start() {
    // Noisy data: both solvers converge to a KKT point; from one start
    // (with a near-exact optimum planted) they agree on the product.
    let (x, w, h) = planted(50, 35, 3, 4);
    let noisy = Mat::from_fn(50, 35, |i, j| {
        x.get(i, j) * (1.0 + 0.05 * ((i * 3 + j) % 5) as f64)
    });
    let w0 = Mat::from_fn(50, 3, |i, t| w.get(i, t) * 1.1 + 0.01);
    let h0 = Mat::from_fn(3, 35, |t, j| h.get(t, j) * 0.9 + 0.01);
    let fit = |s| {
        kl(s, 3)
            .max_iter(if s == SolverKind::Mu { 20000 } else { 2000 })
            .tol(0.0)
            .fit_from(&noisy, &w0, &h0)
            .unwrap()
    };
    let (a, b) = (fit(SolverKind::KlCd), fit(SolverKind::Mu));
    let d = rel_diff(&a.reconstruct(), &b.reconstruct());
    assert!(d < 1e-4, "products differ by {d}");
    assert!(
        (a.objective - b.objective).abs() <= 1e-6 * b.objective,
        "{} vs {}",
        a.objective,
        b.objective
    );
}

#[test]
fn ccd_sparse_equals_dense_and_float32_agrees() {
    let (x, _, _) = planted(64, 48, 5, 5);
    // Zeros on every line; then zeros on some lines only, so that dense
    // lines with and without zeros (read from the transposed factor
    // directly or gathered) both meet sparse lines.
    let patterns: [fn(usize, usize) -> bool; 2] = [
        |i, j| (i * 5 + j * 3) % 4 == 0,
        |i, j| i % 3 == 0 && j % 2 == 0,
    ];
    for (p, hole) in patterns.iter().enumerate() {
        let holes = Mat::from_fn(64, 48, |i, j| if hole(i, j) { 0.0 } else { x.get(i, j) });
        let csr = CsrMatrix::from_dense(holes.as_ref());
        let est = kl(SolverKind::KlCd, 5).max_iter(30).tol(0.0);
        let d = est.fit(&holes).unwrap();
        let s = est.fit(&csr).unwrap();
        assert!(
            rel_diff(&d.w, &s.w) < 1e-10,
            "{p}: W {}",
            rel_diff(&d.w, &s.w)
        );
        assert!(
            rel_diff(&d.h, &s.h) < 1e-10,
            "{p}: H {}",
            rel_diff(&d.h, &s.h)
        );
        let x32 = Mat::from_fn(64, 48, |i, j| holes.get(i, j) as f32);
        let f32fit = est.fit(&x32).unwrap();
        let rel = (f32fit.objective - d.objective).abs() / d.objective.max(1e-300);
        assert!(
            rel < 1e-3,
            "{p}: float32 objective {} vs {}",
            f32fit.objective,
            d.objective
        );
    }
}

#[test]
fn ccd_refuses_other_losses_with_a_clear_message() {
    let (x, _, _) = planted(20, 10, 2, 6);
    let err = Nmf::new(2)
        .solver(SolverKind::KlCd)
        .fit(&x)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ccd") && err.contains("frobenius"), "{err}");
    let err = Nmf::new(2)
        .solver(SolverKind::Hals)
        .loss(Loss::KullbackLeibler)
        .fit(&x)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ccd"), "{err}");
}
