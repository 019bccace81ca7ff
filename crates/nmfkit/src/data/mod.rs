//! The data matrix X (n×m), seen only through the few products solvers need.
//!
//! Factors are stored "one column per sample/feature": `Wt` is k×n (the
//! transpose of W) and `H` is k×m, both column-major, so that a row of W and a
//! column of H are contiguous. Updating H uses products with X, updating W
//! the same products with Xᵀ; [`Side`] names which one is wanted.

pub mod csr;
pub mod dense;
mod lines;
pub mod sparse;
mod streamed;
pub(crate) mod tiles;
mod weighted;
mod weighted_sparse;

use crate::error::{bad_entry, NmfError, Result};
use crate::matrix::{Mat, MatRef};
use crate::scalar::Scalar;
use faer::Par;

pub use dense::DenseData;
pub use lines::{LineGrams, LineSums, Lines};

pub use csr::{Csr, CsrIndex, CsrMatrix};
pub use sparse::SparseData;
pub use streamed::StreamedData;
pub use weighted::DenseWeighted;
pub use weighted_sparse::{SparseWeighted, SparseWeights};

/// Which factor a half-step updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Updating W (n×k): products with Xᵀ, outputs k×n.
    W,
    /// Updating H (k×m): products with X, outputs k×m.
    H,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::W => Side::H,
            Side::H => Side::W,
        }
    }
}

/// What the driver needs of any problem it iterates on: the sums that all
/// processes must agree on. Every model's data implements it — the standard
/// models through [`Data`], the smooth model through its own problem.
pub trait Problem: Sync {
    /// Sums `v` entrywise over every process that holds a piece of the
    /// factors. A distributed implementation all-reduces; in one process
    /// there is nothing to do. Every sum over factor entries that a solver
    /// or the driver forms (Grams, inner products, norms of changes) goes
    /// through here, so that all processes take the same decisions.
    fn reduce_sum(&self, _v: &mut [f64]) {}

    /// As [`Problem::reduce_sum`] with the maximum.
    fn reduce_max(&self, _v: &mut [f64]) {}

    /// An error met while reading the data (streamed data whose file
    /// failed): the driver stops with it after the iteration.
    fn failure(&self) -> Option<crate::NmfError> {
        None
    }
}

/// What a solver may ask of the data X (n×m), plain or weighted: the few
/// products it needs. Weighted data (a weight M_ij ≥ 0 per entry, 0 for a
/// missing one) answers with M∘X in place of X and gives every line its own
/// Gram ([`Data::lines`]); dense, sparse, weighted and distributed data all
/// plug in here, below the solvers.
pub trait Data<T: Scalar>: Problem {
    /// (n, m): samples × features.
    fn shape(&self) -> (usize, usize);
    /// Entries the products visit (n·m for dense data): the cost model's size.
    fn nnz(&self) -> usize;
    fn is_sparse(&self) -> bool;
    /// Σ M∘X² in f64 (‖X‖²_F for plain data).
    fn sq_norm(&self) -> f64;
    /// Σ M∘X in f64.
    fn sum(&self) -> f64;
    /// Σ M in f64: the number of entries for plain data.
    fn weight_sum(&self) -> f64 {
        let (n, m) = self.shape();
        n as f64 * m as f64
    }
    /// Whether any observed entry (stored or implicit) is zero.
    fn has_zero(&self) -> bool;

    /// Side H: `out (k×m) = Wᵀ (M∘X)` with `l = Wt`; side W: `out (k×n) =
    /// H (M∘X)ᵀ` with `l = H`.
    fn cross(&self, side: Side, l: &Mat<T>, out: &mut Mat<T>, par: Par);

    /// As [`Data::cross`] with M∘X replaced by `g(M_ij X_ij, (WH)_ij)` on
    /// the stored entries (all entries for dense data). `g` must be linear
    /// in its first argument (so `g(0, ·)` = 0).
    fn cross_weighted<G>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, g: G, out: &mut Mat<T>)
    where
        G: Fn(T, T) -> T + Sync;

    /// As [`Data::cross`] with M∘X replaced by `M_ij ψ((WH)_ij)` over every
    /// entry: a dense term even for sparse X (the multiplicative update's
    /// denominator for β other than 1 and 2).
    fn cross_all<P>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, psi: P, out: &mut Mat<T>)
    where
        P: Fn(T) -> T + Sync,
    {
        tiles::cross(None, side, wt, h, |_, y| psi(y), out);
    }

    /// Calls `visit(j, entries, r_j)` for every line j that `side` updates
    /// (a column of X for H, a row for W), in parallel, with the line's
    /// entries of M∘X and the line's column r_j of `out` (k × lines) to
    /// update — for solvers that work entry by entry (the KL coordinate
    /// descent). Returns false when the data cannot be visited this way
    /// (distributed data): such solvers refuse it.
    fn visit_lines<F>(&self, _side: Side, _out: &mut Mat<T>, _visit: F) -> bool
    where
        F: Fn(usize, LineEntries<'_, T>, &mut [T]) + Sync,
    {
        false
    }

    /// Whether [`Data::visit_lines`] works on this data.
    fn visits_lines(&self) -> bool {
        false
    }

    /// The weights of the lines that `side` updates (rows of X for W,
    /// columns for H) when they are not all 1: see [`Lines`].
    fn lines(&self, _side: Side) -> Option<&Lines<T>> {
        None
    }

    /// Σ M∘d_β(X, WH), with [`crate::loss::Divergence`]'s small-value rules.
    fn divergence(&self, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
        crate::loss::plain_divergence(self, wt, h, beta)
    }

    /// Whether [`Data::divergence`] for β = 2 sums the entries themselves
    /// (dense data), and so keeps the precision the closed form from
    /// products loses once the residual is tiny.
    fn exact_frobenius(&self) -> bool {
        self.dense_matrix().is_some()
    }

    /// Σ `f(X_ij, (WH)_ij)` over stored entries with X_ij > float32 epsilon
    /// (scikit-learn's rule for which entries take part in a β-divergence).
    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync;

    /// The first negative or non-finite stored entry, if any.
    fn first_bad_entry(&self) -> Option<(usize, usize, T)>;

    /// The whole matrix, when it is stored dense (and unweighted).
    fn dense_matrix(&self) -> Option<MatRef<'_, T>> {
        None
    }
}

