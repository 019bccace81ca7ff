//! The model folder, written and read by one schema: the factors `W`, `H`
//! (and `GW`, the spectra, for the smooth model with a dictionary) in the
//! chosen format, `report.json` ([`FitReport`]), and the data's names when
//! known (`row_names.txt`, `column_names.txt`; CSV/TSV factor files also
//! carry them as header and index: `W.csv` rows × component_1…k, `H.csv`
//! component_1…k × columns).

use crate::error::Error;
use crate::folder::Staged;
use crate::formats::{self, Format, Matrix};
use crate::names::{component_names, name_file_text, Names, COLUMN_NAMES, ROW_NAMES};
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
    /// The data's row and column names.
    pub names: &'a Names,
}

/// Writes the factors into a staged folder (the report goes last, with
/// [`write_report`], once its timings are known).
pub fn write_factors(staged: &mut Staged, format: Format, f: &Factors<'_>) -> Result<(), Error> {
    let ext = format.extension();
    let k = f.h.nrows;
    let comps = Some(component_names(k));
    let samples = Names {
        rows: f.names.rows.clone(),
        cols: comps.clone(),
    };
    // With a dictionary W's rows are G's columns, which have no names.
    let w_names = if f.gw.is_some() {
        Names {
            rows: None,
            cols: comps.clone(),
        }
    } else {
        samples.clone()
    };
    let write = |name: &str, m: &Mat<f64>, names: &Names| {
        formats::write_named(
            &staged.path(&format!("{name}.{ext}")),
            &Matrix::Dense(m.clone()),
            names,
        )
    };
    write(W, f.w, &w_names)?;
    let h_cols = f
        .names
        .cols
        .clone()
        .unwrap_or_else(|| (0..f.h.ncols).map(|j| j.to_string()).collect());
    let h_names = Names {
        rows: comps,
        cols: Some(h_cols),
    };
    write(H, f.h, &h_names)?;
    if let Some(gw) = f.gw {
        write(GW, gw, &samples)?;
    }
    for (names, file) in [(&f.names.rows, ROW_NAMES), (&f.names.cols, COLUMN_NAMES)] {
        if let Some(v) = names {
            let p = staged.path(file);
            formats::atomic_write(&p, |t| std::fs::write(t, name_file_text(v)))?;
        }
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
    /// The names of the data's rows and columns, when the fit knew them.
    pub names: Names,
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
        let names = Names::read_folder(dir)?;
        names.check(w.nrows, h.ncols, dir)?;
        Ok(Model {
            w,
            dictionary_weights,
            h,
            report,
            names,
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
