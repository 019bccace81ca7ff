//! Dense X, and the tiled WH kernels that every loss other than Frobenius
//! needs (sparse data uses them too, for terms that involve all of WH).

use super::{first_bad, Data, Side};
use crate::linalg::{det_sum, gemm, map_entries, Scratch};
use crate::matrix::{Mat, MatRef};
use crate::scalar::{Scalar, EPS32};
use faer::Par;
use rayon::prelude::*;

/// Entries of WH a task computes at once: large enough for an efficient
/// small GEMM, small enough to stay in cache between the GEMMs.
const TILE: usize = 1 << 16;

/// How many of `len` columns (or rows) of `depth` entries one tile takes:
/// about TILE entries, and at least 4 tiles per thread when there is room.
fn tile_width(len: usize, depth: usize) -> usize {
    let per_thread = len.div_ceil(4 * rayon::current_num_threads());
    (TILE / depth.max(1)).min(per_thread).clamp(1, len.max(1))
}

/// Dense data: a borrowed column-major n×m matrix.
pub struct DenseData<'a, T> {
    x: MatRef<'a, T>,
    sq_norm: f64,
    sum: f64,
}

impl<'a, T: Scalar> DenseData<'a, T> {
    pub fn new(x: MatRef<'a, T>) -> Self {
        let n = x.nrows;
        let sq_norm = det_sum(x.ncols, |j| {
            x.data[j * n..(j + 1) * n]
                .iter()
                .map(|v| v.to_f64() * v.to_f64())
                .sum()
        });
        let sum = det_sum(x.ncols, |j| {
            x.data[j * n..(j + 1) * n].iter().map(|v| v.to_f64()).sum()
        });
        DenseData { x, sq_norm, sum }
    }

    pub fn matrix(&self) -> MatRef<'a, T> {
        self.x
    }
}

impl<T: Scalar> Data<T> for DenseData<'_, T> {
    fn shape(&self) -> (usize, usize) {
        (self.x.nrows, self.x.ncols)
    }
    fn nnz(&self) -> usize {
        self.x.data.len()
    }
    fn is_sparse(&self) -> bool {
        false
    }
    fn sq_norm(&self) -> f64 {
        self.sq_norm
    }
    fn sum(&self) -> f64 {
        self.sum
    }
    fn has_zero(&self) -> bool {
        self.x.data.par_iter().any(|&v| v == T::ZERO)
    }

    fn cross(&self, side: Side, l: &Mat<T>, out: &mut Mat<T>, par: Par) {
        let (n, m) = self.shape();
        let k = l.nrows;
        match side {
            Side::H => gemm(
                &mut out.data,
                k,
                m,
                l.as_ref(),
                false,
                self.x,
                false,
                false,
                par,
            ),
            Side::W => gemm(
                &mut out.data,
                k,
                n,
                l.as_ref(),
                false,
                self.x,
                true,
                false,
                par,
            ),
        }
    }

    fn cross_weighted<G>(&self, side: Side, wt: &Mat<T>, h: &Mat<T>, g: G, out: &mut Mat<T>)
    where
        G: Fn(T, T) -> T + Sync,
    {
        tiled_cross(Some(self.x), side, wt, h, g, out);
    }

    fn fold_stored<F>(&self, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
    where
        F: Fn(T, T) -> f64 + Sync,
    {
        let eps = T::from_f64(EPS32);
        tiled_fold(
            Some(self.x),
            wt,
            h,
            |x, wh| if x > eps { f(x, wh) } else { 0.0 },
        )
    }

    fn first_bad_entry(&self) -> Option<(usize, usize, T)> {
        first_bad(self.x.nrows, self.x.data)
    }

    fn dense_matrix(&self) -> Option<MatRef<'_, T>> {
        Some(self.x)
    }
}

