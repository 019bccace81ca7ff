//! `nmfkit gen`: writes the built-in data sets with their true factors.

use crate::error::CliError;
use crate::io::{self, Matrix};
use clap::{Args, ValueEnum};
use nmfkit::synth;
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
}

#[derive(Args, Debug)]
#[command(
    about = "Write a generated data set and its true factors",
    after_help = "Writes FILE and, beside it, FILE's stem with _W and _H (spectra: also _G, the dictionary).\n\nExamples:\n  nmfkit gen swimmer --out swimmer.npy\n  nmfkit gen lowrank --rows 1000 --cols 500 --rank 10 --noise 0.01 --out X.npy\n  nmfkit gen lowrank --sparse --density 0.01 --rows 20000 --cols 5000 --out S.npz\n  nmfkit gen spectra --image-shape 64x64 --counts 300 --out si.npy\n  nmfkit gen clusters --rows 300 --cols 120 --rank 4 --noise 0.1 --out C.npy"
)]
pub struct GenArgs {
    pub kind: Kind,
    /// Data file (.npy, .npz, .csv, .tsv, .mtx).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 500)]
    pub rows: usize,
    #[arg(long, default_value_t = 300)]
    pub cols: usize,
    #[arg(long, default_value_t = 8)]
    pub rank: usize,
    /// Standard deviation of the |normal| noise added (lowrank, clusters).
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Store sparse, keeping this share of the entries (lowrank).
    #[arg(long)]
    pub sparse: bool,
    #[arg(long, default_value_t = 0.01)]
    pub density: f64,
    /// Expected counts per pixel (spectra; 0 = noise-free).
    #[arg(long, default_value_t = 300.0)]
    pub counts: f64,
    /// Pixel grid of the spectrum image (spectra).
    #[arg(long, default_value = "64x64")]
    pub image_shape: String,
    /// Number of channels (spectra).
    #[arg(long, default_value_t = 200)]
    pub channels: usize,
    /// Number of phases (spectra).
    #[arg(long, default_value_t = 3)]
    pub phases: usize,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print a JSON summary to stdout.
    #[arg(long)]
    pub json: bool,
}

/// A generated data set: the data, true W and H, and extra named matrices.
pub struct Generated {
    pub x: Matrix,
    pub w: nmfkit::Mat<f64>,
    pub h: nmfkit::Mat<f64>,
    pub extra: Vec<(&'static str, nmfkit::Mat<f64>)>,
    pub image_shape: Option<(usize, usize)>,
}

pub fn generate(a: &GenArgs) -> Result<Generated, CliError> {
    let positive = |v: usize, name: &str| {
        if v == 0 {
            Err(CliError::usage(format!("--{name} must be at least 1")))
        } else {
            Ok(())
        }
    };
    Ok(match a.kind {
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
            let (hh, ww) = super::parse_shape(&a.image_shape)?;
            positive(a.channels, "channels")?;
            positive(a.phases, "phases")?;
            if !(a.counts >= 0.0) {
                return Err(CliError::usage("--counts must be >= 0"));
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
                return Err(CliError::usage("--noise must be >= 0"));
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
                    return Err(CliError::usage("--density must be in (0, 1]"));
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
                    return Err(CliError::usage("--noise must be >= 0"));
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

pub fn run(a: GenArgs) -> Result<(), CliError> {
    io::Format::of(&a.out)?;
    let g = generate(&a)?;
    let nnz = g.x.nnz();
    io::write_matrix(&a.out, &g.x)?;
    io::write_matrix(&sibling(&a.out, "W"), &Matrix::Dense(g.w))?;
    io::write_matrix(&sibling(&a.out, "H"), &Matrix::Dense(g.h))?;
    for (name, m) in g.extra {
        io::write_matrix(&sibling(&a.out, name), &Matrix::Dense(m))?;
    }
    let (n, m) = g.x.shape();
    if a.json {
        println!(
            "{}",
            serde_json::json!({"command": "gen", "kind": format!("{:?}", a.kind).to_lowercase(), "out": a.out, "shape": [n, m], "nnz": nnz})
        );
    } else if !a.quiet {
        eprintln!(
            "wrote {} ({n}×{m}, {} stored entries) and its true factors",
            a.out.display(),
            g.x.nnz()
        );
    }
    Ok(())
}
