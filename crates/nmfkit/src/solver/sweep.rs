//! The coordinate sweeps shared by `cd` and `hals`: exact minimization of
//! the Frobenius objective over one entry at a time, in component order.
//!
//! For the factor R (k×cols) with C = cross product with the fixed factor L,
//! each column of R (a row of W or a column of H) is an independent problem
//! min ½ rᵀ G_j r − c_jᵀ r + l1·Σr + ½ l2‖r‖², with G_j = L Lᵀ for plain
//! data and each line's own Gram for weighted data ([`LineGrams`]). Columns
//! are spread over threads; a weighted line's Gram is formed once, in a
//! per-thread buffer, and every sweep of the column uses it.

use super::{frobenius_after_step, GramCache};
use crate::data::{Data, LineGrams, Side};
use crate::linalg::{axpy, simd_wide, COL_CHUNK};
use crate::matrix::Mat;
use crate::regularization::Penalty;
use crate::scalar::Scalar;
use rayon::prelude::*;

/// Result of one half-step's sweeps over every column of R.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sweep {
    /// Σ |projected gradient| before each coordinate update of the first sweep.
    pub violation: f64,
    /// ‖R_after − R_before‖²_F of the first sweep.
    pub change_sq: f64,
}

impl Sweep {
    fn add(self, b: Sweep) -> Sweep {
        Sweep {
            violation: self.violation + b.violation,
            change_sq: self.change_sq + b.change_sq,
        }
    }
}

/// Sums per-chunk results in chunk order: the same bits whatever the
/// thread count.
fn total(parts: Vec<Sweep>) -> Sweep {
    parts.into_iter().fold(Sweep::default(), Sweep::add)
}

/// scikit-learn's sweep (`_update_cdnmf_fast`, term for term) over every
/// column of R, one coordinate at a time in `order`; `l1` is subtracted
/// from C and `l2` added to the Grams' diagonal, as scikit-learn does.
pub(crate) fn coordinate_sweep<T: Scalar>(
    c: &Mat<T>,
    grams: &LineGrams<'_, T>,
    l1: T,
    l2: T,
    r: &mut Mat<T>,
    order: &[usize],
) -> Sweep {
    let k = r.nrows;
    if let Some(g) = grams.shared() {
        let g = with_l2(g, l2);
        let wide = simd_wide();
        let parts = r
            .data
            .par_chunks_mut(k * COL_CHUNK)
            .enumerate()
            .map(|(chunk, cols)| {
                let first = chunk * COL_CHUNK;
                sweep_shared_chunk(wide, c, &g.data, l1, cols, first, order)
            })
            .collect();
        return total(parts);
    }
    let parts = r
        .data
        .par_chunks_mut(k * COL_CHUNK)
        .enumerate()
        .map_init(
            || vec![T::ZERO; k * k],
            |g, (chunk, cols)| {
                let mut s = Sweep::default();
                for (q, rj) in cols.chunks_exact_mut(k).enumerate() {
                    let j = chunk * COL_CHUNK + q;
                    grams.form(j, l2, g);
                    sweep_column(c, g, l1, rj, j, order, &mut s);
                }
                s
            },
        )
        .collect();
    total(parts)
}

/// Columns swept side by side: each column's gradient sums stay in
/// scikit-learn's order, and the LANES sums of one coordinate are
/// independent chains that run as vector lanes.
const LANES: usize = 16;

/// The sweeps of a run of columns sharing the Gram `g` (see
/// [`coordinate_sweep`]), compiled for AVX2 when `wide`.
fn sweep_shared_chunk<T: Scalar>(
    wide: bool,
    c: &Mat<T>,
    g: &[T],
    l1: T,
    cols: &mut [T],
    first: usize,
    order: &[usize],
) -> Sweep {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn body_wide<T: Scalar>(
            c: &Mat<T>,
            g: &[T],
            l1: T,
            cols: &mut [T],
            first: usize,
            order: &[usize],
        ) -> Sweep {
            sweep_shared_body(c, g, l1, cols, first, order)
        }
        if wide {
            // SAFETY: `wide` is only true when the features were detected.
            return unsafe { body_wide(c, g, l1, cols, first, order) };
        }
    }
    let _ = wide;
    sweep_shared_body(c, g, l1, cols, first, order)
}

#[inline(always)]
fn sweep_shared_body<T: Scalar>(
    c: &Mat<T>,
    g: &[T],
    l1: T,
    cols: &mut [T],
    first: usize,
    order: &[usize],
) -> Sweep {
    let k = c.nrows;
    let ncols = cols.len() / k.max(1);
    let mut s = Sweep::default();
    // The group's columns, lane-major: lanes[rr * LANES + q] = r_{j0+q}[rr].
    let mut lanes = vec![T::ZERO; k * LANES];
    let mut groups = cols.chunks_exact_mut(k * LANES);
    for (gi, group) in groups.by_ref().enumerate() {
        for (q, col) in group.chunks_exact(k).enumerate() {
            for (rr, &v) in col.iter().enumerate() {
                lanes[rr * LANES + q] = v;
            }
        }
        sweep_lanes(c, g, l1, &mut lanes, first + gi * LANES, order, &mut s);
        for (q, col) in group.chunks_exact_mut(k).enumerate() {
            for (rr, v) in col.iter_mut().enumerate() {
                *v = lanes[rr * LANES + q];
            }
        }
    }
    let rest = groups.into_remainder();
    let j0 = first + ncols - rest.len() / k;
    for (q, rj) in rest.chunks_exact_mut(k).enumerate() {
        sweep_column(c, g, l1, rj, j0 + q, order, &mut s);
    }
    s
}

