//! What makes weighted data different for a solver: every line of the
//! updated factor (a row of W, a column of H) has its own quadratic.
//!
//! With weights M, column j of H solves min ½ hᵀ G_j h − c_jᵀ h where
//! G_j = Σ_i m_ij w_i w_iᵀ. The weights of a line are stored as a base
//! scale and a short list of corrections: G_j = s_j · L Lᵀ + Σ_i a_ji l_i l_iᵀ,
//! so that a line with a few holes (s = 1, a = m − 1 at the holes) and a
//! line with a few observed entries (s = 0, a = m there) both cost in
//! proportion to what is special. Plain data has no [`Lines`]: every line
//! uses L Lᵀ itself, and the solvers take their shared-Gram path.

use super::Side;
use crate::linalg::{axpy, dot};
use crate::matrix::Mat;
use crate::scalar::Scalar;
use rayon::prelude::*;

/// Per line: a base scale and (index, coefficient) corrections, CSR-like.
#[derive(Clone, Debug, PartialEq)]
pub struct Lines<T> {
    scale: Vec<T>,
    ptr: Vec<usize>,
    idx: Vec<u32>,
    coef: Vec<T>,
}

impl<T: Scalar> Lines<T> {
    /// Builds from one (scale, corrections) pair per line.
    pub fn from_lines(lines: impl IntoIterator<Item = (T, Vec<(u32, T)>)>) -> Self {
        let mut out = Lines {
            scale: Vec::new(),
            ptr: vec![0],
            idx: Vec::new(),
            coef: Vec::new(),
        };
        for (s, entries) in lines {
            out.scale.push(s);
            for (i, a) in entries {
                out.idx.push(i);
                out.coef.push(a);
            }
            out.ptr.push(out.idx.len());
        }
        out
    }

    /// The lines of one side of a weight matrix given line by line: each
    /// line's weights as (index, weight) for every entry whose weight
    /// differs from `others` (the weight of all the rest). A line whose
    /// weights are mostly `others` corrects `others` · L Lᵀ; a line with
    /// more such entries than observed ones starts from zero instead.
    pub fn from_weights<'a, I>(len: usize, others: T, lines: I) -> Self
    where
        I: IntoIterator<Item = &'a [(u32, T)]>,
        T: 'a,
    {
        Self::from_lines(lines.into_iter().map(|entries| {
            let listed_nonzero = entries.iter().filter(|e| e.1 != T::ZERO).count();
            // Entries that weigh `others` are those not listed.
            let unlisted = len - entries.len();
            let observed = listed_nonzero + if others != T::ZERO { unlisted } else { 0 };
            if others != T::ZERO && entries.len() > observed {
                // Mostly missing: sum the observed entries directly.
                let mut direct: Vec<(u32, T)> = Vec::with_capacity(observed);
                let mut listed = entries.iter().peekable();
                for i in 0..len as u32 {
                    match listed.peek() {
                        Some(e) if e.0 == i => {
                            let e = listed.next().expect("peeked");
                            if e.1 != T::ZERO {
                                direct.push(*e);
                            }
                        }
                        _ => direct.push((i, others)),
                    }
                }
                (T::ZERO, direct)
            } else {
                let corr = entries
                    .iter()
                    .filter(|e| e.1 != others)
                    .map(|&(i, w)| (i, w - others))
                    .collect();
                (others, corr)
            }
        }))
    }

    pub fn len(&self) -> usize {
        self.scale.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scale.is_empty()
    }

    /// The base scale of line j and its corrections.
    #[inline]
    pub fn line(&self, j: usize) -> (T, &[u32], &[T]) {
        let r = self.ptr[j]..self.ptr[j + 1];
        (self.scale[j], &self.idx[r.clone()], &self.coef[r])
    }

    /// Corrections in all.
    pub fn corrections(&self) -> usize {
        self.idx.len()
    }

    /// `out_j = Σ_i m_ij ψ((WH)_ij) l_i` for every line j of `side`: the
    /// scaled all-entries product (a dense pass, skipped when every scale
    /// is 0) plus the corrections.
    pub(crate) fn cross_all<P>(
        &self,
        side: Side,
        wt: &Mat<T>,
        h: &Mat<T>,
        psi: &P,
        out: &mut Mat<T>,
    ) where
        P: Fn(T) -> T + Sync,
    {
        let k = out.nrows;
        let any_scale = self.scale.iter().any(|&s| s != T::ZERO);
        if any_scale {
            super::tiles::cross(None, side, wt, h, |_, y| psi(y), out);
        } else {
            out.data.fill(T::ZERO);
        }
        // For side H the lines are columns of X and the fixed factor Wt.
        let (fixed, own) = match side {
            Side::H => (wt, h),
            Side::W => (h, wt),
        };
        out.data.par_chunks_mut(k).enumerate().for_each(|(j, o)| {
            let (scale, idx, coef) = self.line(j);
            if scale == T::ZERO {
                o.fill(T::ZERO);
            } else if scale != T::ONE {
                o.iter_mut().for_each(|v| *v *= scale);
            }
            let oj = own.col(j);
            for (&i, &a) in idx.iter().zip(coef) {
                let li = fixed.col(i as usize);
                axpy(a * psi(dot(li, oj)), li, o);
            }
        });
    }
}

