//! Weighted and missing entries: minimize Σ_ij M_ij · d_β(X_ij, (WH)_ij)
//! (+ the elastic net) with M ≥ 0 a weight per entry; M_ij = 0 marks a
//! missing entry, whose stored value (even NaN) is never read.
//!
//! Dense X with dense weights here ([`Nmf::fit_masked`]); sparse X with
//! sparse weights — holes in data whose unstored entries are zeros, or only
//! the listed entries observed — in `sparse.rs` ([`Nmf::fit_masked_sparse`],
//! [`Nmf::fit_observed`]). In f64. Solvers:
//! - `mu`: multiplicative updates for every β, with the mask inside both
//!   products (Wᵀ(M∘X∘(WH)^{β−2}) over Wᵀ(M∘(WH)^{β−1})), Févotte–Idier's
//!   exponent outside [1, 2];
//! - `cd` / `hals` (Frobenius): every row of W (column of H) has its own
//!   weighted Gram H·diag(m_i)·Hᵀ; coordinate sweeps on it, repeated while
//!   they move the row;
//! - `anls` (Frobenius): the same rows solved exactly (block pivoting).
//!
//! The weighted Grams are the full Gram corrected by the entries whose
//! weight is not 1, or summed directly over the non-zero weights, whichever
//! touches fewer entries — a few holes, or mostly-missing ratings, both cost
//! in proportion to what is special.

use crate::data::DenseData;
use crate::driver::{HistoryEntry, Progress, StopReason};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::init::initialize;
use crate::linalg::gemm;
use crate::matrix::{Mat, MatRef};
use crate::model::{FitOptions, Nmf, NmfFit};
use crate::regularization::Penalty;
use crate::scalar::EPS32;
use crate::solver::{nnls_bpp, SolverKind};
use faer::Par;
use rayon::prelude::*;
use std::ops::ControlFlow;
use std::time::Instant;

/// X with its NaN entries marked missing: (X with NaN replaced by 0, weights
/// 1 where X is a number and 0 where it is NaN).
pub fn nan_mask(x: MatRef<'_, f64>) -> (Mat<f64>, Mat<f64>) {
    let filled = x
        .data
        .iter()
        .map(|&v| if v.is_nan() { 0.0 } else { v })
        .collect();
    let weights = x
        .data
        .iter()
        .map(|&v| if v.is_nan() { 0.0 } else { 1.0 })
        .collect();
    (
        Mat::from_col_major(x.nrows, x.ncols, filled).expect("same shape"),
        Mat::from_col_major(x.nrows, x.ncols, weights).expect("same shape"),
    )
}

/// X with every missing entry (weight 0) replaced by (WH)_ij.
pub fn impute(
    x: MatRef<'_, f64>,
    weights: MatRef<'_, f64>,
    w: &Mat<f64>,
    h: &Mat<f64>,
) -> Mat<f64> {
    let wh = crate::model::inverse_transform(w, h);
    let data = x
        .data
        .iter()
        .zip(weights.data)
        .zip(&wh.data)
        .map(|((&xv, &m), &y)| if m == 0.0 { y } else { xv })
        .collect();
    Mat::from_col_major(x.nrows, x.ncols, data).expect("same shape")
}

/// One entry's β-divergence with scikit-learn's conventions (WH floored at
/// float32 epsilon where a log or a division needs it; X = 0 entries of the
/// X-dependent terms drop out).
#[inline]
fn divergence(x: f64, y: f64, beta: f64) -> f64 {
    if beta == 2.0 {
        0.5 * (x - y) * (x - y)
    } else if beta == 1.0 {
        // X = 0 leaves y itself, unfloored (scikit-learn sums WH as it is).
        if x > 0.0 {
            let y = y.max(EPS32);
            x * (x / y).ln() - x + y
        } else {
            y
        }
    } else if beta == 0.0 {
        let r = x / y.max(EPS32);
        r - r.ln() - 1.0
    } else {
        let y = y.max(EPS32);
        (x.powf(beta) + (beta - 1.0) * y.powf(beta) - beta * x * y.powf(beta - 1.0))
            / (beta * (beta - 1.0))
    }
}

/// Σ M ∘ d_β(X, WH).
pub fn masked_divergence(
    x: MatRef<'_, f64>,
    weights: MatRef<'_, f64>,
    w: &Mat<f64>,
    h: &Mat<f64>,
    beta: f64,
) -> f64 {
    let wh = crate::model::inverse_transform(w, h);
    loss_of(x, weights, &wh, beta)
}

