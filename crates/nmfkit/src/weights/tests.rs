use super::*;
use crate::matrix::MatRef;
use crate::{synth, FitOptions, Init, Loss, Nmf, SolverKind, UpdateOrder};

/// X with its NaN entries marked missing, as the CLI and Python build it.
fn nan_mask(x: MatRef<'_, f64>) -> (Mat<f64>, Mat<f64>) {
    let spec = MaskSpec {
        missing: Missing::Nan,
        ..Default::default()
    };
    match Weighted::build(Input::Dense(x), &spec).unwrap() {
        Weighted::Dense { x, weights } => (x, weights),
        Weighted::Sparse { .. } => unreachable!(),
    }
}

fn ones(n: usize, m: usize) -> Mat<f64> {
    Mat::from_fn(n, m, |_, _| 1.0)
}

/// About `share` of the entries missing, at fixed pseudo-random places.
fn holes(n: usize, m: usize, share: f64, seed: u64) -> Mat<f64> {
    let mut s = seed;
    Mat::from_fn(n, m, |_, _| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if ((s >> 11) as f64 / (1u64 << 53) as f64) < share {
            0.0
        } else {
            1.0
        }
    })
}

fn rel(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let d: f64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(p, q)| (p - q) * (p - q))
        .sum();
    d.sqrt() / b.norm()
}

#[test]
fn an_all_ones_mask_gives_the_unmasked_fit() {
    let x = synth::low_rank::<f64>(50, 40, 4, 0.1, 1).x;
    let m = ones(50, 40);
    for (solver, loss) in [
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::Mu, Loss::KullbackLeibler),
        (SolverKind::Mu, Loss::Beta(0.5)),
        (SolverKind::AnlsBpp, Loss::Frobenius),
    ] {
        let est = Nmf::new(4)
            .solver(solver)
            .loss(loss)
            .init(Init::Nndsvda)
            .max_iter(40)
            .tol(0.0);
        let est = if solver == SolverKind::Mu {
            est.update_order(UpdateOrder::HThenW)
        } else {
            est
        };
        let plain = est.fit(&x).unwrap();
        let masked = est.fit_masked(x.as_ref(), m.as_ref()).unwrap();
        assert!(
            rel(&masked.w, &plain.w) < 1e-9,
            "{solver:?} {loss:?}: W {}",
            rel(&masked.w, &plain.w)
        );
        assert!(
            rel(&masked.h, &plain.h) < 1e-9,
            "{solver:?} {loss:?}: H {}",
            rel(&masked.h, &plain.h)
        );
        assert!((masked.divergence - plain.divergence).abs() <= 1e-9 * plain.divergence);
    }
}

#[test]
fn missing_entries_never_influence_the_factors() {
    let x = synth::low_rank::<f64>(40, 30, 3, 0.05, 2).x;
    let m = holes(40, 30, 0.3, 9);
    // Missing entries changed to NaN or to huge values.
    let mut other = x.clone();
    let mut nanx = x.clone();
    for (i, ((v, nv), w)) in other
        .data
        .iter_mut()
        .zip(nanx.data.iter_mut())
        .zip(&m.data)
        .enumerate()
    {
        if *w == 0.0 {
            *v = if i % 2 == 0 { f64::NAN } else { 1e9 };
            *nv = f64::NAN;
        }
    }
    for solver in [
        SolverKind::Mu,
        SolverKind::Hals,
        SolverKind::Cd,
        SolverKind::AnlsBpp,
    ] {
        let est = Nmf::new(3).solver(solver).max_iter(30).tol(0.0);
        let a = est.fit_masked(x.as_ref(), m.as_ref()).unwrap();
        let b = est.fit_masked(other.as_ref(), m.as_ref()).unwrap();
        assert_eq!(a.w, b.w, "{solver:?}");
        assert_eq!(a.h, b.h, "{solver:?}");
    }
    // NaN as missing.
    let (filled, weights) = nan_mask(nanx.as_ref());
    assert_eq!(weights, m);
    let c = Nmf::new(3)
        .solver(SolverKind::Hals)
        .max_iter(30)
        .tol(0.0)
        .fit_masked(filled.as_ref(), weights.as_ref())
        .unwrap();
    let d = Nmf::new(3)
        .solver(SolverKind::Hals)
        .max_iter(30)
        .tol(0.0)
        .fit_masked(x.as_ref(), m.as_ref())
        .unwrap();
    assert_eq!(c.w, d.w);
}

