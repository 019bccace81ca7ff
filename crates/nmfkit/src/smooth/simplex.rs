//! The exact minimizer of a separable surrogate on the simplex: for
//! entries t of one column, minimize Σ_t [½a h_t² + b_t h_t − c_t ln h_t]
//! subject to Σ_t h_t = 1 and h_t ≥ ε. Each h_t(ν) (with b_t + ν in place of
//! b_t) is decreasing in the multiplier ν, so ν is found by a safeguarded
//! Newton search on Σ_t h_t(ν) = 1.

/// The unconstrained minimizer of ½a h² + b h − c ln h over h > 0 (c ≥ 0,
/// a ≥ 0): the positive root of a h² + b h − c = 0, in the form without
/// cancellation; with c = 0 the minimizer of ½a h² + b h over h ≥ 0.
#[inline]
pub fn argmin(a: f64, b: f64, c: f64) -> f64 {
    if c > 0.0 {
        if a > 0.0 {
            let s = (b * b + 4.0 * a * c).sqrt();
            if b >= 0.0 {
                2.0 * c / (b + s)
            } else {
                (s - b) / (2.0 * a)
            }
        } else if b > 0.0 {
            c / b
        } else {
            f64::INFINITY
        }
    } else if a > 0.0 && b < 0.0 {
        -b / a
    } else {
        0.0
    }
}

/// dh/dν of [`argmin`] at h (for the Newton step).
#[inline]
fn slope(a: f64, b: f64, c: f64, h: f64) -> f64 {
    if c > 0.0 {
        if a > 0.0 {
            -h / (b * b + 4.0 * a * c).sqrt()
        } else {
            -h * h / c
        }
    } else if a > 0.0 && b < 0.0 {
        -1.0 / a
    } else {
        0.0
    }
}

/// Writes into `out` the minimizer on the simplex {Σ h = 1, h ≥ eps}
/// (needs `eps · len < 1`). `guess` is a starting multiplier (the previous
/// iteration's, say; NaN for none); returns the multiplier found.
pub fn solve(a: f64, b: &[f64], c: &[f64], eps: f64, out: &mut [f64], guess: f64) -> f64 {
    let k = b.len();
    let eval = |nu: f64, out: &mut [f64]| -> (f64, f64) {
        let (mut s, mut ds) = (0.0, 0.0);
        for t in 0..k {
            let h = argmin(a, b[t] + nu, c[t]);
            if h > eps {
                out[t] = h;
                s += h;
                ds += slope(a, b[t] + nu, c[t], h);
            } else {
                out[t] = eps;
                s += eps;
            }
        }
        (s, ds)
    };
    // A bracket [lo, hi] with Σ h(lo) ≥ 1 ≥ Σ h(hi).
    let hi = (0..k)
        .map(|t| k as f64 * c[t] - b[t])
        .fold(f64::NEG_INFINITY, f64::max)
        .max((0..k).map(|t| -b[t]).fold(f64::NEG_INFINITY, f64::max));
    let lo = if a > 0.0 {
        -(b.iter().cloned().fold(f64::INFINITY, f64::min)) - a
    } else {
        // Without curvature, entries with c = 0 are linear: ν must keep
        // their slope b + ν ≥ 0, and once it is 0 the one with the
        // smallest b takes whatever mass the others leave.
        let linear = (0..k).filter(|&t| c[t] <= 0.0);
        let floor = linear
            .clone()
            .map(|t| -b[t])
            .fold(f64::NEG_INFINITY, f64::max);
        let from_logs = (0..k)
            .filter(|&t| c[t] > 0.0)
            .map(|t| c[t] - b[t])
            .reduce(f64::max);
        match from_logs {
            Some(v) if v >= floor => v,
            _ => {
                let (s, _) = eval(floor, out);
                if s >= 1.0 {
                    floor
                } else {
                    let best = linear.fold(usize::MAX, |m, t| {
                        if m == usize::MAX || b[t] < b[m] {
                            t
                        } else {
                            m
                        }
                    });
                    out[best] += 1.0 - s;
                    return floor;
                }
            }
        }
    };
    let (mut lo, mut hi) = (lo.min(hi), hi.max(lo));
    let mut nu = if guess > lo && guess < hi {
        guess
    } else {
        0.5 * (lo + hi)
    };
    for _ in 0..200 {
        let (s, ds) = eval(nu, out);
        let r = s - 1.0;
        if r.abs() <= 1e-15 {
            return nu;
        }
        if r > 0.0 {
            lo = nu;
        } else {
            hi = nu;
        }
        let newton = if ds < 0.0 { nu - r / ds } else { f64::NAN };
        nu = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= 1e-16 * (hi.abs() + lo.abs()) {
            break;
        }
    }
    eval(nu, out);
    // The search stops at rounding level; put the last residual on the
    // largest entry so that the constraint holds to the last bit.
    let s: f64 = out.iter().sum();
    if let Some(t) = (0..k).max_by(|&i, &j| out[i].total_cmp(&out[j])) {
        out[t] = (out[t] + (1.0 - s)).max(eps);
    }
    nu
}

