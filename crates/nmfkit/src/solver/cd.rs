//! scikit-learn's coordinate descent (`solver='cd'`), reproduced exactly:
//! a W sweep then an H sweep per iteration, optional shuffling of the
//! component order, and the projected-gradient violation for stopping.

use super::sweep::{coordinate_sweep, sweep_inputs};
use super::{Factors, GramCache, Solver, StepInfo, Want};
use crate::data::{sum_all, Data, Side};
use crate::regularization::Penalties;
use crate::rng::{permutation, Rng};
use crate::scalar::Scalar;

pub(crate) struct CoordinateDescent<T> {
    pen: Penalties,
    shuffle: Option<Rng>,
    grams: GramCache<T>,
}

impl<T: Scalar> CoordinateDescent<T> {
    pub(crate) fn new(pen: Penalties, shuffle: Option<Rng>) -> Self {
        CoordinateDescent {
            pen,
            shuffle,
            grams: GramCache::new(),
        }
    }
}

impl<T: Scalar, D: Data<T>> Solver<T, D> for CoordinateDescent<T> {
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
        let order = match self.shuffle.as_mut() {
            Some(rng) => permutation(rng, k),
            None => (0..k).collect(),
        };
        let sweep = coordinate_sweep(&s.c, &s.grams, s.l1, s.l2, r, &order);
        let grams = &mut self.grams;
        StepInfo {
            violation: Some(sum_all(x, sweep.violation)),
            divergence: s.finish(x, grams, side, r, want.after),
            divergence_before: None,
            ..Default::default()
        }
    }
}
