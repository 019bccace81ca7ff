//! Convergence diagnostics: θ coefficients from their definition, factor
//! changes, the KKT residual, and per-iteration histories.

use nmfkit::{synth, Balance, FitOptions, Loss, Mat, Nmf, SolverKind, UpdateOrder};

fn frob_sq(m: &Mat<f64>) -> f64 {
    m.data.iter().map(|v| v * v).sum()
}

fn minus(a: &Mat<f64>, b: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows, a.ncols, |i, j| a.get(i, j) - b.get(i, j))
}

#[test]
fn theta_coefficients_match_their_definition_for_mu() {
    let p = synth::low_rank::<f64>(12, 9, 3, 0.1, 1);
    let s = synth::low_rank::<f64>(12, 9, 3, 0.0, 2);
    let est = Nmf::new(3)
        .solver(SolverKind::Mu)
        .balance(Balance::Off)
        .update_order(UpdateOrder::WThenH)
        .diagnostics(true)
        .eval_every(1)
        .max_iter(1)
        .tol(0.0);
    let fit = est
        .fit_with(
            &p.x,
            FitOptions {
                w0: Some(&s.w),
                h0: Some(&s.h),
                ..Default::default()
            },
        )
        .unwrap();
    let d = fit.history[1]
        .diagnostics
        .expect("diagnostics at iteration 1");
    // W was updated against H₀, then H against W₁.
    let (dw, dh) = (minus(&fit.w, &s.w), minus(&fit.h, &s.h));
    let theta_w = frob_sq(&nmfkit::inverse_transform(&dw, &s.h)) / frob_sq(&dw);
    let theta_h = frob_sq(&nmfkit::inverse_transform(&fit.w, &dh)) / frob_sq(&dh);
    assert!(
        (d.theta_w.unwrap() - theta_w).abs() < 1e-10 * theta_w,
        "{d:?} vs {theta_w}"
    );
    assert!(
        (d.theta_h.unwrap() - theta_h).abs() < 1e-10 * theta_h,
        "{d:?} vs {theta_h}"
    );
    let cw = (frob_sq(&dw) / frob_sq(&s.w)).sqrt();
    assert!((d.change_w.unwrap() - cw).abs() < 1e-12);
    assert!(fit.history[0].diagnostics.is_none());
}

#[test]
fn the_kkt_residual_shrinks_for_every_solver() {
    let p = synth::low_rank::<f64>(40, 30, 3, 0.0, 4);
    for (solver, loss) in [
        (SolverKind::Hals, Loss::Frobenius),
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::AnlsBpp, Loss::Frobenius),
        (SolverKind::GreedyCd, Loss::Frobenius),
        (SolverKind::Pgrad, Loss::Frobenius),
        (SolverKind::Cd, Loss::Frobenius),
        (SolverKind::KlCd, Loss::KullbackLeibler),
        (SolverKind::Mu, Loss::KullbackLeibler),
    ] {
        let fit = Nmf::new(3)
            .solver(solver)
            .loss(loss)
            .diagnostics(true)
            .max_iter(300)
            .tol(0.0)
            .seed(3)
            .fit(&p.x)
            .unwrap();
        let kkt: Vec<f64> = fit
            .history
            .iter()
            .filter_map(|h| h.diagnostics.and_then(|d| d.kkt))
            .collect();
        assert!(!kkt.is_empty(), "{solver:?}");
        let last = *kkt.last().unwrap();
        assert!(
            last < 0.05,
            "{solver:?} {loss:?}: KKT residual {last} of the start's"
        );
    }
}

#[test]
fn eval_every_one_records_every_iteration_of_a_kl_fit() {
    // The 10×10 matrix 0.01, 0.02, …, 1.00.
    let x = Mat::from_fn(10, 10, |i, j| (i * 10 + j + 1) as f64 / 100.0);
    let fit = Nmf::new(2)
        .loss(Loss::KullbackLeibler)
        .solver(SolverKind::Mu)
        .eval_every(1)
        .max_iter(40)
        .tol(0.0)
        .fit(&x)
        .unwrap();
    assert_eq!(fit.history.len(), 41);
    assert!(fit.history.iter().enumerate().all(|(i, h)| h.iter == i));
    // The default for KL: every 10.
    let fit = Nmf::new(2)
        .loss(Loss::KullbackLeibler)
        .solver(SolverKind::Mu)
        .max_iter(40)
        .tol(0.0)
        .fit(&x)
        .unwrap();
    assert_eq!(fit.history.len(), 5);
}
