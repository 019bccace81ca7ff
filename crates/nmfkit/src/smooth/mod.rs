//! Regularized Poisson NMF with a known dictionary, for spectrum images
//! (the model of ESPM's `SmoothNMF`):
//!
//! minimize  D_KL(X ‖ G W H) + ½ λ_L tr(H Δ Hᵀ) + Σ_tj μ_t log(H_tj + ε_reg)
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

mod laplacian;
mod passes;
mod simplex;

pub use laplacian::{Grid, SIGMA};

use crate::data::{validate_data, Data, DenseData};
use crate::driver::{Progress, ProgressFn, StopReason};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::init::{initialize, Init};
use crate::linalg::gemm;
use crate::matrix::{Mat, MatRef};
use crate::solver::nnls_bpp;
use faer::Par;
use rayon::prelude::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
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
    pub init: Init,
    pub seed: u64,
    pub threads: usize,
    pub time_limit: Option<Duration>,
}

impl Default for SmoothNmf {
    fn default() -> Self {
        SmoothNmf {
            rank: 2,
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
            init: Init::Auto,
            seed: 0,
            threads: 0,
            time_limit: None,
        }
    }
}

/// The parts of the objective.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Objective {
    pub kl: f64,
    /// ½ λ_L tr(H Δ Hᵀ).
    pub laplacian: f64,
    /// Σ μ_t log(H_tj + ε_reg).
    pub log_term: f64,
}

impl Objective {
    pub fn total(&self) -> f64 {
        self.kl + self.laplacian + self.log_term
    }
}

/// One evaluation of the objective during the fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothHistoryEntry {
    pub iter: usize,
    pub time_s: f64,
    pub objective: Objective,
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
    /// At the end, on the (normalized, when `normalize`) data.
    pub objective: Objective,
    pub history: Vec<SmoothHistoryEntry>,
    /// The factor X was scaled by (1 without `normalize`).
    pub norm_factor: f64,
    pub fit_time: Duration,
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
    pub progress: Option<&'a mut ProgressFn<'p>>,
}

macro_rules! setter {
    ($name:ident: $t:ty) => {
        pub fn $name(mut self, v: $t) -> Self {
            self.$name = v;
            self
        }
    };
}

impl SmoothNmf {
    pub fn new(rank: usize) -> Self {
        SmoothNmf {
            rank,
            ..Default::default()
        }
    }
    setter!(lambda_l: f64);
    setter!(mu: Vec<f64>);
    setter!(epsilon_reg: f64);
    setter!(eps: f64);
    setter!(simplex: Simplex);
    setter!(normalize: bool);
    setter!(max_iter: usize);
    setter!(tol: f64);
    setter!(eval_every: usize);
    setter!(init: Init);
    setter!(seed: u64);
    setter!(threads: usize);
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

