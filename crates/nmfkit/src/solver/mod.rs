//! Solvers: one file each, behind one trait. A solver knows how to do one
//! half-step — update one factor with the other fixed — from the data's
//! products; the driver (`crate::driver`) owns the loop around it.

mod anls;
mod cd;
mod hals;
mod mu;
mod sweep;

pub use anls::nnls_bpp;
pub(crate) use anls::AnlsBpp;
pub(crate) use cd::CoordinateDescent;
pub(crate) use hals::Hals;
pub(crate) use mu::MultiplicativeUpdate;

use crate::data::{gram_of, sum_all, Data, Side};
use crate::error::{invalid, Result};
use crate::linalg::inner;
use crate::loss::frobenius_from_products;
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
}

impl SolverKind {
    pub fn parse(s: &str) -> Result<SolverKind> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "mu" => SolverKind::Mu,
            "cd" => SolverKind::Cd,
            "hals" => SolverKind::Hals,
            "anls" | "anls-bpp" | "anls_bpp" => SolverKind::AnlsBpp,
            _ => {
                return Err(invalid(
                    "solver",
                    format!("'{s}' is not one of mu, cd, hals, anls"),
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

/// What a half-step reports back to the driver.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StepInfo {
    /// scikit-learn's projected-gradient violation, summed over the sweep.
    pub violation: Option<f64>,
    /// The data term of the loss after the step, when the products the step
    /// already computed give it for free (Frobenius).
    pub data_loss: Option<f64>,
}

/// One algorithm, as the driver sees it.
pub(crate) trait Solver<T: Scalar, D: Data<T>> {
    /// Updates the factor of `side` with the other one fixed. With
    /// `want_loss`, reports the data loss when it comes cheaply.
    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want_loss: bool) -> StepInfo;

    /// The factors were changed from outside (extrapolation): drop anything
    /// cached about them.
    fn forget(&mut self) {}
}

/// Gram matrices of factors that have not changed since they were computed:
/// the Gram of the factor a half-step just updated is the one the next
/// half-step needs, and the loss after the step needs it too.
#[derive(Debug)]
pub(crate) struct GramCache<T> {
    w: Option<Mat<T>>,
    h: Option<Mat<T>>,
}

impl<T: Scalar> GramCache<T> {
    pub(crate) fn new() -> Self {
        GramCache { w: None, h: None }
    }

    fn slot(&mut self, side: Side) -> &mut Option<Mat<T>> {
        match side {
            Side::W => &mut self.w,
            Side::H => &mut self.h,
        }
    }

    /// Gram of the fixed factor `l` when `updated` is about to change.
    pub(crate) fn of_fixed<D: Data<T>>(&mut self, x: &D, updated: Side, l: &Mat<T>) -> Mat<T> {
        let slot = self.slot(updated.other());
        slot.get_or_insert_with(|| gram_of(x, l)).clone()
    }

    /// Records that `side` changed; returns its new Gram when asked for.
    pub(crate) fn after_update<D: Data<T>>(
        &mut self,
        x: &D,
        side: Side,
        r: &Mat<T>,
        want: bool,
    ) -> Option<&Mat<T>> {
        let slot = self.slot(side);
        *slot = if want { Some(gram_of(x, r)) } else { None };
        slot.as_ref()
    }
}

/// ½‖X − WH‖² after a Frobenius half-step that updated `r`, from the
/// step's own products: `c` = cross product with the fixed factor, `gl` its
/// Gram. Returns `None` unless the loss is wanted.
pub(crate) fn frobenius_after_step<T: Scalar, D: Data<T>>(
    x: &D,
    cache: &mut GramCache<T>,
    side: Side,
    c: &Mat<T>,
    gl: &Mat<T>,
    r: &Mat<T>,
    want: bool,
) -> Option<f64> {
    let gr = cache.after_update(x, side, r, want)?;
    Some(frobenius_from_products(
        x.sq_norm(),
        sum_all(x, inner(&c.data, &r.data)),
        gl,
        gr,
    ))
}

#[cfg(test)]
mod tests;
