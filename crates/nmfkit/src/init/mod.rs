//! Initial factors: random (scikit-learn's scaling), NNDSVD and its a/ar
//! variants (Boutsidis & Gallopoulos 2008) on a randomized SVD, or custom.

mod rsvd;
mod spa;

pub use rsvd::{randomized_svd, randomized_svd_oriented};
pub use spa::spa_columns;
pub(crate) use spa::spa_start;

use crate::data::Data;
use crate::error::{NmfError, Result};
use crate::matrix::Mat;
use crate::rng::{seeded, standard_normal};
use crate::scalar::Scalar;

/// How the initial W and H are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// nndsvda when k ≤ min(n, m), random otherwise (scikit-learn ≥ 1.1).
    Auto,
    /// |N(0,1)|·sqrt(mean(X)/k), H drawn before W.
    Random,
    /// NNDSVD: zeros stay zeros (best for sparse results with CD/HALS).
    Nndsvd,
    /// NNDSVD with zeros filled with mean(X) (best for MU).
    Nndsvda,
    /// NNDSVD with zeros filled with small random values.
    Nndsvdar,
    /// The successive projection algorithm: k columns of X as W, H by
    /// NNLS (exact on separable data; see [`spa_columns`]).
    Spa,
}

impl Init {
    pub fn parse(s: &str) -> Result<Init> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" | "default" => Init::Auto,
            "random" => Init::Random,
            "nndsvd" => Init::Nndsvd,
            "nndsvda" => Init::Nndsvda,
            "nndsvdar" => Init::Nndsvdar,
            "spa" => Init::Spa,
            _ => {
                return Err(crate::error::invalid(
                    "init",
                    format!("'{s}' is not one of auto, random, nndsvd, nndsvda, nndsvdar, spa"),
                ))
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Init::Auto => "auto",
            Init::Random => "random",
            Init::Nndsvd => "nndsvd",
            Init::Nndsvda => "nndsvda",
            Init::Nndsvdar => "nndsvdar",
            Init::Spa => "spa",
        }
    }

    /// The concrete method `Auto` resolves to for rank k on an n×m matrix.
    pub fn resolve(self, k: usize, n: usize, m: usize) -> Init {
        match self {
            Init::Auto if k <= n.min(m) => Init::Nndsvda,
            Init::Auto => Init::Random,
            other => other,
        }
    }
}

/// Initial factors, returned as (Wt k×n, H k×m).
pub fn initialize<T: Scalar, D: Data<T>>(
    x: &D,
    k: usize,
    init: Init,
    seed: u64,
) -> Result<(Mat<T>, Mat<T>)> {
    initialize_oriented(x, k, init, seed, false)
}

/// [`initialize`] for a matrix that is the transpose of the user's: with
/// `transposed`, random draws are made in the user's order, so a problem
/// solved as its transpose (row-major data) starts from the same factors.
pub fn initialize_oriented<T: Scalar, D: Data<T>>(
    x: &D,
    k: usize,
    init: Init,
    seed: u64,
    transposed: bool,
) -> Result<(Mat<T>, Mat<T>)> {
    let (n, m) = x.shape();
    if k == 0 {
        return Err(NmfError::ZeroRank);
    }
    let init = init.resolve(k, n, m);
    let mean = x.sum() / (n as f64 * m as f64);
    match init {
        Init::Random => Ok(random_init(n, m, k, mean, seed, transposed)),
        Init::Spa => spa_start(x, k, transposed),
        _ => {
            if k > n.min(m) {
                return Err(NmfError::RankTooLarge {
                    rank: k,
                    max: n.min(m),
                    init: init.name(),
                    rows: n,
                    cols: m,
                });
            }
            nndsvd(x, k, init, mean, seed, transposed)
        }
    }
}

pub(crate) fn random_init<T: Scalar>(
    n: usize,
    m: usize,
    k: usize,
    mean: f64,
    seed: u64,
    transposed: bool,
) -> (Mat<T>, Mat<T>) {
    let avg = (mean / k as f64).sqrt();
    let mut rng = seeded(seed);
    if transposed {
        // The user's H is our Wᵀ, the user's W our Hᵀ: draw them in the
        // user's order (H row by row, then W row by row).
        let mut wt = Mat::zeros(k, n);
        for t in 0..k {
            for i in 0..n {
                wt.set(t, i, T::from_f64((avg * standard_normal(&mut rng)).abs()));
            }
        }
        let mut h = Mat::zeros(k, m);
        for j in 0..m {
            for t in 0..k {
                h.set(t, j, T::from_f64((avg * standard_normal(&mut rng)).abs()));
            }
        }
        return (wt, h);
    }
    // scikit-learn draws H (k×m, row-major) first, then W (n×k, row-major);
    // the same order here keeps "row i of W" tied to the same draws.
    let mut h = Mat::zeros(k, m);
    for t in 0..k {
        for j in 0..m {
            h.set(t, j, T::from_f64((avg * standard_normal(&mut rng)).abs()));
        }
    }
    let mut wt = Mat::zeros(k, n);
    for i in 0..n {
        for t in 0..k {
            wt.set(t, i, T::from_f64((avg * standard_normal(&mut rng)).abs()));
        }
    }
    (wt, h)
}

