//! Weighted fits of sparse X with sparse weights: every entry listed in the
//! weights matrix has its own weight, every other entry the weight `others`.
//!
//! - `others = 1`: X's unstored entries stay observed zeros (the default
//!   meaning of sparse data) and the list names the holes (weight 0) or the
//!   reweighted entries.
//! - `others = 0`: only the listed entries are observed. [`Nmf::fit_observed`]
//!   is this with X's own pattern — ratings and other mostly-missing data.
//!
//! Each half-step works line by line (rows of X for W, columns for H) on the
//! entries stored in X or listed, plus k×k Grams and sums of the other factor
//! for the unlisted ones: O((nnz + listed)·k + n·k²), nothing n×m is formed.
//! Only β other than 1 and 2 with `others > 0` needs Σ (WH)^(β−1) over every
//! entry, a dense loop as in the unmasked fit of sparse data.

use super::{coordinate_sweeps, divergence, iterate};
use crate::data::{CsrMatrix, SparseData};
use crate::error::{bad_entry, invalid, NmfError, Result};
use crate::init::initialize;
use crate::linalg::{gram, row_sums};
use crate::matrix::Mat;
use crate::model::{FitOptions, Nmf, NmfFit};
use crate::regularization::Penalty;
use crate::rng::{seeded, standard_normal};
use crate::scalar::EPS32;
use crate::solver::{nnls_bpp, SolverKind};
use faer::Par;
use rayon::prelude::*;
use std::time::Instant;

/// The weights of a sparse weighted fit (see the module's notes).
#[derive(Clone, Copy, Debug)]
pub struct SparseWeights<'a> {
    /// Entries with their own weight (finite, ≥ 0; 0 = missing, X's value
    /// there is never read).
    pub listed: &'a CsrMatrix<f64>,
    /// The weight of every entry not listed (finite, ≥ 0): 1 keeps X's
    /// unstored entries as observed zeros, 0 observes only the listed ones.
    pub others: f64,
}

impl<'a> SparseWeights<'a> {
    /// `listed` marks missing entries (their stored weights should be 0);
    /// every other entry, stored in X or not, weighs 1.
    pub fn holes(listed: &'a CsrMatrix<f64>) -> Self {
        SparseWeights {
            listed,
            others: 1.0,
        }
    }

    /// Only the listed entries are observed, with their weights.
    pub fn observed(listed: &'a CsrMatrix<f64>) -> Self {
        SparseWeights {
            listed,
            others: 0.0,
        }
    }
}

/// An entry of a line that X stores or the weights list: column (of the
/// line), value (0 where missing or unstored) and weight.
#[derive(Clone, Copy, Debug)]
struct Entry {
    j: u32,
    x: f64,
    m: f64,
}

