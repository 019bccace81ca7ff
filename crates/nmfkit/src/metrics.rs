//! Comparing estimated components with known ones: spectral angles, the
//! best one-to-one matching (Hungarian algorithm, not greedy), and map errors.

use crate::matrix::Mat;
use crate::scalar::Scalar;

/// The angle between two non-negative vectors, in degrees (90 when either
/// is all zeros).
pub fn spectral_angle<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    let (mut d, mut na, mut nb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x.to_f64(), y.to_f64());
        d += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 90.0;
    }
    (d / (na * nb).sqrt()).clamp(-1.0, 1.0).acos().to_degrees()
}

/// Minimum-cost assignment of rows to columns of a rows×cols cost matrix
/// with rows ≤ cols (Kuhn–Munkres with potentials, O(rows²·cols)).
/// Returns, for each row, its column.
pub fn hungarian(cost: &[Vec<f64>]) -> Vec<usize> {
    let n = cost.len();
    if n == 0 {
        return Vec::new();
    }
    let m = cost[0].len();
    assert!(n <= m, "hungarian: more rows ({n}) than columns ({m})");
    // 1-based arrays as in the classic formulation; column 0 is a sentinel.
    let inf = f64::INFINITY;
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut assignment = vec![0usize; n];
    for j in 1..=m {
        if p[j] != 0 {
            assignment[p[j] - 1] = j - 1;
        }
    }
    assignment
}

/// How well estimated components match known ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Matching {
    /// For each true component, the index of the estimated one matched to it.
    pub assignment: Vec<usize>,
    /// Angle (degrees) between each true component and its match.
    pub angles: Vec<f64>,
}

/// Matches the rows of `truth` (k×len) to rows of `estimate` (k'×len,
/// k' ≥ k) so that the sum of spectral angles is smallest.
pub fn match_rows<T: Scalar>(estimate: &Mat<T>, truth: &Mat<T>) -> Matching {
    let row = |m: &Mat<T>, i: usize| -> Vec<T> { (0..m.ncols).map(|j| m.get(i, j)).collect() };
    let est: Vec<Vec<T>> = (0..estimate.nrows).map(|i| row(estimate, i)).collect();
    let tru: Vec<Vec<T>> = (0..truth.nrows).map(|i| row(truth, i)).collect();
    let cost: Vec<Vec<f64>> = tru
        .iter()
        .map(|t| est.iter().map(|e| spectral_angle(t, e)).collect())
        .collect();
    let assignment = hungarian(&cost);
    let angles = assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| cost[i][j])
        .collect();
    Matching { assignment, angles }
}

/// Errors between a true map and its estimate (after matching).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapErrors {
    pub mse: f64,
    pub mae: f64,
    /// Coefficient of determination, 1 − SS_res / SS_tot.
    pub r2: f64,
}

/// MSE, MAE and R² of `estimate` against `truth`.
pub fn map_errors<T: Scalar>(estimate: &[T], truth: &[T]) -> MapErrors {
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().map(|v| v.to_f64()).sum::<f64>() / n;
    let (mut se, mut ae, mut tot) = (0.0, 0.0, 0.0);
    for (&e, &t) in estimate.iter().zip(truth) {
        let (e, t) = (e.to_f64(), t.to_f64());
        se += (e - t) * (e - t);
        ae += (e - t).abs();
        tot += (t - mean) * (t - mean);
    }
    MapErrors {
        mse: se / n,
        mae: ae / n,
        // A constant truth has no variance to explain: 1 for an exact
        // estimate, 0 otherwise (never NaN).
        r2: if tot > 0.0 {
            1.0 - se / tot
        } else if se == 0.0 {
            1.0
        } else {
            0.0
        },
    }
}

/// Hoyer's sparseness of a vector (Hoyer 2004):
/// (√L − ‖v‖₁/‖v‖₂) / (√L − 1), from 0 (all entries equal) to 1 (one
/// non-zero entry). 0 for an all-zero vector or a single entry.
pub fn hoyer_sparseness<T: Scalar>(v: &[T]) -> f64 {
    let l = v.len() as f64;
    let (mut l1, mut l2) = (0.0, 0.0);
    for &x in v {
        let x = x.to_f64().abs();
        l1 += x;
        l2 += x * x;
    }
    if v.len() < 2 || l2 == 0.0 {
        return 0.0;
    }
    ((l.sqrt() - l1 / l2.sqrt()) / (l.sqrt() - 1.0)).clamp(0.0, 1.0)
}

/// Mean Hoyer sparseness of the components of a fit: the columns of W
/// (n×k, each component's weights over the samples) and the rows of H
/// (k×m, each component over the features).
pub fn component_sparseness<T: Scalar>(w: &Mat<T>, h: &Mat<T>) -> (f64, f64) {
    let k = w.ncols.max(1) as f64;
    let sw = (0..w.ncols)
        .map(|t| hoyer_sparseness(w.col(t)))
        .sum::<f64>()
        / k;
    let ht = h.transpose();
    let sh = (0..ht.ncols)
        .map(|t| hoyer_sparseness(ht.col(t)))
        .sum::<f64>()
        / k;
    (sw, sh)
}

