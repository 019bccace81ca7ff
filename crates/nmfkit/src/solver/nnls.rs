//! Non-negative least squares by block principal pivoting (Kim & Park,
//! "Fast nonnegative matrix factorization: an active-set-like method and
//! comparisons", SIAM J. Sci. Comput. 2011), for many right-hand sides
//! that share one Gram matrix.
//!
//! For every column cⱼ: min_{x ≥ 0} ½ xᵀ G x − cⱼᵀ x, by exchanging whole
//! blocks of variables between the passive set (free) and the active set
//! (held at zero) until the KKT conditions hold. Columns whose passive sets
//! coincide share one Cholesky factorization.
//!
//! Why a workspace: ANLS solves thousands of tiny problems per half-step
//! (k ≈ 10–30), where allocation, hashing and task spawning cost more than
//! the arithmetic. Passive sets are bit masks, groups are found by sorting,
//! and every buffer lives across calls.

use crate::scalar::Scalar;

/// Solves min_{x ≥ 0} ½ xᵀ G x − cⱼᵀ x for every column cⱼ of `c` (k×cols,
/// column-major) with the symmetric positive semi-definite k×k `g`.
/// `warm` gives an initial passive set (entries > 0 of a previous solution).
///
/// ```
/// // G = I: the solution is c clipped at zero.
/// let g = [1.0, 0.0, 0.0, 1.0];
/// let x = nmfkit::solver::nnls_bpp(&g, 2, &[3.0, -1.0, -2.0, 0.5], None);
/// assert_eq!(x, vec![3.0, 0.0, 0.0, 0.5]);
/// ```
pub fn nnls_bpp(g: &[f64], k: usize, c: &[f64], warm: Option<&[bool]>) -> Vec<f64> {
    let mut x = match warm {
        Some(w) => w.iter().map(|&p| if p { 1.0 } else { 0.0 }).collect(),
        None => vec![0.0; c.len()],
    };
    Bpp::new(k).solve(g, c, &mut x);
    x
}

/// Reusable working memory of the pivoting for one k.
pub(crate) struct Bpp {
    k: usize,
    /// 64-bit words per passive set.
    words: usize,
    passive: Vec<u64>,
    y: Vec<f64>,
    alpha: Vec<u32>,
    beta: Vec<usize>,
    todo: Vec<u32>,
    next: Vec<u32>,
    free: Vec<usize>,
    flips: Vec<u64>,
    chol: Vec<f64>,
    rhs: Vec<f64>,
    /// [`Self::solve_in`]'s right-hand sides and solutions in f64.
    c64: Vec<f64>,
    x64: Vec<f64>,
}

impl Bpp {
    pub(crate) fn new(k: usize) -> Self {
        Bpp {
            k,
            words: k.div_ceil(64).max(1),
            passive: Vec::new(),
            y: Vec::new(),
            alpha: Vec::new(),
            beta: Vec::new(),
            todo: Vec::new(),
            next: Vec::new(),
            free: Vec::with_capacity(k),
            flips: vec![0; k.div_ceil(64).max(1)],
            chol: vec![0.0; k * k],
            rhs: vec![0.0; k],
            c64: Vec::new(),
            x64: Vec::new(),
        }
    }

    /// [`Self::solve`] for data in any precision, in f64: the right-hand
    /// sides are `c − l1`, and `r` holds the warm start and gets the result.
    pub(crate) fn solve_in<T: Scalar>(&mut self, g: &[f64], l1: f64, c: &[T], r: &mut [T]) {
        let (mut c64, mut x64) = (std::mem::take(&mut self.c64), std::mem::take(&mut self.x64));
        c64.clear();
        c64.extend(c.iter().map(|v| v.to_f64() - l1));
        x64.clear();
        x64.extend(r.iter().map(|v| v.to_f64()));
        self.solve(g, &c64, &mut x64);
        for (dst, &v) in r.iter_mut().zip(&x64) {
            *dst = T::from_f64(v);
        }
        (self.c64, self.x64) = (c64, x64);
    }

