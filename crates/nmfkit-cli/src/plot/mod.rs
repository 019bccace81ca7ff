//! PNG plots (plotters, embedded font): the shared style and numbers
//! (`style`), heat maps with colour bars (`heatmap`), line charts and the
//! model's maps (`charts`), consensus maps (`consensus`), the factors'
//! heat maps (`factors`), samples with their weights (`examples`), and the set drawn for a model folder (`nmfkit
//! plot`, `nmfkit demo`).

mod charts;
mod consensus;
mod diagnostics;
mod examples;
mod factors;
mod heatmap;
mod style;

pub use charts::*;
pub use consensus::{consensus, ConsensusMap, CONSENSUS_SIZE};
pub use diagnostics::{diagnostics, has_diagnostics, DIAGNOSTICS_SIZE};
pub use examples::{examples, EXAMPLES_WIDTH, EXAMPLE_ROW};
pub use factors::{basis, basis_features, coefficient_order, coefficients, BASIS_ROWS};

use nmfkit::Mat;
use nmfkit_io::formats::{read_matrix, Matrix};
use nmfkit_io::names::Names;
use nmfkit_io::report::FitReport;
use nmfkit_io::Error;
use std::path::{Path, PathBuf};

/// The data a model's plots draw.
pub struct ModelView<'a> {
    pub report: &'a FitReport,
    /// What multiplies H to give X (the spectra for the smooth model).
    pub w: &'a Mat<f64>,
    pub h: &'a Mat<f64>,
    /// The data's row and column names (numbers when unknown).
    pub names: &'a Names,
}

/// Draws convergence.png (diagnostics.png after --diagnostics), components.png, basis.png, coefficients.png and
/// (with the data) reconstruction.png into `dir`; returns the file names
/// written. `x` is the data, or None to
/// read the file the report records (or to skip the reconstruction).
pub fn draw_model(
    dir: &Path,
    m: &ModelView<'_>,
    image: Option<(usize, usize)>,
    x: Option<&Matrix>,
) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    let hist: Vec<(f64, f64, f64)> = m
        .report
        .history
        .iter()
        .map(|e| (e.iter as f64, e.time_s, e.objective))
        .collect();
    let p = dir.join("convergence.png");
    convergence(&p, &hist)?;
    written.push("convergence.png".into());
    if has_diagnostics(&m.report.history) {
        diagnostics(&dir.join("diagnostics.png"), &m.report.history)?;
        written.push("diagnostics.png".into());
    }
    let image = image.or(m.report.image_shape.map(|[h, w]| (h, w)));
    let p = dir.join("components.png");
    components(&p, m.h, image, m.names)?;
    written.push("components.png".into());
    basis(&dir.join("basis.png"), m.h, m.names)?;
    written.push("basis.png".into());
    coefficients(&dir.join("coefficients.png"), m.w, m.names)?;
    written.push("coefficients.png".into());
    let read;
    let x = match x {
        Some(x) => Some(x),
        None => {
            let path = &m.report.input.path;
            if path.exists() {
                let mut d = read_matrix(path)?;
                if m.report.input.transposed {
                    d = d.transpose();
                }
                read = d;
                Some(&read)
            } else {
                None
            }
        }
    };
    match x {
        Some(x) => {
            let want = (m.w.nrows, m.h.ncols);
            if x.shape() != want {
                return Err(Error::input(
                    &m.report.input.path,
                    format!(
                        "is {}×{} but the model is {}×{}",
                        x.shape().0,
                        x.shape().1,
                        want.0,
                        want.1
                    ),
                ));
            }
            let p = dir.join("reconstruction.png");
            reconstruction(&p, x, m.w, m.h)?;
            written.push("reconstruction.png".into());
        }
        None => nmfkit_io::note!("nmfkit: note: the data file is not available; reconstruction.png skipped (give --input)"),
    }
    Ok(written)
}
