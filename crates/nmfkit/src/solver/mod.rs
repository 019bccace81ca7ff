//! Solvers: one file each, behind one trait. A solver knows how to do one
//! half-step — update one factor with the other fixed — from the data's
//! products; the driver (`crate::driver`) owns the loop around it.

mod anls;
mod auto;
mod cd;
mod greedy_cd;
mod hals;
mod kl_cd;
mod kl_lanes;
mod mu;
mod nnls;
mod pgrad;
mod sweep;

pub(crate) use anls::AnlsBpp;
pub(crate) use auto::{flops_per_iteration, AutoFrobenius, STRETCH, WARM};
pub(crate) use cd::CoordinateDescent;
pub(crate) use greedy_cd::GreedyCd;
pub(crate) use hals::{inner_sweeps, Hals};
pub(crate) use kl_cd::KlCoordinateDescent;
pub(crate) use mu::MultiplicativeUpdate;
pub use nnls::nnls_bpp;
pub(crate) use pgrad::ProjectedGradient;
pub(crate) use sweep::hals_sweeps;

use crate::data::{gram_of, sum_all, Data, LineGrams, Problem, Side};
use crate::error::{invalid, Result};
use crate::linalg::inner;
use crate::matrix::Mat;
use crate::scalar::Scalar;

/// Which algorithm fits the factors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolverKind {
    /// Multiplicative updates (Lee & Seung; Févotte & Idier for general β).
    Mu,
    /// scikit-learn's coordinate descent, reproduced exactly (Frobenius only).
    Cd,
    /// Accelerated HALS (Gillis & Glineur 2012), Frobenius only.
    Hals,
    /// Alternating NNLS by block principal pivoting (Kim & Park 2011),
    /// Frobenius only: every half-step is solved exactly.
    AnlsBpp,
    /// Cyclic coordinate descent with a Newton step per coordinate (Hsieh
    /// & Dhillon 2011), for the KL divergence.
    KlCd,
    /// Greedy coordinate descent (Hsieh & Dhillon 2011; NMF.jl's default),
    /// Frobenius only: per column, the coordinate whose exact step
    /// decreases the objective most, again and again.
    GreedyCd,
    /// Alternating NNLS by projected gradient with Lin's Armijo search
    /// (Lin 2007; NMF.jl's `alspgrad`), Frobenius only.
    Pgrad,
    /// The successive projection algorithm for separable data (Gillis &
    /// Vavasis 2014; NMF.jl's `spa`): k columns of X are W (kept), H is
    /// solved exactly by ANLS. Frobenius only.
    Spa,
    /// Chosen from the loss, the data and the progress of the fit: for
    /// Frobenius, ANLS then accelerated HALS with extrapolation, switching
    /// between them by their progress per flop; `ccd` for KL; `mu` for
    /// every other β. The fit's `notes` say what ran and why.
    Auto,
}

impl SolverKind {
    pub fn parse(s: &str) -> Result<SolverKind> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "mu" => SolverKind::Mu,
            "cd" => SolverKind::Cd,
            "hals" => SolverKind::Hals,
            "anls" | "anls-bpp" | "anls_bpp" => SolverKind::AnlsBpp,
            "ccd" | "kl-cd" | "kl_cd" => SolverKind::KlCd,
            "greedycd" | "greedy-cd" | "gcd" => SolverKind::GreedyCd,
            "pgrad" | "alspgrad" => SolverKind::Pgrad,
            "spa" => SolverKind::Spa,
            "auto" => SolverKind::Auto,
            _ => {
                return Err(invalid(
                    "solver",
                    format!(
                        "'{s}' is not one of auto, mu, cd, hals, anls, ccd, greedycd, pgrad, spa"
                    ),
                ))
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            SolverKind::Mu => "mu",
            SolverKind::Cd => "cd",
            SolverKind::Hals => "hals",
            SolverKind::AnlsBpp => "anls",
            SolverKind::KlCd => "ccd",
            SolverKind::GreedyCd => "greedycd",
            SolverKind::Pgrad => "pgrad",
            SolverKind::Spa => "spa",
            SolverKind::Auto => "auto",
        }
    }

    /// Every solver (for listings and tests).
    pub const ALL: [SolverKind; 9] = [
        SolverKind::Auto,
        SolverKind::Mu,
        SolverKind::Cd,
        SolverKind::Hals,
        SolverKind::AnlsBpp,
        SolverKind::KlCd,
        SolverKind::GreedyCd,
        SolverKind::Pgrad,
        SolverKind::Spa,
    ];

    /// Whether it minimizes the loss with this β.
    pub fn handles(&self, beta: f64) -> bool {
        match self {
            SolverKind::Mu | SolverKind::Auto => true,
            SolverKind::KlCd => beta == 1.0,
            _ => beta == 2.0,
        }
    }
}

