//! β-divergences between X and WH, with scikit-learn's definitions and
//! small-value conventions (`_beta_divergence`): entries with X ≤ float32
//! epsilon drop out of the X-dependent terms, and WH is floored at float32
//! epsilon where a log or a division needs it.

use crate::data::{gram_of, row_sums_of, sum_all, Data, Side};
use crate::error::{invalid, Result};
use crate::linalg::inner;
use crate::matrix::Mat;
use crate::scalar::{Scalar, EPS32};
use faer::Par;

/// The divergence minimized between X and WH.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// β = 2: ½‖X − WH‖²_F.
    Frobenius,
    /// β = 1: generalized Kullback–Leibler (Poisson likelihood).
    KullbackLeibler,
    /// β = 0: Itakura–Saito.
    ItakuraSaito,
    /// Any other real β.
    Beta(f64),
}

impl Loss {
    /// Normalizes a β value to its named case where there is one.
    pub fn from_beta(beta: f64) -> Result<Loss> {
        if !beta.is_finite() {
            return Err(invalid("beta", format!("must be finite, got {beta}")));
        }
        Ok(if beta == 2.0 {
            Loss::Frobenius
        } else if beta == 1.0 {
            Loss::KullbackLeibler
        } else if beta == 0.0 {
            Loss::ItakuraSaito
        } else {
            Loss::Beta(beta)
        })
    }

    /// Parses "frobenius", "kullback-leibler"/"kl", "itakura-saito"/"is", or a number.
    pub fn parse(s: &str) -> Result<Loss> {
        match s.to_ascii_lowercase().as_str() {
            "frobenius" | "fro" => Ok(Loss::Frobenius),
            "kullback-leibler" | "kl" | "poisson" => Ok(Loss::KullbackLeibler),
            "itakura-saito" | "is" => Ok(Loss::ItakuraSaito),
            other => other
                .parse::<f64>()
                .map_err(|_| {
                    invalid(
                        "loss",
                        format!("'{s}' is not frobenius, kl, is or a number"),
                    )
                })
                .and_then(Loss::from_beta),
        }
    }

    pub fn beta(&self) -> f64 {
        match *self {
            Loss::Frobenius => 2.0,
            Loss::KullbackLeibler => 1.0,
            Loss::ItakuraSaito => 0.0,
            Loss::Beta(b) => b,
        }
    }

    pub fn name(&self) -> String {
        match *self {
            Loss::Frobenius => "frobenius".into(),
            Loss::KullbackLeibler => "kullback-leibler".into(),
            Loss::ItakuraSaito => "itakura-saito".into(),
            Loss::Beta(b) => format!("beta={b}"),
        }
    }
}

/// One entry's β-divergence d_β(x, y) with scikit-learn's small-value rules
/// (`_beta_divergence`), the one definition every data type uses: an entry
/// with x ≤ float32 epsilon contributes only its x = 0 part
/// ([`Divergence::at_zero`]), and y is floored at float32 epsilon where a
/// log or a division needs it (not in the terms that sum WH itself).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Divergence {
    pub beta: f64,
}

impl Divergence {
    pub fn new(beta: f64) -> Self {
        Divergence { beta }
    }

    /// d_β(x, y).
    #[inline]
    pub fn at(&self, x: f64, y: f64) -> f64 {
        if self.beta == 2.0 {
            0.5 * (x - y) * (x - y)
        } else {
            self.excess(x, y) + self.at_zero(y)
        }
    }

    /// d_β(0, y): what an entry with x = 0 (or x ≤ float32 epsilon) adds.
    #[inline]
    pub fn at_zero(&self, y: f64) -> f64 {
        let b = self.beta;
        if b == 2.0 {
            0.5 * y * y
        } else if b == 1.0 {
            y
        } else if b == 0.0 {
            // scikit-learn's Σ X/WH − log(X/WH) − n·m leaves −1 per dropped entry.
            -1.0
        } else {
            y.powf(b) / b
        }
    }