fn loss_of(x: MatRef<'_, f64>, weights: MatRef<'_, f64>, wh: &Mat<f64>, beta: f64) -> f64 {
    let n = x.nrows;
    let parts: Vec<f64> = (0..x.ncols)
        .into_par_iter()
        .map(|j| {
            let (xc, mc, yc) = (
                &x.data[j * n..(j + 1) * n],
                &weights.data[j * n..(j + 1) * n],
                &wh.data[j * n..(j + 1) * n],
            );
            let mut s = 0.0;
            for i in 0..n {
                if mc[i] > 0.0 {
                    s += mc[i] * divergence(xc[i], yc[i], beta);
                }
            }
            s
        })
        .collect();
    parts.iter().sum()
}

/// Checks X and its weights; returns M∘X with exact zeros at missing entries.
fn validate(x: MatRef<'_, f64>, weights: MatRef<'_, f64>, beta: f64) -> Result<Mat<f64>> {
    let (n, m) = (x.nrows, x.ncols);
    if n == 0 || m == 0 {
        return Err(NmfError::Empty { rows: n, cols: m });
    }
    if (weights.nrows, weights.ncols) != (n, m) {
        return Err(NmfError::Shape {
            what: "mask",
            got: (weights.nrows, weights.ncols),
            expected: (n, m),
        });
    }
    for j in 0..m {
        for i in 0..n {
            let (v, wt) = (x.data[j * n + i], weights.data[j * n + i]);
            if !(wt.is_finite() && wt >= 0.0) {
                return Err(bad_entry("mask", i, j, wt));
            }
            if wt > 0.0 {
                if !v.is_finite() {
                    return Err(NmfError::NonFinite {
                        what: "X",
                        row: i,
                        col: j,
                        value: v,
                    });
                }
                if v < 0.0 {
                    return Err(NmfError::Negative {
                        what: "X",
                        row: i,
                        col: j,
                        value: v,
                    });
                }
                if beta <= 0.0 && v == 0.0 {
                    return Err(NmfError::ZerosWithNonPositiveBeta { beta });
                }
            }
        }
    }
    if weights.data.iter().all(|&w| w == 0.0) {
        return Err(invalid(
            "mask",
            "every entry is missing: there is nothing to fit",
        ));
    }
    let mx = x
        .data
        .iter()
        .zip(weights.data)
        .map(|(&v, &w)| if w > 0.0 { w * v } else { 0.0 })
        .collect();
    Mat::from_col_major(n, m, mx)
}

impl Nmf {
    /// Fits W and H to the entries of X with weights `weights` (n×m, ≥ 0;
    /// 0 = missing, its value in X ignored even if NaN).
    ///
    /// ```
    /// use nmfkit::{masked, synth, Mat, Nmf, SolverKind};
    /// let x = synth::low_rank::<f64>(40, 30, 3, 0.0, 1).x;
    /// let weights = Mat::from_fn(40, 30, |i, j| if (i * 7 + j) % 5 == 0 { 0.0 } else { 1.0 });
    /// let fit = Nmf::new(3).solver(SolverKind::AnlsBpp).max_iter(300).tol(1e-12)
    ///     .fit_masked(x.as_ref(), weights.as_ref()).unwrap();
    /// let filled = masked::impute(x.as_ref(), weights.as_ref(), &fit.w, &fit.h);
    /// assert!((filled.get(0, 0) - x.get(0, 0)).abs() < 1e-4 * x.get(0, 0));
    /// ```
    pub fn fit_masked(&self, x: MatRef<'_, f64>, weights: MatRef<'_, f64>) -> Result<NmfFit<f64>> {
        self.fit_masked_with(x, weights, FitOptions::default())
    }

    /// [`fit_masked`](Nmf::fit_masked) with initial factors, a fixed H
    /// (`update_h = false`: the masked transform) and a progress callback.
    pub fn fit_masked_with(
        &self,
        x: MatRef<'_, f64>,
        weights: MatRef<'_, f64>,
        opts: FitOptions<'_, '_, f64>,
    ) -> Result<NmfFit<f64>> {
        crate::model::on_pool(self.threads, || self.masked_inner(x, weights, opts))
    }