/// W (stored transposed, k×n) and H (k×m).
#[derive(Clone, Debug, PartialEq)]
pub struct Factors<T> {
    pub wt: Mat<T>,
    pub h: Mat<T>,
}

impl<T: Scalar> Factors<T> {
    /// (fixed factor, updated factor) for a half-step on `side`.
    pub(crate) fn split_mut(&mut self, side: Side) -> (&Mat<T>, &mut Mat<T>) {
        match side {
            Side::W => (&self.h, &mut self.wt),
            Side::H => (&self.wt, &mut self.h),
        }
    }

    pub(crate) fn get_mut(&mut self, side: Side) -> &mut Mat<T> {
        match side {
            Side::W => &mut self.wt,
            Side::H => &mut self.h,
        }
    }

    pub(crate) fn get(&self, side: Side) -> &Mat<T> {
        match side {
            Side::W => &self.wt,
            Side::H => &self.h,
        }
    }

    pub(crate) fn all_finite(&self) -> bool {
        self.wt
            .data
            .iter()
            .chain(&self.h.data)
            .all(|v| v.is_finite())
    }
}

/// What the driver asks of a half-step.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Want {
    /// The data term after the step, if the step's products give it cheaply.
    pub after: bool,
    /// The data term of the factors as they were before the step, for the
    /// solvers that get it almost free from their pass over X
    /// ([`Solver::measures_before`]).
    pub before: bool,
}

/// What a half-step reports back to the driver.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StepInfo {
    /// scikit-learn's projected-gradient violation, summed over the sweep.
    pub violation: Option<f64>,
    /// The data term after the step (see [`Want::after`]).
    pub divergence: Option<f64>,
    /// The data term before the step (see [`Want::before`]).
    pub divergence_before: Option<f64>,
    /// A minibatch step's W half-step: the batch's cost per row and its
    /// number of rows (scikit-learn's stopping rule smooths the cost).
    pub batch: Option<(f64, usize)>,
    /// A minibatch step's H half-step: ‖H_new − H_old‖ / ‖H_new‖.
    pub h_change: Option<f64>,
}

/// One algorithm, as the driver sees it: it updates one factor with the
/// other fixed, from what the problem `P` gives it.
pub(crate) trait Solver<T: Scalar, P: ?Sized> {
    /// Updates the factor of `side` with the other one fixed.
    fn half_step(&mut self, x: &P, f: &mut Factors<T>, side: Side, want: Want) -> StepInfo;

    /// The factors were changed from outside (extrapolation, a restored
    /// iterate): drop anything cached about them.
    fn forget(&mut self) {}

    /// Component t was rescaled: W's column by `s[t]`, H's row by 1/`s[t]`.
    fn rescaled(&mut self, _s: &[f64]) {
        self.forget();
    }

    /// Whether this solver reports the data term of the factors before a
    /// half-step (and never after one): the driver then takes its
    /// evaluations one half-step late.
    fn measures_before(&self) -> bool {
        false
    }

    /// The driver evaluated the objective after iteration `iter`: solvers
    /// that adapt to their progress (`auto`) decide here.
    fn observe(&mut self, _iter: usize, _objective: f64) {}

    /// What the solver chose and why, for the report.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// An error met during the last iteration (a batch that could not be
    /// read, or holds a negative entry): the driver stops with it.
    fn failure(&mut self) -> Option<crate::NmfError> {
        None
    }
}

/// Gram matrices of factors that have not changed since they were computed:
/// the Gram of the factor a half-step just updated is the one the next
/// half-step needs, and the loss after the step needs it too.
#[derive(Debug)]
pub(crate) struct GramCache<T> {
    w: Option<Mat<T>>,
    h: Option<Mat<T>>,
    /// Each side's last cross product, kept for the next half-step of that
    /// side to write into (the products overwrite their output) rather than
    /// allocate and zero a k×lines matrix every time.
    cross: [Mat<T>; 2],
}

