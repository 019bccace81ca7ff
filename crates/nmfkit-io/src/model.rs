//! The model folder, written and read by one schema: the factors `W`, `H`
//! (and `GW`, the spectra, for the smooth model with a dictionary) in the
//! chosen format, and `report.json` ([`FitReport`]).

use crate::error::Error;
use crate::folder::Staged;
use crate::formats::{self, Format, Matrix};
use crate::report::FitReport;
use nmfkit::{Mat, Nmf};
use std::path::{Path, PathBuf};

pub const REPORT: &str = "report.json";
const W: &str = "W";
const H: &str = "H";
const GW: &str = "GW";

/// The factors of a fit, to be written.
pub struct Factors<'a> {
    /// n×k (the smooth model: m×k, the weights on the dictionary).
    pub w: &'a Mat<f64>,
    /// k×m.
    pub h: &'a Mat<f64>,
    /// The smooth model with a dictionary: G·W (n×k).
    pub gw: Option<&'a Mat<f64>>,
}

/// Writes the factors into a staged folder (the report goes last, with
/// [`write_report`], once its timings are known).
pub fn write_factors(staged: &mut Staged, format: Format, f: &Factors<'_>) -> Result<(), Error> {
    let ext = format.extension();
    staged.matrix(&format!("{W}.{ext}"), &Matrix::Dense(f.w.clone()))?;
    staged.matrix(&format!("{H}.{ext}"), &Matrix::Dense(f.h.clone()))?;
    if let Some(gw) = f.gw {
        staged.matrix(&format!("{GW}.{ext}"), &Matrix::Dense(gw.clone()))?;
    }
    Ok(())
}

pub fn write_report(staged: &mut Staged, report: &FitReport) -> Result<(), Error> {
    staged.json(REPORT, report)
}

/// A model read back. `w` is what multiplies H to give X: W, or for the
/// smooth model with a dictionary the spectra GW (its W on G is then
/// `dictionary_weights`).
pub struct Model {
    pub w: Mat<f64>,
    pub dictionary_weights: Option<Mat<f64>>,
    pub h: Mat<f64>,
    pub report: FitReport,
}

/// Finds `stem.<ext>` in `dir` for any known extension.
fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
    Format::ALL
        .iter()
        .map(|f| dir.join(format!("{stem}.{}", f.extension())))
        .find(|p| p.exists())
}

impl Model {
    pub fn read(dir: &Path) -> Result<Model, Error> {
        if !dir.is_dir() {
            return Err(Error::input(
                dir,
                "not a model folder (run `nmfkit fit … --out DIR` first)",
            ));
        }
        let need = |stem: &str| {
            find(dir, stem).ok_or_else(|| {
                Error::input(
                    dir,
                    format!("no {stem}.npy (or .npz/.csv/.tsv/.mtx) in the model folder"),
                )
            })
        };
        let mut w = formats::read_dense(&need(W)?)?;
        let mut dictionary_weights = None;
        if let Some(gw) = find(dir, GW) {
            dictionary_weights = Some(std::mem::replace(&mut w, formats::read_dense(&gw)?));
        }
        let h = formats::read_dense(&need(H)?)?;
        let rp = dir.join(REPORT);
        let text = std::fs::read_to_string(&rp)
            .map_err(|_| Error::input(&rp, "missing or unreadable report.json"))?;
        let report: FitReport = serde_json::from_str(&text)
            .map_err(|e| Error::input(&rp, format!("not a report this nmfkit reads ({e})")))?;
        if w.ncols != h.nrows {
            return Err(Error::input(
                dir,
                format!(
                    "W is {}×{} but H is {}×{}",
                    w.nrows, w.ncols, h.nrows, h.ncols
                ),
            ));
        }
        Ok(Model {
            w,
            dictionary_weights,
            h,
            report,
        })
    }

    /// The estimator the model was fitted with (the same defaults as the
    /// fit), for work with its components fixed.
    pub fn estimator(&self) -> Result<Nmf, Error> {
        let est = self
            .report
            .params
            .estimator()
            .map_err(|e| Error::input(Path::new(REPORT), e.to_string()))?;
        Ok(Nmf {
            rank: self.h.nrows,
            ..est
        })
    }

    /// The β of the model's loss.
    pub fn beta(&self) -> f64 {
        self.report.params.beta
    }
}
