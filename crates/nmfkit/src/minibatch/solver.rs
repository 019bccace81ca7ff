//! Online multiplicative updates (Lefèvre, Bach & Févotte 2011, as
//! scikit-learn's `MiniBatchNMF` runs them), as a solver the driver runs:
//! every driver iteration is one minibatch step. The W half-step reads the
//! next batch of rows and updates their rows of W with H fixed (one
//! multiplicative update — or, for KL with `ccd`, a sweep of Newton
//! coordinate steps — or a fresh solve from a flat start); the H
//! half-step folds the batch's numerator and denominator into running
//! sums A and B, both first scaled by the forgetting factor ρ, and sets
//! H = A / B (to the power γ(β) for β outside [1, 2]).

use super::source::{Batch, BatchSource, BatchStats};
use super::MiniBatchState;
use crate::data::{Problem, Side};
use crate::error::NmfError;
use crate::loss::mm_exponent;
use crate::matrix::Mat;
use crate::regularization::{Penalties, Regularization};
use crate::scalar::{Scalar, EPS32, EPS64};
use crate::solver::{Factors, KlCoordinateDescent, MultiplicativeUpdate, Solver, StepInfo, Want};

/// The whole X behind a batch source, as the driver's problem.
pub(crate) struct Stream<'a, T> {
    pub src: &'a dyn BatchSource<T>,
}

impl<T: Scalar> Problem for Stream<'_, T> {}

/// What both online solvers share: the next batch, the batch a W
/// half-step read (for the H half-step), the statistics and the first
/// read or input error (the driver stops and reports it).
pub(crate) struct Steps<T: 'static> {
    pub batch_size: usize,
    pub state: MiniBatchState<T>,
    /// The next batch's first row.
    pub cursor: usize,
    pub current: Option<(usize, Batch<T>, BatchStats)>,
    pub error: Option<NmfError>,
}

impl<T: Scalar> Steps<T> {
    pub fn new(batch_size: usize, state: MiniBatchState<T>) -> Self {
        Steps {
            batch_size,
            state,
            cursor: 0,
            current: None,
            error: None,
        }
    }

    /// Reads and checks the next batch: its first row, the batch, its sums.
    pub fn read_next(&mut self, src: &dyn BatchSource<T>) -> Option<(usize, Batch<T>, BatchStats)> {
        let (n, _) = src.shape();
        let start = self.cursor;
        let end = (start + self.batch_size).min(n);
        let read = src.rows(start, end).and_then(|b| {
            let st = b.stats(start)?;
            Ok((b, st))
        });
        match read {
            Ok((b, st)) => Some((start, b, st)),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }

    /// The step is done: count it and move to the next batch.
    pub fn advance(&mut self, n: usize, start: usize, rows: usize) {
        self.state.n_steps += 1;
        self.cursor = if start + rows >= n { 0 } else { start + rows };
    }
}

/// Rows `start..start + rows` of W, as a k × rows block of Wᵀ.
pub(crate) fn w_block<T: Scalar>(wt: &Mat<T>, start: usize, rows: usize) -> Mat<T> {
    let k = wt.nrows;
    Mat::from_col_major(k, rows, wt.data[start * k..(start + rows) * k].to_vec())
        .expect("a block of W's rows")
}

/// ‖H − H_old‖ / ‖H‖ (0 for H = 0): scikit-learn's `tol` measure.
pub(crate) fn relative_change<T: Scalar>(h: &Mat<T>, h_old: &Mat<T>) -> f64 {
    let (mut diff, mut norm) = (0.0, 0.0);
    for (a, b) in h.data.iter().zip(&h_old.data) {
        let (a, b) = (a.to_f64(), b.to_f64());
        diff += (a - b) * (a - b);
        norm += a * a;
    }
    if norm > 0.0 {
        (diff / norm).sqrt()
    } else {
        0.0
    }
}

pub(crate) struct OnlineMu<T: 'static> {
    pub beta: f64,
    pub regularization: Regularization,
    /// Solve each batch's W from a flat start (`fresh_restarts`) with this
    /// estimator; None: one update from the current W.
    pub fresh: Option<crate::Nmf>,
    /// Without fresh restarts, a sweep of `ccd`'s Newton coordinate steps
    /// on the batch's W (KL) instead of one multiplicative update.
    pub newton_w: bool,
    pub steps: Steps<T>,
}

impl<T: Scalar> OnlineMu<T> {
    /// Scaled penalties of a batch of `rows` rows (scikit-learn scales them
    /// per batch, so that batches of any size weigh the same).
    fn penalties(&self, rows: usize, m: usize) -> Penalties {
        self.regularization.penalties(rows, m)
    }

