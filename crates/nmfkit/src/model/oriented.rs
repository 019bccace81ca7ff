//! Data given as its transpose: a C-ordered (row-major) array is the
//! column-major storage of Xᵀ, and CSC arrays are the CSR matrix of Xᵀ. The
//! core then solves Xᵀ ≈ Hᵀ·Wᵀ with the roles of W and H swapped — their
//! penalties, fixed flags, starts, update order and random draws — and
//! hands back W and H of X. Nothing is copied but the starts.

use super::{FitOptions, Nmf, NmfFit};
use crate::driver::UpdateOrder;
use crate::error::Result;
use crate::regularization::Regularization;
use crate::scalar::Scalar;

impl Nmf {
    /// The order of the half-steps this estimator uses.
    pub fn order(&self) -> UpdateOrder {
        self.update_order.unwrap_or(if self.runs_mu() {
            UpdateOrder::HThenW
        } else {
            UpdateOrder::WThenH
        })
    }

    /// The estimator of the transposed problem Xᵀ ≈ Hᵀ·Wᵀ: the same fit,
    /// with W's and H's roles swapped.
    pub fn transposed(&self) -> Nmf {
        let r = self.regularization;
        Nmf {
            regularization: Regularization {
                alpha_w: r.alpha_h.unwrap_or(r.alpha_w),
                alpha_h: Some(r.alpha_w),
                l1_ratio: r.l1_ratio,
            },
            update_order: Some(match self.order() {
                UpdateOrder::WThenH => UpdateOrder::HThenW,
                UpdateOrder::HThenW => UpdateOrder::WThenH,
            }),
            transposed_draws: !self.transposed_draws,
            ..self.clone()
        }
    }

    /// Runs `fit` on the problem as stored: with `transposed`, the data
    /// `fit` sees is Xᵀ, so it gets the transposed estimator and options,
    /// and its result is turned back into W (n×k) and H (k×m) of X.
    ///
    /// ```
    /// use nmfkit::{synth, Nmf, SolverKind};
    /// let p = synth::low_rank::<f64>(30, 20, 3, 0.1, 1);
    /// let est = Nmf::new(3).solver(SolverKind::Hals).seed(2).max_iter(50);
    /// let xt = p.x.transpose(); // the column-major data of Xᵀ: X in row-major order
    /// let a = est.oriented(true, Default::default(), |e, o| e.fit_with(&xt, o)).unwrap();
    /// let b = est.fit(&p.x).unwrap();
    /// assert_eq!((a.w.nrows, a.h.ncols), (30, 20));
    /// assert!((a.objective - b.objective).abs() < 1e-6 * b.objective);
    /// ```
    pub fn oriented<T: Scalar>(
        &self,
        transposed: bool,
        opts: FitOptions<'_, '_, T>,
        fit: impl FnOnce(&Nmf, FitOptions<'_, '_, T>) -> Result<NmfFit<T>>,
    ) -> Result<NmfFit<T>> {
        if !transposed {
            return fit(self, opts);
        }
        let w0 = opts.h0.map(|h| h.transpose());
        let h0 = opts.w0.map(|w| w.transpose());
        let swapped = FitOptions {
            w0: w0.as_ref(),
            h0: h0.as_ref(),
            update_w: opts.update_h,
            update_h: opts.update_w,
            progress: opts.progress,
        };
        Ok(fit(&self.transposed(), swapped)?.transposed())
    }
}

impl<T: Scalar> NmfFit<T> {
    /// The fit of the transposed problem: W and H swapped and transposed
    /// (and so the diagnostics of each).
    pub fn transposed(mut self) -> NmfFit<T> {
        for e in self.history.iter_mut() {
            if let Some(d) = e.diagnostics.as_mut() {
                std::mem::swap(&mut d.theta_w, &mut d.theta_h);
                std::mem::swap(&mut d.change_w, &mut d.change_h);
            }
        }
        NmfFit {
            w: self.h.transpose(),
            h: self.w.transpose(),
            ..self
        }
    }
}
