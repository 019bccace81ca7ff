//! Balanced components. The data term depends on W·H only, so component t
//! may be rescaled — W's column by s_t, H's row by 1/s_t — for free. Left
//! alone, the solvers drift into absurd scales (a revived component of HALS
//! at 1e-17 in W and 1e16 in H), where the coordinate updates lose their
//! precision and stall. After every iteration the driver rescales each
//! component:
//!
//! * without penalties, to equal norms ‖s·w_t‖ = ‖h_t/s‖;
//! * with an elastic net on both factors, to the s that minimizes the
//!   penalty a_w·s + b_w·s² + a_h/s + b_h/s² (convex in s > 0), so the
//!   objective only falls;
//! * with a penalty on one factor only, not at all (shrinking the
//!   penalized factor would lower the objective without end).

use crate::data::Problem;
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use crate::solver::Factors;

/// The scale s of one component from its sums: (Σw, ‖w‖², Σh, ‖h‖²).
fn scale_of(pen: &Penalties, [sw, qw, sh, qh]: [f64; 4]) -> f64 {
    if !(qw > 0.0 && qh > 0.0) {
        return 1.0;
    }
    let (w_pen, h_pen) = (!pen.w.is_zero(), !pen.h.is_zero());
    if !w_pen && !h_pen {
        return (qh.sqrt() / qw.sqrt()).sqrt();
    }
    if w_pen != h_pen {
        return 1.0;
    }
    let (aw, bw) = (pen.w.l1 * sw, 0.5 * pen.w.l2 * qw);
    let (ah, bh) = (pen.h.l1 * sh, 0.5 * pen.h.l2 * qh);
    // P'(s) = aw + 2bw·s − ah/s² − 2bh/s³ increases in s: bisect on ln s.
    let slope = |s: f64| aw + 2.0 * bw * s - ah / (s * s) - 2.0 * bh / (s * s * s);
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    while slope(lo) > 0.0 && lo > 1e-150 {
        lo /= 4.0;
    }
    while slope(hi) < 0.0 && hi < 1e150 {
        hi *= 4.0;
    }
    for _ in 0..200 {
        let mid = (lo * hi).sqrt();
        if slope(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi / lo < 1.0 + 1e-12 {
            break;
        }
    }
    (lo * hi).sqrt()
}

/// The scale of every component (summed over every piece of the factors).
pub(super) fn scales<T: Scalar, P: Problem + ?Sized>(
    x: &P,
    f: &Factors<T>,
    pen: &Penalties,
) -> Vec<f64> {
    let k = f.wt.nrows;
    let mut sums = vec![0.0; 4 * k];
    let mut add = |m: &crate::Mat<T>, at: usize| {
        for col in m.data.chunks_exact(k.max(1)) {
            for (t, &v) in col.iter().enumerate() {
                let v = v.to_f64();
                sums[4 * t + at] += v;
                sums[4 * t + at + 1] += v * v;
            }
        }
    };
    add(&f.wt, 0);
    add(&f.h, 2);
    x.reduce_sum(&mut sums);
    sums.chunks_exact(4)
        .map(|c| scale_of(pen, [c[0], c[1], c[2], c[3]]))
        .collect()
}

/// W's columns times `s`, H's rows divided by it.
pub(super) fn apply<T: Scalar>(f: &mut Factors<T>, s: &[f64]) {
    let k = s.len();
    let up: Vec<T> = s.iter().map(|&v| T::from_f64(v)).collect();
    let down: Vec<T> = s.iter().map(|&v| T::from_f64(1.0 / v)).collect();
    for col in f.wt.data.chunks_exact_mut(k.max(1)) {
        for (v, &u) in col.iter_mut().zip(&up) {
            *v *= u;
        }
    }
    for col in f.h.data.chunks_exact_mut(k.max(1)) {
        for (v, &d) in col.iter_mut().zip(&down) {
            *v *= d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regularization::Penalty;

    #[test]
    fn scales_balance_norms_or_minimize_the_penalty() {
        // No penalty: equal norms.
        let s = scale_of(&Penalties::default(), [0.0, 4.0, 0.0, 64.0]);
        assert!((2.0 * s - 8.0 / s).abs() < 1e-12);
        // Both penalized: the minimizer of the penalty along the scaling.
        let pen = Penalties {
            w: Penalty { l1: 0.3, l2: 0.2 },
            h: Penalty { l1: 0.1, l2: 0.05 },
        };
        let sums = [3.0, 2.0, 40.0, 300.0];
        let s = scale_of(&pen, sums);
        let p = |s: f64| {
            0.3 * sums[0] * s
                + 0.1 * sums[1] * s * s
                + 0.1 * sums[2] / s
                + 0.025 * sums[3] / (s * s)
        };
        for t in [0.9, 0.99, 1.01, 1.1] {
            assert!(p(s) <= p(s * t), "{} vs {} at {t}", p(s), p(s * t));
        }
        // One factor penalized: left alone.
        let one = Penalties {
            w: Penalty { l1: 0.3, l2: 0.0 },
            h: Penalty::default(),
        };
        assert_eq!(scale_of(&one, sums), 1.0);
        // Empty components are left alone.
        assert_eq!(scale_of(&Penalties::default(), [0.0, 0.0, 1.0, 1.0]), 1.0);
    }
}
