//! The smooth model's majorization–minimization updates, as a solver the
//! driver runs: H then W every iteration.
//!
//! H: Jensen's bound for the KL term, the quadratic bound ½λσ‖H − H̃‖²
//! (σ = 8 ≥ Δ's largest eigenvalue) around the Laplacian's tangent, and the
//! tangent of the concave log. The surrogate is separable per entry (per
//! column under the simplex constraint) and minimized exactly — in closed
//! form, or by a 1-D search on the simplex's Lagrange multiplier. W:
//! Jensen's bound, W ∘ Gᵀ R over (Gᵀ1)(H1)ᵀ. So the objective never
//! increases. The H step's pass over X also gives R for the W step and the
//! KL divergence of the factors it started from (the driver's evaluations
//! come from there, one half-step late).

use super::fixed::{self, Fixed};
use super::laplacian::{Grid, SIGMA};
use super::terms::spectra;
use super::{passes, simplex, Simplex, SmoothLoss};
use crate::data::{Problem, Side};
use crate::linalg::gemm;
use crate::matrix::{Mat, MatRef};
use crate::solver::{Factors, Solver, StepInfo, Want};
use faer::Par;
use std::sync::atomic::{AtomicU64, Ordering};

/// X (channels × pixels, normalized when asked) and the dictionary G.
pub(crate) struct SmoothProblem<'a> {
    pub x: MatRef<'a, f64>,
    pub g: Option<MatRef<'a, f64>>,
}

impl Problem for SmoothProblem<'_> {}

pub(crate) struct MmSolver {
    pub loss: SmoothLoss,
    /// ‖X‖² (the Frobenius data term's Gram form).
    pub x_sq: f64,
    /// GᵀG, made at the first Frobenius W step.
    pub gtg: Option<Mat<f64>>,
    pub grid: Option<Grid>,
    pub lambda: f64,
    pub mu: Vec<f64>,
    pub epsilon_reg: f64,
    pub eps: f64,
    pub simplex: Simplex,
    /// Column sums of G (the W step's denominators).
    pub g_sums: Vec<f64>,
    /// Each pixel's simplex multiplier, the next iteration's first guess.
    pub multipliers: Vec<AtomicU64>,
    /// Σ_j r_j h_jᵀ at the current H, from the last H step's pass.
    pub r: Option<Mat<f64>>,
    /// Entries of W (as Wᵀ) and H kept at given values (ESPM's fixed_W/H).
    pub fixed_w: Option<Fixed>,
    pub fixed_h: Option<Fixed>,
}

impl MmSolver {
    /// The surrogate's linear coefficients at H̃ for every entry (k×p):
    /// b = Σ_i D_it + μ_t/(H̃ + ε_reg) + λ(H̃Δ) − λσH̃. They depend on H̃
    /// alone, so they are made before the pass, in one vectorized loop,
    /// and the divisions leave the chain each pixel's update waits on.
    fn linear_terms(&self, h: &Mat<f64>, d_sums: &[f64]) -> Mat<f64> {
        let (k, px) = (h.nrows, h.ncols);
        let lam = self.lambda;
        let a = lam * SIGMA;
        let er = self.epsilon_reg;
        let mut b = Mat::zeros(k, px);
        if let (Some(gr), true) = (self.grid, lam > 0.0) {
            gr.apply(h, &mut b);
        }
        let mu = &self.mu;
        // b holds HΔ here (zeros without a grid), replaced entry by entry.
        for (bj, hj) in b.data.chunks_exact_mut(k).zip(h.data.chunks_exact(k)) {
            for t in 0..k {
                let mut v = d_sums[t] + mu[t] / (hj[t] + er);
                if lam > 0.0 {
                    v += lam * bj[t] - a * hj[t];
                }
                bj[t] = v;
            }
        }
        b
    }

    /// A pixel's new h_j (in place of H̃_j) from the surrogate at H̃: `dr`
    /// is Dᵀ(x_j / D H̃_j), `b` the column of [`Self::linear_terms`].
    /// Returns the simplex multiplier (NaN without the simplex).
    fn h_update(&self, j: usize, hj: &mut [f64], dr: &[f64], b: &[f64], guess: f64) -> f64 {
        let k = hj.len();
        let a = self.lambda * SIGMA;
        let mut c = [0.0f64; 16];
        let mut cv;
        let c: &mut [f64] = if k <= 16 {
            &mut c[..k]
        } else {
            cv = vec![0.0; k];
            &mut cv[..]
        };
        for t in 0..k {
            c[t] = hj[t] * dr[t];
        }
        if self.simplex == Simplex::H {
            fixed::solve_on_simplex(self.fixed_h.as_ref(), j, a, b, c, self.eps, hj, guess)
        } else {
            for t in 0..k {
                hj[t] = simplex::argmin(a, b[t], c[t]).max(self.eps);
            }
            f64::NAN
        }
    }