    /// Solves every column of `c` into `x` (k×cols, column-major), whose
    /// positive entries on entry give the initial passive sets.
    pub(crate) fn solve(&mut self, g: &[f64], c: &[f64], x: &mut [f64]) {
        let (k, words) = (self.k, self.words);
        let cols = c.len().checked_div(k).unwrap_or(0);
        self.passive.clear();
        self.passive.resize(cols * words, 0);
        for j in 0..cols {
            for i in 0..k {
                if x[j * k + i] > 0.0 {
                    self.passive[j * words + i / 64] |= 1 << (i % 64);
                }
            }
        }
        self.y.clear();
        self.y.resize(k * cols, 0.0);
        self.alpha.clear();
        self.alpha.resize(cols, 3);
        self.beta.clear();
        self.beta.resize(cols, k + 1);
        self.todo.clear();
        self.todo.extend(0..cols as u32);
        let mut todo = std::mem::take(&mut self.todo);
        let mut next = std::mem::take(&mut self.next);
        self.solve_groups(g, c, &mut todo, x);
        // A full exchange can cycle; the backup rule (one variable at a
        // time) cannot, so the loop ends. The cap is a guard against rounding.
        for _round in 0..(10 * k + 100) {
            next.clear();
            for &j in &todo {
                if self.pivot(j as usize, c, x) {
                    next.push(j);
                }
            }
            if next.is_empty() {
                break;
            }
            std::mem::swap(&mut todo, &mut next);
            self.solve_groups(g, c, &mut todo, x);
        }
        (self.todo, self.next) = (todo, next);
        // Clip the rounding-level negatives the tolerance let through.
        x.iter_mut().for_each(|v| *v = v.max(0.0));
    }

    /// Exchanges column j's infeasible variables by Kim & Park's rule;
    /// false when it is already optimal.
    fn pivot(&mut self, j: usize, c: &[f64], x: &[f64]) -> bool {
        let (k, words) = (self.k, self.words);
        let (xs, ys) = (&x[j * k..(j + 1) * k], &self.y[j * k..(j + 1) * k]);
        let ps = &mut self.passive[j * words..(j + 1) * words];
        let tol_x = -1e-12 * max_abs(xs);
        let tol_y = -1e-12 * max_abs(&c[j * k..(j + 1) * k]);
        let flips = &mut self.flips;
        flips.iter_mut().for_each(|f| *f = 0);
        let (mut count, mut last) = (0, 0);
        for i in 0..k {
            let bad = if ps[i / 64] >> (i % 64) & 1 == 1 {
                xs[i] < tol_x
            } else {
                ys[i] < tol_y
            };
            if bad {
                flips[i / 64] |= 1 << (i % 64);
                count += 1;
                last = i;
            }
        }
        if count == 0 {
            return false;
        }
        let all = if count < self.beta[j] {
            self.beta[j] = count;
            self.alpha[j] = 3;
            true
        } else if self.alpha[j] >= 1 {
            self.alpha[j] -= 1;
            true
        } else {
            false
        };
        if all {
            ps.iter_mut().zip(flips.iter()).for_each(|(p, f)| *p ^= f);
        } else {
            ps[last / 64] ^= 1 << (last % 64);
        }
        true
    }

