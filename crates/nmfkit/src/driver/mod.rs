//! The one iteration loop: every solver of every model (plain, weighted,
//! smooth) runs under it. It owns the update order, the stopping rules,
//! the history, the time limit, extrapolation and the progress callback
//! (which may cancel).
//!
//! `tol` has one meaning everywhere: 0 runs to `max_iter` (or the time
//! limit); otherwise the chosen rule ([`Convergence`]) stops the fit.

mod balance;
mod diagnostics;
mod extrapolation;
mod minibatch;

use crate::data::{sum_all, Problem, Side};
use crate::objective::Objective;
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use crate::solver::{Factors, Solver, Want};
pub(crate) use diagnostics::projected_gradient;
pub use diagnostics::Diagnostics;
use diagnostics::Tracker;
use extrapolation::Extrapolation;
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
    /// The objective (divergence + penalties) has stopped falling: its
    /// relative decrease over the last 10 iterations (at least one
    /// evaluation), per evaluation in that span, is below `tol`. One small
    /// step — a plateau of a few iterations, an extrapolated step redone
    /// plainly — does not end the fit; an extrapolation redo never does.
    Objective,
    /// scikit-learn's own rules: for `cd`/`hals` the projected-gradient
    /// violation relative to the first iteration's; for `mu`, every 10
    /// iterations, (previous − current error) / initial error, where the
    /// error is sqrt(2·loss) without the penalties.
    Sklearn,
}

/// The iterations the objective rule looks back over.
pub const WINDOW: usize = 10;

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
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    /// Iterations done (0 = the initial factors).
    pub iter: usize,
    /// Seconds since the loop started.
    pub time_s: f64,
    /// Divergence + penalties.
    pub objective: f64,
    /// The data term alone (the β-divergence, weighted for weighted data).
    pub divergence: f64,
    /// The value of every penalty term, in the order of the fit's
    /// `penalty_names` (empty without penalties).
    pub penalties: Vec<f64>,
    /// (previous − current objective) / |previous|, since the last record.
    pub rel_decrease: Option<f64>,
    /// Σ|projected gradient| of the iteration (cd, hals).
    pub violation: Option<f64>,
    /// θ coefficients, factor changes and KKT residual, when asked for
    /// ([`Diagnostics`]; not at iteration 0).
    pub diagnostics: Option<Diagnostics>,
    /// Values tracked at every evaluation, in the order of the fit's
    /// `tracked_names` (the smooth model's errors against true factors;
    /// empty otherwise).
    pub tracked: Vec<f64>,
}

/// What the progress callback sees after every iteration.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub iter: usize,
    pub max_iter: usize,
    pub elapsed: Duration,
    /// The latest evaluated objective.
    pub objective: f64,
    /// Minibatch fits: the smoothed (exponentially weighted) batch cost
    /// per row, scikit-learn's convergence monitor.
    pub batch_cost: Option<f64>,
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
    /// The half-steps of one iteration, in order.
    pub sides: Vec<Side>,
    /// Extrapolate the iterates (Ang & Gillis 2019); both factors.
    pub extrapolate: bool,
    /// Balance the components after every iteration (`Every`) or once at
    /// the end (`End`), for the elastic net given (see `balance.rs`).
    pub balance: Balancing,
    /// Record [`Diagnostics`] at every evaluation.
    pub diagnostics: bool,
}

/// When the driver rescales the components.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Balancing {
    Off,
    End(Penalties),
    Every(Penalties),
}

impl LoopSettings {
    /// The sides for `order`, given which factors are updated.
    pub fn sides(order: UpdateOrder, update_w: bool, update_h: bool) -> Vec<Side> {
        match (update_w, update_h, order) {
            (_, false, _) => vec![Side::W],
            (false, true, _) => vec![Side::H],
            (true, true, UpdateOrder::WThenH) => vec![Side::W, Side::H],
            (true, true, UpdateOrder::HThenW) => vec![Side::H, Side::W],
        }
    }
}

