//! Regularized Poisson NMF with a known dictionary, for spectrum images
//! (the model of ESPM's `SmoothNMF`):
//!
//! minimize  D_KL(X ‖ G W H) + ½ λ_L tr(H Δ Hᵀ) + Σ_tj μ_t log(H_tj + ε_reg)
//! (or, with [`SmoothLoss::L2`], ½‖X − GWH‖² in place of the KL term)
//! subject to W ≥ ε, H ≥ ε, and optionally Σ_t H_tj = 1 for every pixel
//! (simplex on H) or Σ_l W_lt = 1 for every component (simplex on W).
//!
//! X is n channels × p pixels, G (n×m) a known dictionary (the identity when
//! absent), W (m×k) learned, GW the k phase spectra and H (k×p) their
//! abundance maps, images of h×w pixels whose 4-neighbour graph Laplacian is
//! Δ. The Laplacian term carries ESPM's ½ (its documentation omits it), so
//! that λ_L means what it means there.
//!
//! Each iteration updates H then W by majorization–minimization: Jensen's
//! bound for the KL term, the quadratic bound ½λσ‖H − H̃‖² (σ = 8 ≥ Δ's
//! largest eigenvalue) around the Laplacian's tangent, and the tangent of
//! the concave log. Every surrogate is separable per entry (per column under
//! the simplex constraint) and minimized exactly — in closed form, or by a
//! 1-D search on the simplex's Lagrange multiplier — so the full objective
//! never increases.

mod fixed;
mod frobenius;
mod laplacian;
mod passes;
#[cfg(target_arch = "x86_64")]
mod pixels_avx2;
#[cfg(target_arch = "x86_64")]
mod pixels_avx512;
mod simplex;
mod solver;
mod start;
mod terms;
mod truth;
mod validate;

pub use laplacian::{Grid, SIGMA};
pub use truth::Truth;

use crate::builder::{setter, setter_some};
use crate::data::Side;
use crate::driver::{self, HistoryEntry, LoopSettings, ProgressFn, Rule, StopReason};
use crate::error::{invalid, Result};
use crate::init::Init;
use crate::matrix::{Mat, MatRef};
use crate::objective::{Objective, Term};
use crate::solver::Factors;
use rayon::prelude::*;
use solver::{MmSolver, SmoothProblem};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

/// Which factor's columns must sum to one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Simplex {
    #[default]
    None,
    /// Every pixel's abundances sum to 1.
    H,
    /// Every component's weights on G sum to 1.
    W,
}

impl Simplex {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Simplex::None),
            "h" | "H" => Ok(Simplex::H),
            "w" | "W" => Ok(Simplex::W),
            _ => Err(invalid(
                "simplex",
                format!("'{s}' is not one of none, h, w"),
            )),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Simplex::None => "none",
            Simplex::H => "h",
            Simplex::W => "w",
        }
    }
}

/// The data term of the smooth model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmoothLoss {
    /// D_KL(X ‖ GWH): Poisson counts (ESPM's default).
    #[default]
    Kl,
    /// ½‖X − GWH‖²: Gaussian noise (ESPM's `l2=True`).
    L2,
}

impl SmoothLoss {
    pub fn name(self) -> &'static str {
        match self {
            SmoothLoss::Kl => "kl",
            SmoothLoss::L2 => "l2",
        }
    }
}

/// Options of the smooth model (builder-style, like [`crate::Nmf`]).
///
/// ```
/// use nmfkit::{smooth::{SmoothNmf, Simplex}, synth};
/// let s = synth::spectra::<f64>(&synth::SpectraOptions { height: 20, width: 20, ..Default::default() });
/// let fit = SmoothNmf::new(3)
///     .lambda_l(2.0).mu(vec![0.05]).simplex(Simplex::H).image_shape(20, 20).max_iter(50)
///     .fit(s.x.as_ref(), Some(s.g.as_ref())).unwrap();
/// assert_eq!((fit.gw.nrows, fit.h.nrows), (200, 3));
/// for j in 0..400 {
///     assert!(((0..3).map(|t| fit.h.get(t, j)).sum::<f64>() - 1.0).abs() < 1e-12);
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SmoothNmf {
    pub rank: usize,
    /// The data term: KL (default) or Frobenius.
    pub loss: SmoothLoss,
    /// Weight λ_L of the Laplacian smoothness term (needs `image_shape`).
    pub lambda_l: f64,
    /// μ of the log term: empty (none), one value, or one per component.
    pub mu: Vec<f64>,
    /// ε_reg, the log term's shift (its slope at 0 is μ/ε_reg).
    pub epsilon_reg: f64,
    /// ε, the lower bound of W and H.
    pub eps: f64,
    pub simplex: Simplex,
    /// (height, width) of the maps; height·width must be the number of pixels.
    pub image_shape: Option<(usize, usize)>,
    /// Scale X by k / (mean(X)·n) so that the weights mean the same whatever
    /// the count level (ESPM's normalization), and undo it on W.
    pub normalize: bool,
    pub max_iter: usize,
    /// Stop when the objective's relative decrease between two evaluations
    /// is below this (0: run `max_iter` iterations).
    pub tol: f64,
    /// Evaluate the objective every this many iterations (the evaluation
    /// costs a logarithm per entry).
    pub eval_every: usize,
    /// Record θ coefficients and factor changes at every evaluation.
    pub diagnostics: bool,
    pub init: Init,
    pub seed: u64,
    pub threads: usize,
    pub time_limit: Option<Duration>,
    /// Also stop when the factors' relative change per iteration is below this.
    pub factor_tol: Option<f64>,
}