/// Row i of X merged with row i of the weights; entries that behave like an
/// unlisted one (weight `others`, value 0) are dropped. Checks values and
/// weights on the way.
fn lines(
    x: &CsrMatrix<f64>,
    wts: &CsrMatrix<f64>,
    others: f64,
    beta: f64,
) -> Result<Vec<Vec<Entry>>> {
    (0..x.nrows())
        .into_par_iter()
        .map(|i| {
            let (xi, xv) = x.row(i);
            let (wi, wv) = wts.row(i);
            let mut out = Vec::with_capacity(xi.len().max(wi.len()));
            let (mut a, mut b) = (0, 0);
            while a < xi.len() || b < wi.len() {
                let ja = xi.get(a).copied().unwrap_or(u32::MAX);
                let jb = wi.get(b).copied().unwrap_or(u32::MAX);
                let j = ja.min(jb);
                let v = if ja == j {
                    a += 1;
                    xv[a - 1]
                } else {
                    0.0
                };
                let m = if jb == j {
                    b += 1;
                    wv[b - 1]
                } else {
                    others
                };
                if !(m.is_finite() && m >= 0.0) {
                    return Err(bad_entry("mask", i, j as usize, m));
                }
                if m == 0.0 {
                    // Missing: the stored value is never read.
                    if others != 0.0 {
                        out.push(Entry { j, x: 0.0, m });
                    }
                    continue;
                }
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad_entry("X", i, j as usize, v));
                }
                if beta <= 0.0 && v == 0.0 {
                    return Err(NmfError::ZerosWithNonPositiveBeta { beta });
                }
                if v != 0.0 || m != others {
                    out.push(Entry { j, x: v, m });
                }
            }
            Ok(out)
        })
        .collect()
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Nmf {
    /// Fits W and H to sparse X with sparse weights: listed entries weigh
    /// what the list says (0 = missing), all others `weights.others`.
    ///
    /// ```
    /// use nmfkit::{masked::SparseWeights, CsrMatrix, Nmf, SolverKind};
    /// // A rank-1 matrix with one entry unknown (stored as 0 here, but listed as missing).
    /// let t = [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 3.0), (1, 1, 0.0)];
    /// let x = CsrMatrix::from_triplets(2, 2, &t).unwrap();
    /// let holes = CsrMatrix::from_triplets(2, 2, &[(1, 1, 0.0)]).unwrap();
    /// let fit = Nmf::new(1).solver(SolverKind::AnlsBpp).max_iter(500).tol(1e-15)
    ///     .fit_masked_sparse(&x, SparseWeights::holes(&holes)).unwrap();
    /// let p: f64 = fit.w.get(1, 0) * fit.h.get(0, 1);
    /// assert!((p - 6.0).abs() < 1e-3, "{p}");
    /// ```
    pub fn fit_masked_sparse(
        &self,
        x: &CsrMatrix<f64>,
        weights: SparseWeights<'_>,
    ) -> Result<NmfFit<f64>> {
        self.fit_masked_sparse_with(x, weights, FitOptions::default())
    }

    /// [`fit_masked_sparse`](Nmf::fit_masked_sparse) with initial factors, a
    /// fixed H (`update_h = false`: the masked transform) and a progress
    /// callback.
    pub fn fit_masked_sparse_with(
        &self,
        x: &CsrMatrix<f64>,
        weights: SparseWeights<'_>,
        opts: FitOptions<'_, '_, f64>,
    ) -> Result<NmfFit<f64>> {
        crate::model::on_pool(self.threads, || self.sparse_inner(x, weights, opts))
    }

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
        let pattern = pattern_of(x);
        self.fit_masked_sparse_with(x, SparseWeights::observed(&pattern), opts)
    }

    fn sparse_inner(
        &self,
        x: &CsrMatrix<f64>,
        weights: SparseWeights<'_>,
        mut opts: FitOptions<'_, '_, f64>,
    ) -> Result<NmfFit<f64>> {
        let (n, m, k) = (x.nrows(), x.ncols(), self.rank);
        let d = weights.others;
        if n == 0 || m == 0 {
            return Err(NmfError::Empty { rows: n, cols: m });
        }
        let listed = weights.listed;
        if (listed.nrows(), listed.ncols()) != (n, m) {
            return Err(NmfError::Shape {
                what: "mask",
                got: (listed.nrows(), listed.ncols()),
                expected: (n, m),
            });
        }
        if !(d.is_finite() && d >= 0.0) {
            return Err(invalid(
                "mask",
                format!("the weight of unlisted entries must be finite and >= 0, got {d}"),
            ));
        }
        let beta = self.masked_model()?;
        let rows = lines(x, listed, d, beta)?;
        let listed_total: usize = rows.iter().map(Vec::len).sum();
        if d > 0.0 && beta <= 0.0 && listed_total < n * m {
            // Some entry is an unlisted, unstored zero with weight d > 0.
            return Err(NmfError::ZerosWithNonPositiveBeta { beta });
        }
        let observed_sum: (f64, f64) = rows
            .iter()
            .flatten()
            .fold((0.0, 0.0), |(s, c), e| (s + e.m * e.x, c + e.m));
        let (total, count) = if d > 0.0 {
            let unlisted = (n * m - listed_total) as f64 * d;
            (observed_sum.0, observed_sum.1 + unlisted)
        } else {
            observed_sum
        };
        if count == 0.0 {
            return Err(invalid(
                "mask",
                "every entry is missing: there is nothing to fit",
            ));
        }
        if !opts.update_w {
            return Err(invalid("update_w", "fit the transpose to keep W fixed"));
        }
        let cols = lines(&x.transpose(), &listed.transpose(), d, beta)?;
        let t0 = Instant::now();
        let mean = total / count;
        // Factors as k×len matrices: a row of W / a column of H is contiguous.
        let (mut wt, mut h, init_used) = match self.given_start(&opts, (n, m), mean)? {
            Some((w, h)) => (w.transpose(), h, None),
            _ if d == 0.0 => {
                if !matches!(self.init, crate::Init::Auto | crate::Init::Random) {
                    return Err(invalid(
                        "init",
                        "with only the listed entries observed, NNDSVD would read the missing ones as zeros: use random or custom",
                    ));
                }
                let avg = (mean / k as f64).sqrt();
                let mut rng = seeded(self.seed);
                let h: Vec<f64> = (0..k * m)
                    .map(|_| (avg * standard_normal(&mut rng)).abs())
                    .collect();
                let w: Vec<f64> = (0..n * k)
                    .map(|_| (avg * standard_normal(&mut rng)).abs())
                    .collect();
                (
                    Mat::from_col_major(k, n, w)?,
                    Mat::from_col_major(k, m, h)?,
                    Some(crate::Init::Random),
                )
            }
            _ => {
                // The initialization reads missing entries as zeros (what
                // sparse data says of every unstored entry anyway).
                let kept = observed_values(&rows, n, m)?;
                let init = self.init.resolve(k, n, m);
                let (wt, h) = initialize(&SparseData::new(&kept), k, init, self.seed)?;
                (wt, h, Some(init))
            }
        };
        let init_time = t0.elapsed();
        let pen = self.regularization.penalties(n, m);
        let objective = |wt: &Mat<f64>, h: &Mat<f64>| {
            let loss = sparse_loss(&rows, wt, h, beta, d);
            (loss, loss + pen.w.value(wt) + pen.h.value(h))
        };
        let w_first = self.solver != SolverKind::Mu;
        let first = objective(&wt, &h);
        let update_h = opts.update_h;
        let solver = self.solver;
        let end = iterate(self, opts.progress.take(), first, || {
            if w_first {
                half(solver, &rows, &mut wt, &h, pen.w, beta, d);
                if update_h {
                    half(solver, &cols, &mut h, &wt, pen.h, beta, d);
                }
            } else {
                if update_h {
                    half(solver, &cols, &mut h, &wt, pen.h, beta, d);
                }
                half(solver, &rows, &mut wt, &h, pen.w, beta, d);
            }
            objective(&wt, &h)
        });
        Ok(end.into_fit(wt.transpose(), h, init_used, init_time))
    }
}

