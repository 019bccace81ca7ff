//! Half-step properties of the solvers, which need the crate's internals.

use super::*;
use crate::data::{CsrMatrix, DenseData, SparseData};
use crate::loss::beta_divergence;
use crate::regularization::{Penalties, Penalty};
use crate::synth;

fn example_a() -> Mat<f64> {
    // 0.01, 0.02, …, 1.00 as a 10×10 matrix, row-major.
    Mat::from_fn(10, 10, |i, j| (i * 10 + j + 1) as f64 / 100.0)
}

fn random_factors(n: usize, m: usize, k: usize, seed: u64) -> Factors<f64> {
    let p = synth::low_rank::<f64>(n, m, k, 0.0, seed);
    Factors {
        wt: p.w.transpose(),
        h: p.h,
    }
}

/// Loss after every half-step of `iters` iterations.
fn half_step_losses<D: Data<f64>>(
    x: &D,
    f: &mut Factors<f64>,
    solver: &mut dyn Solver<f64, D>,
    beta: f64,
    pen: Penalties,
    iters: usize,
) -> Vec<f64> {
    let obj = |f: &Factors<f64>| {
        beta_divergence(x, &f.wt, &f.h, beta) + pen.w.value(&f.wt) + pen.h.value(&f.h)
    };
    let mut out = vec![obj(f)];
    for _ in 0..iters {
        for side in [Side::H, Side::W] {
            solver.half_step(x, f, side, Want::default());
            out.push(obj(f));
        }
    }
    out
}

fn assert_non_increasing(v: &[f64], what: &str) {
    for (t, w) in v.windows(2).enumerate() {
        assert!(
            w[1] <= w[0] * (1.0 + 1e-12) + 1e-14,
            "{what}: objective increased at half-step {}: {} -> {}",
            t + 1,
            w[0],
            w[1]
        );
    }
}

#[test]
fn kl_mu_decreases_at_every_half_step_on_the_reported_example() {
    let x = example_a();
    let d = DenseData::new(x.as_ref());
    let mut f = random_factors(10, 10, 6, 3);
    let mut mu = MultiplicativeUpdate::new(1.0, Penalties::default());
    let losses = half_step_losses(&d, &mut f, &mut mu, 1.0, Penalties::default(), 100);
    assert_non_increasing(&losses, "KL MU");
    // Never alternates: two half-steps later the loss is strictly lower
    // (until it has converged to rounding level).
    for t in 0..losses.len() - 2 {
        if losses[t] > 1e-9 {
            assert!(
                losses[t + 2] < losses[t],
                "loss alternates at half-step {t}"
            );
        }
    }
    assert!(losses.last().unwrap() < &(0.05 * losses[0]));
}

/// The well-known wrong implementation: W's update reuses X/WH computed
/// before H changed. Its divergence alternates; this shows the test above
/// can tell the difference.
#[test]
fn stale_wh_implementation_alternates_and_ours_does_not() {
    let x = example_a();
    let (n, m, k) = (10, 10, 6);
    let mut f = random_factors(n, m, k, 3);
    let d = DenseData::new(x.as_ref());
    let kl = |f: &Factors<f64>| beta_divergence(&d, &f.wt, &f.h, 1.0);
    let mut stale = vec![kl(&f)];
    for _ in 0..100 {
        let wh = crate::model::inverse_transform(&f.wt.transpose(), &f.h);
        let ratio = Mat::from_fn(n, m, |i, j| x.get(i, j) / wh.get(i, j).max(1e-7));
        // H update with the current WH.
        let wsum: Vec<f64> = (0..k)
            .map(|t| (0..n).map(|i| f.wt.get(t, i)).sum())
            .collect();
        let mut h2 = f.h.clone();
        for t in 0..k {
            for j in 0..m {
                let num: f64 = (0..n).map(|i| f.wt.get(t, i) * ratio.get(i, j)).sum();
                h2.set(t, j, f.h.get(t, j) * num / wsum[t]);
            }
        }
        // W update with the *old* ratio and the old H (the bug).
        let hsum: Vec<f64> = (0..k)
            .map(|t| (0..m).map(|j| f.h.get(t, j)).sum())
            .collect();
        for t in 0..k {
            for i in 0..n {
                let num: f64 = (0..m).map(|j| f.h.get(t, j) * ratio.get(i, j)).sum();
                let v = f.wt.get(t, i) * num / hsum[t];
                f.wt.set(t, i, v);
            }
        }
        f.h = h2;
        stale.push(kl(&f));
    }
    let increases = stale
        .windows(2)
        .filter(|w| w[1] > w[0] * (1.0 + 1e-12))
        .count();
    assert!(
        increases > 10,
        "the stale implementation should not be monotone ({increases} increases)"
    );
}

