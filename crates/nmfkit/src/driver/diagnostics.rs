//! Convergence diagnostics per evaluation, on request: the θ coefficients
//! of the analysis of multiplicative updates, θ_H = ½‖W(H_k − H_{k+1})‖² /
//! ½‖H_k − H_{k+1}‖² with W the factor H was updated against (θ_W
//! likewise with H), the relative change of each factor, and the KKT
//! residual — the norm of the projected gradient of the objective, relative
//! to the start's. θ is a Rayleigh quotient of the fixed factor's Gram
//! along the step: it says how the step compares with the curvature the
//! updates' step sizes assume.
//!
//! The factors before and after an iteration are compared; with
//! extrapolation the factor a half-step was updated against is the
//! iteration's, not the extrapolated point's.

use crate::data::{gram_of, sum_all, Data, Problem, Side};
use crate::linalg::inner;
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use crate::solver::Factors;
use crate::Mat;
use faer::Par;

/// One evaluation's diagnostics (None where a step did not move).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Diagnostics {
    pub theta_w: Option<f64>,
    pub theta_h: Option<f64>,
    /// ‖W_{k+1} − W_k‖ / ‖W_k‖ over the last iteration.
    pub change_w: Option<f64>,
    pub change_h: Option<f64>,
    /// ‖projected gradient‖ / the start's.
    pub kkt: Option<f64>,
}

/// The previous iterate and the start's gradient norm.
pub(crate) struct Tracker<T> {
    prev: Factors<T>,
    kkt0: Option<f64>,
}

fn diff<T: Scalar>(a: &Mat<T>, b: &Mat<T>) -> Mat<T> {
    let mut d = b.clone();
    d.data.iter_mut().zip(&a.data).for_each(|(v, &o)| *v -= o);
    d
}

fn sq<T: Scalar, P: Problem + ?Sized>(x: &P, m: &Mat<T>) -> f64 {
    sum_all(x, m.data.iter().map(|v| v.to_f64() * v.to_f64()).sum())
}

/// ½‖Lᵀ D‖² / ½‖D‖² for a step D (k × cols) against the fixed factor L.
fn theta<T: Scalar, P: Problem + ?Sized>(x: &P, d: &Mat<T>, l: &Mat<T>) -> Option<f64> {
    let dd = sq(x, d);
    (dd > 0.0).then(|| inner(&gram_of(x, d).data, &gram_of(x, l).data) / dd)
}

fn change<T: Scalar, P: Problem + ?Sized>(x: &P, d: &Mat<T>, old: &Mat<T>) -> Option<f64> {
    let base = sq(x, old);
    (base > 0.0).then(|| (sq(x, d) / base).sqrt())
}

impl<T: Scalar> Tracker<T> {
    pub(crate) fn new(f: &Factors<T>, kkt0: Option<f64>) -> Self {
        Tracker {
            prev: f.clone(),
            kkt0,
        }
    }

    /// The diagnostics of the iteration from the previous iterate to `f`,
    /// whose half-steps ran in the order `sides`; `kkt` is f's gradient
    /// norm. Makes `f` the previous iterate.
    pub(crate) fn step<P: Problem + ?Sized>(
        &mut self,
        x: &P,
        f: &Factors<T>,
        sides: &[Side],
        kkt: Option<f64>,
    ) -> Diagnostics {
        let d = self.measure(x, f, sides, kkt);
        self.prev.clone_from(f);
        d
    }

    /// Only remembers `f` as the previous iterate (an iteration without an
    /// evaluation).
    pub(crate) fn skip(&mut self, f: &Factors<T>) {
        self.prev.clone_from(f);
    }

    fn measure<P: Problem + ?Sized>(
        &self,
        x: &P,
        f: &Factors<T>,
        sides: &[Side],
        kkt: Option<f64>,
    ) -> Diagnostics {
        let (dw, dh) = (diff(&self.prev.wt, &f.wt), diff(&self.prev.h, &f.h));
        // W was updated against H as it was when W's turn came.
        let w_first = sides.first() == Some(&Side::W);
        let h_used = if w_first { &self.prev.h } else { &f.h };
        let w_used = if w_first { &f.wt } else { &self.prev.wt };
        Diagnostics {
            theta_w: theta(x, &dw, h_used),
            theta_h: theta(x, &dh, w_used),
            change_w: change(x, &dw, &self.prev.wt),
            change_h: change(x, &dh, &self.prev.h),
            kkt: match (kkt, self.kkt0) {
                (Some(g), Some(g0)) if g0 > 0.0 => Some(g / g0),
                _ => None,
            },
        }
    }
}

/// ‖P[∇]‖ of D_β(X ‖ WH) + penalties over both factors: the gradient
/// where an entry is positive or the gradient negative (the KKT residual
/// of non-negativity). ∇_H = Wᵀ(M∘(WH)^{β−1}) − Wᵀ(M∘X∘(WH)^{β−2}) (plain
/// β = 2: WᵀW·H − WᵀX from Grams) plus l1 + l2·H, and ∇_W alike.
pub(crate) fn projected_gradient<T: Scalar, D: Data<T>>(
    x: &D,
    f: &Factors<T>,
    beta: f64,
    pen: &Penalties,
) -> f64 {
    let mut total = 0.0;
    for side in [Side::W, Side::H] {
        let (l, r) = match side {
            Side::W => (&f.h, &f.wt),
            Side::H => (&f.wt, &f.h),
        };
        let k = r.nrows;
        let mut grad = Mat::zeros(k, r.ncols);
        if beta == 2.0 && x.lines(side).is_none() {
            // G_L·R − cross.
            let g = gram_of(x, l);
            let mut c = Mat::zeros(k, r.ncols);
            x.cross(side, l, &mut c, Par::rayon(0));
            for j in 0..r.ncols {
                for t in 0..k {
                    let gr: T = (0..k)
                        .map(|q| g.get(t, q) * r.get(q, j))
                        .fold(T::ZERO, |a, b| a + b);
                    grad.set(t, j, gr - c.get(t, j));
                }
            }
        } else {
            let tiny = T::EPSILON;
            let b = T::from_f64(beta);
            let mut pos = Mat::zeros(k, r.ncols);
            x.cross_all(
                side,
                &f.wt,
                &f.h,
                |y| y.max(tiny).powf(b - T::ONE),
                &mut pos,
            );
            let mut neg = Mat::zeros(k, r.ncols);
            x.cross_weighted(
                side,
                &f.wt,
                &f.h,
                |v, y| v * y.max(tiny).powf(b - T::from_f64(2.0)),
                &mut neg,
            );
            grad.data
                .iter_mut()
                .zip(pos.data.iter().zip(&neg.data))
                .for_each(|(g, (&p, &n))| *g = p - n);
        }
        let p = pen.side(side);
        let (l1, l2) = (p.l1, p.l2);
        let local: f64 = grad
            .data
            .iter()
            .zip(&r.data)
            .map(|(&g, &v)| {
                let g = g.to_f64() + l1 + l2 * v.to_f64();
                if v > T::ZERO || g < 0.0 {
                    g * g
                } else {
                    0.0
                }
            })
            .sum();
        total += sum_all(x, local);
    }
    total.sqrt()
}
