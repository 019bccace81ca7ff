//! One engine under every fit: weighted data runs the plain solvers and
//! driver (an all-ones mask gives the plain iterates), and every driver
//! option means the same for plain, weighted and smooth fits.

use nmfkit::smooth::{Simplex, SmoothNmf};
use nmfkit::{
    synth, Balance, Convergence, CsrMatrix, FitOptions, Loss, Mat, Nmf, NmfFit, Regularization,
    SolverKind, SparseWeights, StopReason,
};
use std::time::Duration;

fn solvers() -> Vec<(SolverKind, Loss)> {
    vec![
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::Mu, Loss::KullbackLeibler),
        (SolverKind::Mu, Loss::Beta(0.5)),
        (SolverKind::Mu, Loss::Beta(3.0)),
        (SolverKind::Cd, Loss::Frobenius),
        (SolverKind::Hals, Loss::Frobenius),
        (SolverKind::AnlsBpp, Loss::Frobenius),
        (SolverKind::KlCd, Loss::KullbackLeibler),
    ]
}

fn opts<'a>(w0: &'a Mat<f64>, h0: &'a Mat<f64>) -> FitOptions<'a, 'static, f64> {
    FitOptions {
        w0: Some(w0),
        h0: Some(h0),
        ..Default::default()
    }
}

fn same_history(a: &NmfFit<f64>, b: &NmfFit<f64>, what: &str) {
    assert_eq!(a.history.len(), b.history.len(), "{what}");
    for (x, y) in a.history.iter().zip(&b.history) {
        assert_eq!(x.iter, y.iter, "{what}");
        let scale = x.objective.abs().max(1e-300);
        assert!(
            (x.objective - y.objective).abs() <= 1e-11 * scale,
            "{what}: objective {} vs {} at iteration {}",
            x.objective,
            y.objective,
            x.iter
        );
    }
}

/// 80×50 of rank 6 with exact zeros (so that the sparse copy is sparse).
fn data() -> (Mat<f64>, CsrMatrix<f64>, Mat<f64>, Mat<f64>) {
    let p = synth::low_rank::<f64>(80, 50, 6, 0.1, 1);
    let x = Mat::from_fn(80, 50, |i, j| {
        if (i * 7 + j * 3) % 5 == 0 {
            0.0
        } else {
            p.x.get(i, j)
        }
    });
    let start = synth::low_rank::<f64>(80, 50, 6, 0.0, 2);
    let csr = CsrMatrix::from_dense(x.as_ref());
    (x, csr, start.w, start.h)
}

#[test]
fn an_all_ones_mask_gives_the_plain_iterates_for_every_solver() {
    let (x, csr, w0, h0) = data();
    let ones = Mat::from_fn(80, 50, |_, _| 1.0);
    let no_holes = CsrMatrix::from_triplets(80, 50, &[]).unwrap();
    for (solver, loss) in solvers() {
        for iters in [1, 7, 25] {
            let est = Nmf::new(6)
                .solver(solver)
                .loss(loss)
                .max_iter(iters)
                .tol(0.0);
            let what = format!("{solver:?} {loss:?} {iters} iterations");
            let plain = est.fit_from(&x, &w0, &h0).unwrap();
            let masked = est
                .fit_masked_with(x.as_ref(), ones.as_ref(), opts(&w0, &h0))
                .unwrap();
            assert_eq!(masked.w, plain.w, "dense {what}");
            assert_eq!(masked.h, plain.h, "dense {what}");
            same_history(&plain, &masked, &format!("dense {what}"));
            let plain_s = est.fit_from(&csr, &w0, &h0).unwrap();
            let holes = SparseWeights::holes(&no_holes);
            let masked_s = est
                .fit_masked_sparse_with(&csr, holes, opts(&w0, &h0))
                .unwrap();
            assert_eq!(masked_s.w, plain_s.w, "sparse {what}");
            assert_eq!(masked_s.h, plain_s.h, "sparse {what}");
            same_history(&plain_s, &masked_s, &format!("sparse {what}"));
        }
    }
}

/// 20 % of the entries missing, at fixed places.
fn holes(n: usize, m: usize) -> Mat<f64> {
    Mat::from_fn(
        n,
        m,
        |i, j| {
            if (i * 13 + j * 7) % 5 == 0 {
                0.0
            } else {
                1.0
            }
        },
    )
}