#[test]
fn every_mu_beta_is_monotone_per_half_step_dense_and_sparse() {
    let p = synth::low_rank::<f64>(30, 20, 4, 0.1, 11);
    // Positive data so that β ≤ 0 is allowed; a sparse copy with holes for β > 0.
    let x = Mat::from_fn(30, 20, |i, j| p.x.get(i, j) + 0.05);
    let holes = Mat::from_fn(30, 20, |i, j| {
        if (i * 7 + j * 3) % 5 == 0 {
            0.0
        } else {
            x.get(i, j)
        }
    });
    let csr = CsrMatrix::from_dense(holes.as_ref());
    let pens = [
        Penalties::default(),
        Penalties {
            w: Penalty { l1: 0.3, l2: 0.0 },
            h: Penalty { l1: 0.1, l2: 0.0 },
        },
        Penalties {
            w: Penalty { l1: 0.0, l2: 0.5 },
            h: Penalty { l1: 0.2, l2: 0.3 },
        },
    ];
    for beta in [2.0, 1.0, 0.5, 1.5, 3.0, 0.0, -0.5] {
        for pen in pens {
            let mut f = random_factors(30, 20, 5, 5);
            let mut mu = MultiplicativeUpdate::new(beta, pen);
            let d = DenseData::new(x.as_ref());
            let v = half_step_losses(&d, &mut f, &mut mu, beta, pen, 30);
            assert_non_increasing(&v, &format!("dense MU beta={beta} pen={pen:?}"));
            if beta > 0.0 {
                let mut f = random_factors(30, 20, 5, 5);
                let mut mu = MultiplicativeUpdate::new(beta, pen);
                let s = SparseData::new(&csr);
                let v = half_step_losses(&s, &mut f, &mut mu, beta, pen, 30);
                assert_non_increasing(&v, &format!("sparse MU beta={beta} pen={pen:?}"));
            }
        }
    }
}

#[test]
fn cd_and_hals_are_monotone_per_half_step() {
    let p = synth::low_rank::<f64>(40, 25, 4, 0.2, 2);
    let csr = CsrMatrix::from_dense(p.x.as_ref());
    let pen = Penalties {
        w: Penalty { l1: 0.2, l2: 0.1 },
        h: Penalty { l1: 0.05, l2: 0.4 },
    };
    for pen in [Penalties::default(), pen] {
        let d = DenseData::new(p.x.as_ref());
        let s = SparseData::new(&csr);
        let mut f = random_factors(40, 25, 6, 9);
        let v = half_step_losses(
            &d,
            &mut f,
            &mut CoordinateDescent::new(pen, None),
            2.0,
            pen,
            30,
        );
        assert_non_increasing(&v, "cd dense");
        let mut f = random_factors(40, 25, 6, 9);
        let v = half_step_losses(
            &s,
            &mut f,
            &mut Hals::new(pen, 0.5, 0.1, None),
            2.0,
            pen,
            30,
        );
        assert_non_increasing(&v, "hals sparse");
    }
}

