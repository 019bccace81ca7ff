//! `solver = auto`: monotone across its switches, deterministic for a seed
//! and thread count, and what it chose is in the fit's notes.

mod common;

use nmfkit::{synth, CsrMatrix, FitOptions, Loss, Mat, Nmf, SolverKind};

/// Never rises beyond the rounding of its evaluation (‖X‖² − 2⟨X, WH⟩ +
/// ‖WH‖², each of the size of ‖X‖²).
fn monotone(fit: &nmfkit::NmfFit<f64>, x: &Mat<f64>, what: &str) {
    let slack = 1e-14 * x.norm().powi(2);
    for p in fit.history.windows(2) {
        assert!(
            p[1].objective <= p[0].objective * (1.0 + 1e-12) + slack,
            "{what}: {} -> {} at iteration {}",
            p[0].objective,
            p[1].objective,
            p[1].iter
        );
    }
}

/// Ill-conditioned data (two nearly parallel components plus noise), on
/// which HALS slows down and `auto` tries ANLS.
fn hard(n: usize, m: usize, k: usize) -> Mat<f64> {
    let p = synth::low_rank::<f64>(n, m, k, 0.2, 7);
    Mat::from_fn(n, m, |i, j| {
        p.x.get(i, j) + 0.5 * p.w.get(i, 0) * p.h.get(1, j)
    })
}

#[test]
fn auto_is_monotone_across_switches_on_dense_and_sparse_data() {
    let x = hard(120, 90, 8);
    let est = Nmf::new(8).solver(SolverKind::Auto).max_iter(300).tol(0.0);
    let fit = est.fit(&x).unwrap();
    monotone(&fit, &x, "dense");
    assert!(
        fit.notes.iter().any(|n| n.contains("takes over")),
        "no switch: {:?}",
        fit.notes
    );
    assert!(
        fit.notes[0].contains("anls for 10 iterations"),
        "{:?}",
        fit.notes
    );
    assert!(
        fit.notes.iter().any(|n| n.starts_with("ended with")),
        "{:?}",
        fit.notes
    );
    let holes = common::with_holes(&x);
    let sparse = est.fit(&CsrMatrix::from_dense(holes.as_ref())).unwrap();
    monotone(&sparse, &holes, "sparse");
    let masked = est
        .fit_masked(
            x.as_ref(),
            Mat::from_fn(120, 90, |i, j| ((i + j) % 7 != 0) as u8 as f64).as_ref(),
        )
        .unwrap();
    monotone(&masked, &x, "masked");
}

#[test]
fn auto_reaches_anls_s_objective_where_plain_hals_stops_above_it() {
    // The first iterations choose the basin: auto starts with ANLS's.
    let x = hard(150, 60, 10);
    let run = |s, ext| {
        Nmf::new(10)
            .solver(s)
            .extrapolate(ext)
            .max_iter(400)
            .tol(0.0)
            .fit(&x)
            .unwrap()
    };
    let auto = run(SolverKind::Auto, false);
    let anls = run(SolverKind::AnlsBpp, false);
    assert!(
        auto.objective <= anls.objective * (1.0 + 1e-6),
        "auto {} vs anls {}",
        auto.objective,
        anls.objective
    );
}

#[test]
fn auto_is_deterministic_for_a_seed_and_thread_count() {
    let x = hard(200, 120, 6);
    let est = Nmf::new(6)
        .solver(SolverKind::Auto)
        .max_iter(120)
        .tol(0.0)
        .seed(5)
        .threads(2);
    let (a, b) = (est.fit(&x).unwrap(), est.fit(&x).unwrap());
    assert_eq!(a.w, b.w);
    assert_eq!(a.h, b.h);
    assert_eq!(a.notes, b.notes);
}

#[test]
fn auto_solves_a_fixed_factor_exactly_and_takes_ccd_for_kl() {
    let p = synth::low_rank::<f64>(60, 40, 4, 0.0, 9);
    let opts = FitOptions {
        h0: Some(&p.h),
        update_h: false,
        ..Default::default()
    };
    let fit = Nmf::new(4)
        .solver(SolverKind::Auto)
        .max_iter(5)
        .fit_with(&p.x, opts)
        .unwrap();
    assert!(
        fit.notes[0].contains("anls solves the other exactly"),
        "{:?}",
        fit.notes
    );
    assert!(
        fit.divergence < 1e-12 * p.x.norm().powi(2),
        "{}",
        fit.divergence
    );

    let kl = |s| {
        Nmf::new(4)
            .loss(Loss::KullbackLeibler)
            .solver(s)
            .max_iter(30)
            .tol(0.0)
            .fit(&p.x)
            .unwrap()
    };
    let (auto, ccd) = (kl(SolverKind::Auto), kl(SolverKind::KlCd));
    assert_eq!(auto.w, ccd.w);
    assert!(auto.notes[0].contains("ccd"), "{:?}", auto.notes);
    let is = Nmf::new(4)
        .loss(Loss::Beta(0.0))
        .solver(SolverKind::Auto)
        .max_iter(5)
        .fit(&p.x.cast::<f64>());
    let notes = is.map(|f| f.notes).unwrap_or_default();
    assert!(notes.is_empty() || notes[0].contains("mu"), "{notes:?}");
}
