//! ANLS with block principal pivoting (Kim & Park, "Fast nonnegative matrix
//! factorization: an active-set-like method and comparisons", SIAM J. Sci.
//! Comput. 2011).
//!
//! Each half-step solves the non-negative least-squares problem of every
//! column of the updated factor exactly:
//!   min_{r ≥ 0} ½ rᵀ G r − cᵀ r,  G = L·Lᵀ (+ L2 on the diagonal), c = (L·A)ⱼ (− L1),
//! by exchanging whole blocks of variables between the passive set (free)
//! and the active set (held at zero) until the KKT conditions hold. Columns
//! whose passive sets coincide share one Cholesky factorization.

use super::nnls::Bpp;
use super::sweep::{sweep_inputs, with_l2};
use super::{Factors, GramCache, Solver, StepInfo, Want};
use crate::data::{Data, Side};
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use rayon::prelude::*;

pub(crate) struct AnlsBpp<T> {
    pen: Penalties,
    grams: GramCache<T>,
}

impl<T: Scalar> AnlsBpp<T> {
    pub(crate) fn new(pen: Penalties) -> Self {
        AnlsBpp {
            pen,
            grams: GramCache::new(),
        }
    }
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for AnlsBpp<T> {
    fn forget(&mut self) {
        self.grams = GramCache::new();
    }

    fn rescaled(&mut self, s: &[f64]) {
        self.grams.rescale(s);
    }

    fn half_step(&mut self, x: &D, f: &mut Factors<T>, side: Side, want: Want) -> StepInfo {
        let (l, r) = f.split_mut(side);
        let s = sweep_inputs(x, side, l, r.ncols, &mut self.grams, self.pen.side(side));
        let k = r.nrows;
        // The NNLS problems in f64, whatever T is, solved in place: working
        // memory O(block·k), not O(cols·k).
        let l1 = s.l1.to_f64();
        let solve = |ws: &mut Bpp, g: &[f64], rb: &mut [T], cb: &[T]| ws.solve_in(g, l1, cb, rb);
        match s.grams.shared() {
            // Blocks of columns, pivoted in parallel, a few per thread.
            // Results do not depend on the blocks: a column's pivoting sees
            // only its own passive sets, and columns share a Cholesky factor
            // only when those are equal.
            Some(g) => {
                let g: Vec<f64> = with_l2(g, s.l2).data.iter().map(|v| v.to_f64()).collect();
                let per = 4 * rayon::current_num_threads();
                let block = r.ncols.div_ceil(per).clamp(32, 1024);
                r.data
                    .par_chunks_mut(block * k)
                    .zip(s.c.data.par_chunks(block * k))
                    .for_each_init(|| Bpp::new(k), |ws, (rb, cb)| solve(ws, &g, rb, cb));
            }
            // Every line its own Gram: one problem per column.
            None => r
                .data
                .par_chunks_mut(k)
                .zip(s.c.data.par_chunks(k))
                .enumerate()
                .for_each_init(
                    || (vec![T::ZERO; k * k], vec![0.0; k * k], Bpp::new(k)),
                    |(g, g64, ws), (j, (rj, cj))| {
                        s.grams.form(j, s.l2, g);
                        g64.iter_mut()
                            .zip(g.iter())
                            .for_each(|(a, b)| *a = b.to_f64());
                        solve(ws, g64, rj, cj)
                    },
                ),
        }
        let grams = &mut self.grams;
        StepInfo {
            violation: None,
            divergence: s.finish(x, grams, side, r, want.after),
            divergence_before: None,
            ..Default::default()
        }
    }
}
