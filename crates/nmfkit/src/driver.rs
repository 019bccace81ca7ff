//! The shared iteration loop: every solver runs under it. It owns the update
//! order, the stopping rules, the history, the time limit and the progress
//! callback (which may cancel).

use crate::data::{sum_all, Data, Side};
use crate::loss::beta_divergence;
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use crate::solver::{Factors, Solver};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// Which factor each iteration updates first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateOrder {
    /// W then H (scikit-learn's order for every solver).
    WThenH,
    /// H then W (Lee & Seung's order).
    HThenW,
}

/// The rule that decides convergence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convergence {
    /// scikit-learn's rule for `cd`, the objective rule for `mu` and `hals`.
    Auto,
    /// Relative decrease of the objective (loss + penalties) between two
    /// evaluations below `tol`.
    Objective,
    /// scikit-learn's own rules: for `cd`/`hals` the projected-gradient
    /// violation relative to the first iteration's; for `mu`, every 10
    /// iterations, (previous − current error) / initial error, where the
    /// error is sqrt(2·loss) without the penalties.
    Sklearn,
}

/// Why the loop stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The convergence rule was met.
    Converged,
    /// The relative change of the factors fell below `factor_tol`.
    FactorsStalled,
    /// `max_iter` iterations were run.
    MaxIterations,
    /// The time limit was reached.
    TimeLimit,
    /// The progress callback asked to stop.
    Cancelled,
}

impl StopReason {
    pub fn name(&self) -> &'static str {
        match self {
            StopReason::Converged => "converged",
            StopReason::FactorsStalled => "factors_stalled",
            StopReason::MaxIterations => "max_iterations",
            StopReason::TimeLimit => "time_limit",
            StopReason::Cancelled => "cancelled",
        }
    }

    /// Whether the fit ended because a convergence criterion was met.
    pub fn converged(&self) -> bool {
        matches!(self, StopReason::Converged | StopReason::FactorsStalled)
    }
}

/// One record of the per-iteration history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistoryEntry {
    /// Iterations done (0 = the initial factors).
    pub iter: usize,
    /// Seconds since the loop started.
    pub time_s: f64,
    /// Loss + penalties.
    pub objective: f64,
    /// The β-divergence alone.
    pub loss: f64,
    /// (previous − current objective) / previous, since the last record.
    pub rel_decrease: Option<f64>,
    /// Σ|projected gradient| of the iteration (cd, hals).
    pub violation: Option<f64>,
}

/// What the progress callback sees after every iteration.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub iter: usize,
    pub max_iter: usize,
    pub elapsed: Duration,
    /// The latest evaluated objective.
    pub objective: f64,
}

/// A progress callback: return `ControlFlow::Break(())` to stop the fit.
pub type ProgressFn<'a> = dyn FnMut(&Progress) -> ControlFlow<()> + Send + 'a;

/// Settings of the loop, already resolved from the user's options.
pub(crate) struct LoopSettings {
    pub max_iter: usize,
    pub tol: f64,
    pub rule: Rule,
    pub eval_every: usize,
    pub factor_tol: Option<f64>,
    pub time_limit: Option<Duration>,
    pub order: UpdateOrder,
    pub update_h: bool,
    pub update_w: bool,
    pub beta: f64,
    pub pen: Penalties,
    /// Extrapolate the iterates (Ang & Gillis 2019); Frobenius, both factors.
    pub extrapolate: bool,
}

/// Ang & Gillis's extrapolation ("Accelerating nonnegative matrix
/// factorization algorithms using extrapolation", 2019): each half-step
/// starts from the other factor pushed along its last move,
/// Y = max(0, F + β(F − F_prev)), with β grown by γ after a success (up to
/// β̄, itself grown by γ̄) and cut by η after a failure. Unlike the paper,
/// a failed step is not kept: the iteration is redone from the last
/// accepted factors without extrapolation, so the objective still never
/// increases.
struct Extrapolation<T> {
    beta: f64,
    beta_bar: f64,
    accepted: Factors<T>,
    previous: Factors<T>,
    objective: f64,
}

const EXTRAPOLATION_BETA0: f64 = 0.5;
const EXTRAPOLATION_GAMMA: f64 = 1.01;
const EXTRAPOLATION_GAMMA_BAR: f64 = 1.005;
const EXTRAPOLATION_ETA: f64 = 1.5;

/// `y ← max(0, y + β (y − old))`.
fn push<T: Scalar>(y: &mut crate::Mat<T>, old: &crate::Mat<T>, beta: f64) {
    let b = T::from_f64(beta);
    for (v, &o) in y.data.iter_mut().zip(&old.data) {
        *v = (*v + b * (*v - o)).max(T::ZERO);
    }
}

