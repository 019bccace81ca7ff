//! Small dense kernels the solvers share: GEMM through faer, Gram matrices,
//! and reductions whose result does not depend on how rayon splits the work.

use crate::matrix::{Mat, MatRef};
use crate::scalar::Scalar;
use faer::{Accum, Par};
use rayon::prelude::*;

/// Columns handled by one rayon task in column-parallel kernels. Fixed, so
/// that every reduction adds the same partial sums in the same order
/// whatever the thread count.
pub(crate) const COL_CHUNK: usize = 64;

fn view<T: Scalar>(m: MatRef<'_, T>) -> faer::MatRef<'_, T> {
    faer::MatRef::from_column_major_slice(m.data, m.nrows, m.ncols)
}

/// `out = op(a) · op(b)` (or `out += …` when `accumulate`), where `op`
/// transposes when the flag says so. `out` is column-major `rows × cols`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Scalar>(
    out: &mut [T],
    out_rows: usize,
    out_cols: usize,
    a: MatRef<'_, T>,
    a_t: bool,
    b: MatRef<'_, T>,
    b_t: bool,
    accumulate: bool,
    par: Par,
) {
    let dst = faer::MatMut::from_column_major_slice_mut(out, out_rows, out_cols);
    let av = view(a);
    let bv = view(b);
    let av = if a_t { av.transpose() } else { av };
    let bv = if b_t { bv.transpose() } else { bv };
    debug_assert_eq!(av.nrows(), out_rows);
    debug_assert_eq!(bv.ncols(), out_cols);
    debug_assert_eq!(av.ncols(), bv.nrows());
    let acc = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(dst, acc, av, bv, T::ONE, par);
    after_faer(par);
}

/// Clears the vector registers' upper halves (see
/// [`clear_upper_simd_state`]) on every thread a faer kernel may have run on.
pub(crate) fn after_faer(par: Par) {
    if par == Par::Seq {
        clear_upper_simd_state();
    } else {
        // Every worker may have run a kernel.
        rayon::broadcast(|_| clear_upper_simd_state());
    }
}

/// faer's kernels leave the upper halves of the vector registers dirty;
/// the SSE code that follows (ours, and libm's) then runs several times
/// slower (measured: the KL loss pass went from 41 to 11 ms on D1).
/// `vzeroupper` tells the CPU those halves are free.
#[inline]
pub(crate) fn clear_upper_simd_state() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the instruction exists, as just checked.
            unsafe { std::arch::x86_64::_mm256_zeroupper() };
        }
    }
}

/// `b[i] = g(x[i], b[i])` (x taken as 0 when absent), compiled for AVX2+FMA
/// when the CPU has them: these loops are divisions and powers over every
/// entry of WH, and the baseline x86-64 build would run them two lanes wide.
pub(crate) fn map_entries<T: Scalar, G: Fn(T, T) -> T>(b: &mut [T], x: Option<&[T]>, g: &G) {
    #[inline(always)]
    fn body<T: Scalar, G: Fn(T, T) -> T>(b: &mut [T], x: Option<&[T]>, g: &G) {
        match x {
            Some(x) => b.iter_mut().zip(x).for_each(|(bi, &xi)| *bi = g(xi, *bi)),
            None => b.iter_mut().for_each(|bi| *bi = g(T::ZERO, *bi)),
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn wide<T: Scalar, G: Fn(T, T) -> T>(b: &mut [T], x: Option<&[T]>, g: &G) {
            body(b, x, g)
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were just detected.
            return unsafe { wide(b, x, g) };
        }
    }
    body(b, x, g)
}

/// Gram matrix `F·Fᵀ` (k×k) of a factor stored k×cols.
pub(crate) fn gram<T: Scalar>(f: &Mat<T>, par: Par) -> Mat<T> {
    let k = f.nrows;
    let mut g = Mat::zeros(k, k);
    gemm(
        &mut g.data,
        k,
        k,
        f.as_ref(),
        false,
        f.as_ref(),
        true,
        false,
        par,
    );
    // Symmetrize exactly: downstream coordinate updates rely on G[t,r] == G[r,t].
    for r in 0..k {
        for t in 0..r {
            let v = g.data[t + r * k];
            g.data[r + t * k] = v;
        }
    }
    g
}

/// Whether the CPU runs the AVX2 + FMA builds of the hot loops (their
/// divisions and products run four lanes wide instead of two).
pub(crate) fn simd_wide() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `f` on a zeroed buffer of `len` entries: on the stack for the
/// usual ranks (k <= 64), on the heap beyond.
#[inline]
pub(crate) fn small_buffer<T: Scalar, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    if len <= 64 {
        f(&mut [T::ZERO; 64][..len])
    } else {
        f(&mut vec![T::ZERO; len])
    }
}

/// One scratch buffer per rayon thread, so that tiled kernels do not
/// allocate (and page-fault in) a fresh buffer for every tile.
pub(crate) struct Scratch<T> {
    bufs: Vec<std::sync::Mutex<Vec<T>>>,
}

