//! The per-pixel pass of [`super::pixels_avx2`] eight lanes wide, with
//! x / y as x · (1/y) from [`crate::fast_math`] instead of a division.
//! The divisions bounded the four-lane pass (a sample profile put most of
//! its time on the instructions waiting for `vdivpd`: eight cycles per
//! four lanes, two per pixel and channel); here they cost five cheap
//! instructions per eight lanes. The quotients agree with division to an
//! ulp or two. Pixels go through the sweeps in pairs ([`GROUP`]), and the
//! KL at the old h (every few iterations) is summed inside the first sweep
//! with eight-lane logs.

use super::pixels_avx2::{column_pointers, kl_term};
use crate::fast_math::{ln8, recip8};
use crate::matrix::{Mat, MatRef};
use crate::scalar::EPS32;
use std::arch::x86_64::*;

super::pixels_avx2::chunk_entry!("The CPU must have AVX-512F (and so AVX2 and FMA).");

#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn chunk_k<const K: usize, const KL: bool, F: Fn(usize, &[f64], &mut [f64])>(
    x: MatRef<'_, f64>,
    d: &Mat<f64>,
    block: &mut [f64],
    first: usize,
    update: &F,
    r: &mut [f64],
) -> f64 {
    let n = x.nrows;
    let (cols, rcols) = column_pointers::<K>(d, r, n);
    let mut kl = 0.0;
    let done = block.len() / (K * GROUP) * GROUP;
    let mut groups = block.chunks_exact_mut(K * GROUP);
    for (g, hs) in groups.by_ref().enumerate() {
        let j = first + g * GROUP;
        // SAFETY: every column of D and R holds n entries, as x_j does.
        kl += unsafe { pixels::<K, GROUP, KL, F>(&cols, x, hs, j, update, &rcols) };
    }
    for (q, hj) in groups.into_remainder().chunks_exact_mut(K).enumerate() {
        let j = first + done + q;
        // SAFETY: as above.
        kl += unsafe { pixels::<K, 1, KL, F>(&cols, x, hj, j, update, &rcols) };
    }
    kl
}

/// One pixel's Σ x ln(x/y) − x + y at y = D h (k ≤ 8), as the pass
/// measures it.
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn kl_pixel(d: &Mat<f64>, h: &[f64], x: &[f64]) -> f64 {
    let n = x.len();
    let full = n / 8 * 8;
    let eps = _mm512_set1_pd(EPS32);
    let mut klv = _mm512_setzero_pd();
    let mut i = 0;
    while i < full {
        let mut y = _mm512_setzero_pd();
        for (t, &ht) in h.iter().enumerate() {
            y = _mm512_fmadd_pd(
                _mm512_loadu_pd(d.col(t).as_ptr().add(i)),
                _mm512_set1_pd(ht),
                y,
            );
        }
        let xv = _mm512_loadu_pd(x.as_ptr().add(i));
        klv = _mm512_add_pd(klv, kl_terms(xv, y, eps));
        i += 8;
    }
    let mut kl = _mm512_reduce_add_pd(klv);
    for i in full..n {
        let y = h
            .iter()
            .enumerate()
            .fold(0.0, |s, (t, &ht)| d.col(t)[i].mul_add(ht, s));
        kl += kl_term(x[i], y.max(EPS32));
    }
    kl
}

/// x ln(x/y) − x + y in eight lanes (y clamped at ε₃₂), with x/y taken as
/// 1 where x = 0.
#[inline(always)]
unsafe fn kl_terms(xv: __m512d, y: __m512d, eps: __m512d) -> __m512d {
    let q = _mm512_mul_pd(xv, recip8(y, eps));
    let pos = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(xv, _mm512_setzero_pd());
    let lq = ln8(_mm512_mask_blend_pd(pos, _mm512_set1_pd(1.0), q));
    _mm512_fmadd_pd(xv, lq, _mm512_sub_pd(_mm512_max_pd(y, eps), xv))
}

/// Pixels that go through the sweeps together. One pixel's sweeps are
/// short chains (25 steps of eight channels on ESPM's toy) joined by the
/// update between them, which waits for the whole first sweep; interleaved
/// pixels fill each other's waits and share the loads of D (one pixel
/// alone: 185 ns per pixel there, two: 150, four: 152).
const GROUP: usize = 2;