/// The resolved convergence rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    Objective,
    SklearnViolation,
    SklearnError,
}

pub(crate) struct LoopOutcome {
    pub n_iter: usize,
    pub stop: StopReason,
    pub history: Vec<HistoryEntry>,
}

pub(crate) fn run<T: Scalar, D: Data<T>>(
    x: &D,
    f: &mut Factors<T>,
    solver: &mut dyn Solver<T, D>,
    s: &LoopSettings,
    mut progress: Option<&mut ProgressFn<'_>>,
) -> crate::Result<LoopOutcome> {
    let start = Instant::now();
    let objective_of = |loss: f64, f: &Factors<T>| loss + penalty_value(x, &s.pen, f);
    let loss0 = beta_divergence(x, &f.wt, &f.h, s.beta);
    let obj0 = objective_of(loss0, f);
    let mut history = vec![HistoryEntry {
        iter: 0,
        time_s: 0.0,
        objective: obj0,
        loss: loss0,
        rel_decrease: None,
        violation: None,
    }];
    let sides: &[Side] = match (s.update_w, s.update_h, s.order) {
        (_, false, _) => &[Side::W],
        (false, true, _) => &[Side::H],
        (true, true, UpdateOrder::WThenH) => &[Side::W, Side::H],
        (true, true, UpdateOrder::HThenW) => &[Side::H, Side::W],
    };
    // Sklearn's MU rule works on sqrt(2·loss) and only every 10 iterations.
    let err_of = |loss: f64| (2.0 * loss.max(0.0)).sqrt();
    let err_init = err_of(loss0);
    let mut prev_err = err_init;
    let mut prev_obj = obj0;
    let mut violation_init = None;
    let mut stop = StopReason::MaxIterations;
    let mut n_iter = 0;
    let mut last_factors = s.factor_tol.map(|_| f.clone());
    let mut ext = (s.extrapolate && sides.len() == 2 && s.beta == 2.0 && s.rule == Rule::Objective)
        .then(|| Extrapolation {
            beta: EXTRAPOLATION_BETA0,
            beta_bar: 1.0,
            accepted: f.clone(),
            previous: f.clone(),
            objective: obj0,
        });

    for it in 1..=s.max_iter {
        n_iter = it;
        let eval = it % s.eval_every == 0 || it == s.max_iter;
        let mut violation: Option<f64> = None;
        let mut data_loss = None;
        if let Some(e) = ext.as_mut() {
            // The first half-step's fixed factor, pushed along its last move.
            let (s1, s2) = (sides[0], sides[1]);
            push(f.get_mut(s1.other()), e.previous.get(s1.other()), e.beta);
            solver.forget();
            solver.half_step(x, f, s1, false);
            push(f.get_mut(s1), e.accepted.get(s1), e.beta);
            solver.forget();
            let loss = solver.half_step(x, f, s2, true).data_loss;
            let obj = loss.map(|l| objective_of(l, f));
            if obj.is_some_and(|o| o <= e.objective) {
                e.beta = (EXTRAPOLATION_GAMMA * e.beta).min(e.beta_bar);
                e.beta_bar = (EXTRAPOLATION_GAMMA_BAR * e.beta_bar).min(1.0);
                data_loss = loss;
            } else {
                // Redo the iteration from the accepted factors, plainly.
                e.beta_bar = e.beta;
                e.beta /= EXTRAPOLATION_ETA;
                f.clone_from(&e.accepted);
                solver.forget();
                solver.half_step(x, f, s1, false);
                data_loss = solver.half_step(x, f, s2, true).data_loss;
            }
            std::mem::swap(&mut e.previous, &mut e.accepted);
            e.accepted.clone_from(f);
            e.objective = data_loss.map_or(f64::INFINITY, |l| objective_of(l, f));
        } else {
            for (q, &side) in sides.iter().enumerate() {
                let last = q + 1 == sides.len();
                let info = solver.half_step(x, f, side, eval && last);
                if let Some(v) = info.violation {
                    *violation.get_or_insert(0.0) += v;
                }
                if last {
                    data_loss = info.data_loss;
                }
            }
        }
        if sum_all(x, (!f.all_finite()) as u8 as f64) > 0.0 {
            return Err(crate::NmfError::Numerical(format!(
                "non-finite values appeared in the factors at iteration {it}"
            )));
        }

        if eval {
            let loss = data_loss.unwrap_or_else(|| beta_divergence(x, &f.wt, &f.h, s.beta));
            let obj = objective_of(loss, f);
            let rel = if prev_obj > 0.0 {
                (prev_obj - obj) / prev_obj
            } else {
                0.0
            };
            history.push(HistoryEntry {
                iter: it,
                time_s: start.elapsed().as_secs_f64(),
                objective: obj,
                loss,
                rel_decrease: Some(rel),
                violation,
            });
            let converged = match s.rule {
                Rule::Objective => obj == 0.0 || rel < s.tol,
                Rule::SklearnError => {
                    let err = err_of(loss);
                    let done = s.tol > 0.0 && it % 10 == 0 && (prev_err - err) / err_init < s.tol;
                    if it % 10 == 0 {
                        prev_err = err;
                    }
                    done
                }
                Rule::SklearnViolation => false,
            };
            prev_obj = obj;
            if converged {
                stop = StopReason::Converged;
                break;
            }
        }
        if s.rule == Rule::SklearnViolation {
            let v = violation.unwrap_or(0.0);
            let v0 = *violation_init.get_or_insert(v);
            if v0 == 0.0 || v / v0 <= s.tol {
                stop = StopReason::Converged;
                break;
            }
        }
        if let (Some(ftol), Some(prev)) = (s.factor_tol, last_factors.as_mut()) {
            let change = relative_change(x, prev, f);
            if change < ftol {
                stop = StopReason::FactorsStalled;
                break;
            }
            prev.clone_from(f);
        }
        if let Some(limit) = s.time_limit {
            // The slowest process's clock decides, so that all stop together.
            let mut t = [start.elapsed().as_secs_f64()];
            x.reduce_max(&mut t);
            if t[0] >= limit.as_secs_f64() {
                stop = StopReason::TimeLimit;
                break;
            }
        }
        if let Some(cb) = progress.as_deref_mut() {
            let p = Progress {
                iter: it,
                max_iter: s.max_iter,
                elapsed: start.elapsed(),
                objective: history.last().map_or(obj0, |h| h.objective),
            };
            let mut cancel = [cb(&p).is_break() as u8 as f64];
            x.reduce_max(&mut cancel);
            if cancel[0] > 0.0 {
                stop = StopReason::Cancelled;
                break;
            }
        }
    }
    // Make sure the last iteration is in the history.
    if history.last().map(|h| h.iter) != Some(n_iter) {
        let loss = beta_divergence(x, &f.wt, &f.h, s.beta);
        let obj = objective_of(loss, f);
        history.push(HistoryEntry {
            iter: n_iter,
            time_s: start.elapsed().as_secs_f64(),
            objective: obj,
            loss,
            rel_decrease: Some(if prev_obj > 0.0 {
                (prev_obj - obj) / prev_obj
            } else {
                0.0
            }),
            violation: None,
        });
    }
    Ok(LoopOutcome {
        n_iter,
        stop,
        history,
    })
}

