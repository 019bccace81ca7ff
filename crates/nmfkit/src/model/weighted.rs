//! Weighted and missing entries: minimize Σ_ij M_ij · d_β(X_ij, (WH)_ij)
//! (+ the elastic net) with M ≥ 0 a weight per entry; M_ij = 0 marks a
//! missing entry, whose stored value (even NaN) is never read.
//!
//! These are the plain fits on weighted [`Data`](crate::Data): the same
//! solvers, driver and options — extrapolation, float32, `eval_every`,
//! `factor_tol`, time limits, the convergence rules — and an all-ones mask
//! gives the plain fit's iterates exactly.

use super::fit::on_pool;
use super::{FitOptions, Nmf, NmfFit};
use crate::data::{CsrMatrix, DenseData, DenseWeighted, SparseWeighted, SparseWeights};
use crate::error::{invalid, Result};
use crate::init::Init;
use crate::matrix::MatRef;
use crate::scalar::Scalar;

impl Nmf {
    /// Fits W and H to the entries of X with weights `weights` (n×m, ≥ 0;
    /// 0 = missing, its value in X ignored even if NaN).
    ///
    /// ```
    /// use nmfkit::{weights, synth, Mat, Nmf, SolverKind};
    /// let x = synth::low_rank::<f64>(40, 30, 3, 0.0, 1).x;
    /// let m = Mat::from_fn(40, 30, |i, j| if (i * 7 + j) % 5 == 0 { 0.0 } else { 1.0 });
    /// let fit = Nmf::new(3).solver(SolverKind::AnlsBpp).max_iter(300).tol(1e-12)
    ///     .fit_masked(x.as_ref(), m.as_ref()).unwrap();
    /// let filled = weights::impute(x.as_ref(), m.as_ref(), &fit.w, &fit.h);
    /// assert!((filled.get(0, 0) - x.get(0, 0)).abs() < 1e-4 * x.get(0, 0));
    /// ```
    pub fn fit_masked<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        weights: MatRef<'_, T>,
    ) -> Result<NmfFit<T>> {
        self.fit_masked_with(x, weights, FitOptions::default())
    }

    /// [`fit_masked`](Nmf::fit_masked) with initial factors, a fixed factor
    /// (`update_h = false`: the masked transform) and a progress callback.
    pub fn fit_masked_with<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        weights: MatRef<'_, T>,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        on_pool(self.threads, || {
            let data = DenseWeighted::new(x, weights)?;
            // The start factorizes X with the missing entries filled with
            // their column's observed mean (for the initialization only).
            let filled = data.mean_filled(self.transposed_draws);
            self.fit_data(&data, &DenseData::new(filled.as_ref()), opts)
        })
    }

    /// Fits W and H to sparse X with sparse weights: listed entries weigh
    /// what the list says (0 = missing), all others `weights.others`.
    ///
    /// ```
    /// use nmfkit::{CsrMatrix, Nmf, SolverKind, SparseWeights};
    /// // A rank-1 matrix with one entry unknown (stored as 0 here, but listed as missing).
    /// let t = [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 3.0), (1, 1, 0.0)];
    /// let x = CsrMatrix::from_triplets(2, 2, &t).unwrap();
    /// let holes = CsrMatrix::from_triplets(2, 2, &[(1, 1, 0.0)]).unwrap();
    /// let fit = Nmf::new(1).solver(SolverKind::AnlsBpp).max_iter(500).tol(1e-15)
    ///     .fit_masked_sparse(&x, SparseWeights::holes(&holes)).unwrap();
    /// let p: f64 = fit.w.get(1, 0) * fit.h.get(0, 1);
    /// assert!((p - 6.0).abs() < 1e-3, "{p}");
    /// ```
    pub fn fit_masked_sparse<T: Scalar>(
        &self,
        x: &CsrMatrix<T>,
        weights: SparseWeights<'_, T>,
    ) -> Result<NmfFit<T>> {
        self.fit_masked_sparse_with(x, weights, FitOptions::default())
    }

    /// [`fit_masked_sparse`](Nmf::fit_masked_sparse) with initial factors,
    /// a fixed factor and a progress callback.
    pub fn fit_masked_sparse_with<T: Scalar>(
        &self,
        x: &CsrMatrix<T>,
        weights: SparseWeights<'_, T>,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        on_pool(self.threads, || {
            let data = SparseWeighted::new(x, weights)?;
            if data.others() != T::ZERO {
                // The start reads missing entries as zeros, as sparse data
                // says of every unstored entry anyway.
                return self.fit_data(&data, &data, opts);
            }
            // Only the listed entries are observed: an SVD would read the
            // others as zeros. Random starts are scaled by the observed mean.
            let starts_given = opts.w0.is_some() || opts.h0.is_some();
            let est = match self.init {
                Init::Auto | Init::Random => Nmf {
                    init: Init::Random,
                    ..self.clone()
                },
                _ if starts_given => self.clone(),
                _ => {
                    return Err(invalid(
                        "init",
                        "with only the listed entries observed, NNDSVD would read the missing ones as zeros: use random or custom",
                    ))
                }
            };
            est.fit_data(&data, &data, opts)
        })
    }

    /// Fits W and H to the stored entries of `x` only: unstored entries are
    /// missing, not zeros (for ratings). `init` `Auto` and `Random` start from
    /// random factors scaled by the mean stored value; give `w0`/`h0` in
    /// `opts` for another start.
    ///
    /// ```
    /// use nmfkit::{CsrMatrix, Nmf, SolverKind};
    /// // A rank-1 "ratings" matrix with a few entries observed.
    /// let t = [(0, 0, 2.0), (0, 1, 4.0), (1, 0, 1.0), (1, 2, 3.0), (2, 1, 6.0), (2, 2, 9.0)];
    /// let x = CsrMatrix::from_triplets(3, 3, &t).unwrap();
    /// let fit = Nmf::new(1).solver(SolverKind::AnlsBpp).max_iter(500).tol(1e-14).fit_observed(&x).unwrap();
    /// // The unobserved (0, 2) is predicted from the rank-1 structure: 2·3 = 6.
    /// let p: f64 = fit.w.get(0, 0) * fit.h.get(0, 2);
    /// assert!((p - 6.0).abs() < 1e-3, "{p}");
    /// ```
    pub fn fit_observed<T: Scalar>(&self, x: &CsrMatrix<T>) -> Result<NmfFit<T>> {
        self.fit_observed_with(x, FitOptions::default())
    }

    /// [`fit_observed`](Nmf::fit_observed) with initial factors, a fixed H
    /// and a progress callback.
    pub fn fit_observed_with<T: Scalar>(
        &self,
        x: &CsrMatrix<T>,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        let pattern = x.pattern();
        self.fit_masked_sparse_with(x, SparseWeights::observed(&pattern), opts)
    }

    /// Fits weighted data however it was built ([`crate::weights::Weighted`]).
    pub fn fit_weighted<T: Scalar>(
        &self,
        w: &crate::weights::Weighted<T>,
        opts: FitOptions<'_, '_, T>,
    ) -> Result<NmfFit<T>> {
        use crate::weights::Weighted;
        match w {
            Weighted::Dense { x, weights } => {
                self.fit_masked_with(x.as_ref(), weights.as_ref(), opts)
            }
            Weighted::Sparse { x, listed, others } => {
                let sw = SparseWeights {
                    listed,
                    others: *others,
                };
                self.fit_masked_sparse_with(x, sw, opts)
            }
        }
    }
}