impl<T: Scalar> Scratch<T> {
    pub(crate) fn new() -> Self {
        Scratch {
            bufs: (0..rayon::current_num_threads().max(1))
                .map(|_| std::sync::Mutex::new(Vec::new()))
                .collect(),
        }
    }

    /// Runs `f` on this thread's buffer, grown to at least `len` entries.
    pub(crate) fn with<R>(&self, len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.bufs.len();
        let mut guard = self.bufs[i].lock().unwrap_or_else(|e| e.into_inner());
        if guard.len() < len {
            guard.resize(len, T::ZERO);
        }
        f(&mut guard[..len])
    }
}

/// Sum over `0..n` of `f(j)`, accumulated in f64 in a fixed order.
pub(crate) fn det_sum<F>(n: usize, f: F) -> f64
where
    F: Fn(usize) -> f64 + Sync,
{
    let parts: Vec<f64> = (0..n.div_ceil(COL_CHUNK))
        .into_par_iter()
        .map(|c| {
            let lo = c * COL_CHUNK;
            let hi = (lo + COL_CHUNK).min(n);
            (lo..hi).map(&f).sum::<f64>()
        })
        .collect();
    parts.iter().sum()
}

/// Dot product of two equal-length slices, accumulated in `T`.
#[inline]
pub(crate) fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    // Four independent accumulators let the compiler vectorize.
    let mut s = [T::ZERO; 4];
    let chunks = a.len() / 4;
    for c in 0..chunks {
        for l in 0..4 {
            s[l] += a[4 * c + l] * b[4 * c + l];
        }
    }
    let mut tail = T::ZERO;
    for i in 4 * chunks..a.len() {
        tail += a[i] * b[i];
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `y += alpha · x`.
#[inline]
pub(crate) fn axpy<T: Scalar>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Frobenius inner product ⟨a, b⟩ in f64, in a fixed order: pieces of a
/// fixed length summed in parallel, each over eight running sums (one sum
/// would chain every addition to the one before and run several times
/// slower), and the pieces summed in order.
pub(crate) fn inner<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    const PIECE: usize = 8192;
    const LANES: usize = 8;
    let piece = |(a, b): (&[T], &[T])| {
        let mut s = [0.0f64; LANES];
        let mut ca = a.chunks_exact(LANES);
        let mut cb = b.chunks_exact(LANES);
        for (xa, xb) in (&mut ca).zip(&mut cb) {
            for l in 0..LANES {
                s[l] += xa[l].to_f64() * xb[l].to_f64();
            }
        }
        let tail: f64 = ca
            .remainder()
            .iter()
            .zip(cb.remainder())
            .map(|(&x, &y)| x.to_f64() * y.to_f64())
            .sum();
        s.iter().sum::<f64>() + tail
    };
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    if n <= PIECE {
        return piece((a, b));
    }
    let parts: Vec<f64> = a
        .par_chunks(PIECE)
        .zip(b.par_chunks(PIECE))
        .map(piece)
        .collect();
    parts.iter().sum()
}

/// Row sums of a k×cols factor: `out[t] = Σ_j F[t, j]`.
pub(crate) fn row_sums<T: Scalar>(f: &Mat<T>) -> Vec<T> {
    let k = f.nrows;
    let mut s = vec![T::ZERO; k];
    for col in f.data.chunks_exact(k.max(1)) {
        for (st, &v) in s.iter_mut().zip(col) {
            *st += v;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieced inner product equals the plain sum, at lengths on both
    /// sides of a piece and of the lane count, in f32 and f64.
    #[test]
    fn inner_matches_the_plain_sum() {
        for n in [0, 1, 7, 8, 9, 8191, 8192, 8193, 50_001] {
            let a: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 7.0).collect();
            let b: Vec<f64> = (0..n)
                .map(|i| ((i * 53) % 97) as f64 / 3.0 - 10.0)
                .collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let scale: f64 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
            let got = inner(&a, &b);
            assert!(
                (got - plain).abs() <= 1e-13 * scale.max(1.0),
                "{n}: {got} vs {plain}"
            );
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            let plain32: f64 = a32
                .iter()
                .zip(&b32)
                .map(|(&x, &y)| x as f64 * y as f64)
                .sum();
            assert!((inner(&a32, &b32) - plain32).abs() <= 1e-13 * scale.max(1.0));
        }
    }

    /// The same bits whatever the thread count.
    #[test]
    fn inner_does_not_depend_on_the_thread_count() {
        let a: Vec<f64> = (0..100_003).map(|i| (i as f64).sin().abs()).collect();
        let b: Vec<f64> = (0..100_003).map(|i| (i as f64 * 0.3).cos()).collect();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| inner(&a, &b))
        };
        assert_eq!(on(1).to_bits(), on(3).to_bits());
    }
}
