//! The pass over the data that every iteration makes. With D = GW (n×k),
//! y = D·h_j and r = x_j / y, the H step needs Dᵀr for every pixel and the
//! W step Σ_j r h_jᵀ with the *new* H. A pixel's new h_j depends only on its
//! own column of X (the Laplacian term is taken at the old H, computed
//! before), so one pass does both: Dᵀr, the new h_j, then r again with it —
//! while x_j is still in cache. X is read once per iteration; the
//! arithmetic, not the reads, bounds the pass (on ESPM's toy an iteration
//! cost 276 ns per pixel with X in L2, 304 ns with X 10× larger). The KL divergence of
//! the factors at the start of the pass comes out of it when asked for.

use crate::linalg::simd_wide;
use crate::matrix::{Mat, MatRef};
use crate::scalar::EPS32;
use rayon::prelude::*;

/// Which per-pixel kernel runs: the generic loop, AVX2 (k ≤ 8) or AVX-512
/// (k ≤ 8, without divisions); larger k always take the generic loop.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Lanes {
    Generic,
    Four,
    Eight,
}

impl Lanes {
    fn detect() -> Self {
        if crate::fast_math::fast_available() {
            Lanes::Eight
        } else if simd_wide() {
            Lanes::Four
        } else {
            Lanes::Generic
        }
    }
}

/// Pixels per parallel task; partial sums are added in task order, so
/// results do not depend on the number of threads.
const CHUNK: usize = 64;

/// a · b with eight independent sums (four lanes × two chains), so the
/// FMA latency does not serialize the loop.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            s[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ta.iter().zip(tb) {
        tail += x * y;
    }
    ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail
}

/// y = D h, then r = x / max(y, ε₃₂) in place of y.
#[inline(always)]
fn ratio(d: &Mat<f64>, h: &[f64], x: &[f64], y: &mut [f64]) {
    y.fill(0.0);
    for (t, &ht) in h.iter().enumerate() {
        for (yi, &di) in y.iter_mut().zip(d.col(t)) {
            *yi += di * ht;
        }
    }
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = xi / yi.max(EPS32);
    }
}

/// Σ_i x log(x/y) − x + y over one column (x = 0 entries give y).
#[inline(always)]
fn kl_column(d: &Mat<f64>, h: &[f64], x: &[f64], y: &mut [f64]) -> f64 {
    y.fill(0.0);
    for (t, &ht) in h.iter().enumerate() {
        for (yi, &di) in y.iter_mut().zip(d.col(t)) {
            *yi += di * ht;
        }
    }
    let mut s = 0.0;
    for (&yi, &xi) in y.iter().zip(x) {
        let yi = yi.max(EPS32);
        s += if xi > 0.0 {
            xi * (xi / yi).ln() - xi + yi
        } else {
            yi
        };
    }
    s
}

/// One iteration's pass: for every pixel j, `update(j, Dᵀr, h_j)` replaces
/// h_j (given Dᵀ(x_j / D h_j) at the old h_j); returns R = Σ_j r h_jᵀ at
/// the new H (n×k) and, when `with_kl`, D(X ‖ DH) at the old H.
pub fn fused<F: Fn(usize, &[f64], &mut [f64]) + Sync>(
    x: MatRef<'_, f64>,
    d: &Mat<f64>,
    h: &mut Mat<f64>,
    update: F,
    with_kl: bool,
) -> (Mat<f64>, f64) {
    let (n, k) = (x.nrows, h.nrows);
    let wide = Lanes::detect();
    let parts: Vec<(Vec<f64>, f64)> = h
        .data
        .par_chunks_mut(k * CHUNK)
        .enumerate()
        .map(|(c, block)| {
            let mut r = vec![0.0; n * k];
            let kl = run_chunk(wide, x, d, block, c * CHUNK, &update, with_kl, &mut r);
            (r, kl)
        })
        .collect();
    let mut out = Mat::zeros(n, k);
    let mut kl = 0.0;
    for (part, v) in &parts {
        for (o, p) in out.data.iter_mut().zip(part) {
            *o += p;
        }
        kl += v;
    }
    (out, kl)
}