impl Default for SmoothNmf {
    fn default() -> Self {
        SmoothNmf {
            rank: 2,
            loss: SmoothLoss::Kl,
            lambda_l: 0.0,
            mu: Vec::new(),
            epsilon_reg: 1.0,
            eps: 1e-14,
            simplex: Simplex::None,
            image_shape: None,
            normalize: false,
            max_iter: 200,
            tol: 1e-4,
            eval_every: 10,
            diagnostics: false,
            init: Init::Auto,
            seed: 0,
            threads: 0,
            time_limit: None,
            factor_tol: None,
        }
    }
}

/// The result of a smooth fit.
#[derive(Clone, Debug)]
pub struct SmoothFit {
    /// m×k (n×k without a dictionary, then equal to `gw`).
    pub w: Mat<f64>,
    /// G·W, the k phase spectra (n×k).
    pub gw: Mat<f64>,
    /// k×p abundance maps.
    pub h: Mat<f64>,
    pub n_iter: usize,
    pub stop: StopReason,
    /// The data term at the end (the KL divergence, or ½‖X − GWH‖² with
    /// [`SmoothLoss::L2`]), on the (normalized, when `normalize`) data.
    pub divergence: f64,
    /// Divergence + penalties at the end.
    pub objective: f64,
    /// "laplacian" (½ λ_L tr(H Δ Hᵀ)) and "log" (Σ μ_t log(H_tj + ε_reg)).
    pub penalty_names: Vec<&'static str>,
    /// Their values at the end.
    pub penalties: Vec<f64>,
    /// One record per evaluation, as every fit has.
    pub history: Vec<HistoryEntry>,
    /// The names of the values each record's `tracked` holds: errors
    /// against the true factors given (see [`Truth`]).
    pub tracked_names: Vec<String>,
    /// The factor X was scaled by (1 without `normalize`).
    pub norm_factor: f64,
    pub fit_time: Duration,
}

impl SmoothFit {
    /// The value of the penalty `name` at the end (0 if absent).
    pub fn penalty(&self, name: &str) -> f64 {
        self.penalty_names
            .iter()
            .position(|n| *n == name)
            .map_or(0.0, |i| self.penalties[i])
    }
}

/// Extra inputs of [`SmoothNmf::fit_with`].
#[derive(Default)]
pub struct SmoothOptions<'a, 'p> {
    /// Initial W (m×k, or n×k without G).
    pub w0: Option<&'a Mat<f64>>,
    /// Initial spectra GW (n×k): W is taken from non-negative least squares
    /// on G.
    pub gw0: Option<&'a Mat<f64>>,
    /// Initial H (k×p).
    pub h0: Option<&'a Mat<f64>>,
    /// ESPM's `fixed_W` (m×k): entries ≥ 0 are kept at that value through
    /// the fit; NaN or negative entries are free.
    pub fixed_w: Option<&'a Mat<f64>>,
    /// ESPM's `fixed_H` (k×p), likewise.
    pub fixed_h: Option<&'a Mat<f64>>,
    /// Known true factors to measure the fit against at every evaluation
    /// (ESPM's `true_D`/`true_H`).
    pub truth: Truth<'a>,
    pub progress: Option<&'a mut ProgressFn<'p>>,
}

