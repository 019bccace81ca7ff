//! Fitting a model and writing its folder: what `nmfkit fit` and `nmfkit
//! demo` share. The standard model (plain or weighted data) is here, the
//! smooth model in `smooth.rs`; both hand back the factors and the typed
//! report, and [`write()`] puts them into a staged folder.

pub mod minibatch;
mod smooth;

use crate::flags::DataFlags;
use crate::flags::{MaskFlags, SmoothFlags};
use nmfkit::{FitOptions, Mat, NmfError};
use nmfkit_io::flags::{BalanceFlag, ModelFlags, SolverFlag, StartFlags, Switch};
use nmfkit_io::folder::Staged;
use nmfkit_io::formats::{read_named, Format, Layout, Matrix};
use nmfkit_io::model::{write_factors, write_report, Factors};
use nmfkit_io::names::{read_name_file, Names};
use nmfkit_io::progress::Reporter;
use nmfkit_io::report::{self, FitReport, FitResult, InputInfo, MaskInfo, Params};
use nmfkit_io::settings::StopDefaults;
use nmfkit_io::top::top_components;
use nmfkit_io::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How many top features and samples per component `report.json` lists.
pub const TOP_IN_REPORT: usize = 10;

/// Everything one fit needs, parsed.
pub struct FitJob<'a> {
    pub command: &'static str,
    pub x: &'a Matrix,
    /// The data's row and column names (carried into the folder).
    pub names: &'a Names,
    pub input: InputInfo,
    pub input_path: &'a Path,
    pub read_s: f64,
    pub rank: usize,
    pub model: &'a ModelFlags,
    pub start: &'a StartFlags,
    pub mask: &'a MaskFlags,
    pub smooth: &'a SmoothFlags,
    pub transpose: bool,
    pub format: Format,
    pub quiet: bool,
}

/// A fitted model: its factors and report.
pub struct Fitted {
    /// n×k (smooth model with a dictionary: m×k, the weights on G).
    pub w: Mat<f64>,
    pub h: Mat<f64>,
    /// The smooth model with a dictionary: the spectra G·W.
    pub gw: Option<Mat<f64>>,
    pub report: FitReport,
    pub fit_time_s: f64,
    pub names: Names,
}

/// The data as read: the matrix (transposed if asked), its names, what the
/// report says of it, and the seconds reading took.
pub struct Input {
    pub x: Matrix,
    pub names: Names,
    pub info: InputInfo,
    pub read_s: f64,
}

/// Reads the input (optionally transposed) with its names and describes it
/// for the report.
pub fn read_input(data: &DataFlags) -> Result<Input, Error> {
    let t = Instant::now();
    let path = data.input.as_path();
    let layout = Layout {
        header: data.names.header,
        index: data.names.index_col,
    };
    let (mut x, mut names) = read_named(path, layout)?;
    let (n, m) = x.shape();
    names.check(n, m, path)?;
    if let Some(p) = &data.names.row_names {
        names.rows = Some(read_name_file(p)?);
        names.check(n, m, p)?;
    }
    if let Some(p) = &data.names.col_names {
        names.cols = Some(read_name_file(p)?);
        names.check(n, m, p)?;
    }
    let transpose = data.transpose;
    if transpose {
        x = x.transpose();
        names = names.transposed();
    }
    let (n, m) = x.shape();
    let info = InputInfo {
        path: canonical(path),
        shape: [n, m],
        nnz: x.nnz(),
        sparse: x.is_sparse(),
        transposed: transpose,
    };
    Ok(Input {
        x,
        names,
        info,
        read_s: t.elapsed().as_secs_f64(),
    })
}

pub fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Fits the model the job asks for.
pub fn fit(job: &FitJob<'_>) -> Result<Fitted, Error> {
    let (n, m) = job.x.shape();
    let warnings: Vec<String> = report::rank_warning(job.rank, n, m).into_iter().collect();
    if !job.quiet {
        for w in &warnings {
            nmfkit_io::note!("nmfkit: warning: {w}");
        }
    }
    let mut fitted = if job.smooth.is_smooth()? {
        smooth::fit(job)?
    } else {
        fit_standard(job)?
    };
    fitted.report.warnings = warnings;
    fitted.report.top = top_components(fitted.basis(), &fitted.h, &fitted.names, TOP_IN_REPORT);
    Ok(fitted)
}

