//! `nmfkit`: non-negative matrix factorization from the command line.

use clap::{Parser, Subcommand};
use nmfkit_cli::commands::{demo, eval, fit, gen, impute, plot, rank, top, transform};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "nmfkit",
    version,
    about = "Non-negative matrix factorization X ≈ W·H on .npy/.npz/.csv/.tsv/.mtx files",
    after_help = "Start with:  nmfkit demo --out demo_out\n\nExit codes: 0 success, 2 bad input or usage, 1 internal error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    Fit(fit::FitArgs),
    Transform(transform::TransformArgs),
    Eval(eval::EvalArgs),
    Top(top::TopArgs),
    Plot(plot::PlotArgs),
    Rank(rank::RankArgs),
    Impute(impute::ImputeArgs),
    Demo(demo::DemoArgs),
    Gen(gen::GenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Fit(a) => fit::run(a),
        Command::Transform(a) => transform::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Top(a) => top::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Rank(a) => rank::run(a),
        Command::Impute(a) => impute::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Gen(a) => gen::run(a),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            nmfkit_io::note!("nmfkit: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
