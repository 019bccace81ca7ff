//! Accelerated HALS (Gillis & Glineur, "Accelerated multiplicative updates
//! and hierarchical ALS algorithms for NMF", 2012): once the expensive
//! products with X are formed, sweep the same factor again while the extra
//! sweeps cost less than α times the products and still move the factor by
//! more than δ times the first sweep did.

use super::sweep::{hals_sweeps, sweep_inputs};
use super::{Factors, GramCache, Solver, StepInfo, Want};
use crate::data::{sum_all, Data, Side};
use crate::matrix::Mat;
use crate::regularization::Penalties;
use crate::scalar::Scalar;

pub(crate) struct Hals<T> {
    pen: Penalties,
    alpha: f64,
    delta: f64,
    sweeps: Option<usize>,
    grams: GramCache<T>,
}

impl<T: Scalar> Hals<T> {
    pub(crate) fn new(pen: Penalties, alpha: f64, delta: f64, sweeps: Option<usize>) -> Self {
        Hals {
            pen,
            alpha,
            delta,
            sweeps,
            grams: GramCache::new(),
        }
    }
}

/// A flop of a coordinate sweep (short dependent loops, a division per
/// coordinate) takes about this many times longer than a flop of the GEMM
/// or sparse products; measured with `nmfkit-bench` on D1/S1. Gillis and
/// Glineur count flops; counting time keeps α's meaning on modern CPUs.
const SWEEP_FLOP_COST: f64 = 8.0;

/// 1 + ⌊α · (cost of the products) / (cost of one sweep)⌋; forming the
/// lines' own Grams (weighted data) counts as products.
pub(crate) fn inner_sweeps(
    nnz: usize,
    rows: usize,
    cols: usize,
    k: usize,
    alpha: f64,
    extra: f64,
) -> usize {
    let k = k as f64;
    let products = 2.0 * nnz as f64 * k + 2.0 * rows as f64 * k * k + extra;
    let sweep = SWEEP_FLOP_COST * (2.0 * cols as f64 * k * k + cols as f64 * k);
    1 + (alpha * products / sweep).floor() as usize
}

/// A component whose entries all reached zero can never come back (its
/// gradient vanishes with it). As in Gillis & Glineur's code, such a row is
/// set to a tiny positive value so that later sweeps may revive it; the
/// objective changes by a negligible amount.
fn revive_dead_components<T: Scalar, D: Data<T>>(x: &D, r: &mut Mat<T>) {
    let k = r.nrows;
    // Per component its largest entry, and the largest of all, over every piece.
    let mut top = vec![0.0f64; k + 1];
    for col in r.data.chunks_exact(k) {
        for (t, &v) in col.iter().enumerate() {
            top[t] = top[t].max(v.to_f64());
        }
    }
    top[k] = top[..k].iter().fold(0.0, |a: f64, &b| a.max(b));
    x.reduce_max(&mut top);
    let alive: Vec<bool> = top[..k].iter().map(|&v| v > 0.0).collect();
    let max = T::from_f64(top[k]);
    if max == T::ZERO || alive.iter().all(|&a| a) {
        return;
    }
    let tiny = max * T::from_f64(1e-16).max(T::EPSILON * T::EPSILON);
    for col in r.data.chunks_exact_mut(k) {
        for (t, v) in col.iter_mut().enumerate() {
            if !alive[t] {
                *v = tiny;
            }
        }
    }
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for Hals<T> {
    fn forget(&mut self) {
        self.grams = GramCache::new();
    }

    fn rescaled(&mut self, s: &[f64]) {
        self.grams.rescale(s);
    }

    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want: Want) -> StepInfo {
        let (l, r) = f.split_mut(side);
        let k = r.nrows;
        let s = sweep_inputs(x, side, l, r.ncols, &mut self.grams, self.pen.side(side));
        // The whole problem's sizes, whatever piece of it this process holds.
        let (n, m) = x.shape();
        let (fixed, updated) = match side {
            Side::W => (m, n),
            Side::H => (n, m),
        };
        let repeats = self.sweeps.unwrap_or_else(|| {
            let extra = s.grams.forming_flops();
            inner_sweeps(x.nnz(), fixed, updated, k, self.alpha, extra)
        });
        let sweep = hals_sweeps(&s.c, &s.grams, s.l1, s.l2, r, repeats, self.delta);
        revive_dead_components(x, r);
        let grams = &mut self.grams;
        StepInfo {
            violation: Some(sum_all(x, sweep.violation)),
            divergence: s.finish(x, grams, side, r, want.after),
            divergence_before: None,
            ..Default::default()
        }
    }
}
