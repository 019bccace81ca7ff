//! `nmfkit rank`: many runs per rank and the measures that choose it.

use crate::fitting::read_input;
use crate::flags::DataFlags;
use crate::settings::parse_ranks;
use crate::survey::{print_table, survey_into, SurveyJob};
use clap::{Args, ValueEnum};
use nmfkit::rank::{suggested_rank, ClusterAxis};
use nmfkit_io::flags::{ModelFlags, OutputFlags};
use nmfkit_io::folder::Staged;
use nmfkit_io::Error;

/// What the consensus clusters (`--cluster`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClusterFlag {
    /// The rows (samples), from W.
    Rows,
    /// The columns (features), from H — R's samples when X is genes × samples.
    Columns,
}

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
    #[command(flatten)]
    pub data: DataFlags,
    /// Ranks to survey: 2..10 (inclusive), 2,3,5 or one rank.
    #[arg(long, default_value = "2..10")]
    pub ranks: String,
    /// Runs per rank.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    #[arg(long, value_enum, default_value_t = ClusterFlag::Rows)]
    pub cluster: ClusterFlag,
    /// Also survey a copy of the data with every column permuted at random.
    #[arg(long)]
    pub random_copy: bool,
    /// Cross-validation folds per rank (0: none): each holds out
    /// --cv-fraction of the entries, fits the rest, and measures the error on
    /// them (dense or sparse data).
    #[arg(long, default_value_t = 0)]
    pub cv_folds: usize,
    #[arg(long, default_value_t = 0.1)]
    pub cv_fraction: f64,
    #[command(flatten)]
    pub model: ModelFlags,
    /// No plots.
    #[arg(long)]
    pub no_plots: bool,
    #[command(flatten)]
    pub output: OutputFlags,
}

pub fn run(a: RankArgs) -> Result<(), Error> {
    let out = &a.output;
    let mut staged = Staged::new(&out.out, out.force)?;
    let ranks = parse_ranks(&a.ranks)?;
    let data = read_input(&a.data)?;
    let job = SurveyJob {
        command: "rank",
        x: &data.x,
        names: &data.names,
        input: data.info.clone(),
        input_path: &a.data.input,
        read_s: data.read_s,
        ranks,
        runs: a.runs,
        axis: match a.cluster {
            ClusterFlag::Rows => ClusterAxis::Rows,
            ClusterFlag::Columns => ClusterAxis::Columns,
        },
        random_copy: a.random_copy,
        cv_folds: a.cv_folds,
        cv_fraction: a.cv_fraction,
        model: &a.model,
        plots: !a.no_plots,
        quiet: out.quiet || out.json,
    };
    let (report, table) = survey_into(&mut staged, &job)?;
    staged.commit()?;
    if out.json {
        crate::print_json(&report);
    } else if !out.quiet {
        print_table(&table);
        if report.interrupted {
            nmfkit_io::note!("interrupted: the {} ranks finished were kept", table.len());
        }
        if let Some(k) = suggested_rank(&table) {
            nmfkit_io::note!("suggested rank: {k} (highest dispersion among the ranks with the best cophenetic correlation)");
        }
        nmfkit_io::note!("wrote {}", out.out.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::settings::parse_ranks;

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
