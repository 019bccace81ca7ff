//! Synthetic data with known factors, for examples, tests and benchmarks.

use crate::data::CsrMatrix;
use crate::matrix::Mat;
use crate::model::inverse_transform;
use crate::rng::{seeded, standard_normal};
use crate::scalar::Scalar;
use rand::RngExt;

/// X = W₀·H₀ (+ noise) with the factors that made it.
#[derive(Clone, Debug)]
pub struct Planted<T> {
    pub x: Mat<T>,
    pub w: Mat<T>,
    pub h: Mat<T>,
}

/// Dense n×m of rank k: W₀, H₀ uniform on [0, 1), plus |N(0, noise²)| noise.
pub fn low_rank<T: Scalar>(n: usize, m: usize, k: usize, noise: f64, seed: u64) -> Planted<T> {
    let mut rng = seeded(seed);
    let w = Mat::from_fn(n, k, |_, _| T::from_f64(rng.random::<f64>()));
    let h = Mat::from_fn(k, m, |_, _| T::from_f64(rng.random::<f64>()));
    let mut x = inverse_transform(&w, &h);
    if noise > 0.0 {
        for v in x.data.iter_mut() {
            *v += T::from_f64((noise * standard_normal(&mut rng)).abs());
        }
    }
    Planted { x, w, h }
}

/// Samples in `k` clusters that are all equally far apart: sample i is in
/// cluster i mod k and feature j in group j mod k, W₀ and H₀ are the 0/1
/// indicator matrices, and X = W₀H₀ (a block pattern of ones) plus
/// |N(0, noise²)| noise. No two clusters are closer than the others, so
/// below the planted rank there is no preferred way to merge them — the
/// case the rank-selection measures must tell apart.
pub fn clustered<T: Scalar>(n: usize, m: usize, k: usize, noise: f64, seed: u64) -> Planted<T> {
    let mut rng = seeded(seed);
    let one = |b: bool| if b { T::ONE } else { T::ZERO };
    let w = Mat::from_fn(n, k, |i, t| one(i % k == t));
    let h = Mat::from_fn(k, m, |t, j| one(j % k == t));
    let mut x = inverse_transform(&w, &h);
    if noise > 0.0 {
        for v in x.data.iter_mut() {
            *v += T::from_f64((noise * standard_normal(&mut rng)).abs());
        }
    }
    Planted { x, w, h }
}

/// Sparse data with the factors behind it.
#[derive(Clone, Debug)]
pub struct SparsePlanted<T: 'static> {
    pub x: CsrMatrix<T>,
    pub w: Mat<T>,
    pub h: Mat<T>,
}

/// Sparse n×m: a low-rank pattern W₀H₀ kept at a random `density` of the
/// entries (the values there are those of W₀H₀, so the data are non-negative
/// with a low-rank structure on the stored entries).
pub fn sparse_low_rank<T: Scalar>(
    n: usize,
    m: usize,
    k: usize,
    density: f64,
    seed: u64,
) -> SparsePlanted<T> {
    let mut rng = seeded(seed);
    let w: Vec<f64> = (0..n * k).map(|_| rng.random::<f64>()).collect();
    let h: Vec<f64> = (0..k * m).map(|_| rng.random::<f64>()).collect();
    let per_row = ((density * m as f64).round() as usize).clamp(1, m);
    let mut indptr = vec![0usize];
    let mut indices = Vec::with_capacity(n * per_row);
    let mut values = Vec::with_capacity(n * per_row);
    let mut cols: Vec<usize> = Vec::with_capacity(per_row);
    for i in 0..n {
        cols.clear();
        // Floyd's sampling of per_row distinct columns.
        for j in (m - per_row)..m {
            let t = rng.random_range(0..=j);
            if cols.contains(&t) {
                cols.push(j);
            } else {
                cols.push(t);
            }
        }
        cols.sort_unstable();
        for &j in &cols {
            let v: f64 = (0..k).map(|t| w[i * k + t] * h[t * m + j]).sum();
            indices.push(j);
            values.push(T::from_f64(v));
        }
        indptr.push(indices.len());
    }
    SparsePlanted {
        x: CsrMatrix::try_new(n, m, indptr, indices, values)
            .expect("generator builds a valid CSR matrix"),
        w: Mat::from_fn(n, k, |i, t| T::from_f64(w[i * k + t])),
        h: Mat::from_fn(k, m, |t, j| T::from_f64(h[t * m + j])),
    }
}