    fn masked_inner(
        &self,
        x: MatRef<'_, f64>,
        weights: MatRef<'_, f64>,
        mut opts: FitOptions<'_, '_, f64>,
    ) -> Result<NmfFit<f64>> {
        let beta = self.masked_model()?;
        let mx = validate(x, weights, beta)?;
        if !opts.update_w {
            return Err(invalid(
                "update_w",
                "a masked fit with W fixed is not supported; fit the transpose",
            ));
        }
        let (n, m, k) = (x.nrows, x.ncols, self.rank);
        let t0 = Instant::now();
        let mean = mx.data.iter().sum::<f64>() / weights.data.iter().sum::<f64>();
        let (mut w, mut h, init_used) = match self.given_start(&opts, (n, m), mean)? {
            Some((w, h)) => (w, h, None),
            _ => {
                // Missing entries filled with their column's observed mean
                // for the initialization only.
                let filled = column_mean_fill(x, weights);
                let init = self.init.resolve(k, n, m);
                let (wt, h) = initialize(&DenseData::new(filled.as_ref()), k, init, self.seed)?;
                (wt.transpose(), h, Some(init))
            }
        };
        let init_time = t0.elapsed();
        let pen = self.regularization.penalties(n, m);
        let objective = |w: &Mat<f64>, h: &Mat<f64>| {
            let wh = crate::model::inverse_transform(w, h);
            let loss = loss_of(x, weights, &wh, beta);
            (loss, loss + pen.w.value(w) + pen.h.value(h))
        };
        let w_first = self.solver != SolverKind::Mu;
        let mut ws = Workspace::new(weights, self.solver == SolverKind::Mu, beta);
        let first = objective(&w, &h);
        // ½ Σ M∘X², for the Frobenius loss from a half-step's own products.
        let sq: f64 = mx
            .data
            .iter()
            .zip(x.data)
            .zip(weights.data)
            .map(|((a, v), w)| if *w > 0.0 { a * v } else { 0.0 })
            .sum();
        let end = iterate(self, opts.progress.take(), first, || {
            let update_w = |w: &mut Mat<f64>, h: &Mat<f64>, ws: &mut Workspace| {
                self.masked_half(&mx, weights, x, w, h, Side::W, pen.w, beta, ws)
            };
            let update_h = |w: &Mat<f64>, h: &mut Mat<f64>, ws: &mut Workspace| {
                let mut ht = h.transpose();
                let parts = self.masked_half(&mx, weights, x, &mut ht, w, Side::H, pen.h, beta, ws);
                *h = ht.transpose();
                parts
            };
            let last = if w_first {
                let parts = update_w(&mut w, &h, &mut ws);
                if opts.update_h {
                    update_h(&w, &mut h, &mut ws)
                } else {
                    parts
                }
            } else {
                if opts.update_h {
                    update_h(&w, &mut h, &mut ws);
                }
                update_w(&mut w, &h, &mut ws)
            };
            // The closed form rounds at ~1e-16·ΣM∘X²: trusted while the
            // loss is above 1e-3 of that (relative error ≤ ~1e-12), else the
            // loss is summed entry by entry.
            match last {
                Some((cross, quad)) if 0.5 * (sq - 2.0 * cross + quad) > 1e-3 * 0.5 * sq => {
                    let loss = 0.5 * (sq - 2.0 * cross + quad);
                    (loss, loss + pen.w.value(&w) + pen.h.value(&h))
                }
                _ => objective(&w, &h),
            }
        });
        Ok(end.into_fit(w, h, init_used, init_time))
    }
    /// Checks what every masked fit needs of the estimator; returns β.
    pub(crate) fn masked_model(&self) -> Result<f64> {
        if self.rank == 0 {
            return Err(NmfError::ZeroRank);
        }
        let beta = self.loss.beta();
        if beta != 2.0 && self.solver != SolverKind::Mu {
            return Err(NmfError::Unsupported {
                solver: self.solver.name(),
                what: format!("beta = {beta} (use mu)"),
            });
        }
        self.regularization.validate()?;
        Ok(beta)
    }

