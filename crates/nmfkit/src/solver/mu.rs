//! Multiplicative updates for the β-divergence: Lee & Seung for β = 2 and
//! β = 1, and the maximization–minimization exponent γ(β) of Févotte & Idier
//! (2011) otherwise, which makes every half-step non-increasing.
//!
//! Each half-step computes everything it needs (for KL: WH and X/WH) from the
//! factors as they are now, so the second half-step of an iteration always
//! sees the first one's result — the classic bug of reusing the WH of the
//! previous half-step makes the KL divergence oscillate. The arithmetic
//! follows scikit-learn's `_multiplicative_update_w/h` step for step.

use super::{frobenius_after_step, Factors, GramCache, Solver, StepInfo};
use crate::data::dense::tiled_cross;
use crate::data::{row_sums_of, Data, Side};
use crate::linalg::gemm;
use crate::matrix::Mat;
use crate::regularization::Penalties;
use crate::scalar::{Scalar, EPS32, EPS64};
use faer::Par;
use rayon::prelude::*;

pub(crate) struct MultiplicativeUpdate<T> {
    beta: f64,
    pen: Penalties,
    grams: GramCache<T>,
}

impl<T: Scalar> MultiplicativeUpdate<T> {
    pub(crate) fn new(beta: f64, pen: Penalties) -> Self {
        MultiplicativeUpdate {
            beta,
            pen,
            grams: GramCache::new(),
        }
    }

    /// The MM exponent γ(β) (1 for β in [1, 2]).
    fn gamma(&self) -> f64 {
        let b = self.beta;
        if b < 1.0 {
            1.0 / (2.0 - b)
        } else if b > 2.0 {
            1.0 / (b - 1.0)
        } else {
            1.0
        }
    }
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for MultiplicativeUpdate<T> {
    fn forget(&mut self) {
        self.grams = GramCache::new();
    }

    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want_loss: bool) -> StepInfo {
        let beta = self.beta;
        let eps = T::from_f64(EPS32);
        let k = f.wt.nrows;
        let cols = f.get(side).ncols;
        let mut num = Mat::zeros(k, cols);
        let mut den = Mat::zeros(k, cols);
        let mut gl = None;
        if beta == 2.0 {
            let (l, r) = (f.get(side.other()), f.get(side));
            x.cross(side, l, &mut num, Par::rayon(0));
            let g = self.grams.of_fixed(x, side, l);
            gemm(
                &mut den.data,
                k,
                cols,
                g.as_ref(),
                false,
                r.as_ref(),
                false,
                false,
                Par::rayon(0),
            );
            gl = Some(g);
        } else {
            let (wt, h) = (&f.wt, &f.h);
            if beta == 1.0 {
                x.cross_weighted(side, wt, h, |xv, wh| xv / wh.max(eps), &mut num);
                let sums = row_sums_of(x, f.get(side.other()));
                den.data
                    .chunks_exact_mut(k)
                    .for_each(|d| d.copy_from_slice(&sums));
            } else {
                let e2 = T::from_f64(beta - 2.0);
                if beta == 0.0 {
                    x.cross_weighted(
                        side,
                        wt,
                        h,
                        |xv, wh| {
                            let inv = T::ONE / wh.max(eps);
                            inv * inv * xv
                        },
                        &mut num,
                    );
                } else {
                    x.cross_weighted(side, wt, h, |xv, wh| wh.max(eps).powf(e2) * xv, &mut num);
                }
                // Σ over all entries of (WH)^(β−1): a dense term even for sparse X.
                let e1 = T::from_f64(beta - 1.0);
                let floor_small = beta < 1.0;
                tiled_cross(
                    None,
                    side,
                    wt,
                    h,
                    |_, wh| {
                        let wh = if floor_small { wh.max(eps) } else { wh };
                        wh.powf(e1)
                    },
                    &mut den,
                );
            }
        }

        let pen = self.pen.side(side);
        let (l1, l2) = (T::from_f64(pen.l1), T::from_f64(pen.l2));
        let gamma = T::from_f64(self.gamma());
        let apply_gamma = self.gamma() != 1.0;
        // scikit-learn clips tiny entries to zero for stability: W when β < 1,
        // H when β ≤ 1.
        let clip = match side {
            Side::W => beta < 1.0,
            Side::H => beta <= 1.0,
        };
        let tiny = T::from_f64(EPS64);
        let r = match side {
            Side::W => &mut f.wt,
            Side::H => &mut f.h,
        };
        r.data
            .par_chunks_mut(k)
            .zip(den.data.par_chunks(k))
            .zip(num.data.par_chunks(k))
            .for_each(|((rj, dj), nj)| {
                for t in 0..k {
                    let mut d = dj[t];
                    if pen.l1 > 0.0 {
                        d += l1;
                    }
                    if pen.l2 > 0.0 {
                        d += l2 * rj[t];
                    }
                    if d == T::ZERO {
                        d = eps;
                    }
                    let mut delta = nj[t] / d;
                    if apply_gamma {
                        delta = delta.powf(gamma);
                    }
                    let mut v = rj[t] * delta;
                    // Entries decaying geometrically would become subnormal,
                    // and subnormal arithmetic is ~100× slower: flush them.
                    if (clip && v < tiny) || v < T::MIN_POSITIVE {
                        v = T::ZERO;
                    }
                    rj[t] = v;
                }
            });

        let data_loss = match gl {
            Some(gl) => {
                let r = f.get(side);
                frobenius_after_step(x, &mut self.grams, side, &num, &gl, r, want_loss)
            }
            None => None,
        };
        StepInfo {
            violation: None,
            data_loss,
        }
    }
}