/// The swimmer data set (Donoho & Stodden 2003): 256 images of 32×32 stick
/// figures, one per row of `x` (256×1024, row-major pixels). Every figure has
/// the same torso and four limbs, each in one of four positions. `h` holds
/// the 17 parts (torso first, then limb positions) as rows, `w` which parts
/// each image contains, so that x = w·h exactly.
pub fn swimmer<T: Scalar>() -> Planted<T> {
    const S: usize = 32;
    let mut parts: Vec<Vec<f64>> = Vec::with_capacity(17);
    let mut torso = vec![0.0; S * S];
    for r in 8..24 {
        for c in 15..17 {
            torso[r * S + c] = 1.0;
        }
    }
    parts.push(torso);
    // Limbs: (joint row, joint col, direction sign), four angles each.
    // Arms swing from up (−80°) to level (10°), legs from level to down.
    let limbs = [
        (10.0, 14.5, -1.0, -80.0),
        (10.0, 16.5, 1.0, -80.0),
        (23.5, 14.5, -1.0, -10.0),
        (23.5, 16.5, 1.0, -10.0),
    ];
    for (jr, jc, side, start) in limbs {
        for a in 0..4 {
            let theta = (start + 30.0 * a as f64).to_radians();
            let mut img = vec![0.0; S * S];
            for step in 3..=9 {
                let r = (jr + theta.sin() * step as f64).round();
                let c = (jc + side * theta.cos() * step as f64).round();
                if (0.0..S as f64).contains(&r) && (0.0..S as f64).contains(&c) {
                    img[r as usize * S + c as usize] = 1.0;
                }
            }
            parts.push(img);
        }
    }
    let h = Mat::from_fn(17, S * S, |t, p| T::from_f64(parts[t][p]));
    let w = Mat::from_fn(256, 17, |i, t| {
        if t == 0 {
            return T::ONE;
        }
        let limb = (t - 1) / 4;
        let pos = (t - 1) % 4;
        let chosen = (i >> (2 * limb)) & 3;
        if chosen == pos {
            T::ONE
        } else {
            T::ZERO
        }
    });
    let x = Mat::from_fn(256, S * S, |i, p| {
        // Overlaps (none by construction) would add up; clip to a binary image.
        let v: f64 = (0..17)
            .map(|t| w.get(i, t).to_f64() * h.get(t, p).to_f64())
            .sum();
        T::from_f64(v.min(1.0))
    });
    Planted { x, w, h }
}

/// A spectrum-image toy like electron microscopy data (see [`spectra`]).
#[derive(Clone, Debug)]
pub struct SpectrumImage<T> {
    /// Counts, channels × pixels (n × p).
    pub x: Mat<T>,
    /// The known dictionary G (n × m): Gaussian peaks and smooth backgrounds.
    pub g: Mat<T>,
    /// The phases' weights on G (m × k).
    pub w: Mat<T>,
    /// The phase spectra G·W (n × k), each summing to 1.
    pub spectra: Mat<T>,
    /// The abundance maps (k × p), summing to 1 in every pixel.
    pub maps: Mat<T>,
    pub image_shape: (usize, usize),
}

/// Options of [`spectra`].
#[derive(Clone, Copy, Debug)]
pub struct SpectraOptions {
    pub channels: usize,
    pub phases: usize,
    /// Number of Gaussian peaks in the dictionary (plus 3 background shapes).
    pub peaks: usize,
    pub height: usize,
    pub width: usize,
    /// Expected counts per pixel (Poisson noise level); 0 for noise-free.
    pub counts_per_pixel: f64,
    pub seed: u64,
}