    /// The start a caller gave a masked fit: both factors, or a fixed H with
    /// W filled with √(mean/k) for `mu` (zeros for the row solvers, which
    /// solve W from scratch). `None`: initialize. `mean` is the observed mean.
    pub(crate) fn given_start(
        &self,
        opts: &FitOptions<'_, '_, f64>,
        (n, m): (usize, usize),
        mean: f64,
    ) -> Result<Option<(Mat<f64>, Mat<f64>)>> {
        let k = self.rank;
        if self.extrapolate {
            return Err(NmfError::Unsupported {
                solver: self.solver.name(),
                what: "extrapolation in a masked fit (it has its own loop)".into(),
            });
        }
        match (opts.w0, opts.h0, opts.update_h) {
            (Some(w0), Some(h0), true) => {
                check(w0, (n, k), "W")?;
                check(h0, (k, m), "H")?;
                Ok(Some((w0.clone(), h0.clone())))
            }
            (_, Some(h0), false) => {
                check(h0, (k, m), "H")?;
                let fill = if self.solver == SolverKind::Mu {
                    (mean / k as f64).sqrt()
                } else {
                    0.0
                };
                Ok(Some((
                    Mat::from_col_major(n, k, vec![fill; n * k])?,
                    h0.clone(),
                )))
            }
            (_, None, false) => Err(invalid(
                "h0",
                "a fixed H is required when update_h is false",
            )),
            _ => Ok(None),
        }
    }

    /// Updates the rows of `f` (n×k for W; for H its transpose, m×k) with the
    /// other factor `g` fixed. `Side::W`: rows of X; `Side::H`: columns.
    /// Returns, for the Frobenius loss, (Σ M∘X∘FG, Σ M∘(FG)²) after the step
    /// from the step's own products (so the loss needs no n×m product).
    #[allow(clippy::too_many_arguments)]
    fn masked_half(
        &self,
        mx: &Mat<f64>,
        weights: MatRef<'_, f64>,
        x: MatRef<'_, f64>,
        f: &mut Mat<f64>,
        g: &Mat<f64>,
        side: Side,
        pen: Penalty,
        beta: f64,
        ws: &mut Workspace,
    ) -> Option<(f64, f64)> {
        match self.solver {
            SolverKind::Mu if beta == 2.0 || beta == 1.0 => {
                mu_half_listed(mx, x, weights, f, g, side, pen, beta, ws)
            }
            SolverKind::Mu => {
                mu_half(x, weights, f, g, side, pen, beta, ws);
                None
            }
            SolverKind::AnlsBpp => Some(rows_half(mx, f, g, side, pen, true, ws)),
            SolverKind::Cd | SolverKind::Hals => Some(rows_half(mx, f, g, side, pen, false, ws)),
        }
    }
}

/// How the loop of a masked fit ended.
pub(crate) struct LoopEnd {
    stop: StopReason,
    history: Vec<HistoryEntry>,
    n_iter: usize,
    loss: f64,
    objective: f64,
    fit_time: std::time::Duration,
}

impl LoopEnd {
    fn into_fit(
        self,
        w: Mat<f64>,
        h: Mat<f64>,
        init: Option<crate::Init>,
        init_time: std::time::Duration,
    ) -> NmfFit<f64> {
        NmfFit {
            w,
            h,
            n_iter: self.n_iter,
            stop: self.stop,
            loss: self.loss,
            objective: self.objective,
            reconstruction_err: (2.0 * self.loss.max(0.0)).sqrt(),
            history: self.history,
            init,
            init_time,
            fit_time: self.fit_time,
        }
    }
}

/// The loop the masked fits share: max iterations, progress callback, time
/// limit, relative decrease of the objective, history. `first` is (loss,
/// objective) at the start; `step` runs one iteration and returns them.
pub(crate) fn iterate(
    est: &Nmf,
    mut progress: Option<&mut crate::ProgressFn<'_>>,
    first: (f64, f64),
    mut step: impl FnMut() -> (f64, f64),
) -> LoopEnd {
    let start = Instant::now();
    let (mut loss, mut prev) = first;
    let mut history = vec![HistoryEntry {
        iter: 0,
        time_s: 0.0,
        objective: prev,
        loss,
        rel_decrease: None,
        violation: None,
    }];
    let mut it = 0;
    let stop = loop {
        if it >= est.max_iter {
            break StopReason::MaxIterations;
        }
        if let Some(cb) = progress.as_mut() {
            let p = Progress {
                iter: it,
                max_iter: est.max_iter,
                elapsed: start.elapsed(),
                objective: prev,
            };
            if let ControlFlow::Break(()) = cb(&p) {
                break StopReason::Cancelled;
            }
        }
        if est.time_limit.is_some_and(|t| start.elapsed() >= t) {
            break StopReason::TimeLimit;
        }
        let (l, o) = step();
        it += 1;
        loss = l;
        let rel = (prev - o) / prev.abs().max(f64::MIN_POSITIVE);
        history.push(HistoryEntry {
            iter: it,
            time_s: start.elapsed().as_secs_f64(),
            objective: o,
            loss: l,
            rel_decrease: Some(rel),
            violation: None,
        });
        prev = o;
        if est.tol > 0.0 && rel < est.tol {
            break StopReason::Converged;
        }
    };
    LoopEnd {
        stop,
        history,
        n_iter: it,
        loss,
        objective: prev,
        fit_time: start.elapsed(),
    }
}

