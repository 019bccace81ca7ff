//! `nmfkit plot`: convergence.png, components.png, reconstruction.png.

use crate::error::CliError;
use crate::io;
use crate::model_dir;
use crate::plot;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(
    about = "Draw convergence.png, components.png and reconstruction.png into a model folder",
    after_help = "Examples:\n  nmfkit plot model\n  nmfkit plot swimmer_model --image-shape 32x32\n\nreconstruction.png needs the data: --input, or the path recorded in report.json."
)]
pub struct PlotArgs {
    /// Folder written by `nmfkit fit`.
    pub dir: PathBuf,
    /// Draw each row of H as an image of this shape (e.g. 32x32).
    #[arg(long)]
    pub image_shape: Option<String>,
    /// The data matrix (default: the one recorded in report.json).
    #[arg(long)]
    pub input: Option<PathBuf>,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print a JSON summary to stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: PlotArgs) -> Result<(), CliError> {
    let shape = a
        .image_shape
        .as_deref()
        .map(super::parse_shape)
        .transpose()?;
    let written = draw_all(&a.dir, shape, a.input.as_deref())?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"command": "plot", "written": written})
        );
    } else if !a.quiet {
        for w in written {
            eprintln!("wrote {}", w.display());
        }
    }
    Ok(())
}

/// Draws the three plots; returns the files written.
pub fn draw_all(
    dir: &Path,
    image: Option<(usize, usize)>,
    input: Option<&Path>,
) -> Result<Vec<PathBuf>, CliError> {
    let model = model_dir::read(dir)?;
    let mut written = Vec::new();
    let hist: Vec<(f64, f64, f64)> = model.report["history"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|e| {
                    Some((
                        e["iter"].as_f64()?,
                        e["time_s"].as_f64()?,
                        e["loss"].as_f64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let p = dir.join("convergence.png");
    plot::convergence(&p, &hist)?;
    written.push(p);
    let image = image.or_else(|| {
        let s = model.report["image_shape"].as_array()?;
        Some((s.first()?.as_u64()? as usize, s.get(1)?.as_u64()? as usize))
    });
    let p = dir.join("components.png");
    plot::components(&p, &model.w, &model.h, image)?;
    written.push(p);
    let recorded = model.report["input"]["path"].as_str().map(PathBuf::from);
    let transposed = model.report["input"]["transposed"]
        .as_bool()
        .unwrap_or(false);
    match input.map(Path::to_path_buf).or(recorded) {
        Some(path) if path.exists() => {
            let mut x = io::read_matrix(&path)?;
            if transposed && input.is_none() {
                x = x.transpose();
            }
            if x.shape() != (model.w.nrows, model.h.ncols) {
                return Err(CliError::input(&path, format!("is {}×{} but the model is {}×{}", x.shape().0, x.shape().1, model.w.nrows, model.h.ncols)));
            }
            let p = dir.join("reconstruction.png");
            plot::reconstruction(&p, &x, &model.w, &model.h)?;
            written.push(p);
        }
        _ => eprintln!("nmfkit: note: the data file is not available; reconstruction.png skipped (give --input)"),
    }
    Ok(written)
}