#[test]
fn the_objective_never_increases() {
    let x = synth::low_rank::<f64>(45, 35, 4, 0.2, 3).x;
    let weights = Mat::from_fn(45, 35, |i, j| {
        if (i + 2 * j) % 7 == 0 {
            0.0
        } else {
            0.5 + ((i * j) % 3) as f64 * 0.5
        }
    });
    let reg = crate::Regularization {
        alpha_w: 0.01,
        alpha_h: None,
        l1_ratio: 0.5,
    };
    for (solver, loss) in [
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::Mu, Loss::KullbackLeibler),
        (SolverKind::Mu, Loss::Beta(0.5)),
        (SolverKind::Mu, Loss::Beta(3.0)),
        (SolverKind::Hals, Loss::Frobenius),
        (SolverKind::Cd, Loss::Frobenius),
        (SolverKind::AnlsBpp, Loss::Frobenius),
    ] {
        for r in [crate::Regularization::default(), reg] {
            let fit = Nmf::new(4)
                .solver(solver)
                .loss(loss)
                .regularization(r)
                .max_iter(60)
                .tol(0.0)
                .fit_masked(x.as_ref(), weights.as_ref())
                .unwrap();
            for h in fit.history.windows(2) {
                assert!(
                    h[1].objective <= h[0].objective * (1.0 + 1e-12),
                    "{solver:?} {loss:?}: {} -> {}",
                    h[0].objective,
                    h[1].objective
                );
            }
        }
    }
}

#[test]
fn held_out_entries_of_a_planted_matrix_are_recovered() {
    let x = synth::low_rank::<f64>(100, 80, 5, 0.0, 4).x;
    let m = holes(100, 80, 0.3, 5);
    // HALS with extrapolation (the CLI's default) to 1e-6; ANLS (exact
    // rows, slower per iteration here) to 1e-5 in fewer iterations.
    for (solver, iters, target) in [
        (SolverKind::Hals, 1500, 1e-6),
        (SolverKind::AnlsBpp, 800, 1e-5),
    ] {
        let fit = Nmf::new(5)
            .solver(solver)
            .extrapolate(solver == SolverKind::Hals)
            .max_iter(iters)
            .tol(0.0)
            .fit_masked(x.as_ref(), m.as_ref())
            .unwrap();
        let filled = impute(x.as_ref(), m.as_ref(), &fit.w, &fit.h);
        let (mut se, mut ss) = (0.0, 0.0);
        for ((a, b), w) in filled.data.iter().zip(&x.data).zip(&m.data) {
            if *w == 0.0 {
                se += (a - b) * (a - b);
                ss += b * b;
            } else {
                assert_eq!(a, b, "observed entries are kept");
            }
        }
        assert!(
            (se / ss).sqrt() < target,
            "{solver:?}: held-out relative error {}",
            (se / ss).sqrt()
        );
    }
}

#[test]
fn transform_with_a_mask_fixes_h() {
    let p = synth::low_rank::<f64>(30, 20, 3, 0.0, 6);
    let m = holes(30, 20, 0.2, 7);
    let opts = FitOptions {
        h0: Some(&p.h),
        update_h: false,
        ..Default::default()
    };
    let fit = Nmf::new(3)
        .solver(SolverKind::AnlsBpp)
        .max_iter(50)
        .tol(0.0)
        .fit_masked_with(p.x.as_ref(), m.as_ref(), opts)
        .unwrap();
    assert_eq!(fit.h, p.h);
    assert!(rel(&fit.w, &p.w) < 1e-8);
}

#[test]
fn bad_masks_and_data_are_named() {
    let x = synth::low_rank::<f64>(10, 8, 2, 0.0, 8).x;
    let est = Nmf::new(2);
    let err = |x: &Mat<f64>, m: &Mat<f64>, est: &Nmf| {
        est.fit_masked(x.as_ref(), m.as_ref())
            .unwrap_err()
            .to_string()
    };
    assert!(err(&x, &ones(10, 7), &est).contains("mask has shape (10, 7)"));
    let mut neg = ones(10, 8);
    neg.set(2, 3, -1.0);
    assert!(err(&x, &neg, &est).contains("mask has a negative entry"));
    let mut nan = x.clone();
    nan.set(1, 1, f64::NAN);
    assert!(err(&nan, &ones(10, 8), &est).contains("X has a non-finite entry"));
    assert!(err(&x, &Mat::zeros(10, 8), &est).contains("every entry is missing"));
    assert!(err(
        &x,
        &ones(10, 8),
        &Nmf::new(2)
            .solver(SolverKind::Hals)
            .loss(Loss::KullbackLeibler)
    )
    .contains("use solver auto, ccd or mu"));
    let mut zero = x.clone();
    zero.set(0, 0, 0.0);
    assert!(err(
        &zero,
        &ones(10, 8),
        &Nmf::new(2).solver(SolverKind::Mu).loss(Loss::ItakuraSaito)
    )
    .contains("beta"));
}

