//! Randomized truncated SVD (Halko, Martinsson & Tropp 2011), built only
//! from the data's products, faer's QR and a small dense SVD, so that it
//! works on sparse input without densifying it.

use crate::data::{Data, Side};
use crate::error::{NmfError, Result};
use crate::matrix::Mat;
use crate::rng::{seeded, standard_normal};
use crate::scalar::Scalar;
use faer::Par;

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
    let mut yt = Mat::zeros(l, n);
    x.cross(rows_side, &omega_t, &mut yt, par);
    let mut qt = orthonormal_rows(&yt)?;
    let mut zt = Mat::zeros(l, m);
    for _ in 0..iters {
        x.cross(cols_side, &qt, &mut zt, par);
        let pt = orthonormal_rows(&zt)?;
        x.cross(rows_side, &pt, &mut yt, par);
        qt = orthonormal_rows(&yt)?;
    }
    // B = Qᵀ A (l×m), small: its exact SVD gives the rest.
    let mut b = Mat::zeros(l, m);
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

/// Given Mᵀ (l×c), returns Qᵀ where Q (c×l) is an orthonormal basis of M's range.
fn orthonormal_rows<T: Scalar>(mt: &Mat<T>) -> Result<Mat<T>> {
    let (l, c) = (mt.nrows, mt.ncols);
    let m = faer::MatRef::from_column_major_slice(&mt.data, l, c).transpose();
    let q = m.qr().compute_thin_Q();
    Ok(Mat::from_fn(l, c, |a, r| q[(r, a)]))
}