/// The Grams of one half-step: L Lᵀ, and the lines' corrections if any.
pub struct LineGrams<'a, T> {
    /// L·Lᵀ over all pieces of L.
    pub full: Mat<T>,
    lines: Option<(&'a Lines<T>, &'a Mat<T>)>,
}

impl<'a, T: Scalar> LineGrams<'a, T> {
    /// `l` is the fixed factor (k×len) the lines' indices refer to.
    pub fn new(full: Mat<T>, lines: Option<&'a Lines<T>>, l: &'a Mat<T>) -> Self {
        LineGrams {
            full,
            lines: lines.map(|s| (s, l)),
        }
    }

    /// The Gram every line shares, when there are no corrections.
    pub fn shared(&self) -> Option<&Mat<T>> {
        match self.lines {
            None => Some(&self.full),
            Some(_) => None,
        }
    }

    /// Flops of forming every line's Gram (0 when shared).
    pub fn forming_flops(&self) -> f64 {
        let k = self.full.nrows as f64;
        self.lines.map_or(0.0, |(s, _)| {
            s.len() as f64 * k * k + s.corrections() as f64 * k * (k + 1.0)
        })
    }

    /// G_j (k×k, column-major) into `out`, plus `l2` on the diagonal.
    pub fn form(&self, j: usize, l2: T, out: &mut [T]) {
        let k = self.full.nrows;
        match self.lines {
            None => out.copy_from_slice(&self.full.data),
            Some((s, l)) => {
                let (scale, idx, coef) = s.line(j);
                if scale == T::ZERO {
                    out.fill(T::ZERO);
                } else if scale == T::ONE {
                    out.copy_from_slice(&self.full.data);
                } else {
                    for (o, &g) in out.iter_mut().zip(&self.full.data) {
                        *o = scale * g;
                    }
                }
                // Rank-one updates on the lower triangle, mirrored after.
                for (&i, &a) in idx.iter().zip(coef) {
                    let li = l.col(i as usize);
                    for q in 0..k {
                        let s = a * li[q];
                        for (o, &v) in out[q * k + q..(q + 1) * k].iter_mut().zip(&li[q..]) {
                            *o += s * v;
                        }
                    }
                }
                for q in 0..k {
                    for p in q + 1..k {
                        out[p * k + q] = out[q * k + p];
                    }
                }
            }
        }
        if l2 != T::ZERO {
            for t in 0..k {
                out[t * k + t] += l2;
            }
        }
    }

    /// `out = G_j · r` (no L2 term).
    pub fn apply(&self, j: usize, r: &[T], out: &mut [T]) {
        let k = self.full.nrows;
        let (scale, idx, coef, l) = match self.lines {
            None => (T::ONE, &[][..], &[][..], None),
            Some((s, l)) => {
                let (a, b, c) = s.line(j);
                (a, b, c, Some(l))
            }
        };
        out.fill(T::ZERO);
        if scale != T::ZERO {
            for (q, &rq) in r.iter().enumerate() {
                if rq != T::ZERO {
                    axpy(scale * rq, &self.full.data[q * k..(q + 1) * k], out);
                }
            }
        }
        if let Some(l) = l {
            for (&i, &a) in idx.iter().zip(coef) {
                let li = l.col(i as usize);
                axpy(a * dot(li, r), li, out);
            }
        }
    }

    /// Σ_j r_jᵀ G_j r_j for the updated factor R (k×lines), with `gr` = R Rᵀ
    /// when every line shares the Gram.
    pub fn quadratic(&self, r: &Mat<T>, gr: Option<&Mat<T>>) -> f64 {
        match (self.lines, gr) {
            (None, Some(gr)) => crate::linalg::inner(&self.full.data, &gr.data),
            _ => {
                let k = self.full.nrows;
                crate::linalg::det_sum(r.ncols, |j| {
                    crate::linalg::small_buffer(k, |out| {
                        let rj = r.col(j);
                        self.apply(j, rj, out);
                        crate::linalg::inner(rj, out)
                    })
                })
            }
        }
    }
}

/// Σ_i m_ij l_i for every line j: the multiplicative update's denominator
/// for the KL divergence (L's row sums when every weight is 1).
pub struct LineSums<'a, T> {
    pub full: Vec<T>,
    lines: Option<(&'a Lines<T>, &'a Mat<T>)>,
}

impl<'a, T: Scalar> LineSums<'a, T> {
    pub fn new(full: Vec<T>, lines: Option<&'a Lines<T>>, l: &'a Mat<T>) -> Self {
        LineSums {
            full,
            lines: lines.map(|s| (s, l)),
        }
    }

    /// The sums of line j into `out`.
    pub fn of(&self, j: usize, out: &mut [T]) {
        match self.lines {
            None => out.copy_from_slice(&self.full),
            Some((s, l)) => {
                let (scale, idx, coef) = s.line(j);
                for (o, &f) in out.iter_mut().zip(&self.full) {
                    *o = scale * f;
                }
                for (&i, &a) in idx.iter().zip(coef) {
                    axpy(a, l.col(i as usize), out);
                }
            }
        }
    }
}