/// ‖F_new − F_old‖ / ‖F_old‖ over both factors.
/// The elastic net's value over every piece of the factors.
pub(crate) fn penalty_value<T: Scalar, D: Data<T>>(x: &D, pen: &Penalties, f: &Factors<T>) -> f64 {
    if pen.w.is_zero() && pen.h.is_zero() {
        return 0.0;
    }
    let sums = |m: &crate::Mat<T>| {
        m.data.iter().fold((0.0, 0.0), |(a, b), &v| {
            let v = v.to_f64();
            (a + v, b + v * v)
        })
    };
    let ((w1, w2), (h1, h2)) = (sums(&f.wt), sums(&f.h));
    let mut v = [w1, w2, h1, h2];
    x.reduce_sum(&mut v);
    pen.w.l1 * v[0] + 0.5 * pen.w.l2 * v[1] + pen.h.l1 * v[2] + 0.5 * pen.h.l2 * v[3]
}

fn relative_change<T: Scalar, D: Data<T>>(x: &D, old: &Factors<T>, new: &Factors<T>) -> f64 {
    let mut diff = 0.0;
    let mut base = 0.0;
    for (a, b) in old
        .wt
        .data
        .iter()
        .chain(&old.h.data)
        .zip(new.wt.data.iter().chain(&new.h.data))
    {
        let (a, b) = (a.to_f64(), b.to_f64());
        diff += (a - b) * (a - b);
        base += a * a;
    }
    let mut v = [diff, base];
    x.reduce_sum(&mut v);
    let [diff, base] = v;
    if base > 0.0 {
        (diff / base).sqrt()
    } else {
        0.0
    }
}
