//! Minibatch (online) NMF: recovery, partial_fit = fit, streams = memory,
//! sparse = dense, float32 = float64, errors from a later batch.

mod common;
use common::partial_fit_in_batches;
use nmfkit::minibatch::{Batch, BatchSource, InMemory, MiniBatchNmf, MiniBatchState};
use nmfkit::{synth, CsrMatrix, Loss, Mat, StopReason};

fn planted(n: usize, m: usize, k: usize, seed: u64) -> Mat<f64> {
    synth::low_rank::<f64>(n, m, k, 0.0, seed).x
}

#[test]
fn recovers_a_planted_factorization_as_the_full_fit_does() {
    let x = planted(600, 40, 4, 1);
    let fit = MiniBatchNmf::new(4)
        .batch_size(100)
        .max_iter(400)
        .tol(0.0)
        .max_no_improvement(None)
        .fit(&x)
        .unwrap();
    let rel = fit.reconstruction_err / x.norm();
    assert!(rel < 0.02, "relative error {rel}");
    assert_eq!(fit.n_steps, 400 * 6);
    assert_eq!(fit.n_iter, 400);
    // The full-data objective recorded once per epoch falls overall.
    let first = fit.history[0].objective;
    let last = fit.history.last().unwrap().objective;
    assert!(last < 1e-3 * first, "{first} -> {last}");
    let full = nmfkit::Nmf::new(4).max_iter(400).fit(&x).unwrap();
    assert!(full.reconstruction_err / x.norm() < 0.02);
}

#[test]
fn kl_minibatch_lowers_the_divergence() {
    let x = Mat::from_fn(300, 25, |i, j| {
        ((i * 7 + j * 3) % 11) as f64 + 0.5 * (i % 3) as f64
    });
    let fit = MiniBatchNmf::new(3)
        .loss(Loss::KullbackLeibler)
        .batch_size(64)
        .max_iter(60)
        .fit(&x)
        .unwrap();
    let first = fit.history[0].divergence;
    assert!(
        fit.divergence < 0.5 * first,
        "{first} -> {}",
        fit.divergence
    );
    assert!(fit
        .w
        .data
        .iter()
        .chain(&fit.h.data)
        .all(|v| v.is_finite() && *v >= 0.0));
}

#[test]
fn partial_fit_over_all_batches_equals_fit_for_one_epoch() {
    let x = planted(250, 30, 3, 2);
    let k = 3;
    let h0 = Mat::from_fn(k, 30, |t, j| 0.5 + ((t * 5 + j) % 7) as f64 * 0.1);
    let w0 = Mat::from_fn(250, k, |_, _| 1.0);
    let est = MiniBatchNmf::new(k)
        .batch_size(60)
        .forget_factor(0.6)
        .fresh_restarts(true)
        .fresh_restarts_max_iter(25)
        .transform_max_iter(25)
        .max_iter(1)
        .tol(0.0)
        .max_no_improvement(None);
    let fit = est.fit_with(&x, Some((&w0, &h0)), None).unwrap();
    assert_eq!(fit.n_steps, 5);
    let rho = 0.6f64.powf(60.0 / 250.0);
    let state = partial_fit_in_batches(&est, &x, 60, MiniBatchState::new(h0.clone(), rho));
    assert_eq!(state.n_steps, 5);
    assert_eq!(state.h, fit.state.h);
    assert_eq!(state.numerator, fit.state.numerator);
    assert_eq!(state.denominator, fit.state.denominator);
    // A first partial_fit starts from the initialization on its rows.
    let first = est.partial_fit(&x, None).unwrap();
    assert_eq!(first.n_steps, 1);
    assert_eq!((first.h.nrows, first.h.ncols), (3, 30));
    let wrong = Mat::from_fn(10, 29, |_, _| 1.0);
    let err = est
        .partial_fit(&wrong, Some(first))
        .unwrap_err()
        .to_string();
    assert!(err.contains("29 columns"), "{err}");
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
    let est = MiniBatchNmf::new(3).batch_size(50).max_iter(30);
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

/// Rows made on demand, as a file reader would give them, with an optional
/// bad entry.
struct Generated {
    x: Mat<f64>,
    bad_row: Option<usize>,
    /// Reads before the bad entry appears (a file changed under the fit).
    bad_after: usize,
    reads: std::sync::atomic::AtomicUsize,
}

impl BatchSource<f64> for Generated {
    fn shape(&self) -> (usize, usize) {
        (self.x.nrows, self.x.ncols)
    }
    fn rows(&self, start: usize, end: usize) -> nmfkit::Result<Batch<f64>> {
        let read = self
            .reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Batch::Dense(Mat::from_fn(
            end - start,
            self.x.ncols,
            |i, j| {
                if Some(start + i) == self.bad_row && j == 3 && read >= self.bad_after {
                    f64::NAN
                } else {
                    self.x.get(start + i, j)
                }
            },
        )))
    }
}

