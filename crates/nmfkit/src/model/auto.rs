//! What `solver = auto` runs, decided from the loss, the data and which
//! factors move — and the reasons, for the report.

use super::Nmf;
use crate::loss::Loss;
use crate::solver::{flops_per_iteration, SolverKind};

/// The resolved choice.
pub(crate) struct Plan {
    /// The solver whose rules (stopping, order, balance, start) apply.
    pub kind: SolverKind,
    /// Frobenius with both factors free: ANLS then HALS, with switches.
    pub combined: bool,
    /// Start the combination with ANLS's basin-choosing iterations.
    pub warm: bool,
    /// Flops per iteration (hals, anls) for the combination's rule.
    pub cost: (f64, f64),
    pub extrapolate: bool,
    pub reason: String,
}

impl Nmf {
    /// Whether the fit runs multiplicative updates: named, or what `auto`
    /// takes for a β other than 1 and 2 (it decides order and start).
    pub(crate) fn runs_mu(&self) -> bool {
        match self.solver {
            SolverKind::Mu => true,
            SolverKind::Auto => !matches!(self.loss, Loss::Frobenius | Loss::KullbackLeibler),
            _ => false,
        }
    }

    /// The plan for data of shape (n, m) with `stored` entries, `sparse`
    /// or not; `visits` whether the data can be read line by line (not
    /// distributed); `both` whether both factors are updated.
    pub(crate) fn plan(
        &self,
        (n, m): (usize, usize),
        stored: usize,
        sparse: bool,
        visits: bool,
        both: bool,
    ) -> Plan {
        let mut p = Plan {
            kind: self.solver,
            combined: false,
            warm: false,
            cost: (0.0, 0.0),
            extrapolate: self.extrapolate,
            reason: String::new(),
        };
        if self.solver != SolverKind::Auto {
            return p;
        }
        let k = self.rank;
        let what = format!(
            "{} {n}x{m}{}, k={k}",
            if sparse { "sparse" } else { "dense" },
            if sparse {
                format!(" ({stored} stored)")
            } else {
                String::new()
            }
        );
        match self.loss {
            Loss::Frobenius if !both => {
                p.kind = SolverKind::AnlsBpp;
                p.reason = format!(
                    "auto on {what}: one factor is fixed, so anls solves the other exactly"
                );
            }
            Loss::Frobenius => {
                p.kind = SolverKind::Hals;
                p.combined = true;
                p.extrapolate = true;
                p.cost = flops_per_iteration(n, m, stored, k);
                // Exact half-steps to choose the basin, unless k makes
                // them far dearer than HALS's.
                p.warm = p.cost.1 <= 3.0 * p.cost.0;
                p.reason = format!(
                    "auto on {what}, Frobenius: {}hals with extrapolation; every {} iterations one iteration of the other solver is tried and kept when it lowers the objective more per flop (model: hals {:.3e}, anls {:.3e} flops per iteration)",
                    if p.warm {
                        format!("anls for {} iterations (exact half-steps choose the basin), then ", crate::solver::WARM)
                    } else {
                        String::new()
                    },
                    crate::solver::STRETCH,
                    p.cost.0,
                    p.cost.1
                );
            }
            Loss::KullbackLeibler if visits => {
                p.kind = SolverKind::KlCd;
                p.reason = format!(
                    "auto on {what}, KL: ccd (coordinate Newton steps, cost per sweep in stored entries)"
                );
            }
            l => {
                p.kind = SolverKind::Mu;
                p.reason = format!(
                    "auto on {what}, {} loss: mu (the solver for every beta{})",
                    l.name(),
                    if l == Loss::KullbackLeibler {
                        "; ccd needs data it can read line by line"
                    } else {
                        ""
                    }
                );
            }
        }
        p
    }
}
