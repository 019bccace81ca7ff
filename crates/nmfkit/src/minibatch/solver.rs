//! Online multiplicative updates (Lefèvre, Bach & Févotte 2011, as
//! scikit-learn's `MiniBatchNMF` runs them), as a solver the driver runs:
//! every driver iteration is one minibatch step. The W half-step reads the
//! next batch of rows and updates their rows of W with H fixed (one
//! multiplicative update, or a fresh solve from a flat start); the H
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
use crate::solver::{Factors, MultiplicativeUpdate, Solver, StepInfo, Want};

/// The whole X behind a batch source, as the driver's problem.
pub(crate) struct Stream<'a, T> {
    pub src: &'a dyn BatchSource<T>,
}

impl<T: Scalar> Problem for Stream<'_, T> {}

pub(crate) struct OnlineMu<T: 'static> {
    pub beta: f64,
    pub regularization: Regularization,
    pub batch_size: usize,
    pub rho: f64,
    /// Solve each batch's W from a flat start (`fresh_restarts`) with this
    /// estimator; None: one update from the current W.
    pub fresh: Option<crate::Nmf>,
    pub state: MiniBatchState<T>,
    /// The next batch's first row.
    pub cursor: usize,
    /// The batch the W half-step read, for the H half-step.
    pub current: Option<(usize, Batch<T>, BatchStats)>,
    /// The first read or input error: the driver stops and reports it.
    pub error: Option<NmfError>,
}

impl<T: Scalar> OnlineMu<T> {
    /// Scaled penalties of a batch of `rows` rows (scikit-learn scales them
    /// per batch, so that batches of any size weigh the same).
    fn penalties(&self, rows: usize, m: usize) -> Penalties {
        self.regularization.penalties(rows, m)
    }

    fn w_step(&mut self, p: &Stream<'_, T>, f: &mut Factors<T>) -> Option<(f64, usize)> {
        let (n, m) = p.src.shape();
        let start = self.cursor;
        let end = (start + self.batch_size).min(n);
        let read = p.src.rows(start, end).and_then(|b| {
            let st = b.stats(start)?;
            Ok((b, st))
        });
        let (batch, stats) = match read {
            Ok(b) => b,
            Err(e) => {
                self.error.get_or_insert(e);
                return None;
            }
        };
        let k = f.h.nrows;
        let pen = self.penalties(end - start, m);
        let wt_b = match &self.fresh {
            Some(est) => match super::solve_w(&batch, &f.h, est, None) {
                Ok(w) => w,
                Err(e) => {
                    self.error.get_or_insert(e);
                    return None;
                }
            },
            None => Mat::from_col_major(k, end - start, f.wt.data[start * k..end * k].to_vec())
                .expect("a block of W's rows"),
        };
        let h = std::mem::replace(&mut f.h, Mat::zeros(0, 0));
        let mut fb = Factors { wt: wt_b, h };
        let beta = self.beta;
        let cost = batch.with_data_stats(stats, |d| {
            // β = 2: the update's own products give the cost (no pass).
            let after = match self.fresh {
                None => d.mu_w_step(&mut MultiplicativeUpdate::new(beta, pen), &mut fb),
                Some(_) => None,
            };
            let div = after.unwrap_or_else(|| d.divergence_of(&fb.wt, &fb.h, beta));
            div + pen.w.value(&fb.wt) + pen.h.value(&fb.h)
        });
        f.wt.data[start * k..end * k].copy_from_slice(&fb.wt.data);
        f.h = fb.h;
        self.current = Some((start, batch, stats));
        Some((cost / (end - start) as f64, end - start))
    }

    /// H = A / B after A ← ρA + H∘num, B ← ρB + den (γ-powers around it).
    fn h_step(&mut self, p: &Stream<'_, T>, f: &mut Factors<T>) -> Option<f64> {
        let (start, batch, stats) = self.current.take()?;
        let (n, m) = p.src.shape();
        let rows = batch.nrows();
        let k = f.h.nrows;
        let pen = self.penalties(rows, m).h;
        let wt_b = Mat::from_col_major(k, rows, f.wt.data[start * k..(start + rows) * k].to_vec())
            .expect("a block of W's rows");
        let h_old = std::mem::replace(&mut f.h, Mat::zeros(0, 0));
        let fb = Factors { wt: wt_b, h: h_old };
        let beta = self.beta;
        let (num, den) = batch.with_data_stats(stats, |d| {
            d.mu_terms(&mut MultiplicativeUpdate::new(beta, pen_pair(pen)), &fb)
        });
        let h_old = fb.h;
        let gamma = mm_exponent(beta);
        let rho = T::from_f64(self.rho);
        let eps = T::from_f64(EPS32);
        let tiny = T::from_f64(EPS64);
        let st = &mut self.state;
        let mut h = h_old.clone();
        let (mut diff, mut norm) = (0.0, 0.0);
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
            let (a, b) = (v.to_f64(), h_old.data[q].to_f64());
            diff += (a - b) * (a - b);
            norm += a * a;
        }
        f.h = h;
        st.h.clone_from(&f.h);
        st.n_steps += 1;
        self.cursor = if start + rows >= n { 0 } else { start + rows };
        Some(if norm > 0.0 {
            (diff / norm).sqrt()
        } else {
            0.0
        })
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
        self.error.take()
    }
}
