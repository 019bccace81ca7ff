//! `nmfkit fit X --batch-size N`: minibatch (online) NMF. A .npy, .npz or
//! .mtx input is read from disk a batch at a time — memory O(batch + W +
//! H + statistics), never X whole (.npz and .mtx after one pass that
//! writes a row-ordered copy); CSV/TSV is read into memory and fitted by
//! the same steps.

use super::{canonical, read_input, Fitted, TOP_IN_REPORT};
use crate::flags::{DataFlags, MaskFlags, MinibatchFlags, SmoothFlags};
use nmfkit::minibatch::{BatchSource, MiniBatchFit, MiniBatchNmf, MiniBatchSolver};
use nmfkit::{Init, Regularization};
use nmfkit_io::flags::{ModelFlags, SolverFlag, StartFlags, Switch};
use nmfkit_io::formats::{peak_memory_mb, Format, RowSource};
use nmfkit_io::names::Names;
use nmfkit_io::progress::Reporter;
use nmfkit_io::report::{self, FitReport, FitResult, InputInfo, MinibatchInfo, Params};
use nmfkit_io::settings::StopDefaults;
use nmfkit_io::top::top_components;
use nmfkit_io::Error;
use std::time::Instant;

/// What a minibatch fit is given.
pub struct MinibatchJob<'a> {
    pub data: &'a DataFlags,
    pub rank: usize,
    pub model: &'a ModelFlags,
    pub start: &'a StartFlags,
    pub mask: &'a MaskFlags,
    pub smooth: &'a SmoothFlags,
    pub flags: &'a MinibatchFlags,
    pub quiet: bool,
}

/// The estimator from the flags; what does not apply is refused by name.
fn estimator(job: &MinibatchJob<'_>, batch_size: usize) -> Result<MiniBatchNmf, Error> {
    let m = job.model;
    if job.smooth.is_smooth()? {
        return Err(Error::usage(
            "--batch-size fits the standard model, not --model smooth",
        ));
    }
    if job.mask.active() {
        return Err(Error::usage(
            "--batch-size does not take --mask/--missing yet",
        ));
    }
    let loss = m.loss()?;
    let solver =
        match m.solver {
            // auto: online HALS for Frobenius (it reaches scikit-learn's
            // minibatch loss 4.9-9.1x sooner on the man-page and patch sets),
            // online ccd for KL (it reaches scikit-learn's final KL 3.6x
            // sooner on the man-page counts), scikit-learn's online MU
            // otherwise.
            SolverFlag::Auto | SolverFlag::Hals if loss.beta() == 2.0 => MiniBatchSolver::Hals,
            SolverFlag::Auto | SolverFlag::Ccd if loss.beta() == 1.0 => MiniBatchSolver::Ccd,
            SolverFlag::Auto | SolverFlag::Mu => MiniBatchSolver::Mu,
            SolverFlag::Ccd => {
                return Err(Error::usage(
                    "--batch-size --solver ccd needs --loss kl; use --solver mu",
                ))
            }
            SolverFlag::Hals => {
                return Err(Error::usage(
                    "--batch-size --solver hals needs --loss frobenius; use --solver mu",
                ))
            }
            _ => return Err(Error::usage(
                "--batch-size runs online mu, hals or ccd; choose --solver mu, hals, ccd or auto",
            )),
        };
    if m.extrapolate == Switch::On {
        return Err(Error::usage("--extrapolate does not apply to --batch-size"));
    }
    if batch_size == 0 {
        return Err(Error::usage("--batch-size must be at least 1"));
    }
    let f = job.flags;
    if !(f.forget_factor > 0.0 && f.forget_factor <= 1.0) {
        return Err(Error::usage(format!(
            "--forget-factor must be in (0, 1], got {}",
            f.forget_factor
        )));
    }
    let start = job.start.resolve()?;
    if start.custom.is_some() {
        return Err(Error::usage("--batch-size takes no --init custom yet"));
    }
    let mut est = MiniBatchNmf::new(job.rank)
        .loss(loss)
        .solver(solver)
        .batch_size(batch_size)
        .forget_factor(f.forget_factor)
        .fresh_restarts(f.fresh_restarts)
        .max_no_improvement((f.max_no_improvement > 0).then_some(f.max_no_improvement))
        .max_iter(m.max_iter(StopDefaults::CLASSIC))
        .tol(m.tol(StopDefaults::CLASSIC))
        .init(start.init)
        .seed(m.seed)
        .threads(m.threads)
        .regularization(Regularization {
            alpha_w: m.alpha_w,
            alpha_h: m.alpha_h,
            l1_ratio: m.l1_ratio,
        });
    est.eval_every = m.eval_every;
    if let Some(t) = m.time_limit {
        est.time_limit = Some(nmfkit_io::settings::seconds("--time-limit", t)?);
    }
    Ok(est)
}