/// Pieces of the random start of an n×m problem — columns `w_rows` of Wᵀ
/// (rows of W) and columns `h_cols` of H — equal to the same entries of
/// [`initialize`] with [`Init::Random`] for data with that shape and
/// `x.sum()` = `sum`. Every draw is made (the stream cannot skip ahead) but
/// only the pieces are stored: a distributed fit's start in O(piece) memory.
pub fn random_pieces<T: Scalar>(
    (n, m): (usize, usize),
    sum: f64,
    k: usize,
    seed: u64,
    w_rows: std::ops::Range<usize>,
    h_cols: std::ops::Range<usize>,
) -> (Mat<T>, Mat<T>) {
    let avg = (sum / (n as f64 * m as f64) / k as f64).sqrt();
    let mut rng = seeded(seed);
    let mut h = Mat::zeros(k, h_cols.len());
    for t in 0..k {
        for j in 0..m {
            let v = (avg * standard_normal(&mut rng)).abs();
            if h_cols.contains(&j) {
                h.set(t, j - h_cols.start, T::from_f64(v));
            }
        }
    }
    let mut wt = Mat::zeros(k, w_rows.len());
    for i in 0..w_rows.end.min(n) {
        for t in 0..k {
            let v = (avg * standard_normal(&mut rng)).abs();
            if i >= w_rows.start {
                wt.set(t, i - w_rows.start, T::from_f64(v));
            }
        }
    }
    (wt, h)
}

/// NNDSVD of the user's matrix (`x` itself, or its transpose when
/// `transposed`), so that both layouts of the same data start alike.
fn nndsvd<T: Scalar, D: Data<T>>(
    x: &D,
    k: usize,
    init: Init,
    mean: f64,
    seed: u64,
    transposed: bool,
) -> Result<(Mat<T>, Mat<T>)> {
    let (n, m) = match (x.shape(), transposed) {
        ((a, b), false) => (a, b),
        ((a, b), true) => (b, a),
    };
    let svd = randomized_svd_oriented(x, k, seed, transposed)?;
    // svd.u is n×k, svd.vt is k×m.
    let mut wt = Mat::<T>::zeros(k, n);
    let mut h = Mat::<T>::zeros(k, m);
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    for j in 0..k {
        let x_j: Vec<f64> = (0..n).map(|i| svd.u.get(i, j)).collect();
        let y_j: Vec<f64> = (0..m).map(|c| svd.vt.get(j, c)).collect();
        let s = svd.s[j].max(0.0);
        let (u, v, sigma) = if j == 0 {
            // The leading singular pair of a non-negative matrix is non-negative.
            let u: Vec<f64> = x_j.iter().map(|a| a.abs()).collect();
            let v: Vec<f64> = y_j.iter().map(|a| a.abs()).collect();
            (u, v, 1.0)
        } else {
            let pos = |v: &[f64]| v.iter().map(|a| a.max(0.0)).collect::<Vec<_>>();
            let neg = |v: &[f64]| v.iter().map(|a| (-a).max(0.0)).collect::<Vec<_>>();
            let (xp, yp, xn, yn) = (pos(&x_j), pos(&y_j), neg(&x_j), neg(&y_j));
            let (xpn, ypn, xnn, ynn) = (norm(&xp), norm(&yp), norm(&xn), norm(&yn));
            let (mp, mn) = (xpn * ypn, xnn * ynn);
            let unit = |v: Vec<f64>, nv: f64| {
                if nv > 0.0 {
                    v.into_iter().map(|a| a / nv).collect()
                } else {
                    vec![0.0; v.len()]
                }
            };
            if mp > mn {
                (unit(xp, xpn), unit(yp, ypn), mp)
            } else {
                (unit(xn, xnn), unit(yn, ynn), mn)
            }
        };
        let lbd = (s * sigma).sqrt();
        for i in 0..n {
            wt.set(j, i, T::from_f64(lbd * u[i]));
        }
        for c in 0..m {
            h.set(j, c, T::from_f64(lbd * v[c]));
        }
    }
    // scikit-learn's eps = 1e-6: tiny entries become exact zeros.
    let eps = T::from_f64(1e-6);
    for v in wt.data.iter_mut().chain(h.data.iter_mut()) {
        if *v < eps {
            *v = T::ZERO;
        }
    }
    match init {
        Init::Nndsvda => {
            let avg = T::from_f64(mean);
            for v in wt.data.iter_mut().chain(h.data.iter_mut()) {
                if *v == T::ZERO {
                    *v = avg;
                }
            }
        }
        Init::Nndsvdar => {
            // Zeros in W (row-major order) then in H, as scikit-learn fills them.
            let mut rng = seeded(seed.wrapping_add(0x9E37_79B9_7F4A_7C15));
            for i in 0..n {
                for t in 0..k {
                    if wt.get(t, i) == T::ZERO {
                        wt.set(
                            t,
                            i,
                            T::from_f64((mean * standard_normal(&mut rng) / 100.0).abs()),
                        );
                    }
                }
            }
            for t in 0..k {
                for c in 0..m {
                    if h.get(t, c) == T::ZERO {
                        h.set(
                            t,
                            c,
                            T::from_f64((mean * standard_normal(&mut rng) / 100.0).abs()),
                        );
                    }
                }
            }
        }
        _ => {}
    }
    // The user's factors are x's swapped when x is their transpose.
    Ok(if transposed { (h, wt) } else { (wt, h) })
}
