//! Rank surveys: many runs per rank, their consensus, the measures that
//! choose the rank, and the survey's folder (`nmfkit rank`, `nmfkit demo
//! clusters`).

use crate::plot::{self, Panel};
use nmfkit::rank::{
    randomized_dense, randomized_sparse, suggested_rank, ClusterAxis, RankResult, RankStats,
    SurveyOptions,
};
use nmfkit::SolverKind;
use nmfkit::{Mat, Nmf};
use nmfkit_io::flags::ModelFlags;
use nmfkit_io::folder::Staged;
use nmfkit_io::formats::Matrix;
use nmfkit_io::names::Names;
use nmfkit_io::progress::{interrupt_flag, RunCounter};
use nmfkit_io::report::{
    rank_warning, InputInfo, Params, RankReport, RankRow, SurveyParams, SurveyTimings,
    NMFKIT_VERSION, SCHEMA_VERSION,
};
use nmfkit_io::settings::StopDefaults;
use nmfkit_io::Error;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Fewer runs per rank than this give unstable consensus measures (Brunet
/// et al. 2004 averaged 20 to 100 runs): a warning below it.
pub const MIN_RUNS: usize = 20;

const CSV_COLUMNS: [&str; 14] = [
    "rank",
    "runs",
    "best_objective",
    "mean_objective",
    "explained_variance",
    "relative_error",
    "sparseness_w",
    "sparseness_h",
    "cophenetic",
    "dispersion",
    "silhouette",
    "mean_iterations",
    "seconds_per_run",
    "cv_error",
];

fn write_table(path: &Path, tables: &[(&str, &[RankStats])]) -> Result<(), Error> {
    nmfkit_io::formats::atomic_write(path, |p| {
        let mut w = csv::Writer::from_path(p)?;
        let mut header = vec!["data"];
        header.extend(CSV_COLUMNS);
        w.write_record(&header)?;
        for (name, table) in tables {
            for s in *table {
                let v = serde_json::to_value(RankRow::from(s)).unwrap_or_default();
                let mut rec = vec![name.to_string()];
                rec.extend(CSV_COLUMNS.iter().map(|c| match &v[*c] {
                    Value::Null => String::new(),
                    other => other.to_string(),
                }));
                w.write_record(&rec)?;
            }
        }
        w.flush()
    })
}

fn write_clusters(
    path: &Path,
    clusters: &[(usize, Vec<usize>)],
    items: usize,
    names: Option<&[String]>,
) -> Result<(), Error> {
    nmfkit_io::formats::atomic_write(path, |p| {
        let mut w = csv::Writer::from_path(p)?;
        let mut header = vec!["item".to_string()];
        header.extend(clusters.iter().map(|(k, _)| format!("rank_{k}")));
        w.write_record(&header)?;
        for i in 0..items {
            let mut rec = vec![names.map_or_else(|| i.to_string(), |v| v[i].clone())];
            rec.extend(clusters.iter().map(|(_, c)| c[i].to_string()));
            w.write_record(&rec)?;
        }
        w.flush()
    })
}

/// Block averages of the consensus in the tree's order, at most `cells` a side.
fn reduced_consensus<T>(r: &RankResult<T>, cells: usize) -> Mat<f64> {
    let n = r.order.len();
    let b = n.div_ceil(cells.max(1)).max(1);
    let side = n.div_ceil(b);
    Mat::from_fn(side, side, |a, c| {
        let (mut s, mut cnt) = (0.0, 0.0);
        for i in a * b..((a + 1) * b).min(n) {
            for j in c * b..((c + 1) * b).min(n) {
                s += r.consensus.get(r.order[i], r.order[j]);
                cnt += 1.0;
            }
        }
        s / cnt
    })
}

fn panels(data: &[RankStats], random: &[RankStats]) -> Vec<Panel> {
    type Get = fn(&RankStats) -> f64;
    let measures: [(&str, &[(&str, Get)]); 7] = [
        (
            "cophenetic correlation",
            &[("cophenetic", |s| s.cophenetic)],
        ),
        ("dispersion", &[("dispersion", |s| s.dispersion)]),
        (
            "silhouette (consensus)",
            &[("silhouette", |s| s.silhouette)],
        ),
        ("explained variance", &[("evar", |s| s.explained_variance)]),
        (
            "relative error ‖X−WH‖/‖X‖",
            &[("residual", |s| s.relative_error)],
        ),
        (
            "Hoyer sparseness",
            &[("W", |s| s.sparseness_w), ("H", |s| s.sparseness_h)],
        ),
        (
            "held-out error (cross-validation)",
            &[("cv", |s| s.cv_error.unwrap_or(f64::NAN))],
        ),
    ];
    let with_cv = data.iter().any(|s| s.cv_error.is_some());
    measures
        .iter()
        .filter(|(title, _)| with_cv || !title.starts_with("held-out"))
        .map(|(title, lines)| {
            let mut series = Vec::new();
            for (label, get) in lines.iter() {
                let pts = |t: &[RankStats]| t.iter().map(|s| (s.rank as f64, get(s))).collect();
                series.push((format!("{label} (data)"), false, pts(data)));
                if !random.is_empty() {
                    series.push((format!("{label} (randomized)"), true, pts(random)));
                }
            }
            (title.to_string(), series)
        })
        .collect()
}

/// Runs the survey of `x` (one data set) and plots each rank's consensus.
fn survey(
    est: &Nmf,
    x: &Matrix,
    ranks: &[usize],
    opts: &SurveyOptions<'_>,
    plot_prefix: Option<(&mut Staged, &str)>,
    path: &Path,
    clusters: &mut Vec<(usize, Vec<usize>)>,
) -> Result<Vec<RankStats>, Error> {
    let mut plot_err = None;
    let mut stage = plot_prefix;
    let table = est
        .survey(x.input(), ranks, opts, |r| {
            clusters.push((r.stats.rank, r.clusters.clone()));
            if let Some((staged, prefix)) = stage.as_mut() {
                if plot_err.is_some() {
                    return;
                }
                let k = r.stats.rank;
                let name = format!("{prefix}{k}.png");
                let title = format!(
                    "consensus, rank {k}: {} runs, cophenetic {:.4}",
                    r.stats.runs, r.stats.cophenetic
                );
                let m = reduced_consensus(r, 400);
                let map = plot::ConsensusMap {
                    matrix: &m,
                    tree: &r.tree,
                    order: &r.order,
                    clusters: &r.clusters,
                    title: &title,
                };
                if let Err(e) = staged.file(&name, |p| plot::consensus(p, &map)) {
                    plot_err = Some(e);
                }
            }
        })
        .map_err(|e| Error::nmf(Some(path), e))?;
    match plot_err {
        Some(e) => Err(e),
        None => Ok(table),
    }
}

/// What one survey needs, parsed.
pub struct SurveyJob<'a> {
    pub command: &'static str,
    pub x: &'a Matrix,
    /// The data's names (clusters.csv names its items by them).
    pub names: &'a Names,
    pub input: InputInfo,
    pub input_path: &'a Path,
    pub read_s: f64,
    pub ranks: Vec<usize>,
    pub runs: usize,
    pub axis: ClusterAxis,
    pub random_copy: bool,
    pub cv_folds: usize,
    pub cv_fraction: f64,
    pub model: &'a ModelFlags,
    pub plots: bool,
    pub quiet: bool,
}

