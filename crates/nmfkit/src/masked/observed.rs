//! Only the stored entries of a sparse X are observed, the others missing —
//! ratings and other mostly-missing data. Every product runs over the
//! stored entries (O(nnz·k) per half-step); nothing of size n×m is formed.

use super::{coordinate_sweeps, divergence, iterate};
use crate::data::CsrMatrix;
use crate::error::{invalid, NmfError, Result};
use crate::matrix::Mat;
use crate::model::{FitOptions, Nmf, NmfFit};
use crate::regularization::Penalty;
use crate::rng::{seeded, standard_normal};
use crate::scalar::EPS32;
use crate::solver::{nnls_bpp, SolverKind};
use rayon::prelude::*;
use std::time::Instant;

/// Row i of X as (column, value) pairs: `rows` of X for W, of Xᵀ for H.
fn lines(x: &CsrMatrix<f64>) -> Vec<Vec<(u32, f64)>> {
    (0..x.nrows())
        .map(|i| {
            let (idx, val) = x.row(i);
            idx.iter().copied().zip(val.iter().copied()).collect()
        })
        .collect()
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Nmf {
    /// Fits W and H to the stored entries of `x` only: unstored entries are
    /// missing, not zeros (for ratings). `init` `Auto` and `Random` start from
    /// random factors scaled by the mean stored value; give `w0`/`h0` in
    /// `opts` for another start.
    ///
    /// ```
    /// use nmfkit::{CsrMatrix, Nmf, SolverKind};
    /// // A rank-1 "ratings" matrix with a few entries observed.
    /// let t = [(0, 0, 2.0), (0, 1, 4.0), (1, 0, 1.0), (1, 2, 3.0), (2, 1, 6.0), (2, 2, 9.0)];
    /// let x = CsrMatrix::from_triplets(3, 3, &t).unwrap();
    /// let fit = Nmf::new(1).solver(SolverKind::AnlsBpp).max_iter(500).tol(1e-14).fit_observed(&x).unwrap();
    /// // The unobserved (0, 2) is predicted from the rank-1 structure: 2·3 = 6.
    /// let p: f64 = fit.w.get(0, 0) * fit.h.get(0, 2);
    /// assert!((p - 6.0).abs() < 1e-3, "{p}");
    /// ```
    pub fn fit_observed(&self, x: &CsrMatrix<f64>) -> Result<NmfFit<f64>> {
        self.fit_observed_with(x, FitOptions::default())
    }

    /// [`fit_observed`](Nmf::fit_observed) with initial factors, a fixed H
    /// and a progress callback.
    pub fn fit_observed_with(
        &self,
        x: &CsrMatrix<f64>,
        opts: FitOptions<'_, '_, f64>,
    ) -> Result<NmfFit<f64>> {
        crate::model::on_pool(self.threads, || self.observed_inner(x, opts))
    }

    fn observed_inner(
        &self,
        x: &CsrMatrix<f64>,
        mut opts: FitOptions<'_, '_, f64>,
    ) -> Result<NmfFit<f64>> {
        let (n, m, k) = (x.nrows(), x.ncols(), self.rank);
        if k == 0 {
            return Err(NmfError::ZeroRank);
        }
        if n == 0 || m == 0 || x.nnz() == 0 {
            return Err(NmfError::Empty { rows: n, cols: m });
        }
        let beta = self.loss.beta();
        if beta != 2.0 && self.solver != SolverKind::Mu {
            return Err(NmfError::Unsupported {
                solver: self.solver.name(),
                what: format!("beta = {beta} (use mu)"),
            });
        }
        self.regularization.validate()?;
        let rows = lines(x);
        for (i, r) in rows.iter().enumerate() {
            if let Some(&(j, v)) = r.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
                return Err(if v.is_finite() {
                    NmfError::Negative {
                        what: "X",
                        row: i,
                        col: j as usize,
                        value: v,
                    }
                } else {
                    NmfError::NonFinite {
                        what: "X",
                        row: i,
                        col: j as usize,
                        value: v,
                    }
                });
            }
            if beta <= 0.0 && r.iter().any(|(_, v)| *v == 0.0) {
                return Err(NmfError::ZerosWithNonPositiveBeta { beta });
            }
        }
        if !opts.update_w {
            return Err(invalid("update_w", "fit the transpose to keep W fixed"));
        }
        let cols = lines(&x.transpose());
        let t0 = Instant::now();
        let check = |a: &Mat<f64>, shape: (usize, usize), what: &'static str| -> Result<()> {
            if (a.nrows, a.ncols) != shape {
                return Err(NmfError::Shape {
                    what,
                    got: (a.nrows, a.ncols),
                    expected: shape,
                });
            }
            Ok(())
        };
        // Factors stored one row per sample / feature: W n×k and Hᵀ m×k, as
        // row-major k-vectors (`wr[i*k..]`), for the per-entry dot products.
        let mean = x.values().iter().sum::<f64>() / x.nnz() as f64;
        let (mut wr, mut hr, init_used) = match (opts.w0, opts.h0) {
            (Some(w0), Some(h0)) if opts.update_h => {
                check(w0, (n, k), "W")?;
                check(h0, (k, m), "H")?;
                (w0.transpose().data, h0.data.clone(), None)
            }
            (_, Some(h0)) if !opts.update_h => {
                check(h0, (k, m), "H")?;
                let fill = (mean / k as f64).sqrt();
                (vec![fill; n * k], h0.data.clone(), None)
            }
            (_, None) if !opts.update_h => {
                return Err(invalid(
                    "h0",
                    "a fixed H is required when update_h is false",
                ))
            }
            _ => {
                if !matches!(self.init, crate::Init::Auto | crate::Init::Random) {
                    return Err(invalid(
                        "init",
                        "with only the stored entries observed, NNDSVD would read the missing ones as zeros: use random or custom",
                    ));
                }
                let avg = (mean / k as f64).sqrt();
                let mut rng = seeded(self.seed);
                let hr: Vec<f64> = (0..k * m)
                    .map(|_| (avg * standard_normal(&mut rng)).abs())
                    .collect();
                let wr: Vec<f64> = (0..n * k)
                    .map(|_| (avg * standard_normal(&mut rng)).abs())
                    .collect();
                (wr, hr, Some(crate::Init::Random))
            }
        };
        let init_time = t0.elapsed();
        let pen = self.regularization.penalties(n, m);
        let value = |p: Penalty, f: &[f64]| -> f64 {
            if p.is_zero() {
                return 0.0;
            }
            let (s1, s2) = f.iter().fold((0.0, 0.0), |(a, b), v| (a + v, b + v * v));
            p.l1 * s1 + 0.5 * p.l2 * s2
        };
        let objective = |wr: &[f64], hr: &[f64]| {
            let loss: f64 = rows
                .par_iter()
                .enumerate()
                .map(|(i, r)| {
                    let wi = &wr[i * k..(i + 1) * k];
                    r.iter()
                        .map(|&(j, v)| {
                            divergence(v, dot(wi, &hr[j as usize * k..(j as usize + 1) * k]), beta)
                        })
                        .sum::<f64>()
                })
                .sum();
            (loss, loss + value(pen.w, wr) + value(pen.h, hr))
        };
        let w_first = self.solver != SolverKind::Mu;
        let first = objective(&wr, &hr);
        let update_h = opts.update_h;
        let end = iterate(self, opts.progress.take(), first, || {
            if w_first {
                half(self.solver, &rows, &mut wr, &hr, k, pen.w, beta);
                if update_h {
                    half(self.solver, &cols, &mut hr, &wr, k, pen.h, beta);
                }
            } else {
                if update_h {
                    half(self.solver, &cols, &mut hr, &wr, k, pen.h, beta);
                }
                half(self.solver, &rows, &mut wr, &hr, k, pen.w, beta);
            }
            objective(&wr, &hr)
        });
        let w = Mat::from_fn(n, k, |i, t| wr[i * k + t]);
        let h = Mat::from_col_major(k, m, hr)?;
        Ok(end.into_fit(w, h, init_used, init_time))
    }
}