/// scikit-learn's per-row update on LANES adjacent columns sharing the Gram
/// `g` (k×k, column-major, L2 on the diagonal), held lane-major.
#[inline(always)]
fn sweep_lanes<T: Scalar>(
    c: &Mat<T>,
    g: &[T],
    l1: T,
    lanes: &mut [T],
    j0: usize,
    order: &[usize],
    s: &mut Sweep,
) {
    let k = c.nrows;
    // Per-lane sums, added to `s` at the end: one running sum would chain
    // every lane's addition to the one before.
    let mut violation = [0.0f64; LANES];
    let mut change = [0.0f64; LANES];
    for &t in order {
        let gt = &g[t * k..(t + 1) * k];
        let mut grad = [T::ZERO; LANES];
        for (q, gq) in grad.iter_mut().enumerate() {
            *gq = -(c.col(j0 + q)[t] - l1);
        }
        for (&grr, row) in gt.iter().zip(lanes.chunks_exact(LANES)) {
            let row: &[T; LANES] = row.try_into().expect("a lane row");
            for q in 0..LANES {
                grad[q] += grr * row[q];
            }
        }
        let hess = gt[t];
        let row: &mut [T; LANES] = (&mut lanes[t * LANES..(t + 1) * LANES])
            .try_into()
            .expect("a lane row");
        for q in 0..LANES {
            let (old, gq) = (row[q], grad[q]);
            let pg = if old == T::ZERO { gq.min(T::ZERO) } else { gq };
            violation[q] += pg.abs().to_f64();
        }
        if hess != T::ZERO {
            for q in 0..LANES {
                let old = row[q];
                let new = (old - grad[q] / hess).max(T::ZERO);
                let d = (new - old).to_f64();
                change[q] += d * d;
                row[q] = new;
            }
        }
    }
    s.violation += violation.iter().sum::<f64>();
    s.change_sq += change.iter().sum::<f64>();
}

/// [`sweep_lanes`] for one column `rj` (column j), or a column with its
/// own Gram.
#[inline(always)]
fn sweep_column<T: Scalar>(
    c: &Mat<T>,
    g: &[T],
    l1: T,
    rj: &mut [T],
    j: usize,
    order: &[usize],
    s: &mut Sweep,
) {
    let k = c.nrows;
    let cj = c.col(j);
    for &t in order {
        let gt = &g[t * k..(t + 1) * k];
        let mut grad = -(cj[t] - l1);
        for (&grr, &v) in gt.iter().zip(rj.iter()) {
            grad += grr * v;
        }
        let old = rj[t];
        let pg = if old == T::ZERO {
            grad.min(T::ZERO)
        } else {
            grad
        };
        s.violation += pg.abs().to_f64();
        let hess = gt[t];
        if hess != T::ZERO {
            let new = (old - grad / hess).max(T::ZERO);
            let d = (new - old).to_f64();
            s.change_sq += d * d;
            rj[t] = new;
        }
    }
}

/// HALS's sweeps, column by column: the gradient G r − c is formed once and
/// kept current with one axpy per coordinate that moves (which vectorizes
/// and skips the entries that stay at zero), and the column is swept up to
/// `repeats` times, stopping once a sweep moves it by at most δ times what
/// its first sweep did (Gillis & Glineur's rule, per column). Reports the
/// first sweep's violation and change.
pub(crate) fn hals_sweeps<T: Scalar>(
    c: &Mat<T>,
    grams: &LineGrams<'_, T>,
    l1: T,
    l2: T,
    r: &mut Mat<T>,
    repeats: usize,
    delta: f64,
) -> Sweep {
    let k = r.nrows;
    let shared = grams.shared().map(|g| with_l2(g, l2));
    let wide = crate::linalg::simd_wide();
    let parts = r
        .data
        .par_chunks_mut(k * COL_CHUNK)
        .enumerate()
        .map_init(
            // The gradient and the diagonal's reciprocals; a line's Gram.
            || (vec![T::ZERO; 2 * k], vec![T::ZERO; k * k]),
            |(grad, buf), (chunk, cols)| {
                let mut s = Sweep::default();
                for (jj, rj) in cols.chunks_exact_mut(k).enumerate() {
                    let j = chunk * COL_CHUNK + jj;
                    let g: &[T] = match &shared {
                        Some(g) => &g.data,
                        None => {
                            grams.form(j, l2, buf);
                            buf
                        }
                    };
                    let col = (c.col(j), g, l1);
                    s = s.add(column_sweeps(wide, col, rj, grad, repeats, delta));
                }
                s
            },
        )
        .collect();
    total(parts)
}

