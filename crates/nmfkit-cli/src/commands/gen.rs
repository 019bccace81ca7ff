//! `nmfkit gen`: writes the built-in data sets with their true factors.

use crate::datasets::{generate, sibling, Kind, Spec};
use crate::settings::parse_shape;
use clap::Args;
use nmfkit_io::formats::{write_matrix, Format, Matrix};
use nmfkit_io::Error;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    about = "Write a generated data set and its true factors",
    after_help = "Writes FILE and, beside it, FILE's stem with _W and _H (spectra: also _G, the dictionary).\n\nExamples:\n  nmfkit gen swimmer --out swimmer.npy\n  nmfkit gen lowrank --rows 1000 --cols 500 --rank 10 --noise 0.01 --out X.npy\n  nmfkit gen lowrank --sparse --density 0.01 --rows 20000 --cols 5000 --out S.npz\n  nmfkit gen spectra --image-shape 64x64 --counts 300 --out si.npy\n  nmfkit gen clusters --rows 300 --cols 120 --rank 4 --noise 0.1 --out C.npy"
)]
pub struct GenArgs {
    #[arg(value_enum)]
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

impl GenArgs {
    fn spec(&self) -> Result<Spec, Error> {
        Ok(Spec {
            kind: self.kind,
            seed: self.seed,
            rows: self.rows,
            cols: self.cols,
            rank: self.rank,
            noise: self.noise,
            sparse: self.sparse,
            density: self.density,
            counts: self.counts,
            image_shape: parse_shape(&self.image_shape)?,
            channels: self.channels,
            phases: self.phases,
        })
    }
}

pub fn run(a: GenArgs) -> Result<(), Error> {
    Format::of(&a.out)?;
    let g = generate(&a.spec()?)?;
    let nnz = g.x.nnz();
    write_matrix(&a.out, &g.x)?;
    // Real data (digits) has no true factors.
    if g.w.nrows > 0 {
        write_matrix(&sibling(&a.out, "W"), &Matrix::Dense(g.w))?;
        write_matrix(&sibling(&a.out, "H"), &Matrix::Dense(g.h))?;
    }
    for (name, m) in g.extra {
        write_matrix(&sibling(&a.out, name), &Matrix::Dense(m))?;
    }
    let (n, m) = g.x.shape();
    if a.json {
        crate::print_line(
            &serde_json::json!({"command": "gen", "kind": format!("{:?}", a.kind).to_lowercase(), "out": a.out, "shape": [n, m], "nnz": nnz})
                .to_string(),
        );
    } else if !a.quiet {
        nmfkit_io::note!(
            "wrote {} ({n}×{m}, {} stored entries) and its true factors",
            a.out.display(),
            g.x.nnz()
        );
    }
    Ok(())
}
