//! The per-entry passes of the KL coordinate descent ([`super::kl_cd`]):
//! a coordinate's slope and curvature, a tried fall, the exact change, and
//! keeping 1/y current as y moves. Every moved coordinate costs one pass
//! of reciprocals, which dominated the sweeps: with AVX-512 they come from
//! the 14-bit estimate refined by two Newton steps (error ≈ 2⁻⁵⁶ relative,
//! within an ulp or two of the division) instead of a division per entry.

use crate::scalar::EPS32;

/// How 1/y is formed: by division, or by AVX-512's estimate and two
/// Newton steps (chosen once per half-step from the CPU).
#[derive(Clone, Copy, Debug)]
pub(super) struct Reciprocals {
    fast: bool,
}

impl Reciprocals {
    pub(super) fn detect() -> Self {
        Reciprocals {
            fast: crate::fast_math::fast_available(),
        }
    }

    /// Division everywhere (the reference the fast passes are tested against).
    #[cfg(test)]
    pub(super) fn exact() -> Self {
        Reciprocals { fast: false }
    }

    /// `inv ← 1 / max(y, ε)`.
    #[inline(always)]
    pub(super) fn invert(self, y: &[f64], inv: &mut Vec<f64>) {
        inv.clear();
        inv.resize(y.len(), 0.0);
        #[cfg(target_arch = "x86_64")]
        if self.fast {
            // SAFETY: `fast` is only true when AVX-512F was detected.
            return unsafe { wide::invert(y, inv) };
        }
        divide_invert(y, inv);
    }

    /// (Σ v·a/y, Σ v·a²/y²): φ'(0) and φ''(0) but for the linear and L2
    /// parts, from the kept 1/y.
    #[inline(always)]
    pub(super) fn slope_and_curvature(self, val: &[f64], bt: &[f64], inv: &[f64]) -> (f64, f64) {
        #[cfg(target_arch = "x86_64")]
        if self.fast {
            // SAFETY: as in `invert`.
            return unsafe { wide::slope_and_curvature(val, bt, inv) };
        }
        slope_and_curvature(val, bt, inv)
    }

    /// Appends `row[i]` for every i of `idx`.
    #[inline(always)]
    pub(super) fn gather(self, idx: &[u32], row: &[f64], out: &mut Vec<f64>) {
        let below = idx.iter().max().is_none_or(|&i| (i as usize) < row.len());
        assert!(below, "a line's index beyond the factor");
        // The gather's offsets are 32-bit signed.
        #[cfg(target_arch = "x86_64")]
        if self.fast && row.len() <= i32::MAX as usize {
            // SAFETY: as in `invert`; every index was checked above.
            return unsafe { wide::gather(idx, row, out) };
        }
        out.extend(idx.iter().map(|&i| row[i as usize]));
    }

    /// `y ← y + a·δ` and `inv ← 1 / max(y, ε)`.
    #[inline(always)]
    pub(super) fn step(self, y: &mut [f64], inv: &mut [f64], a: &[f64], delta: f64) {
        #[cfg(target_arch = "x86_64")]
        if self.fast {
            // SAFETY: as in `invert`.
            return unsafe { wide::step(y, inv, a, delta) };
        }
        divide_step(y, inv, a, delta);
    }

    /// For a fall (δ < 0): y + a·δ and its inverse at every entry, into
    /// `y_try` and `inv_try`, and whether the second-order bound shows
    /// that φ drops: φ'' grows along a fall, so φ(δ) − φ(0) ≤ φ'(0)·δ +
    /// ½φ''(δ)·δ², with φ''(δ) = l2 + Σ v a²/(y + aδ)². None where the
    /// model would reach zero at an observed entry.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn try_fall(
        self,
        val: &[f64],
        bt: &[f64],
        y: &[f64],
        slope: f64,
        l2: f64,
        delta: f64,
        y_try: &mut [f64],
        inv_try: &mut [f64],
    ) -> Option<bool> {
        #[cfg(target_arch = "x86_64")]
        let (curv, low) = if self.fast {
            // SAFETY: as in `invert`.
            unsafe { wide::fall(val, bt, y, delta, y_try, inv_try) }
        } else {
            fall(val, bt, y, delta, y_try, inv_try)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let (curv, low) = fall(val, bt, y, delta, y_try, inv_try);
        if low <= 0.0 {
            return None;
        }
        Some(slope * delta + 0.5 * (curv + l2) * delta * delta <= 0.0)
    }
}

