//! Online HALS (`MiniBatchSolver::Hals`): recovery, sooner than online MU,
//! partial_fit = fit, sparse = dense, float32 = float64, streams = memory,
//! determinism, and the errors it owes.

mod common;
use common::partial_fit_in_batches;
use nmfkit::minibatch::{InMemory, MiniBatchNmf, MiniBatchSolver, MiniBatchState};
use nmfkit::{synth, CsrMatrix, Loss, Mat, Regularization};

fn planted(n: usize, m: usize, k: usize, seed: u64) -> Mat<f64> {
    synth::low_rank::<f64>(n, m, k, 0.0, seed).x
}

fn hals(k: usize) -> MiniBatchNmf {
    MiniBatchNmf::new(k).solver(MiniBatchSolver::Hals)
}

#[test]
fn recovers_a_planted_factorization_in_fewer_epochs_than_online_mu() {
    let x = planted(600, 40, 4, 1);
    let run = |est: MiniBatchNmf, epochs: usize| {
        est.batch_size(100)
            .max_iter(epochs)
            .tol(0.0)
            .max_no_improvement(None)
            .fit(&x)
            .unwrap()
    };
    let h = run(hals(4), 20);
    let mu = run(MiniBatchNmf::new(4), 20);
    assert!(
        h.reconstruction_err < 0.3 * mu.reconstruction_err,
        "HALS {} vs MU {}",
        h.reconstruction_err,
        mu.reconstruction_err
    );
    assert_eq!(h.n_steps, 20 * 6);
    assert!(h
        .w
        .data
        .iter()
        .chain(&h.h.data)
        .all(|v| v.is_finite() && *v >= 0.0));
    let long = run(hals(4), 100);
    let rel = long.reconstruction_err / x.norm();
    assert!(
        rel < 0.01,
        "online HALS relative error {rel} after 100 epochs"
    );
    // Same seed, same threads: the same factors.
    let again = run(hals(4), 20);
    assert_eq!(again.h, h.h);
    assert_eq!(again.w, h.w);
}

#[test]
fn partial_fit_over_all_batches_equals_fit_for_one_epoch() {
    let x = planted(250, 30, 3, 2);
    let k = 3;
    let h0 = Mat::from_fn(k, 30, |t, j| 0.5 + ((t * 5 + j) % 7) as f64 * 0.1);
    let w0 = Mat::from_fn(250, k, |_, _| 1.0);
    let est = hals(k)
        .batch_size(60)
        .forget_factor(0.6)
        .fresh_restarts(true)
        .fresh_restarts_max_iter(25)
        .transform_max_iter(25)
        .max_iter(1)
        .tol(0.0)
        .max_no_improvement(None)
        .regularization(Regularization {
            alpha_w: 0.01,
            alpha_h: Some(0.02),
            l1_ratio: 0.5,
        });
    let fit = est.fit_with(&x, Some((&w0, &h0)), None).unwrap();
    assert_eq!(fit.n_steps, 5);
    let rho = 0.6f64.powf(60.0 / 250.0);
    let start = MiniBatchState::start(MiniBatchSolver::Hals, h0.clone(), rho);
    let state = partial_fit_in_batches(&est, &x, 60, start);
    assert_eq!(state.n_steps, 5);
    assert_eq!(state.h, fit.state.h);
    assert_eq!(state.numerator, fit.state.numerator);
    assert_eq!(state.denominator, fit.state.denominator);
    assert_eq!((state.denominator.nrows, state.denominator.ncols), (k, k));
    // An online-MU state does not fit an online-HALS model.
    let mu_state = MiniBatchState::new(h0, rho);
    let err = est.partial_fit(&x, Some(mu_state)).unwrap_err().to_string();
    assert!(err.contains("another minibatch solver"), "{err}");
}

#[test]
fn sparse_gives_the_dense_factors_and_f32_agrees_with_f64() {
    let dense = Mat::from_fn(200, 30, |i, j| {
        if (i * 13 + j * 7) % 5 < 2 {
            ((i + 2 * j) % 9) as f64 + 1.0
        } else {
            0.0
        }
    });
    let sparse = CsrMatrix::from_dense(dense.as_ref());
    let est = hals(3).batch_size(50).max_iter(30);
    let a = est.fit(&dense).unwrap();
    let b = est.fit(&sparse).unwrap();
    for (u, v) in a.h.data.iter().zip(&b.h.data) {
        assert!((u - v).abs() <= 1e-9 * u.abs().max(1e-6), "{u} vs {v}");
    }
    assert_eq!(a.n_steps, b.n_steps);
    let d32: Mat<f32> = Mat::from_fn(200, 30, |i, j| dense.get(i, j) as f32);
    let c = est.fit(&d32).unwrap();
    let rel = (c.reconstruction_err - a.reconstruction_err).abs() / a.reconstruction_err;
    assert!(
        rel < 1e-3,
        "float32 {} vs float64 {}",
        c.reconstruction_err,
        a.reconstruction_err
    );
}

#[test]
fn a_stream_gives_the_in_memory_fit() {
    let x = planted(300, 20, 3, 3);
    let h0 = Mat::from_fn(3, 20, |t, j| 0.2 + ((t + j) % 4) as f64 * 0.2);
    let est = hals(3).batch_size(70).max_iter(20);
    let streamed = est
        .fit_source(&InMemory::new(&x), None, Some(&h0), None)
        .unwrap();
    let mean = x.data.iter().sum::<f64>() / x.data.len() as f64;
    let w0 = Mat::from_fn(300, 3, |_, _| (mean / 3.0).sqrt());
    let memory = est.fit_with(&x, Some((&w0, &h0)), None).unwrap();
    assert_eq!(streamed.h, memory.h);
    assert_eq!(streamed.w, memory.w);
    assert_eq!(streamed.n_steps, memory.n_steps);
}

#[test]
fn penalties_shrink_the_factors_and_other_losses_are_refused() {
    let x = planted(300, 25, 3, 4);
    let est = hals(3).batch_size(50).max_iter(30);
    let plain = est.clone().fit(&x).unwrap();
    let l1 = est
        .regularization(Regularization {
            alpha_w: 0.0,
            alpha_h: Some(0.5),
            l1_ratio: 1.0,
        })
        .fit(&x)
        .unwrap();
    let sum = |m: &Mat<f64>| m.data.iter().sum::<f64>();
    assert!(
        sum(&l1.h) < sum(&plain.h),
        "{} vs {}",
        sum(&l1.h),
        sum(&plain.h)
    );
    let err = hals(3)
        .loss(Loss::KullbackLeibler)
        .fit(&x)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hals") && err.contains("Frobenius"), "{err}");
}
