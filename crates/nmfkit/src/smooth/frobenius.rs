//! The smooth model with the Frobenius data term ½‖X − GWH‖² (ESPM's
//! `l2=True`), by the same majorization–minimization as the KL model.
//!
//! For the data term, Lee and Seung's diagonal bound: with D = GW fixed,
//! ½‖x_j − D h‖² ≤ its tangent at h̃ + ½ Σ_t (DᵀD h̃)_t / h̃_t (h_t − h̃_t)²
//! (valid because DᵀD ≥ 0 entrywise); the Laplacian's and the log term's
//! bounds are those of the KL model. The sum is a separable quadratic
//! ½A_t h_t² + b_t h_t, minimized exactly per entry — or per column on the
//! simplex ([`simplex::solve_quadratic`]). Without penalties the step is
//! the multiplicative update H ∘ DᵀX / DᵀDH. W likewise, from
//! Gᵀ(GWHHᵀ)/W: W ∘ GᵀXHᵀ / GᵀGWHHᵀ. Unlike ESPM (which refuses the
//! regularizers with `l2`), the penalties and both simplex constraints
//! work here, with the objective still non-increasing.

use super::fixed::{self, Fixed};
use super::laplacian::SIGMA;
use super::solver::{MmSolver, SmoothProblem};
use super::terms::spectra;
use super::Simplex;
use crate::linalg::gemm;
use crate::matrix::{Mat, MatRef};
use crate::solver::Factors;
use faer::Par;
use rayon::prelude::*;

/// op(`a`)·op(`b`), op transposing when its flag says so.
fn mul(a: MatRef<'_, f64>, a_t: bool, b: MatRef<'_, f64>, b_t: bool) -> Mat<f64> {
    let rows = if a_t { a.ncols } else { a.nrows };
    let cols = if b_t { b.nrows } else { b.ncols };
    let mut out = Mat::zeros(rows, cols);
    gemm(
        &mut out.data,
        rows,
        cols,
        a,
        a_t,
        b,
        b_t,
        false,
        Par::rayon(0),
    );
    out
}

/// `a`ᵀ·`b`.
fn cross(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    mul(a, true, b, false)
}

/// `a`·`b`ᵀ.
fn outer(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    mul(a, false, b, true)
}

/// `a`·`b`.
fn product(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    mul(a, false, b, false)
}

fn inner(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    a.data.iter().zip(&b.data).map(|(x, y)| x * y).sum()
}

/// ½‖X − D H‖², column by column (exact, for the first and last records).
pub(crate) fn divergence(x: MatRef<'_, f64>, g: Option<MatRef<'_, f64>>, f: &Factors<f64>) -> f64 {
    let d = spectra(g, &f.wt);
    let (n, k) = (x.nrows, f.h.nrows);
    let parts: Vec<f64> = (0..x.ncols)
        .into_par_iter()
        .with_min_len(64)
        .map(|j| {
            let h = f.h.col(j);
            let mut s = 0.0;
            for (i, &xi) in x.col(j).iter().enumerate() {
                let y: f64 = (0..k).map(|t| d.data[t * n + i] * h[t]).sum();
                s += (xi - y) * (xi - y);
            }
            s
        })
        .collect();
    0.5 * parts.iter().sum::<f64>() // in order: the same bits every run
}

