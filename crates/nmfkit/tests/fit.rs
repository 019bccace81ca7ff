//! Properties of whole fits, from the math: monotone objectives, recovery,
//! dense = sparse, f32 ≈ f64, reproducibility, transform.

mod common;
use common::*;
use nmfkit::*;
use std::ops::ControlFlow;

fn solvers() -> Vec<(SolverKind, Loss)> {
    vec![
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::Mu, Loss::KullbackLeibler),
        (SolverKind::Mu, Loss::Beta(0.5)),
        (SolverKind::Mu, Loss::Beta(1.5)),
        (SolverKind::Mu, Loss::Beta(3.0)),
        (SolverKind::Cd, Loss::Frobenius),
        (SolverKind::Hals, Loss::Frobenius),
        (SolverKind::AnlsBpp, Loss::Frobenius),
    ]
}

fn regs() -> Vec<Regularization> {
    vec![
        Regularization::default(),
        Regularization {
            alpha_w: 0.01,
            alpha_h: None,
            l1_ratio: 1.0,
        },
        Regularization {
            alpha_w: 0.02,
            alpha_h: Some(0.005),
            l1_ratio: 0.0,
        },
        Regularization {
            alpha_w: 0.01,
            alpha_h: Some(0.03),
            l1_ratio: 0.4,
        },
    ]
}

#[test]
fn objective_is_non_increasing_for_every_solver_loss_and_regularization() {
    let (x, w0, h0) = problem(60, 40, 4, 1);
    let xs = with_holes(&x);
    let csr = CsrMatrix::from_dense(xs.as_ref());
    for (solver, loss) in solvers() {
        for reg in regs() {
            for input in [Input::from(&x), Input::from(&csr)] {
                let fit = Nmf::new(5)
                    .solver(solver)
                    .loss(loss)
                    .regularization(reg)
                    .max_iter(60)
                    .tol(0.0)
                    .eval_every(1)
                    .fit_from(input, &w0.clone_k(5), &h0.clone_k(5))
                    .unwrap();
                assert_eq!(fit.history.len(), 61);
                for w in fit.history.windows(2) {
                    assert!(
                        w[1].objective <= w[0].objective * (1.0 + 1e-12),
                        "{solver:?} {loss:?} {reg:?}: objective rose at iteration {}: {} -> {}",
                        w[1].iter,
                        w[0].objective,
                        w[1].objective
                    );
                }
                assert!(fit.history.last().unwrap().objective < fit.history[0].objective);
            }
        }
    }
}

trait CloneK {
    fn clone_k(&self, k: usize) -> Mat<f64>;
}
impl CloneK for Mat<f64> {
    /// Pads or crops the rank dimension (columns of W, rows of H) to k.
    fn clone_k(&self, k: usize) -> Mat<f64> {
        if self.ncols < self.nrows {
            Mat::from_fn(self.nrows, k, |i, t| {
                self.get(i, t % self.ncols) * (1.0 + 0.1 * t as f64)
            })
        } else {
            Mat::from_fn(k, self.ncols, |t, j| {
                self.get(t % self.nrows, j) * (1.0 + 0.1 * t as f64)
            })
        }
    }
}

#[test]
fn frobenius_mu_on_the_reported_4x3_example_keeps_decreasing() {
    let w0 = Mat::from_rows(&[vec![1., 2.], vec![3., 4.], vec![5., 6.], vec![7., 8.]]).unwrap();
    let h0 = Mat::from_rows(&[vec![9., 11., 13.], vec![10., 12., 14.]]).unwrap();
    let mut x = inverse_transform(&w0, &h0);
    for j in 0..3 {
        let mx = (0..4).map(|i| x.get(i, j)).fold(0.0, f64::max);
        for i in 0..4 {
            x.set(i, j, x.get(i, j) / mx);
        }
    }
    let fit = Nmf::new(4)
        .solver(SolverKind::Mu)
        .max_iter(2000)
        .tol(0.0)
        .seed(0)
        .fit(&x)
        .unwrap();
    assert_eq!(
        fit.init,
        Some(Init::Random),
        "k > min(n, m) falls back to random init"
    );
    for w in fit.history.windows(2) {
        assert!(
            w[1].divergence <= w[0].divergence,
            "error rose at iteration {}",
            w[1].iter
        );
    }
    let rel = fit.reconstruction_err / x.norm();
    assert!(rel < 1e-3, "relative error {rel}");
}