fn fit_standard(job: &FitJob<'_>) -> Result<Fitted, Error> {
    let t0 = Instant::now();
    let start = job.start.resolve()?;
    let est = job
        .model
        .estimator(job.rank, StopDefaults::FIT)?
        .init(start.init);
    let mut reporter = Reporter::new(job.quiet, est.max_iter);
    let mut cb = |p: &nmfkit::Progress| reporter.update(p);
    let opts = FitOptions {
        w0: start.custom.as_ref().map(|c| &c.0),
        h0: start.custom.as_ref().map(|c| &c.1),
        progress: Some(&mut cb),
        ..Default::default()
    };
    let weighted = if job.mask.active() {
        Some(job.mask.weighted(job.x, job.input_path, job.transpose)?)
    } else {
        None
    };
    let fitted = match &weighted {
        Some(wd) => est.fit_weighted(wd, opts),
        None => est.fit_with(job.x.input(), opts),
    };
    let fit = fitted.map_err(|e| {
        let ctx = match &e {
            NmfError::Shape { what: "H", .. }
            | NmfError::Negative { what: "H", .. }
            | NmfError::NonFinite { what: "H", .. }
            | NmfError::AllZero { what: "H" } => job.start.h0.as_deref(),
            NmfError::Shape { what: "W", .. }
            | NmfError::Negative { what: "W", .. }
            | NmfError::NonFinite { what: "W", .. }
            | NmfError::AllZero { what: "W" } => job.start.w0.as_deref(),
            _ => Some(job.mask.context(&e, job.input_path)),
        };
        Error::nmf(ctx, e)
    })?;
    reporter.finish();
    let fit_s = t0.elapsed().as_secs_f64();
    let rel = match &weighted {
        Some(wd) => wd.relative_error(&fit.w, &fit.h)?,
        None => nmfkit::relative_error(job.x.input(), &fit.w, &fit.h),
    };
    let mut report = FitReport::new(
        job.command,
        job.input.clone(),
        Params::of(&est),
        FitResult::of(&fit, Some(rel)),
    );
    report.factor_format = job.format.extension().into();
    report.history = report::history(&fit.history, &fit.penalty_names);
    report.timings.read_s = job.read_s;
    report.timings.init_s = fit.init_time.as_secs_f64();
    report.timings.fit_s = fit.fit_time.as_secs_f64();
    report.timings.total_fit_s = fit_s;
    if let Some(wd) = &weighted {
        report.mask = Some(MaskInfo {
            path: job.mask.mask.as_deref().map(canonical),
            missing_entries_path: job.mask.missing_entries.as_deref().map(canonical),
            missing: job.mask.missing.map(|m| format!("{m:?}").to_lowercase()),
            missing_entries: wd.missing_count(),
            unlisted_weight: wd.sparse_weights().map(|w| w.others),
        });
    }
    Ok(Fitted {
        w: fit.w,
        h: fit.h,
        gw: None,
        report,
        fit_time_s: fit.fit_time.as_secs_f64(),
        names: job.names.clone(),
    })
}

/// Writes the factors and the report into a staged folder.
pub fn write(staged: &mut Staged, fitted: &mut Fitted, format: Format) -> Result<(), Error> {
    let t = Instant::now();
    let factors = Factors {
        w: &fitted.w,
        h: &fitted.h,
        gw: fitted.gw.as_ref(),
        names: &fitted.names,
    };
    write_factors(staged, format, &factors)?;
    fitted.report.timings.write_s = t.elapsed().as_secs_f64();
    write_report(staged, &fitted.report)
}

/// The factor that multiplies H to give X: the spectra for the smooth
/// model with a dictionary, W otherwise.
impl Fitted {
    pub fn basis(&self) -> &Mat<f64> {
        self.gw.as_ref().unwrap_or(&self.w)
    }
}

/// Checks that new rows have the model's columns (and, when both have
/// names, the same names in the same order).
pub fn same_columns(
    x: &Matrix,
    names: &Names,
    model: &nmfkit_io::model::Model,
    path: &Path,
) -> Result<(), Error> {
    let m = x.shape().1;
    if m != model.h.ncols {
        return Err(Error::input(
            path,
            format!(
                "has {m} columns but the model was fitted on {} columns",
                model.h.ncols
            ),
        ));
    }
    if let (Some(a), Some(b)) = (&names.cols, &model.names.cols) {
        if let Some(j) = (0..m).find(|&j| a[j] != b[j]) {
            return Err(Error::input(
                path,
                format!(
                    "column {} is '{}' but the model's column {} is '{}': put the columns in the model's order",
                    j + 1,
                    a[j],
                    j + 1,
                    b[j]
                ),
            ));
        }
    }
    Ok(())
}

/// The model options of a demo: the defaults but for these.
pub fn model_flags(
    seed: u64,
    loss: Option<&str>,
    solver: SolverFlag,
    max_iter: usize,
    tol: f64,
) -> ModelFlags {
    ModelFlags {
        loss: loss.map(String::from),
        solver,
        seed,
        max_iter: Some(max_iter),
        tol: Some(tol),
        time_limit: None,
        eval_every: None,
        factor_tol: None,
        alpha_w: 0.0,
        alpha_h: None,
        l1_ratio: 0.0,
        threads: 0,
        extrapolate: Switch::Auto,
        balance: BalanceFlag::Auto,
        diagnostics: false,
    }
}
