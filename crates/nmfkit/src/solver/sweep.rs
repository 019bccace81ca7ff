//! The coordinate sweep shared by `cd` and `hals`: exact minimization of the
//! Frobenius objective over one entry at a time, in component order.
//!
//! For the factor R (k×cols) with C = cross product with the fixed factor L
//! and G = L·Lᵀ, each column of R is an independent problem (a row of W or a
//! column of H), so columns are spread over threads; inside a column the
//! arithmetic is scikit-learn's `_update_cdnmf_fast`, term for term.

use super::GramCache;
use crate::data::{Data, Side};
use crate::linalg::{axpy, COL_CHUNK};
use crate::matrix::Mat;
use crate::regularization::Penalty;
use crate::scalar::Scalar;
use rayon::prelude::*;

/// Result of one sweep over every column of R.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sweep {
    /// Σ |projected gradient| before each coordinate update.
    pub violation: f64,
    /// ‖R_after − R_before‖²_F.
    pub change_sq: f64,
}

/// One sweep. `g` must already hold the L2 weight on its diagonal; `l1` is
/// subtracted from C as scikit-learn does.
pub(crate) fn coordinate_sweep<T: Scalar>(
    c: &Mat<T>,
    g: &Mat<T>,
    l1: T,
    r: &mut Mat<T>,
    order: &[usize],
) -> Sweep {
    let k = r.nrows;
    let parts: Vec<Sweep> = r
        .data
        .par_chunks_mut(k * COL_CHUNK)
        .enumerate()
        .map(|(chunk, cols)| {
            let mut s = Sweep::default();
            let first = chunk * COL_CHUNK;
            let ncols = cols.len() / k;
            // Columns in groups of LANES: their gradient sums are independent
            // dependency chains that the CPU overlaps, while each one keeps
            // scikit-learn's summation order exactly.
            let mut groups = cols.chunks_exact_mut(k * LANES);
            for (gi, group) in groups.by_ref().enumerate() {
                let j0 = first + gi * LANES;
                sweep_lanes::<T, LANES>(c, g, l1, group, j0, order, &mut s);
            }
            let rest = groups.into_remainder();
            let j0 = first + ncols - rest.len() / k;
            for (q, rj) in rest.chunks_exact_mut(k).enumerate() {
                sweep_lanes::<T, 1>(c, g, l1, rj, j0 + q, order, &mut s);
            }
            s
        })
        .collect();
    parts.iter().fold(Sweep::default(), |a, b| Sweep {
        violation: a.violation + b.violation,
        change_sq: a.change_sq + b.change_sq,
    })
}

const LANES: usize = 4;

/// scikit-learn's per-row update (`_update_cdnmf_fast`) on N adjacent columns.
#[inline(always)]
fn sweep_lanes<T: Scalar, const N: usize>(
    c: &Mat<T>,
    g: &Mat<T>,
    l1: T,
    group: &mut [T],
    j0: usize,
    order: &[usize],
    s: &mut Sweep,
) {
    let k = g.nrows;
    for &t in order {
        let gt = g.col(t);
        let mut grad = [T::ZERO; N];
        for (q, gq) in grad.iter_mut().enumerate() {
            *gq = -(c.col(j0 + q)[t] - l1);
        }
        for (rr, &grr) in gt.iter().enumerate() {
            for (q, gq) in grad.iter_mut().enumerate() {
                *gq += grr * group[q * k + rr];
            }
        }
        let hess = gt[t];
        for (q, &gq) in grad.iter().enumerate() {
            let old = group[q * k + t];
            let pg = if old == T::ZERO { gq.min(T::ZERO) } else { gq };
            s.violation += pg.abs().to_f64();
            if hess != T::ZERO {
                let new = (old - gq / hess).max(T::ZERO);
                let d = (new - old).to_f64();
                s.change_sq += d * d;
                group[q * k + t] = new;
            }
        }
    }
}

/// The same minimization, for `hals`: the gradient of a column is formed
/// once (G·r − c) and then kept current with one axpy per coordinate that
/// actually moves, which vectorizes and skips the work for entries that stay
/// at zero. Same result as [`coordinate_sweep`] up to rounding.
pub(crate) fn gradient_sweep<T: Scalar>(c: &Mat<T>, g: &Mat<T>, l1: T, r: &mut Mat<T>) -> Sweep {
    let k = r.nrows;
    let parts: Vec<Sweep> = r
        .data
        .par_chunks_mut(k * COL_CHUNK)
        .enumerate()
        .map_init(
            || vec![T::ZERO; k],
            |grad, (chunk, cols)| {
                let mut s = Sweep::default();
                for (jj, rj) in cols.chunks_exact_mut(k).enumerate() {
                    let cj = c.col(chunk * COL_CHUNK + jj);
                    for (t, gr) in grad.iter_mut().enumerate() {
                        *gr = l1 - cj[t];
                    }
                    for (r_val, gcol) in rj.iter().zip(g.data.chunks_exact(k)) {
                        if *r_val != T::ZERO {
                            axpy(*r_val, gcol, grad);
                        }
                    }
                    for t in 0..k {
                        let gt = grad[t];
                        let old = rj[t];
                        let pg = if old == T::ZERO { gt.min(T::ZERO) } else { gt };
                        s.violation += pg.abs().to_f64();
                        let hess = g.data[t * k + t];
                        if hess != T::ZERO {
                            let new = (old - gt / hess).max(T::ZERO);
                            let d = new - old;
                            if d != T::ZERO {
                                s.change_sq += d.to_f64() * d.to_f64();
                                rj[t] = new;
                                axpy(d, &g.data[t * k..(t + 1) * k], grad);
                            }
                        }
                    }
                }
                s
            },
        )
        .collect();
    parts.iter().fold(Sweep::default(), |a, b| Sweep {
        violation: a.violation + b.violation,
        change_sq: a.change_sq + b.change_sq,
    })
}

/// What a coordinate half-step needs: C (cross product with the fixed
/// factor L), L's Gram G_L (for the loss), G_L with the L2 weight on its
/// diagonal, and the L1 weight.
pub(crate) struct SweepInputs<T> {
    pub c: Mat<T>,
    pub gl: Mat<T>,
    pub g: Mat<T>,
    pub l1: T,
}

pub(crate) fn sweep_inputs<T: Scalar, D: Data<T>>(
    x: &D,
    side: Side,
    l: &Mat<T>,
    cols: usize,
    grams: &mut GramCache<T>,
    pen: Penalty,
) -> SweepInputs<T> {
    let mut c = Mat::zeros(l.nrows, cols);
    x.cross(side, l, &mut c, faer::Par::rayon(0));
    let gl = grams.of_fixed(x, side, l);
    let g = with_l2(&gl, pen.l2);
    SweepInputs {
        c,
        gl,
        g,
        l1: T::from_f64(pen.l1),
    }
}

/// G with `l2` added to its diagonal (scikit-learn's way of applying L2).
pub(crate) fn with_l2<T: Scalar>(g: &Mat<T>, l2: f64) -> Mat<T> {
    let mut g2 = g.clone();
    if l2 != 0.0 {
        for t in 0..g.nrows {
            let v = g2.get(t, t) + T::from_f64(l2);
            g2.set(t, t, v);
        }
    }
    g2
}
