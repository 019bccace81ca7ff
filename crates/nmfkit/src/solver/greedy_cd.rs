//! Greedy coordinate descent (Hsieh & Dhillon, "Fast coordinate descent
//! methods with variable selection for non-negative matrix factorization",
//! KDD 2011; NMF.jl's default `GreedyCD`). For each column r of the updated
//! factor — an independent problem min ½ rᵀGr − cᵀr + l1·Σr + ½ l2‖r‖²,
//! r ≥ 0 — keep the gradient g = Gr − c + l1 up to date and update, again
//! and again, the coordinate whose exact one-variable step decreases the
//! objective most: the step s_t = max(r_t − g_t/G_tt, 0) − r_t decreases it
//! by D_t = −g_t s_t − ½ G_tt s_t². A column stops when the best D falls
//! below `eps` times its first best D (the paper's rule), or after
//! `max_updates_per_k`·k updates.

use super::sweep::{sweep_inputs, with_l2};
use super::{Factors, GramCache, Solver, StepInfo, Want};
use crate::data::{sum_all, Data, Side};
use crate::linalg::{axpy, COL_CHUNK};
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use rayon::prelude::*;

/// The paper's inner tolerance: stop a column once its best improvement is
/// below this share of its first.
pub(crate) const GREEDY_EPS: f64 = 1e-3;
/// At most this many updates per coordinate and column in one half-step.
const MAX_UPDATES_PER_K: usize = 10;

pub(crate) struct GreedyCd<T> {
    pen: Penalties,
    grams: GramCache<T>,
}

impl<T: Scalar> GreedyCd<T> {
    pub(crate) fn new(pen: Penalties) -> Self {
        GreedyCd {
            pen,
            grams: GramCache::new(),
        }
    }
}

/// The greedy updates of one column: `g` (k×k, L2 on the diagonal), `cj`
/// the column's cross product; returns |projected gradient| summed before
/// the first update (the violation, as the sweeps report it).
fn greedy_column<T: Scalar>(cj: &[T], g: &[T], l1: T, rj: &mut [T], grad: &mut [T]) -> f64 {
    let k = rj.len();
    for (t, gr) in grad.iter_mut().enumerate() {
        *gr = l1 - cj[t];
    }
    for (r_val, gcol) in rj.iter().zip(g.chunks_exact(k)) {
        if *r_val != T::ZERO {
            axpy(*r_val, gcol, grad);
        }
    }
    let violation = rj
        .iter()
        .zip(grad.iter())
        .map(|(&r, &gr)| {
            if r == T::ZERO { gr.min(T::ZERO) } else { gr }
                .abs()
                .to_f64()
        })
        .sum();
    let mut first = None;
    for _ in 0..MAX_UPDATES_PER_K * k {
        // The coordinate whose exact step decreases the objective most.
        let (mut best, mut best_d, mut best_s) = (usize::MAX, 0.0f64, T::ZERO);
        for t in 0..k {
            let hess = g[t * k + t];
            if hess <= T::ZERO {
                continue;
            }
            let s = (rj[t] - grad[t] / hess).max(T::ZERO) - rj[t];
            let (sf, gf, hf) = (s.to_f64(), grad[t].to_f64(), hess.to_f64());
            let d = -gf * sf - 0.5 * hf * sf * sf;
            if d > best_d {
                (best, best_d, best_s) = (t, d, s);
            }
        }
        if best == usize::MAX {
            break;
        }
        let f0 = *first.get_or_insert(best_d);
        if best_d <= GREEDY_EPS * f0 {
            break;
        }
        rj[best] += best_s;
        if rj[best] < T::ZERO {
            rj[best] = T::ZERO;
        }
        axpy(best_s, &g[best * k..(best + 1) * k], grad);
    }
    violation
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for GreedyCd<T> {
    fn forget(&mut self) {
        self.grams = GramCache::new();
    }

    fn rescaled(&mut self, s: &[f64]) {
        self.grams.rescale(s);
    }

    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want: Want) -> StepInfo {
        let (l, r) = f.split_mut(side);
        let k = r.nrows;
        let s = sweep_inputs(x, side, l, r.ncols, &mut self.grams, self.pen.side(side));
        let shared = s.grams.shared().map(|g| with_l2(g, s.l2));
        let (c, grams, l1, l2) = (&s.c, &s.grams, s.l1, s.l2);
        let parts: Vec<f64> = r
            .data
            .par_chunks_mut(k * COL_CHUNK)
            .enumerate()
            .map_init(
                || (vec![T::ZERO; k], vec![T::ZERO; k * k]),
                |(grad, buf), (chunk, cols)| {
                    let mut v = 0.0;
                    for (jj, rj) in cols.chunks_exact_mut(k).enumerate() {
                        let j = chunk * COL_CHUNK + jj;
                        let g: &[T] = match &shared {
                            Some(g) => &g.data,
                            None => {
                                grams.form(j, l2, buf);
                                buf
                            }
                        };
                        v += greedy_column(c.col(j), g, l1, rj, grad);
                    }
                    v
                },
            )
            .collect();
        // Summed in chunk order: the same bits whatever the thread count.
        let violation = parts.into_iter().sum::<f64>();
        StepInfo {
            violation: Some(sum_all(x, violation)),
            divergence: s.finish(x, &mut self.grams, side, r, want.after),
            divergence_before: None,
            ..Default::default()
        }
    }
}