impl Default for SpectraOptions {
    fn default() -> Self {
        // ESPM's toy: 3 phases, 200 channels, a 15-column dictionary, 100×100 maps.
        SpectraOptions {
            channels: 200,
            phases: 3,
            peaks: 12,
            height: 100,
            width: 100,
            counts_per_pixel: 300.0,
            seed: 0,
        }
    }
}

/// Generates a spectrum image: phases made of Gaussian peaks on a smooth
/// background, mixed by smooth maps summing to one, with Poisson noise.
pub fn spectra<T: Scalar>(o: &SpectraOptions) -> SpectrumImage<T> {
    let mut rng = seeded(o.seed);
    let (n, k, (hh, ww)) = (o.channels, o.phases, (o.height, o.width));
    let p = hh * ww;
    // Dictionary: peaks at spread positions, then a decaying, a flat and a
    // rising background; every column sums to 1.
    let m = o.peaks + 3;
    let mut g = vec![vec![0.0f64; m]; n];
    for q in 0..o.peaks {
        let center =
            (q as f64 + 0.5 + 0.3 * (rng.random::<f64>() - 0.5)) * n as f64 / o.peaks as f64;
        let width = 1.0 + 0.01 * n as f64 * (1.0 + rng.random::<f64>());
        for (c, row) in g.iter_mut().enumerate() {
            row[q] = (-0.5 * ((c as f64 - center) / width).powi(2)).exp();
        }
    }
    for (c, row) in g.iter_mut().enumerate() {
        let t = (c as f64 + 1.0) / n as f64;
        row[o.peaks] = (-3.0 * t).exp();
        row[o.peaks + 1] = 1.0;
        row[o.peaks + 2] = t;
    }
    for q in 0..m {
        let s: f64 = g.iter().map(|r| r[q]).sum();
        g.iter_mut().for_each(|r| r[q] /= s);
    }
    // Phase weights: a background share plus a few peaks each.
    let mut w = vec![vec![0.0f64; k]; m];
    for t in 0..k {
        w[o.peaks + (t % 3)][t] = 0.3 + 0.2 * rng.random::<f64>();
        for _ in 0..3 {
            let q = rng.random_range(0..o.peaks);
            w[q][t] += 0.2 + rng.random::<f64>();
        }
    }
    let gw: Vec<Vec<f64>> = (0..n)
        .map(|c| {
            (0..k)
                .map(|t| (0..m).map(|q| g[c][q] * w[q][t]).sum())
                .collect()
        })
        .collect();
    // Normalize each phase spectrum (and its weights) to sum 1.
    for t in 0..k {
        let s: f64 = gw.iter().map(|r| r[t]).sum();
        w.iter_mut().for_each(|r| r[t] /= s);
    }
    let gw: Vec<Vec<f64>> = (0..n)
        .map(|c| {
            (0..k)
                .map(|t| (0..m).map(|q| g[c][q] * w[q][t]).sum())
                .collect()
        })
        .collect();
    // Smooth maps: a softmax over sums of broad Gaussian bumps.
    let mut fields = vec![vec![0.0f64; p]; k];
    for field in fields.iter_mut() {
        for _ in 0..4 {
            let (cy, cx) = (
                rng.random::<f64>() * hh as f64,
                rng.random::<f64>() * ww as f64,
            );
            let s = 0.15 * (hh.max(ww) as f64) * (1.0 + rng.random::<f64>());
            let amp = 2.0 + 2.0 * rng.random::<f64>();
            for y in 0..hh {
                for x in 0..ww {
                    let d2 = (y as f64 - cy).powi(2) + (x as f64 - cx).powi(2);
                    field[y * ww + x] += amp * (-0.5 * d2 / (s * s)).exp();
                }
            }
        }
    }
    let mut maps = vec![vec![0.0f64; p]; k];
    for j in 0..p {
        let mx = (0..k).map(|t| fields[t][j]).fold(f64::MIN, f64::max);
        let e: Vec<f64> = (0..k).map(|t| (fields[t][j] - mx).exp()).collect();
        let s: f64 = e.iter().sum();
        for t in 0..k {
            maps[t][j] = e[t] / s;
        }
    }
    let x = Mat::from_fn(n, p, |c, j| {
        let mean: f64 = (0..k).map(|t| gw[c][t] * maps[t][j]).sum();
        if o.counts_per_pixel > 0.0 {
            T::from_f64(poisson(&mut rng, o.counts_per_pixel * mean))
        } else {
            T::from_f64(mean)
        }
    });
    SpectrumImage {
        x,
        g: Mat::from_fn(n, m, |c, q| T::from_f64(g[c][q])),
        w: Mat::from_fn(m, k, |q, t| T::from_f64(w[q][t])),
        spectra: Mat::from_fn(n, k, |c, t| T::from_f64(gw[c][t])),
        maps: Mat::from_fn(k, p, |t, j| T::from_f64(maps[t][j])),
        image_shape: (hh, ww),
    }
}