/// Buffers kept across iterations: for `mu` the n×m products (fresh
/// allocations would page-fault on every half-step), for the row solvers
/// each row's and each column's special entries.
struct Workspace {
    y: Mat<f64>,
    a: Mat<f64>,
    b: Mat<f64>,
    /// Per row of X (updating W) and per column (updating H): whether its
    /// Gram starts from the full one, and the (index, coefficient) pairs to
    /// add: weight − 1 where it is not 1, or the weight where it is not 0.
    rows: Vec<(bool, Vec<(u32, f64)>)>,
    cols: Vec<(bool, Vec<(u32, f64)>)>,
}

impl Workspace {
    fn new(weights: MatRef<'_, f64>, mu: bool, beta: f64) -> Self {
        let (n, m) = (weights.nrows, weights.ncols);
        // β = 2 and 1 use the per-line lists like the row solvers (and β = 1
        // the n×m WH as well); other β the three n×m products.
        if mu && beta != 2.0 && beta != 1.0 {
            return Workspace {
                y: Mat::zeros(n, m),
                a: Mat::zeros(n, m),
                b: Mat::zeros(n, m),
                rows: Vec::new(),
                cols: Vec::new(),
            };
        }
        let lists = |len: usize, get: &(dyn Fn(usize) -> f64 + Sync)| -> (bool, Vec<(u32, f64)>) {
            let (mut not_one, mut nonzero) = (0usize, 0usize);
            for c in 0..len {
                let v = get(c);
                not_one += (v != 1.0) as usize;
                nonzero += (v != 0.0) as usize;
            }
            let from_full = not_one <= nonzero;
            let list = (0..len)
                .filter_map(|c| {
                    let v = get(c);
                    let coef = if from_full { v - 1.0 } else { v };
                    (coef != 0.0).then_some((c as u32, coef))
                })
                .collect();
            (from_full, list)
        };
        let wt = weights.to_owned().transpose();
        let rows = (0..n)
            .into_par_iter()
            .map(|i| lists(m, &|j| wt.data[i * m + j]))
            .collect();
        let cols = (0..m)
            .into_par_iter()
            .map(|j| lists(n, &|i| weights.data[j * n + i]))
            .collect();
        let buffer = |on: bool| {
            if on {
                Mat::zeros(n, m)
            } else {
                Mat::zeros(0, 0)
            }
        };
        Workspace {
            y: buffer(mu && beta == 1.0),
            a: buffer(mu && beta == 1.0),
            b: Mat::zeros(0, 0),
            rows,
            cols,
        }
    }
}

/// Which factor a half-step updates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    W,
    H,
}

fn check(a: &Mat<f64>, shape: (usize, usize), what: &'static str) -> Result<()> {
    if (a.nrows, a.ncols) != shape {
        return Err(NmfError::Shape {
            what,
            got: (a.nrows, a.ncols),
            expected: shape,
        });
    }
    if let Some(&v) = a.data.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
        return Err(bad_entry(what, 0, 0, v));
    }
    if a.data.iter().all(|&v| v == 0.0) {
        return Err(NmfError::AllZero { what });
    }
    Ok(())
}

/// Missing entries replaced by their column's mean over observed entries
/// (the overall mean for an empty column).
fn column_mean_fill(x: MatRef<'_, f64>, weights: MatRef<'_, f64>) -> Mat<f64> {
    let n = x.nrows;
    let (mut tot, mut cnt) = (0.0, 0.0);
    for (v, w) in x.data.iter().zip(weights.data) {
        if *w > 0.0 {
            tot += v;
            cnt += 1.0;
        }
    }
    let overall = if cnt > 0.0 { tot / cnt } else { 0.0 };
    let mut out = Mat::zeros(n, x.ncols);
    for j in 0..x.ncols {
        let (xc, wc) = (
            &x.data[j * n..(j + 1) * n],
            &weights.data[j * n..(j + 1) * n],
        );
        let (s, c) = xc
            .iter()
            .zip(wc)
            .filter(|(_, w)| **w > 0.0)
            .fold((0.0, 0.0), |(s, c), (v, _)| (s + v, c + 1.0));
        let mean = if c > 0.0 { s / c } else { overall };
        for i in 0..n {
            out.data[j * n + i] = if wc[i] > 0.0 { xc[i] } else { mean };
        }
    }
    out
}