#[test]
fn a_stream_gives_the_in_memory_fit_and_names_a_bad_row() {
    let x = planted(300, 20, 3, 3);
    let h0 = Mat::from_fn(3, 20, |t, j| 0.2 + ((t + j) % 4) as f64 * 0.2);
    let est = MiniBatchNmf::new(3).batch_size(70).max_iter(20);
    let src = Generated {
        x: x.clone(),
        bad_row: None,
        bad_after: 0,
        reads: 0.into(),
    };
    let streamed = est.fit_source(&src, None, Some(&h0), None).unwrap();
    let mean = x.data.iter().sum::<f64>() / x.data.len() as f64;
    let w0 = Mat::from_fn(300, 3, |_, _| (mean / 3.0).sqrt());
    let memory = est.fit_with(&x, Some((&w0, &h0)), None).unwrap();
    assert_eq!(streamed.h, memory.h);
    assert_eq!(streamed.w, memory.w);
    assert_eq!(streamed.n_steps, memory.n_steps);
    let in_memory = InMemory::new(&x);
    assert_eq!(
        est.fit_source(&in_memory, None, Some(&h0), None).unwrap().h,
        memory.h
    );
    // A custom start of both factors, as fit_with takes it.
    let w1 = Mat::from_fn(300, 3, |i, t| 0.1 + ((i + 2 * t) % 5) as f64 * 0.1);
    let both = est.fit_source(&src, Some(&w1), Some(&h0), None).unwrap();
    let memory = est.fit_with(&x, Some((&w1, &h0)), None).unwrap();
    assert_eq!((both.w, both.h), (memory.w, memory.h));
    let err = est.fit_source(&src, Some(&w1), None, None).unwrap_err();
    assert!(err.to_string().contains("needs H"), "{err}");
    // A NaN in row 250 stops the fit with an error naming the entry:
    // found by the first pass, or by a step later on.
    for bad_after in [0, 12] {
        let bad = Generated {
            x: x.clone(),
            bad_row: Some(250),
            bad_after,
            reads: 0.into(),
        };
        let err = est
            .fit_source(&bad, None, Some(&h0), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("non-finite") && err.contains("(250, 3)"),
            "{err}"
        );
        assert!(bad.reads.load(std::sync::atomic::Ordering::Relaxed) > bad_after);
    }
}

#[test]
fn stops_on_scikit_learns_rules() {
    let x = planted(400, 20, 2, 4);
    let fit = MiniBatchNmf::new(2)
        .batch_size(50)
        .max_iter(1000)
        .fit(&x)
        .unwrap();
    assert_eq!(fit.stop, StopReason::Converged);
    assert!(fit.n_steps < 1000 * 8);
    let fit = MiniBatchNmf::new(2)
        .batch_size(50)
        .max_iter(1000)
        .tol(0.0)
        .time_limit(std::time::Duration::from_millis(30))
        .max_no_improvement(None)
        .fit(&x)
        .unwrap();
    assert_eq!(fit.stop, StopReason::TimeLimit);
    for bad in [
        MiniBatchNmf::new(2).batch_size(0),
        MiniBatchNmf::new(2).forget_factor(0.0),
        MiniBatchNmf::new(0),
    ] {
        assert!(bad.fit(&x).is_err());
    }
}

#[test]
fn rows_read_from_the_transposed_storage_give_the_same_fit() {
    let x = planted(150, 20, 3, 5);
    let xt = x.transpose();
    let w0 = Mat::from_fn(150, 3, |i, t| 0.5 + ((i + t) % 3) as f64 * 0.25);
    let h0 = Mat::from_fn(3, 20, |t, j| 0.5 + ((t * 2 + j) % 5) as f64 * 0.1);
    let est = MiniBatchNmf::new(3).batch_size(40).max_iter(15);
    let a = est.fit_with(&x, Some((&w0, &h0)), None).unwrap();
    let b = est
        .fit_stored(xt.as_ref().into(), true, Some((&w0, &h0)), None)
        .unwrap();
    assert_eq!(a.h, b.h);
    assert_eq!(a.w, b.w);
    // Initialized on Xᵀ with the roles swapped: the same start up to rounding.
    let c = est.fit(&x).unwrap();
    let d = est
        .fit_stored(xt.as_ref().into(), true, None, None)
        .unwrap();
    let rel = (c.objective - d.objective).abs() / c.objective;
    assert!(rel < 1e-6, "{} vs {}", c.objective, d.objective);
}