/// A Poisson(λ) draw: Knuth's product method for small λ, Hörmann's PTRS
/// (transformed rejection with squeeze) otherwise.
pub(crate) fn poisson(rng: &mut crate::rng::Rng, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    if lambda < 10.0 {
        let l = (-lambda).exp();
        let mut k = 0.0;
        let mut prod = rng.random::<f64>();
        while prod > l {
            k += 1.0;
            prod *= rng.random::<f64>();
        }
        return k;
    }
    let slam = lambda.sqrt();
    let loglam = lambda.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = rng.random::<f64>() - 0.5;
        let v = rng.random::<f64>();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        if (v * inv_alpha / (a / (us * us) + b)).ln() <= -lambda + k * loglam - ln_gamma(k + 1.0) {
            return k;
        }
    }
}

/// ln Γ(x) for x ≥ 1 (Stirling series with a shift; error < 1e-12).
fn ln_gamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 7.0 {
        acc -= x.ln();
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    acc + (x - 0.5) * x.ln() - x
        + 0.5 * (2.0 * std::f64::consts::PI).ln()
        + (1.0 / 12.0 - z * (1.0 / 360.0 - z * (1.0 / 1260.0 - z / 1680.0))) / x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swimmer_is_exactly_w_times_h_with_17_binary_parts() {
        let s = swimmer::<f64>();
        assert_eq!((s.x.nrows, s.x.ncols, s.h.nrows), (256, 1024, 17));
        let wh = inverse_transform(&s.w, &s.h);
        assert_eq!(wh, s.x, "parts must not overlap");
        // All 256 images differ.
        let mut rows: Vec<Vec<u8>> = (0..256)
            .map(|i| (0..1024).map(|p| s.x.get(i, p) as u8).collect())
            .collect();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), 256);
    }

    #[test]
    fn spectra_maps_sum_to_one_and_counts_match() {
        let o = SpectraOptions {
            height: 20,
            width: 15,
            counts_per_pixel: 500.0,
            ..Default::default()
        };
        let s = spectra::<f64>(&o);
        for j in 0..300 {
            let sum: f64 = (0..3).map(|t| s.maps.get(t, j)).sum();
            assert!((sum - 1.0).abs() < 1e-12);
        }
        for t in 0..3 {
            let sum: f64 = (0..200).map(|c| s.spectra.get(c, t)).sum();
            assert!((sum - 1.0).abs() < 1e-12);
        }
        let mean_counts = s.x.data.iter().sum::<f64>() / 300.0;
        assert!((mean_counts / 500.0 - 1.0).abs() < 0.01, "{mean_counts}");
        assert!(s.x.data.iter().all(|v| v.fract() == 0.0 && *v >= 0.0));
    }

    #[test]
    fn poisson_draws_have_the_right_mean_and_variance() {
        let mut rng = seeded(3);
        for lambda in [0.5, 4.0, 30.0, 1000.0] {
            let n = 100_000;
            let v: Vec<f64> = (0..n).map(|_| poisson(&mut rng, lambda)).collect();
            let mean = v.iter().sum::<f64>() / n as f64;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!(
                (mean - lambda).abs() < 5.0 * (lambda / n as f64).sqrt(),
                "λ={lambda}: mean {mean}"
            );
            assert!(
                (var / lambda - 1.0).abs() < 0.03,
                "λ={lambda}: variance {var}"
            );
        }
    }
}