/// The share of X each component explains alone: for component c,
/// 1 − ‖X − w_c h_c‖² / ‖X‖², from `relative_error` (the relative error
/// of a rank-one fit, on whichever entries the caller observes). The shares
/// need not add up to the whole fit's: components overlap.
///
/// ```
/// use nmfkit::{metrics::explained_variance_per_component, relative_error, Mat};
/// // Two disjoint blocks: each component explains its own block.
/// let w = Mat::from_rows(&[vec![1.0, 0.0], vec![0.0, 2.0]]).unwrap();
/// let h = Mat::from_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
/// let x = nmfkit::inverse_transform(&w, &h);
/// let ev = explained_variance_per_component(&w, &h, |wc, hc| {
///     Ok(relative_error(&x, wc, hc))
/// })
/// .unwrap();
/// assert!((ev[0] - 0.2).abs() < 1e-12 && (ev[1] - 0.8).abs() < 1e-12);
/// ```
pub fn explained_variance_per_component<T: Scalar>(
    w: &Mat<T>,
    h: &Mat<T>,
    relative_error: impl Fn(&Mat<T>, &Mat<T>) -> crate::Result<f64>,
) -> crate::Result<Vec<f64>> {
    (0..h.nrows)
        .map(|c| {
            let wc = Mat::from_fn(w.nrows, 1, |i, _| w.get(i, c));
            let hc = Mat::from_fn(1, h.ncols, |_, j| h.get(c, j));
            let e = relative_error(&wc, &hc)?;
            Ok(1.0 - e * e)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over all permutations.
    fn best_by_brute_force(cost: &[Vec<f64>]) -> f64 {
        fn rec(cost: &[Vec<f64>], i: usize, used: &mut Vec<bool>) -> f64 {
            if i == cost.len() {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for j in 0..cost[0].len() {
                if !used[j] {
                    used[j] = true;
                    best = best.min(cost[i][j] + rec(cost, i + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        rec(cost, 0, &mut vec![false; cost[0].len()])
    }

    #[test]
    fn hungarian_finds_the_optimum_where_greedy_does_not() {
        // Greedy takes (0,0)=1 then (1,1)=10: total 11; the optimum is 2+3=5.
        let cost = vec![vec![1.0, 2.0], vec![3.0, 10.0]];
        assert_eq!(hungarian(&cost), vec![1, 0]);
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for (n, m) in [(3, 3), (4, 6), (6, 6), (5, 7)] {
            let cost: Vec<Vec<f64>> = (0..n).map(|_| (0..m).map(|_| rnd()).collect()).collect();
            let a = hungarian(&cost);
            let total: f64 = a.iter().enumerate().map(|(i, &j)| cost[i][j]).sum();
            let mut seen = a.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), n, "assignment must be one-to-one");
            assert!((total - best_by_brute_force(&cost)).abs() < 1e-12);
        }
    }

    #[test]
    fn hoyer_extremes_and_a_middle_value() {
        assert_eq!(hoyer_sparseness(&[0.0, 3.0, 0.0, 0.0]), 1.0);
        assert!(hoyer_sparseness(&[2.0, 2.0, 2.0, 2.0]).abs() < 1e-15);
        assert_eq!(hoyer_sparseness(&[0.0, 0.0]), 0.0);
        assert_eq!(hoyer_sparseness(&[5.0]), 0.0);
        // L = 4, ‖v‖₁ = 2, ‖v‖₂ = √2: (2 − √2) / (2 − 1).
        let s = hoyer_sparseness(&[1.0, 1.0, 0.0, 0.0]);
        assert!((s - (2.0 - 2f64.sqrt())).abs() < 1e-15);
        let w = Mat::from_rows(&[vec![1.0, 1.0], vec![0.0, 1.0]]).unwrap();
        let h = Mat::from_rows(&[vec![1.0, 0.0, 0.0], vec![1.0, 1.0, 1.0]]).unwrap();
        let (sw, sh) = component_sparseness(&w, &h);
        assert!((sw - 0.5).abs() < 1e-15 && (sh - 0.5).abs() < 1e-15);
    }

    #[test]
    fn angles_and_errors() {
        assert!((spectral_angle(&[1.0, 0.0], &[0.0, 2.0]) - 90.0).abs() < 1e-12);
        assert!(spectral_angle(&[1.0, 2.0], &[2.0, 4.0]).abs() < 1e-6);
        let e = map_errors(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
        assert!((e.mse - 1.0 / 3.0).abs() < 1e-12 && (e.mae - 1.0 / 3.0).abs() < 1e-12);
        assert!((e.r2 - (1.0 - 1.0 / (14.0 / 3.0))).abs() < 1e-12);
        let est = Mat::from_rows(&[vec![0.0, 1.0, 0.0], vec![1.0, 0.1, 0.0]]).unwrap();
        let tru = Mat::from_rows(&[vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]]).unwrap();
        let m = match_rows(&est, &tru);
        assert_eq!(m.assignment, vec![1, 0]);
        assert!(m.angles[1] < 1e-9);
    }
}