/// What the memory note adds for a .npz, .mtx or transposed input.
const CONVERTED: &str = "; read once first into a row-ordered copy on disk (about 12 bytes per entry, under TMPDIR, removed at the end)";

/// What the report says of an input read a batch at a time.
fn streamed_info(path: &std::path::Path, src: &RowSource, transposed: bool) -> InputInfo {
    let (n, m) = src.shape();
    InputInfo {
        path: canonical(path),
        shape: [n, m],
        nnz: src.nnz(),
        sparse: src.sparse(),
        transposed,
    }
}

/// Whether the input can be read a batch at a time from disk.
fn streams(data: &DataFlags) -> bool {
    let n = &data.names;
    matches!(
        Format::of(&data.input),
        Ok(Format::Npy | Format::Npz | Format::Mtx)
    ) && n.row_names.is_none()
        && n.col_names.is_none()
}

pub fn fit(job: &MinibatchJob<'_>) -> Result<Fitted, Error> {
    if job.flags.full_batch {
        return fit_full_batch(job);
    }
    let t0 = Instant::now();
    let batch_size = job.flags.batch_size.unwrap_or(1024);
    let mut est = estimator(job, batch_size)?;
    let path = job.data.input.as_path();
    let streamed = streams(job.data);
    let ctx = |e| Error::nmf(Some(path), e);
    let (fit, info, names, read_s, rel) = if streamed {
        let src = RowSource::open(path, job.data.transpose)?;
        let (n, _) = src.shape();
        // No pass over all of X for SVD starts: a random start, as
        // scikit-learn's for data of unknown size.
        if !matches!(est.init, Init::Auto | Init::Random) {
            return Err(Error::usage(
                "a streamed fit starts from --init random (NNDSVD needs all of X in memory)",
            ));
        }
        est.init = Init::Random;
        let per_epoch = n.div_ceil(batch_size.min(n.max(1)));
        let total = est.max_iter.saturating_mul(per_epoch);
        let mut reporter = Reporter::batches(job.quiet, total, per_epoch);
        let mut cb = |p: &nmfkit::Progress| reporter.update(p);
        let fit = est
            .fit_source(&src, None, None, Some(&mut cb))
            .map_err(ctx)?;
        reporter.finish();
        let info = streamed_info(path, &src, job.data.transpose);
        (fit, info, Names::default(), 0.0, None)
    } else {
        let data = read_input(job.data)?;
        let (n, _) = data.x.shape();
        let per_epoch = n.div_ceil(batch_size.min(n.max(1)));
        let total = est.max_iter.saturating_mul(per_epoch);
        let mut reporter = Reporter::batches(job.quiet, total, per_epoch);
        let mut cb = |p: &nmfkit::Progress| reporter.update(p);
        let fit = est
            .fit_stored(data.x.input(), false, None, Some(&mut cb))
            .map_err(ctx)?;
        reporter.finish();
        let rel = nmfkit::relative_error(data.x.input(), &fit.w, &fit.h);
        (fit, data.info, data.names, data.read_s, Some(rel))
    };
    let (n, m) = (info.shape[0], info.shape[1]);
    let converted = streamed && info.sparse;
    let mut report = report_of(&est, &fit, info, streamed, t0, read_s);
    if let (true, Some(mb)) = (converted, report.minibatch.as_mut()) {
        mb.memory.push_str(CONVERTED);
    }
    report.result.relative_error = rel;
    let fitted_report = report;
    let mut fitted = Fitted {
        w: fit.w,
        h: fit.h,
        gw: None,
        report: fitted_report,
        fit_time_s: fit.fit_time.as_secs_f64(),
        names,
    };
    fitted.report.warnings = report::rank_warning(job.rank, n, m).into_iter().collect();
    fitted.report.top = top_components(&fitted.w, &fitted.h, &fitted.names, TOP_IN_REPORT);
    Ok(fitted)
}

