//! The graph Laplacian Δ of an h×w pixel grid with 4-neighbour edges
//! (pixel (r, c) is column r·w + c of H), applied by its stencil: never
//! stored. tr(H Δ Hᵀ) = Σ_t Σ_edges (H_ti − H_tj)².

use crate::matrix::Mat;
use rayon::prelude::*;

/// An upper bound of Δ's largest eigenvalue (2 × the largest degree), the
/// Lipschitz constant of the majorization.
pub const SIGMA: f64 = 8.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    pub height: usize,
    pub width: usize,
}

impl Grid {
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// out = H Δ for H (k×p, column-major: a pixel's k values contiguous).
    pub fn apply(&self, h: &Mat<f64>, out: &mut Mat<f64>) {
        let (k, w, hh) = (h.nrows, self.width, self.height);
        assert_eq!(h.ncols, self.pixels());
        out.data
            .par_chunks_mut(k * w)
            .enumerate()
            .for_each(|(r, row_out)| {
                for c in 0..w {
                    let j = r * w + c;
                    let o = &mut row_out[c * k..(c + 1) * k];
                    let me = h.col(j);
                    o.fill(0.0);
                    let mut add = |n: usize| {
                        for ((o, &a), &b) in o.iter_mut().zip(me).zip(h.col(n)) {
                            *o += a - b;
                        }
                    };
                    if c > 0 {
                        add(j - 1);
                    }
                    if c + 1 < w {
                        add(j + 1);
                    }
                    if r > 0 {
                        add(j - w);
                    }
                    if r + 1 < hh {
                        add(j + w);
                    }
                }
            });
    }

    /// tr(H Δ Hᵀ): the sum over edges of squared differences.
    pub fn quadratic(&self, h: &Mat<f64>) -> f64 {
        let (w, hh) = (self.width, self.height);
        let per_row: Vec<f64> = (0..hh)
            .into_par_iter()
            .map(|r| {
                let mut s = 0.0;
                for c in 0..w {
                    let j = r * w + c;
                    let me = h.col(j);
                    let mut edge = |n: usize| {
                        for (&a, &b) in me.iter().zip(h.col(n)) {
                            s += (a - b) * (a - b);
                        }
                    };
                    if c + 1 < w {
                        edge(j + 1);
                    }
                    if r + 1 < hh {
                        edge(j + w);
                    }
                }
                s
            })
            .collect();
        per_row.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dense Laplacian D − A of the grid.
    fn dense(g: Grid) -> Vec<Vec<f64>> {
        let p = g.pixels();
        let mut l = vec![vec![0.0; p]; p];
        for r in 0..g.height {
            for c in 0..g.width {
                let j = r * g.width + c;
                let mut nb = Vec::new();
                if c > 0 {
                    nb.push(j - 1);
                }
                if c + 1 < g.width {
                    nb.push(j + 1);
                }
                if r > 0 {
                    nb.push(j - g.width);
                }
                if r + 1 < g.height {
                    nb.push(j + g.width);
                }
                l[j][j] = nb.len() as f64;
                for n in nb {
                    l[j][n] = -1.0;
                }
            }
        }
        l
    }

    #[test]
    fn stencil_equals_the_dense_laplacian() {
        for (hh, w) in [(1, 1), (1, 5), (4, 1), (3, 4), (5, 5), (2, 7)] {
            let g = Grid {
                height: hh,
                width: w,
            };
            let p = g.pixels();
            let k = 3;
            let h = Mat::from_fn(k, p, |t, j| ((t * 7 + j * 13) % 11) as f64 * 0.3 + t as f64);
            let mut out = Mat::zeros(k, p);
            g.apply(&h, &mut out);
            let l = dense(g);
            let mut quad = 0.0;
            for t in 0..k {
                for j in 0..p {
                    let want: f64 = (0..p).map(|i| h.get(t, i) * l[i][j]).sum();
                    assert!((out.get(t, j) - want).abs() < 1e-12, "{hh}x{w} ({t},{j})");
                    quad += h.get(t, j) * want;
                }
            }
            assert!((g.quadratic(&h) - quad).abs() < 1e-9 * quad.max(1.0));
            // Largest eigenvalue ≤ SIGMA (Gershgorin on the dense matrix).
            for row in &l {
                assert!(row.iter().map(|v| v.abs()).sum::<f64>() <= SIGMA);
            }
        }
    }
}