/// Y = W·H (n×m) from the factor a half-step updates, `f`, and the fixed
/// one, `g`: f = W (n×k) and g = H (k×m), or f = Hᵀ (m×k) and g = W (n×k).
fn product_wh(y: &mut Mat<f64>, f: &Mat<f64>, g: &Mat<f64>, side: Side) {
    let (n, m) = (y.nrows, y.ncols);
    let (l, lt, r, rt) = match side {
        Side::W => (f, false, g, false),
        Side::H => (g, false, f, true),
    };
    gemm(
        &mut y.data,
        n,
        m,
        l.as_ref(),
        lt,
        r.as_ref(),
        rt,
        false,
        Par::rayon(0),
    );
}

/// `out` (rows × k) = A·Gᵀ for the rows of X (side W) or Aᵀ·Gᵀ for its
/// columns (side H), with A n×m and the fixed factor as k×len columns `gk`.
fn times_fixed(out: &mut Mat<f64>, a: MatRef<'_, f64>, gk: &Mat<f64>, side: Side) {
    let (rows, k) = (out.nrows, out.ncols);
    let at = side == Side::H;
    gemm(
        &mut out.data,
        rows,
        k,
        a,
        at,
        gk.as_ref(),
        true,
        false,
        Par::rayon(0),
    );
}

