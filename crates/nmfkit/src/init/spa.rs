//! The successive projection algorithm (Araújo et al. 2001; Gillis &
//! Vavasis, "Fast and robust recursive algorithms for separable
//! nonnegative matrix factorization", 2014; NMF.jl's `spa`): for separable
//! data — every column of X a non-negative combination of k of its columns
//! — pick those k columns greedily (the column of largest norm, then
//! project every column onto the orthogonal complement of it, and again),
//! make them W and solve H by NNLS. Exact on separable data; otherwise a
//! start that is already a good fit.
//!
//! The projections are never formed: with U the orthonormal basis of the
//! columns chosen so far, the residual norms are ‖X_j‖² − ‖UᵀX_j‖², kept up
//! to date from one product UᵀX row per chosen column, so the cost is
//! O(k·nnz) on sparse data.

use crate::data::{Data, Side};
use crate::error::{NmfError, Result};
use crate::matrix::Mat;
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use crate::solver::{AnlsBpp, Factors, Solver, Want};
use faer::Par;

/// The k lines SPA picks from X: columns (`pick` = [`Side::H`], vectors of
/// length n, the basis of W) or rows ([`Side::W`], the basis of H).
pub(crate) fn spa_lines<T: Scalar, D: Data<T>>(x: &D, k: usize, pick: Side) -> Result<Vec<usize>> {
    let (n, m) = x.shape();
    // `len`: the lines' length; `count`: how many lines there are.
    let (len, count) = match pick {
        Side::H => (n, m),
        Side::W => (m, n),
    };
    if k > count.min(len) {
        return Err(NmfError::RankTooLarge {
            rank: k,
            max: n.min(m),
            init: "spa",
            rows: n,
            cols: m,
        });
    }
    let ones = Mat::from_col_major(1, len, vec![T::ONE; len])?;
    let zeros = Mat::<T>::zeros(1, count);
    let mut norms = Mat::<T>::zeros(1, count);
    let sq = |v: T, _: T| v * v;
    match pick {
        Side::H => x.cross_weighted(Side::H, &ones, &zeros, sq, &mut norms),
        Side::W => x.cross_weighted(Side::W, &zeros, &ones, sq, &mut norms),
    }
    let mut left: Vec<f64> = norms.data.iter().map(|v| v.to_f64()).collect();
    let scale = left.iter().cloned().fold(0.0, f64::max);
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k);
    let mut chosen = Vec::with_capacity(k);
    for _ in 0..k {
        let (j, best) = left
            .iter()
            .enumerate()
            .filter(|(j, _)| !chosen.contains(j))
            .fold((usize::MAX, f64::NEG_INFINITY), |b, (j, &v)| {
                if v > b.1 {
                    (j, v)
                } else {
                    b
                }
            });
        // Residual norms come from differences: below 1e-12 of the largest
        // squared norm (1e-6 in norm) a line is numerically dependent.
        if j == usize::MAX || !(best > 1e-12 * scale) {
            return Err(crate::error::invalid(
                "init",
                format!(
                    "spa found only {} independent lines for rank {k}: X has a lower rank",
                    chosen.len()
                ),
            ));
        }
        chosen.push(j);
        // The chosen line, orthogonalized against the basis twice (one pass
        // loses orthogonality when lines are nearly parallel).
        let mut v = line(x, pick, j, len, count)?;
        for _ in 0..2 {
            for u in &basis {
                let d: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(u).for_each(|(a, b)| *a -= d * b);
            }
        }
        let nv = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if nv == 0.0 {
            continue;
        }
        v.iter_mut().for_each(|a| *a /= nv);
        // Every line's component along the new direction.
        let u = Mat::from_col_major(1, len, v.iter().map(|&a| T::from_f64(a)).collect())?;
        let mut p = Mat::<T>::zeros(1, count);
        x.cross(pick, &u, &mut p, Par::rayon(0));
        for (l, pv) in left.iter_mut().zip(&p.data) {
            *l -= pv.to_f64() * pv.to_f64();
        }
        basis.push(v);
    }
    Ok(chosen)
}

/// Line `j` of X (a column for `pick` = H, a row for W) as a vector.
fn line<T: Scalar, D: Data<T>>(
    x: &D,
    pick: Side,
    j: usize,
    len: usize,
    count: usize,
) -> Result<Vec<f64>> {
    let mut e = Mat::<T>::zeros(1, count);
    e.set(0, j, T::ONE);
    let mut out = Mat::<T>::zeros(1, len);
    x.cross(pick.other(), &e, &mut out, Par::rayon(0));
    Ok(out.data.iter().map(|v| v.to_f64()).collect())
}

/// The SPA start (Wt k×n, H k×m): the chosen columns of the user's X as W
/// and H by exact NNLS — for a problem solved as its transpose
/// (`transposed`), the user's columns are x's rows, so they become H and
/// W is solved.
pub(crate) fn spa_start<T: Scalar, D: Data<T>>(
    x: &D,
    k: usize,
    transposed: bool,
) -> Result<(Mat<T>, Mat<T>)> {
    let (n, m) = x.shape();
    let (pick, solve) = if transposed {
        (Side::W, Side::W)
    } else {
        (Side::H, Side::H)
    };
    let chosen = spa_lines(x, k, pick)?;
    let (len, count) = if transposed { (m, n) } else { (n, m) };
    let mut f = Factors {
        wt: Mat::zeros(k, n),
        h: Mat::zeros(k, m),
    };
    for (t, &j) in chosen.iter().enumerate() {
        let v = line(x, pick, j, len, count)?;
        let target = if transposed { &mut f.h } else { &mut f.wt };
        for (i, a) in v.into_iter().enumerate() {
            target.set(t, i, T::from_f64(a));
        }
    }
    let mut anls = AnlsBpp::<T>::new(Penalties::default());
    Solver::<T, D>::half_step(&mut anls, x, &mut f, solve, Want::default());
    Ok((f.wt, f.h))
}

/// The k columns of X that SPA picks (in the order it picks them).
///
/// ```
/// use nmfkit::{init::spa_columns, Mat};
/// // Columns 1 and 3 are the extreme rays; the others are mixtures.
/// let w = Mat::from_rows(&[vec![1.0, 0.0], vec![0.0, 2.0], vec![1.0, 1.0]]).unwrap();
/// let h = Mat::from_rows(&[vec![0.5, 1.0, 0.3, 0.0], vec![0.5, 0.0, 0.7, 1.0]]).unwrap();
/// let x = nmfkit::inverse_transform(&w, &h);
/// let mut cols = spa_columns(&x, 2).unwrap();
/// cols.sort();
/// assert_eq!(cols, vec![1, 3]);
/// ```
pub fn spa_columns<'a, T: Scalar>(
    x: impl Into<crate::Input<'a, T>>,
    k: usize,
) -> Result<Vec<usize>> {
    match x.into() {
        crate::Input::Dense(m) => spa_lines(&crate::DenseData::new(m), k, Side::H),
        crate::Input::Sparse(s) => spa_lines(&crate::SparseData::new(s), k, Side::H),
    }
}
