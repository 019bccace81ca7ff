//! Imputation and the weighted loss of given factors.

use crate::data::{CsrMatrix, Data, DenseWeighted, SparseWeighted, SparseWeights};
use crate::error::Result;
use crate::matrix::{Mat, MatRef};
use crate::model::inverse_transform;
use crate::scalar::Scalar;

/// X with every missing entry (weight 0) replaced by (WH)_ij.
pub fn impute<T: Scalar>(
    x: MatRef<'_, T>,
    weights: MatRef<'_, T>,
    w: &Mat<T>,
    h: &Mat<T>,
) -> Mat<T> {
    let wh = inverse_transform(w, h);
    let data = x
        .data
        .iter()
        .zip(weights.data)
        .zip(&wh.data)
        .map(|((&xv, &m), &y)| if m == T::ZERO { y } else { xv })
        .collect();
    Mat::from_col_major(x.nrows, x.ncols, data).expect("same shape")
}

/// Σ M∘d_β(X, WH) for dense X and weights.
pub fn masked_divergence<T: Scalar>(
    x: MatRef<'_, T>,
    weights: MatRef<'_, T>,
    w: &Mat<T>,
    h: &Mat<T>,
    beta: f64,
) -> Result<f64> {
    let data = DenseWeighted::new(x, weights)?;
    Ok(data.divergence(&w.transpose(), h, beta))
}

/// (½ Σ M∘(X − WH)², Σ M∘X²) for sparse X with sparse weights.
pub fn sparse_masked_error<T: Scalar>(
    x: &CsrMatrix<T>,
    weights: SparseWeights<'_, T>,
    w: &Mat<T>,
    h: &Mat<T>,
) -> Result<(f64, f64)> {
    let data = SparseWeighted::new(x, weights)?;
    Ok((data.divergence(&w.transpose(), h, 2.0), data.sq_norm()))
}

/// Sparse X with its missing entries — weight 0, listed or (when `others`
/// is 0) unlisted — replaced by (WH)_ij; the observed entries are kept. With
/// `others = 0` every entry is stored in the result.
pub fn impute_sparse<T: Scalar>(
    x: &CsrMatrix<T>,
    weights: SparseWeights<'_, T>,
    w: &Mat<T>,
    h: &Mat<T>,
) -> Result<CsrMatrix<T>> {
    let (n, m) = (x.nrows(), x.ncols());
    let data = SparseWeighted::new(x, weights)?;
    let k = h.nrows;
    let y = |i: usize, j: usize| {
        let mut s = T::ZERO;
        for t in 0..k {
            s += w.get(i, t) * h.get(t, j);
        }
        s
    };
    let mut indptr = vec![0];
    let (mut idx, mut val) = (Vec::new(), Vec::new());
    for (i, r) in data.rows().iter().enumerate() {
        if weights.others == T::ZERO {
            let mut e = r.iter().peekable();
            for j in 0..m {
                let v = match e.peek() {
                    Some(en) if en.j as usize == j => {
                        let en = e.next().expect("peeked");
                        if en.m > T::ZERO {
                            en.x
                        } else {
                            y(i, j)
                        }
                    }
                    _ => y(i, j),
                };
                idx.push(j);
                val.push(v);
            }
        } else {
            // Unlisted entries keep X's value (stored or zero).
            for en in r {
                idx.push(en.j as usize);
                val.push(if en.m > T::ZERO {
                    en.x
                } else {
                    y(i, en.j as usize)
                });
            }
        }
        indptr.push(idx.len());
    }
    CsrMatrix::try_new(n, m, indptr, idx, val)
}
