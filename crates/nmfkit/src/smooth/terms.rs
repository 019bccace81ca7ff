//! The smooth model's objective, as the driver evaluates it: the KL data
//! term of X against G·W·H, and the two penalty terms on H.

use super::laplacian::Grid;
use super::passes;
use crate::linalg::gemm;
use crate::matrix::{Mat, MatRef};
use crate::objective::Term;
use crate::solver::Factors;
use faer::Par;
use rayon::prelude::*;

/// ½ λ_L tr(H Δ Hᵀ): smooth abundance maps.
pub(crate) struct Laplacian {
    pub lambda: f64,
    pub grid: Option<Grid>,
}

impl Term<f64> for Laplacian {
    fn name(&self) -> &'static str {
        "laplacian"
    }
    fn value(&self, f: &Factors<f64>) -> f64 {
        match self.grid {
            Some(g) if self.lambda > 0.0 => 0.5 * self.lambda * g.quadratic(&f.h),
            _ => 0.0,
        }
    }
}

/// Σ_tj μ_t log(H_tj + ε_reg): sparse abundances.
pub(crate) struct LogTerm {
    /// μ of every component.
    pub mu: Vec<f64>,
    pub epsilon_reg: f64,
}

impl Term<f64> for LogTerm {
    fn name(&self) -> &'static str {
        "log"
    }
    fn value(&self, f: &Factors<f64>) -> f64 {
        if !self.mu.iter().any(|&v| v > 0.0) {
            return 0.0;
        }
        let k = f.h.nrows;
        f.h.data
            .par_chunks(k)
            .map(|c| {
                c.iter()
                    .zip(&self.mu)
                    .map(|(&v, &mt)| mt * (v + self.epsilon_reg).ln())
                    .sum::<f64>()
            })
            .collect::<Vec<f64>>()
            .iter()
            .sum() // in order: the same bits every run
    }
}

/// D = G·W (n×k) from Wᵀ (k×m); W itself without a dictionary.
pub(crate) fn spectra(g: Option<MatRef<'_, f64>>, wt: &Mat<f64>) -> Mat<f64> {
    match g {
        Some(g) => {
            let (n, k) = (g.nrows, wt.nrows);
            let mut d = Mat::zeros(n, k);
            gemm(
                &mut d.data,
                n,
                k,
                g,
                false,
                wt.as_ref(),
                true,
                false,
                Par::Seq,
            );
            d
        }
        None => wt.transpose(),
    }
}

/// D_KL(X ‖ G W H).
pub(crate) fn kl(x: MatRef<'_, f64>, g: Option<MatRef<'_, f64>>, f: &Factors<f64>) -> f64 {
    passes::kl(x, &spectra(g, &f.wt), &f.h)
}
