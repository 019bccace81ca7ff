//! A fitted model on disk: `W.<ext>`, `H.<ext>` and `report.json` in one
//! folder. Files are staged in a hidden folder and renamed into place only
//! when all of them are written, so a failed run leaves nothing behind.

use crate::error::CliError;
use crate::io::{self, Format, Matrix};
use nmfkit::Mat;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Files to write into the output folder, all or nothing.
pub struct Staged {
    dir: PathBuf,
    stage: PathBuf,
    names: Vec<String>,
}

impl Staged {
    pub fn new(dir: &Path) -> Result<Staged, CliError> {
        std::fs::create_dir_all(dir).map_err(|e| CliError::output(dir, io::describe_io(&e)))?;
        let stage = dir.join(format!(".nmfkit-partial-{}", std::process::id()));
        std::fs::create_dir_all(&stage)
            .map_err(|e| CliError::output(&stage, io::describe_io(&e)))?;
        Ok(Staged {
            dir: dir.to_path_buf(),
            stage,
            names: Vec::new(),
        })
    }

    pub fn matrix(&mut self, name: &str, m: &Matrix) -> Result<(), CliError> {
        io::write_matrix(&self.stage.join(name), m)?;
        self.names.push(name.to_string());
        Ok(())
    }

    pub fn json(&mut self, name: &str, v: &Value) -> Result<(), CliError> {
        let text =
            serde_json::to_string_pretty(v).map_err(|e| CliError::Internal(e.to_string()))?;
        io::atomic_write(&self.stage.join(name), |p| {
            std::fs::write(p, text.as_bytes())
        })?;
        self.names.push(name.to_string());
        Ok(())
    }

    /// A file written by `write` (given its staged path), e.g. a plot.
    pub fn file(
        &mut self,
        name: &str,
        write: impl FnOnce(&Path) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        write(&self.stage.join(name))?;
        self.names.push(name.to_string());
        Ok(())
    }

    /// Moves every staged file into the folder.
    pub fn commit(mut self) -> Result<(), CliError> {
        for name in std::mem::take(&mut self.names) {
            let to = self.dir.join(&name);
            std::fs::rename(self.stage.join(&name), &to)
                .map_err(|e| CliError::output(&to, io::describe_io(&e)))?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.stage);
    }
}

/// A model read back: W (n×k), H (k×m) and the report. For the smooth
/// model with a dictionary, `w` is the spectra GW (what multiplies H to
/// give X) and `dictionary_weights` its W on G.
pub struct Model {
    pub w: Mat<f64>,
    pub dictionary_weights: Option<Mat<f64>>,
    pub h: Mat<f64>,
    pub report: Value,
}

/// Finds `stem.<ext>` in `dir` for any known extension.
pub fn find(dir: &Path, stem: &str) -> Result<PathBuf, CliError> {
    for f in [
        Format::Npy,
        Format::Npz,
        Format::Csv,
        Format::Tsv,
        Format::Mtx,
    ] {
        let p = dir.join(format!("{stem}.{}", f.extension()));
        if p.exists() {
            return Ok(p);
        }
    }
    Err(CliError::input(
        dir,
        format!("no {stem}.npy (or .npz/.csv/.tsv/.mtx) in the model folder"),
    ))
}

pub fn read(dir: &Path) -> Result<Model, CliError> {
    if !dir.is_dir() {
        return Err(CliError::input(
            dir,
            "not a model folder (run `nmfkit fit … --out DIR` first)",
        ));
    }
    let mut w = io::read_dense(&find(dir, "W")?)?;
    let mut dictionary_weights = None;
    if let Ok(gw) = find(dir, "GW") {
        dictionary_weights = Some(std::mem::replace(&mut w, io::read_dense(&gw)?));
    }
    let h = io::read_dense(&find(dir, "H")?)?;
    let rp = dir.join("report.json");
    let report = std::fs::read_to_string(&rp)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| CliError::input(&rp, "missing or unreadable report.json"))?;
    if w.ncols != h.nrows {
        return Err(CliError::input(
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