#[test]
fn exact_low_rank_matrix_is_recovered() {
    for input_sparse in [false, true] {
        // Separable factors (an identity block in W's rows and in H's
        // columns) make the factorization unique up to scaling and order.
        let mut p = synth::low_rank::<f64>(80, 60, 4, 0.0, 21);
        for t in 0..4 {
            for s in 0..4 {
                p.w.set(t, s, if s == t { 1.0 } else { 0.0 });
                p.h.set(s, 10 + t, if s == t { 1.0 } else { 0.0 });
            }
        }
        p.x = inverse_transform(&p.w, &p.h);
        let csr = CsrMatrix::from_dense(p.x.as_ref());
        let input = if input_sparse {
            Input::from(&csr)
        } else {
            Input::from(&p.x)
        };
        let fit = Nmf::new(4)
            .solver(SolverKind::Hals)
            .init(Init::Nndsvda)
            .max_iter(5000)
            .tol(1e-14)
            .fit(input)
            .unwrap();
        let rel = rel_diff(&fit.reconstruct(), &p.x);
        assert!(
            rel < 1e-6,
            "sparse={input_sparse}: relative reconstruction error {rel}"
        );
        // The planted factors themselves, up to permutation and scaling.
        let angles = best_angles(&fit.h, &p.h);
        assert!(
            angles.iter().all(|&a| a < 1e-4),
            "component angles {angles:?}"
        );
    }
}

/// For each true row of H, the smallest angle (radians) to an estimated row.
fn best_angles(est: &Mat<f64>, truth: &Mat<f64>) -> Vec<f64> {
    (0..truth.nrows)
        .map(|a| {
            (0..est.nrows)
                .map(|b| {
                    let (mut d, mut na, mut nb) = (0.0, 0.0, 0.0);
                    for j in 0..truth.ncols {
                        d += truth.get(a, j) * est.get(b, j);
                        na += truth.get(a, j).powi(2);
                        nb += est.get(b, j).powi(2);
                    }
                    (d / (na * nb).sqrt()).clamp(-1.0, 1.0).acos()
                })
                .fold(f64::INFINITY, f64::min)
        })
        .collect()
}

#[test]
fn sparse_input_gives_the_same_factors_as_dense() {
    let (x, w0, h0) = problem(70, 50, 4, 3);
    let xs = with_holes(&x);
    let csr = CsrMatrix::from_dense(xs.as_ref());
    let reg = Regularization {
        alpha_w: 0.01,
        alpha_h: None,
        l1_ratio: 0.5,
    };
    for (solver, loss) in solvers() {
        let mut est = Nmf::new(4)
            .solver(solver)
            .loss(loss)
            .regularization(reg)
            .max_iter(40)
            .tol(0.0);
        // The α rule counts stored entries: fix the sweeps to compare.
        est.hals_sweeps = Some(3);
        let a = est.fit_from(&xs, &w0, &h0).unwrap();
        let b = est.fit_from(&csr, &w0, &h0).unwrap();
        let (dw, dh) = (
            max_rel_entry_diff(&b.w, &a.w),
            max_rel_entry_diff(&b.h, &a.h),
        );
        assert!(
            dw < 1e-10 && dh < 1e-10,
            "{solver:?} {loss:?}: dW {dw:e}, dH {dh:e}"
        );
        assert!(
            (a.divergence - b.divergence).abs() <= 1e-10 * a.divergence,
            "{solver:?} {loss:?} loss"
        );
    }
    // The initializations too.
    for init in [Init::Nndsvd, Init::Nndsvda, Init::Nndsvdar, Init::Random] {
        let est = Nmf::new(4).init(init).max_iter(1).seed(5);
        let a = est.fit(&xs).unwrap();
        let b = est.fit(&csr).unwrap();
        assert!(max_rel_entry_diff(&b.w, &a.w) < 1e-10, "{init:?}");
    }
}