    /// The H step: one pass over X that updates every pixel, measures the
    /// KL divergence it started from when asked, and keeps R for W.
    fn h_step(
        &mut self,
        p: &SmoothProblem<'_>,
        f: &mut Factors<f64>,
        measure: bool,
    ) -> Option<f64> {
        let k = f.h.nrows;
        let d = spectra(p.g, &f.wt);
        let d_sums: Vec<f64> = (0..k).map(|t| d.col(t).iter().sum()).collect();
        let b = self.linear_terms(&f.h, &d_sums);
        let this = &*self;
        let update = |j: usize, dr: &[f64], hj: &mut [f64]| {
            let nu = &this.multipliers[j];
            let guess = f64::from_bits(nu.load(Ordering::Relaxed));
            let found = this.h_update(j, hj, dr, b.col(j), guess);
            if let Some(fx) = &this.fixed_h {
                fx.apply_col(j, hj);
            }
            nu.store(found.to_bits(), Ordering::Relaxed);
        };
        let (r, kl) = passes::fused(p.x, &d, &mut f.h, update, measure);
        self.r = Some(r);
        measure.then_some(kl)
    }

    /// The W step from Jensen's bound: W ∘ Gᵀ R over (Gᵀ1)(H1)ᵀ.
    fn w_step(&mut self, p: &SmoothProblem<'_>, f: &mut Factors<f64>) {
        let r = match self.r.take() {
            Some(r) => r,
            // The factors changed since the last H pass: R at the current H.
            None => {
                let d = spectra(p.g, &f.wt);
                passes::fused(p.x, &d, &mut f.h, |_, _, _| {}, false).0
            }
        };
        let (k, px) = (f.h.nrows, f.h.ncols);
        let h_sums: Vec<f64> = (0..k)
            .map(|t| (0..px).map(|j| f.h.get(t, j)).sum())
            .collect();
        let mut w = f.wt.transpose();
        let m = w.nrows;
        let gr = match p.g {
            Some(g) => {
                let mut out = Mat::zeros(m, k);
                gemm(
                    &mut out.data,
                    m,
                    k,
                    g,
                    true,
                    r.as_ref(),
                    false,
                    false,
                    Par::Seq,
                );
                out
            }
            None => r,
        };
        let eps = self.eps;
        for t in 0..k {
            let num: Vec<f64> = (0..m).map(|l| w.get(l, t) * gr.get(l, t)).collect();
            let den: Vec<f64> = (0..m).map(|l| self.g_sums[l] * h_sums[t]).collect();
            let col = w.col_mut(t);
            if self.simplex == Simplex::W {
                fixed::solve_on_simplex(
                    self.fixed_w.as_ref(),
                    t,
                    0.0,
                    &den,
                    &num,
                    eps,
                    col,
                    f64::NAN,
                );
            } else {
                for l in 0..m {
                    col[l] = (num[l] / den[l]).max(eps);
                }
            }
        }
        f.wt = w.transpose();
        if let Some(fx) = &self.fixed_w {
            fx.apply(&mut f.wt);
        }
    }
}

impl<'a> Solver<f64, SmoothProblem<'a>> for MmSolver {
    fn half_step(
        &mut self,
        p: &SmoothProblem<'a>,
        f: &mut Factors<f64>,
        side: Side,
        want: Want,
    ) -> StepInfo {
        match (side, self.loss) {
            (Side::H, SmoothLoss::Kl) => StepInfo {
                divergence_before: self.h_step(p, f, want.before),
                ..Default::default()
            },
            (Side::H, SmoothLoss::L2) => StepInfo {
                divergence_before: self.l2_h_step(p, f, want.before),
                ..Default::default()
            },
            (Side::W, SmoothLoss::Kl) => {
                self.w_step(p, f);
                StepInfo::default()
            }
            (Side::W, SmoothLoss::L2) => {
                self.l2_w_step(p, f);
                StepInfo::default()
            }
        }
    }

    fn forget(&mut self) {
        self.r = None;
    }

    fn measures_before(&self) -> bool {
        true
    }
}