/// Masked multiplicative update for β = 2 and 1 from the per-line lists of
/// special entries: the denominator Σ_j m_ij y_ij^(β−1) g_j is its unmasked
/// value (F·GGᵀ, or G's row sums) corrected at the entries whose weight is
/// not 1 (or summed over the non-zero weights, whichever is fewer), so β = 2
/// needs no n×m product but (M∘X)·Gᵀ, and β = 1 only WH for X/WH.
#[allow(clippy::too_many_arguments)]
fn mu_half_listed(
    mx: &Mat<f64>,
    x: MatRef<'_, f64>,
    weights: MatRef<'_, f64>,
    f: &mut Mat<f64>,
    g: &Mat<f64>,
    side: Side,
    pen: Penalty,
    beta: f64,
    ws: &mut Workspace,
) -> Option<(f64, f64)> {
    let k = f.ncols;
    let rows = f.nrows;
    // `g` as k×len columns: for W, H (k×m) itself; for H, Wᵀ (k×n).
    let gk = match side {
        Side::W => g.clone(),
        Side::H => g.transpose(),
    };
    let mut num = Mat::zeros(rows, k);

    if beta == 2.0 {
        times_fixed(&mut num, mx.as_ref(), &gk, side);
    } else {
        // A = M∘X / WH at the observed entries.
        let Workspace { y, a, .. } = &mut *ws;
        product_wh(y, f, g, side);
        a.data
            .par_iter_mut()
            .zip(y.data.par_iter())
            .zip(x.data.par_iter().zip(weights.data.par_iter()))
            .for_each(|((av, &yv), (&xv, &wv))| {
                *av = if wv > 0.0 {
                    wv * xv / yv.max(EPS32)
                } else {
                    0.0
                };
            });
        times_fixed(&mut num, a.as_ref(), &gk, side);
    }
    let full = if beta == 2.0 {
        crate::linalg::gram(&gk, Par::rayon(0)).data
    } else {
        Vec::new()
    };
    let sums = crate::linalg::row_sums(&gk);
    let lists = match side {
        Side::W => &ws.rows,
        Side::H => &ws.cols,
    };
    let fr = f.transpose(); // k×rows: row r of F contiguous
    let den: Vec<Vec<f64>> = (0..rows)
        .into_par_iter()
        .map(|r| {
            let fi = fr.col(r);
            let (from_full, list) = &lists[r];
            let mut d = vec![0.0; k];
            if *from_full {
                if beta == 2.0 {
                    for (q, dq) in d.iter_mut().enumerate() {
                        *dq = full[q * k..(q + 1) * k]
                            .iter()
                            .zip(fi)
                            .map(|(a, b)| a * b)
                            .sum();
                    }
                } else {
                    d.copy_from_slice(&sums);
                }
            }
            for &(c, coef) in list {
                let gc = gk.col(c as usize);
                let s = if beta == 2.0 {
                    coef * gc.iter().zip(fi).map(|(a, b)| a * b).sum::<f64>()
                } else {
                    coef
                };
                d.iter_mut().zip(gc).for_each(|(dq, v)| *dq += s * v);
            }
            d
        })
        .collect();
    for r in 0..rows {
        for t in 0..k {
            let dn = den[r][t] + pen.l1 + pen.l2 * f.get(r, t);
            let ratio = if dn > 0.0 { num.get(r, t) / dn } else { 0.0 };
            f.set(r, t, f.get(r, t) * ratio);
        }
    }
    if beta != 2.0 {
        return None;
    }
    // Σ m x y = ⟨(M∘X)Gᵀ, F⟩ and Σ m y² = Σ_r f_rᵀ Gram_r f_r after the step.
    let fr = f.transpose();
    let cross: f64 = num.data.iter().zip(&f.data).map(|(a, b)| a * b).sum();
    let quad: f64 = (0..rows)
        .into_par_iter()
        .map(|r| {
            let fi = fr.col(r);
            let (from_full, list) = &lists[r];
            let mut q = 0.0;
            if *from_full {
                for (p, &fp) in fi.iter().enumerate() {
                    q += fp
                        * full[p * k..(p + 1) * k]
                            .iter()
                            .zip(fi)
                            .map(|(a, b)| a * b)
                            .sum::<f64>();
                }
            }
            for &(c, coef) in list {
                let y: f64 = gk.col(c as usize).iter().zip(fi).map(|(a, b)| a * b).sum();
                q += coef * y * y;
            }
            q
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum(); // in order: the same bits every run
    Some((cross, quad))
}

/// Masked multiplicative update of `f` (rows × k): F ← F ∘ (A G / (B G + l1 + l2 F))^γ
/// with A = M∘X∘Y^{β−2}, B = M∘Y^{β−1}, Y = WH (oriented for the side).
#[allow(clippy::too_many_arguments)]
fn mu_half(
    x: MatRef<'_, f64>,
    weights: MatRef<'_, f64>,
    f: &mut Mat<f64>,
    g: &Mat<f64>,
    side: Side,
    pen: Penalty,
    beta: f64,
    ws: &mut Workspace,
) {
    let k = f.ncols;
    // Y = W H, n×m.
    let Workspace { y, a, b, .. } = ws;
    product_wh(y, f, g, side);
    a.data
        .par_iter_mut()
        .zip(b.data.par_iter_mut())
        .zip(y.data.par_iter())
        .zip(x.data.par_iter().zip(weights.data.par_iter()))
        .for_each(|(((av, bv), &yv), (&xv, &wv))| {
            *av = 0.0;
            *bv = 0.0;
            if wv > 0.0 {
                let yf = yv.max(EPS32);
                if beta == 2.0 {
                    *av = wv * xv;
                    *bv = wv * yv;
                } else if beta == 1.0 {
                    *av = wv * xv / yf;
                    *bv = wv;
                } else {
                    *av = wv * xv * yf.powf(beta - 2.0);
                    *bv = wv * yf.powf(beta - 1.0);
                }
            }
        });
    let rows = f.nrows;
    let mut num = Mat::zeros(rows, k);
    let mut den = Mat::zeros(rows, k);
    // g as k×len columns: for W, H (k×m) itself; for H, Wᵀ (k×n).
    let gk = match side {
        Side::W => g.clone(),
        Side::H => g.transpose(),
    };
    times_fixed(&mut num, a.as_ref(), &gk, side);
    times_fixed(&mut den, b.as_ref(), &gk, side);
    let gamma = if beta < 1.0 {
        1.0 / (2.0 - beta)
    } else if beta > 2.0 {
        1.0 / (beta - 1.0)
    } else {
        1.0
    };
    for ((fv, &nv), &dv) in f.data.iter_mut().zip(&num.data).zip(&den.data) {
        let d = dv + pen.l1 + pen.l2 * *fv;
        let ratio = if d > 0.0 { nv / d } else { 0.0 };
        *fv *= if gamma == 1.0 {
            ratio
        } else {
            ratio.powf(gamma)
        };
    }
}

/// Frobenius half-step row by row: each row i of `f` (rows × k) minimizes
/// ½ Σ_j m_ij (x_ij − f_i·g_j)² + l1 Σ f_i + ½ l2 ‖f_i‖² exactly (`exact`,
/// block pivoting) or by coordinate sweeps.
fn rows_half(
    mx: &Mat<f64>,
    f: &mut Mat<f64>,
    g: &Mat<f64>,
    side: Side,
    pen: Penalty,
    exact: bool,
    ws: &Workspace,
) -> (f64, f64) {
    let k = f.ncols;
    // `g` as k×len columns: for W, H (k×m) itself; for H, Wᵀ (k×n).
    let gk = match side {
        Side::W => g.clone(),
        Side::H => g.transpose(),
    };
    let lists = match side {
        Side::W => &ws.rows,
        Side::H => &ws.cols,
    };
    // b = (M∘X) Gᵀ for every row: rows × k.
    let rows = f.nrows;
    let mut b = Mat::zeros(rows, k);
    times_fixed(&mut b, mx.as_ref(), &gk, side);
    // The full Gram G Gᵀ.
    let mut full = vec![0.0; k * k];
    gemm(
        &mut full,
        k,
        k,
        gk.as_ref(),
        false,
        gk.as_ref(),
        true,
        false,
        Par::rayon(0),
    );
    let out: Vec<(Vec<f64>, f64, f64)> = (0..rows)
        .into_par_iter()
        .map(|r| {
            let (from_full, list) = &lists[r];
            let mut gram = if *from_full {
                full.clone()
            } else {
                vec![0.0; k * k]
            };
            // Rank-one updates on the lower triangle, mirrored after.
            for &(c, coef) in list {
                let gc = gk.col(c as usize);
                for q in 0..k {
                    let s = coef * gc[q];
                    for (gp, &v) in gram[q * k + q..(q + 1) * k].iter_mut().zip(&gc[q..]) {
                        *gp += s * v;
                    }
                }
            }
            for q in 0..k {
                for p in q + 1..k {
                    gram[p * k + q] = gram[q * k + p];
                }
                gram[q * k + q] += pen.l2;
            }
            let rhs: Vec<f64> = (0..k).map(|t| b.get(r, t) - pen.l1).collect();
            let cur: Vec<f64> = (0..k).map(|t| f.get(r, t)).collect();
            let new = if exact {
                let warm: Vec<bool> = cur.iter().map(|&v| v > 0.0).collect();
                nnls_bpp(&gram, k, &rhs, Some(&warm))
            } else {
                coordinate_sweeps(&gram, &rhs, cur)
            };
            // This row's Σ m x y and Σ m y² (its Gram without the L2 weight).
            let cross: f64 = (0..k).map(|t| b.get(r, t) * new[t]).sum();
            let mut quad = 0.0;
            for p in 0..k {
                let gp: f64 = (0..k).map(|q| gram[p * k + q] * new[q]).sum();
                quad += new[p] * (gp - pen.l2 * new[p]);
            }
            (new, cross, quad)
        })
        .collect();
    let (mut cross, mut quad) = (0.0, 0.0);
    for (r, (row, c, q)) in out.into_iter().enumerate() {
        for t in 0..k {
            f.set(r, t, row[t]);
        }
        cross += c;
        quad += q;
    }
    (cross, quad)
}

/// Coordinate descent on ½ fᵀ G f − bᵀ f, f ≥ 0: sweeps repeated (up to 10)
/// while the last one moved f by more than a tenth of the first one's move.
fn coordinate_sweeps(gram: &[f64], b: &[f64], mut f: Vec<f64>) -> Vec<f64> {
    let k = f.len();
    let mut first = None;
    for _ in 0..10 {
        let mut moved = 0.0;
        for t in 0..k {
            let d = gram[t * k + t];
            if d <= 0.0 {
                continue;
            }
            let (mut grad, mut size) = (-b[t], b[t].abs());
            for p in 0..k {
                let v = gram[t * k + p] * f[p];
                grad += v;
                size += v.abs();
            }
            let mut new = (f[t] - grad / d).max(0.0);
            // A value within the round-off of its own gradient is a zero:
            // kept, it makes a dead component's partner in the other factor
            // grow without bound (1/tiny) for nothing.
            if new * d <= 16.0 * f64::EPSILON * size {
                new = 0.0;
            }
            moved += (new - f[t]).abs();
            f[t] = new;
        }
        match first {
            None => first = Some(moved),
            Some(f0) if moved <= 0.1 * f0 => break,
            _ => {}
        }
        if moved == 0.0 {
            break;
        }
    }
    f
}

mod sparse;
pub use sparse::{impute_sparse, sparse_masked_error, SparseWeights};

#[cfg(test)]
mod tests;
