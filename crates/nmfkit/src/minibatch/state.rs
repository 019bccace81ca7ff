//! What a minibatch fit carries between steps (and `partial_fit` calls).

use super::MiniBatchSolver;
use crate::matrix::Mat;
use crate::scalar::Scalar;

/// What a minibatch fit carries from one step to the next: H and the
/// running statistics (for `partial_fit`).
#[derive(Clone, Debug, PartialEq)]
pub struct MiniBatchState<T> {
    /// k×m.
    pub h: Mat<T>,
    /// A: the running numerator (k×m).
    pub numerator: Mat<T>,
    /// B: the running denominator (k×m).
    pub denominator: Mat<T>,
    /// The forgetting per step, ρ = forget_factor^(batch/n).
    pub rho: f64,
    /// Steps taken so far.
    pub n_steps: usize,
}

impl<T: Scalar> MiniBatchState<T> {
    /// A new state at H for `solver`: online MU's and online ccd's A = H,
    /// B = 1 (scikit-learn's start); online HALS's A = 0 (k×m), B = 0
    /// (k×k).
    pub fn start(solver: MiniBatchSolver, h: Mat<T>, rho: f64) -> Self {
        match solver {
            MiniBatchSolver::Mu | MiniBatchSolver::Ccd => Self::new(h, rho),
            MiniBatchSolver::Hals => MiniBatchState {
                numerator: Mat::zeros(h.nrows, h.ncols),
                denominator: Mat::zeros(h.nrows, h.nrows),
                h,
                rho,
                n_steps: 0,
            },
        }
    }

    /// A new state at H (A = H, B = 1: scikit-learn's start).
    pub fn new(h: Mat<T>, rho: f64) -> Self {
        let ones =
            Mat::from_col_major(h.nrows, h.ncols, vec![T::ONE; h.data.len()]).expect("H's shape");
        MiniBatchState {
            numerator: h.clone(),
            denominator: ones,
            h,
            rho,
            n_steps: 0,
        }
    }
}