    /// d_β(x, y) − d_β(0, y): the part only the entries with x > float32
    /// epsilon add (0 for the others), written without the cancellation.
    #[inline]
    pub fn excess(&self, x: f64, y: f64) -> f64 {
        let b = self.beta;
        if b == 2.0 {
            return x * (0.5 * x - y);
        }
        if !(x > EPS32) {
            return 0.0;
        }
        let yf = y.max(EPS32);
        if b == 1.0 {
            x * (x / yf).ln() - x
        } else if b == 0.0 {
            let r = x / yf;
            r - r.ln()
        } else {
            (x.powf(b) - b * x * yf.powf(b - 1.0)) / (b * (b - 1.0))
        }
    }
}

/// The maximization–minimization exponent γ(β) of Févotte & Idier (2011)
/// that makes a multiplicative update non-increasing (1 for β in [1, 2]).
pub fn mm_exponent(beta: f64) -> f64 {
    if beta < 1.0 {
        1.0 / (2.0 - beta)
    } else if beta > 2.0 {
        1.0 / (beta - 1.0)
    } else {
        1.0
    }
}

/// The β-divergence D_β(X ‖ WH) with W given as `wt` (k×n) and H (k×m):
/// Σ d_β(X_ij, (WH)_ij), weighted by M_ij for weighted data. For β = 2 it
/// is ½‖X − WH‖²_F. Sparse data is never densified.
pub fn beta_divergence<T: Scalar, D: Data<T>>(x: &D, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
    x.divergence(wt, h, beta)
}

/// D_β for plain (unweighted) data, dense or sparse: the default of
/// [`Data::divergence`]. The x = 0 part of every entry comes from closed
/// forms where β has one (Σ WH for β = 1, n·m for β = 0), the rest from the
/// stored entries.
pub(crate) fn plain_divergence<T: Scalar, D: Data<T> + ?Sized>(
    x: &D,
    wt: &Mat<T>,
    h: &Mat<T>,
    beta: f64,
) -> f64 {
    let d = Divergence::new(beta);
    if beta == 2.0 {
        return match x.dense_matrix() {
            // Direct, so that tiny residuals keep their relative precision.
            Some(m) => {
                crate::data::tiles::fold(Some(m), wt, h, |xv, wh| d.at(xv.to_f64(), wh.to_f64()))
            }
            // Sparse or distributed data: the closed form from products.
            None => frobenius_closed_form(x, wt, h),
        };
    }
    let stored = x.fold_stored(wt, h, |xv, wh| d.excess(xv.to_f64(), wh.to_f64()));
    let zero_part = if beta == 1.0 {
        inner(&row_sums_of(x, wt), &row_sums_of(x, h))
    } else if beta == 0.0 {
        let (n, m) = x.shape();
        -((n * m) as f64)
    } else {
        crate::data::tiles::fold(None, wt, h, |_, wh| d.at_zero(wh.to_f64()))
    };
    stored + zero_part
}

/// scikit-learn's `reconstruction_err_`: sqrt(2 · D_β), clipped at 0.
pub fn reconstruction_error<T: Scalar, D: Data<T>>(
    x: &D,
    wt: &Mat<T>,
    h: &Mat<T>,
    beta: f64,
) -> f64 {
    (2.0 * beta_divergence(x, wt, h, beta).max(0.0)).sqrt()
}

/// ½(‖X‖² − 2⟨XHᵀ, W⟩ + ⟨WᵀW, HHᵀ⟩): Frobenius loss from products only.
fn frobenius_closed_form<T: Scalar, D: Data<T> + ?Sized>(x: &D, wt: &Mat<T>, h: &Mat<T>) -> f64 {
    let k = wt.nrows;
    let n = wt.ncols;
    let mut xht = Mat::zeros(k, n);
    x.cross(Side::W, h, &mut xht, Par::rayon(0));
    let cross = sum_all(x, inner(&xht.data, &wt.data));
    frobenius_from_products(x.sq_norm(), cross, &gram_of(x, wt), &gram_of(x, h))
}

/// ½(‖X‖² − 2·cross + ⟨G_W, G_H⟩), clipped at 0.
pub(crate) fn frobenius_from_products<T: Scalar>(
    sq_norm: f64,
    cross: f64,
    gw: &Mat<T>,
    gh: &Mat<T>,
) -> f64 {
    (0.5 * (sq_norm - 2.0 * cross + inner(&gw.data, &gh.data))).max(0.0)
}
