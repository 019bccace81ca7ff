//! AVX-512 building blocks of the KL passes, which need a reciprocal and
//! sometimes a log per entry.
//!
//! 1/y without a division: a division is one of the slowest vector
//! instructions (eight cycles per four lanes here), and the 14-bit estimate
//! refined by two Newton steps costs five cheap ones per eight lanes. Each
//! step squares the relative error, so it ends near 2⁻⁵⁶: within an ulp or
//! two of the quotient. ln in eight lanes, within an ulp, from the
//! mantissa and exponent instructions.

/// Whether the CPU has AVX-512F, which the fast reciprocals need.
pub(crate) fn fast_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// 1 / max(y, floor) in eight lanes: the estimate, then two Newton steps
/// r ← r + r(1 − m r).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn recip8(
    y: std::arch::x86_64::__m512d,
    floor: std::arch::x86_64::__m512d,
) -> std::arch::x86_64::__m512d {
    use std::arch::x86_64::*;
    let m = _mm512_max_pd(y, floor);
    let one = _mm512_set1_pd(1.0);
    let mut r = _mm512_rcp14_pd(m);
    r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(m, r, one), r);
    _mm512_fmadd_pd(r, _mm512_fnmadd_pd(m, r, one), r)
}

/// fdlibm's degree-7 minimax polynomial for (ln(1+f) − 2s)/s in s² (s =
/// f/(2+f)), and ln 2 in a high and a low part: the logs in four lanes
/// (`smooth::pixels_avx2::ln4`) and eight ([`ln8`]) share them.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::excessive_precision)] // the published coefficients, as printed
pub(crate) const LG: [f64; 7] = [
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
];
#[cfg(target_arch = "x86_64")]
#[allow(clippy::excessive_precision)]
pub(crate) const LN2_HI: f64 = 6.93147180369123816490e-01;
#[cfg(target_arch = "x86_64")]
#[allow(clippy::excessive_precision)]
pub(crate) const LN2_LO: f64 = 1.90821492927058770002e-10;

/// ln of eight positive finite doubles (subnormals included), within an
/// ulp: q = 2^e·m with √½ ≤ m < √2 from `getmant`/`getexp`, f = m − 1,
/// s = f/(2 + f), ln m = f − (f²/2 − s(f²/2 + R(s²))) with fdlibm's
/// degree-7 minimax polynomial R, and e·ln 2 added in two parts. The one
/// division (for s) runs on the divider beside the other units: a refined
/// reciprocal there made the smooth model's KL pass slower (392 against
/// 361 ns per pixel of 200 channels).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn ln8(q: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
    use std::arch::x86_64::*;
    // m in [1, 2) and e = ⌊log₂ q⌋, exact for subnormals too; above √2, m/2
    // and e + 1.
    let mut m = _mm512_getmant_pd::<_MM_MANT_NORM_1_2, _MM_MANT_SIGN_SRC>(q);
    let mut e = _mm512_getexp_pd(q);
    let big = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(m, _mm512_set1_pd(std::f64::consts::SQRT_2));
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    e = _mm512_mask_add_pd(e, big, e, _mm512_set1_pd(1.0));
    let f = _mm512_sub_pd(m, _mm512_set1_pd(1.0));
    let s = _mm512_div_pd(f, _mm512_add_pd(_mm512_set1_pd(2.0), f));
    let z = _mm512_mul_pd(s, s);
    let mut r = _mm512_set1_pd(LG[6]);
    for c in LG[..6].iter().rev() {
        r = _mm512_fmadd_pd(r, z, _mm512_set1_pd(*c));
    }
    r = _mm512_mul_pd(r, z);
    let hfsq = _mm512_mul_pd(_mm512_set1_pd(0.5), _mm512_mul_pd(f, f));
    // ln q = e·ln2_hi − ((hfsq − (s·(hfsq + R) + e·ln2_lo)) − f)
    let inner = _mm512_fmadd_pd(
        s,
        _mm512_add_pd(hfsq, r),
        _mm512_mul_pd(e, _mm512_set1_pd(LN2_LO)),
    );
    let t = _mm512_sub_pd(_mm512_sub_pd(hfsq, inner), f);
    _mm512_fmsub_pd(e, _mm512_set1_pd(LN2_HI), t)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use std::arch::x86_64::*;

    #[test]
    fn ln8_is_within_one_ulp_of_ln() {
        if !fast_available() {
            return;
        }
        let mut seed = 7u64;
        let mut values = vec![
            1.0,
            2.0,
            0.5,
            std::f64::consts::SQRT_2,
            1e-300,
            4e-320,
            5e-324,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        for _ in 0..200_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let e = ((seed >> 40) % 1400) as i32 - 700;
            let m = 1.0 + (seed >> 11) as f64 / (1u64 << 53) as f64;
            values.push(m * 2f64.powi(e));
        }
        values.extend((0..64).map(|i| 1.0 + (i as f64 - 32.0) * 1e-9));
        for c in values.chunks(8) {
            let mut lane = [1.0f64; 8];
            lane[..c.len()].copy_from_slice(c);
            let mut out = [0.0f64; 8];
            // SAFETY: AVX-512F was detected above.
            unsafe { _mm512_storeu_pd(out.as_mut_ptr(), ln8(_mm512_loadu_pd(lane.as_ptr()))) };
            for (v, o) in lane.iter().zip(out) {
                let want = v.ln();
                let ulp = f64::EPSILON * want.abs().max(f64::MIN_POSITIVE);
                assert!((o - want).abs() <= ulp, "ln {v}: {o} vs {want}");
            }
        }
    }

    #[test]
    fn recip8_is_within_two_ulps_of_division() {
        if !fast_available() {
            return;
        }
        let floor = 1e-7;
        let mut seed = 3u64;
        for _ in 0..50_000 {
            let mut lane = [0.0f64; 8];
            for v in lane.iter_mut() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let e = ((seed >> 40) % 80) as i32 - 30;
                *v = (1.0 + (seed >> 11) as f64 / (1u64 << 53) as f64) * 2f64.powi(e);
            }
            lane[0] = 1e-9; // below the floor
            let mut out = [0.0f64; 8];
            // SAFETY: AVX-512F was detected above.
            unsafe {
                let r = recip8(_mm512_loadu_pd(lane.as_ptr()), _mm512_set1_pd(floor));
                _mm512_storeu_pd(out.as_mut_ptr(), r);
            }
            for (v, o) in lane.iter().zip(out) {
                let want = 1.0 / v.max(floor);
                assert!(
                    (o - want).abs() <= 2.0 * f64::EPSILON * want,
                    "1/{v}: {o} vs {want}"
                );
            }
        }
    }
}
