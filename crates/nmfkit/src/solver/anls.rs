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

use super::sweep::{sweep_inputs, with_l2};
use super::{Factors, GramCache, Solver, StepInfo, Want};
use crate::data::{Data, Side};
use crate::regularization::Penalties;
use crate::scalar::Scalar;
use rayon::prelude::*;
use std::collections::HashMap;

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
        let to64 = |v: &[T]| v.iter().map(|v| v.to_f64()).collect::<Vec<f64>>();
        let solve = |g: &[f64], rb: &mut [T], cb: &[T]| {
            let c: Vec<f64> = cb.iter().map(|v| v.to_f64() - l1).collect();
            let warm: Vec<bool> = rb.iter().map(|&v| v > T::ZERO).collect();
            for (dst, v) in rb.iter_mut().zip(nnls_bpp(g, k, &c, Some(&warm))) {
                *dst = T::from_f64(v);
            }
        };
        match s.grams.shared() {
            // Blocks of columns, pivoted in parallel. Results do not depend
            // on the blocks: columns share a Cholesky factor only when their
            // passive sets are equal.
            Some(g) => {
                const BLOCK: usize = 1024;
                let g = to64(&with_l2(g, s.l2).data);
                r.data
                    .par_chunks_mut(BLOCK * k)
                    .zip(s.c.data.par_chunks(BLOCK * k))
                    .for_each(|(rb, cb)| solve(&g, rb, cb));
            }
            // Every line its own Gram: one problem per column.
            None => r
                .data
                .par_chunks_mut(k)
                .zip(s.c.data.par_chunks(k))
                .enumerate()
                .for_each_init(
                    || vec![T::ZERO; k * k],
                    |g, (j, (rj, cj))| {
                        s.grams.form(j, s.l2, g);
                        solve(&to64(g), rj, cj)
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

/// Solves min_{x ≥ 0} ½ xᵀ G x − cⱼᵀ x for every column cⱼ of `c` (k×cols,
/// column-major) with the symmetric positive semi-definite k×k `g`.
/// `warm` gives an initial passive set (entries > 0 of a previous solution).
pub fn nnls_bpp(g: &[f64], k: usize, c: &[f64], warm: Option<&[bool]>) -> Vec<f64> {
    let cols = c.len().checked_div(k).unwrap_or(0);
    let mut passive: Vec<bool> = match warm {
        Some(w) => w.to_vec(),
        None => vec![false; k * cols],
    };
    let mut x = vec![0.0; k * cols];
    let mut y = vec![0.0; k * cols];
    // Per-column bookkeeping of the pivoting rule.
    let mut alpha = vec![3u32; cols];
    let mut beta = vec![k + 1; cols];
    let mut todo: Vec<usize> = (0..cols).collect();
    solve_groups(g, k, c, &passive, &todo, &mut x, &mut y);
    // A full exchange can cycle; the backup rule (one variable at a time)
    // cannot, so the loop ends. The cap is a guard against rounding.
    for _round in 0..(10 * k + 100) {
        let mut next = Vec::new();
        for &j in &todo {
            let (xs, ys, ps) = (
                &x[j * k..(j + 1) * k],
                &y[j * k..(j + 1) * k],
                &mut passive[j * k..(j + 1) * k],
            );
            let infeasible: Vec<usize> = (0..k)
                .filter(|&i| {
                    (ps[i] && xs[i] < -1e-12 * scale(xs))
                        || (!ps[i] && ys[i] < -1e-12 * scale_c(c, j, k))
                })
                .collect();
            if infeasible.is_empty() {
                continue;
            }
            if infeasible.len() < beta[j] {
                beta[j] = infeasible.len();
                alpha[j] = 3;
                infeasible.iter().for_each(|&i| ps[i] = !ps[i]);
            } else if alpha[j] >= 1 {
                alpha[j] -= 1;
                infeasible.iter().for_each(|&i| ps[i] = !ps[i]);
            } else {
                let i = *infeasible.iter().max().unwrap();
                ps[i] = !ps[i];
            }
            next.push(j);
        }
        if next.is_empty() {
            break;
        }
        solve_groups(g, k, c, &passive, &next, &mut x, &mut y);
        todo = next;
    }
    // Clip the rounding-level negatives the tolerance let through.
    x.iter_mut().for_each(|v| *v = v.max(0.0));
    x
}

fn scale(v: &[f64]) -> f64 {
    v.iter().fold(1e-300f64, |m, a| m.max(a.abs()))
}

fn scale_c(c: &[f64], j: usize, k: usize) -> f64 {
    scale(&c[j * k..(j + 1) * k])
}

/// For the columns in `cols`: x_F = G_FF⁻¹ c_F, x elsewhere 0, y = G x − c
/// (0 on F). Columns with the same passive set share one factorization.
fn solve_groups(
    g: &[f64],
    k: usize,
    c: &[f64],
    passive: &[bool],
    cols: &[usize],
    x: &mut [f64],
    y: &mut [f64],
) {
    let mut groups: HashMap<&[bool], Vec<usize>> = HashMap::new();
    for &j in cols {
        groups
            .entry(&passive[j * k..(j + 1) * k])
            .or_default()
            .push(j);
    }
    // Deterministic order, then solve the groups in parallel.
    let mut groups: Vec<(&[bool], Vec<usize>)> = groups.into_iter().collect();
    groups.sort_by_key(|(_, js)| js[0]);
    // Per group: (column, x_j, y_j) of each of its columns.
    type Solved = Vec<(usize, Vec<f64>, Vec<f64>)>;
    let solved: Vec<Solved> = groups
        .par_iter()
        .map(|(set, js)| {
            let f: Vec<usize> = (0..k).filter(|&i| set[i]).collect();
            let chol = cholesky(g, k, &f);
            js.iter()
                .map(|&j| {
                    let cj = &c[j * k..(j + 1) * k];
                    let mut xj = vec![0.0; k];
                    if !f.is_empty() {
                        let rhs: Vec<f64> = f.iter().map(|&i| cj[i]).collect();
                        let sol = chol_solve(&chol, f.len(), rhs);
                        for (a, &i) in f.iter().enumerate() {
                            xj[i] = sol[a];
                        }
                    }
                    let mut yj = vec![0.0; k];
                    for i in 0..k {
                        if !set[i] {
                            let gi = &g[i * k..(i + 1) * k];
                            yj[i] = f.iter().map(|&q| gi[q] * xj[q]).sum::<f64>() - cj[i];
                        }
                    }
                    (j, xj, yj)
                })
                .collect()
        })
        .collect();
    for (j, xj, yj) in solved.into_iter().flatten() {
        x[j * k..(j + 1) * k].copy_from_slice(&xj);
        y[j * k..(j + 1) * k].copy_from_slice(&yj);
    }
}

/// Lower Cholesky factor of G restricted to `f` (|f|×|f|, row-major). A
/// singular block gets a relative ridge of 1e-12 on its diagonal.
fn cholesky(g: &[f64], k: usize, f: &[usize]) -> Vec<f64> {
    let p = f.len();
    let trace: f64 = f.iter().map(|&i| g[i * k + i]).sum::<f64>().max(1e-300);
    let mut ridge = 0.0;
    loop {
        let mut l = vec![0.0; p * p];
        let mut ok = true;
        for a in 0..p {
            for b in 0..=a {
                let mut s = g[f[a] * k + f[b]] + if a == b { ridge } else { 0.0 };
                for q in 0..b {
                    s -= l[a * p + q] * l[b * p + q];
                }
                if a == b {
                    if s <= 0.0 {
                        ok = false;
                        break;
                    }
                    l[a * p + a] = s.sqrt();
                } else {
                    l[a * p + b] = s / l[b * p + b];
                }
            }
            if !ok {
                break;
            }
        }
        if ok {
            return l;
        }
        ridge = if ridge == 0.0 {
            1e-12 * trace / p as f64
        } else {
            ridge * 100.0
        };
    }
}

fn chol_solve(l: &[f64], p: usize, mut b: Vec<f64>) -> Vec<f64> {
    for a in 0..p {
        let mut s = b[a];
        for q in 0..a {
            s -= l[a * p + q] * b[q];
        }
        b[a] = s / l[a * p + a];
    }
    for a in (0..p).rev() {
        let mut s = b[a];
        for q in a + 1..p {
            s -= l[q * p + a] * b[q];
        }
        b[a] = s / l[a * p + a];
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: every passive set, unconstrained solve, keep the best feasible.
    fn brute_force(g: &[f64], k: usize, c: &[f64]) -> Vec<f64> {
        let obj = |x: &[f64]| {
            let mut v = 0.0;
            for a in 0..k {
                for b in 0..k {
                    v += 0.5 * x[a] * g[a * k + b] * x[b];
                }
                v -= c[a] * x[a];
            }
            v
        };
        let mut best = (0.0, vec![0.0; k]);
        for mask in 1u32..(1 << k) {
            let f: Vec<usize> = (0..k).filter(|i| mask >> i & 1 == 1).collect();
            let l = cholesky(g, k, &f);
            let sol = chol_solve(&l, f.len(), f.iter().map(|&i| c[i]).collect());
            if sol.iter().all(|&v| v >= 0.0) {
                let mut x = vec![0.0; k];
                for (a, &i) in f.iter().enumerate() {
                    x[i] = sol[a];
                }
                let o = obj(&x);
                if o < best.0 {
                    best = (o, x);
                }
            }
        }
        best.1
    }

    #[test]
    fn bpp_matches_brute_force_nnls() {
        let mut seed = 11u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for k in [1, 2, 4, 7] {
            // G = BᵀB for a random 12×k B; many right-hand sides of both signs.
            let b: Vec<f64> = (0..12 * k).map(|_| rnd()).collect();
            let g: Vec<f64> = (0..k * k)
                .map(|e| (0..12).map(|r| b[r * k + e / k] * b[r * k + e % k]).sum())
                .collect();
            let cols = 40;
            let c: Vec<f64> = (0..k * cols).map(|_| 4.0 * rnd() - 2.0).collect();
            let x = nnls_bpp(&g, k, &c, None);
            for j in 0..cols {
                let want = brute_force(&g, k, &c[j * k..(j + 1) * k]);
                for i in 0..k {
                    assert!(
                        (x[j * k + i] - want[i]).abs() < 1e-9,
                        "k={k} col {j}: {:?} vs {want:?}",
                        &x[j * k..(j + 1) * k]
                    );
                }
            }
            // A warm start from the answer converges to the same answer.
            let warm: Vec<bool> = x.iter().map(|&v| v > 0.0).collect();
            let again = nnls_bpp(&g, k, &c, Some(&warm));
            assert!(x.iter().zip(&again).all(|(a, b)| (a - b).abs() < 1e-12));
        }
    }
}
