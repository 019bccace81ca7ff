//! The built-in data sets with their true factors (`nmfkit gen`, `nmfkit demo`).

use clap::ValueEnum;
use nmfkit::{synth, Mat};
use nmfkit_io::formats::Matrix;
use nmfkit_io::Error;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// 256 stick figures of 32×32 pixels, 17 parts (x = w·h exactly).
    Swimmer,
    /// A spectrum image: channels × pixels, Poisson counts.
    Spectra,
    /// W₀H₀ plus optional noise, dense or sparse.
    Lowrank,
    /// Rows in --rank equally separated clusters (for `nmfkit rank`).
    Clusters,
    /// The UCI handwritten digits (1797 images of 8×8, built in; real data,
    /// so no true factors: `gen` writes the digits as `_labels`).
    Digits,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: Kind,
    pub seed: u64,
    pub rows: usize,
    pub cols: usize,
    pub rank: usize,
    pub noise: f64,
    pub sparse: bool,
    pub density: f64,
    pub counts: f64,
    pub image_shape: (usize, usize),
    pub channels: usize,
    pub phases: usize,
}

/// A generated data set: the data, true W and H, and extra named matrices.
pub struct Generated {
    pub x: Matrix,
    pub w: Mat<f64>,
    pub h: Mat<f64>,
    pub extra: Vec<(&'static str, Mat<f64>)>,
    pub image_shape: Option<(usize, usize)>,
}

pub fn generate(a: &Spec) -> Result<Generated, Error> {
    let positive = |v: usize, name: &str| {
        if v == 0 {
            Err(Error::usage(format!("--{name} must be at least 1")))
        } else {
            Ok(())
        }
    };
    Ok(match a.kind {
        Kind::Digits => {
            let (x, labels) = crate::digits::digits();
            let labels = Mat::from_fn(labels.len(), 1, |i, _| labels[i] as f64);
            Generated {
                x: Matrix::Dense(x),
                w: Mat::zeros(0, 0),
                h: Mat::zeros(0, 0),
                extra: vec![("labels", labels)],
                image_shape: Some((8, 8)),
            }
        }
        Kind::Swimmer => {
            let s = synth::swimmer::<f64>();
            Generated {
                x: Matrix::Dense(s.x),
                w: s.w,
                h: s.h,
                extra: vec![],
                image_shape: Some((32, 32)),
            }
        }
        Kind::Spectra => {
            let (hh, ww) = a.image_shape;
            positive(a.channels, "channels")?;
            positive(a.phases, "phases")?;
            if !(a.counts >= 0.0) {
                return Err(Error::usage("--counts must be >= 0"));
            }
            let o = synth::SpectraOptions {
                channels: a.channels,
                phases: a.phases,
                height: hh,
                width: ww,
                counts_per_pixel: a.counts,
                seed: a.seed,
                ..Default::default()
            };
            let s = synth::spectra::<f64>(&o);
            Generated {
                x: Matrix::Dense(s.x),
                w: s.spectra,
                h: s.maps,
                extra: vec![("G", s.g), ("Wg", s.w)],
                image_shape: Some((hh, ww)),
            }
        }
        Kind::Clusters => {
            positive(a.rows, "rows")?;
            positive(a.cols, "cols")?;
            positive(a.rank, "rank")?;
            if !(a.noise >= 0.0) {
                return Err(Error::usage("--noise must be >= 0"));
            }
            let p = synth::clustered::<f64>(a.rows, a.cols, a.rank, a.noise, a.seed);
            Generated {
                x: Matrix::Dense(p.x),
                w: p.w,
                h: p.h,
                extra: vec![],
                image_shape: None,
            }
        }
        Kind::Lowrank => {
            positive(a.rows, "rows")?;
            positive(a.cols, "cols")?;
            positive(a.rank, "rank")?;
            if a.sparse {
                if !(a.density > 0.0 && a.density <= 1.0) {
                    return Err(Error::usage("--density must be in (0, 1]"));
                }
                let p = synth::sparse_low_rank::<f64>(a.rows, a.cols, a.rank, a.density, a.seed);
                Generated {
                    x: Matrix::Sparse(p.x),
                    w: p.w,
                    h: p.h,
                    extra: vec![],
                    image_shape: None,
                }
            } else {
                if !(a.noise >= 0.0) {
                    return Err(Error::usage("--noise must be >= 0"));
                }
                let p = synth::low_rank::<f64>(a.rows, a.cols, a.rank, a.noise, a.seed);
                Generated {
                    x: Matrix::Dense(p.x),
                    w: p.w,
                    h: p.h,
                    extra: vec![],
                    image_shape: None,
                }
            }
        }
    })
}

/// `dir/stem_name.npy` beside the data file.
pub fn sibling(path: &Path, name: &str) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("data");
    path.with_file_name(format!("{stem}_{name}.npy"))
}