/// y = Σ_t D_t h_t over eight channels from i, for each pixel of a group.
#[inline(always)]
unsafe fn models<const K: usize, const P: usize>(
    cols: &[*const f64; K],
    h: &[[__m512d; K]; P],
    i: usize,
) -> [__m512d; P] {
    let mut y = [_mm512_setzero_pd(); P];
    for t in 0..K {
        let dt = _mm512_loadu_pd(cols[t].add(i));
        for p in 0..P {
            y[p] = _mm512_fmadd_pd(dt, h[p][t], y[p]);
        }
    }
    y
}

/// The pass for P consecutive pixels from j, whose h are `hs` (P·K
/// entries): the first sweep for all, the updates in pixel order, then the
/// second sweep for all. Each pixel's arithmetic is that of a pixel alone,
/// and R takes the pixels' terms in pixel order: the result does not depend
/// on P.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pixels<
    const K: usize,
    const P: usize,
    const KL: bool,
    F: Fn(usize, &[f64], &mut [f64]),
>(
    cols: &[*const f64; K],
    x: MatRef<'_, f64>,
    hs: &mut [f64],
    j: usize,
    update: &F,
    rcols: &[*mut f64; K],
) -> f64 {
    let n = x.nrows;
    let full = n / 8 * 8;
    let eps = _mm512_set1_pd(EPS32);
    let xs: [&[f64]; P] = std::array::from_fn(|p| &x.col(j + p)[..n]);
    let mut h: [[__m512d; K]; P] =
        std::array::from_fn(|p| std::array::from_fn(|t| _mm512_set1_pd(hs[p * K + t])));
    let mut acc = [[_mm512_setzero_pd(); K]; P];
    let mut klv = [_mm512_setzero_pd(); P];
    let mut i = 0;
    while i < full {
        let y = models(cols, &h, i);
        let mut q = [_mm512_setzero_pd(); P];
        for p in 0..P {
            let xv = _mm512_loadu_pd(xs[p].as_ptr().add(i));
            q[p] = _mm512_mul_pd(xv, recip8(y[p], eps));
            if KL {
                klv[p] = _mm512_add_pd(klv[p], kl_terms(xv, y[p], eps));
            }
        }
        for t in 0..K {
            let dt = _mm512_loadu_pd(cols[t].add(i));
            for p in 0..P {
                acc[p][t] = _mm512_fmadd_pd(dt, q[p], acc[p][t]);
            }
        }
        i += 8;
    }
    let mut kl = 0.0;
    for p in 0..P {
        let x = xs[p];
        let hj = &mut hs[p * K..(p + 1) * K];
        let mut dr: [f64; K] = std::array::from_fn(|t| _mm512_reduce_add_pd(acc[p][t]));
        if KL {
            kl += _mm512_reduce_add_pd(klv[p]);
        }
        for i in full..n {
            let mut y = 0.0;
            for t in 0..K {
                y = (*cols[t].add(i)).mul_add(hj[t], y);
            }
            let y = y.max(EPS32);
            if KL {
                kl += kl_term(x[i], y);
            }
            let qi = x[i] / y;
            for t in 0..K {
                dr[t] = (*cols[t].add(i)).mul_add(qi, dr[t]);
            }
        }
        update(j + p, &dr, hj);
        h[p] = std::array::from_fn(|t| _mm512_set1_pd(hj[t]));
    }
    let mut i = 0;
    while i < full {
        let y = models(cols, &h, i);
        let mut q = [_mm512_setzero_pd(); P];
        for p in 0..P {
            q[p] = _mm512_mul_pd(_mm512_loadu_pd(xs[p].as_ptr().add(i)), recip8(y[p], eps));
        }
        for t in 0..K {
            let rp = rcols[t].add(i);
            let mut rv = _mm512_loadu_pd(rp);
            for p in 0..P {
                rv = _mm512_fmadd_pd(q[p], h[p][t], rv);
            }
            _mm512_storeu_pd(rp, rv);
        }
        i += 8;
    }
    for p in 0..P {
        let x = xs[p];
        let hj = &hs[p * K..(p + 1) * K];
        for i in full..n {
            let mut y = 0.0;
            for t in 0..K {
                y = (*cols[t].add(i)).mul_add(hj[t], y);
            }
            let qi = x[i] / y.max(EPS32);
            for t in 0..K {
                let rp = rcols[t].add(i);
                *rp = qi.mul_add(hj[t], *rp);
            }
        }
    }
    kl
}