#[test]
fn weighted_hals_with_extrapolation_is_monotone_and_needs_fewer_iterations() {
    let p = synth::low_rank::<f64>(150, 100, 8, 0.05, 3);
    let m = holes(150, 100);
    let est = Nmf::new(8).solver(SolverKind::Hals).tol(0.0);
    let plain = est
        .clone()
        .max_iter(400)
        .fit_masked(p.x.as_ref(), m.as_ref())
        .unwrap();
    let target = plain.objective;
    let fast = est
        .extrapolate(true)
        .max_iter(400)
        .fit_masked(p.x.as_ref(), m.as_ref())
        .unwrap();
    for w in fast.history.windows(2) {
        assert!(
            w[1].objective <= w[0].objective * (1.0 + 1e-12),
            "{} -> {} at iteration {}",
            w[0].objective,
            w[1].objective,
            w[1].iter
        );
    }
    let reached = fast
        .history
        .iter()
        .find(|h| h.objective <= target)
        .map(|h| h.iter)
        .expect("extrapolated HALS reaches plain HALS's 400-iteration objective");
    assert!(reached < 250, "reached after {reached} iterations");
}

#[test]
fn weighted_float32_agrees_with_float64() {
    let p = synth::low_rank::<f64>(60, 40, 4, 0.05, 4);
    let m = holes(60, 40);
    let (w0, h0) = (
        synth::low_rank::<f64>(60, 40, 4, 0.0, 5).w,
        synth::low_rank::<f64>(60, 40, 4, 0.0, 5).h,
    );
    for (solver, loss) in solvers() {
        let est = Nmf::new(4).solver(solver).loss(loss).max_iter(30).tol(0.0);
        let a = est
            .fit_masked_with(p.x.as_ref(), m.as_ref(), opts(&w0, &h0))
            .unwrap();
        let (x32, m32, w32, h32) = (
            p.x.cast::<f32>(),
            m.cast::<f32>(),
            w0.cast::<f32>(),
            h0.cast::<f32>(),
        );
        let o32 = FitOptions {
            w0: Some(&w32),
            h0: Some(&h32),
            ..Default::default()
        };
        let b = est
            .fit_masked_with(x32.as_ref(), m32.as_ref(), o32)
            .unwrap();
        let (wh64, wh32) = (a.reconstruct(), b.reconstruct().cast::<f64>());
        let diff = wh64
            .data
            .iter()
            .zip(&wh32.data)
            .map(|(u, v)| (u - v) * (u - v))
            .sum::<f64>()
            .sqrt()
            / wh64.norm();
        assert!(diff < 1e-4, "{solver:?} {loss:?}: WH differs by {diff}");
        let rel = (a.objective - b.objective).abs() / a.objective;
        assert!(
            rel <= 1e-4,
            "{solver:?} {loss:?}: objective {} vs {} ({rel:e})",
            a.objective,
            b.objective
        );
    }
}

fn smooth_toy() -> synth::SpectrumImage<f64> {
    synth::spectra::<f64>(&synth::SpectraOptions {
        height: 10,
        width: 12,
        ..Default::default()
    })
}

fn smooth_est() -> SmoothNmf {
    SmoothNmf::new(3)
        .lambda_l(2.0)
        .mu(vec![0.05])
        .simplex(Simplex::H)
        .image_shape(10, 12)
        .tol(0.0)
}

#[test]
fn smooth_fits_honour_the_time_limit_eval_every_and_factor_tol() {
    let s = smooth_toy();
    let g = Some(s.g.as_ref());
    let timed = smooth_est()
        .max_iter(100_000_000)
        .time_limit(Duration::from_millis(30))
        .fit(s.x.as_ref(), g)
        .unwrap();
    assert_eq!(timed.stop, StopReason::TimeLimit);
    assert!(timed.n_iter > 0 && timed.n_iter < 100_000_000);
    for every in [1, 3, 7] {
        let fit = smooth_est()
            .max_iter(20)
            .eval_every(every)
            .fit(s.x.as_ref(), g)
            .unwrap();
        let iters: Vec<usize> = fit.history.iter().map(|h| h.iter).collect();
        let mut want: Vec<usize> = (0..=20).filter(|i| i % every == 0).collect();
        if *want.last().unwrap() != 20 {
            want.push(20);
        }
        assert_eq!(iters, want, "eval_every {every}");
        // The objective of every record is its parts' sum.
        for h in &fit.history {
            let parts = h.divergence + h.penalties.iter().sum::<f64>();
            assert!((h.objective - parts).abs() <= 1e-12 * h.objective.abs());
        }
    }
    let stalled = smooth_est()
        .max_iter(5000)
        .factor_tol(1e-3)
        .fit(s.x.as_ref(), g)
        .unwrap();
    assert_eq!(stalled.stop, StopReason::FactorsStalled);
    assert!(stalled.n_iter < 5000);
}

