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

/// The β-divergence D_β(X ‖ WH) with W given as `wt` (k×n) and H (k×m).
/// For β = 2 it is ½‖X − WH‖²_F. Sparse data is never densified.
pub fn beta_divergence<T: Scalar, D: Data<T>>(x: &D, wt: &Mat<T>, h: &Mat<T>, beta: f64) -> f64 {
    let eps = EPS32;
    let floor = |wh: T| wh.to_f64().max(eps);
    let res = if beta == 2.0 {
        // Sparse or distributed data: the closed form from products.
        if x.dense_matrix().is_none() {
            frobenius_closed_form(x, wt, h)
        } else {
            // Direct, so that tiny residuals keep their relative precision.
            crate::data::dense::tiled_fold(x.dense_matrix(), wt, h, |xv, wh| {
                let d = xv.to_f64() - wh.to_f64();
                d * d
            }) / 2.0
        }
    } else if beta == 1.0 {
        let sum_wh = inner(&row_sums_of(x, wt), &row_sums_of(x, h));
        let s = x.fold_stored(wt, h, |xv, wh| {
            let xv = xv.to_f64();
            xv * (xv / floor(wh)).ln() - xv
        });
        s + sum_wh
    } else if beta == 0.0 {
        let (n, m) = x.shape();
        let s = x.fold_stored(wt, h, |xv, wh| {
            let d = xv.to_f64() / floor(wh);
            d - d.ln()
        });
        s - (n * m) as f64
    } else {
        let sum_wh_beta =
            crate::data::dense::tiled_fold(None, wt, h, |_, wh| wh.to_f64().powf(beta));
        let s = x.fold_stored(wt, h, |xv, wh| {
            let xv = xv.to_f64();
            xv.powf(beta) - beta * xv * floor(wh).powf(beta - 1.0)
        });
        (s + sum_wh_beta * (beta - 1.0)) / (beta * (beta - 1.0))
    };
    res
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
fn frobenius_closed_form<T: Scalar, D: Data<T>>(x: &D, wt: &Mat<T>, h: &Mat<T>) -> f64 {
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
