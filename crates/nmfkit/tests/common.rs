#![allow(dead_code)]
//! Helpers shared by the integration tests.

use nmfkit::{synth, Mat};

pub fn rel_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let d: f64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    d.sqrt() / b.norm().max(1e-300)
}

pub fn max_rel_entry_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let scale = b.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale.max(1e-300)
}

/// A dense planted problem with positive noise, and initial factors.
pub fn problem(n: usize, m: usize, k: usize, seed: u64) -> (Mat<f64>, Mat<f64>, Mat<f64>) {
    let p = synth::low_rank::<f64>(n, m, k, 0.05, seed);
    let init = synth::low_rank::<f64>(n, m, k, 0.0, seed + 100);
    (p.x, init.w, init.h)
}

/// Copy of `x` with a regular pattern of zeros (to exercise sparse paths).
pub fn with_holes(x: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(x.nrows, x.ncols, |i, j| {
        if (3 * i + 5 * j) % 4 == 0 {
            0.0
        } else {
            x.get(i, j)
        }
    })
}

/// `est.partial_fit` over X's rows in batches of `batch` rows, in order,
/// from `state`: what one epoch of `est.fit` does.
pub fn partial_fit_in_batches(
    est: &nmfkit::minibatch::MiniBatchNmf,
    x: &Mat<f64>,
    batch: usize,
    mut state: nmfkit::minibatch::MiniBatchState<f64>,
) -> nmfkit::minibatch::MiniBatchState<f64> {
    for start in (0..x.nrows).step_by(batch) {
        let end = (start + batch).min(x.nrows);
        let rows = Mat::from_fn(end - start, x.ncols, |i, j| x.get(start + i, j));
        state = est.partial_fit(&rows, Some(state)).unwrap();
    }
    state
}
