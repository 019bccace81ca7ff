//! The smooth model's Frobenius data term (ESPM's `l2=True`) and its
//! tracking against known true factors (ESPM's `true_D`/`true_H`).

use nmfkit::smooth::{Simplex, SmoothLoss, SmoothNmf, SmoothOptions, Truth};
use nmfkit::{synth, Mat};

fn toy(counts: f64, seed: u64) -> synth::SpectrumImage<f64> {
    synth::spectra::<f64>(&synth::SpectraOptions {
        height: 12,
        width: 10,
        counts_per_pixel: counts,
        seed,
        ..Default::default()
    })
}

fn matmul(a: &Mat<f64>, b: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows, b.ncols, |i, j| {
        (0..a.ncols).map(|t| a.get(i, t) * b.get(t, j)).sum()
    })
}

#[test]
fn l2_objective_never_increases_with_every_term_and_constraint() {
    let s = toy(200.0, 1);
    for with_g in [false, true] {
        for (lam, mu) in [
            (0.0, vec![]),
            (2.0, vec![0.05]),
            (1.0, vec![0.02, 0.1, 0.5]),
        ] {
            for simplex in [Simplex::None, Simplex::H, Simplex::W] {
                let fit = SmoothNmf::new(3)
                    .loss(SmoothLoss::L2)
                    .lambda_l(lam)
                    .mu(mu.clone())
                    .simplex(simplex)
                    .image_shape(12, 10)
                    .max_iter(60)
                    .tol(0.0)
                    .eval_every(1)
                    .seed(2)
                    .fit(s.x.as_ref(), with_g.then(|| s.g.as_ref()))
                    .unwrap();
                let obj: Vec<f64> = fit.history.iter().map(|e| e.objective).collect();
                for (i, w) in obj.windows(2).enumerate() {
                    assert!(
                        w[1] <= w[0] * (1.0 + 1e-10),
                        "G {with_g} λ {lam} μ {mu:?} {simplex:?}: rose at {}: {} -> {}",
                        i + 1,
                        w[0],
                        w[1]
                    );
                }
                assert!(obj.last().unwrap() < &(0.9 * obj[0]), "{obj:?}");
                if simplex == Simplex::H {
                    for j in 0..fit.h.ncols {
                        let sum: f64 = (0..3).map(|t| fit.h.get(t, j)).sum();
                        assert!((sum - 1.0).abs() < 1e-12);
                    }
                }
                if simplex == Simplex::W {
                    for t in 0..3 {
                        assert!((fit.w.col(t).iter().sum::<f64>() - 1.0).abs() < 1e-12);
                    }
                }
            }
        }
    }
}

#[test]
fn l2_without_penalties_is_lee_and_seungs_update() {
    // One iteration by hand: H ∘ DᵀX / DᵀDH, then W ∘ GᵀXHᵀ / GᵀGWHHᵀ.
    let s = toy(100.0, 3);
    let (m, k, p) = (s.g.ncols, 3, s.x.ncols);
    let w0 = Mat::from_fn(m, k, |l, t| 0.2 + ((l * 7 + t * 3) % 5) as f64 * 0.1);
    let h0 = Mat::from_fn(k, p, |t, j| 0.3 + ((t * 11 + j * 5) % 7) as f64 * 0.1);
    let fit = SmoothNmf::new(k)
        .loss(SmoothLoss::L2)
        .max_iter(1)
        .tol(0.0)
        .fit_with(
            s.x.as_ref(),
            Some(s.g.as_ref()),
            SmoothOptions {
                w0: Some(&w0),
                h0: Some(&h0),
                ..Default::default()
            },
        )
        .unwrap();
    let d = matmul(&s.g, &w0);
    let dt = d.transpose();
    let (dtx, dtdh) = (matmul(&dt, &s.x), matmul(&matmul(&dt, &d), &h0));
    let h1 = Mat::from_fn(k, p, |t, j| h0.get(t, j) * dtx.get(t, j) / dtdh.get(t, j));
    let gt = s.g.transpose();
    let h1t = h1.transpose();
    let num = matmul(&gt, &matmul(&s.x, &h1t));
    let den = matmul(&matmul(&matmul(&gt, &s.g), &w0), &matmul(&h1, &h1t));
    let w1 = Mat::from_fn(m, k, |l, t| w0.get(l, t) * num.get(l, t) / den.get(l, t));
    for (a, b) in fit.h.data.iter().zip(&h1.data) {
        assert!((a - b).abs() <= 1e-10 * b.abs().max(1e-3), "{a} vs {b}");
    }
    for (a, b) in fit.w.data.iter().zip(&w1.data) {
        assert!((a - b).abs() <= 1e-10 * b.abs().max(1e-3), "{a} vs {b}");
    }
    // The recorded data term is ½‖X − GWH‖².
    let r = matmul(&matmul(&s.g, &fit.w), &fit.h);
    let half_sq: f64 = 0.5
        * s.x
            .data
            .iter()
            .zip(&r.data)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>();
    assert!((fit.divergence - half_sq).abs() <= 1e-9 * half_sq);
}