impl SmoothNmf {
    pub fn new(rank: usize) -> Self {
        SmoothNmf {
            rank,
            ..Default::default()
        }
    }
    setter!(loss: SmoothLoss);
    setter!(lambda_l: f64);
    setter!(mu: Vec<f64>);
    setter!(epsilon_reg: f64);
    setter!(eps: f64);
    setter!(simplex: Simplex);
    setter!(normalize: bool);
    setter!(max_iter: usize);
    setter!(tol: f64);
    setter!(eval_every: usize);
    setter!(diagnostics: bool);
    setter!(init: Init);
    setter!(seed: u64);
    setter!(threads: usize);
    setter_some!(time_limit: Duration);
    setter_some!(factor_tol: f64);
    pub fn image_shape(mut self, height: usize, width: usize) -> Self {
        self.image_shape = Some((height, width));
        self
    }

    /// Fits X (n channels × p pixels) with the dictionary G (n×m) or none.
    pub fn fit(&self, x: MatRef<'_, f64>, g: Option<MatRef<'_, f64>>) -> Result<SmoothFit> {
        self.fit_with(x, g, SmoothOptions::default())
    }

    /// [`fit`](SmoothNmf::fit) with initial factors and a progress callback.
    pub fn fit_with(
        &self,
        x: MatRef<'_, f64>,
        g: Option<MatRef<'_, f64>>,
        opts: SmoothOptions<'_, '_>,
    ) -> Result<SmoothFit> {
        // The whole fit on a pool's worker: its loops are short, and
        // injected from outside a pool they measured 1.7× slower.
        crate::model::on_pool(self.threads, || self.fit_inner(x, g, opts))
    }

    /// The μ of component t.
    fn mu_of(&self, t: usize) -> f64 {
        match self.mu.len() {
            0 => 0.0,
            1 => self.mu[0],
            _ => self.mu[t],
        }
    }

