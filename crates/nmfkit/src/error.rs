//! Typed errors: every bad input is named, none panics.

use thiserror::Error;

/// Everything that can go wrong in nmfkit's core.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum NmfError {
    #[error("the input matrix is empty ({rows}×{cols})")]
    Empty { rows: usize, cols: usize },
    #[error("{what} has a negative entry {value} at ({row}, {col}); NMF needs non-negative data")]
    Negative {
        what: &'static str,
        row: usize,
        col: usize,
        value: f64,
    },
    #[error("{what} has a non-finite entry ({value}) at ({row}, {col})")]
    NonFinite {
        what: &'static str,
        row: usize,
        col: usize,
        value: f64,
    },
    #[error("the rank must be at least 1, got 0")]
    ZeroRank,
    #[error("rank {rank} is too large for init '{init}': it allows at most {max} for a {rows}×{cols} matrix")]
    RankTooLarge {
        rank: usize,
        max: usize,
        init: &'static str,
        rows: usize,
        cols: usize,
    },
    #[error("{what} has shape {got:?}, expected {expected:?}")]
    Shape {
        what: &'static str,
        got: (usize, usize),
        expected: (usize, usize),
    },
    #[error("{what} is all zeros; the solver could never move away from it")]
    AllZero { what: &'static str },
    #[error("with beta = {beta} (<= 0) the data must not contain zeros; add a small value to X or use beta > 0")]
    ZerosWithNonPositiveBeta { beta: f64 },
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    #[error("invalid sparse matrix: {0}")]
    InvalidSparse(String),
    #[error("solver '{solver}' does not support {what}")]
    Unsupported { solver: &'static str, what: String },
    #[error("numerical failure: {0}")]
    Numerical(String),
}

/// Shorthand for results of nmfkit's operations.
pub type Result<T> = std::result::Result<T, NmfError>;

/// A bad entry of a matrix: negative if it is a number, else non-finite.
pub(crate) fn bad_entry(what: &'static str, row: usize, col: usize, value: f64) -> NmfError {
    if value.is_finite() {
        NmfError::Negative {
            what,
            row,
            col,
            value,
        }
    } else {
        NmfError::NonFinite {
            what,
            row,
            col,
            value,
        }
    }
}

pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> NmfError {
    NmfError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}