/// The resolved convergence rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    Objective,
    SklearnViolation,
    SklearnError,
    /// scikit-learn's MiniBatchNMF rule over `n_samples` rows (see
    /// `minibatch.rs`); `tol` bounds H's relative change.
    Minibatch {
        n_samples: usize,
        max_no_improvement: Option<usize>,
    },
}

pub(crate) struct LoopOutcome {
    pub n_iter: usize,
    pub stop: StopReason,
    pub history: Vec<HistoryEntry>,
}

/// (previous − current) / |previous|, 0 when previous is 0.
fn relative_decrease(prev: f64, cur: f64) -> f64 {
    if prev != 0.0 {
        (prev - cur) / prev.abs()
    } else {
        0.0
    }
}

/// The history and the objective rule's state.
struct Record {
    start: Instant,
    history: Vec<HistoryEntry>,
    prev_obj: f64,
}

impl Record {
    /// Records iteration `iter` (its data term `divergence`, penalties
    /// `pen`) and returns (objective, relative decrease).
    fn push(
        &mut self,
        iter: usize,
        divergence: f64,
        pen: Vec<f64>,
        violation: Option<f64>,
    ) -> (f64, f64) {
        let t = self.start.elapsed().as_secs_f64();
        self.push_at(t, iter, divergence, pen, violation)
    }

    fn push_at(
        &mut self,
        time_s: f64,
        iter: usize,
        divergence: f64,
        pen: Vec<f64>,
        violation: Option<f64>,
    ) -> (f64, f64) {
        let obj = divergence + pen.iter().sum::<f64>();
        let rel = relative_decrease(self.prev_obj, obj);
        self.history.push(HistoryEntry {
            iter,
            time_s,
            objective: obj,
            divergence,
            penalties: pen,
            rel_decrease: (iter > 0).then_some(rel),
            violation,
            diagnostics: None,
            tracked: Vec::new(),
        });
        self.prev_obj = obj;
        (obj, rel)
    }

    fn last_iter(&self) -> Option<usize> {
        self.history.last().map(|h| h.iter)
    }

    /// The objective rule on the latest record (see [`Convergence::Objective`]):
    /// whether the average relative decrease per evaluation since the last
    /// record at least `WINDOW` iterations back is below `tol`.
    fn stalled(&self, tol: f64, eval_every: usize) -> bool {
        let Some(last) = self.history.last() else {
            return false;
        };
        if tol <= 0.0 || last.iter < WINDOW.max(eval_every) {
            return false;
        }
        let cutoff = last.iter - WINDOW.max(eval_every);
        let Some(old) = self.history.iter().rev().find(|h| h.iter <= cutoff) else {
            return false;
        };
        let spanned = ((last.iter - old.iter) as f64 / eval_every as f64).max(1.0);
        relative_decrease(old.objective, last.objective) < tol * spanned
    }
}

/// An evaluation whose data term the next half-step measures.
struct Pending {
    iter: usize,
    time_s: f64,
    penalties: Vec<f64>,
    diagnostics: Option<Diagnostics>,
    tracked: Vec<f64>,
}

