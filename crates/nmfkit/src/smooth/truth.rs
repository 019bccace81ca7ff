//! Tracking a fit against known true factors (ESPM's `true_D`/`true_H`):
//! at every evaluation, the angle between each true spectrum and the
//! fitted one matched to it, the mean squared error of the matched maps,
//! and the data term of the model against the noiseless truth D·H.
//!
//! Components are matched once per evaluation, by the spectra's angles
//! (Hungarian assignment) when the true spectra are given, else by the
//! maps' squared distances, so an angle and a map error always describe
//! the same pair. Without a simplex constraint the fitted maps are first
//! rescaled, as ESPM does, so that every pixel's abundances sum to one in
//! the least-squares sense (non-negative scales).

use super::terms::spectra;
use super::SmoothLoss;
use crate::error::{invalid, Result};
use crate::matrix::{Mat, MatRef};
use crate::metrics::{map_errors, match_rows, spectral_angle};
use crate::solver::nnls_bpp;
use crate::solver::Factors;

/// Known true factors of a smooth fit.
#[derive(Clone, Copy, Debug, Default)]
pub struct Truth<'a> {
    /// The true spectra D (channels × k), in X's space (G·W_true).
    pub spectra: Option<&'a Mat<f64>>,
    /// The true maps (k × pixels).
    pub maps: Option<&'a Mat<f64>>,
}

impl Truth<'_> {
    pub(crate) fn is_some(&self) -> bool {
        self.spectra.is_some() || self.maps.is_some()
    }

    pub(crate) fn validate(&self, n: usize, p: usize, k: usize) -> Result<()> {
        if let Some(d) = self.spectra {
            if (d.nrows, d.ncols) != (n, k) {
                return Err(invalid(
                    "true_D",
                    format!("has shape {}×{}; the spectra are {n}×{k}", d.nrows, d.ncols),
                ));
            }
        }
        if let Some(h) = self.maps {
            if (h.nrows, h.ncols) != (k, p) {
                return Err(invalid(
                    "true_H",
                    format!("has shape {}×{}; the maps are {k}×{p}", h.nrows, h.ncols),
                ));
            }
        }
        for (what, m) in [("true_D", self.spectra), ("true_H", self.maps)] {
            if m.is_some_and(|m| m.data.iter().any(|v| !v.is_finite())) {
                return Err(invalid(what, "holds NaN or infinite values"));
            }
        }
        Ok(())
    }

    /// The names of the tracked values, in order: `angle_<t>` (degrees)
    /// with true spectra, `map_mse_<t>` with true maps, for every true
    /// component t, and `true_divergence` with both.
    pub(crate) fn names(&self, k: usize) -> Vec<String> {
        let mut names = Vec::new();
        if self.spectra.is_some() {
            names.extend((0..k).map(|t| format!("angle_{t}")));
        }
        if self.maps.is_some() {
            names.extend((0..k).map(|t| format!("map_mse_{t}")));
        }
        if self.spectra.is_some() && self.maps.is_some() {
            names.push("true_divergence".into());
        }
        names
    }
}

/// What [`Truth`] needs from the fit to measure one evaluation.
pub(crate) struct Tracker<'a> {
    pub truth: Truth<'a>,
    pub g: Option<MatRef<'a, f64>>,
    pub simplex: bool,
    pub loss: SmoothLoss,
    /// The factor X was scaled by: the fitted spectra are compared in the
    /// data's own units.
    pub norm_factor: f64,
}

impl Tracker<'_> {
    pub(crate) fn values(&self, f: &Factors<f64>) -> Vec<f64> {
        let k = f.h.nrows;
        let mut d = spectra(self.g, &f.wt);
        d.data.iter_mut().for_each(|v| *v /= self.norm_factor);
        let h = if self.simplex {
            f.h.clone()
        } else {
            pixel_sums_to_one(&f.h)
        };
        let assignment = match (self.truth.spectra, self.truth.maps) {
            (Some(td), _) => match_rows(&d.transpose(), &td.transpose()).assignment,
            (None, Some(th)) => match_maps(&h, th),
            (None, None) => return Vec::new(),
        };
        let mut out = Vec::new();
        if let Some(td) = self.truth.spectra {
            out.extend((0..k).map(|t| spectral_angle(td.col(t), d.col(assignment[t]))));
        }
        if let Some(th) = self.truth.maps {
            out.extend((0..k).map(|t| map_errors(&row(&h, assignment[t]), &row(th, t)).mse));
        }
        if let (Some(td), Some(th)) = (self.truth.spectra, self.truth.maps) {
            out.push(divergence_from_truth(self.loss, td, th, &d, &f.h));
        }
        out
    }
}

fn row(m: &Mat<f64>, i: usize) -> Vec<f64> {
    (0..m.ncols).map(|j| m.get(i, j)).collect()
}

/// H with each row scaled by s ≥ 0 minimizing Σ_j (Σ_t s_t H_tj − 1)².
fn pixel_sums_to_one(h: &Mat<f64>) -> Mat<f64> {
    let (k, p) = (h.nrows, h.ncols);
    let mut gram = vec![0.0; k * k];
    let mut rhs = vec![0.0; k];
    for j in 0..p {
        let c = h.col(j);
        for a in 0..k {
            rhs[a] += c[a];
            for b in 0..k {
                gram[a * k + b] += c[a] * c[b];
            }
        }
    }
    let s = nnls_bpp(&gram, k, &rhs, None);
    Mat::from_fn(k, p, |t, j| h.get(t, j) * s[t].max(1e-10))
}

/// The one-to-one matching of fitted to true maps by least total squared
/// distance (Hungarian assignment).
fn match_maps(h: &Mat<f64>, th: &Mat<f64>) -> Vec<usize> {
    let k = th.nrows;
    let cost: Vec<Vec<f64>> = (0..k)
        .map(|t| {
            (0..k)
                .map(|e| map_errors(&row(h, e), &row(th, t)).mse)
                .collect()
        })
        .collect();
    crate::metrics::hungarian(&cost)
}

/// The data term of the fitted model D·H against the noiseless truth
/// (ESPM's `true_KL_loss`), in the data's units.
fn divergence_from_truth(
    loss: SmoothLoss,
    td: &Mat<f64>,
    th: &Mat<f64>,
    d: &Mat<f64>,
    h: &Mat<f64>,
) -> f64 {
    let (n, p, k) = (td.nrows, th.ncols, th.nrows);
    let mut total = 0.0;
    for j in 0..p {
        for i in 0..n {
            let x: f64 = (0..k).map(|t| td.get(i, t) * th.get(t, j)).sum();
            let y: f64 = (0..k).map(|t| d.get(i, t) * h.get(t, j)).sum();
            total += match loss {
                SmoothLoss::L2 => 0.5 * (x - y) * (x - y),
                SmoothLoss::Kl => {
                    let y = y.max(crate::scalar::EPS32);
                    if x > 0.0 {
                        x * (x / y).ln() - x + y
                    } else {
                        y
                    }
                }
            };
        }
    }
    total
}
