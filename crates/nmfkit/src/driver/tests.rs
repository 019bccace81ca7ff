//! The loop's rules on scripted objectives.

use super::*;
use crate::matrix::Mat;
use crate::solver::StepInfo;

struct One;
impl Problem for One {}

/// A solver whose H half-step sets H (1×1) to the next scripted value and
/// whose W half-step does nothing: the objective is H itself.
struct Scripted {
    values: Vec<f64>,
    calls: usize,
}

impl Solver<f64, One> for Scripted {
    fn half_step(&mut self, _: &One, f: &mut Factors<f64>, side: Side, _: Want) -> StepInfo {
        if side == Side::H {
            f.h.data[0] = self.values[self.calls];
            self.calls += 1;
        }
        StepInfo::default()
    }
}

fn settings(max_iter: usize, tol: f64, extrapolate: bool) -> LoopSettings {
    LoopSettings {
        max_iter,
        tol,
        rule: Rule::Objective,
        eval_every: 1,
        factor_tol: None,
        time_limit: None,
        sides: vec![Side::W, Side::H],
        extrapolate,
        balance: Balancing::Off,
        diagnostics: false,
    }
}

fn factors(h: f64) -> Factors<f64> {
    Factors {
        wt: Mat::from_fn(1, 1, |_, _| 1.0),
        h: Mat::from_fn(1, 1, |_, _| h),
    }
}

fn objective() -> Objective<'static, f64> {
    Objective {
        data_term: Box::new(|f: &Factors<f64>| f.h.data[0]),
        terms: Vec::new(),
        gradient: None,
        track: None,
    }
}

#[test]
fn a_single_small_step_does_not_end_the_fit() {
    // Halving every iteration, but one tiny step at iteration 15.
    let mut v: Vec<f64> = (1..=60).map(|i| 1e6 * 0.8f64.powi(i)).collect();
    v[14] = v[13] * (1.0 - 1e-9);
    let mut solver = Scripted {
        values: v,
        calls: 0,
    };
    let mut f = factors(1e6);
    let out = run(
        &One,
        &mut f,
        &mut solver,
        &objective(),
        &settings(60, 1e-4, false),
        None,
    )
    .unwrap();
    assert_eq!((out.n_iter, out.stop), (60, StopReason::MaxIterations));
    // A plateau of a whole window does.
    let mut v: Vec<f64> = (1..=60).map(|i| 1e6 * 0.8f64.powi(i)).collect();
    for i in 20..60 {
        v[i] = v[19] * (1.0 - 1e-9 * (i - 19) as f64);
    }
    let mut solver = Scripted {
        values: v,
        calls: 0,
    };
    let mut f = factors(1e6);
    let out = run(
        &One,
        &mut f,
        &mut solver,
        &objective(),
        &settings(60, 1e-4, false),
        None,
    )
    .unwrap();
    assert_eq!(out.stop, StopReason::Converged);
    assert_eq!(
        out.n_iter,
        20 + WINDOW,
        "the plateau starts after iteration 20"
    );
}

#[test]
fn an_extrapolation_step_redone_plainly_never_ends_the_fit() {
    // Big decreases to iteration 21, then tiny ones; at iteration 31 the
    // extrapolated step rises (a redo), and the redo's tiny step would end
    // the fit there if redos counted: the rule may only fire at 32.
    let big = |it: usize| 1000.0 * 0.5f64.powi(it as i32);
    let tiny = |j: usize| big(21) * (1.0 - 1e-9 * j as f64);
    let mut v: Vec<f64> = (1..=21).map(big).collect();
    v.extend((22..=30).map(|it| tiny(it - 21)));
    v.push(big(21) * 10.0); // iteration 31, extrapolated: rejected
    v.push(tiny(10)); // iteration 31, redone plainly
    v.extend((32..=40).map(|it| tiny(it - 21)));
    let mut solver = Scripted {
        values: v,
        calls: 0,
    };
    let mut f = factors(1000.0);
    let out = run(
        &One,
        &mut f,
        &mut solver,
        &objective(),
        &settings(40, 1e-4, true),
        None,
    )
    .unwrap();
    assert_eq!(out.stop, StopReason::Converged);
    assert_eq!(out.n_iter, 32);
    // The history holds the redone step's objective, never the rejected one.
    assert!(out
        .history
        .windows(2)
        .all(|w| w[1].objective <= w[0].objective));
}
