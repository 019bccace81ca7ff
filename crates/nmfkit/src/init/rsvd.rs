//! Randomized truncated SVD (Halko, Martinsson & Tropp 2011), built only
//! from the data's products, faer's QR and a small dense SVD, so that it
//! works on sparse input without densifying it.

use crate::data::{Data, Side};
use crate::error::{NmfError, Result};
use crate::matrix::Mat;
use crate::rng::{seeded, standard_normal};
use crate::scalar::Scalar;
use faer::Par;
use rayon::prelude::*;

/// A truncated SVD X ≈ U·diag(s)·Vᵀ in f64: `u` is n×k, `vt` is k×m.
#[derive(Clone, Debug)]
pub struct Svd {
    pub u: Mat<f64>,
    pub s: Vec<f64>,
    pub vt: Mat<f64>,
}

/// The leading `k` singular triplets of X, with scikit-learn's defaults:
/// 10 oversamples, 7 power iterations when k < 0.1·min(n, m), else 4
/// (each one re-orthonormalized by QR for stability).
pub fn randomized_svd<T: Scalar, D: Data<T>>(x: &D, k: usize, seed: u64) -> Result<Svd> {
    randomized_svd_oriented(x, k, seed, false)
}

/// [`randomized_svd`] of the user's matrix A when `x` is Aᵀ (`transposed`):
/// the sketch is drawn for A, so both layouts of the same data get the
/// same SVD.
pub fn randomized_svd_oriented<T: Scalar, D: Data<T>>(
    x: &D,
    k: usize,
    seed: u64,
    transposed: bool,
) -> Result<Svd> {
    // For x: Side::W gives L·xᵀ, Side::H gives L·x. For A = xᵀ they swap.
    let (rows_side, cols_side) = if transposed {
        (Side::H, Side::W)
    } else {
        (Side::W, Side::H)
    };
    let (n, m) = match (x.shape(), transposed) {
        ((a, b), false) => (a, b),
        ((a, b), true) => (b, a),
    };
    let l = (k + 10).min(n.min(m));
    let iters = if (k as f64) < 0.1 * n.min(m) as f64 {
        7
    } else {
        4
    };
    let par = Par::rayon(0);
    let mut rng = seeded(seed);
    let omega_t = Mat::from_fn(l, m, |_, _| T::from_f64(standard_normal(&mut rng)));

    // Factors are kept transposed (l×rows) as the data's products expect.
    // One l×n and one l×m buffer, orthonormalized in place: the sketch
    // costs 8·l·(n + m) bytes, never a copy of either.
    let mut qt = Mat::zeros(l, n);
    x.cross(rows_side, &omega_t, &mut qt, par);
    drop(omega_t);
    orthonormalize_rows(&mut qt, par)?;
    let mut pt = Mat::zeros(l, m);
    match small_gram(x, l, iters, transposed, par) {
        // A pass over X and back is a product with its Gram on the small
        // side: the iterations run on that (Qᵀ ← Qᵀ·XXᵀ spans what
        // Qᵀ·X·Xᵀ through the orthonormalized Pᵀ spans).
        Some((gram, small_is_q)) => {
            if !small_is_q {
                x.cross(cols_side, &qt, &mut pt, par);
                orthonormalize_rows(&mut pt, par)?;
            }
            let basis = if small_is_q { &mut qt } else { &mut pt };
            let steps = if small_is_q { iters } else { iters - 1 };
            let mut next = Mat::zeros(l, basis.ncols);
            for _ in 0..steps {
                let c = basis.ncols;
                crate::linalg::gemm(
                    &mut next.data,
                    l,
                    c,
                    basis.as_ref(),
                    false,
                    gram.as_ref(),
                    false,
                    false,
                    par,
                );
                std::mem::swap(basis, &mut next);
                orthonormalize_rows(basis, par)?;
            }
            if !small_is_q {
                x.cross(rows_side, &pt, &mut qt, par);
                orthonormalize_rows(&mut qt, par)?;
            }
        }
        None => {
            for _ in 0..iters {
                x.cross(cols_side, &qt, &mut pt, par);
                orthonormalize_rows(&mut pt, par)?;
                x.cross(rows_side, &pt, &mut qt, par);
                orthonormalize_rows(&mut qt, par)?;
            }
        }
    }
    // B = Qᵀ A (l×m), small: its exact SVD gives the rest.
    let mut b = pt;
    x.cross(cols_side, &qt, &mut b, par);
    let bv = faer::MatRef::from_column_major_slice(&b.data, l, m);
    let svd = bv
        .thin_svd()
        .map_err(|e| NmfError::Numerical(format!("SVD did not converge: {e:?}")))?;
    let (ub, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
    let kk = k.min(l);
    // U = Q · Ub, n×k.
    let u = Mat::from_fn(n, kk, |i, j| {
        (0..l)
            .map(|a| qt.get(a, i).to_f64() * ub[(a, j)].to_f64())
            .sum()
    });
    Ok(Svd {
        u,
        s: (0..kk).map(|j| s[j].to_f64()).collect(),
        vt: Mat::from_fn(kk, m, |j, c| v[(c, j)].to_f64()),
    })
}

/// For dense float64 X with a short side s (≤ 32·l here): its s×s Gram,
/// and whether that side is Q's (the user's rows). The power iterations then
/// cost one efficient product of X with itself instead of 2·iters skinny
/// passes over X, which the memory bounds (on ESPM's toy, 200×10000 with
/// l = 13: 14 ms instead of 62 ms for the whole SVD, one thread).
fn small_gram<T: Scalar, D: Data<T>>(
    x: &D,
    l: usize,
    iters: usize,
    transposed: bool,
    par: Par,
) -> Option<(Mat<T>, bool)> {
    let xs = x.dense_matrix()?;
    let (a, b) = (xs.nrows, xs.ncols);
    let s = a.min(b);
    // In float32 the Gram's squared spread of singular values would cost
    // the small ones their accuracy.
    if iters == 0 || s > 32 * l || T::EPSILON.to_f64() > 1e-10 {
        return None;
    }
    let mut g = Mat::zeros(s, s);
    // X Xᵀ (a×a) when the stored rows are the short side, else Xᵀ X.
    let rows_short = a <= b;
    crate::linalg::gemm(
        &mut g.data,
        s,
        s,
        xs,
        !rows_short,
        xs,
        rows_short,
        false,
        par,
    );
    // The stored rows are Q's side unless the data is the user's transpose.
    Some((g, rows_short != transposed))
}

/// Makes the rows of `mt` (l×c) orthonormal, spanning the same space, in
/// place: Cholesky QR twice (Yamamoto et al. 2015: the second pass restores
/// orthogonality to working precision), with Householder QR when the Gram
/// is not numerically positive definite (a rank-deficient sketch).
fn orthonormalize_rows<T: Scalar>(mt: &mut Mat<T>, par: Par) -> Result<()> {
    for _ in 0..2 {
        if !cholesky_qr_pass(mt, par) {
            *mt = householder_rows(mt)?;
            return Ok(());
        }
    }
    Ok(())
}

/// One pass: G = M Mᵀ = L Lᵀ, M ← L⁻¹ M. False when G is not positive definite.
fn cholesky_qr_pass<T: Scalar>(mt: &mut Mat<T>, par: Par) -> bool {
    let l = mt.nrows;
    let g = crate::linalg::gram(mt, par);
    // Lower Cholesky factor in f64, row-major l×l.
    let mut lo = vec![0.0f64; l * l];
    let scale = (0..l).map(|a| g.get(a, a).to_f64()).fold(0.0, f64::max);
    for a in 0..l {
        for b in 0..=a {
            let mut v = g.get(a, b).to_f64();
            for c in 0..b {
                v -= lo[a * l + c] * lo[b * l + c];
            }
            if a == b {
                // A pivot lost to rounding: the sketch is rank-deficient.
                if !(v > 1e3 * T::EPSILON.to_f64() * scale) {
                    return false;
                }
                lo[a * l + a] = v.sqrt();
            } else {
                lo[a * l + b] = v / lo[b * l + b];
            }
        }
    }

    if T::EPSILON.to_f64() < 1e-10 {
        // f64: one blocked triangular solve for all the columns (measured:
        // the man-page TF-IDF's start fell from 0.31-0.40 s to 0.21-0.27 s).
        let lt = faer::Mat::<T>::from_fn(l, l, |a, b| {
            T::from_f64(if b <= a { lo[a * l + b] } else { 0.0 })
        });
        let rhs = faer::MatMut::from_column_major_slice_mut(&mut mt.data, l, mt.ncols);
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(lt.as_ref(), rhs, par);
        crate::linalg::after_faer(par);
        return true;
    }
    // f32: each column in f64, where the factor was computed.
    mt.data.par_chunks_mut(l).with_min_len(256).for_each(|col| {
        // Forward substitution L y = col, in f64.
        crate::linalg::small_buffer::<f64, _>(l, |y| {
            for a in 0..l {
                let mut v = col[a].to_f64();
                for c in 0..a {
                    v -= lo[a * l + c] * y[c];
                }
                y[a] = v / lo[a * l + a];
            }
            for (o, &v) in col.iter_mut().zip(y.iter()) {
                *o = T::from_f64(v);
            }
        })
    });
    true
}

/// Householder QR of Mᵀ (c×l): Qᵀ, for sketches Cholesky QR cannot take.
fn householder_rows<T: Scalar>(mt: &Mat<T>) -> Result<Mat<T>> {
    let (l, c) = (mt.nrows, mt.ncols);
    let m = faer::MatRef::from_column_major_slice(&mt.data, l, c).transpose();
    let q = m.qr().compute_thin_Q();
    Ok(Mat::from_fn(l, c, |a, r| q[(r, a)]))
}
