//! `--model smooth`: the regularized Poisson model with a known dictionary
//! (ESPM's SmoothNMF), for spectrum images.

use super::{FitJob, Fitted};
use nmfkit::smooth::{SmoothOptions, Truth};
use nmfkit::NmfError;
use nmfkit_io::formats::{read_dense, Matrix};
use nmfkit_io::progress::Reporter;
use nmfkit_io::report::{self, FitReport, FitResult, Params};
use nmfkit_io::Error;
use std::time::Instant;

pub(super) fn fit(job: &FitJob<'_>) -> Result<Fitted, Error> {
    let t0 = Instant::now();
    let s = job.smooth;
    if job.mask.active() {
        return Err(Error::usage(
            "the smooth model does not take --mask/--missing yet",
        ));
    }
    let start = job.start.resolve()?;
    let est = s.estimator(job.rank, job.model, start.init)?;
    let Matrix::Dense(xd) = job.x else {
        return Err(Error::input(
            job.input_path,
            "the smooth model needs dense data (spectrum images are stored dense): save X as .npy or .csv",
        ));
    };
    let g = s.dictionary.as_deref().map(read_dense).transpose()?;
    let fixed_w = s.fixed_w.as_deref().map(read_dense).transpose()?;
    let fixed_h = s.fixed_h.as_deref().map(read_dense).transpose()?;
    let truth_d = s.truth_d.as_deref().map(read_dense).transpose()?;
    let truth_h = s.truth_h.as_deref().map(read_dense).transpose()?;
    let mut reporter = Reporter::new(job.quiet, est.max_iter);
    let mut cb = |p: &nmfkit::Progress| reporter.update(p);
    let opts = SmoothOptions {
        w0: start.custom.as_ref().map(|c| &c.0),
        h0: start.custom.as_ref().map(|c| &c.1),
        fixed_w: fixed_w.as_ref(),
        fixed_h: fixed_h.as_ref(),
        truth: Truth {
            spectra: truth_d.as_ref(),
            maps: truth_h.as_ref(),
        },
        progress: Some(&mut cb),
        ..Default::default()
    };
    let fit = est
        .fit_with(xd.as_ref(), g.as_ref().map(|g| g.as_ref()), opts)
        .map_err(|e| {
            let ctx = match &e {
                NmfError::Shape { what: "G", .. }
                | NmfError::Negative { what: "G", .. }
                | NmfError::NonFinite { what: "G", .. }
                | NmfError::InvalidParameter {
                    name: "dictionary", ..
                } => s.dictionary.as_deref(),
                NmfError::Shape { what: "H", .. } | NmfError::AllZero { what: "H" } => {
                    job.start.h0.as_deref()
                }
                NmfError::Shape { what: "W", .. } | NmfError::AllZero { what: "W" } => {
                    job.start.w0.as_deref()
                }
                NmfError::InvalidParameter {
                    name: "fixed_W", ..
                } => s.fixed_w.as_deref(),
                NmfError::InvalidParameter {
                    name: "fixed_H", ..
                } => s.fixed_h.as_deref(),
                NmfError::InvalidParameter { name: "true_D", .. } => s.truth_d.as_deref(),
                NmfError::InvalidParameter { name: "true_H", .. } => s.truth_h.as_deref(),
                NmfError::InvalidParameter { .. } => None,
                _ => Some(job.input_path),
            };
            Error::nmf(ctx, e)
        })?;
    reporter.finish();
    let rel = nmfkit::relative_error(job.x.input(), &fit.gw, &fit.h);
    let dictionary = s.dictionary.as_deref().map(super::canonical);
    let mut report = FitReport::new(
        job.command,
        job.input.clone(),
        Params::of_smooth(&est, dictionary),
        FitResult::of_smooth(&fit, rel),
    );
    report.factor_format = job.format.extension().into();
    report.image_shape = est.image_shape.map(|(h, w)| [h, w]);
    report.history = report::history_tracked(&fit.history, &fit.penalty_names, &fit.tracked_names);
    report.timings.read_s = job.read_s;
    report.timings.fit_s = fit.fit_time.as_secs_f64();
    report.timings.total_fit_s = t0.elapsed().as_secs_f64();
    let gw = g.is_some().then(|| fit.gw.clone());
    Ok(Fitted {
        w: fit.w,
        h: fit.h,
        gw,
        report,
        fit_time_s: fit.fit_time.as_secs_f64(),
        names: job.names.clone(),
    })
}
