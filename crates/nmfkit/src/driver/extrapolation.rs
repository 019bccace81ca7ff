//! Ang & Gillis's extrapolation ("Accelerating nonnegative matrix
//! factorization algorithms using extrapolation", 2019): each half-step
//! starts from the other factor pushed along its last move,
//! Y = max(0, F + β(F − F_prev)), with β grown by γ after a success (up to
//! β̄, itself grown by γ̄) and cut by η after a failure. Unlike the paper,
//! a failed step is not kept: the iteration is redone from the last
//! accepted factors without extrapolation, so the objective still never
//! increases.

use crate::data::Side;
use crate::matrix::Mat;
use crate::scalar::Scalar;
use crate::solver::{Factors, Solver, Want};

const BETA0: f64 = 0.5;
const GAMMA: f64 = 1.01;
const GAMMA_BAR: f64 = 1.005;
const ETA: f64 = 1.5;

pub(super) struct Extrapolation<T> {
    beta: f64,
    beta_bar: f64,
    accepted: Factors<T>,
    previous: Factors<T>,
    objective: f64,
}

/// `y ← max(0, y + β (y − old))`.
fn push<T: Scalar>(y: &mut Mat<T>, old: &Mat<T>, beta: f64) {
    let b = T::from_f64(beta);
    for (v, &o) in y.data.iter_mut().zip(&old.data) {
        *v = (*v + b * (*v - o)).max(T::ZERO);
    }
}

/// What one extrapolated iteration did.
pub(super) struct Outcome {
    /// The data term after the iteration.
    pub divergence: f64,
    /// The extrapolated step raised the objective and was redone plainly.
    pub redone: bool,
}

impl<T: Scalar> Extrapolation<T> {
    /// The factors were rescaled by `apply` (their products unchanged):
    /// rescale the kept iterates alike; `objective` is the new one.
    pub fn rescale(&mut self, _s: &[f64], apply: impl Fn(&mut Factors<T>), objective: f64) {
        apply(&mut self.accepted);
        apply(&mut self.previous);
        self.objective = objective;
    }

    pub fn new(f: &Factors<T>, objective: f64) -> Self {
        Extrapolation {
            beta: BETA0,
            beta_bar: 1.0,
            accepted: f.clone(),
            previous: f.clone(),
            objective,
        }
    }

    /// One iteration over `sides` (both factors, in order). `objective_of`
    /// gives the objective from the data term and the factors,
    /// `divergence_of` the data term when the step does not report it.
    pub fn iterate<P: ?Sized>(
        &mut self,
        x: &P,
        f: &mut Factors<T>,
        solver: &mut dyn Solver<T, P>,
        sides: [Side; 2],
        objective_of: &dyn Fn(f64, &Factors<T>) -> f64,
        divergence_of: &dyn Fn(&Factors<T>) -> f64,
    ) -> Outcome {
        let [s1, s2] = sides;
        let last = Want {
            after: true,
            before: false,
        };
        // The first half-step's fixed factor, pushed along its last move.
        push(
            f.get_mut(s1.other()),
            self.previous.get(s1.other()),
            self.beta,
        );
        solver.forget();
        solver.half_step(x, f, s1, Want::default());
        push(f.get_mut(s1), self.accepted.get(s1), self.beta);
        solver.forget();
        let step = solver.half_step(x, f, s2, last).divergence;
        let loss = step.unwrap_or_else(|| divergence_of(f));
        let accepted = objective_of(loss, f) <= self.objective;
        let divergence = if accepted {
            self.beta = (GAMMA * self.beta).min(self.beta_bar);
            self.beta_bar = (GAMMA_BAR * self.beta_bar).min(1.0);
            loss
        } else {
            // Redo the iteration from the accepted factors, plainly.
            self.beta_bar = self.beta;
            self.beta /= ETA;
            f.clone_from(&self.accepted);
            solver.forget();
            solver.half_step(x, f, s1, Want::default());
            let step = solver.half_step(x, f, s2, last).divergence;
            step.unwrap_or_else(|| divergence_of(f))
        };
        std::mem::swap(&mut self.previous, &mut self.accepted);
        self.accepted.clone_from(f);
        self.objective = objective_of(divergence, f);
        Outcome {
            divergence,
            redone: !accepted,
        }
    }
}
