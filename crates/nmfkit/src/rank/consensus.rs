//! The consensus matrix of many runs: how often two items (samples or
//! features) get the same largest component (Brunet et al. 2004).

use crate::matrix::Mat;
use crate::scalar::Scalar;
use rayon::prelude::*;

/// Symmetric, unit diagonal, entries in [0, 1]; stored as the counts of
/// its strict upper triangle (row-major), so n items cost n(n−1)/2 × 4 bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Consensus {
    n: usize,
    runs: u32,
    counts: Vec<u32>,
}

/// Start of row `i` of the strict upper triangle of an n×n matrix.
pub(crate) fn row_start(n: usize, i: usize) -> usize {
    i * n - i * (i + 1) / 2
}

/// Position of (i, j), i ≠ j, in the strict upper triangle.
#[inline]
pub(crate) fn condensed(n: usize, i: usize, j: usize) -> usize {
    let (a, b) = if i < j { (i, j) } else { (j, i) };
    row_start(n, a) + (b - a - 1)
}

/// Splits a condensed triangle into its rows (row i holds j = i+1..n).
fn rows_mut<V>(n: usize, tri: &mut [V]) -> Vec<&mut [V]> {
    let mut rows = Vec::with_capacity(n);
    let mut rest = tri;
    for i in 0..n {
        let (row, tail) = rest.split_at_mut(n - 1 - i);
        rows.push(row);
        rest = tail;
    }
    rows
}

impl Consensus {
    /// An empty consensus over `n` items.
    pub fn new(n: usize) -> Self {
        Consensus {
            n,
            runs: 0,
            counts: vec![0; n * n.saturating_sub(1) / 2],
        }
    }

    /// Adds one run's connectivity: items i and j are connected when
    /// `labels[i] == labels[j]`.
    pub fn add(&mut self, labels: &[u32]) {
        assert_eq!(labels.len(), self.n, "one label per item");
        let n = self.n;
        rows_mut(n, &mut self.counts)
            .into_par_iter()
            .enumerate()
            .for_each(|(i, row)| {
                let li = labels[i];
                for (c, &lj) in row.iter_mut().zip(&labels[i + 1..]) {
                    *c += (lj == li) as u32;
                }
            });
        self.runs += 1;
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.n
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Number of runs added.
    pub fn runs(&self) -> usize {
        self.runs as usize
    }

    /// Entry (i, j): the fraction of runs in which i and j were connected.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        if i == j {
            1.0
        } else if self.runs == 0 {
            0.0
        } else {
            self.counts[condensed(self.n, i, j)] as f64 / self.runs as f64
        }
    }

    /// 1 − consensus over the strict upper triangle: the distance that the
    /// clustering of the items uses.
    pub fn distances(&self) -> Vec<f64> {
        let r = self.runs.max(1) as f64;
        self.counts
            .par_iter()
            .map(|&c| 1.0 - c as f64 / r)
            .collect()
    }

    /// The dense n×n matrix, rows and columns taken in `order` (the
    /// identity when `None`).
    pub fn to_dense(&self, order: Option<&[usize]>) -> Mat<f64> {
        let ident: Vec<usize>;
        let order = match order {
            Some(o) => o,
            None => {
                ident = (0..self.n).collect();
                &ident
            }
        };
        Mat::from_fn(order.len(), order.len(), |a, b| {
            self.get(order[a], order[b])
        })
    }

    /// Dispersion (Kim & Park 2007): the mean over all n² entries of
    /// 4 (C_ij − ½)²; 1 for a consensus of zeros and ones only.
    pub fn dispersion(&self) -> f64 {
        let n = self.n as f64;
        if self.n == 0 {
            return 0.0;
        }
        let r = self.runs.max(1) as f64;
        // Summed in a fixed order (rayon's sum splits as threads steal work,
        // which moved the last bits between runs with the same seed).
        let parts: Vec<f64> = self
            .counts
            .par_chunks(4096)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|&c| {
                        let v = c as f64 / r - 0.5;
                        4.0 * v * v
                    })
                    .sum::<f64>()
            })
            .collect();
        let off: f64 = parts.iter().sum();
        // The diagonal contributes n entries of 1.
        (2.0 * off + n) / (n * n)
    }
}

/// Each row's largest entry's column (the first on ties) — the cluster of
/// every sample from W (n×k). All-zero rows go to component 0.
pub fn row_argmax<T: Scalar>(w: &Mat<T>) -> Vec<u32> {
    let mut best = vec![0u32; w.nrows];
    let mut val = vec![T::ZERO; w.nrows];
    for t in 0..w.ncols {
        for (i, &v) in w.col(t).iter().enumerate() {
            if t == 0 || v > val[i] {
                val[i] = v;
                best[i] = t as u32;
            }
        }
    }
    best
}

/// Each column's largest entry's row — the cluster of every feature from
/// H (k×m).
pub fn col_argmax<T: Scalar>(h: &Mat<T>) -> Vec<u32> {
    (0..h.ncols)
        .map(|j| {
            let c = h.col(j);
            let mut b = 0;
            for t in 1..c.len() {
                if c[t] > c[b] {
                    b = t;
                }
            }
            b as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condensed_layout_matches_rows() {
        let n = 7;
        let mut k = 0;
        for i in 0..n {
            assert_eq!(row_start(n, i), k);
            for j in i + 1..n {
                assert_eq!(condensed(n, i, j), k);
                assert_eq!(condensed(n, j, i), k);
                k += 1;
            }
        }
        assert_eq!(k, n * (n - 1) / 2);
    }

    #[test]
    fn consensus_is_symmetric_unit_diagonal_in_unit_interval() {
        let mut c = Consensus::new(5);
        c.add(&[0, 0, 1, 1, 2]);
        c.add(&[0, 1, 1, 1, 0]);
        let d = c.to_dense(None);
        for i in 0..5 {
            assert_eq!(d.get(i, i), 1.0);
            for j in 0..5 {
                assert_eq!(d.get(i, j), d.get(j, i));
                assert!((0.0..=1.0).contains(&d.get(i, j)));
            }
        }
        assert_eq!(c.get(0, 1), 0.5);
        assert_eq!(c.get(2, 3), 1.0);
        assert_eq!(c.get(0, 4), 0.5);
        assert_eq!(c.get(2, 4), 0.0);
        // Dispersion by its definition over the dense matrix.
        let mut s = 0.0;
        for v in &d.data {
            s += 4.0 * (v - 0.5) * (v - 0.5);
        }
        assert!((c.dispersion() - s / 25.0).abs() < 1e-15);
        let mut crisp = Consensus::new(4);
        crisp.add(&[1, 1, 0, 0]);
        crisp.add(&[0, 0, 1, 1]);
        assert_eq!(crisp.dispersion(), 1.0);
    }

    #[test]
    fn argmax_labels() {
        let w = Mat::from_rows(&[vec![0.1, 0.9], vec![2.0, 1.0], vec![0.0, 0.0]]).unwrap();
        assert_eq!(row_argmax(&w), vec![1, 0, 0]);
        assert_eq!(col_argmax(&w.transpose()), vec![1, 0, 0]);
    }
}