fn report_of(
    est: &MiniBatchNmf,
    fit: &MiniBatchFit<f64>,
    info: InputInfo,
    streamed: bool,
    t0: Instant,
    read_s: f64,
) -> FitReport {
    // The settings as the standard model names them; transform and eval
    // solve W with H fixed: by mu after online MU (scikit-learn's
    // transform), exactly (auto: anls) after online HALS.
    let kind = match est.solver {
        MiniBatchSolver::Mu => nmfkit::SolverKind::Mu,
        MiniBatchSolver::Hals | MiniBatchSolver::Ccd => nmfkit::SolverKind::Auto,
    };
    let standard = nmfkit::Nmf::new(est.rank)
        .loss(est.loss)
        .solver(kind)
        .init(est.init)
        .seed(est.seed)
        .max_iter(est.max_iter)
        .tol(est.tol)
        .threads(est.threads)
        .regularization(est.regularization);
    let mut params = Params::of(&standard);
    params.model = "minibatch".into();
    let result = FitResult {
        n_iter: fit.n_iter,
        stop_reason: fit.stop.name().into(),
        converged: fit.stop.converged(),
        interrupted: fit.stop == nmfkit::StopReason::Cancelled,
        objective: fit.objective,
        divergence: fit.divergence,
        penalties: Default::default(),
        reconstruction_err: fit.reconstruction_err,
        relative_error: None,
        init_used: Some(est.init.name().into()),
        norm_factor: None,
        solver_notes: vec![match est.solver {
            MiniBatchSolver::Mu => "online multiplicative updates (scikit-learn's MiniBatchNMF)",
            MiniBatchSolver::Hals => "online HALS: coordinate sweeps on each batch's W and on H against running statistics (Mairal et al. 2010)",
            MiniBatchSolver::Ccd => "online ccd: a sweep of KL coordinate Newton steps on each batch's W, H from online MU's running statistics",
        }
        .into()],
    };
    let mut report = FitReport::new("fit", info, params, result);
    report.history = report::history(&fit.history, &[]);
    report.timings.read_s = read_s;
    report.timings.fit_s = fit.fit_time.as_secs_f64();
    report.timings.total_fit_s = t0.elapsed().as_secs_f64();
    report.minibatch = Some(MinibatchInfo {
        batch_size: est.batch_size,
        forget_factor: est.forget_factor,
        fresh_restarts: est.fresh_restarts,
        max_no_improvement: est.max_no_improvement,
        n_steps: fit.n_steps,
        update: match est.solver {
            MiniBatchSolver::Mu => "mu",
            MiniBatchSolver::Hals => "hals",
            MiniBatchSolver::Ccd => "ccd",
        }
        .into(),
        streamed,
        full_batch: false,
        peak_memory_mb: peak_memory_mb(),
        memory: if streamed {
            "O(batch·m + n·k + 3·k·m): one batch of rows, W, H and the two statistics; X is never held whole".into()
        } else {
            "X in memory, plus one batch, W, H and the two statistics".into()
        },
    });
    report
}

/// `--batch-size N --full-batch`: the standard solver's exact iterations on
/// a file read a batch at a time.
fn fit_full_batch(job: &MinibatchJob<'_>) -> Result<Fitted, Error> {
    let t0 = Instant::now();
    let batch_size = job.flags.batch_size.unwrap_or(1024).max(1);
    if !streams(job.data) {
        return Err(Error::usage(
            "--full-batch streams a .npy, .npz or .mtx file (without name files)",
        ));
    }
    if job.smooth.is_smooth()? || job.mask.active() {
        return Err(Error::usage(
            "--full-batch fits the standard model without masks",
        ));
    }
    let path = job.data.input.as_path();
    let src = RowSource::open(path, job.data.transpose)?;
    let (n, m) = src.shape();
    let start = job.start.resolve()?;
    let est = job
        .model
        .estimator(job.rank, StopDefaults::FIT)?
        .init(start.init);
    let mut reporter = Reporter::new(job.quiet, est.max_iter);
    let mut cb = |p: &nmfkit::Progress| reporter.update(p);
    let opts = nmfkit::FitOptions {
        w0: start.custom.as_ref().map(|c| &c.0),
        h0: start.custom.as_ref().map(|c| &c.1),
        progress: Some(&mut cb),
        ..Default::default()
    };
    let fit = est
        .fit_source(&src, batch_size, opts)
        .map_err(|e| Error::nmf(Some(path), e))?;
    reporter.finish();
    let info = streamed_info(path, &src, job.data.transpose);
    let mut report = FitReport::new("fit", info, Params::of(&est), FitResult::of(&fit, None));
    report.history = report::history(&fit.history, &fit.penalty_names);
    report.timings.fit_s = fit.fit_time.as_secs_f64();
    report.timings.total_fit_s = t0.elapsed().as_secs_f64();
    report.minibatch = Some(MinibatchInfo {
        batch_size,
        forget_factor: 1.0,
        fresh_restarts: false,
        max_no_improvement: None,
        n_steps: 0,
        update: String::new(),
        streamed: true,
        full_batch: true,
        peak_memory_mb: peak_memory_mb(),
        memory: "O(batch·m + n·k + k·m): one batch of rows and the factors; one pass over the file per half-step".into(),
    });
    if let (true, Some(mb)) = (src.sparse(), report.minibatch.as_mut()) {
        mb.memory.push_str(CONVERTED);
    }
    report.warnings = report::rank_warning(job.rank, n, m).into_iter().collect();
    let names = Names::default();
    report.top = top_components(&fit.w, &fit.h, &names, TOP_IN_REPORT);
    Ok(Fitted {
        w: fit.w,
        h: fit.h,
        gw: None,
        report,
        fit_time_s: fit.fit_time.as_secs_f64(),
        names,
    })
}
