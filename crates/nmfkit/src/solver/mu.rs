//! Multiplicative updates for the β-divergence: Lee & Seung for β = 2 and
//! β = 1, and the maximization–minimization exponent γ(β) of Févotte & Idier
//! (2011) otherwise, which makes every half-step non-increasing.
//!
//! Each half-step computes everything it needs (for KL: WH and X/WH) from the
//! factors as they are now, so the second half-step of an iteration always
//! sees the first one's result — the classic bug of reusing the WH of the
//! previous half-step makes the KL divergence oscillate. The arithmetic
//! follows scikit-learn's `_multiplicative_update_w/h` step for step.

use super::{frobenius_after_step, Factors, GramCache, Solver, StepInfo, Want};
use crate::data::{row_sums_of, Data, LineGrams, LineSums, Side};
use crate::linalg::gemm;
use crate::loss::mm_exponent;
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
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for MultiplicativeUpdate<T> {
    fn forget(&mut self) {
        self.grams = GramCache::new();
    }

    fn rescaled(&mut self, s: &[f64]) {
        self.grams.rescale(s);
    }

    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want: Want) -> StepInfo {
        if self.beta == 2.0 {
            let (num, den, full) = self.frobenius_terms(x, f, side);
            let (l, r) = f.split_mut(side);
            let g = LineGrams::new(full, x.lines(side), l);
            self.update(side, r, &num, &den);
            let divergence =
                frobenius_after_step(x, &mut self.grams, side, &num, &g, r, want.after);
            return StepInfo {
                violation: None,
                divergence,
                divergence_before: None,
                ..Default::default()
            };
        }
        let (num, den) = self.terms(x, f, side);
        self.update(side, f.get_mut(side), &num, &den);
        StepInfo::default()
    }
}

impl<T: Scalar> MultiplicativeUpdate<T> {
    /// The update's numerator and denominator for `side` before the
    /// penalties (R ← R ∘ (num / den)^γ): what the online update of
    /// minibatch NMF accumulates.
    pub(crate) fn terms<D: Data<T>>(
        &mut self,
        x: &D,
        f: &Factors<T>,
        side: Side,
    ) -> (Mat<T>, Mat<T>) {
        let beta = self.beta;
        if beta == 2.0 {
            let (num, den, _) = self.frobenius_terms(x, f, side);
            return (num, den);
        }
        let eps = T::from_f64(EPS32);
        let k = f.wt.nrows;
        let cols = f.get(side).ncols;
        let mut num = Mat::zeros(k, cols);
        let mut den = Mat::zeros(k, cols);
        let (wt, h) = (&f.wt, &f.h);
        if beta == 1.0 {
            x.cross_weighted(side, wt, h, |xv, wh| xv / wh.max(eps), &mut num);
            let l = f.get(side.other());
            let sums = LineSums::new(row_sums_of(x, l), x.lines(side), l);
            den.data
                .par_chunks_mut(k)
                .enumerate()
                .for_each(|(j, d)| sums.of(j, d));
        } else {
            let e2 = T::from_f64(beta - 2.0);
            if beta == 0.0 {
                let g = |xv: T, wh: T| {
                    let inv = T::ONE / wh.max(eps);
                    inv * inv * xv
                };
                x.cross_weighted(side, wt, h, g, &mut num);
            } else {
                x.cross_weighted(side, wt, h, |xv, wh| wh.max(eps).powf(e2) * xv, &mut num);
            }
            // Σ over every observed entry of M∘(WH)^(β−1): a dense term
            // even for sparse X.
            let e1 = T::from_f64(beta - 1.0);
            let floor_small = beta < 1.0;
            let psi = |wh: T| {
                let wh = if floor_small { wh.max(eps) } else { wh };
                wh.powf(e1)
            };
            x.cross_all(side, wt, h, psi, &mut den);
        }
        (num, den)
    }

    /// β = 2: numerator L(M∘X), denominator G_j r_j for every line, and the
    /// fixed factor's Gram.
    fn frobenius_terms<D: Data<T>>(
        &mut self,
        x: &D,
        f: &Factors<T>,
        side: Side,
    ) -> (Mat<T>, Mat<T>, Mat<T>) {
        let k = f.wt.nrows;
        let (l, r) = (f.get(side.other()), f.get(side));
        let cols = r.ncols;
        let mut num = Mat::zeros(k, cols);
        let mut den = Mat::zeros(k, cols);
        x.cross(side, l, &mut num, Par::rayon(0));
        let full = self.grams.of_fixed(x, side, l);
        let g = LineGrams::new(full.clone(), x.lines(side), l);
        match g.shared() {
            Some(full) => {
                let (gr, rr) = (full.as_ref(), r.as_ref());
                gemm(
                    &mut den.data,
                    k,
                    cols,
                    gr,
                    false,
                    rr,
                    false,
                    false,
                    Par::rayon(0),
                );
            }
            None => den
                .data
                .par_chunks_mut(k)
                .zip(r.data.par_chunks(k))
                .enumerate()
                .for_each(|(j, (d, rj))| g.apply(j, rj, d)),
        }
        (num, den, full)
    }
}

impl<T: Scalar> MultiplicativeUpdate<T> {
    /// R ← R ∘ (num / (den + l1 + l2·R))^γ, with scikit-learn's guards.
    fn update(&self, side: Side, r: &mut Mat<T>, num: &Mat<T>, den: &Mat<T>) {
        let beta = self.beta;
        let k = r.nrows;
        let eps = T::from_f64(EPS32);
        let pen = self.pen.side(side);
        let (l1, l2) = (T::from_f64(pen.l1), T::from_f64(pen.l2));
        let gamma = T::from_f64(mm_exponent(beta));
        let apply_gamma = mm_exponent(beta) != 1.0;
        // scikit-learn clips tiny entries to zero for stability: W when β < 1,
        // H when β ≤ 1.
        let clip = match side {
            Side::W => beta < 1.0,
            Side::H => beta <= 1.0,
        };
        let tiny = T::from_f64(EPS64);
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
    }
}