#[test]
fn l2_keeps_fixed_entries_to_the_bit() {
    let s = toy(100.0, 4);
    let m = s.g.ncols;
    let fixed_w = Mat::from_fn(m, 3, |l, t| if l == 2 && t == 1 { 0.375 } else { -1.0 });
    let fixed_h = Mat::from_fn(
        3,
        120,
        |t, j| if t == 0 && j < 5 { 0.125 } else { f64::NAN },
    );
    let fit = SmoothNmf::new(3)
        .loss(SmoothLoss::L2)
        .max_iter(30)
        .fit_with(
            s.x.as_ref(),
            Some(s.g.as_ref()),
            SmoothOptions {
                fixed_w: Some(&fixed_w),
                fixed_h: Some(&fixed_h),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(fit.w.get(2, 1).to_bits(), 0.375f64.to_bits());
    for j in 0..5 {
        assert_eq!(fit.h.get(0, j).to_bits(), 0.125f64.to_bits());
    }
}

#[test]
fn truth_started_from_is_measured_as_perfect_and_then_tracked() {
    let s = toy(0.0, 5);
    let k = 3;
    // Start at the truth: angles, map errors and the divergence from the
    // truth are 0 at iteration 0.
    for loss in [SmoothLoss::Kl, SmoothLoss::L2] {
        let fit = SmoothNmf::new(k)
            .loss(loss)
            .simplex(Simplex::H)
            .max_iter(20)
            .eval_every(5)
            .fit_with(
                s.x.as_ref(),
                Some(s.g.as_ref()),
                SmoothOptions {
                    w0: Some(&s.w),
                    h0: Some(&s.maps),
                    truth: Truth {
                        spectra: Some(&s.spectra),
                        maps: Some(&s.maps),
                    },
                    ..Default::default()
                },
            )
            .unwrap();
        let names = &fit.tracked_names;
        assert_eq!(names.len(), 2 * k + 1, "{names:?}");
        assert_eq!(names[0], "angle_0");
        assert_eq!(names[k], "map_mse_0");
        assert_eq!(names[2 * k], "true_divergence");
        // (An angle's arccos near 0 carries ~1e-6° of rounding.)
        let first = &fit.history[0].tracked;
        assert!(
            first[..k].iter().all(|v| v.abs() < 1e-5),
            "{loss:?}: {first:?}"
        );
        assert!(
            first[k..].iter().all(|v| v.abs() < 1e-20),
            "{loss:?}: {first:?}"
        );
        assert!(fit.history.iter().all(|e| e.tracked.len() == names.len()));
    }
    // From a random start on noisy data, the angles fall as the fit goes.
    let noisy = toy(500.0, 6);
    let fit = SmoothNmf::new(k)
        .simplex(Simplex::H)
        .max_iter(200)
        .tol(0.0)
        .seed(1)
        .fit_with(
            noisy.x.as_ref(),
            Some(noisy.g.as_ref()),
            SmoothOptions {
                truth: Truth {
                    spectra: Some(&noisy.spectra),
                    maps: None,
                },
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(fit.tracked_names.len(), k);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (a0, a1) = (
        mean(&fit.history[0].tracked),
        mean(&fit.history.last().unwrap().tracked),
    );
    assert!(a1 < a0 && a1 < 10.0, "angles {a0} -> {a1}");
}

#[test]
fn truth_of_the_wrong_shape_is_an_error_naming_it() {
    let s = toy(100.0, 7);
    let wrong = Mat::zeros(5, 3);
    let err = SmoothNmf::new(3)
        .fit_with(
            s.x.as_ref(),
            Some(s.g.as_ref()),
            SmoothOptions {
                truth: Truth {
                    spectra: Some(&wrong),
                    maps: None,
                },
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("true_D") && err.contains("5×3"), "{err}");
}