/// Side H: `out (k×m) = Wt · G`; side W: `out (k×n) = H · Gᵀ`, where
/// `G_ij = g(X_ij, (WH)_ij)` (X taken as 0 when `x` is `None`). WH is
/// computed tile by tile and never held whole.
pub(crate) fn tiled_cross<T, G>(
    x: Option<MatRef<'_, T>>,
    side: Side,
    wt: &Mat<T>,
    h: &Mat<T>,
    g: G,
    out: &mut Mat<T>,
) where
    T: Scalar,
    G: Fn(T, T) -> T + Sync,
{
    let (k, n, m) = (wt.nrows, wt.ncols, h.ncols);
    if k == 0 || n == 0 || m == 0 {
        out.data.fill(T::ZERO);
        return;
    }
    match side {
        Side::H => {
            // Tiles of whole columns of X: out[:, j0..j1] = Wt · G[:, j0..j1].
            let bc = tile_width(m, n);
            out.data.par_chunks_mut(k * bc).enumerate().for_each_init(
                Vec::new,
                |buf: &mut Vec<T>, (t, out_tile)| {
                    let j0 = t * bc;
                    let w = out_tile.len() / k;
                    buf.resize(n * w, T::ZERO);
                    let h_tile = MatRef {
                        nrows: k,
                        ncols: w,
                        data: &h.data[j0 * k..(j0 + w) * k],
                    };
                    gemm(buf, n, w, wt.as_ref(), true, h_tile, false, false, Par::Seq);
                    map_entries(buf, x.map(|x| &x.data[j0 * n..(j0 + w) * n]), &g);
                    let gm = MatRef {
                        nrows: n,
                        ncols: w,
                        data: &buf[..],
                    };
                    gemm(
                        out_tile,
                        k,
                        w,
                        wt.as_ref(),
                        false,
                        gm,
                        false,
                        false,
                        Par::Seq,
                    );
                },
            );
        }
        Side::W => {
            // Tiles of whole rows of X: out[:, i0..i1] = H · G[i0..i1, :]ᵀ.
            let br = tile_width(n, m);
            out.data.par_chunks_mut(k * br).enumerate().for_each_init(
                Vec::new,
                |buf: &mut Vec<T>, (t, out_tile)| {
                    let i0 = t * br;
                    let r = out_tile.len() / k;
                    buf.resize(r * m, T::ZERO);
                    let wt_tile = MatRef {
                        nrows: k,
                        ncols: r,
                        data: &wt.data[i0 * k..(i0 + r) * k],
                    };
                    gemm(buf, r, m, wt_tile, true, h.as_ref(), false, false, Par::Seq);
                    match x {
                        Some(x) => {
                            for j in 0..m {
                                let xs = &x.data[j * n + i0..j * n + i0 + r];
                                map_entries(&mut buf[j * r..(j + 1) * r], Some(xs), &g);
                            }
                        }
                        None => map_entries(buf, None, &g),
                    }
                    let gm = MatRef {
                        nrows: r,
                        ncols: m,
                        data: &buf[..],
                    };
                    gemm(out_tile, k, r, h.as_ref(), false, gm, true, false, Par::Seq);
                },
            );
        }
    }
}

/// Σ `f(X_ij, (WH)_ij)` over all entries (X taken as 0 when `x` is `None`),
/// tile by tile, in f64 and in a fixed order.
pub(crate) fn tiled_fold<T, F>(x: Option<MatRef<'_, T>>, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
where
    T: Scalar,
    F: Fn(T, T) -> f64 + Sync,
{
    let (k, n, m) = (wt.nrows, wt.ncols, h.ncols);
    if n == 0 || m == 0 {
        return 0.0;
    }
    let bc = tile_width(m, n);
    let tiles = m.div_ceil(bc);
    let scratch = Scratch::new();
    let parts: Vec<f64> = (0..tiles)
        .into_par_iter()
        .map(|t| {
            let j0 = t * bc;
            let w = bc.min(m - j0);
            scratch.with(n * w, |buf| {
                if k == 0 {
                    buf.fill(T::ZERO);
                } else {
                    let h_tile = MatRef {
                        nrows: k,
                        ncols: w,
                        data: &h.data[j0 * k..(j0 + w) * k],
                    };
                    gemm(buf, n, w, wt.as_ref(), true, h_tile, false, false, Par::Seq);
                }
                match x {
                    Some(x) => {
                        let xs = &x.data[j0 * n..(j0 + w) * n];
                        buf.iter().zip(xs).map(|(&b, &xv)| f(xv, b)).sum::<f64>()
                    }
                    None => buf.iter().map(|&b| f(T::ZERO, b)).sum::<f64>(),
                }
            })
        })
        .collect();
    parts.iter().sum()
}