/// A planted matrix keeping about `share` of its entries as a sparse X.
fn observed(
    n: usize,
    m: usize,
    k: usize,
    share: f64,
    seed: u64,
) -> (Mat<f64>, crate::CsrMatrix<f64>, Mat<f64>) {
    let x = synth::low_rank::<f64>(n, m, k, 0.0, seed).x;
    let keep = holes(n, m, 1.0 - share, seed + 1);
    let t: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .filter(|&(i, j)| keep.get(i, j) == 1.0)
        .map(|(i, j)| (i, j, x.get(i, j)))
        .collect();
    (
        x.clone(),
        crate::CsrMatrix::from_triplets(n, m, &t).unwrap(),
        keep,
    )
}

#[test]
fn observed_only_sparse_equals_the_dense_mask_of_its_pattern() {
    let (x, xs, keep) = observed(40, 30, 3, 0.5, 20);
    let w0 = Mat::from_fn(40, 3, |i, t| 0.2 + ((i + 3 * t) % 5) as f64 * 0.1);
    let h0 = Mat::from_fn(3, 30, |t, j| 0.3 + ((2 * j + t) % 7) as f64 * 0.1);
    for (solver, loss) in [
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::Mu, Loss::KullbackLeibler),
        (SolverKind::Hals, Loss::Frobenius),
        (SolverKind::AnlsBpp, Loss::Frobenius),
    ] {
        let mut est = Nmf::new(3).solver(solver).loss(loss).max_iter(25).tol(0.0);
        // HALS's α rule counts stored entries: fix the sweeps to compare.
        est.hals_sweeps = Some(3);
        let opts = || FitOptions {
            w0: Some(&w0),
            h0: Some(&h0),
            ..Default::default()
        };
        let dense = est
            .fit_masked_with(x.as_ref(), keep.as_ref(), opts())
            .unwrap();
        let sparse = est.fit_observed_with(&xs, opts()).unwrap();
        assert!(
            rel(&sparse.w, &dense.w) < 1e-9,
            "{solver:?} {loss:?}: {}",
            rel(&sparse.w, &dense.w)
        );
        assert!(rel(&sparse.h, &dense.h) < 1e-9, "{solver:?} {loss:?}");
        for h in sparse.history.windows(2) {
            assert!(
                h[1].objective <= h[0].objective * (1.0 + 1e-12),
                "{solver:?} {loss:?}"
            );
        }
    }
}

#[test]
fn observed_only_recovers_the_unobserved_entries() {
    let (x, xs, keep) = observed(100, 80, 4, 0.5, 30);
    let fit = Nmf::new(4)
        .solver(SolverKind::Hals)
        .seed(1)
        .max_iter(1500)
        .tol(0.0)
        .fit_observed(&xs)
        .unwrap();
    let wh = crate::model::inverse_transform(&fit.w, &fit.h);
    let (mut se, mut ss) = (0.0, 0.0);
    for ((a, b), w) in wh.data.iter().zip(&x.data).zip(&keep.data) {
        if *w == 0.0 {
            se += (a - b) * (a - b);
            ss += b * b;
        }
    }
    assert!(
        (se / ss).sqrt() < 1e-4,
        "unobserved relative error {}",
        (se / ss).sqrt()
    );
    // NNDSVD would read the missing entries as zeros: refused.
    assert!(Nmf::new(4)
        .init(Init::Nndsvda)
        .fit_observed(&xs)
        .unwrap_err()
        .to_string()
        .contains("random"));
    let bad = crate::CsrMatrix::from_triplets(2, 2, &[(0, 0, -1.0)]).unwrap();
    assert!(Nmf::new(1)
        .fit_observed(&bad)
        .unwrap_err()
        .to_string()
        .contains("negative"));
}

// Sparse data with listed holes.
mod listed_holes;