    fn fit_inner(
        &self,
        x: MatRef<'_, f64>,
        g: Option<MatRef<'_, f64>>,
        opts: SmoothOptions<'_, '_>,
    ) -> Result<SmoothFit> {
        let grid = self.validate(x, g)?;
        let start = Instant::now();
        let (n, p, k) = (x.nrows, x.ncols, self.rank);
        let m = g.map_or(n, |g| g.ncols);
        let norm_factor = if self.normalize {
            let mean = sum_in_blocks(x.data) / (n * p) as f64;
            if mean > 0.0 {
                k as f64 / (mean * n as f64)
            } else {
                1.0
            }
        } else {
            1.0
        };
        let scaled;
        let x = if norm_factor != 1.0 {
            let mut data = vec![0.0; x.data.len()];
            data.par_chunks_mut(BLOCK)
                .zip(x.data.par_chunks(BLOCK))
                .for_each(|(o, i)| o.iter_mut().zip(i).for_each(|(o, v)| *o = v * norm_factor));
            scaled = Mat::from_col_major(n, p, data)?;
            scaled.as_ref()
        } else {
            x
        };
        // Dictionary entries below 1e-200 of its largest (Gaussian tails)
        // change no sum, but products of them are subnormal numbers, which
        // the CPU handles ~100× slower: set them to zero.
        let g_flushed = g.map(|g| {
            let top = g.data.iter().cloned().fold(0.0, f64::max);
            let cut = top * 1e-200;
            let data = g
                .data
                .iter()
                .map(|&v| if v < cut { 0.0 } else { v })
                .collect();
            Mat::from_col_major(g.nrows, g.ncols, data).expect("same shape")
        });
        let g = g_flushed.as_ref().map(|g| g.as_ref());
        let fixed_w = fixed::Fixed::new(opts.fixed_w, "fixed_W", (m, k), true, norm_factor)?;
        let fixed_h = fixed::Fixed::new(opts.fixed_h, "fixed_H", (k, p), false, 1.0)?;
        match (self.simplex, &fixed_w, &fixed_h) {
            (Simplex::W, Some(fx), _) => fx.check_budget("fixed_W", self.eps)?,
            (Simplex::H, _, Some(fx)) => fx.check_budget("fixed_H", self.eps)?,
            _ => {}
        }
        let (mut w, mut h) = self.start(x, g, &opts, m)?;
        // The fixed entries, and under the simplex the free ones scaled
        // (in proportion) to what the fixed leave.
        let fit_in = |fx: &fixed::Fixed, f: &mut Mat<f64>| {
            let ones = vec![1.0; f.nrows];
            for j in 0..f.ncols {
                let col = f.col_mut(j);
                let c = col.to_vec();
                fixed::solve_on_simplex(Some(fx), j, 0.0, &ones, &c, self.eps, col, f64::NAN);
            }
        };
        match (self.simplex, &fixed_w, &fixed_h) {
            (Simplex::W, Some(fx), _) => fit_in(fx, &mut w),
            (Simplex::H, _, Some(fx)) => fit_in(fx, &mut h),
            _ => {}
        }
        let mut wt = w.transpose();
        if let Some(fx) = &fixed_w {
            fx.apply(&mut wt);
        }
        if let Some(fx) = &fixed_h {
            fx.apply(&mut h);
        }
        let mu: Vec<f64> = (0..k).map(|t| self.mu_of(t)).collect();
        let laplacian = terms::Laplacian {
            lambda: self.lambda_l,
            grid,
        };
        let log = terms::LogTerm {
            mu: mu.clone(),
            epsilon_reg: self.epsilon_reg,
        };
        let problem = SmoothProblem { x, g };
        opts.truth.validate(n, p, k)?;
        let tracker = truth::Tracker {
            truth: opts.truth,
            g,
            simplex: self.simplex != Simplex::None,
            loss: self.loss,
            norm_factor,
        };
        let loss = self.loss;
        let objective = Objective {
            data_term: Box::new(move |f: &Factors<f64>| match loss {
                SmoothLoss::Kl => terms::kl(x, g, f),
                SmoothLoss::L2 => frobenius::divergence(x, g, f),
            }),
            terms: vec![&laplacian as &dyn Term<f64>, &log],
            gradient: None,
            track: opts
                .truth
                .is_some()
                .then(|| Box::new(|f: &Factors<f64>| tracker.values(f)) as _),
        };
        let mut solver = MmSolver {
            loss,
            x_sq: match loss {
                SmoothLoss::Kl => 0.0,
                SmoothLoss::L2 => x.data.iter().map(|v| v * v).sum(),
            },
            gtg: None,
            grid,
            lambda: self.lambda_l,
            mu,
            epsilon_reg: self.epsilon_reg,
            eps: self.eps,
            simplex: self.simplex,
            g_sums: match g {
                Some(g) => (0..m).map(|q| g.col(q).iter().sum()).collect(),
                None => vec![1.0; n],
            },
            multipliers: (0..p).map(|_| AtomicU64::new(f64::NAN.to_bits())).collect(),
            r: None,
            fixed_w,
            fixed_h,
        };
        let settings = LoopSettings {
            max_iter: self.max_iter,
            tol: self.tol,
            rule: Rule::Objective,
            eval_every: self.eval_every,
            factor_tol: self.factor_tol,
            time_limit: self.time_limit,
            sides: vec![Side::H, Side::W],
            extrapolate: false,
            // The simplex and the dictionary fix the scales.
            balance: driver::Balancing::Off,
            diagnostics: self.diagnostics,
        };
        let mut f = Factors { wt, h };
        let out = driver::run(
            &problem,
            &mut f,
            &mut solver,
            &objective,
            &settings,
            opts.progress,
        )?;
        let last = out.history.last().expect("the history holds the start");
        let (divergence, total, penalties) =
            (last.divergence, last.objective, last.penalties.clone());
        let mut w = f.wt.transpose();
        let mut gw = terms::spectra(g, &f.wt);
        if norm_factor != 1.0 {
            w.data.iter_mut().for_each(|v| *v /= norm_factor);
            gw.data.iter_mut().for_each(|v| *v /= norm_factor);
            // Fixed entries come back as given, to the bit.
            if let Some(m) = opts.fixed_w {
                for (v, &u) in w.data.iter_mut().zip(&m.data) {
                    if u >= 0.0 {
                        *v = u;
                    }
                }
            }
        }
        Ok(SmoothFit {
            w,
            gw,
            h: f.h,
            n_iter: out.n_iter,
            stop: out.stop,
            divergence,
            objective: total,
            penalty_names: objective.names(),
            penalties,
            history: out.history,
            tracked_names: opts.truth.names(k),
            norm_factor,
            fit_time: start.elapsed(),
        })
    }
}

#[cfg(test)]
mod tests;

/// Entries per block of the data-wide loops below.
const BLOCK: usize = 1 << 16;

/// Σ v in fixed blocks of eight-lane sums, added in order: the same value
/// for any number of threads, and no chain of 2M dependent additions.
fn sum_in_blocks(v: &[f64]) -> f64 {
    let parts: Vec<f64> = v
        .par_chunks(BLOCK)
        .map(|b| {
            let mut acc = [0.0f64; 8];
            let lanes = b.chunks_exact(8);
            let tail: f64 = lanes.remainder().iter().sum();
            for c in lanes {
                for l in 0..8 {
                    acc[l] += c[l];
                }
            }
            acc.iter().sum::<f64>() + tail
        })
        .collect();
    parts.iter().sum()
}
