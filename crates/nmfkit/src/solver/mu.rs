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
use crate::matrix::{Mat, MatRef};
use crate::regularization::Penalties;
use crate::scalar::{Scalar, EPS32, EPS64};
use faer::Par;
use rayon::prelude::*;

pub(crate) struct MultiplicativeUpdate<T> {
    beta: f64,
    pen: Penalties,
    grams: GramCache<T>,
}

/// Columns per task of the fused Frobenius denominator and update: a
/// k×256 piece of the denominator stays in the core's cache.
const FUSED_COLUMNS: usize = 256;

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
            let (k, cols) = (f.wt.nrows, f.get(side).ncols);
            let mut num = self.grams.cross_buffer(side, k, cols);
            let (l, r) = f.split_mut(side);
            x.cross(side, l, &mut num, Par::rayon(0));
            let full = self.grams.of_fixed(x, side, l);
            let g = LineGrams::new(full, x.lines(side), l);
            self.update_fused(side, r, &num, &g);
            let divergence =
                frobenius_after_step(x, &mut self.grams, side, &num, &g, r, want.after);
            self.grams.keep_cross(side, num);
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
            return self.frobenius_terms(x, f, side);
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

    /// β = 2: numerator L(M∘X) and denominator G_j r_j for every line.
    fn frobenius_terms<D: Data<T>>(
        &mut self,
        x: &D,
        f: &Factors<T>,
        side: Side,
    ) -> (Mat<T>, Mat<T>) {
        let k = f.wt.nrows;
        let (l, r) = (f.get(side.other()), f.get(side));
        let cols = r.ncols;
        let mut num = Mat::zeros(k, cols);
        let mut den = Mat::zeros(k, cols);
        x.cross(side, l, &mut num, Par::rayon(0));
        let full = self.grams.of_fixed(x, side, l);
        let g = LineGrams::new(full, x.lines(side), l);
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
        (num, den)
    }
}

impl<T: Scalar> MultiplicativeUpdate<T> {
    /// R ← R ∘ (num / (den + l1 + l2·R))^γ, with scikit-learn's guards.
    fn update(&self, side: Side, r: &mut Mat<T>, num: &Mat<T>, den: &Mat<T>) {
        let k = r.nrows;
        let chunk = k * FUSED_COLUMNS;
        r.data
            .par_chunks_mut(chunk)
            .zip(den.data.par_chunks(chunk))
            .zip(num.data.par_chunks(chunk))
            .for_each(|((rc, dc), nc)| self.update_lines(side, rc, dc, nc));
    }

    /// As [`Self::update`] for β = 2 with the denominator G_j r_j formed
    /// piece by piece as the update goes, never as a whole k×lines matrix.
    fn update_fused(&self, side: Side, r: &mut Mat<T>, num: &Mat<T>, g: &LineGrams<'_, T>) {
        let k = r.nrows;
        let chunk = k * FUSED_COLUMNS;
        r.data
            .par_chunks_mut(chunk)
            .zip(num.data.par_chunks(chunk))
            .enumerate()
            .for_each(|(c, (rc, nc))| {
                let cols = rc.len() / k;
                let mut den = vec![T::ZERO; rc.len()];
                match g.shared() {
                    Some(full) => {
                        let rr = MatRef {
                            nrows: k,
                            ncols: cols,
                            data: rc,
                        };
                        gemm(
                            &mut den,
                            k,
                            cols,
                            full.as_ref(),
                            false,
                            rr,
                            false,
                            false,
                            Par::Seq,
                        );
                    }
                    None => {
                        for (q, (d, rj)) in den.chunks_mut(k).zip(rc.chunks(k)).enumerate() {
                            g.apply(c * FUSED_COLUMNS + q, rj, d);
                        }
                    }
                }
                self.update_lines(side, rc, &den, nc);
            });
    }

    /// The update on a run of whole lines, compiled for AVX2 when the CPU
    /// has it: the division per entry dominates, and runs four lanes wide
    /// instead of the baseline's two.
    fn update_lines(&self, side: Side, r: &mut [T], den: &[T], num: &[T]) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<T: Scalar>(
                mu: &MultiplicativeUpdate<T>,
                side: Side,
                r: &mut [T],
                den: &[T],
                num: &[T],
            ) {
                mu.update_lines_body(side, r, den, num)
            }
            if crate::linalg::simd_wide() {
                // SAFETY: the features were just detected.
                return unsafe { avx2(self, side, r, den, num) };
            }
        }
        self.update_lines_body(side, r, den, num)
    }

    /// [`Self::update_lines`]' loop, written without branches so that it
    /// vectorizes.
    #[inline(always)]
    fn update_lines_body(&self, side: Side, r: &mut [T], den: &[T], num: &[T]) {
        let beta = self.beta;
        let eps = T::from_f64(EPS32);
        let pen = self.pen.side(side);
        let (l1, l2) = (T::from_f64(pen.l1), T::from_f64(pen.l2));
        let gamma = mm_exponent(beta);
        // scikit-learn clips tiny entries to zero for stability: W when β < 1,
        // H when β ≤ 1. Entries decaying geometrically would become
        // subnormal, and subnormal arithmetic is ~100× slower: flush them.
        let clip = match side {
            Side::W => beta < 1.0,
            Side::H => beta <= 1.0,
        };
        let floor = if clip {
            T::from_f64(EPS64)
        } else {
            T::MIN_POSITIVE
        };
        let step = |rv: T, d: T| {
            let d = d + l1 + l2 * rv;
            if d == T::ZERO {
                eps
            } else {
                d
            }
        };
        let keep = |v: T| if v < floor { T::ZERO } else { v };
        let items = r.iter_mut().zip(den).zip(num);
        if gamma == 1.0 {
            for ((rv, &d), &n) in items {
                *rv = keep(*rv * (n / step(*rv, d)));
            }
        } else {
            let gamma = T::from_f64(gamma);
            for ((rv, &d), &n) in items {
                *rv = keep(*rv * (n / step(*rv, d)).powf(gamma));
            }
        }
    }
}
