//! `nmfkit plot`: convergence.png, components.png, reconstruction.png.

use crate::plot::{draw_model, ModelView};
use crate::settings::parse_shape;
use clap::Args;
use nmfkit_io::formats::read_matrix;
use nmfkit_io::model::Model;
use nmfkit_io::Error;
use std::path::PathBuf;

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

pub fn run(a: PlotArgs) -> Result<(), Error> {
    let shape = a.image_shape.as_deref().map(parse_shape).transpose()?;
    let model = Model::read(&a.dir)?;
    let x = a.input.as_deref().map(read_matrix).transpose()?;
    let view = ModelView {
        report: &model.report,
        w: &model.w,
        h: &model.h,
        names: &model.names,
    };
    let written = draw_model(&a.dir, &view, shape, x.as_ref())?;
    let written: Vec<PathBuf> = written.iter().map(|w| a.dir.join(w)).collect();
    if a.json {
        crate::print_json(&serde_json::json!({"command": "plot", "written": written}));
    } else if !a.quiet {
        for w in written {
            nmfkit_io::note!("wrote {}", w.display());
        }
    }
    Ok(())
}
