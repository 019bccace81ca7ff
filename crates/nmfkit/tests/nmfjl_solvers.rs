//! NMF.jl's solvers: greedy coordinate descent, projected gradient (Lin),
//! and the successive projection algorithm for separable data.

use nmfkit::{
    init::spa_columns, synth, CsrMatrix, FitOptions, Init, Mat, Nmf, SolverKind, SparseWeights,
};

/// Never increases beyond rounding (1e-12 of the starting objective: the
/// loss of a near-exact fit is a difference of large products).
fn never_increases(h: &[nmfkit::HistoryEntry], what: &str) {
    let slack = 1e-12 * h[0].objective;
    for w in h.windows(2) {
        assert!(
            w[1].objective <= w[0].objective + slack,
            "{what}: objective rose from {} to {} at iteration {}",
            w[0].objective,
            w[1].objective,
            w[1].iter
        );
    }
}

#[test]
fn greedycd_and_pgrad_are_monotone_and_recover_a_planted_factorization() {
    let p = synth::low_rank::<f64>(60, 40, 4, 0.0, 3);
    for solver in [SolverKind::GreedyCd, SolverKind::Pgrad] {
        let est = Nmf::new(4)
            .solver(solver)
            .init(Init::Nndsvda)
            .max_iter(3000)
            .tol(1e-16)
            .seed(1);
        let fit = est.fit(&p.x).unwrap();
        never_increases(&fit.history, solver.name());
        let rel = nmfkit::relative_error(&p.x, &fit.w, &fit.h);
        assert!(
            rel < 1e-6,
            "{}: relative error {rel} after {} iterations",
            solver.name(),
            fit.n_iter
        );
    }
}

#[test]
fn greedycd_and_pgrad_give_the_same_fit_on_dense_sparse_and_all_ones_weights() {
    let p = synth::low_rank::<f64>(50, 30, 3, 0.05, 5);
    let x = Mat::from_fn(50, 30, |i, j| {
        if (i + 2 * j) % 4 == 0 {
            0.0
        } else {
            p.x.get(i, j)
        }
    });
    let xs = CsrMatrix::from_dense(x.as_ref());
    let start = synth::low_rank::<f64>(50, 30, 3, 0.0, 9);
    for solver in [SolverKind::GreedyCd, SolverKind::Pgrad] {
        let est = Nmf::new(3).solver(solver).max_iter(30).tol(0.0);
        let opts = || FitOptions {
            w0: Some(&start.w),
            h0: Some(&start.h),
            ..Default::default()
        };
        let dense = est.fit_with(&x, opts()).unwrap();
        let sparse = est.fit_with(&xs, opts()).unwrap();
        let ones = Mat::from_fn(50, 30, |_, _| 1.0);
        let weighted = est
            .fit_masked_with(x.as_ref(), ones.as_ref(), opts())
            .unwrap();
        let empty = CsrMatrix::from_triplets(50, 30, &[]).unwrap();
        let holes = est
            .fit_masked_sparse_with(&xs, SparseWeights::holes(&empty), opts())
            .unwrap();
        for (other, what) in [
            (&sparse, "sparse"),
            (&weighted, "all-ones mask"),
            (&holes, "no holes"),
        ] {
            let d = dense
                .w
                .data
                .iter()
                .zip(&other.w.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(d < 1e-9, "{}: {what} differs by {d}", solver.name());
        }
        never_increases(&dense.history, solver.name());
    }
}

#[test]
fn regularized_greedycd_and_pgrad_decrease_the_penalized_objective() {
    let p = synth::low_rank::<f64>(40, 30, 3, 0.1, 2);
    for solver in [SolverKind::GreedyCd, SolverKind::Pgrad] {
        let est = Nmf::new(3)
            .solver(solver)
            .max_iter(100)
            .tol(0.0)
            .regularization(nmfkit::Regularization {
                alpha_w: 0.01,
                alpha_h: Some(0.02),
                l1_ratio: 0.5,
            });
        let fit = est.fit(&p.x).unwrap();
        never_increases(&fit.history, solver.name());
        assert!(fit.penalties.iter().sum::<f64>() > 0.0);
    }
}

/// Separable X = W·H: H holds the identity at the planted columns.
fn separable(n: usize, m: usize, k: usize) -> (Mat<f64>, Vec<usize>) {
    let w = synth::low_rank::<f64>(n, k, k, 0.0, 11).x;
    let planted: Vec<usize> = (0..k).map(|t| 3 + 7 * t).collect();
    let h = Mat::from_fn(k, m, |t, j| match planted.iter().position(|&c| c == j) {
        Some(q) => f64::from(q == t),
        // Mixtures of the extreme columns, weights summing to at most 0.9.
        None => 0.9 * (((t * 5 + j * 3) % 7) as f64 + 0.5) / (7.0 * k as f64),
    });
    (nmfkit::inverse_transform(&w, &h), planted)
}

#[test]
fn spa_picks_the_planted_columns_and_fits_separable_data_exactly() {
    let (x, planted) = separable(40, 60, 5);
    let mut cols = spa_columns(&x, 5).unwrap();
    cols.sort();
    assert_eq!(cols, planted);
    let xs = CsrMatrix::from_dense(x.as_ref());
    let mut sparse_cols = spa_columns(&xs, 5).unwrap();
    sparse_cols.sort();
    assert_eq!(sparse_cols, planted);
    // The solver: W is those columns (kept), H exact.
    let fit = Nmf::new(5)
        .solver(SolverKind::Spa)
        .max_iter(50)
        .fit(&x)
        .unwrap();
    let rel = nmfkit::relative_error(&x, &fit.w, &fit.h);
    assert!(rel < 1e-10, "spa: relative error {rel}");
    // W's columns are X's chosen columns, untouched.
    for (t, &c) in spa_columns(&x, 5).unwrap().iter().enumerate() {
        assert!(
            (0..40).all(|i| fit.w.get(i, t) == x.get(i, c)),
            "column {t} is X's {c}"
        );
    }
    // As a start for another solver.
    let fit = Nmf::new(5)
        .solver(SolverKind::Hals)
        .init(Init::Spa)
        .max_iter(5)
        .fit(&xs)
        .unwrap();
    assert!(nmfkit::relative_error(&xs, &fit.w, &fit.h) < 1e-8);
    // A rank above the data's: a clear error.
    let low = synth::low_rank::<f64>(20, 20, 2, 0.0, 1).x;
    let e = spa_columns(&low, 4).unwrap_err().to_string();
    assert!(e.contains("lower rank"), "{e}");
}