/// One line's entries of M∘X ([`Data::visit_lines`]).
#[derive(Clone, Copy, Debug)]
pub enum LineEntries<'a, T> {
    /// Every entry: the i-th value is entry i of the line.
    Dense(&'a [T]),
    /// The stored entries: indices into the line and their values.
    Sparse { idx: &'a [u32], val: &'a [T] },
}

impl<T: Scalar> LineEntries<'_, T> {
    /// (index, value) of every entry whose value is not zero.
    pub fn nonzero(&self) -> impl Iterator<Item = (usize, T)> + '_ {
        let (dense, sparse) = match self {
            LineEntries::Dense(v) => (Some(v.iter().enumerate()), None),
            LineEntries::Sparse { idx, val } => (None, Some(idx.iter().zip(val.iter()))),
        };
        dense
            .into_iter()
            .flatten()
            .map(|(i, &v)| (i, v))
            .chain(sparse.into_iter().flatten().map(|(&i, &v)| (i as usize, v)))
            .filter(|&(_, v)| v != T::ZERO)
    }
}

/// Dense lines: columns of a column-major matrix for side H, its rows
/// (gathered into a buffer per task) for side W.
pub(crate) fn visit_dense_lines<T: Scalar, F>(
    x: MatRef<'_, T>,
    side: Side,
    out: &mut Mat<T>,
    visit: F,
) where
    F: Fn(usize, LineEntries<'_, T>, &mut [T]) + Sync,
{
    use rayon::prelude::*;
    let k = out.nrows;
    let n = x.nrows;
    match side {
        Side::H => out
            .data
            .par_chunks_mut(k.max(1))
            .enumerate()
            .with_min_len(8)
            .for_each(|(j, r)| visit(j, LineEntries::Dense(x.col(j)), r)),
        Side::W => out
            .data
            .par_chunks_mut(k.max(1))
            .enumerate()
            .with_min_len(8)
            .for_each_init(Vec::new, |buf: &mut Vec<T>, (i, r)| {
                buf.clear();
                buf.extend((0..x.ncols).map(|j| x.data[i + j * n]));
                visit(i, LineEntries::Dense(buf), r)
            }),
    }
}

/// One value summed over every process (see [`Problem::reduce_sum`]).
pub(crate) fn sum_all<P: Problem + ?Sized>(x: &P, v: f64) -> f64 {
    let mut a = [v];
    x.reduce_sum(&mut a);
    a[0]
}

/// The Gram matrix F·Fᵀ of a factor over all its pieces.
pub(crate) fn gram_of<T: Scalar, P: Problem + ?Sized>(x: &P, f: &Mat<T>) -> Mat<T> {
    let mut g = crate::linalg::gram(f, Par::rayon(0));
    let mut v: Vec<f64> = g.data.iter().map(|v| v.to_f64()).collect();
    x.reduce_sum(&mut v);
    for (d, s) in g.data.iter_mut().zip(v) {
        *d = T::from_f64(s);
    }
    g
}

/// Row sums of a k×cols factor over all its pieces.
pub(crate) fn row_sums_of<T: Scalar, P: Problem + ?Sized>(x: &P, f: &Mat<T>) -> Vec<T> {
    let s = crate::linalg::row_sums(f);
    let mut v: Vec<f64> = s.iter().map(|v| v.to_f64()).collect();
    x.reduce_sum(&mut v);
    v.into_iter().map(T::from_f64).collect()
}

/// Checks X for emptiness, negative and non-finite entries.
pub fn validate_data<T: Scalar, D: Data<T>>(x: &D) -> Result<()> {
    let (n, m) = x.shape();
    if n == 0 || m == 0 {
        return Err(NmfError::Empty { rows: n, cols: m });
    }
    if let Some((row, col, v)) = x.first_bad_entry() {
        let value = v.to_f64();
        return Err(bad_entry("X", row, col, value));
    }
    Ok(())
}

/// The first negative or non-finite entry of a column-major slice. Blocks
/// are checked in parallel by a branch-free test that vectorizes; only a
/// failing block is searched entry by entry.
pub(crate) fn first_bad<T: Scalar>(nrows: usize, data: &[T]) -> Option<(usize, usize, T)> {
    use rayon::prelude::*;
    const BLOCK: usize = 1 << 15;
    let good = |v: T| (v >= T::ZERO) & v.is_finite();
    let block = data
        .par_chunks(BLOCK)
        .position_first(|b| !b.iter().fold(true, |ok, &v| ok & good(v)))?;
    let start = block * BLOCK;
    let p = start + data[start..].iter().position(|&v| !good(v))?;
    Some((p % nrows.max(1), p / nrows.max(1), data[p]))
}