/// Runs the survey and writes its files into `staged`; returns the report
/// and the table.
pub fn survey_into(
    staged: &mut Staged,
    job: &SurveyJob<'_>,
) -> Result<(RankReport, Vec<RankStats>), Error> {
    let t0 = Instant::now();
    let ranks = &job.ranks;
    if job.runs == 0 {
        return Err(Error::usage("--runs must be at least 1"));
    }
    if job.cv_folds > 0 && !(job.cv_fraction > 0.0 && job.cv_fraction < 1.0) {
        return Err(Error::usage(format!(
            "--cv-fraction must be in (0, 1), got {}",
            job.cv_fraction
        )));
    }
    let mut est = job.model.estimator(ranks[0], StopDefaults::CLASSIC)?;
    if est.solver == SolverKind::Auto {
        // Consensus measures need runs that keep their random starts'
        // variety; auto's exact first iterations pull them to one solution.
        let frobenius = est.loss == nmfkit::Loss::Frobenius;
        est = est
            .solver(if frobenius {
                SolverKind::Hals
            } else {
                SolverKind::Mu
            })
            .extrapolate(frobenius);
    }
    let x = job.x;
    let (n, m) = x.shape();
    let items = if job.axis == ClusterAxis::Rows { n } else { m };
    let item_names = if job.axis == ClusterAxis::Rows {
        &job.names.rows
    } else {
        &job.names.cols
    };
    let mut warnings = Vec::new();
    if let Some(&k) = ranks.iter().filter(|&&k| k > n.min(m)).min() {
        warnings.extend(rank_warning(k, n, m));
    }
    if job.runs < MIN_RUNS {
        warnings.push(format!(
            "{} runs per rank are too few for stable consensus measures (cophenetic, dispersion): use --runs {MIN_RUNS} or more before trusting the suggested rank",
            job.runs
        ));
    }
    if !job.quiet {
        for w in &warnings {
            nmfkit_io::note!("nmfkit: warning: {w}");
        }
    }

    let sets = if job.random_copy { 2 } else { 1 };
    let counter = RunCounter::new(job.quiet, ranks.len() * job.runs * sets);
    let tick = |rank: usize, _done: usize| counter.tick(&format!("rank {rank}"));
    let cancel = interrupt_flag();
    let opts = SurveyOptions {
        n_runs: job.runs,
        axis: job.axis,
        cancel: Some(&cancel),
        on_run: Some(&tick),
        cv_folds: job.cv_folds,
        cv_fraction: job.cv_fraction,
    };
    let mut clusters = Vec::new();
    let t_data = Instant::now();
    let plots = job.plots.then_some((&mut *staged, "consensus_"));
    let table = survey(&est, x, ranks, &opts, plots, job.input_path, &mut clusters)?;
    let data_s = t_data.elapsed().as_secs_f64();
    let mut random = Vec::new();
    if job.random_copy && !cancel.load(Ordering::SeqCst) {
        // A different seed for the permutation than for the runs.
        let seed = nmfkit::run_seeds(est.seed ^ 0x0005_EED0_FC0D, 1)[0];
        let xr = match x {
            Matrix::Dense(d) => Matrix::Dense(randomized_dense(d, seed)),
            Matrix::Sparse(s) => Matrix::Sparse(randomized_sparse(s, seed)),
        };
        random = survey(
            &est,
            &xr,
            ranks,
            &opts,
            None,
            job.input_path,
            &mut Vec::new(),
        )?;
    }
    counter.finish();
    let interrupted = cancel.load(Ordering::SeqCst);
    let mut params = Params::of(&est);
    params.init = "random".into();
    let total_runs = (table.len() + random.len()) * job.runs;
    let total_s = t0.elapsed().as_secs_f64();
    let report = RankReport {
        schema_version: SCHEMA_VERSION,
        nmfkit_version: NMFKIT_VERSION.into(),
        command: job.command.into(),
        input: job.input.clone(),
        params,
        survey: SurveyParams {
            ranks: ranks.clone(),
            runs: job.runs,
            cluster: job.axis.name().into(),
            random_copy: job.random_copy,
            cv_folds: job.cv_folds,
            cv_fraction: job.cv_fraction,
        },
        items_clustered: items,
        interrupted,
        suggested_rank: suggested_rank(&table),
        table: table.iter().map(RankRow::from).collect(),
        randomized_table: random.iter().map(RankRow::from).collect(),
        timings: SurveyTimings {
            read_s: job.read_s,
            survey_s: data_s,
            total_s,
            seconds_per_run: if total_runs > 0 {
                total_s / total_runs as f64
            } else {
                0.0
            },
        },
        warnings,
    };
    staged.file("rank.csv", |p| {
        write_table(p, &[("data", &table), ("randomized", &random)])
    })?;
    staged.file("clusters.csv", |p| {
        write_clusters(p, &clusters, items, item_names.as_deref())
    })?;
    if job.plots && !table.is_empty() {
        let panels = panels(&table, &random);
        staged.file("rank.png", |p| plot::rank_measures(p, &panels))?;
    }
    staged.json("rank.json", &report)?;
    Ok((report, table))
}

/// The measures per rank, on stderr.
pub fn print_table(table: &[RankStats]) {
    let cv = table.iter().any(|s| s.cv_error.is_some());
    nmfkit_io::note!(
        "{:>5} {:>12} {:>9} {:>10} {:>10} {:>10} {:>9}{}",
        "rank",
        "best obj",
        "evar",
        "cophenetic",
        "dispersion",
        "silhouette",
        "s/run",
        if cv { "  cv error" } else { "" }
    );
    for s in table {
        nmfkit_io::note!(
            "{:>5} {:>12.5e} {:>9.4} {:>10.4} {:>10.4} {:>10.4} {:>9.3}{}",
            s.rank,
            s.best_objective,
            s.explained_variance,
            s.cophenetic,
            s.dispersion,
            s.silhouette,
            s.seconds_per_run,
            s.cv_error.map_or(String::new(), |v| format!(" {v:>9.4}"))
        );
    }
}
