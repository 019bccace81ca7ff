//! The smooth model's start: W (m×k) and H (k×p), feasible for the
//! constraints, from an initialization, given factors or given spectra.

use super::{simplex, Simplex, SmoothNmf, SmoothOptions};
use crate::data::DenseData;
use crate::error::{invalid, Result};
use crate::init::initialize;
use crate::linalg::gemm;
use crate::matrix::{Mat, MatRef};
use crate::model::check_factor;
use crate::solver::nnls_bpp;
use faer::Par;

impl SmoothNmf {
    /// Initial W (m×k) and H (k×p), feasible for the constraints.
    pub(super) fn start(
        &self,
        x: MatRef<'_, f64>,
        g: Option<MatRef<'_, f64>>,
        opts: &SmoothOptions<'_, '_>,
        m: usize,
    ) -> Result<(Mat<f64>, Mat<f64>)> {
        let (n, p, k) = (x.nrows, x.ncols, self.rank);
        if opts.w0.is_some() && opts.gw0.is_some() {
            return Err(invalid("init", "give W0 or GW0, not both"));
        }
        let (mut d, mut h) = match opts.h0 {
            Some(h0) => {
                check_factor(h0, (k, p), "H")?;
                (None, h0.clone())
            }
            None => {
                let (wt, h) = initialize(&DenseData::new(x), k, self.init, self.seed)?;
                (Some(wt.transpose()), h)
            }
        };
        let mut w = if let Some(w0) = opts.w0 {
            check_factor(w0, (m, k), "W")?;
            Some(w0.clone())
        } else {
            None
        };
        if let Some(gw0) = opts.gw0 {
            check_factor(gw0, (n, k), "GW")?;
            d = Some(gw0.clone());
        }
        if self.simplex == Simplex::H {
            // Columns of H on the simplex; their mean scale goes to D.
            let mut total = 0.0;
            for j in 0..p {
                let col = h.col_mut(j);
                let s: f64 = col.iter().sum();
                if s > 0.0 && s.is_finite() {
                    col.iter_mut().for_each(|v| *v /= s);
                    total += s;
                } else {
                    col.fill(1.0 / k as f64);
                    total += 1.0;
                }
            }
            if opts.gw0.is_none() {
                if let Some(d) = d.as_mut() {
                    let scale = total / p as f64;
                    d.data.iter_mut().for_each(|v| *v *= scale);
                }
            }
        }
        let mut w = match (w.take(), d, g) {
            (Some(w), _, _) => w,
            (None, Some(d), None) => d,
            (None, Some(d), Some(g)) => espm_w(g, &d)?,
            (None, None, _) => {
                // H was given without W: D from least squares of X on H.
                let d = least_squares_spectra(x, &h);
                match g {
                    Some(g) => espm_w(g, &d)?,
                    None => d,
                }
            }
        };
        if self.simplex == Simplex::W {
            for t in 0..k {
                let col = w.col_mut(t);
                let s: f64 = col.iter().sum();
                if s > 0.0 && s.is_finite() {
                    col.iter_mut().for_each(|v| *v /= s);
                } else {
                    col.fill(1.0 / m as f64);
                }
            }
        }
        let eps = self.eps;
        w.data.iter_mut().for_each(|v| *v = v.max(eps));
        h.data.iter_mut().for_each(|v| *v = v.max(eps));
        if self.simplex == Simplex::H {
            // Lifting entries to ε moved the sums by at most k·ε: restore them.
            for j in 0..p {
                let col = h.col_mut(j);
                let mut tmp = vec![0.0; k];
                let c: Vec<f64> = col.to_vec();
                simplex::solve(0.0, &vec![1.0; k], &c, eps, &mut tmp, f64::NAN);
                col.copy_from_slice(&tmp);
            }
        }
        if self.simplex == Simplex::W {
            for t in 0..k {
                let col = w.col_mut(t);
                let c: Vec<f64> = col.to_vec();
                let mut tmp = vec![0.0; c.len()];
                simplex::solve(0.0, &vec![1.0; c.len()], &c, eps, &mut tmp, f64::NAN);
                col.copy_from_slice(&tmp);
            }
        }
        Ok((w, h))
    }
}

/// ESPM's start of W from spectra D: |W| for the minimum-norm least
/// squares solution of G W = D (numpy's `lstsq`, singular values below
/// ε·max(n, m)·σ₁ dropped), so that a fit from the same D and H follows
/// ESPM's. (NNLS would fit D a little better, but lands elsewhere.)
fn espm_w(g: MatRef<'_, f64>, d: &Mat<f64>) -> Result<Mat<f64>> {
    let (n, m, k) = (g.nrows, g.ncols, d.ncols);
    let gv = faer::MatRef::from_column_major_slice(g.data, n, m);
    let svd = gv
        .thin_svd()
        .map_err(|e| crate::NmfError::Numerical(format!("SVD of G did not converge: {e:?}")))?;
    let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
    let r = s.nrows();
    let cut = f64::EPSILON * n.max(m) as f64 * (0..r).map(|i| s[i]).fold(0.0, f64::max);
    // W = V Σ⁺ Uᵀ D.
    let mut ud = vec![0.0; r * k];
    for t in 0..k {
        for a in 0..r {
            if s[a] > cut {
                let dot: f64 = (0..n).map(|i| u[(i, a)] * d.get(i, t)).sum();
                ud[t * r + a] = dot / s[a];
            }
        }
    }
    Ok(Mat::from_fn(m, k, |l, t| {
        (0..r).map(|a| v[(l, a)] * ud[t * r + a]).sum::<f64>().abs()
    }))
}

/// D ≥ 0 with X ≈ D H in least squares (NNLS on Hᵀ), for a given H.
fn least_squares_spectra(x: MatRef<'_, f64>, h: &Mat<f64>) -> Mat<f64> {
    let (n, k) = (x.nrows, h.nrows);
    let mut hht = vec![0.0; k * k];
    gemm(
        &mut hht,
        k,
        k,
        h.as_ref(),
        false,
        h.as_ref(),
        true,
        false,
        Par::Seq,
    );
    // (H Xᵀ) is k×n: each column is one channel's right-hand side.
    let mut hxt = vec![0.0; k * n];
    gemm(
        &mut hxt,
        k,
        n,
        h.as_ref(),
        false,
        x,
        true,
        false,
        Par::rayon(0),
    );
    let sol = nnls_bpp(&hht, k, &hxt, None);
    // sol is k×n (column per channel): D = solᵀ.
    Mat::from_fn(n, k, |i, t| sol[i * k + t])
}