#[test]
fn float32_agrees_with_float64() {
    let (x, w0, h0) = problem(60, 40, 3, 4);
    let (x32, w32, h32) = (x.cast::<f32>(), w0.cast::<f32>(), h0.cast::<f32>());
    for (solver, loss) in solvers() {
        let est = Nmf::new(3).solver(solver).loss(loss).max_iter(30).tol(0.0);
        let a = est.fit_from(&x, &w0, &h0).unwrap();
        let b = est.fit_from(&x32, &w32, &h32).unwrap();
        let d = rel_diff(&b.reconstruct().cast::<f64>(), &a.reconstruct());
        let dh = rel_diff(&b.h.cast::<f64>(), &a.h);
        assert!(
            d < 1e-4 && dh < 1e-3,
            "{solver:?} {loss:?}: WH differs by {d:e}, H by {dh:e}"
        );
        assert!((a.divergence - b.divergence).abs() < 1e-4 * a.divergence);
    }
}

#[test]
fn same_seed_and_threads_give_identical_results() {
    let p = synth::low_rank::<f64>(300, 200, 6, 0.1, 8);
    let csr = synth::sparse_low_rank::<f64>(400, 300, 5, 0.05, 3).x;
    for threads in [1, 2] {
        for solver in [
            SolverKind::Mu,
            SolverKind::Cd,
            SolverKind::Hals,
            SolverKind::AnlsBpp,
        ] {
            let est = Nmf::new(6)
                .solver(solver)
                .seed(42)
                .threads(threads)
                .max_iter(30)
                .shuffle(true);
            assert_eq!(est.fit(&p.x).unwrap().w, est.fit(&p.x).unwrap().w);
            assert_eq!(est.fit(&csr).unwrap().h, est.fit(&csr).unwrap().h);
        }
        let kl = Nmf::new(6)
            .solver(SolverKind::Mu)
            .loss(Loss::KullbackLeibler)
            .threads(threads)
            .max_iter(20);
        assert_eq!(kl.fit(&csr).unwrap().h, kl.fit(&csr).unwrap().h);
    }
}

#[test]
fn transform_recovers_w_with_h_fixed() {
    let p = synth::low_rank::<f64>(100, 40, 3, 0.0, 12);
    for solver in [
        SolverKind::Cd,
        SolverKind::Hals,
        SolverKind::Mu,
        SolverKind::AnlsBpp,
    ] {
        let est = Nmf::new(3).solver(solver).max_iter(3000).tol(1e-12);
        let w = est.transform(&p.x, &p.h).unwrap();
        let rel = rel_diff(&w, &p.w);
        let tol = if solver == SolverKind::Mu { 1e-3 } else { 1e-6 };
        assert!(rel < tol, "{solver:?}: W differs by {rel}");
    }
}

