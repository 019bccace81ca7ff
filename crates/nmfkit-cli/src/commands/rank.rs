//! `nmfkit rank`: many runs per rank and the measures that choose it.

use super::fit::{read_input, ModelArgs};
use crate::error::CliError;
use crate::io::Matrix;
use crate::model_dir::Staged;
use crate::plot::{self, Panel};
use crate::progress::{interrupt_flag, RunCounter};
use crate::report;
use clap::Args;
use nmfkit::rank::{
    randomized_dense, randomized_sparse, suggested_rank, ClusterAxis, RankResult, RankStats,
    SurveyOptions,
};
use nmfkit::{Mat, Nmf};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

#[derive(Args, Clone, Debug)]
#[command(
    about = "Choose the rank: many runs per rank, their consensus, and the measures of R's NMF package",
    after_help = "Examples:\n  nmfkit rank X.npy --ranks 2..10 --runs 30 --out survey\n  nmfkit rank counts.mtx --ranks 2,3,4,6 --runs 20 --loss kl --cluster columns --random-copy --out survey\n\n\
Writes into --out: rank.json and rank.csv (one row per rank: best and mean objective, explained\n\
variance, relative error, Hoyer sparseness of W and H, cophenetic correlation, dispersion,\n\
silhouette, time per run), clusters.csv (every item's cluster at every rank), rank.png (the\n\
measures against the rank; the randomized copy dashed) and consensus_<k>.png (the consensus\n\
matrix ordered by its average-linkage tree). Runs start from random factors with seeds derived\n\
from --seed and the rank. Ctrl-C keeps the ranks finished so far.\n\n\
Reading the survey: the rank to keep is usually the last one before the cophenetic correlation\n\
and the dispersion fall (Brunet et al. 2004; Kim & Park 2007); `suggested_rank` in rank.json is\n\
the rank with the highest dispersion among those within 0.01 of the best cophenetic correlation.\n\
A randomized copy of the data shows how much of a measure's value comes from its structure rather\n\
than from the rank itself."
)]
pub struct RankArgs {
    /// The matrix (.npy, .npz, .csv, .tsv or .mtx).
    pub input: PathBuf,
    /// Ranks to survey: 2..10 (inclusive), 2,3,5 or one rank.
    #[arg(long, default_value = "2..10")]
    pub ranks: String,
    /// Runs per rank.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// Cluster the rows (samples, from W) or the columns (features, from H).
    #[arg(long, default_value = "rows")]
    pub cluster: String,
    /// Also survey a copy of the data with every column permuted at random.
    #[arg(long)]
    pub random_copy: bool,
    /// Cross-validation folds per rank (0: none): each holds out
    /// --cv-fraction of the entries, fits the rest, and measures the error on
    /// them (dense data).
    #[arg(long, default_value_t = 0)]
    pub cv_folds: usize,
    #[arg(long, default_value_t = 0.1)]
    pub cv_fraction: f64,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Factorize the transpose of the input.
    #[arg(long)]
    pub transpose: bool,
    /// Folder for the table, the clusters and the plots.
    #[arg(long)]
    pub out: PathBuf,
    /// No plots.
    #[arg(long)]
    pub no_plots: bool,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the report to stdout.
    #[arg(long)]
    pub json: bool,
}

/// Parses "2..10", "2-10", "2:10", "2,3,5" or "4".
pub fn parse_ranks(s: &str) -> Result<Vec<usize>, CliError> {
    let bad = |why: &str| {
        CliError::usage(format!(
            "--ranks '{s}': {why} (use a range such as 2..10, a list such as 2,3,5, or one rank)"
        ))
    };
    let num = |t: &str| -> Result<usize, CliError> {
        let v: usize = t
            .trim()
            .parse()
            .map_err(|_| bad(&format!("'{}' is not a whole number", t.trim())))?;
        if v == 0 {
            return Err(bad("ranks start at 1"));
        }
        Ok(v)
    };
    let mut ranks = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let range = ["..=", "..", ":", "-"]
            .iter()
            .find_map(|sep| part.split_once(sep));
        match range {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(bad("the range is empty"));
                }
                ranks.extend(a..=b);
            }
            None => ranks.push(num(part)?),
        }
    }
    ranks.sort_unstable();
    ranks.dedup();
    if ranks.is_empty() {
        return Err(bad("no rank given"));
    }
    if ranks.len() > 1000 {
        return Err(bad("more than 1000 ranks"));
    }
    Ok(ranks)
}