/// X's stored entries as weights 1.
fn pattern_of(x: &CsrMatrix<f64>) -> CsrMatrix<f64> {
    let idx = x.indices().iter().map(|&j| j as usize).collect();
    CsrMatrix::try_new(
        x.nrows(),
        x.ncols(),
        x.indptr().to_vec(),
        idx,
        vec![1.0; x.nnz()],
    )
    .expect("the pattern of a valid matrix")
}

/// The observed values of the lines as a CSR matrix (missing entries left out).
fn observed_values(rows: &[Vec<Entry>], n: usize, m: usize) -> Result<CsrMatrix<f64>> {
    let mut indptr = vec![0];
    let (mut idx, mut val) = (Vec::new(), Vec::new());
    for r in rows {
        for e in r.iter().filter(|e| e.m > 0.0 && e.x != 0.0) {
            idx.push(e.j as usize);
            val.push(e.x);
        }
        indptr.push(idx.len());
    }
    CsrMatrix::try_new(n, m, indptr, idx, val)
}

/// Σ_listed m·d_β(x, y) + others·Σ_unlisted d_β(0, y), y = (WH)_ij, with
/// the unlisted part from closed forms where β allows (β = 2: ½‖WH‖² from
/// the Grams; β = 1: Σ WH from the factors' sums).
fn sparse_loss(rows: &[Vec<Entry>], wt: &Mat<f64>, h: &Mat<f64>, beta: f64, d: f64) -> f64 {
    let k = wt.nrows;
    let m = h.ncols;
    let zero_div = |y: f64| {
        if beta == 2.0 {
            0.5 * y * y
        } else if beta == 1.0 {
            y
        } else {
            divergence(0.0, y, beta)
        }
    };
    let listed = crate::linalg::det_sum(rows.len(), |i| {
        let r = &rows[i];
        let wi = wt.col(i);
        let mut s = 0.0;
        for e in r {
            let y = dot(wi, h.col(e.j as usize));
            if e.m > 0.0 {
                s += e.m * divergence(e.x, y, beta);
            }
            if d > 0.0 {
                s -= d * zero_div(y);
            }
        }
        if d > 0.0 && beta != 2.0 && beta != 1.0 {
            // Every entry of the line as an unlisted zero.
            s += d * (0..m).map(|j| zero_div(dot(wi, h.col(j)))).sum::<f64>();
        }
        s
    });

    if d == 0.0 || (beta != 2.0 && beta != 1.0) {
        return listed;
    }
    let all = if beta == 2.0 {
        let (gw, gh) = (gram(wt, Par::rayon(0)), gram(h, Par::rayon(0)));
        0.5 * gw
            .data
            .iter()
            .zip(&gh.data)
            .map(|(a, b)| a * b)
            .sum::<f64>()
    } else {
        let (sw, sh) = (row_sums(wt), row_sums(h));
        (0..k).map(|t| sw[t] * sh[t]).sum()
    };
    listed + d * all
}