impl MmSolver {
    /// The H step; returns ½‖X − DH̃‖² at the H it started from when
    /// `measure` (from the Gram form ½‖X‖² − ⟨DᵀX, H̃⟩ + ½⟨DᵀD, H̃H̃ᵀ⟩).
    pub(super) fn l2_h_step(
        &mut self,
        p: &SmoothProblem<'_>,
        f: &mut Factors<f64>,
        measure: bool,
    ) -> Option<f64> {
        let (k, px) = (f.h.nrows, f.h.ncols);
        let d = spectra(p.g, &f.wt);
        let dtd = cross(d.as_ref(), d.as_ref());
        let dtx = cross(d.as_ref(), p.x);
        let before = measure.then(|| {
            let hht = outer(f.h.as_ref(), f.h.as_ref());
            (0.5 * self.x_sq - inner(&dtx, &f.h) + 0.5 * inner(&dtd, &hht)).max(0.0)
        });
        let mut lap = Mat::zeros(0, 0);
        if let (Some(gr), true) = (self.grid, self.lambda > 0.0) {
            lap = Mat::zeros(k, px);
            gr.apply(&f.h, &mut lap);
        }
        let this = &*self;
        f.h.data
            .par_chunks_mut(k)
            .enumerate()
            .with_min_len(64)
            .for_each(|(j, hj)| {
                let mut a = vec![0.0; k];
                let mut b = vec![0.0; k];
                for t in 0..k {
                    let q: f64 = (0..k).map(|s| dtd.data[s * k + t] * hj[s]).sum();
                    let ho = hj[t];
                    let mut grad = q - dtx.data[j * k + t] + this.mu[t] / (ho + this.epsilon_reg);
                    let mut curv = q / ho;
                    if lap.ncols > 0 {
                        grad += this.lambda * lap.data[j * k + t];
                        curv += this.lambda * SIGMA;
                    }
                    a[t] = curv;
                    b[t] = grad - curv * ho;
                }
                let fx = this.fixed_h.as_ref();
                this.quadratic_update(&a, &b, hj, (this.simplex == Simplex::H).then_some((fx, j)));
                if let Some(fx) = &this.fixed_h {
                    fx.apply_col(j, hj);
                }
            });
        before
    }

    /// The W step: W ∘ GᵀXHᵀ / GᵀGWHHᵀ (the exact minimizer of the bound,
    /// on the simplex when asked).
    pub(super) fn l2_w_step(&mut self, p: &SmoothProblem<'_>, f: &mut Factors<f64>) {
        let hht = outer(f.h.as_ref(), f.h.as_ref());
        let xht = outer(p.x, f.h.as_ref());
        let mut w = f.wt.transpose();
        let (num, den) = match p.g {
            Some(g) => {
                let gtg = self.gtg.get_or_insert_with(|| cross(g, g));
                let gtgw = product(gtg.as_ref(), w.as_ref());
                (cross(g, xht.as_ref()), product(gtgw.as_ref(), hht.as_ref()))
            }
            None => (xht, product(w.as_ref(), hht.as_ref())),
        };
        let m = w.nrows;
        for t in 0..w.ncols {
            let col = w.col_mut(t);
            let mut a = vec![0.0; m];
            let mut b = vec![0.0; m];
            for l in 0..m {
                a[l] = den.get(l, t) / col[l];
                // ½a w² − num·w: the bound's linear part, since a·w̃ = den.
                b[l] = -num.get(l, t);
            }
            let fx = self.fixed_w.as_ref();
            self.quadratic_update(&a, &b, col, (self.simplex == Simplex::W).then_some((fx, t)));
        }
        f.wt = w.transpose();
        if let Some(fx) = &self.fixed_w {
            fx.apply(&mut f.wt);
        }
    }

    /// Minimizes Σ_t ½a_t v_t² + b_t v_t over v ≥ ε into `v` (on the
    /// simplex, as column j of a factor with these fixed entries, when
    /// `simplex` says so); an entry without curvature keeps its value.
    fn quadratic_update(
        &self,
        a: &[f64],
        b: &[f64],
        v: &mut [f64],
        simplex: Option<(Option<&Fixed>, usize)>,
    ) {
        if let Some((fx, j)) = simplex {
            fixed::solve_quadratic_on_simplex(fx, j, a, b, self.eps, v);
            return;
        }
        for t in 0..v.len() {
            if a[t] > 0.0 && a[t].is_finite() {
                v[t] = (-b[t] / a[t]).max(self.eps);
            }
        }
    }
}