fn stats_json(s: &RankStats) -> Value {
    json!({
        "rank": s.rank,
        "runs": s.runs,
        "best_objective": s.best_objective,
        "mean_objective": s.mean_objective,
        "explained_variance": s.explained_variance,
        "relative_error": s.relative_error,
        "sparseness_w": s.sparseness_w,
        "sparseness_h": s.sparseness_h,
        "cophenetic": s.cophenetic,
        "dispersion": s.dispersion,
        "silhouette": s.silhouette,
        "mean_iterations": s.mean_iterations,
        "seconds_per_run": s.seconds_per_run,
        "cv_error": s.cv_error,
    })
}

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

fn write_table(path: &Path, tables: &[(&str, &[RankStats])]) -> Result<(), CliError> {
    crate::io::atomic_write(path, |p| {
        let mut w = csv::Writer::from_path(p)?;
        let mut header = vec!["data"];
        header.extend(CSV_COLUMNS);
        w.write_record(&header)?;
        for (name, table) in tables {
            for s in *table {
                let v = stats_json(s);
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
) -> Result<(), CliError> {
    crate::io::atomic_write(path, |p| {
        let mut w = csv::Writer::from_path(p)?;
        let mut header = vec!["item".to_string()];
        header.extend(clusters.iter().map(|(k, _)| format!("rank_{k}")));
        w.write_record(&header)?;
        for i in 0..items {
            let mut rec = vec![i.to_string()];
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
) -> Result<Vec<RankStats>, CliError> {
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
                if let Err(e) = staged.file(&name, |p| plot::consensus(p, &m, &title)) {
                    plot_err = Some(e);
                }
            }
        })
        .map_err(|e| CliError::nmf(Some(path), e))?;
    match plot_err {
        Some(e) => Err(e),
        None => Ok(table),
    }
}

pub fn run(a: RankArgs) -> Result<(), CliError> {
    let (report, table) = survey_and_write(&a)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else if !a.quiet {
        print_table(&table);
        if report["interrupted"].as_bool() == Some(true) {
            eprintln!("interrupted: the {} ranks finished were kept", table.len());
        }
        if let Some(k) = suggested_rank(&table) {
            eprintln!("suggested rank: {k} (highest dispersion among the ranks with the best cophenetic correlation)");
        }
        eprintln!("wrote {}", a.out.display());
    }
    Ok(())
}

/// The measures per rank, on stderr.
pub fn print_table(table: &[RankStats]) {
    let cv = table.iter().any(|s| s.cv_error.is_some());
    eprintln!(
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
        eprintln!(
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

/// Runs the survey and writes the folder; returns the report and the table.
pub fn survey_and_write(a: &RankArgs) -> Result<(Value, Vec<RankStats>), CliError> {
    let t0 = Instant::now();
    let ranks = parse_ranks(&a.ranks)?;
    let axis = ClusterAxis::parse(&a.cluster).map_err(|e| CliError::usage(e.to_string()))?;
    if a.runs == 0 {
        return Err(CliError::usage("--runs must be at least 1"));
    }
    if a.cv_folds > 0 && !(a.cv_fraction > 0.0 && a.cv_fraction < 1.0) {
        return Err(CliError::usage(format!(
            "--cv-fraction must be in (0, 1), got {}",
            a.cv_fraction
        )));
    }
    let est = a.model.estimator(ranks[0])?;
    let (x, desc, read_s) = read_input(&a.input, a.transpose)?;
    let (n, m) = x.shape();
    let items = if axis == ClusterAxis::Rows { n } else { m };

    let sets = if a.random_copy { 2 } else { 1 };
    let counter = RunCounter::new(a.quiet || a.json, ranks.len() * a.runs * sets);
    let tick = |rank: usize, _done: usize| counter.tick(&format!("rank {rank}"));
    let cancel = interrupt_flag();
    let opts = SurveyOptions {
        n_runs: a.runs,
        axis,
        cancel: Some(&cancel),
        on_run: Some(&tick),
        cv_folds: a.cv_folds,
        cv_fraction: a.cv_fraction,
    };
    let mut staged = Staged::new(&a.out)?;
    let mut clusters = Vec::new();
    let t_data = Instant::now();
    let plots = (!a.no_plots).then_some((&mut staged, "consensus_"));
    let table = survey(&est, &x, &ranks, &opts, plots, &a.input, &mut clusters)?;
    let data_s = t_data.elapsed().as_secs_f64();
    let mut random = Vec::new();
    if a.random_copy && !cancel.load(Ordering::SeqCst) {
        // A different seed for the permutation than for the runs.
        let seed = nmfkit::run_seeds(est.seed ^ 0x0005_EED0_FC0D, 1)[0];
        let xr = match &x {
            Matrix::Dense(d) => Matrix::Dense(randomized_dense(d, seed)),
            Matrix::Sparse(s) => Matrix::Sparse(randomized_sparse(s, seed)),
        };
        random = survey(&est, &xr, &ranks, &opts, None, &a.input, &mut Vec::new())?;
    }
    counter.finish();
    let interrupted = cancel.load(Ordering::SeqCst);

    let mut params = report::params(&est);
    params["rank"] = json!(ranks);
    params["runs"] = json!(a.runs);
    params["cluster"] = json!(axis.name());
    params["init"] = json!("random");
    params["random_copy"] = json!(a.random_copy);
    params["cv_folds"] = json!(a.cv_folds);
    params["cv_fraction"] = json!(a.cv_fraction);
    let total_runs = (table.len() + random.len()) * a.runs;
    let report = json!({
        "nmfkit_version": env!("CARGO_PKG_VERSION"),
        "command": "rank",
        "input": desc,
        "params": params,
        "items_clustered": items,
        "interrupted": interrupted,
        "suggested_rank": suggested_rank(&table),
        "table": table.iter().map(stats_json).collect::<Vec<_>>(),
        "randomized_table": random.iter().map(stats_json).collect::<Vec<_>>(),
        "timings": {
            "read_s": read_s,
            "survey_s": data_s,
            "total_s": t0.elapsed().as_secs_f64(),
            "seconds_per_run": if total_runs > 0 { t0.elapsed().as_secs_f64() / total_runs as f64 } else { 0.0 },
        },
    });
    staged.file("rank.csv", |p| {
        write_table(p, &[("data", &table), ("randomized", &random)])
    })?;
    staged.file("clusters.csv", |p| write_clusters(p, &clusters, items))?;
    if !a.no_plots && !table.is_empty() {
        let panels = panels(&table, &random);
        staged.file("rank.png", |p| plot::rank_measures(p, &panels))?;
    }
    staged.json("rank.json", &report)?;
    staged.commit()?;
    Ok((report, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_lists() {
        assert_eq!(parse_ranks("2..5").unwrap(), vec![2, 3, 4, 5]);
        assert_eq!(parse_ranks("2..=4").unwrap(), vec![2, 3, 4]);
        assert_eq!(parse_ranks("2-4").unwrap(), vec![2, 3, 4]);
        assert_eq!(parse_ranks("3:4,7, 2").unwrap(), vec![2, 3, 4, 7]);
        assert_eq!(parse_ranks("6").unwrap(), vec![6]);
        for bad in ["", "0..3", "5..2", "a", "2..x", ","] {
            assert!(parse_ranks(bad).is_err(), "{bad}");
        }
    }
}