/// One chunk of pixels starting at `first`: see [`fused`].
#[allow(clippy::too_many_arguments)]
fn run_chunk<F: Fn(usize, &[f64], &mut [f64])>(
    wide: Lanes,
    x: MatRef<'_, f64>,
    d: &Mat<f64>,
    block: &mut [f64],
    first: usize,
    update: &F,
    with_kl: bool,
    r: &mut [f64],
) -> f64 {
    #[inline(always)]
    fn body<F: Fn(usize, &[f64], &mut [f64])>(
        x: MatRef<'_, f64>,
        d: &Mat<f64>,
        block: &mut [f64],
        first: usize,
        update: &F,
        with_kl: bool,
        r: &mut [f64],
    ) -> f64 {
        let (n, k) = (x.nrows, d.ncols);
        let mut y = vec![0.0; n];
        let mut dr = vec![0.0; k];
        let mut kl = 0.0;
        for (q, hj) in block.chunks_exact_mut(k).enumerate() {
            let j = first + q;
            let xj = x.col(j);
            if with_kl {
                kl += kl_column(d, hj, xj, &mut y);
            }
            ratio(d, hj, xj, &mut y);
            for (t, o) in dr.iter_mut().enumerate() {
                *o = dot(d.col(t), &y);
            }
            update(j, &dr, hj);
            ratio(d, hj, xj, &mut y);
            for (t, &ht) in hj.iter().enumerate() {
                for (ri, &yi) in r[t * n..(t + 1) * n].iter_mut().zip(&y) {
                    *ri += yi * ht;
                }
            }
        }
        kl
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn body_wide<F: Fn(usize, &[f64], &mut [f64])>(
            x: MatRef<'_, f64>,
            d: &Mat<f64>,
            block: &mut [f64],
            first: usize,
            update: &F,
            with_kl: bool,
            r: &mut [f64],
        ) -> f64 {
            body(x, d, block, first, update, with_kl, r)
        }
        if wide != Lanes::Generic {
            let mut kl = 0.0;
            // SAFETY: `wide` names only kernels whose features were detected
            // (AVX-512F implies AVX2 and FMA).
            unsafe {
                let done = match wide {
                    Lanes::Eight => {
                        super::pixels_avx512::chunk(x, d, block, first, update, with_kl, r, &mut kl)
                    }
                    _ => super::pixels_avx2::chunk(x, d, block, first, update, with_kl, r, &mut kl),
                };
                if done {
                    return kl;
                }
                return body_wide(x, d, block, first, update, with_kl, r);
            }
        }
    }
    let _ = wide;
    body(x, d, block, first, update, with_kl, r)
}

/// The KL divergence D(X ‖ DH) alone (the evaluations the pass does not
/// give: the first and the last), in the lanes the CPU has.
pub fn kl(x: MatRef<'_, f64>, d: &Mat<f64>, h: &Mat<f64>) -> f64 {
    kl_in(Lanes::detect(), x, d, h)
}

fn kl_in(lanes: Lanes, x: MatRef<'_, f64>, d: &Mat<f64>, h: &Mat<f64>) -> f64 {
    let n = x.nrows;
    let p = h.ncols;
    let parts: Vec<f64> = (0..p.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut y = vec![0.0; n];
            (c * CHUNK..((c + 1) * CHUNK).min(p))
                .map(|j| kl_pixel(lanes, d, h.col(j), x.col(j), &mut y))
                .sum::<f64>()
        })
        .collect();
    parts.iter().sum()
}

