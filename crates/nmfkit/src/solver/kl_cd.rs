//! Cyclic coordinate descent for the KL divergence (Poisson NMF) with a
//! Newton step per coordinate (Hsieh & Dhillon, "Fast coordinate descent
//! methods with variable selection for non-negative matrix factorization",
//! KDD 2011, §4).
//!
//! Updating h_tj with everything else fixed, the objective along
//! h_tj ← h_tj + δ is, with y = W h_j over the entries x_ij > 0 of the line,
//!
//!   φ(δ) = (Σ_i m_ij w_it + l1)·δ + ½ l2 ((h+δ)² − h²) − Σ_i m_ij x_ij ln(1 + w_it δ / y_i),
//!
//! convex in δ. Its Newton step δ = −φ'(0)/φ''(0), projected on h + δ ≥ 0,
//! cannot overshoot a rise (φ'' falls along δ > 0, so the step stops short
//! of the minimum); a fall (δ < 0) is halved until φ decreases. Every
//! coordinate update lowers the objective, so the fit is monotone. Only the
//! line's entries with x > 0 enter the sums: O(k·nnz) per sweep on sparse
//! data, against O(k·n·m) for dense; y is kept current as coordinates move.

use super::kl_lanes::{change, Reciprocals};
use super::{Factors, Solver, StepInfo, Want};
use crate::data::{row_sums_of, Data, LineEntries, LineSums, Side};
use crate::linalg::{simd_wide, small_buffer};
use crate::matrix::Mat;
use crate::regularization::{Penalties, Penalty};
use crate::scalar::Scalar;
use std::cell::RefCell;

pub(crate) struct KlCoordinateDescent {
    pen: Penalties,
    /// Sweeps over a line's coordinates per half-step.
    sweeps: usize,
    /// Scale each line to its best scale before the sweeps (see
    /// [`line_scale`]).
    scale_lines: bool,
}

impl KlCoordinateDescent {
    pub(crate) fn new(pen: Penalties, sweeps: usize) -> Self {
        KlCoordinateDescent {
            pen,
            sweeps: sweeps.max(1),
            scale_lines: false,
        }
    }

    /// With each line first scaled to its best scale: for online fits,
    /// whose batch rows start each step from a W of another epoch or the
    /// start. There it gave a lower KL than online MU from the second epoch
    /// on (Poisson counts at three levels: 2-20 % lower; without it, 1-5×
    /// higher after one or two epochs) and on the man-page counts 3.0 %
    /// lower after one epoch, 0.9 % after five (bench/real/minibatch_kl.py);
    /// on noise-free planted data it
    /// converged more slowly than without. Full-batch fits go without: on
    /// digits and Golub it reached scikit-learn's loss no sooner, and
    /// digits ended in worse minima (+1.6-2.9 %).
    pub(crate) fn scaling_lines(mut self) -> Self {
        self.scale_lines = true;
        self
    }
}

/// A line's entries with x > 0, gathered for contiguous sweeps: their
/// values, the fixed factor's rows at them (`b[t·nz + e]` = l_t at entry
/// e), the model y there and 1/y (kept with y, so that a coordinate that
/// does not move costs no division). Per-thread buffers, reused across
/// lines.
#[derive(Default)]
struct LineBuf {
    idx: Vec<u32>,
    val: Vec<f64>,
    b: Vec<f64>,
    y: Vec<f64>,
    inv: Vec<f64>,
    /// y and 1/y at a tried fall, kept if it is taken.
    y_try: Vec<f64>,
    inv_try: Vec<f64>,
}

thread_local! {
    static BUF: RefCell<LineBuf> = RefCell::new(LineBuf::default());
}

/// The α > 0 that minimizes the line's objective along r ← αr: with
/// S_x = Σ x, S_y = Σ_t r_t·sums_t (the model's sum over the line),
/// R₁ = Σ r_t and R₂ = Σ r_t², the root of
/// l2·R₂·α² + (S_y + l1·R₁)·α − S_x = 0. 1 where it is not defined (r = 0,
/// or nothing observed is positive — the sweep then takes r to zero).
fn line_scale<T: Scalar>(val: &[f64], r: &[T], sums: &[T], pen: Penalty) -> f64 {
    let sx: f64 = val.iter().sum();
    let (mut sy, mut r1, mut r2) = (0.0, 0.0, 0.0);
    for (&rt, &st) in r.iter().zip(sums) {
        let rt = rt.to_f64();
        sy += rt * st.to_f64();
        r1 += rt;
        r2 += rt * rt;
    }
    let (a, b) = (pen.l2 * r2, sy + pen.l1 * r1);
    if !(sx > 0.0 && b > 0.0) {
        return 1.0;
    }
    // 2c / (b + √(b² + 4ac)): the positive root without cancellation.
    let alpha = 2.0 * sx / (b + (b * b + 4.0 * a * sx).sqrt());
    if alpha.is_finite() && alpha > 0.0 {
        alpha
    } else {
        1.0
    }
}

