//! Initializations: NNDSVD's guarantees and its variants' relations.

mod common;
use nmfkit::*;

fn init_factors(x: &Mat<f64>, k: usize, init: Init, seed: u64) -> (Mat<f64>, Mat<f64>) {
    // The initializer itself: any fit would already move the factors.
    let d = DenseData::new(x.as_ref());
    let (wt, h) = nmfkit::init::initialize(&d, k, init, seed).unwrap();
    (wt.transpose(), h)
}

#[test]
fn nndsvd_error_is_at_most_the_mean_models() {
    for (n, m, k, seed) in [(50, 30, 3, 1), (40, 60, 5, 2), (200, 100, 10, 3)] {
        let x = synth::low_rank::<f64>(n, m, k, 0.3, seed).x;
        let mean = x.data.iter().sum::<f64>() / x.data.len() as f64;
        let base = x
            .data
            .iter()
            .map(|v| (v - mean).powi(2))
            .sum::<f64>()
            .sqrt();
        for kk in [1, k / 2 + 1, k] {
            let (w, h) = init_factors(&x, kk, Init::Nndsvd, 0);
            let err = common::rel_diff(&inverse_transform(&w, &h), &x) * x.norm();
            assert!(
                err <= base,
                "rank {kk}: NNDSVD error {err} > ‖X − mean‖ = {base}"
            );
        }
    }
}

#[test]
fn nndsvda_and_nndsvdar_equal_nndsvd_where_it_is_nonzero() {
    let x = synth::low_rank::<f64>(60, 40, 4, 0.2, 5).x;
    let (w, h) = init_factors(&x, 4, Init::Nndsvd, 9);
    let zeros = w.data.iter().chain(&h.data).filter(|v| **v == 0.0).count();
    assert!(zeros > 0, "the test needs NNDSVD zeros to be meaningful");
    let mean = x.data.iter().sum::<f64>() / x.data.len() as f64;
    for init in [Init::Nndsvda, Init::Nndsvdar] {
        let (wa, ha) = init_factors(&x, 4, init, 9);
        for (a, b) in w
            .data
            .iter()
            .chain(&h.data)
            .zip(wa.data.iter().chain(&ha.data))
        {
            if *a != 0.0 {
                assert_eq!(a, b, "{init:?}");
            } else if init == Init::Nndsvda {
                assert!((b - mean).abs() < 1e-12 * mean);
            } else {
                assert!(*b >= 0.0 && *b <= mean);
            }
        }
    }
}

#[test]
fn randomized_svd_matches_exact_singular_values() {
    let x = synth::low_rank::<f64>(80, 50, 5, 0.01, 6).x;
    let d = DenseData::new(x.as_ref());
    let svd = nmfkit::init::randomized_svd(&d, 5, 0).unwrap();
    assert_exact_singular_values(&x, &svd.s);
}

/// The leading singular values match the exact ones to 1e-8·σ₁.
fn assert_exact_singular_values(x: &Mat<f64>, s: &[f64]) {
    let exact = faer::MatRef::from_column_major_slice(&x.data, x.nrows, x.ncols)
        .singular_values()
        .unwrap();
    for (j, v) in s.iter().enumerate() {
        assert!(
            (v - exact[j]).abs() < 1e-8 * exact[0],
            "σ{j}: {v} vs {}",
            exact[j]
        );
    }
}

#[test]
fn random_init_has_sklearns_scale_and_is_seeded() {
    let x = synth::low_rank::<f64>(300, 200, 4, 0.0, 7).x;
    let k = 4;
    let (w, h) = init_factors(&x, k, Init::Random, 3);
    let mean = x.data.iter().sum::<f64>() / x.data.len() as f64;
    let avg = (mean / k as f64).sqrt();
    // E|N(0,1)| = sqrt(2/π); sd|N(0,1)| ≈ 0.603: allow 4 standard errors.
    let all: Vec<f64> = w.data.iter().chain(&h.data).copied().collect();
    let got = all.iter().sum::<f64>() / all.len() as f64;
    let want = avg * (2.0 / std::f64::consts::PI).sqrt();
    let se = 0.603 * avg / (all.len() as f64).sqrt();
    assert!(
        (got - want).abs() < 4.0 * se,
        "mean of |N| draws {got} vs {want}"
    );
    assert!(w.data.iter().all(|v| *v >= 0.0));
    assert_eq!(init_factors(&x, k, Init::Random, 3), (w.clone(), h.clone()));
    assert_ne!(init_factors(&x, k, Init::Random, 4).0, w);
}