/// One pixel's KL term: [`kl_column`], with the logs in four or eight lanes.
#[inline]
fn kl_pixel(lanes: Lanes, d: &Mat<f64>, h: &[f64], x: &[f64], y: &mut [f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    match lanes {
        // SAFETY: `Eight` only when AVX-512F was detected.
        Lanes::Eight if d.ncols <= 8 => return unsafe { super::pixels_avx512::kl_pixel(d, h, x) },
        Lanes::Eight | Lanes::Four => {
            let full = x.len() / 4 * 4;
            y.fill(0.0);
            for (t, &ht) in h.iter().enumerate() {
                for (yi, &di) in y.iter_mut().zip(d.col(t)) {
                    *yi += di * ht;
                }
            }
            y.iter_mut().for_each(|v| *v = v.max(EPS32));
            // SAFETY: both lane widths imply AVX2 and FMA.
            let body = unsafe { super::pixels_avx2::kl_sum(&x[..full], &y[..full]) };
            let tail: f64 = (full..x.len())
                .map(|i| super::pixels_avx2::kl_term(x[i], y[i]))
                .sum();
            return body + tail;
        }
        Lanes::Generic => {}
    }
    let _ = lanes;
    kl_column(d, h, x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 and AVX-512 kernels (k ≤ 8, where the CPU has them) and
    /// the generic loop give the same pass — the same new H, R and KL, to
    /// rounding — and the same KL alone.
    #[test]
    fn the_wide_kernels_agree_with_the_generic_loop() {
        let mut kernels = Vec::new();
        if simd_wide() {
            kernels.push(Lanes::Four);
        }
        if crate::fast_math::fast_available() {
            kernels.push(Lanes::Eight);
        }
        // 37 and 45 channels: not multiples of the lanes, so the tails run too.
        let cases = kernels.iter().flat_map(|&w| {
            [37, 45]
                .into_iter()
                .flat_map(move |n| (1..=9).map(move |k| (w, n, k)))
        });
        for (wide, n, k) in cases {
            let p = 71; // odd: a pixel outside the AVX-512 pairs too
            let x = Mat::from_fn(n, p, |i, j| ((i * 7 + j * 3) % 5) as f64 * 0.7);
            let d = Mat::from_fn(n, k, |i, t| 0.1 + ((i + 2 * t) % 9) as f64 * 0.05);
            let h0 = Mat::from_fn(k, p, |t, j| 0.2 + ((t * 5 + j) % 7) as f64 * 0.1);
            // A multiplicative update: h ← h ∘ Dᵀr / Σ_i D_it.
            let sums: Vec<f64> = (0..k).map(|t| d.col(t).iter().sum()).collect();
            let update = |_: usize, dr: &[f64], h: &mut [f64]| {
                for t in 0..h.len() {
                    h[t] *= dr[t] / sums[t];
                }
            };
            let run = |lanes: Lanes| {
                let mut h = h0.clone();
                let mut r = vec![0.0; n * k];
                let kl = run_chunk(lanes, x.as_ref(), &d, &mut h.data, 0, &update, true, &mut r);
                (h, r, kl)
            };
            let (ha, ra, ka) = run(wide);
            let (hb, rb, kb) = run(Lanes::Generic);
            let close = |a: &[f64], b: &[f64]| {
                a.iter()
                    .zip(b)
                    .all(|(u, v)| (u - v).abs() <= 1e-12 * v.abs().max(1.0))
            };
            let (la, lb) = (
                kl_in(wide, x.as_ref(), &d, &h0),
                kl_in(Lanes::Generic, x.as_ref(), &d, &h0),
            );
            assert!(
                (la - lb).abs() <= 1e-12 * lb.abs(),
                "{wide:?}, n = {n}, k = {k}: kl {la} vs {lb}"
            );
            // The pass measures the KL it starts from.
            assert!(
                (ka - lb).abs() <= 1e-12 * lb.abs(),
                "{wide:?}, n = {n}, k = {k}: pass {ka} vs {lb}"
            );
            assert!(close(&ha.data, &hb.data), "{wide:?}, n = {n}, k = {k}: H");
            assert!(close(&ra, &rb), "{wide:?}, n = {n}, k = {k}: R");
            assert!(
                (ka - kb).abs() <= 1e-12 * kb.abs(),
                "{wide:?}, n = {n}, k = {k}: KL {ka} vs {kb}"
            );
        }
    }
}
