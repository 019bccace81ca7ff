//! Online ccd (`MiniBatchSolver::Ccd`, KL): a lower KL than online MU in
//! the same epochs, recovery of a planted problem, partial_fit = fit,
//! sparse = dense, streams = memory, fresh restarts, determinism, errors.

mod common;
use common::partial_fit_in_batches;
use nmfkit::minibatch::{InMemory, MiniBatchNmf, MiniBatchSolver, MiniBatchState};
use nmfkit::{synth, CsrMatrix, Loss, Mat};

fn planted(n: usize, m: usize, k: usize, seed: u64) -> Mat<f64> {
    synth::low_rank::<f64>(n, m, k, 0.0, seed).x
}

fn kl(k: usize, solver: MiniBatchSolver) -> MiniBatchNmf {
    MiniBatchNmf::new(k)
        .loss(Loss::KullbackLeibler)
        .solver(solver)
        .tol(0.0)
        .max_no_improvement(None)
}

/// Counts: a sparse-ish matrix of small integers with a rank-3 mean.
fn counts() -> Mat<f64> {
    let mean = planted(400, 30, 3, 5);
    Mat::from_fn(400, 30, |i, j| {
        let v = mean.get(i, j) * 3.0;
        // A deterministic "draw": the integer part, kept only where it is
        // at least one, so a third of the entries are zero.
        if (i * 7 + j * 11) % 3 == 0 {
            0.0
        } else {
            v.floor()
        }
    })
}

#[test]
fn a_lower_kl_than_online_mu_in_the_same_epochs_and_deterministic() {
    let x = counts();
    let run = |s: MiniBatchSolver, epochs: usize| {
        kl(3, s)
            .batch_size(64)
            .max_iter(epochs)
            .seed(2)
            .fit(&x)
            .unwrap()
    };
    let (c, m) = (run(MiniBatchSolver::Ccd, 5), run(MiniBatchSolver::Mu, 5));
    assert!(
        c.divergence < 0.9 * m.divergence,
        "ccd {} vs mu {}",
        c.divergence,
        m.divergence
    );
    assert_eq!(c.n_steps, m.n_steps);
    assert!(c
        .w
        .data
        .iter()
        .chain(&c.h.data)
        .all(|v| v.is_finite() && *v >= 0.0));
    let again = run(MiniBatchSolver::Ccd, 5);
    assert_eq!(again.w, c.w);
    assert_eq!(again.h, c.h);
}

#[test]
fn recovers_a_planted_factorization() {
    let x = planted(500, 30, 3, 1);
    let fit = kl(3, MiniBatchSolver::Ccd)
        .batch_size(100)
        .max_iter(300)
        .fit(&x)
        .unwrap();
    let total: f64 = x.data.iter().sum();
    // KL per unit of mass: near zero when WH reproduces X.
    assert!(
        fit.divergence / total < 1e-3,
        "KL {} of a mass {total}",
        fit.divergence
    );
}

#[test]
fn partial_fit_over_all_batches_equals_fit_for_one_epoch() {
    let x = counts();
    let k = 3;
    let h0 = Mat::from_fn(k, 30, |t, j| 0.5 + ((t * 5 + j) % 7) as f64 * 0.1);
    let w0 = Mat::from_fn(400, k, |_, _| 1.0);
    // Fresh restarts: every step solves its batch's W from a flat start,
    // as partial_fit does for rows it has not seen.
    let est = kl(k, MiniBatchSolver::Ccd)
        .batch_size(90)
        .forget_factor(0.6)
        .fresh_restarts(true)
        .fresh_restarts_max_iter(25)
        .transform_max_iter(25)
        .max_iter(1);
    let fit = est.fit_with(&x, Some((&w0, &h0)), None).unwrap();
    assert_eq!(fit.n_steps, 5);
    let rho = 0.6f64.powf(90.0 / 400.0);
    let start = MiniBatchState::start(MiniBatchSolver::Ccd, h0.clone(), rho);
    let state = partial_fit_in_batches(&est, &x, 90, start);
    assert_eq!(state.n_steps, 5);
    assert_eq!(state.h, fit.state.h);
    assert_eq!(state.numerator, fit.state.numerator);
    assert_eq!(state.denominator, fit.state.denominator);
}

#[test]
fn sparse_gives_the_dense_factors_and_a_stream_the_in_memory_fit() {
    let dense = counts();
    let sparse = CsrMatrix::from_dense(dense.as_ref());
    let est = kl(3, MiniBatchSolver::Ccd).batch_size(50).max_iter(10);
    let a = est.fit(&dense).unwrap();
    let b = est.fit(&sparse).unwrap();
    for (u, v) in a.h.data.iter().zip(&b.h.data) {
        assert!((u - v).abs() <= 1e-9 * u.abs().max(1e-6), "{u} vs {v}");
    }
    let h0 = Mat::from_fn(3, 30, |t, j| 0.2 + ((t + j) % 4) as f64 * 0.2);
    let streamed = est
        .fit_source(&InMemory::new(&dense), None, Some(&h0), None)
        .unwrap();
    let mean = dense.data.iter().sum::<f64>() / dense.data.len() as f64;
    let w0 = Mat::from_fn(400, 3, |_, _| (mean / 3.0).sqrt());
    let memory = est.fit_with(&dense, Some((&w0, &h0)), None).unwrap();
    assert_eq!(streamed.h, memory.h);
    assert_eq!(streamed.w, memory.w);
}

#[test]
fn fresh_restarts_solve_w_by_ccd_and_other_losses_are_refused() {
    let x = counts();
    let fresh = kl(3, MiniBatchSolver::Ccd)
        .batch_size(100)
        .max_iter(5)
        .fresh_restarts(true)
        .fit(&x)
        .unwrap();
    assert!(fresh.divergence.is_finite() && fresh.divergence > 0.0);
    let err = MiniBatchNmf::new(3)
        .solver(MiniBatchSolver::Ccd)
        .fit(&x)
        .unwrap_err()
        .to_string();
    assert!(err.contains("'ccd' needs the KL loss"), "{err}");
}
