use super::*;
use crate::synth;

fn toy(h: usize, w: usize, counts: f64, seed: u64) -> synth::SpectrumImage<f64> {
    synth::spectra::<f64>(&synth::SpectraOptions {
        height: h,
        width: w,
        counts_per_pixel: counts,
        seed,
        ..Default::default()
    })
}

fn nonincreasing(fit: &SmoothFit) {
    let obj: Vec<f64> = fit.history.iter().map(|e| e.objective).collect();
    for (i, w) in obj.windows(2).enumerate() {
        assert!(
            w[1] <= w[0] + 1e-12 * w[0].abs(),
            "objective rose at evaluation {}: {} -> {}",
            i + 1,
            w[0],
            w[1]
        );
    }
}

#[test]
fn objective_never_increases_with_every_combination_of_terms() {
    let s = toy(12, 10, 200.0, 1);
    let p = 120;
    for with_g in [false, true] {
        for lam in [0.0, 2.0] {
            for mu in [vec![], vec![0.05], vec![0.02, 0.1, 0.5]] {
                for simplex in [Simplex::None, Simplex::H, Simplex::W] {
                    for normalize in [false, true] {
                        let est = SmoothNmf::new(3)
                            .lambda_l(lam)
                            .mu(mu.clone())
                            .simplex(simplex)
                            .normalize(normalize)
                            .image_shape(12, 10)
                            .max_iter(60)
                            .tol(0.0)
                            .eval_every(1);
                        let g = with_g.then(|| s.g.as_ref());
                        let fit = est.fit(s.x.as_ref(), g).unwrap();
                        let what = format!(
                            "G {with_g} λ {lam} μ {mu:?} {simplex:?} normalize {normalize}"
                        );
                        assert_eq!(fit.history.len(), 61, "{what}");
                        nonincreasing(&fit);
                        assert!(
                            fit.h
                                .data
                                .iter()
                                .chain(&fit.w.data)
                                .all(|v| v.is_finite() && *v > 0.0),
                            "{what}"
                        );
                        if simplex == Simplex::H {
                            for j in 0..p {
                                let sum: f64 = fit.h.col(j).iter().sum();
                                assert!(
                                    (sum - 1.0).abs() <= 1e-12,
                                    "{what}: pixel {j} sums to {sum}"
                                );
                            }
                        }
                        if simplex == Simplex::W && !normalize {
                            for t in 0..3 {
                                let sum: f64 = fit.w.col(t).iter().sum();
                                assert!(
                                    (sum - 1.0).abs() <= 1e-12,
                                    "{what}: W column {t} sums to {sum}"
                                );
                            }
                        }
                        assert_eq!(fit.penalty("laplacian") == 0.0, lam == 0.0, "{what}");
                        assert_eq!(fit.penalty("log") == 0.0, mu.is_empty(), "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn simplex_holds_after_every_iteration() {
    let s = toy(10, 10, 100.0, 2);
    for iters in 1..6 {
        let fit = SmoothNmf::new(3)
            .lambda_l(2.0)
            .mu(vec![0.05])
            .simplex(Simplex::H)
            .image_shape(10, 10)
            .max_iter(iters)
            .tol(0.0)
            .fit(s.x.as_ref(), Some(s.g.as_ref()))
            .unwrap();
        assert_eq!(fit.n_iter, iters);
        for j in 0..100 {
            let sum: f64 = fit.h.col(j).iter().sum();
            assert!((sum - 1.0).abs() <= 1e-12);
        }
    }
}

#[test]
fn without_terms_or_dictionary_it_is_the_core_kl_multiplicative_update() {
    let x = synth::low_rank::<f64>(40, 30, 4, 0.05, 3).x;
    // The smooth model keeps the solver's own scales: compare unbalanced.
    let core = crate::Nmf::new(4)
        .loss(crate::Loss::KullbackLeibler)
        .solver(crate::SolverKind::Mu)
        .balance(crate::Balance::Off)
        .init(Init::Nndsvda)
        .max_iter(100)
        .tol(0.0)
        .fit(&x)
        .unwrap();
    let fit = SmoothNmf::new(4)
        .init(Init::Nndsvda)
        .max_iter(100)
        .tol(0.0)
        .fit(x.as_ref(), None)
        .unwrap();
    let rel = |a: &Mat<f64>, b: &Mat<f64>| {
        let d: f64 = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(p, q)| (p - q) * (p - q))
            .sum();
        d.sqrt() / b.norm()
    };
    assert!(
        rel(&fit.gw, &core.w) < 1e-10,
        "W differs by {}",
        rel(&fit.gw, &core.w)
    );
    assert!(
        rel(&fit.h, &core.h) < 1e-10,
        "H differs by {}",
        rel(&fit.h, &core.h)
    );
    assert!((fit.divergence - core.divergence).abs() < 1e-9 * core.divergence);
}

#[test]
fn bad_inputs_are_named() {
    let s = toy(6, 5, 50.0, 4);
    let x = s.x.as_ref();
    let g = s.g.as_ref();
    let err = |est: SmoothNmf, g: Option<MatRef<'_, f64>>| est.fit(x, g).unwrap_err().to_string();
    let short_g = Mat::from_fn(199, 15, |_, _| 1.0);
    assert!(err(SmoothNmf::new(3), Some(short_g.as_ref())).contains("G has shape (199, 15)"));
    assert!(err(SmoothNmf::new(3).image_shape(5, 5), Some(g))
        .contains("5x5 has 25 pixels but X has 30"));
    assert!(err(SmoothNmf::new(3).lambda_l(-1.0).image_shape(6, 5), Some(g)).contains("lambda_l"));
    assert!(err(SmoothNmf::new(3).lambda_l(1.0), Some(g)).contains("image shape"));
    assert!(err(SmoothNmf::new(3).mu(vec![0.1, 0.2]), Some(g)).contains("mu"));
    assert!(err(SmoothNmf::new(3).mu(vec![f64::NAN]), Some(g)).contains("mu"));
    assert!(err(SmoothNmf::new(0), Some(g)).contains("rank"));
    let mut neg = s.g.clone();
    neg.set(3, 2, -1.0);
    assert!(err(SmoothNmf::new(3), Some(neg.as_ref())).contains("G has a negative entry"));
    let mut zero_col = s.g.clone();
    zero_col.col_mut(4).fill(0.0);
    assert!(err(SmoothNmf::new(3), Some(zero_col.as_ref())).contains("column 4 of G"));
    let mut bad_x = s.x.clone();
    bad_x.set(0, 0, f64::NAN);
    assert!(SmoothNmf::new(3)
        .fit(bad_x.as_ref(), Some(g))
        .unwrap_err()
        .to_string()
        .contains("non-finite"));
    let h0 = Mat::from_fn(3, 29, |_, _| 1.0);
    let opts = SmoothOptions {
        h0: Some(&h0),
        ..Default::default()
    };
    assert!(SmoothNmf::new(3)
        .fit_with(x, Some(g), opts)
        .unwrap_err()
        .to_string()
        .contains("H has shape"));
}

#[test]
fn zero_pixels_and_channels_stay_finite() {
    let mut s = toy(6, 6, 30.0, 5);
    s.x.col_mut(7).fill(0.0);
    for j in 0..36 {
        s.x.set(11, j, 0.0);
    }
    for simplex in [Simplex::None, Simplex::H] {
        let fit = SmoothNmf::new(3)
            .lambda_l(1.0)
            .mu(vec![0.1])
            .simplex(simplex)
            .image_shape(6, 6)
            .max_iter(30)
            .tol(0.0)
            .eval_every(1)
            .fit(s.x.as_ref(), Some(s.g.as_ref()))
            .unwrap();
        nonincreasing(&fit);
        assert!(fit.h.data.iter().chain(&fit.gw.data).all(|v| v.is_finite()));
    }
}

#[test]
fn custom_starts_and_reproducibility() {
    let s = toy(8, 8, 100.0, 6);
    let est = SmoothNmf::new(3)
        .simplex(Simplex::H)
        .image_shape(8, 8)
        .lambda_l(1.0)
        .max_iter(20)
        .tol(0.0);
    let a = est.fit(s.x.as_ref(), Some(s.g.as_ref())).unwrap();
    // Same seed and threads: the same result; other thread counts agree
    // to rounding (the initialization's products are parallel).
    let again = est.fit(s.x.as_ref(), Some(s.g.as_ref())).unwrap();
    assert_eq!((&a.h, &a.w), (&again.h, &again.w));
    for threads in [1, 2] {
        let b = SmoothNmf {
            threads,
            ..est.clone()
        }
        .fit(s.x.as_ref(), Some(s.g.as_ref()))
        .unwrap();
        let d =
            a.h.data
                .iter()
                .zip(&b.h.data)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
        assert!(d < 1e-9, "{threads} threads: H differs by {d}");
    }
    // Starting from the true spectra (W by NNLS on G) and maps: with no
    // iteration, GW is the truth (it lies in G's span); then it stays close.
    let start = |iters: usize| {
        let opts = SmoothOptions {
            gw0: Some(&s.spectra),
            h0: Some(&s.maps),
            ..Default::default()
        };
        SmoothNmf {
            max_iter: iters,
            eval_every: 1,
            ..est.clone()
        }
        .fit_with(s.x.as_ref(), Some(s.g.as_ref()), opts)
        .unwrap()
    };
    let zero = start(0);
    let d = zero
        .gw
        .data
        .iter()
        .zip(&s.spectra.data)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max);
    assert!(d < 1e-9, "GW from NNLS on G differs by {d}");
    let fit = start(20);
    nonincreasing(&fit);
    let m = crate::metrics::match_rows(&fit.gw.transpose(), &s.spectra.transpose());
    assert!(m.angles.iter().all(|&a| a < 10.0), "{:?}", m.angles);
}

#[test]
fn fixed_entries_stay_to_the_bit_and_the_objective_never_increases() {
    let s = synth::spectra::<f64>(&synth::SpectraOptions {
        height: 12,
        width: 12,
        ..Default::default()
    });
    let (m, k, p) = (s.g.ncols, 3, s.x.ncols);
    let mut fw = Mat::from_fn(m, k, |_, _| -1.0);
    fw.set(1, 0, 0.3141592653589793);
    fw.set(4, 2, 0.0);
    let fh = Mat::from_fn(
        k,
        p,
        |t, j| if t == 1 && j % 5 == 0 { 0.2 } else { f64::NAN },
    );
    for normalize in [false, true] {
        let opts = SmoothOptions {
            fixed_w: Some(&fw),
            fixed_h: Some(&fh),
            ..Default::default()
        };
        let fit = SmoothNmf::new(k)
            .lambda_l(1.0)
            .image_shape(12, 12)
            .normalize(normalize)
            .max_iter(80)
            .tol(0.0)
            .eval_every(1)
            .fit_with(s.x.as_ref(), Some(s.g.as_ref()), opts)
            .unwrap();
        assert_eq!(fit.w.get(1, 0).to_bits(), 0.3141592653589793f64.to_bits());
        assert_eq!(fit.w.get(4, 2), 0.0);
        for j in (0..p).step_by(5) {
            assert_eq!(fit.h.get(1, j), 0.2);
        }
        for w in fit.history.windows(2) {
            assert!(
                w[1].objective <= w[0].objective * (1.0 + 1e-12),
                "rose at {}",
                w[1].iter
            );
        }
    }
    // Under a simplex on the same factor the free entries share what the
    // fixed ones leave: every column still sums to one, and the objective
    // still never increases.
    for (simplex, opts) in [
        (
            Simplex::H,
            SmoothOptions {
                fixed_h: Some(&fh),
                ..Default::default()
            },
        ),
        (
            Simplex::W,
            SmoothOptions {
                fixed_w: Some(&fw),
                ..Default::default()
            },
        ),
    ] {
        let fit = SmoothNmf::new(k)
            .simplex(simplex)
            .lambda_l(1.0)
            .image_shape(12, 12)
            .max_iter(60)
            .tol(0.0)
            .eval_every(1)
            .fit_with(s.x.as_ref(), Some(s.g.as_ref()), opts)
            .unwrap();
        let f = if simplex == Simplex::H {
            &fit.h
        } else {
            &fit.w
        };
        for j in 0..f.ncols {
            let sum: f64 = f.col(j).iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-12,
                "{simplex:?}: column {j} sums to {sum}"
            );
        }
        if simplex == Simplex::H {
            (0..p)
                .step_by(5)
                .for_each(|j| assert_eq!(fit.h.get(1, j), 0.2));
        } else {
            assert_eq!(fit.w.get(1, 0).to_bits(), 0.3141592653589793f64.to_bits());
            assert_eq!(fit.w.get(4, 2), 0.0);
        }
        nonincreasing(&fit);
    }
    // Fixed entries that leave no room for the free ones are refused.
    let full = Mat::from_fn(k, p, |t, j| if t < 2 && j == 7 { 0.6 } else { f64::NAN });
    let opts = SmoothOptions {
        fixed_h: Some(&full),
        ..Default::default()
    };
    let e = SmoothNmf::new(k)
        .simplex(Simplex::H)
        .fit_with(s.x.as_ref(), Some(s.g.as_ref()), opts)
        .unwrap_err();
    assert!(e.to_string().contains("column 7"), "{e}");
}
