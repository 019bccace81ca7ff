//! # nmfkit — non-negative matrix factorization
//!
//! X (n×m, samples × features) ≈ W (n×k) · H (k×m) with W, H ≥ 0.
//!
//! One engine runs every fit. Where things live:
//!
//! * [`data`]: the data as solvers see it, behind the [`Problem`]/[`Data`]
//!   seam — dense, sparse CSR, weighted (a weight per entry, dense or
//!   sparse; [`Lines`] give each row or column its own Gram), and, in the
//!   `nmfkit-mpi` crate, distributed over MPI.
//! * [`solver`]: one file per algorithm — multiplicative updates for every
//!   β, scikit-learn's coordinate descent, accelerated HALS, ANLS by block
//!   principal pivoting — each a half-step on any [`Data`].
//! * `driver`: the one loop — update order, stopping rules (`tol = 0` runs
//!   to `max_iter`), history, time limit, extrapolation, progress and
//!   cancellation — for every model.
//! * [`objective`]: the data term plus penalty [`Term`]s the driver
//!   evaluates ([`loss`] holds the β-divergence, defined once).
//! * [`Nmf`] (the `model` module): options and entry points — plain data,
//!   weighted data ([`Nmf::fit_masked`], [`Nmf::fit_masked_sparse`],
//!   [`Nmf::fit_weighted`]), data given as its transpose ([`Nmf::oriented`]).
//! * [`weights`]: weights built one way from NaN entries, hole lists and
//!   dense or sparse masks; imputation.
//! * [`smooth`]: ESPM's smooth model X ≈ G·W·H — its MM updates are a
//!   solver, its Laplacian and log terms objective terms.
//! * [`init`], [`rank`] (many runs, consensus, rank selection),
//!   [`metrics`], [`synth`] (generated data with known factors).
//!
//! Dense `f32`/`f64` ([`Mat`]) and sparse CSR ([`CsrMatrix`]) are never
//! densified.
//!
//! ```
//! use nmfkit::{synth, Nmf, SolverKind};
//! let data = synth::low_rank::<f64>(100, 80, 5, 0.0, 7);
//! let fit = Nmf::new(5).solver(SolverKind::Hals).seed(1).fit(&data.x).unwrap();
//! assert!(fit.reconstruction_err / data.x.norm() < 1e-2);
//! ```

mod builder;
pub mod data;
mod driver;
pub mod error;
mod fast_math;
pub mod init;
mod linalg;
pub mod loss;
mod matrix;
pub mod metrics;
pub mod minibatch;
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
    Csr, CsrIndex, CsrMatrix, Data, DenseData, DenseWeighted, LineGrams, LineSums, Lines, Problem,
    Side, SparseData, SparseWeighted, SparseWeights,
};
pub use driver::{
    Convergence, Diagnostics, HistoryEntry, Progress, ProgressFn, StopReason, UpdateOrder,
};
pub use error::{NmfError, Result};
pub use init::Init;
pub use loss::{beta_divergence, mm_exponent, reconstruction_error, Divergence, Loss};
pub use matrix::{Mat, MatRef};
pub use model::Balance;
pub use model::{inverse_transform, relative_error, FitOptions, Input, Matrix, Nmf, NmfFit};
pub use objective::Term;
pub use regularization::Regularization;
pub use runs::{run_seeds, Runs};
pub use scalar::Scalar;
pub use solver::{Factors, SolverKind};