/// Updates every line's k-vector in `f` (row-major) against the other
/// factor `g` (row-major k-vectors) over that line's observed entries.
fn half(
    solver: SolverKind,
    lines: &[Vec<(u32, f64)>],
    f: &mut [f64],
    g: &[f64],
    k: usize,
    pen: Penalty,
    beta: f64,
) {
    f.par_chunks_mut(k)
        .zip(lines.par_iter())
        .for_each(|(fi, line)| {
            if solver == SolverKind::Mu {
                let (mut num, mut den) = (vec![0.0; k], vec![0.0; k]);
                for &(j, v) in line {
                    let gj = &g[j as usize * k..(j as usize + 1) * k];
                    let y = dot(fi, gj).max(if beta == 2.0 { 0.0 } else { EPS32 });
                    let (a, b) = if beta == 2.0 {
                        (v, y)
                    } else if beta == 1.0 {
                        (v / y, 1.0)
                    } else {
                        (v * y.powf(beta - 2.0), y.powf(beta - 1.0))
                    };
                    for t in 0..k {
                        num[t] += a * gj[t];
                        den[t] += b * gj[t];
                    }
                }
                let gamma = if beta < 1.0 {
                    1.0 / (2.0 - beta)
                } else if beta > 2.0 {
                    1.0 / (beta - 1.0)
                } else {
                    1.0
                };
                for t in 0..k {
                    let d = den[t] + pen.l1 + pen.l2 * fi[t];
                    let r = if d > 0.0 { num[t] / d } else { 0.0 };
                    fi[t] *= if gamma == 1.0 { r } else { r.powf(gamma) };
                }
            } else {
                let mut gram = vec![0.0; k * k];
                let mut rhs = vec![-pen.l1; k];
                for &(j, v) in line {
                    let gj = &g[j as usize * k..(j as usize + 1) * k];
                    for q in 0..k {
                        rhs[q] += v * gj[q];
                        for p in q..k {
                            gram[q * k + p] += gj[q] * gj[p];
                        }
                    }
                }
                for q in 0..k {
                    for p in q + 1..k {
                        gram[p * k + q] = gram[q * k + p];
                    }
                    gram[q * k + q] += pen.l2;
                }
                let new = if solver == SolverKind::AnlsBpp {
                    let warm: Vec<bool> = fi.iter().map(|&v| v > 0.0).collect();
                    nnls_bpp(&gram, k, &rhs, Some(&warm))
                } else {
                    coordinate_sweeps(&gram, &rhs, fi.to_vec())
                };
                fi.copy_from_slice(&new);
            }
        });
}