impl<T: Scalar> GramCache<T> {
    pub(crate) fn new() -> Self {
        GramCache {
            w: None,
            h: None,
            cross: [Mat::zeros(0, 0), Mat::zeros(0, 0)],
        }
    }

    /// A k×cols buffer for `side`'s cross product (its contents are stale).
    pub(crate) fn cross_buffer(&mut self, side: Side, k: usize, cols: usize) -> Mat<T> {
        let c = std::mem::replace(&mut self.cross[side as usize], Mat::zeros(0, 0));
        if (c.nrows, c.ncols) == (k, cols) {
            c
        } else {
            Mat::zeros(k, cols)
        }
    }

    /// Hands `side`'s cross product back for the next half-step to reuse.
    pub(crate) fn keep_cross(&mut self, side: Side, c: Mat<T>) {
        self.cross[side as usize] = c;
    }

    fn slot(&mut self, side: Side) -> &mut Option<Mat<T>> {
        match side {
            Side::W => &mut self.w,
            Side::H => &mut self.h,
        }
    }

    /// Gram of the fixed factor `l` when `updated` is about to change.
    pub(crate) fn of_fixed<P: Problem + ?Sized>(
        &mut self,
        x: &P,
        updated: Side,
        l: &Mat<T>,
    ) -> Mat<T> {
        let slot = self.slot(updated.other());
        slot.get_or_insert_with(|| gram_of(x, l)).clone()
    }

    /// The Grams after component t's rescaling (W by s_t, H by 1/s_t):
    /// G_W ← S·G_W·S and G_H ← S⁻¹·G_H·S⁻¹.
    pub(crate) fn rescale(&mut self, s: &[f64]) {
        let scale = |g: &mut Mat<T>, f: &dyn Fn(f64) -> f64| {
            let k = g.nrows;
            for q in 0..k {
                for p in 0..k {
                    let v = g.get(p, q).to_f64() * f(s[p]) * f(s[q]);
                    g.set(p, q, T::from_f64(v));
                }
            }
        };
        if let Some(g) = self.w.as_mut() {
            scale(g, &|v| v);
        }
        if let Some(g) = self.h.as_mut() {
            scale(g, &|v| 1.0 / v);
        }
    }

    /// Records that `side` changed; returns its new Gram when asked for.
    pub(crate) fn after_update<P: Problem + ?Sized>(
        &mut self,
        x: &P,
        side: Side,
        r: &Mat<T>,
        want: bool,
    ) -> Option<&Mat<T>> {
        let slot = self.slot(side);
        *slot = if want { Some(gram_of(x, r)) } else { None };
        slot.as_ref()
    }
}

/// Below this share of ½ΣM∘X² the closed form's rounding (about machine
/// epsilon of ½ΣM∘X², its products being computed in T) would show in the
/// loss beyond 1e-5 of it; data that can sum its entries directly does so
/// instead. 1e-6 for f64, 1.2e-2 for f32.
fn closed_form_floor<T: Scalar>() -> f64 {
    (1e5 * T::EPSILON.to_f64()).max(1e-6)
}

/// ½ΣM∘(X − WH)² after a Frobenius half-step that updated `r`, from the
/// step's own products: `c` = cross product with the fixed factor, `grams`
/// the lines' Grams. Returns `None` unless the loss is wanted (or when the
/// data should sum it entry by entry).
pub(crate) fn frobenius_after_step<T: Scalar, D: Data<T>>(
    x: &D,
    cache: &mut GramCache<T>,
    side: Side,
    c: &Mat<T>,
    grams: &LineGrams<'_, T>,
    r: &Mat<T>,
    want: bool,
) -> Option<f64> {
    let gr = cache.after_update(x, side, r, want)?;
    // Shared Grams are whole already; per-line sums are over this piece.
    let quad = match grams.shared() {
        Some(_) => grams.quadratic(r, Some(gr)),
        None => sum_all(x, grams.quadratic(r, None)),
    };
    let cross = sum_all(x, inner(&c.data, &r.data));
    let sq = x.sq_norm();
    let loss = (0.5 * (sq - 2.0 * cross + quad)).max(0.0);
    if x.exact_frobenius() && loss < closed_form_floor::<T>() * 0.5 * sq {
        return None;
    }
    Some(loss)
}

#[cfg(test)]
mod tests;