#[test]
fn fixed_h_is_never_changed() {
    let (x, _, h0) = problem(50, 30, 3, 5);
    let fit = Nmf::new(3)
        .solver(SolverKind::Mu)
        .loss(Loss::KullbackLeibler)
        .fit_with(
            &x,
            FitOptions {
                h0: Some(&h0),
                update_h: false,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(fit.h, h0);
}

#[test]
fn zero_rows_and_columns_are_legal_and_give_no_nan() {
    let (mut x, _, _) = problem(30, 20, 3, 6);
    for j in 0..20 {
        x.set(4, j, 0.0);
    }
    for i in 0..30 {
        x.set(i, 7, 0.0);
    }
    let csr = CsrMatrix::from_dense(x.as_ref());
    for (solver, loss) in solvers() {
        for init in [Init::Nndsvd, Init::Nndsvda, Init::Random] {
            for input in [Input::from(&x), Input::from(&csr)] {
                let fit = Nmf::new(3)
                    .solver(solver)
                    .loss(loss)
                    .init(init)
                    .max_iter(50)
                    .fit(input)
                    .unwrap();
                assert!(fit
                    .w
                    .data
                    .iter()
                    .chain(&fit.h.data)
                    .all(|v| v.is_finite() && *v >= 0.0));
                assert!(fit.divergence.is_finite());
            }
        }
    }
}

#[test]
fn kkt_residual_shrinks_under_hals() {
    let p = synth::low_rank::<f64>(120, 80, 5, 0.05, 30);
    let fit = Nmf::new(5)
        .solver(SolverKind::Hals)
        .max_iter(300)
        .tol(0.0)
        .fit(&p.x)
        .unwrap();
    let v: Vec<f64> = fit.history.iter().filter_map(|h| h.violation).collect();
    assert!(
        v.last().unwrap() < &(1e-3 * v[0]),
        "violation {} -> {}",
        v[0],
        v.last().unwrap()
    );
}

#[test]
fn stopping_rules_report_their_reason() {
    let p = synth::low_rank::<f64>(200, 100, 5, 0.05, 31);
    let fit = Nmf::new(5)
        .solver(SolverKind::Cd)
        .max_iter(2000)
        .fit(&p.x)
        .unwrap();
    assert_eq!(fit.stop, StopReason::Converged);
    assert!(fit.n_iter < 2000);
    let fit = Nmf::new(5)
        .solver(SolverKind::Mu)
        .tol(0.0)
        .max_iter(7)
        .fit(&p.x)
        .unwrap();
    assert_eq!((fit.stop, fit.n_iter), (StopReason::MaxIterations, 7));
    let fit = Nmf::new(5)
        .solver(SolverKind::Mu)
        .tol(0.0)
        .max_iter(1_000_000)
        .time_limit(std::time::Duration::from_millis(50))
        .fit(&p.x)
        .unwrap();
    assert_eq!(fit.stop, StopReason::TimeLimit);
    let fit = Nmf::new(5)
        .solver(SolverKind::Hals)
        .tol(0.0)
        .max_iter(100_000)
        .factor_tol(1e-6)
        .fit(&p.x)
        .unwrap();
    assert_eq!(fit.stop, StopReason::FactorsStalled);
    // A callback that cancels after 5 iterations.
    let mut seen = 0;
    let mut cb = |pr: &Progress| {
        seen = pr.iter;
        if pr.iter >= 5 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let fit = Nmf::new(5)
        .tol(0.0)
        .fit_with(
            &p.x,
            FitOptions {
                progress: Some(&mut cb),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((fit.stop, fit.n_iter), (StopReason::Cancelled, 5));
    assert_eq!(seen, 5);
}

#[test]
fn sklearn_mu_rule_checks_every_ten_iterations() {
    let p = synth::low_rank::<f64>(100, 60, 4, 0.05, 32);
    let fit = Nmf::new(4)
        .solver(SolverKind::Mu)
        .convergence(Convergence::Sklearn)
        .tol(1e-3)
        .max_iter(1000)
        .fit(&p.x)
        .unwrap();
    assert_eq!(fit.stop, StopReason::Converged);
    assert_eq!(fit.n_iter % 10, 0);
}

#[test]
fn fixed_w_is_the_transform_of_the_transpose() {
    let p = synth::low_rank::<f64>(60, 30, 3, 0.0, 13);
    let est = Nmf::new(3).solver(SolverKind::Cd).max_iter(2000).tol(1e-12);
    let fit = est
        .fit_with(
            &p.x,
            FitOptions {
                w0: Some(&p.w),
                update_w: false,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(fit.w, p.w);
    assert!(rel_diff(&fit.h, &p.h) < 1e-6);
    let via_transpose = est.transform(&p.x.transpose(), &p.w.transpose()).unwrap();
    assert!(rel_diff(&via_transpose.transpose(), &fit.h) < 1e-9);
}

#[test]
fn extrapolation_keeps_the_objective_monotone_and_gets_lower_sooner() {
    let (x, w0, h0) = problem(60, 40, 4, 1);
    let xs = with_holes(&x);
    let csr = CsrMatrix::from_dense(xs.as_ref());
    // Only for solvers that can bring an entry back from zero.
    for bad in [
        Nmf::new(3).solver(SolverKind::Mu),
        Nmf::new(3).solver(SolverKind::Cd),
        Nmf::new(3).solver(SolverKind::AnlsBpp),
        Nmf::new(3)
            .solver(SolverKind::Hals)
            .loss(Loss::KullbackLeibler),
    ] {
        let err = bad.extrapolate(true).fit(&x).unwrap_err().to_string();
        assert!(err.contains("extrapolation"), "{err}");
    }
    for solver in [SolverKind::Hals] {
        for reg in regs() {
            for input in [Input::from(&x), Input::from(&csr)] {
                let fit = Nmf::new(5)
                    .solver(solver)
                    .regularization(reg)
                    .extrapolate(true)
                    .max_iter(60)
                    .tol(0.0)
                    .fit_from(input, &w0.clone_k(5), &h0.clone_k(5))
                    .unwrap();
                // It may reach the rounding floor (and stop) before 60.
                assert!(
                    fit.history.len() > 20,
                    "{solver:?} {reg:?}: {}",
                    fit.history.len()
                );
                for w in fit.history.windows(2) {
                    assert!(
                        w[1].objective <= w[0].objective * (1.0 + 1e-12),
                        "{solver:?} {reg:?}: objective rose at iteration {}: {} -> {}",
                        w[1].iter,
                        w[0].objective,
                        w[1].objective
                    );
                }
                // The history's objective is the factors' own.
                let direct = match input {
                    Input::Dense(m) => {
                        beta_divergence(&DenseData::new(m), &fit.w.transpose(), &fit.h, 2.0)
                    }
                    Input::Sparse(c) => {
                        beta_divergence(&SparseData::new(c), &fit.w.transpose(), &fit.h, 2.0)
                    }
                };
                assert!(
                    (fit.divergence - direct).abs() <= 1e-9 * direct,
                    "{solver:?}"
                );
            }
        }
        // Dense and sparse copies take the same path (while the objective
        // still falls by more than rounding: at convergence, accepting or
        // redoing a step is decided by the last bits).
        let mut est = Nmf::new(4)
            .solver(solver)
            .extrapolate(true)
            .max_iter(8)
            .tol(0.0);
        est.hals_sweeps = Some(3);
        let a = est.fit_from(&xs, &w0, &h0).unwrap();
        let b = est.fit_from(&csr, &w0, &h0).unwrap();
        assert!(
            max_rel_entry_diff(&b.w, &a.w) < 1e-10,
            "{solver:?}: {:e}",
            max_rel_entry_diff(&b.w, &a.w)
        );
    }
    // A sparse problem where HALS converges slowly: extrapolated, it gets
    // lower in 150 iterations than plain HALS in 300 (measured: the plain
    // 600-iteration objective in 227).
    let s = synth::sparse_low_rank::<f64>(600, 400, 10, 0.05, 9).x;
    let (wt, h) = init::initialize(&SparseData::new(&s), 10, Init::Nndsvda, 0).unwrap();
    let w = wt.transpose();
    let plain = Nmf::new(10)
        .solver(SolverKind::Hals)
        .max_iter(300)
        .tol(0.0)
        .fit_from(&s, &w, &h)
        .unwrap();
    let fast = Nmf::new(10)
        .solver(SolverKind::Hals)
        .extrapolate(true)
        .max_iter(150)
        .tol(0.0)
        .fit_from(&s, &w, &h)
        .unwrap();
    assert!(
        fast.objective < plain.objective,
        "extrapolated after 150: {}, plain after 300: {}",
        fast.objective,
        plain.objective
    );
}
