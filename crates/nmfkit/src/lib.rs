//! # nmfkit — non-negative matrix factorization
//!
//! X (n×m, samples × features) ≈ W (n×k) · H (k×m) with W, H ≥ 0.
//!
//! * Losses: any β-divergence — Frobenius (β = 2), generalized
//!   Kullback–Leibler (β = 1), Itakura–Saito (β = 0) — defined as
//!   scikit-learn defines them ([`loss`]).
//! * Solvers ([`SolverKind`]): multiplicative updates for every β,
//!   scikit-learn's coordinate descent reproduced exactly, and accelerated
//!   HALS, all run by one driver with shared stopping rules and history.
//! * Data: dense `f32`/`f64` ([`Mat`]) and sparse CSR ([`CsrMatrix`]),
//!   never densified.
//! * Initializations ([`Init`]): random, NNDSVD, NNDSVDa, NNDSVDar, custom.
//!
//! ```
//! use nmfkit::{synth, Nmf, SolverKind};
//! let data = synth::low_rank::<f64>(100, 80, 5, 0.0, 7);
//! let fit = Nmf::new(5).solver(SolverKind::Hals).seed(1).fit(&data.x).unwrap();
//! assert!(fit.reconstruction_err / data.x.norm() < 1e-2);
//! ```

pub mod data;
mod driver;
pub mod error;
pub mod init;
mod linalg;
pub mod loss;
mod matrix;
pub mod metrics;
mod model;
pub mod objective;
pub mod rank;
pub mod regularization;
mod rng;
mod runs;
mod scalar;
pub mod smooth;
pub mod solver;
pub mod synth;
pub mod weights;

pub use data::{
    CsrMatrix, Data, DenseData, DenseWeighted, LineGrams, LineSums, Lines, Problem, Side,
    SparseData, SparseWeighted, SparseWeights,
};
pub use driver::{Convergence, HistoryEntry, Progress, ProgressFn, StopReason, UpdateOrder};
pub use error::{NmfError, Result};
pub use init::Init;
pub use loss::{beta_divergence, mm_exponent, reconstruction_error, Divergence, Loss};
pub use matrix::{Mat, MatRef};
pub use model::{inverse_transform, relative_error, FitOptions, Input, Matrix, Nmf, NmfFit};
pub use objective::Term;
pub use regularization::Regularization;
pub use runs::{run_seeds, Runs};
pub use scalar::Scalar;
pub use solver::{Factors, SolverKind};