/// Updates every line's k-vector (the columns of `f`, k×lines) against the
/// other factor `g` (k×len) over that line's entries, the unlisted ones
/// entering through `g`'s Gram and sums.
fn half(
    solver: SolverKind,
    lines: &[Vec<Entry>],
    f: &mut Mat<f64>,
    g: &Mat<f64>,
    pen: Penalty,
    beta: f64,
    d: f64,
) {
    let k = f.nrows;
    let (full, sums) = if d > 0.0 {
        (gram(g, Par::rayon(0)).data, row_sums(g))
    } else {
        (Vec::new(), Vec::new())
    };
    let gamma = if beta < 1.0 {
        1.0 / (2.0 - beta)
    } else if beta > 2.0 {
        1.0 / (beta - 1.0)
    } else {
        1.0
    };
    f.data
        .par_chunks_mut(k)
        .zip(lines.par_iter())
        .for_each(|(fi, line)| {
            if solver == SolverKind::Mu {
                let (mut num, mut den) = (vec![0.0; k], vec![0.0; k]);
                if d > 0.0 {
                    if beta == 2.0 {
                        for q in 0..k {
                            den[q] = d * dot(&full[q * k..(q + 1) * k], fi);
                        }
                    } else if beta == 1.0 {
                        for q in 0..k {
                            den[q] = d * sums[q];
                        }
                    } else {
                        for j in 0..g.ncols {
                            let gj = g.col(j);
                            let c = d * dot(fi, gj).max(EPS32).powf(beta - 1.0);
                            den.iter_mut().zip(gj).for_each(|(a, b)| *a += c * b);
                        }
                    }
                }
                for e in line {
                    let gj = g.col(e.j as usize);
                    let y = dot(fi, gj).max(if beta == 2.0 { 0.0 } else { EPS32 });
                    let c = e.m - d;
                    let (a, b) = if beta == 2.0 {
                        (e.m * e.x, c * y)
                    } else if beta == 1.0 {
                        (e.m * e.x / y, c)
                    } else {
                        (e.m * e.x * y.powf(beta - 2.0), c * y.powf(beta - 1.0))
                    };
                    for t in 0..k {
                        num[t] += a * gj[t];
                        den[t] += b * gj[t];
                    }
                }
                for t in 0..k {
                    let dn = den[t] + pen.l1 + pen.l2 * fi[t];
                    let r = if dn > 0.0 { num[t] / dn } else { 0.0 };
                    fi[t] *= if gamma == 1.0 { r } else { r.powf(gamma) };
                }
            } else {
                let mut gram = if d > 0.0 {
                    full.iter().map(|v| d * v).collect()
                } else {
                    vec![0.0; k * k]
                };
                let mut rhs = vec![-pen.l1; k];
                for e in line {
                    let gj = g.col(e.j as usize);
                    let c = e.m - d;
                    for q in 0..k {
                        rhs[q] += e.m * e.x * gj[q];
                        if c != 0.0 {
                            let s = c * gj[q];
                            for p in q..k {
                                gram[q * k + p] += s * gj[p];
                            }
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

/// (½ Σ M∘(X − WH)², Σ M∘X²) for sparse X with sparse weights: the masked
/// Frobenius loss and the weighted norm it is relative to.
pub fn sparse_masked_error(
    x: &CsrMatrix<f64>,
    weights: SparseWeights<'_>,
    w: &Mat<f64>,
    h: &Mat<f64>,
) -> Result<(f64, f64)> {
    let rows = lines(x, weights.listed, weights.others, 2.0)?;
    // The lines hold every entry with a value: unlisted stored ones at weight `others`.
    let sq: f64 = rows.iter().flatten().map(|e| e.m * e.x * e.x).sum();
    Ok((
        sparse_loss(&rows, &w.transpose(), h, 2.0, weights.others),
        sq,
    ))
}

/// Sparse X with its missing entries — weight 0, listed or (when `others`
/// is 0) unlisted — replaced by (WH)_ij; the observed entries are kept. With
/// `others = 0` every entry is stored in the result.
pub fn impute_sparse(
    x: &CsrMatrix<f64>,
    weights: SparseWeights<'_>,
    w: &Mat<f64>,
    h: &Mat<f64>,
) -> Result<CsrMatrix<f64>> {
    let (n, m) = (x.nrows(), x.ncols());
    let rows = lines(x, weights.listed, weights.others, 2.0)?;
    let k = h.nrows;
    let y = |i: usize, j: usize| (0..k).map(|t| w.get(i, t) * h.get(t, j)).sum::<f64>();
    let mut indptr = vec![0];
    let (mut idx, mut val) = (Vec::new(), Vec::new());
    for (i, r) in rows.iter().enumerate() {
        if weights.others == 0.0 {
            let mut e = r.iter().peekable();
            for j in 0..m {
                let v = match e.peek() {
                    Some(en) if en.j as usize == j => {
                        let en = e.next().expect("peeked");
                        if en.m > 0.0 {
                            en.x
                        } else {
                            y(i, j)
                        }
                    }
                    _ => y(i, j),
                };
                idx.push(j);
                val.push(v);
            }
        } else {
            // Unlisted entries keep X's value (stored or zero).
            for en in r {
                idx.push(en.j as usize);
                val.push(if en.m > 0.0 {
                    en.x
                } else {
                    y(i, en.j as usize)
                });
            }
        }
        indptr.push(idx.len());
    }
    CsrMatrix::try_new(n, m, indptr, idx, val)
}