/// The sweeps of one column (see [`hals_sweeps`]): C's column, the Gram
/// and L1 in `col`; compiled for AVX2 when `wide` (the CPU has it), where
/// the gradient's axpys run four lanes wide.
fn column_sweeps<T: Scalar>(
    wide: bool,
    col: (&[T], &[T], T),
    rj: &mut [T],
    scratch: &mut [T],
    repeats: usize,
    delta: f64,
) -> Sweep {
    let (cj, g, l1) = col;
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<T: Scalar>(
            cj: &[T],
            g: &[T],
            l1: T,
            rj: &mut [T],
            scratch: &mut [T],
            repeats: usize,
            delta: f64,
        ) -> Sweep {
            column_sweeps_body(cj, g, l1, rj, scratch, repeats, delta)
        }
        if wide {
            // SAFETY: `wide` is only true when the features were detected.
            return unsafe { avx2(cj, g, l1, rj, scratch, repeats, delta) };
        }
    }
    let _ = wide;
    column_sweeps_body(cj, g, l1, rj, scratch, repeats, delta)
}

#[inline(always)]
fn column_sweeps_body<T: Scalar>(
    cj: &[T],
    g: &[T],
    l1: T,
    rj: &mut [T],
    scratch: &mut [T],
    repeats: usize,
    delta: f64,
) -> Sweep {
    let k = rj.len();
    let (grad, scratch) = scratch.split_at_mut(k);
    for (t, gr) in grad.iter_mut().enumerate() {
        *gr = l1 - cj[t];
    }
    for (r_val, gcol) in rj.iter().zip(g.chunks_exact(k)) {
        if *r_val != T::ZERO {
            axpy(*r_val, gcol, grad);
        }
    }
    // Reciprocals of the diagonal: a division in the chain from one
    // coordinate to the next would cost more than the rest of the step.
    {
        let inv = &mut scratch[..k];
        for (t, v) in inv.iter_mut().enumerate() {
            let hess = g[t * k + t];
            *v = if hess != T::ZERO {
                T::ONE / hess
            } else {
                T::ZERO
            };
        }
        let mut first = Sweep::default();
        for pass in 0..repeats.max(1) {
            let mut change = 0.0;
            for t in 0..k {
                let gt = grad[t];
                let old = rj[t];
                if pass == 0 {
                    let pg = if old == T::ZERO { gt.min(T::ZERO) } else { gt };
                    first.violation += pg.abs().to_f64();
                }
                if inv[t] != T::ZERO {
                    let new = (old - gt * inv[t]).max(T::ZERO);
                    let d = new - old;
                    if d != T::ZERO {
                        change += d.to_f64() * d.to_f64();
                        rj[t] = new;
                        axpy(d, &g[t * k..(t + 1) * k], grad);
                    }
                }
            }
            if pass == 0 {
                first.change_sq = change;
            } else if change <= delta * delta * first.change_sq {
                break;
            }
            if change == 0.0 {
                break;
            }
        }
        first
    }
}

/// What a coordinate half-step needs: C (cross product with the fixed
/// factor L), the Grams of the lines, and the penalty weights. C's buffer
/// goes back to the cache with [`GramCache::keep_cross`] after the step.
pub(crate) struct SweepInputs<'a, T> {
    pub c: Mat<T>,
    pub grams: LineGrams<'a, T>,
    pub l1: T,
    pub l2: T,
}

pub(crate) fn sweep_inputs<'a, T: Scalar, D: Data<T>>(
    x: &'a D,
    side: Side,
    l: &'a Mat<T>,
    cols: usize,
    cache: &mut GramCache<T>,
    pen: Penalty,
) -> SweepInputs<'a, T> {
    let mut c = cache.cross_buffer(side, l.nrows, cols);
    x.cross(side, l, &mut c, faer::Par::rayon(0));
    let full = cache.of_fixed(x, side, l);
    SweepInputs {
        c,
        grams: LineGrams::new(full, x.lines(side), l),
        l1: T::from_f64(pen.l1),
        l2: T::from_f64(pen.l2),
    }
}

impl<T: Scalar> SweepInputs<'_, T> {
    /// The loss after the step that updated `r` (see
    /// [`frobenius_after_step`]); hands C's buffer back to the cache.
    pub(crate) fn finish<D: Data<T>>(
        self,
        x: &D,
        cache: &mut GramCache<T>,
        side: Side,
        r: &Mat<T>,
        want: bool,
    ) -> Option<f64> {
        let loss = frobenius_after_step(x, cache, side, &self.c, &self.grams, r, want);
        cache.keep_cross(side, self.c);
        loss
    }
}

/// G with `l2` added to its diagonal (scikit-learn's way of applying L2).
pub(crate) fn with_l2<T: Scalar>(g: &Mat<T>, l2: T) -> Mat<T> {
    let mut g2 = g.clone();
    if l2 != T::ZERO {
        for t in 0..g.nrows {
            let v = g2.get(t, t) + l2;
            g2.set(t, t, v);
        }
    }
    g2
}
