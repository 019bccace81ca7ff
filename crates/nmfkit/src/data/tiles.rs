//! Kernels over every entry of WH, computed tile by tile and never held
//! whole: the products and sums that every loss other than Frobenius needs
//! (sparse and weighted data use them too, for the terms that involve all
//! of WH).

use super::Side;
use crate::linalg::{gemm, map_entries, Scratch};
use crate::matrix::{Mat, MatRef};
use crate::scalar::Scalar;
use faer::Par;
use rayon::prelude::*;
use std::ops::Range;

/// Entries of WH a task computes at once: large enough for an efficient
/// small GEMM, small enough to stay in cache between the GEMMs.
const TILE: usize = 1 << 16;

/// How many of `len` columns (or rows) of `depth` entries one tile takes:
/// about TILE entries, and at least 4 tiles per thread when there is room.
fn tile_width(len: usize, depth: usize) -> usize {
    let per_thread = len.div_ceil(4 * rayon::current_num_threads());
    (TILE / depth.max(1)).min(per_thread).clamp(1, len.max(1))
}

/// A block of WH: rows × cols of the n×m matrix, held column-major.
#[derive(Clone, Debug)]
pub(crate) struct Tile {
    pub rows: Range<usize>,
    pub cols: Range<usize>,
}

impl Tile {
    /// The tile's part of a column-major n×m matrix, one slice per column.
    pub fn columns<'s, 'a: 's, T>(
        &'s self,
        x: MatRef<'a, T>,
    ) -> impl Iterator<Item = &'a [T]> + 's {
        let n = x.nrows;
        self.cols
            .clone()
            .map(move |j| &x.data[j * n + self.rows.start..j * n + self.rows.end])
    }
}

/// Replaces every entry y of `buf` (the tile of WH, column-major) by
/// `g(X_ij, y)` — X taken as 0 when `x` is `None`.
pub(crate) fn map_tile<T: Scalar, G: Fn(T, T) -> T>(
    x: Option<MatRef<'_, T>>,
    tile: &Tile,
    buf: &mut [T],
    g: &G,
) {
    let r = tile.rows.len();
    match x {
        Some(x) => {
            for (col, xs) in buf.chunks_exact_mut(r.max(1)).zip(tile.columns(x)) {
                map_entries(col, Some(xs), g);
            }
        }
        None => map_entries(buf, None, g),
    }
}

/// Side H: `out (k×m) = Wt · G`; side W: `out (k×n) = H · Gᵀ`, where G is
/// WH with every tile passed through `map` (given the tile and its WH,
/// column-major, to be replaced in place).
pub(crate) fn cross_map<T, M>(side: Side, wt: &Mat<T>, h: &Mat<T>, map: M, out: &mut Mat<T>)
where
    T: Scalar,
    M: Fn(&Tile, &mut [T]) + Sync,
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
                    let tile = Tile {
                        rows: 0..n,
                        cols: j0..j0 + w,
                    };
                    map(&tile, buf);
                    let gm = MatRef {
                        nrows: n,
                        ncols: w,
                        data: &buf[..],
                    };
                    let wtr = wt.as_ref();
                    gemm(out_tile, k, w, wtr, false, gm, false, false, Par::Seq);
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
                    let tile = Tile {
                        rows: i0..i0 + r,
                        cols: 0..m,
                    };
                    map(&tile, buf);
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

/// [`cross_map`] with `G_ij = g(X_ij, (WH)_ij)` (X taken as 0 when `x` is
/// `None`).
pub(crate) fn cross<T, G>(
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
    cross_map(side, wt, h, |tile, buf| map_tile(x, tile, buf, &g), out);
}

/// Σ over tiles of `f(tile, WH tile)`, in f64 and in a fixed order (tiles
/// of whole columns).
pub(crate) fn fold_map<T, F>(wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
where
    T: Scalar,
    F: Fn(&Tile, &[T]) -> f64 + Sync,
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
                let tile = Tile {
                    rows: 0..n,
                    cols: j0..j0 + w,
                };
                f(&tile, buf)
            })
        })
        .collect();
    parts.iter().sum()
}

/// Σ `f(X_ij, (WH)_ij)` over all entries (X taken as 0 when `x` is `None`),
/// tile by tile, in f64 and in a fixed order.
pub(crate) fn fold<T, F>(x: Option<MatRef<'_, T>>, wt: &Mat<T>, h: &Mat<T>, f: F) -> f64
where
    T: Scalar,
    F: Fn(T, T) -> f64 + Sync,
{
    fold_map(wt, h, |tile, buf| match x {
        Some(x) => {
            let xs = &x.data[tile.cols.start * x.nrows..tile.cols.end * x.nrows];
            buf.iter().zip(xs).map(|(&b, &xv)| f(xv, b)).sum::<f64>()
        }
        None => buf.iter().map(|&b| f(T::ZERO, b)).sum::<f64>(),
    })
}