/// Writes into `v` the minimizer of Σ_t ½a_t v_t² + b_t v_t on the simplex
/// {Σ v = 1, v ≥ eps} (needs `eps · len < 1`): v_t(ν) = max(eps,
/// −(b_t + ν)/a_t) is piecewise linear in the multiplier ν, so ν is found
/// exactly from the breakpoints, largest first. Entries without curvature
/// (a_t ≤ 0) stay at eps.
pub fn solve_quadratic(a: &[f64], b: &[f64], eps: f64, v: &mut [f64]) {
    let k = a.len();
    let curved: Vec<usize> = (0..k).filter(|&t| a[t] > 0.0 && a[t].is_finite()).collect();
    if curved.is_empty() {
        v.fill(1.0 / k as f64);
        return;
    }
    // v_t reaches eps at ν = −b_t − a_t·eps.
    let brk = |t: usize| -b[t] - a[t] * eps;
    let mut order = curved.clone();
    order.sort_by(|&s, &t| brk(t).total_cmp(&brk(s)));
    let (mut inv, mut ratio) = (0.0, 0.0);
    let mut nu = f64::NAN;
    for (i, &t) in order.iter().enumerate() {
        inv += 1.0 / a[t];
        ratio += b[t] / a[t];
        // The first i + 1 entries above eps, the rest at eps.
        let budget = 1.0 - (k - i - 1) as f64 * eps;
        let cand = (-ratio - budget) / inv;
        let next = order.get(i + 1).map_or(f64::NEG_INFINITY, |&s| brk(s));
        if cand >= next {
            nu = cand;
            break;
        }
    }
    for t in 0..k {
        v[t] = if a[t] > 0.0 && a[t].is_finite() {
            (-(b[t] + nu) / a[t]).max(eps)
        } else {
            eps
        };
    }
    // Put the rounding residual on the largest entry: the sum holds to the bit.
    let s: f64 = v.iter().sum();
    if let Some(t) = (0..k).max_by(|&i, &j| v[i].total_cmp(&v[j])) {
        v[t] = (v[t] + (1.0 - s)).max(eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_simplex_solution_satisfies_kkt() {
        let mut seed = 11u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..300 {
            let k = 1 + case % 6;
            let a: Vec<f64> = (0..k).map(|_| 0.1 + 3.0 * rnd()).collect();
            let b: Vec<f64> = (0..k).map(|_| 4.0 * rnd() - 2.0).collect();
            let eps = 1e-12;
            let mut v = vec![0.0; k];
            solve_quadratic(&a, &b, eps, &mut v);
            assert!((v.iter().sum::<f64>() - 1.0).abs() <= 1e-12, "case {case}");
            // KKT: every entry above eps has the same gradient a v + b, and
            // no entry at eps has a smaller one.
            let g: Vec<f64> = (0..k).map(|t| a[t] * v[t] + b[t]).collect();
            let free: Vec<f64> = (0..k).filter(|&t| v[t] > 2.0 * eps).map(|t| g[t]).collect();
            let lam = free[0];
            for &gt in &free {
                assert!(
                    (gt - lam).abs() <= 1e-9 * (1.0 + lam.abs()),
                    "case {case}: {g:?}"
                );
            }
            for t in (0..k).filter(|&t| v[t] <= 2.0 * eps) {
                assert!(g[t] >= lam - 1e-9, "case {case}: {g:?} {v:?}");
            }
        }
    }

    fn surrogate(a: f64, b: &[f64], c: &[f64], h: &[f64]) -> f64 {
        (0..h.len())
            .map(|t| {
                0.5 * a * h[t] * h[t] + b[t] * h[t]
                    - if c[t] > 0.0 { c[t] * h[t].ln() } else { 0.0 }
            })
            .sum()
    }

    #[test]
    fn argmin_solves_the_stationarity_equation() {
        for &(a, b, c) in &[
            (0.0, 2.0, 3.0),
            (1.5, 2.0, 3.0),
            (1.5, -4.0, 3.0),
            (2.0, -1.0, 0.0),
            (0.0, 1.0, 0.0),
        ] {
            let h: f64 = argmin(a, b, c);
            if c > 0.0 {
                assert!((a * h * h + b * h - c).abs() < 1e-12, "{a} {b} {c}");
            } else {
                assert_eq!(h, if a > 0.0 && b < 0.0 { -b / a } else { 0.0 });
            }
        }
    }

    #[test]
    fn simplex_solution_is_feasible_and_beats_perturbations() {
        let mut seed = 3u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..300 {
            let k = 2 + case % 5;
            let a = if case % 3 == 0 { 0.0 } else { 3.0 * rnd() };
            let b: Vec<f64> = (0..k).map(|_| 4.0 * rnd() - 1.0).collect();
            let c: Vec<f64> = (0..k)
                .map(|t| {
                    if (case + t) % 7 == 0 {
                        0.0
                    } else {
                        5.0 * rnd()
                    }
                })
                .collect();
            let eps = 1e-12;
            let mut h = vec![0.0; k];
            let nu = solve(a, &b, &c, eps, &mut h, f64::NAN);
            // Started from the answer, the search returns it again.
            let mut again = vec![0.0; k];
            if nu.is_finite() {
                solve(a, &b, &c, eps, &mut again, nu);
                for t in 0..k {
                    assert!((again[t] - h[t]).abs() <= 1e-13, "case {case}");
                }
            }
            let s: f64 = h.iter().sum();
            assert!((s - 1.0).abs() <= 1e-12, "sum {s}");
            assert!(h.iter().all(|&v| v >= eps));
            // No feasible move along the simplex lowers the surrogate.
            let f0 = surrogate(a, &b, &c, &h);
            for i in 0..k {
                for j in 0..k {
                    if i == j {
                        continue;
                    }
                    let d = 1e-7f64.min(h[i] - eps);
                    if d <= 0.0 {
                        continue;
                    }
                    let mut g = h.clone();
                    g[i] -= d;
                    g[j] += d;
                    assert!(
                        surrogate(a, &b, &c, &g) >= f0 - 1e-12,
                        "case {case}: a {a} b {b:?} c {c:?} h {h:?} moved {i}->{j}: {} < {f0}",
                        surrogate(a, &b, &c, &g)
                    );
                }
            }
        }
    }
}