#[test]
fn transposed_draws_start_the_transposed_problem_from_the_same_factors() {
    let x = synth::low_rank::<f64>(30, 20, 3, 0.1, 4).x;
    let xt = x.transpose();
    let d = DenseData::new(x.as_ref());
    let dt = DenseData::new(xt.as_ref());
    let (wt, h) = nmfkit::init::initialize(&d, 3, Init::Random, 8).unwrap();
    let (wt2, h2) = nmfkit::init::initialize_oriented(&dt, 3, Init::Random, 8, true).unwrap();
    // Of Xᵀ ≈ H'ᵀ... : its W is our Hᵀ (stored as Wt' = H), its H our Wᵀ.
    assert_eq!(wt2, h);
    assert_eq!(h2, wt);
    // And a whole HALS fit then gives the transposed factors.
    let est = Nmf::new(3)
        .solver(SolverKind::Hals)
        .init(Init::Random)
        .seed(8)
        .max_iter(50)
        .tol(0.0);
    let a = est.fit(&x).unwrap();
    let b = Nmf {
        transposed_draws: true,
        ..est.clone().update_order(UpdateOrder::HThenW)
    }
    .fit(&xt)
    .unwrap();
    assert!(common::rel_diff(&b.w.transpose(), &a.h) < 1e-10);
    assert!(common::rel_diff(&b.h.transpose(), &a.w) < 1e-10);
}

#[test]
fn random_pieces_are_pieces_of_the_random_start() {
    let x = nmfkit::synth::low_rank::<f64>(23, 17, 3, 0.1, 2).x;
    let d = nmfkit::DenseData::new(x.as_ref());
    let (wt, h) = nmfkit::init::initialize(&d, 3, nmfkit::Init::Random, 9).unwrap();
    let sum: f64 = x.data.iter().sum();
    for (rows, cols) in [
        (0..23, 0..17),
        (5..11, 3..4),
        (20..23, 0..0),
        (0..0, 16..17),
    ] {
        let (pw, ph) =
            nmfkit::init::random_pieces::<f64>((23, 17), sum, 3, 9, rows.clone(), cols.clone());
        for t in 0..3 {
            for (q, i) in rows.clone().enumerate() {
                assert_eq!(pw.get(t, q), wt.get(t, i));
            }
            for (q, j) in cols.clone().enumerate() {
                assert_eq!(ph.get(t, q), h.get(t, j));
            }
        }
    }
}

#[test]
fn randomized_svd_of_a_rank_deficient_matrix_is_exact_and_orthonormal() {
    // Rank 2 with k = 4: the sketch (k + 10 columns) is rank-deficient, which
    // Cholesky QR cannot orthonormalize; the Householder fallback must.
    let x = synth::low_rank::<f64>(60, 40, 2, 0.0, 3).x;
    let d = DenseData::new(x.as_ref());
    let svd = nmfkit::init::randomized_svd(&d, 4, 0).unwrap();
    assert_exact_singular_values(&x, &svd.s);
    for a in 0..2 {
        for b in 0..2 {
            let dot: f64 = (0..60).map(|i| svd.u.get(i, a) * svd.u.get(i, b)).sum();
            let want = if a == b { 1.0 } else { 0.0 };
            assert!((dot - want).abs() < 1e-10, "uᵀu[{a},{b}] = {dot}");
        }
    }
}

#[test]
fn randomized_svd_in_float32_matches_float64() {
    let x = synth::low_rank::<f64>(300, 120, 6, 0.05, 4).x;
    let x32 = Mat::<f32>::from_fn(300, 120, |i, j| x.get(i, j) as f32);
    let s64 = nmfkit::init::randomized_svd(&DenseData::new(x.as_ref()), 6, 0).unwrap();
    let s32 = nmfkit::init::randomized_svd(&DenseData::new(x32.as_ref()), 6, 0).unwrap();
    for j in 0..6 {
        assert!(
            (s64.s[j] - s32.s[j]).abs() < 1e-4 * s64.s[0],
            "σ{j}: {} vs {}",
            s64.s[j],
            s32.s[j]
        );
    }
}

/// Dense data with a short side runs the power iterations on its Gram;
/// sparse data (the same matrix) on passes over X. Both span the same
/// subspace in exact arithmetic: the same singular values and vectors
/// (up to sign), short rows or short columns, either orientation.
#[test]
fn randomized_svd_on_the_gram_equals_the_passes() {
    for (n, m) in [(30, 400), (400, 30)] {
        let x = synth::low_rank::<f64>(n, m, 4, 0.2, 9).x;
        let csr = CsrMatrix::from_dense(x.as_ref());
        for transposed in [false, true] {
            let a = nmfkit::init::randomized_svd_oriented(
                &DenseData::new(x.as_ref()),
                4,
                3,
                transposed,
            )
            .unwrap();
            let b = nmfkit::init::randomized_svd_oriented(
                &SparseData::new(&csr.view()),
                4,
                3,
                transposed,
            )
            .unwrap();
            for j in 0..4 {
                assert!(
                    (a.s[j] - b.s[j]).abs() < 1e-10 * b.s[0],
                    "{n}×{m} {transposed}: σ{j}"
                );
                let dot: f64 = (0..a.u.nrows).map(|i| a.u.get(i, j) * b.u.get(i, j)).sum();
                assert!(
                    (dot.abs() - 1.0).abs() < 1e-9,
                    "{n}×{m} {transposed}: u{j}·u{j} = {dot}"
                );
                let dot: f64 = (0..a.vt.ncols)
                    .map(|c| a.vt.get(j, c) * b.vt.get(j, c))
                    .sum();
                assert!(
                    (dot.abs() - 1.0).abs() < 1e-9,
                    "{n}×{m} {transposed}: v{j}·v{j} = {dot}"
                );
            }
        }
    }
}
