//! `nmfkit top`: each component's top features (by its row of H) and top
//! samples (by its column of W), named by the data's names when the fit
//! knew them.

use clap::Args;
use nmfkit_io::model::Model;
use nmfkit_io::top::{top_components, ComponentTop, Entry};
use nmfkit_io::Error;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(
    about = "List each component's top features and samples, with names and shares",
    after_help = "Examples:\n  nmfkit top topics            # a table per component\n  nmfkit top topics --n 5 --json\n  nmfkit top topics --csv top.csv\n\nShare: the entry's weight over its component's total weight."
)]
pub struct TopArgs {
    /// Folder written by `nmfkit fit`.
    pub model: PathBuf,
    /// Entries per component.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub n: usize,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write a CSV (component, kind, rank, index, name, weight, share).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

pub fn run(a: TopArgs) -> Result<(), Error> {
    if a.n == 0 {
        return Err(Error::usage("--n must be at least 1"));
    }
    let model = Model::read(&a.model)?;
    let top = top_components(&model.w, &model.h, &model.names, a.n);
    if let Some(p) = &a.csv {
        write_csv(p, &top)?;
    }
    if a.json {
        crate::print_json(&top);
        return Ok(());
    }
    for c in &top {
        crate::print_line(&format!("component_{}", c.component));
        print_entries("feature", &c.features);
        print_entries("sample", &c.samples);
    }
    Ok(())
}

fn print_entries(kind: &str, entries: &[Entry]) {
    let width = entries
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(kind.len() + 1);
    crate::print_line(&format!(
        "  {:<width$}  {:>12}  {:>7}",
        kind, "weight", "share"
    ));
    for e in entries {
        crate::print_line(&format!(
            "  {:<width$}  {:>12}  {:>6.1}%",
            e.name,
            nmfkit_io::stdout::format_number(e.weight),
            100.0 * e.share
        ));
    }
}

fn write_csv(path: &Path, top: &[ComponentTop]) -> Result<(), Error> {
    nmfkit_io::formats::atomic_write(path, |p| {
        let mut w = csv::Writer::from_path(p)?;
        w.write_record([
            "component",
            "kind",
            "rank",
            "index",
            "name",
            "weight",
            "share",
        ])?;
        for c in top {
            for (kind, list) in [("feature", &c.features), ("sample", &c.samples)] {
                for (r, e) in list.iter().enumerate() {
                    w.write_record([
                        c.component.to_string(),
                        kind.to_string(),
                        (r + 1).to_string(),
                        e.index.to_string(),
                        e.name.clone(),
                        e.weight.to_string(),
                        e.share.to_string(),
                    ])?;
                }
            }
        }
        w.flush()
    })
}
