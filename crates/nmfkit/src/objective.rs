//! The objective the driver evaluates: the data term plus the penalty
//! terms a model adds (the elastic net; the smooth model's Laplacian and
//! log terms). The solvers minimize it; the driver measures it, records
//! its parts in the history and decides convergence on it.

use crate::data::Problem;
use crate::scalar::Scalar;
use crate::solver::Factors;

/// A term of the objective besides the data term.
pub trait Term<T>: Sync {
    /// Its name in histories and reports.
    fn name(&self) -> &'static str;
    /// Its value on this process's pieces of the factors; the driver sums
    /// the pieces over processes, so a term must be a sum over entries or
    /// lines of the factors.
    fn value(&self, f: &Factors<T>) -> f64;
}

/// D(X ‖ model(W, H)) of the factors.
pub(crate) type DataTerm<'a, T> = Box<dyn Fn(&Factors<T>) -> f64 + Sync + 'a>;

/// Data term and penalty terms of one fit.
pub(crate) struct Objective<'a, T> {
    pub data_term: DataTerm<'a, T>,
    pub terms: Vec<&'a dyn Term<T>>,
    /// The projected gradient's norm, for the diagnostics (when asked).
    pub gradient: Option<DataTerm<'a, T>>,
    /// Quantities recorded at every evaluation besides the objective (the
    /// smooth model's errors against known true factors), in the order of
    /// the fit's `tracked_names`.
    pub track: Option<DataTrack<'a, T>>,
}

/// Values measured on the factors at every evaluation.
pub(crate) type DataTrack<'a, T> = Box<dyn Fn(&Factors<T>) -> Vec<f64> + Sync + 'a>;

impl<T: Scalar> Objective<'_, T> {
    /// Every term's value over all processes.
    pub fn penalties<P: Problem + ?Sized>(&self, x: &P, f: &Factors<T>) -> Vec<f64> {
        let mut v: Vec<f64> = self.terms.iter().map(|t| t.value(f)).collect();
        if !v.is_empty() {
            x.reduce_sum(&mut v);
        }
        v
    }

    /// The tracked values at `f` (empty when nothing is tracked).
    pub fn tracked(&self, f: &Factors<T>) -> Vec<f64> {
        self.track.as_ref().map_or_else(Vec::new, |t| t(f))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.terms.iter().map(|t| t.name()).collect()
    }
}