/// `inv ← 1/max(y, ε)` by division (also the fast passes' tails).
#[inline(always)]
fn divide_invert(y: &[f64], inv: &mut [f64]) {
    for (iv, &yv) in inv.iter_mut().zip(y) {
        *iv = 1.0 / yv.max(EPS32);
    }
}

/// `y ← y + a·δ`, `inv ← 1/max(y, ε)` by division (also the fast passes' tails).
#[inline(always)]
fn divide_step(y: &mut [f64], inv: &mut [f64], a: &[f64], delta: f64) {
    for ((yv, iv), &a) in y.iter_mut().zip(inv.iter_mut()).zip(a) {
        *yv += a * delta;
        *iv = 1.0 / yv.max(EPS32);
    }
}

/// [`Reciprocals::try_fall`]'s pass by division: (Σ v (a/y')², min y').
#[inline(always)]
fn fall(
    val: &[f64],
    bt: &[f64],
    y: &[f64],
    delta: f64,
    y_try: &mut [f64],
    inv_try: &mut [f64],
) -> (f64, f64) {
    // Lanes without early exits, so that the loop vectorizes.
    let (mut s, mut lowest) = ([0.0f64; 4], [f64::INFINITY; 4]);
    let n = val.len();
    let full = n / 4 * 4;
    let mut e = 0;
    while e < full {
        for l in 0..4 {
            let i = e + l;
            let yn = y[i] + bt[i] * delta;
            lowest[l] = lowest[l].min(yn);
            let inv = 1.0 / yn.max(EPS32);
            y_try[i] = yn;
            inv_try[i] = inv;
            let q = bt[i] * inv;
            s[l] += val[i] * q * q;
        }
        e += 4;
    }
    let mut curv = (s[0] + s[1]) + (s[2] + s[3]);
    let mut low = lowest[0].min(lowest[1]).min(lowest[2].min(lowest[3]));
    for i in full..n {
        let yn = y[i] + bt[i] * delta;
        low = low.min(yn);
        let inv = 1.0 / yn.max(EPS32);
        y_try[i] = yn;
        inv_try[i] = inv;
        let q = bt[i] * inv;
        curv += val[i] * q * q;
    }
    (curv, low)
}

/// [`Reciprocals::slope_and_curvature`] in four independent lanes.
#[inline(always)]
pub(super) fn slope_and_curvature(val: &[f64], bt: &[f64], inv: &[f64]) -> (f64, f64) {
    let (mut s1, mut s2) = ([0.0f64; 4], [0.0f64; 4]);
    let (cv, cb, ci) = (val.chunks_exact(4), bt.chunks_exact(4), inv.chunks_exact(4));
    let (rv, rb, ri) = (cv.remainder(), cb.remainder(), ci.remainder());
    for ((v, a), iv) in cv.zip(cb).zip(ci) {
        let ai = [a[0] * iv[0], a[1] * iv[1], a[2] * iv[2], a[3] * iv[3]];
        let q = [v[0] * ai[0], v[1] * ai[1], v[2] * ai[2], v[3] * ai[3]];
        for l in 0..4 {
            s1[l] += q[l];
            s2[l] += q[l] * ai[l];
        }
    }
    let (mut t1, mut t2) = (
        (s1[0] + s1[1]) + (s1[2] + s1[3]),
        (s2[0] + s2[1]) + (s2[2] + s2[3]),
    );
    for ((&v, &a), &iv) in rv.iter().zip(rb).zip(ri) {
        let ai = a * iv;
        let q = v * ai;
        t1 += q;
        t2 += q * ai;
    }
    (t1, t2)
}