    fn w_step(&mut self, p: &Stream<'_, T>, f: &mut Factors<T>) -> Option<(f64, usize)> {
        let (_, m) = p.src.shape();
        let (start, batch, stats) = self.steps.read_next(p.src)?;
        let end = start + batch.nrows();
        let k = f.h.nrows;
        let pen = self.penalties(end - start, m);
        let wt_b = match &self.fresh {
            Some(est) => match super::solve_w(&batch, &f.h, est, None) {
                Ok(w) => w,
                Err(e) => {
                    self.steps.error.get_or_insert(e);
                    return None;
                }
            },
            None => w_block(&f.wt, start, end - start),
        };
        let h = std::mem::replace(&mut f.h, Mat::zeros(0, 0));
        let mut fb = Factors { wt: wt_b, h };
        let beta = self.beta;
        let cost = batch.with_data_stats(stats, |d| {
            // β = 2: the update's own products give the cost (no pass).
            let after = match (&self.fresh, self.newton_w) {
                (None, false) => d.mu_w_step(&mut MultiplicativeUpdate::new(beta, pen), &mut fb),
                (None, true) => {
                    d.ccd_w_step(
                        &mut KlCoordinateDescent::new(pen, 1).scaling_lines(),
                        &mut fb,
                    );
                    None
                }
                (Some(_), _) => None,
            };
            let div = after.unwrap_or_else(|| d.divergence_of(&fb.wt, &fb.h, beta));
            div + pen.w.value(&fb.wt) + pen.h.value(&fb.h)
        });
        f.wt.data[start * k..end * k].copy_from_slice(&fb.wt.data);
        f.h = fb.h;
        self.steps.current = Some((start, batch, stats));
        Some((cost / (end - start) as f64, end - start))
    }

    /// H = A / B after A ← ρA + H∘num, B ← ρB + den (γ-powers around it).
    fn h_step(&mut self, p: &Stream<'_, T>, f: &mut Factors<T>) -> Option<f64> {
        let (start, batch, stats) = self.steps.current.take()?;
        let (n, m) = p.src.shape();
        let rows = batch.nrows();
        let pen = self.penalties(rows, m).h;
        let wt_b = w_block(&f.wt, start, rows);
        let h_old = std::mem::replace(&mut f.h, Mat::zeros(0, 0));
        let fb = Factors { wt: wt_b, h: h_old };
        let beta = self.beta;
        let (num, den) = batch.with_data_stats(stats, |d| {
            d.mu_terms(&mut MultiplicativeUpdate::new(beta, pen_pair(pen)), &fb)
        });
        let h_old = fb.h;
        let gamma = mm_exponent(beta);
        let rho = T::from_f64(self.steps.state.rho);
        let eps = T::from_f64(EPS32);
        let tiny = T::from_f64(EPS64);
        let st = &mut self.steps.state;
        let mut h = h_old.clone();
        for q in 0..h.data.len() {
            let mut d = den.data[q];
            if pen.l1 > 0.0 {
                d += T::from_f64(pen.l1);
            }
            if pen.l2 > 0.0 {
                d += T::from_f64(pen.l2) * h_old.data[q];
            }
            if d == T::ZERO {
                d = eps;
            }
            let mut hv = h_old.data[q];
            if gamma != 1.0 {
                hv = hv.powf(T::from_f64(1.0 / gamma));
            }
            st.numerator.data[q] = rho * st.numerator.data[q] + num.data[q] * hv;
            st.denominator.data[q] = rho * st.denominator.data[q] + d;
            let mut v = st.numerator.data[q] / st.denominator.data[q];
            if gamma != 1.0 {
                v = v.powf(T::from_f64(gamma));
            }
            if (beta <= 1.0 && v < tiny) || v < T::MIN_POSITIVE {
                v = T::ZERO;
            }
            h.data[q] = v;
        }
        let change = relative_change(&h, &h_old);
        f.h = h;
        st.h.clone_from(&f.h);
        self.steps.advance(n, start, rows);
        Some(change)
    }
}

fn pen_pair(h: crate::regularization::Penalty) -> Penalties {
    Penalties {
        w: Default::default(),
        h,
    }
}

impl<'a, T: Scalar> Solver<T, Stream<'a, T>> for OnlineMu<T> {
    fn half_step(
        &mut self,
        p: &Stream<'a, T>,
        f: &mut Factors<T>,
        side: Side,
        _want: Want,
    ) -> StepInfo {
        match side {
            Side::W => StepInfo {
                batch: self.w_step(p, f),
                ..Default::default()
            },
            Side::H => StepInfo {
                h_change: self.h_step(p, f),
                ..Default::default()
            },
        }
    }

    fn failure(&mut self) -> Option<NmfError> {
        self.steps.error.take()
    }
}
