//! `auto` for the Frobenius loss: exact ANLS half-steps first, then
//! accelerated HALS, switching between them from the progress they make.
//!
//! Why: from one start, HALS and ANLS often end in different local minima
//! (on the digits images, k = 10, HALS ends at 367377 and ANLS at 364109,
//! 0.9 % lower), and the basin is decided
//! within the first iterations; ten exact ANLS iterations pick ANLS's basin
//! and HALS then gets there faster per iteration. Later, wherever HALS
//! crawls (ill-conditioned factors, a flat valley), one exact ANLS
//! iteration may gain more per unit of work than many HALS iterations.
//!
//! The rule, deterministic for a seed and thread count (it counts work in
//! flops, never in seconds): after every stretch of [`STRETCH`] iterations
//! of one solver, one iteration of the other is tried from the same point;
//! it takes over when its relative decrease per flop beats the current
//! solver's over its last [`WINDOW`] iterations. Both are monotone, so the
//! objective never rises across a switch.

use super::{AnlsBpp, Factors, Hals, Solver, StepInfo, Want};
use crate::data::{Data, Side};
use crate::scalar::Scalar;

/// Iterations of ANLS that choose the basin.
pub(crate) const WARM: usize = 10;
/// Iterations of one solver between tries of the other.
pub(crate) const STRETCH: usize = 25;
/// Iterations over which the current solver's progress is measured.
const WINDOW: usize = 10;
/// A relative decrease below this is rounding, not progress.
const NOISE: f64 = 1e-10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Anls,
    Hals,
}