#[test]
fn tol_zero_runs_to_max_iter_for_every_solver_and_model() {
    // Exact data started at its own factors: the objective cannot fall, so
    // any positive tol would stop at once.
    let p = synth::low_rank::<f64>(40, 30, 3, 0.0, 6);
    let ones = Mat::from_fn(40, 30, |_, _| 1.0);
    for (solver, loss) in solvers() {
        let est = Nmf::new(3).solver(solver).loss(loss).max_iter(15);
        let objective = est.clone().convergence(Convergence::Objective);
        let stops = objective.tol(1e-4).fit_from(&p.x, &p.w, &p.h).unwrap();
        assert!(
            stops.n_iter < 15,
            "{solver:?} {loss:?}: a positive tol stops"
        );
        for rule in [
            Convergence::Auto,
            Convergence::Objective,
            Convergence::Sklearn,
        ] {
            let est = est.clone().convergence(rule).tol(0.0);
            let plain = est.fit_from(&p.x, &p.w, &p.h).unwrap();
            let masked = est
                .fit_masked_with(p.x.as_ref(), ones.as_ref(), opts(&p.w, &p.h))
                .unwrap();
            for fit in [plain, masked] {
                let what = format!("{solver:?} {loss:?} {rule:?}");
                assert_eq!(
                    (fit.n_iter, fit.stop),
                    (15, StopReason::MaxIterations),
                    "{what}"
                );
            }
        }
    }
    let s = smooth_toy();
    let fit = smooth_est()
        .max_iter(15)
        .fit(s.x.as_ref(), Some(s.g.as_ref()))
        .unwrap();
    assert_eq!((fit.n_iter, fit.stop), (15, StopReason::MaxIterations));
}

#[test]
fn balancing_keeps_wh_and_never_raises_the_penalized_objective() {
    let p = synth::low_rank::<f64>(60, 40, 5, 0.1, 7);
    // A start with absurd scales: W's columns 1e6 too large, H's rows too small.
    let s = synth::low_rank::<f64>(60, 40, 5, 0.0, 8);
    let w0 = Mat::from_fn(60, 5, |i, t| s.w.get(i, t) * 1e6);
    let h0 = Mat::from_fn(5, 40, |t, j| s.h.get(t, j) * 1e-6);
    let both = Regularization {
        alpha_w: 0.01,
        alpha_h: None,
        l1_ratio: 0.5,
    };
    let w_only = Regularization {
        alpha_w: 0.01,
        alpha_h: Some(0.0),
        l1_ratio: 0.3,
    };
    for reg in [Regularization::default(), both, w_only] {
        for solver in [
            SolverKind::Hals,
            SolverKind::AnlsBpp,
            SolverKind::Mu,
            SolverKind::Cd,
        ] {
            let est = Nmf::new(5).solver(solver).regularization(reg).tol(0.0);
            let what = format!("{solver:?} {reg:?}");
            // One iteration alike, then balanced: the same WH.
            let off = est.clone().balance(Balance::Off).max_iter(1);
            let every = est.clone().balance(Balance::Every).max_iter(1);
            let (a, b) = (
                off.fit_from(&p.x, &w0, &h0).unwrap(),
                every.fit_from(&p.x, &w0, &h0).unwrap(),
            );
            let (wa, wb) = (a.reconstruct(), b.reconstruct());
            let d = wa
                .data
                .iter()
                .zip(&wb.data)
                .map(|(u, v)| (u - v).abs())
                .fold(0.0, f64::max);
            assert!(d <= 1e-12 * wa.norm(), "{what}: WH moved by {d}");
            assert!(b.objective <= a.objective * (1.0 + 1e-12), "{what}");
            // Balanced every iteration, the objective never rises.
            let fit = est
                .clone()
                .balance(Balance::Every)
                .max_iter(60)
                .fit_from(&p.x, &w0, &h0)
                .unwrap();
            for w in fit.history.windows(2) {
                assert!(
                    w[1].objective <= w[0].objective * (1.0 + 1e-12),
                    "{what}: rose at {}",
                    w[1].iter
                );
            }
            // Without penalties, every component has equal norms in W and H.
            if reg == Regularization::default() {
                for t in 0..5 {
                    let nw = (0..60).map(|i| fit.w.get(i, t).powi(2)).sum::<f64>().sqrt();
                    let nh = (0..40).map(|j| fit.h.get(t, j).powi(2)).sum::<f64>().sqrt();
                    assert!(
                        (nw - nh).abs() <= 1e-9 * nw.max(nh),
                        "{what}: component {t}: {nw} vs {nh}"
                    );
                }
            }
        }
    }
}