pub(crate) fn run<T: Scalar, P: Problem + ?Sized>(
    x: &P,
    f: &mut Factors<T>,
    solver: &mut dyn Solver<T, P>,
    objective: &Objective<'_, T>,
    s: &LoopSettings,
    mut progress: Option<&mut ProgressFn<'_>>,
) -> crate::Result<LoopOutcome> {
    let start = Instant::now();
    let objective_of =
        |div: f64, f: &Factors<T>| -> f64 { div + objective.penalties(x, f).iter().sum::<f64>() };
    let mut rec = Record {
        start,
        history: Vec::new(),
        prev_obj: 0.0,
    };
    let div0 = (objective.data_term)(f);
    let (obj0, _) = rec.push(0, div0, objective.penalties(x, f), None);
    if let Some(first) = rec.history.last_mut() {
        first.tracked = objective.tracked(f);
    }
    let sides = &s.sides[..];
    let lagged = solver.measures_before();
    // Sklearn's MU rule works on sqrt(2·loss) and only every 10 iterations.
    let err_of = |loss: f64| (2.0 * loss.max(0.0)).sqrt();
    let err_init = err_of(div0);
    let mut prev_err = err_init;
    let mut violation_init = None;
    let mut stop = StopReason::MaxIterations;
    let mut n_iter = 0;
    let mut last_factors = s.factor_tol.map(|_| f.clone());
    let mut ext =
        (s.extrapolate && sides.len() == 2 && !lagged).then(|| Extrapolation::new(f, obj0));
    let mut pending: Option<Pending> = None;
    let gradient = |f: &Factors<T>| objective.gradient.as_ref().map(|g| g(f));
    let mut tracker = s.diagnostics.then(|| Tracker::new(f, gradient(f)));
    let mut minibatch_stop = minibatch::MinibatchStop::default();
    let mut stopping = false;

    'iterations: for it in 1..=s.max_iter {
        n_iter = it;
        let eval = it % s.eval_every == 0 || it == s.max_iter;
        let mut violation: Option<f64> = None;
        let mut divergence = None;
        // An extrapolated step redone plainly is a small step by design:
        // it never counts as convergence.
        let mut redone = false;
        let (mut batch, mut h_change) = (None, None);
        if let Some(e) = ext.as_mut() {
            let sides = [sides[0], sides[1]];
            let out = e.iterate(x, f, solver, sides, &objective_of, &*objective.data_term);
            divergence = Some(out.divergence);
            redone = out.redone;
        } else {
            for (q, &side) in sides.iter().enumerate() {
                let last = q + 1 == sides.len();
                let measure_before = q == 0 && pending.is_some();
                let saved = measure_before.then(|| f.get(side).clone());
                let want = Want {
                    after: eval && last && !lagged,
                    before: measure_before,
                };
                let info = solver.half_step(x, f, side, want);
                if let (Some(p), Some(saved)) = (pending.take(), saved) {
                    let div = info
                        .divergence_before
                        .expect("a solver that measures before a step reports it");
                    let (obj, _) = rec.push_at(p.time_s, p.iter, div, p.penalties, None);
                    if let Some(last) = rec.history.last_mut() {
                        last.diagnostics = p.diagnostics;
                        last.tracked = p.tracked;
                    }
                    solver.observe(p.iter, obj);
                    if s.rule == Rule::Objective && rec.stalled(s.tol, s.eval_every) {
                        // Back to the iterate that was measured.
                        *f.get_mut(side) = saved;
                        solver.forget();
                        n_iter = p.iter;
                        stop = StopReason::Converged;
                        break 'iterations;
                    }
                }
                if let Some(v) = info.violation {
                    *violation.get_or_insert(0.0) += v;
                }
                batch = batch.or(info.batch);
                h_change = h_change.or(info.h_change);
                if last {
                    divergence = info.divergence;
                }
            }
        }
        if let Some(e) = solver.failure().or_else(|| x.failure()) {
            return Err(e);
        }
        if let (
            Rule::Minibatch {
                n_samples,
                max_no_improvement,
            },
            Some(b),
        ) = (s.rule, batch)
        {
            let change = h_change.unwrap_or(f64::INFINITY);
            if minibatch_stop.step(b, change, n_samples, s.tol, max_no_improvement) {
                stop = StopReason::Converged;
                if !eval {
                    break;
                }
                stopping = true;
            }
        }
        if sum_all(x, (!f.all_finite()) as u8 as f64) > 0.0 {
            return Err(crate::NmfError::Numerical(format!(
                "non-finite values appeared in the factors at iteration {it}"
            )));
        }
        if let Balancing::Every(pen) = &s.balance {
            let scale = balance::scales(x, f, pen);
            balance::apply(f, &scale);
            solver.rescaled(&scale);
            if let Some(prev) = last_factors.as_mut() {
                balance::apply(prev, &scale);
            }
            if let Some(e) = ext.as_mut() {
                e.rescale(
                    &scale,
                    |g| balance::apply(g, &scale),
                    objective_of(divergence.unwrap_or_else(|| (objective.data_term)(f)), f),
                );
            }
        }

        if eval && lagged {
            pending = Some(Pending {
                iter: it,
                time_s: start.elapsed().as_secs_f64(),
                penalties: objective.penalties(x, f),
                diagnostics: tracker.as_mut().map(|t| t.step(x, f, sides, gradient(f))),
                tracked: objective.tracked(f),
            });
        } else if eval {
            let div = divergence.unwrap_or_else(|| (objective.data_term)(f));
            let (obj, _) = rec.push(it, div, objective.penalties(x, f), violation);
            if let Some(last) = rec.history.last_mut() {
                last.tracked = objective.tracked(f);
            }
            if let Some(t) = tracker.as_mut() {
                let d = t.step(x, f, sides, gradient(f));
                if let Some(last) = rec.history.last_mut() {
                    last.diagnostics = Some(d);
                }
            }
            solver.observe(it, obj);
            let converged = match s.rule {
                Rule::Objective => !redone && rec.stalled(s.tol, s.eval_every),
                Rule::SklearnError => {
                    let err = err_of(div);
                    let done = s.tol > 0.0 && it % 10 == 0 && (prev_err - err) / err_init < s.tol;
                    if it % 10 == 0 {
                        prev_err = err;
                    }
                    done
                }
                Rule::SklearnViolation | Rule::Minibatch { .. } => stopping,
            };
            if converged {
                stop = StopReason::Converged;
                break;
            }
        }
        if let Some(t) = tracker.as_mut().filter(|_| !eval) {
            t.skip(f);
        }
        if s.rule == Rule::SklearnViolation {
            let v = violation.unwrap_or(0.0);
            let v0 = *violation_init.get_or_insert(v);
            if s.tol > 0.0 && (v0 == 0.0 || v / v0 <= s.tol) {
                stop = StopReason::Converged;
                break;
            }
        }
        if let (Some(ftol), Some(prev)) = (s.factor_tol, last_factors.as_mut()) {
            let change = relative_change(x, prev, f, sides);
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
                objective: rec.prev_obj,
                batch_cost: minibatch_stop.smoothed(),
            };
            let mut cancel = [cb(&p).is_break() as u8 as f64];
            x.reduce_max(&mut cancel);
            if cancel[0] > 0.0 {
                stop = StopReason::Cancelled;
                break;
            }
        }
    }
    if let Balancing::End(pen) = &s.balance {
        // WH is unchanged; the penalties can only fall.
        let scale = balance::scales(x, f, pen);
        balance::apply(f, &scale);
        if let Some(last) = rec.history.last_mut().filter(|h| h.iter == n_iter) {
            last.penalties = objective.penalties(x, f);
            last.objective = last.divergence + last.penalties.iter().sum::<f64>();
        }
    }
    // The last iteration is always in the history.
    if rec.last_iter() != Some(n_iter) {
        let div = (objective.data_term)(f);
        match pending.take() {
            Some(p) if p.iter == n_iter => {
                let r = rec.push_at(p.time_s, n_iter, div, p.penalties, None);
                if let Some(last) = rec.history.last_mut() {
                    last.diagnostics = p.diagnostics;
                    last.tracked = p.tracked;
                }
                r
            }
            _ => {
                let r = rec.push(n_iter, div, objective.penalties(x, f), None);
                if let Some(last) = rec.history.last_mut() {
                    last.tracked = objective.tracked(f);
                }
                r
            }
        };
    }
    if let Some(e) = x.failure() {
        return Err(e);
    }
    Ok(LoopOutcome {
        n_iter,
        stop,
        history: rec.history,
    })
}

/// ‖F_new − F_old‖ / ‖F_old‖ over the factors the fit updates (a fixed
/// factor would only dilute the change).
fn relative_change<T: Scalar, P: Problem + ?Sized>(
    x: &P,
    old: &Factors<T>,
    new: &Factors<T>,
    sides: &[Side],
) -> f64 {
    let mut diff = 0.0;
    let mut base = 0.0;
    let pairs = sides
        .iter()
        .flat_map(|&side| old.get(side).data.iter().zip(&new.get(side).data));
    for (a, b) in pairs {
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

#[cfg(test)]
mod tests;