/// The parallel sweep is scikit-learn's `_update_cdnmf_fast`, term for term.
#[test]
fn coordinate_sweep_matches_the_sequential_reference_exactly() {
    let p = synth::low_rank::<f64>(300, 50, 5, 0.3, 4);
    let (l1, l2) = (0.07, 0.3);
    let mut f = random_factors(300, 50, 7, 8);
    let d = DenseData::new(p.x.as_ref());
    let mut reference = f.clone();
    let pen = Penalties {
        w: Penalty { l1, l2 },
        h: Penalty::default(),
    };
    CoordinateDescent::new(pen, None).half_step(&d, &mut f, Side::W, Want::default());

    // Reference, written as scikit-learn writes it (row-major W, XHt, HHt).
    let (n, k) = (300, 7);
    let h = &reference.h;
    let hht = Mat::from_fn(k, k, |a, b| {
        (0..50).map(|j| h.get(a, j) * h.get(b, j)).sum::<f64>()
    });
    let mut hht2 = hht.clone();
    for t in 0..k {
        hht2.set(t, t, hht.get(t, t) + l2);
    }
    let xht = Mat::from_fn(n, k, |i, t| {
        (0..50).map(|j| p.x.get(i, j) * h.get(t, j)).sum::<f64>() - l1
    });
    let w = &mut reference.wt;
    for t in 0..k {
        for i in 0..n {
            let mut grad = -xht.get(i, t);
            for r in 0..k {
                grad += hht2.get(t, r) * w.get(r, i);
            }
            let hess = hht2.get(t, t);
            if hess != 0.0 {
                let v = (w.get(t, i) - grad / hess).max(0.0);
                w.set(t, i, v);
            }
        }
    }
    for (a, b) in f.wt.data.iter().zip(&reference.wt.data) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }
}

/// The Frobenius multiplicative update, whose denominator is formed piece
/// by piece, equals the textbook R ∘ C / (G R + l1 + l2 R) on dense and
/// sparse data, over more columns than one piece holds.
#[test]
fn frobenius_mu_matches_the_textbook_update() {
    let p = synth::low_rank::<f64>(600, 40, 5, 0.3, 6);
    let (l1, l2) = (0.05, 0.2);
    let pen = Penalties {
        w: Penalty { l1, l2 },
        h: Penalty { l1: 0.0, l2: 0.0 },
    };
    let csr = CsrMatrix::from_dense(p.x.as_ref());
    let d = DenseData::new(p.x.as_ref());
    let s = SparseData::new(&csr);
    for side in [Side::W, Side::H] {
        let start = random_factors(600, 40, 7, 9);
        let (l, r0) = (start.get(side.other()), start.get(side));
        let (k, cols) = (r0.nrows, r0.ncols);
        // C = L·X (side H: WᵀX) or H·Xᵀ (side W), G = L Lᵀ, all by hand.
        let len = l.ncols;
        let xv = |j: usize, i: usize| match side {
            Side::H => p.x.get(i, j),
            Side::W => p.x.get(j, i),
        };
        let pen_side = pen.side(side);
        let mut want = r0.clone();
        for j in 0..cols {
            for t in 0..k {
                let c: f64 = (0..len).map(|i| l.get(t, i) * xv(j, i)).sum();
                let gr: f64 = (0..k)
                    .map(|q| {
                        (0..len).map(|i| l.get(t, i) * l.get(q, i)).sum::<f64>() * r0.get(q, j)
                    })
                    .sum();
                let den = gr + pen_side.l1 + pen_side.l2 * r0.get(t, j);
                want.set(t, j, r0.get(t, j) * (c / den));
            }
        }
        let mut fd = start.clone();
        MultiplicativeUpdate::new(2.0, pen).half_step(&d, &mut fd, side, Want::default());
        let mut fs = start.clone();
        MultiplicativeUpdate::new(2.0, pen).half_step(&s, &mut fs, side, Want::default());
        for got in [fd.get(side), fs.get(side)] {
            for (a, b) in got.data.iter().zip(&want.data) {
                assert!(
                    (a - b).abs() <= 1e-10 * b.abs().max(1e-3),
                    "{side:?}: {a} vs {b}"
                );
            }
        }
    }
}