impl Which {
    fn other(self) -> Which {
        match self {
            Which::Anls => Which::Hals,
            Which::Hals => Which::Anls,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Which::Anls => "anls",
            Which::Hals => "hals",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// ANLS's first iterations, which choose the basin.
    Warming,
    /// The current solver has run since `since`.
    Running { since: usize },
    /// One try of the other solver from iteration `from` (objective
    /// `obj`), against the current solver's rate `rate`.
    Trying { from: usize, obj: f64, rate: f64 },
}

/// Flops per iteration of each solver for this problem (a model, used only
/// to compare them): both do the two products with X (4·e·k for e stored
/// entries) and the Grams; HALS sweeps its columns about twice, ANLS
/// factorizes a k×k system per group of lines, about k³/3 per line at worst.
pub(crate) fn flops_per_iteration(n: usize, m: usize, stored: usize, k: usize) -> (f64, f64) {
    let (e, lines, k) = (stored as f64, (n + m) as f64, k as f64);
    let common = 4.0 * e * k + 2.0 * lines * k * k;
    (
        common + 2.0 * lines * k * k,
        common + lines * k * k * k / 3.0,
    )
}

pub(crate) struct AutoFrobenius<T> {
    anls: AnlsBpp<T>,
    hals: Hals<T>,
    current: Which,
    state: State,
    /// Flops per iteration: (hals, anls).
    cost: (f64, f64),
    /// Recent (iteration, objective) evaluations.
    seen: Vec<(usize, f64)>,
    /// What was chosen and why, for the report.
    log: Vec<String>,
}

impl<T: Scalar> AutoFrobenius<T> {
    /// `warm`: start with ANLS's basin-choosing iterations.
    pub(crate) fn new(anls: AnlsBpp<T>, hals: Hals<T>, cost: (f64, f64), warm: bool) -> Self {
        let current = if warm { Which::Anls } else { Which::Hals };
        AutoFrobenius {
            anls,
            hals,
            current,
            state: if warm {
                State::Warming
            } else {
                State::Running { since: 0 }
            },
            cost,
            seen: Vec::new(),
            log: Vec::new(),
        }
    }

    fn cost_of(&self, w: Which) -> f64 {
        match w {
            Which::Hals => self.cost.0,
            Which::Anls => self.cost.1,
        }
    }

    fn active<D: Data<T>>(&mut self) -> &mut dyn Solver<T, D> {
        match self.current {
            Which::Anls => &mut self.anls,
            Which::Hals => &mut self.hals,
        }
    }

    fn switch_to<D: Data<T>>(&mut self, w: Which) {
        self.current = w;
        // The newcomer's caches describe factors of long ago.
        Solver::<T, D>::forget(&mut self.anls);
        Solver::<T, D>::forget(&mut self.hals);
    }

    /// Relative decrease per flop of the current solver over its last
    /// `WINDOW` iterations (since `since`), if that span was seen.
    fn recent_rate(&self, since: usize) -> Option<f64> {
        let &(it, obj) = self.seen.last()?;
        let &(it0, obj0) = self
            .seen
            .iter()
            .rev()
            .find(|(i, _)| *i + WINDOW <= it && *i >= since)?;
        Some(rate(
            obj0,
            obj,
            (it - it0) as f64 * self.cost_of(self.current),
        ))
    }
}

fn rate(before: f64, after: f64, flops: f64) -> f64 {
    if before > 0.0 && flops > 0.0 {
        (before - after) / before / flops
    } else {
        0.0
    }
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for AutoFrobenius<T> {
    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want: Want) -> StepInfo {
        self.active::<D>().half_step(x, f, side, want)
    }

    fn forget(&mut self) {
        Solver::<T, D>::forget(&mut self.anls);
        Solver::<T, D>::forget(&mut self.hals);
    }

    fn rescaled(&mut self, s: &[f64]) {
        Solver::<T, D>::rescaled(&mut self.anls, s);
        Solver::<T, D>::rescaled(&mut self.hals, s);
    }

    fn observe(&mut self, iter: usize, objective: f64) {
        self.seen.push((iter, objective));
        if self.seen.len() > 4 * WINDOW {
            self.seen.drain(..self.seen.len() - 2 * WINDOW);
        }
        match self.state {
            State::Warming => {
                if iter >= WARM {
                    self.log.push(format!(
                        "iterations 1-{iter}: anls (exact half-steps choose the basin)"
                    ));
                    self.switch_to::<D>(Which::Hals);
                    self.state = State::Running { since: iter };
                }
            }
            State::Running { since } => {
                if iter >= since + STRETCH {
                    if let Some(r) = self.recent_rate(since) {
                        self.state = State::Trying {
                            from: iter,
                            obj: objective,
                            rate: r,
                        };
                        self.switch_to::<D>(self.current.other());
                    }
                }
            }
            State::Trying { from, obj, rate: r } => {
                let tried = self.current;
                let spent = (iter - from) as f64 * self.cost_of(tried);
                let gain = rate(obj, objective, spent);
                // Decreases at rounding level decide nothing.
                let relative = (obj - objective) / obj.abs().max(f64::MIN_POSITIVE);
                if gain > r && relative > NOISE {
                    self.log.push(format!(
                        "iteration {iter}: {} takes over from {} ({gain:.3e} vs {r:.3e} relative decrease per flop)",
                        tried.name(),
                        tried.other().name()
                    ));
                } else {
                    self.switch_to::<D>(tried.other());
                }
                self.state = State::Running { since: iter };
            }
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self.log.clone();
        notes.push(format!("ended with {}", self.current.name()));
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseData;
    use crate::regularization::Penalties;

    fn auto() -> AutoFrobenius<f64> {
        let pen = Penalties::default();
        AutoFrobenius::new(
            AnlsBpp::new(pen),
            Hals::new(pen, 0.5, 0.1, None),
            (1.0, 2.0),
            true,
        )
    }

    fn feed(
        a: &mut AutoFrobenius<f64>,
        iters: std::ops::RangeInclusive<usize>,
        obj: impl Fn(usize) -> f64,
    ) {
        for it in iters {
            Solver::<f64, DenseData<'_, f64>>::observe(a, it, obj(it));
        }
    }

    #[test]
    fn warms_with_anls_then_tries_anls_and_keeps_it_only_when_it_gains_more_per_flop() {
        let mut a = auto();
        assert_eq!(a.current, Which::Anls);
        feed(&mut a, 1..=WARM, |i| 100.0 - i as f64);
        assert_eq!(a.current, Which::Hals);
        // HALS crawls: 1e-6 relative per iteration (per flop: cost 1).
        let crawl = |i: usize| 90.0 * (1.0 - 1e-6 * (i - WARM) as f64);
        feed(&mut a, WARM + 1..=WARM + STRETCH, crawl);
        assert_eq!(a.current, Which::Anls, "one ANLS iteration is tried");
        // It gains 1e-3 relative in one iteration of cost 2: it takes over.
        let at = WARM + STRETCH;
        let base = crawl(at);
        feed(&mut a, at + 1..=at + 1, |_| base * (1.0 - 1e-3));
        assert_eq!(a.current, Which::Anls);
        assert!(
            a.log.iter().any(|l| l.contains("anls takes over")),
            "{:?}",
            a.log
        );
    }

    #[test]
    fn a_worse_try_or_a_rounding_level_gain_goes_back() {
        let mut a = auto();
        feed(&mut a, 1..=WARM, |i| 100.0 - i as f64);
        let fast = |i: usize| 90.0 * (1.0 - 1e-3 * (i - WARM) as f64);
        feed(&mut a, WARM + 1..=WARM + STRETCH, fast);
        assert_eq!(a.current, Which::Anls);
        let at = WARM + STRETCH;
        let base = fast(at);
        // 1e-3 over cost 2 is half HALS's rate per flop: back to HALS.
        feed(&mut a, at + 1..=at + 1, |_| base * (1.0 - 1e-3));
        assert_eq!(a.current, Which::Hals);
        // Converged: HALS's rate is 0 and the try gains only rounding.
        let flat = base * (1.0 - 1e-3);
        feed(&mut a, at + 2..=at + 1 + STRETCH, |_| flat);
        assert_eq!(a.current, Which::Anls);
        feed(&mut a, at + 2 + STRETCH..=at + 2 + STRETCH, |_| {
            flat * (1.0 - 1e-14)
        });
        assert_eq!(a.current, Which::Hals);
        assert!(
            !a.log.iter().any(|l| l.contains("takes over")),
            "{:?}",
            a.log
        );
    }
}
