//! Alternating NNLS by projected gradient (Lin, "Projected gradient methods
//! for nonnegative matrix factorization", Neural Computation 2007; NMF.jl's
//! `ALSPGrad`). Each half-step solves min ½ tr(RᵀGR) − tr(CᵀR) + l1·ΣR +
//! ½ l2‖R‖², R ≥ 0, by projected gradient steps R ← P[R − α∇] whose α is
//! found by Lin's "improved" Armijo search (grow α while the sufficient
//! decrease (1 − σ)⟨∇, D⟩ + ½⟨D, GD⟩ ≤ 0 holds, shrink it until it holds;
//! σ = 0.01, β = 0.1), until the projected gradient's norm is below the
//! side's tolerance. The tolerances start at 0.001 times the side's first
//! projected gradient norm and shrink tenfold whenever a subproblem is
//! solved without a step (Lin's rule).

use super::sweep::sweep_inputs;
use super::{Factors, GramCache, Solver, StepInfo, Want};
use crate::data::{sum_all, Data, LineGrams, Side};
use crate::linalg::{axpy, det_sum, small_buffer, COL_CHUNK};
use crate::matrix::Mat;
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use rayon::prelude::*;

const SIGMA: f64 = 0.01;
const BETA: f64 = 0.1;
/// Lin's caps: projected-gradient iterations per subproblem, α searches per
/// iteration.
const MAX_SUB_ITERS: usize = 1000;
const MAX_SEARCH: usize = 20;
/// Lin's initial tolerance, relative to the first projected gradient.
const INITIAL_TOL: f64 = 1e-3;

pub(crate) struct ProjectedGradient<T> {
    pen: Penalties,
    grams: GramCache<T>,
    /// Per side (W, H): the subproblem tolerance, once known.
    tol: [Option<f64>; 2],
}

impl<T: Scalar> ProjectedGradient<T> {
    pub(crate) fn new(pen: Penalties) -> Self {
        ProjectedGradient {
            pen,
            grams: GramCache::new(),
            tol: [None, None],
        }
    }
}

/// The subproblem's data: C, the Grams, the penalties.
struct Sub<'a, T> {
    c: &'a Mat<T>,
    grams: &'a LineGrams<'a, T>,
    l1: T,
    l2: T,
}

impl<T: Scalar> Sub<'_, T> {
    /// ∇ = G_j r_j + l2 r_j − c_j + l1 for every column.
    fn gradient(&self, r: &Mat<T>, out: &mut Mat<T>) {
        let k = r.nrows;
        out.data
            .par_chunks_mut(k * COL_CHUNK)
            .enumerate()
            .for_each(|(chunk, cols)| {
                for (jj, o) in cols.chunks_exact_mut(k).enumerate() {
                    let j = chunk * COL_CHUNK + jj;
                    let rj = r.col(j);
                    self.grams.apply(j, rj, o);
                    axpy(self.l2, rj, o);
                    for (t, v) in o.iter_mut().enumerate() {
                        *v += self.l1 - self.c.get(t, j);
                    }
                }
            });
    }

    /// Σ_j d_jᵀ (G_j + l2 I) d_j, summed in a fixed order.
    fn quadratic(&self, d: &Mat<T>) -> f64 {
        let k = d.nrows;
        let l2 = self.l2.to_f64();
        det_sum(d.ncols, |j| {
            small_buffer(k, |out| {
                let dj = d.col(j);
                self.grams.apply(j, dj, out);
                dj.iter()
                    .zip(out.iter())
                    .map(|(&a, &b)| a.to_f64() * (b.to_f64() + l2 * a.to_f64()))
                    .sum::<f64>()
            })
        })
    }
}

/// ‖projected gradient‖² (entries where the gradient is negative or R > 0).
fn projected_sq<T: Scalar>(r: &Mat<T>, grad: &Mat<T>) -> f64 {
    det_sum(r.ncols, |j| {
        r.col(j)
            .iter()
            .zip(grad.col(j))
            .filter(|(&v, &g)| g < T::ZERO || v > T::ZERO)
            .map(|(_, &g)| g.to_f64() * g.to_f64())
            .sum()
    })
}

/// One Lin subproblem on R; returns (projected-gradient steps taken,
/// projected gradient norm at the start).
fn solve<T: Scalar, D: Data<T>>(
    x: &D,
    sub: &Sub<'_, T>,
    r: &mut Mat<T>,
    tol: Option<f64>,
) -> (usize, f64) {
    let mut grad = Mat::zeros(r.nrows, r.ncols);
    let mut alpha = 1.0f64;
    let mut first = None;
    let mut steps = 0;
    for _ in 0..MAX_SUB_ITERS {
        sub.gradient(r, &mut grad);
        let pg = sum_all(x, projected_sq(r, &grad)).sqrt();
        let start = *first.get_or_insert(pg);
        let tol = tol.unwrap_or(INITIAL_TOL * start);
        if pg <= tol || pg == 0.0 {
            break;
        }
        let mut prev = r.clone();
        let mut decrease = None;
        let mut accepted = false;
        for _ in 0..MAX_SEARCH {
            let a = T::from_f64(alpha);
            let mut next = r.clone();
            for (v, &g) in next.data.iter_mut().zip(&grad.data) {
                *v = (*v - a * g).max(T::ZERO);
            }
            let mut d = next.clone();
            for (dv, &rv) in d.data.iter_mut().zip(&r.data) {
                *dv -= rv;
            }
            let gd = sum_all(
                x,
                det_sum(d.ncols, |j| {
                    d.col(j)
                        .iter()
                        .zip(grad.col(j))
                        .map(|(&a, &b)| a.to_f64() * b.to_f64())
                        .sum()
                }),
            );
            let dqd = sum_all(x, sub.quadratic(&d));
            let sufficient = (1.0 - SIGMA) * gd + 0.5 * dqd < 0.0;
            let shrink = *decrease.get_or_insert(!sufficient);
            if shrink {
                if sufficient {
                    *r = next;
                    accepted = true;
                    break;
                }
                alpha *= BETA;
            } else {
                if !sufficient || prev.data == next.data {
                    *r = prev.clone();
                    accepted = true;
                    break;
                }
                alpha /= BETA;
                prev = next;
            }
        }
        if !accepted {
            // The search ran out: keep the last point that decreased.
            if decrease == Some(false) {
                *r = prev;
            } else {
                break;
            }
        }
        steps += 1;
    }
    (steps, first.unwrap_or(0.0))
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for ProjectedGradient<T> {
    fn forget(&mut self) {
        self.grams = GramCache::new();
    }

    fn rescaled(&mut self, s: &[f64]) {
        self.grams.rescale(s);
    }

    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want: Want) -> StepInfo {
        let (l, r) = f.split_mut(side);
        let s = sweep_inputs(x, side, l, r.ncols, &mut self.grams, self.pen.side(side));
        let sub = Sub {
            c: &s.c,
            grams: &s.grams,
            l1: s.l1,
            l2: s.l2,
        };
        let slot = match side {
            Side::W => 0,
            Side::H => 1,
        };
        let (steps, pg0) = solve(x, &sub, r, self.tol[slot]);
        let tol = self.tol[slot].get_or_insert(INITIAL_TOL * pg0);
        if steps == 0 {
            // Lin: solved without a step, so ask more of the next one.
            *tol *= 0.1;
        }
        StepInfo {
            violation: Some(pg0),
            divergence: s.finish(x, &mut self.grams, side, r, want.after),
            divergence_before: None,
            ..Default::default()
        }
    }
}