    fn validate(&self, x: MatRef<'_, f64>, g: Option<MatRef<'_, f64>>) -> Result<Option<Grid>> {
        let (n, p) = (x.nrows, x.ncols);
        let k = self.rank;
        if k == 0 {
            return Err(NmfError::ZeroRank);
        }
        validate_data(&DenseData::new(x))?;
        if let Some(g) = g {
            if g.nrows != n {
                return Err(NmfError::Shape {
                    what: "G",
                    got: (g.nrows, g.ncols),
                    expected: (n, g.ncols),
                });
            }
            if g.ncols == 0 {
                return Err(invalid("dictionary", "G has no columns"));
            }
            if let Some((row, col, v)) = DenseData::new(g).first_bad_entry() {
                return Err(bad_entry("G", row, col, v));
            }
            if let Some(q) = (0..g.ncols).find(|&q| g.col(q).iter().all(|&v| v == 0.0)) {
                return Err(invalid(
                    "dictionary",
                    format!("column {q} of G is all zeros: its weight could not be learned"),
                ));
            }
        }
        let finite_nonneg = |name: &'static str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(invalid(
                    name,
                    format!("must be a finite number >= 0, got {v}"),
                ))
            }
        };
        finite_nonneg("lambda_l", self.lambda_l)?;
        for &m in &self.mu {
            finite_nonneg("mu", m)?;
        }
        if !(self.mu.len() <= 1 || self.mu.len() == k) {
            return Err(invalid(
                "mu",
                format!(
                    "give one value or one per component ({k}), got {}",
                    self.mu.len()
                ),
            ));
        }
        if !(self.epsilon_reg.is_finite() && self.epsilon_reg > 0.0) {
            return Err(invalid(
                "epsilon_reg",
                format!("must be > 0, got {}", self.epsilon_reg),
            ));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(invalid("eps", format!("must be > 0, got {}", self.eps)));
        }
        let simplex_len = match (self.simplex, g) {
            (Simplex::H, _) => k,
            (Simplex::W, Some(g)) => g.ncols,
            (Simplex::W, None) => n,
            (Simplex::None, _) => 0,
        };
        if simplex_len > 0 && self.eps * simplex_len as f64 >= 1.0 {
            return Err(invalid(
                "eps",
                format!(
                    "{} entries of at least {} cannot sum to 1",
                    simplex_len, self.eps
                ),
            ));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(invalid("tol", format!("must be >= 0, got {}", self.tol)));
        }
        if self.eval_every == 0 {
            return Err(invalid("eval_every", "must be at least 1"));
        }
        let grid = match self.image_shape {
            Some((h, w)) => {
                if h * w != p {
                    return Err(invalid(
                        "image_shape",
                        format!(
                            "{h}x{w} has {} pixels but X has {p} columns (pixels)",
                            h * w
                        ),
                    ));
                }
                Some(Grid {
                    height: h,
                    width: w,
                })
            }
            None if self.lambda_l > 0.0 => {
                return Err(invalid(
                    "image_shape",
                    "the Laplacian term (lambda_l > 0) needs the image shape of the maps",
                ))
            }
            None => None,
        };
        Ok(grid)
    }

    fn fit_inner(
        &self,
        x: MatRef<'_, f64>,
        g: Option<MatRef<'_, f64>>,
        mut opts: SmoothOptions<'_, '_>,
    ) -> Result<SmoothFit> {
        let grid = self.validate(x, g)?;
        let start = Instant::now();
        let (n, p, k) = (x.nrows, x.ncols, self.rank);
        let m = g.map_or(n, |g| g.ncols);
        let norm_factor = if self.normalize {
            let mean = x.data.iter().sum::<f64>() / (n * p) as f64;
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
            scaled = Mat::from_col_major(n, p, x.data.iter().map(|v| v * norm_factor).collect())?;
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
        let (mut w, mut h) = self.start(x, g, &opts, m)?;
        let lam = self.lambda_l;
        let mu: Vec<f64> = (0..k).map(|t| self.mu_of(t)).collect();
        let objective_of = |kl: f64, h: &Mat<f64>| Objective {
            kl,
            laplacian: match grid {
                Some(gr) if lam > 0.0 => 0.5 * lam * gr.quadratic(h),
                _ => 0.0,
            },
            log_term: if mu.iter().any(|&v| v > 0.0) {
                h.data
                    .par_chunks(k)
                    .map(|c| {
                        c.iter()
                            .zip(&mu)
                            .map(|(&v, &mt)| mt * (v + self.epsilon_reg).ln())
                            .sum::<f64>()
                    })
                    .collect::<Vec<f64>>()
                    .iter()
                    .sum() // in order: the same bits every run
            } else {
                0.0
            },
        };
        // Column sums of G (the W step's denominators).
        let g_sums: Vec<f64> = match g {
            Some(g) => (0..m).map(|q| g.col(q).iter().sum()).collect(),
            None => vec![1.0; n],
        };
        let spectra = |w: &Mat<f64>| match g {
            Some(g) => {
                let mut d = Mat::zeros(n, k);
                gemm(
                    &mut d.data,
                    n,
                    k,
                    g,
                    false,
                    w.as_ref(),
                    false,
                    false,
                    Par::Seq,
                );
                d
            }
            None => w.clone(),
        };

        let mut history = Vec::new();
        let mut lap = Mat::zeros(k, p);
        // Each pixel's simplex multiplier, the next iteration's first guess.
        let multipliers: Vec<AtomicU64> =
            (0..p).map(|_| AtomicU64::new(f64::NAN.to_bits())).collect();
        let mut prev: Option<f64> = None;
        let mut it = 0;
        let mut last = Objective::default();
        let stop = loop {
            if it >= self.max_iter {
                break StopReason::MaxIterations;
            }
            if let Some(cb) = opts.progress.as_mut() {
                let pr = Progress {
                    iter: it,
                    max_iter: self.max_iter,
                    elapsed: start.elapsed(),
                    objective: prev.unwrap_or(f64::NAN),
                };
                if let ControlFlow::Break(()) = cb(&pr) {
                    break StopReason::Cancelled;
                }
            }
            if self.time_limit.is_some_and(|tl| start.elapsed() >= tl) {
                break StopReason::TimeLimit;
            }
            let d = spectra(&w);
            let d_sums: Vec<f64> = (0..k).map(|t| d.col(t).iter().sum()).collect();
            if let (Some(gr), true) = (grid, lam > 0.0) {
                gr.apply(&h, &mut lap);
            }
            // The pass also yields the objective at the iteration's start:
            // keep that H in case it says to stop.
            let evaluate = it % self.eval_every == 0;
            let before = evaluate.then(|| h.clone());
            let update = |j: usize, dr: &[f64], hj: &mut [f64]| {
                let nu = &multipliers[j];
                let found = self.h_update(
                    hj,
                    dr,
                    lap.col(j),
                    &d_sums,
                    &mu,
                    lam,
                    f64::from_bits(nu.load(Ordering::Relaxed)),
                );
                nu.store(found.to_bits(), Ordering::Relaxed);
            };
            let (r, kl) = passes::fused(x, &d, &mut h, update, evaluate);
            if let Some(h0) = before {
                last = objective_of(kl, &h0);
                history.push(SmoothHistoryEntry {
                    iter: it,
                    time_s: start.elapsed().as_secs_f64(),
                    objective: last,
                });
                let obj = last.total();
                if let Some(pv) = prev {
                    let rel = (pv - obj) / pv.abs().max(f64::MIN_POSITIVE);
                    if self.tol > 0.0 && rel < self.tol {
                        h = h0;
                        break StopReason::Converged;
                    }
                }
                prev = Some(obj);
            }
            let h_sums: Vec<f64> = (0..k).map(|t| (0..p).map(|j| h.get(t, j)).sum()).collect();
            self.w_step(&mut w, g, &r, &g_sums, &h_sums);
            it += 1;
        };
        // The last evaluation is of the final factors unless the loop
        // stopped before an evaluation (cancel, time limit).
        if history.last().map(|e| e.iter) != Some(it) {
            let d = spectra(&w);
            last = objective_of(passes::kl(x, &d, &h), &h);
            history.push(SmoothHistoryEntry {
                iter: it,
                time_s: start.elapsed().as_secs_f64(),
                objective: last,
            });
        }
        let mut gw = spectra(&w);
        if norm_factor != 1.0 {
            w.data.iter_mut().for_each(|v| *v /= norm_factor);
            gw.data.iter_mut().for_each(|v| *v /= norm_factor);
        }
        Ok(SmoothFit {
            w,
            gw,
            h,
            n_iter: it,
            stop,
            objective: last,
            history,
            norm_factor,
            fit_time: start.elapsed(),
        })
    }

    /// A pixel's new h_j (in place of H̃_j) from the surrogate at H̃: `dr`
    /// is Dᵀ(x_j / D H̃_j), `lap` the column (H̃Δ)_j.
    /// Returns the simplex multiplier (NaN without the simplex).
    #[allow(clippy::too_many_arguments)]
    fn h_update(
        &self,
        hj: &mut [f64],
        dr: &[f64],
        lap: &[f64],
        d_sums: &[f64],
        mu: &[f64],
        lam: f64,
        guess: f64,
    ) -> f64 {
        let k = hj.len();
        let a = lam * SIGMA;
        let er = self.epsilon_reg;
        let mut b = [0.0f64; 16];
        let mut c = [0.0f64; 16];
        let (mut bv, mut cv);
        let (b, c): (&mut [f64], &mut [f64]) = if k <= 16 {
            (&mut b[..k], &mut c[..k])
        } else {
            bv = vec![0.0; k];
            cv = vec![0.0; k];
            (&mut bv[..], &mut cv[..])
        };
        for t in 0..k {
            let ho = hj[t];
            let mut bt = d_sums[t] + mu[t] / (ho + er);
            if lam > 0.0 {
                bt += lam * lap[t] - a * ho;
            }
            b[t] = bt;
            c[t] = ho * dr[t];
        }
        if self.simplex == Simplex::H {
            simplex::solve(a, b, c, self.eps, hj, guess)
        } else {
            for t in 0..k {
                hj[t] = simplex::argmin(a, b[t], c[t]).max(self.eps);
            }
            f64::NAN
        }
    }

    /// The new W from Jensen's bound: W ∘ Gᵀ R over (Gᵀ1)(H1)ᵀ.
    fn w_step(
        &self,
        w: &mut Mat<f64>,
        g: Option<MatRef<'_, f64>>,
        r: &Mat<f64>,
        g_sums: &[f64],
        h_sums: &[f64],
    ) {
        let (m, k) = (w.nrows, w.ncols);
        let gr = match g {
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
            None => r.clone(),
        };
        let eps = self.eps;
        for t in 0..k {
            let num: Vec<f64> = (0..m).map(|l| w.get(l, t) * gr.get(l, t)).collect();
            let den: Vec<f64> = (0..m).map(|l| g_sums[l] * h_sums[t]).collect();
            let col = w.col_mut(t);
            if self.simplex == Simplex::W {
                simplex::solve(0.0, &den, &num, eps, col, f64::NAN);
            } else {
                for l in 0..m {
                    col[l] = (num[l] / den[l]).max(eps);
                }
            }
        }
    }

    /// Initial W (m×k) and H (k×p), feasible for the constraints.
    fn start(
        &self,
        x: MatRef<'_, f64>,
        g: Option<MatRef<'_, f64>>,
        opts: &SmoothOptions<'_, '_>,
        m: usize,
    ) -> Result<(Mat<f64>, Mat<f64>)> {
        let (n, p, k) = (x.nrows, x.ncols, self.rank);
        let check = |what: &'static str, a: &Mat<f64>, shape: (usize, usize)| -> Result<()> {
            if (a.nrows, a.ncols) != shape {
                return Err(NmfError::Shape {
                    what,
                    got: (a.nrows, a.ncols),
                    expected: shape,
                });
            }
            if let Some((row, col, v)) = DenseData::new(a.as_ref()).first_bad_entry() {
                return Err(bad_entry(what, row, col, v));
            }
            if a.data.iter().all(|&v| v == 0.0) {
                return Err(NmfError::AllZero { what });
            }
            Ok(())
        };
        if opts.w0.is_some() && opts.gw0.is_some() {
            return Err(invalid("init", "give W0 or GW0, not both"));
        }
        let (mut d, mut h) = match opts.h0 {
            Some(h0) => {
                check("H", h0, (k, p))?;
                (None, h0.clone())
            }
            None => {
                let (wt, h) = initialize(&DenseData::new(x), k, self.init, self.seed)?;
                (Some(wt.transpose()), h)
            }
        };
        let mut w = if let Some(w0) = opts.w0 {
            check("W", w0, (m, k))?;
            Some(w0.clone())
        } else {
            None
        };
        if let Some(gw0) = opts.gw0 {
            check("GW", gw0, (n, k))?;
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
            (None, Some(d), Some(g)) => nnls_on(g, &d),
            (None, None, _) => {
                // H was given without W: D from least squares of X on H.
                let d = least_squares_spectra(x, &h);
                match g {
                    Some(g) => nnls_on(g, &d),
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

/// W ≥ 0 minimizing ‖G W − D‖_F, column by column (NNLS, block pivoting).
fn nnls_on(g: MatRef<'_, f64>, d: &Mat<f64>) -> Mat<f64> {
    let (m, k) = (g.ncols, d.ncols);
    let mut gtg = vec![0.0; m * m];
    gemm(&mut gtg, m, m, g, true, g, false, false, Par::Seq);
    let mut gtd = vec![0.0; m * k];
    gemm(&mut gtd, m, k, g, true, d.as_ref(), false, false, Par::Seq);
    let sol = nnls_bpp(&gtg, m, &gtd, None);
    Mat::from_col_major(m, k, sol).expect("m×k solution")
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

#[cfg(test)]
mod tests;
