//! Elastic-net penalties on W and H, with scikit-learn's (≥ 1.0) parameters
//! and scaling: the terms on W are multiplied by the number of features m,
//! those on H by the number of samples n.
//!
//! penalty = α_W·ρ·m·‖W‖₁ + ½·α_W·(1−ρ)·m·‖W‖²_F + α_H·ρ·n·‖H‖₁ + ½·α_H·(1−ρ)·n·‖H‖²_F

use crate::data::Side;
use crate::error::{invalid, Result};
use crate::matrix::Mat;
use crate::scalar::Scalar;

/// User-facing elastic-net parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regularization {
    pub alpha_w: f64,
    /// `None` means "the same as `alpha_w`" (scikit-learn's `alpha_H='same'`).
    pub alpha_h: Option<f64>,
    /// Share of L1 in [0, 1]; the rest is L2.
    pub l1_ratio: f64,
}

impl Default for Regularization {
    fn default() -> Self {
        Regularization {
            alpha_w: 0.0,
            alpha_h: None,
            l1_ratio: 0.0,
        }
    }
}

/// The scaled penalty weights of one factor.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Penalty {
    pub l1: f64,
    pub l2: f64,
}

impl Penalty {
    pub fn is_zero(&self) -> bool {
        self.l1 == 0.0 && self.l2 == 0.0
    }

    /// l1·Σ F + ½·l2·‖F‖²_F (F is non-negative).
    pub fn value<T: Scalar>(&self, f: &Mat<T>) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let (s1, s2) = f.data.iter().fold((0.0, 0.0), |(a, b), &v| {
            let v = v.to_f64();
            (a + v, b + v * v)
        });
        self.l1 * s1 + 0.5 * self.l2 * s2
    }
}

/// Penalties of W and H for an n×m problem.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Penalties {
    pub w: Penalty,
    pub h: Penalty,
}

impl<T: Scalar> crate::objective::Term<T> for Penalties {
    fn name(&self) -> &'static str {
        "elastic_net"
    }

    fn value(&self, f: &crate::Factors<T>) -> f64 {
        self.w.value(&f.wt) + self.h.value(&f.h)
    }
}

impl Penalties {
    pub fn is_zero(&self) -> bool {
        self.w.is_zero() && self.h.is_zero()
    }

    pub fn side(&self, side: Side) -> Penalty {
        match side {
            Side::W => self.w,
            Side::H => self.h,
        }
    }
}

impl Regularization {
    pub fn validate(&self) -> Result<()> {
        let ah = self.alpha_h.unwrap_or(self.alpha_w);
        for (name, v) in [("alpha_W", self.alpha_w), ("alpha_H", ah)] {
            if !(v >= 0.0) || !v.is_finite() {
                return Err(invalid(
                    name,
                    format!("must be a finite value >= 0, got {v}"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return Err(invalid(
                "l1_ratio",
                format!("must be in [0, 1], got {}", self.l1_ratio),
            ));
        }
        Ok(())
    }

    /// scikit-learn's `_compute_regularization` for X of shape (n, m).
    pub fn penalties(&self, n: usize, m: usize) -> Penalties {
        let aw = self.alpha_w;
        let ah = self.alpha_h.unwrap_or(aw);
        let (n, m) = (n as f64, m as f64);
        Penalties {
            w: Penalty {
                l1: m * aw * self.l1_ratio,
                l2: m * aw * (1.0 - self.l1_ratio),
            },
            h: Penalty {
                l1: n * ah * self.l1_ratio,
                l2: n * ah * (1.0 - self.l1_ratio),
            },
        }
    }
}