/// φ(δ) − φ(0) for coordinate t (see [`super::kl_cd`]'s notes); +∞ where
/// the model would reach zero at an observed entry.
#[inline(always)]
pub(super) fn change(
    val: &[f64],
    bt: &[f64],
    y: &[f64],
    linear: f64,
    l2: f64,
    r: f64,
    delta: f64,
) -> f64 {
    let mut log_sum = 0.0;
    for ((&v, &a), &y) in val.iter().zip(bt).zip(y) {
        let ratio = 1.0 + a * delta / y.max(EPS32);
        if ratio <= 0.0 {
            return f64::INFINITY;
        }
        log_sum += v * ratio.ln();
    }
    linear * delta + 0.5 * l2 * ((r + delta) * (r + delta) - r * r) - log_sum
}

#[cfg(target_arch = "x86_64")]
mod wide {
    use crate::scalar::EPS32;
    use std::arch::x86_64::*;

    /// 1 / max(y, ε) without a division ([`crate::fast_math`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn recip(y: __m512d) -> __m512d {
        crate::fast_math::recip8(y, _mm512_set1_pd(EPS32))
    }

    /// (Σ v·a/y, Σ v·a²/y²) in eight lanes, twice unrolled.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn slope_and_curvature(val: &[f64], bt: &[f64], inv: &[f64]) -> (f64, f64) {
        let n = val.len().min(bt.len()).min(inv.len());
        let (mut s1, mut s2) = (_mm512_setzero_pd(), _mm512_setzero_pd());
        let (mut u1, mut u2) = (_mm512_setzero_pd(), _mm512_setzero_pd());
        let load = |p: &[f64], i: usize| _mm512_loadu_pd(p.as_ptr().add(i));
        let mut i = 0;
        while i + 16 <= n {
            let ai = _mm512_mul_pd(load(bt, i), load(inv, i));
            let q = _mm512_mul_pd(load(val, i), ai);
            s1 = _mm512_add_pd(s1, q);
            s2 = _mm512_fmadd_pd(q, ai, s2);
            let bi = _mm512_mul_pd(load(bt, i + 8), load(inv, i + 8));
            let r = _mm512_mul_pd(load(val, i + 8), bi);
            u1 = _mm512_add_pd(u1, r);
            u2 = _mm512_fmadd_pd(r, bi, u2);
            i += 16;
        }
        if i + 8 <= n {
            let ai = _mm512_mul_pd(load(bt, i), load(inv, i));
            let q = _mm512_mul_pd(load(val, i), ai);
            s1 = _mm512_add_pd(s1, q);
            s2 = _mm512_fmadd_pd(q, ai, s2);
            i += 8;
        }
        let (mut t1, mut t2) = (
            _mm512_reduce_add_pd(_mm512_add_pd(s1, u1)),
            _mm512_reduce_add_pd(_mm512_add_pd(s2, u2)),
        );
        for j in i..n {
            let ai = bt[j] * inv[j];
            let q = val[j] * ai;
            t1 += q;
            t2 += q * ai;
        }
        (t1, t2)
    }

    /// `out` += `row[idx]`, eight at a time; every index < `row.len()`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gather(idx: &[u32], row: &[f64], out: &mut Vec<f64>) {
        let (n, start) = (idx.len(), out.len());
        out.reserve(n);
        let dst = out.as_mut_ptr().add(start);
        let full = n / 8 * 8;
        let mut e = 0;
        while e < full {
            let ix = _mm256_loadu_si256(idx.as_ptr().add(e) as *const __m256i);
            let v = _mm512_i32gather_pd::<8>(ix, row.as_ptr());
            _mm512_storeu_pd(dst.add(e), v);
            e += 8;
        }
        for j in full..n {
            *dst.add(j) = *row.get_unchecked(idx[j] as usize);
        }
        out.set_len(start + n);
    }

    /// `inv ← 1/max(y, ε)`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn invert(y: &[f64], inv: &mut [f64]) {
        let n = y.len().min(inv.len());
        let full = n / 8 * 8;
        let mut i = 0;
        while i < full {
            let yv = _mm512_loadu_pd(y.as_ptr().add(i));
            _mm512_storeu_pd(inv.as_mut_ptr().add(i), recip(yv));
            i += 8;
        }
        // The last few entries (fewer than eight) by division.
        super::divide_invert(&y[full..n], &mut inv[full..n]);
    }

    /// `y ← y + a·δ`, `inv ← 1/max(y, ε)`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn step(y: &mut [f64], inv: &mut [f64], a: &[f64], delta: f64) {
        let n = y.len().min(inv.len()).min(a.len());
        let full = n / 8 * 8;
        let d = _mm512_set1_pd(delta);
        let mut i = 0;
        while i < full {
            let yv = _mm512_fmadd_pd(
                _mm512_loadu_pd(a.as_ptr().add(i)),
                d,
                _mm512_loadu_pd(y.as_ptr().add(i)),
            );
            _mm512_storeu_pd(y.as_mut_ptr().add(i), yv);
            _mm512_storeu_pd(inv.as_mut_ptr().add(i), recip(yv));
            i += 8;
        }
        super::divide_step(&mut y[full..n], &mut inv[full..n], &a[full..n], delta);
    }

    /// The fall pass: y' = y + a·δ and 1/y' into the tries; (Σ v (a/y')²,
    /// min y').
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fall(
        val: &[f64],
        bt: &[f64],
        y: &[f64],
        delta: f64,
        y_try: &mut [f64],
        inv_try: &mut [f64],
    ) -> (f64, f64) {
        let n = val
            .len()
            .min(bt.len())
            .min(y.len())
            .min(y_try.len())
            .min(inv_try.len());
        let full = n / 8 * 8;
        let d = _mm512_set1_pd(delta);
        let (mut s, mut low) = (_mm512_setzero_pd(), _mm512_set1_pd(f64::INFINITY));
        let mut i = 0;
        while i < full {
            let a = _mm512_loadu_pd(bt.as_ptr().add(i));
            let yn = _mm512_fmadd_pd(a, d, _mm512_loadu_pd(y.as_ptr().add(i)));
            low = _mm512_min_pd(low, yn);
            let r = recip(yn);
            _mm512_storeu_pd(y_try.as_mut_ptr().add(i), yn);
            _mm512_storeu_pd(inv_try.as_mut_ptr().add(i), r);
            let q = _mm512_mul_pd(a, r);
            let vq = _mm512_mul_pd(_mm512_loadu_pd(val.as_ptr().add(i)), q);
            s = _mm512_fmadd_pd(vq, q, s);
            i += 8;
        }
        let (curv, lowest) = super::fall(
            &val[full..n],
            &bt[full..n],
            &y[full..n],
            delta,
            &mut y_try[full..n],
            &mut inv_try[full..n],
        );
        (
            _mm512_reduce_add_pd(s) + curv,
            _mm512_reduce_min_pd(low).min(lowest),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (curvature, lowest y') of a fall, through `try_fall`'s own pass.
    fn fall_pass(
        r: Reciprocals,
        val: &[f64],
        bt: &[f64],
        y: &[f64],
        delta: f64,
        y_try: &mut [f64],
        inv_try: &mut [f64],
    ) -> (f64, f64) {
        #[cfg(target_arch = "x86_64")]
        if r.fast {
            // SAFETY: `fast` only when detected.
            return unsafe { wide::fall(val, bt, y, delta, y_try, inv_try) };
        }
        let _ = r;
        fall(val, bt, y, delta, y_try, inv_try)
    }
    use rand::RngExt;

    /// The AVX-512 passes (where the CPU has them) agree with division to
    /// a few ulps, in the tries, the steps and the fall test's sums.
    #[test]
    fn fast_reciprocals_agree_with_division() {
        let fast = Reciprocals::detect();
        let exact = Reciprocals::exact();
        let mut rng = crate::rng::seeded(5);
        let mut next = || rng.random::<f64>();
        let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs());
        for nz in [1, 7, 8, 9, 33, 100] {
            let val: Vec<f64> = (0..nz).map(|_| 0.1 + 5.0 * next()).collect();
            let bt: Vec<f64> = (0..nz).map(|_| next()).collect();
            // Some y below ε, which both clamp.
            let y: Vec<f64> = (0..nz)
                .map(|e| {
                    if e % 5 == 3 {
                        1e-9
                    } else {
                        1e-3 + 1e3 * next()
                    }
                })
                .collect();
            let (mut ia, mut ib) = (Vec::new(), Vec::new());
            fast.invert(&y, &mut ia);
            exact.invert(&y, &mut ib);
            assert!(
                ia.iter().zip(&ib).all(|(&a, &b)| close(a, b)),
                "{nz}: invert"
            );
            let (mut ya, mut yb) = (y.clone(), y.clone());
            fast.step(&mut ya, &mut ia, &bt, 0.25);
            exact.step(&mut yb, &mut ib, &bt, 0.25);
            assert!(
                ya.iter().zip(&yb).all(|(&a, &b)| close(a, b)),
                "{nz}: step y"
            );
            assert!(
                ia.iter().zip(&ib).all(|(&a, &b)| close(a, b)),
                "{nz}: step 1/y"
            );
            let (mut ta, mut tb) = (vec![0.0; nz], vec![0.0; nz]);
            let (mut ja, mut jb) = (vec![0.0; nz], vec![0.0; nz]);
            let a = fall_pass(fast, &val, &bt, &ya, -1e-4, &mut ta, &mut ja);
            let b = fall_pass(exact, &val, &bt, &yb, -1e-4, &mut tb, &mut jb);
            assert!(close(a.0, b.0) && a.1 == b.1, "{nz}: fall {a:?} {b:?}");
            assert!(
                ja.iter().zip(&jb).all(|(&a, &b)| close(a, b)),
                "{nz}: tries"
            );
        }
    }

    /// The fall test's second-order bound never says "drops" where φ rises,
    /// it keeps y + aδ and its inverse, and it refuses a fall that would
    /// take the model to zero at an observed entry.
    #[test]
    fn the_fall_bound_is_an_upper_bound_of_the_exact_change() {
        let mut rng = crate::rng::seeded(11);
        let mut next = || rng.random::<f64>();
        let (mut said_drop, mut saw_rise) = (0, 0);
        let division = Reciprocals::exact();
        for trial in 0..2000 {
            let nz = 1 + trial % 23;
            let val: Vec<f64> = (0..nz).map(|_| 0.1 + 5.0 * next()).collect();
            let bt: Vec<f64> = (0..nz).map(|_| next()).collect();
            let r = 0.05 + next();
            // y holds r·a plus the other coordinates' share.
            let y: Vec<f64> = bt.iter().map(|&a| a * r + 0.01 + next()).collect();
            let (linear, l2) = (10.0 * next(), if trial % 3 == 0 { next() } else { 0.0 });
            let inv: Vec<f64> = y.iter().map(|&v| 1.0 / v).collect();
            let (s1, _) = slope_and_curvature(&val, &bt, &inv);
            let g = linear + l2 * r - s1;
            let delta = -r * next();
            let (mut yt, mut it) = (vec![0.0; nz], vec![0.0; nz]);
            let exact = change(&val, &bt, &y, linear, l2, r, delta);
            match division.try_fall(&val, &bt, &y, g, l2, delta, &mut yt, &mut it) {
                Some(true) => {
                    said_drop += 1;
                    assert!(exact <= 1e-12 * linear.abs().max(1.0), "{trial}: {exact}");
                }
                Some(false) => saw_rise += 1,
                None => panic!("{trial}: a feasible fall refused"),
            }
            for e in 0..nz {
                assert_eq!(yt[e], y[e] + bt[e] * delta);
                assert_eq!(it[e], 1.0 / yt[e].max(EPS32));
            }
        }
        assert!(said_drop > 100 && saw_rise > 100, "{said_drop} {saw_rise}");
        // A fall through zero at an observed entry.
        let (val, bt, y) = ([1.0, 2.0], [1.0, 1.0], [0.5, 3.0]);
        let (mut yt, mut it) = ([0.0; 2], [0.0; 2]);
        assert_eq!(
            division.try_fall(&val, &bt, &y, 1.0, 0.0, -0.6, &mut yt, &mut it),
            None
        );
    }
}