/// `l` (k × other, column-major) as f64, t-major: `out[t·other + i]` = l_ti.
fn transposed_f64<T: Scalar>(l: &Mat<T>) -> Vec<f64> {
    let (k, other) = (l.nrows, l.ncols);
    let mut out = vec![0.0; k * other];
    for (i, col) in l.data.chunks_exact(k.max(1)).enumerate() {
        for (t, &v) in col.iter().enumerate() {
            out[t * other + i] = v.to_f64();
        }
    }
    out
}

/// How many entries ahead the gather asks for the fixed factor's rows: they
/// are read in random order, and waiting for each one dominated the sweep.
const PREFETCH_AHEAD: usize = 8;

/// Hints the cache to fetch `v` (every cache line of it).
#[inline(always)]
fn prefetch<T>(v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(v);
        let p = v.as_ptr() as *const i8;
        let mut off = 0;
        while off < bytes {
            // SAFETY: prefetching is a hint; the address lies inside `v`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
            off += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// What a line's update does: its sweeps, and the scale step first or not.
#[derive(Clone, Copy)]
struct LineSteps {
    sweeps: usize,
    scale: bool,
    recip: Reciprocals,
}

/// [`update_line_body`], compiled for AVX2 + FMA when the CPU has them.
#[allow(clippy::too_many_arguments)]
fn update_line<T: Scalar>(
    wide: bool,
    entries: LineEntries<'_, T>,
    l: &Mat<T>,
    lt: Option<&[f64]>,
    sums: &[T],
    pen: Penalty,
    steps: LineSteps,
    r: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn body_wide<T: Scalar>(
            buf: &mut LineBuf,
            entries: LineEntries<'_, T>,
            l: &Mat<T>,
            lt: Option<&[f64]>,
            sums: &[T],
            pen: Penalty,
            steps: LineSteps,
            r: &mut [T],
        ) {
            update_line_body(buf, entries, l, lt, sums, pen, steps, r)
        }
        if wide {
            // SAFETY: `wide` is only true when the features were detected.
            return BUF.with(|cell| unsafe {
                body_wide(&mut cell.borrow_mut(), entries, l, lt, sums, pen, steps, r)
            });
        }
    }
    let _ = wide;
    BUF.with(|cell| update_line_body(&mut cell.borrow_mut(), entries, l, lt, sums, pen, steps, r))
}

/// The line's entries with x > 0 into `val` (and their indices into
/// `idx`); true, with `idx` left empty, when that is every entry of a
/// dense line and `whole` (the fixed factor's transpose is there to be
/// its rows as they are).
#[inline(always)]
fn gather_values<T: Scalar>(
    entries: LineEntries<'_, T>,
    whole: bool,
    idx: &mut Vec<u32>,
    val: &mut Vec<f64>,
) -> bool {
    idx.clear();
    val.clear();
    match entries {
        LineEntries::Sparse { idx: si, val: sv } => {
            for (&i, &v) in si.iter().zip(sv) {
                if v != T::ZERO {
                    idx.push(i);
                    val.push(v.to_f64());
                }
            }
            false
        }
        LineEntries::Dense(vals) if whole && vals.iter().all(|&v| v != T::ZERO) => {
            val.extend(vals.iter().map(|v| v.to_f64()));
            true
        }
        LineEntries::Dense(vals) => {
            // Without branches: every entry is written, the count moves
            // past the ones kept (zeros are common and unpredictable).
            idx.resize(vals.len(), 0);
            val.resize(vals.len(), 0.0);
            let mut kept = 0;
            for (i, &v) in vals.iter().enumerate() {
                idx[kept] = i as u32;
                val[kept] = v.to_f64();
                kept += usize::from(v != T::ZERO);
            }
            idx.truncate(kept);
            val.truncate(kept);
            false
        }
    }
}

/// The fixed factor's rows at the entries, `b[t·nz + e]`: from its
/// transpose `lt` (t-major, `other` long) when there is one (dense data,
/// whose indices rise through each row), else entry by entry from `l`, so
/// that each l_i is read whole while it is in cache (sparse data, where a
/// pass per t would miss once per entry and t).
#[inline(always)]
fn gather_rows<T: Scalar>(
    idx: &[u32],
    l: &Mat<T>,
    lt: Option<&[f64]>,
    recip: Reciprocals,
    b: &mut Vec<f64>,
) {
    let (k, nz) = (l.nrows, idx.len());
    b.clear();
    if let Some(lt) = lt {
        let other = l.ncols;
        for t in 0..k {
            let row = &lt[t * other..(t + 1) * other];
            recip.gather(idx, row, b);
        }
        return;
    }
    b.resize(k * nz, 0.0);
    for (e, &i) in idx.iter().enumerate() {
        if let Some(&ahead) = idx.get(e + PREFETCH_AHEAD) {
            prefetch(&l.data[ahead as usize * k..(ahead as usize + 1) * k]);
        }
        let li = &l.data[i as usize * k..(i as usize + 1) * k];
        for (t, &v) in li.iter().enumerate() {
            b[t * nz + e] = v.to_f64();
        }
    }
}

/// One line's update: `r` (k) against the fixed factor `l` (k × other,
/// with its transpose `lt` for dense data), `sums` = Σ_i m_ij l_i over the
/// line.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_line_body<T: Scalar>(
    buf: &mut LineBuf,
    entries: LineEntries<'_, T>,
    l: &Mat<T>,
    lt: Option<&[f64]>,
    sums: &[T],
    pen: Penalty,
    steps: LineSteps,
    r: &mut [T],
) {
    let k = r.len();
    let LineSteps {
        sweeps,
        scale: scale_lines,
        recip,
    } = steps;
    let LineBuf {
        idx,
        val,
        b: gathered,
        y,
        inv,
        y_try,
        inv_try,
    } = buf;
    let every = gather_values(entries, lt.is_some(), idx, val);
    let nz = val.len();
    let b: &[f64] = match lt {
        Some(lt) if every => lt,
        _ => {
            gather_rows(idx, l, lt, recip, gathered);
            gathered
        }
    };
    y.clear();
    y.resize(nz, 0.0);
    for t in 0..k {
        let rt = r[t].to_f64();
        if rt != 0.0 {
            for (y, &a) in y.iter_mut().zip(&b[t * nz..(t + 1) * nz]) {
                *y += a * rt;
            }
        }
    }
    // The line's best scale first, when asked: exact over r ← αr, so
    // the objective does not rise. A start far off in scale (NNDSVDa's fill can make
    // WH hundreds of times X) is then fixed in one step, where the
    // coordinate steps, halving their falls, took many sweeps.
    let alpha = if scale_lines {
        line_scale(val, r, sums, pen)
    } else {
        1.0
    };
    if alpha != 1.0 {
        for rt in r.iter_mut() {
            *rt = T::from_f64(rt.to_f64() * alpha);
        }
        for y in y.iter_mut() {
            *y *= alpha;
        }
    }
    recip.invert(y, inv);
    y_try.resize(nz, 0.0);
    inv_try.resize(nz, 0.0);
    for _ in 0..sweeps {
        let mut moved = false;
        for t in 0..k {
            let bt = &b[t * nz..(t + 1) * nz];
            let rt = r[t].to_f64();
            let linear = sums[t].to_f64() + pen.l1;
            let (s1, s2) = recip.slope_and_curvature(val, bt, inv);
            let g = linear + pen.l2 * rt - s1;
            let hess = s2 + pen.l2;
            let mut delta = if hess > 0.0 {
                (-g / hess).max(-rt)
            } else if g > 0.0 {
                // Nothing observed pulls it up: to zero.
                -rt
            } else {
                0.0
            };
            // A fall can overshoot: halve it until φ drops (the cheap
            // bound first, the logarithms only when it cannot tell); y
            // and 1/y at the fall taken are kept from the test. A rise
            // stops short of the minimum by itself.
            let mut tried = false;
            if delta < 0.0 {
                let mut tries = 0;
                loop {
                    let drops = match recip.try_fall(val, bt, y, g, pen.l2, delta, y_try, inv_try) {
                        None => false,
                        Some(true) => true,
                        Some(false) => change(val, bt, y, linear, pen.l2, rt, delta) <= 0.0,
                    };
                    if drops {
                        tried = true;
                        break;
                    }
                    delta *= 0.5;
                    tries += 1;
                    if tries == 50 {
                        delta = 0.0;
                        break;
                    }
                }
            }
            if delta == 0.0 || !delta.is_finite() {
                continue;
            }
            let new = (rt + delta).max(0.0);
            moved = true;
            r[t] = T::from_f64(new);
            if tried && new - rt == delta {
                std::mem::swap(y, y_try);
                std::mem::swap(inv, inv_try);
            } else {
                recip.step(y, inv, bt, new - rt);
            }
        }
        if !moved {
            break;
        }
    }
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for KlCoordinateDescent {
    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, _want: Want) -> StepInfo {
        let (l, r) = f.split_mut(side);
        let k = r.nrows;
        let sums = LineSums::new(row_sums_of(x, l), x.lines(side), l);
        let pen = self.pen.side(side);
        let steps = LineSteps {
            sweeps: self.sweeps,
            scale: self.scale_lines,
            recip: Reciprocals::detect(),
        };
        let wide = simd_wide();
        // Dense lines read the fixed factor's rows in order: transposed
        // once here, every line (or its entries x > 0) reads them from it.
        let lt = (!x.is_sparse()).then(|| transposed_f64(l));
        let lt = lt.as_deref();
        let visited = x.visit_lines(side, r, |j, entries, rj| {
            small_buffer(k, |s| {
                sums.of(j, s);
                update_line(wide, entries, l, lt, s, pen, steps, rj);
            });
        });
        debug_assert!(visited, "the model refuses data that cannot be visited");
        StepInfo::default()
    }
}