    /// For the columns in `cols`: x_F = G_FF⁻¹ c_F, x elsewhere 0, y = G x
    /// − c (0 on F). Columns with the same passive set share one
    /// factorization; sorting `cols` by set finds them.
    fn solve_groups(&mut self, g: &[f64], c: &[f64], cols: &mut [u32], x: &mut [f64]) {
        let (k, words) = (self.k, self.words);
        let passive = &self.passive;
        let set = |j: u32| &passive[j as usize * words..(j as usize + 1) * words];
        cols.sort_unstable_by(|&a, &b| set(a).cmp(set(b)).then(a.cmp(&b)));
        let mut start = 0;
        while start < cols.len() {
            let s = set(cols[start]);
            let mut end = start + 1;
            while end < cols.len() && set(cols[end]) == s {
                end += 1;
            }
            self.free.clear();
            self.free
                .extend((0..k).filter(|&i| s[i / 64] >> (i % 64) & 1 == 1));
            let p = self.free.len();
            cholesky(g, k, &self.free, &mut self.chol[..p * p]);
            for &j in &cols[start..end] {
                let j = j as usize;
                let (cj, xj) = (&c[j * k..(j + 1) * k], &mut x[j * k..(j + 1) * k]);
                let rhs = &mut self.rhs[..p];
                for (r, &i) in rhs.iter_mut().zip(&self.free) {
                    *r = cj[i];
                }
                chol_solve(&self.chol[..p * p], p, rhs);
                xj.iter_mut().for_each(|v| *v = 0.0);
                for (&r, &i) in rhs.iter().zip(&self.free) {
                    xj[i] = r;
                }
                let yj = &mut self.y[j * k..(j + 1) * k];
                for i in 0..k {
                    yj[i] = if s[i / 64] >> (i % 64) & 1 == 1 {
                        0.0
                    } else {
                        let gi = &g[i * k..(i + 1) * k];
                        self.free.iter().map(|&q| gi[q] * xj[q]).sum::<f64>() - cj[i]
                    };
                }
            }
            start = end;
        }
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(1e-300f64, |m, a| m.max(a.abs()))
}

/// Lower Cholesky factor of G restricted to `f`, into `l` (|f|×|f|,
/// row-major). A singular block gets a relative ridge of 1e-12 on its
/// diagonal.
pub(crate) fn cholesky(g: &[f64], k: usize, f: &[usize], l: &mut [f64]) {
    let p = f.len();
    let trace: f64 = f.iter().map(|&i| g[i * k + i]).sum::<f64>().max(1e-300);
    let mut ridge = 0.0;
    loop {
        let mut ok = true;
        'rows: for a in 0..p {
            let ga = &g[f[a] * k..(f[a] + 1) * k];
            for b in 0..=a {
                let (la, lb) = (&l[a * p..a * p + b], &l[b * p..b * p + b]);
                let dot: f64 = la.iter().zip(lb).map(|(u, v)| u * v).sum();
                let s = ga[f[b]] + if a == b { ridge } else { 0.0 } - dot;
                if a == b {
                    if s <= 0.0 {
                        ok = false;
                        break 'rows;
                    }
                    l[a * p + a] = s.sqrt();
                } else {
                    l[a * p + b] = s / l[b * p + b];
                }
            }
        }
        if ok {
            return;
        }
        ridge = if ridge == 0.0 {
            1e-12 * trace / p as f64
        } else {
            ridge * 100.0
        };
    }
}

/// Solves L·Lᵀ·z = b in place.
pub(crate) fn chol_solve(l: &[f64], p: usize, b: &mut [f64]) {
    for a in 0..p {
        let dot: f64 = l[a * p..a * p + a]
            .iter()
            .zip(&b[..a])
            .map(|(u, v)| u * v)
            .sum();
        b[a] = (b[a] - dot) / l[a * p + a];
    }
    for a in (0..p).rev() {
        let mut s = b[a];
        for q in a + 1..p {
            s -= l[q * p + a] * b[q];
        }
        b[a] = s / l[a * p + a];
    }
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
            let mut l = vec![0.0; f.len() * f.len()];
            cholesky(g, k, &f, &mut l);
            let mut sol: Vec<f64> = f.iter().map(|&i| c[i]).collect();
            chol_solve(&l, f.len(), &mut sol);
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

    /// Uniform numbers in [0, 1) from a fixed seed (a 64-bit LCG).
    fn uniform(mut seed: u64) -> impl FnMut() -> f64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn bpp_matches_brute_force_nnls() {
        let mut rnd = uniform(11);
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

    #[test]
    fn wide_problems_meet_kkt_and_each_column_alone_gives_the_same_answer() {
        let mut rnd = uniform(5);
        // k = 70 needs two words per passive set.
        let (k, rows, cols) = (70, 90, 25);
        let b: Vec<f64> = (0..rows * k).map(|_| rnd()).collect();
        let g: Vec<f64> = (0..k * k)
            .map(|e| (0..rows).map(|r| b[r * k + e / k] * b[r * k + e % k]).sum())
            .collect();
        let c: Vec<f64> = (0..k * cols).map(|_| 40.0 * rnd() - 15.0).collect();
        let x = nnls_bpp(&g, k, &c, None);
        assert!(x.iter().any(|&v| v > 0.0) && x.contains(&0.0));
        for j in 0..cols {
            let (xj, cj) = (&x[j * k..(j + 1) * k], &c[j * k..(j + 1) * k]);
            let scale = cj.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for i in 0..k {
                let yi: f64 = (0..k).map(|q| g[i * k + q] * xj[q]).sum::<f64>() - cj[i];
                assert!(xj[i] >= 0.0);
                assert!(yi > -1e-8 * scale, "col {j} var {i}: gradient {yi}");
                assert!(xj[i] == 0.0 || yi.abs() < 1e-8 * scale, "col {j} var {i}");
            }
            // Grouping with other columns changes nothing, bit for bit.
            assert_eq!(nnls_bpp(&g, k, cj, None), xj);
        }
    }
}
