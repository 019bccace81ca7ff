//! `nmfkit fit`: factorize a matrix file.

use crate::fitting::{self, read_input, FitJob};
use crate::flags::{DataFlags, MaskFlags, MinibatchFlags, SmoothFlags};
use clap::Args;
use nmfkit_io::flags::{FormatFlag, ModelFlags, OutputFlags, StartFlags};
use nmfkit_io::folder::Staged;
use nmfkit_io::Error;

#[derive(Args, Clone, Debug)]
#[command(
    about = "Factorize a matrix: writes W, H and report.json into --out",
    after_help = "Examples:\n  nmfkit fit X.npy --rank 10 --out model\n  nmfkit fit counts.mtx --rank 20 --loss kl --solver mu --max-iter 500 --out topics\n  nmfkit fit X.csv --rank 5 --init custom --w0 W0.npy --h0 H0.npy --format csv --out m\n  nmfkit fit ratings.npy --rank 10 --missing nan --out model\n  nmfkit fit huge.npy --rank 20 --batch-size 4096 --out model   # minibatch, read from disk in batches\n\nRows of X are samples, columns features: W is rows×rank, H is rank×columns.\n--out is replaced whole: files of an earlier fit never survive into the new one."
)]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataFlags,
    /// Number of components k.
    #[arg(long, short = 'k')]
    pub rank: usize,
    #[command(flatten)]
    pub start: StartFlags,
    #[command(flatten)]
    pub model: ModelFlags,
    #[command(flatten)]
    pub smooth: SmoothFlags,
    #[command(flatten)]
    pub mask: MaskFlags,
    #[command(flatten)]
    pub minibatch: MinibatchFlags,
    #[command(flatten)]
    pub format: FormatFlag,
    #[command(flatten)]
    pub output: OutputFlags,
}

pub fn run(a: FitArgs) -> Result<(), Error> {
    let out = &a.output;
    // Refuse a foreign --out before any work.
    let mut staged = Staged::new(&out.out, out.force)?;
    let mut fitted = if a.minibatch.batch_size.is_some() {
        let job = fitting::minibatch::MinibatchJob {
            data: &a.data,
            rank: a.rank,
            model: &a.model,
            start: &a.start,
            mask: &a.mask,
            smooth: &a.smooth,
            flags: &a.minibatch,
            quiet: out.quiet || out.json,
        };
        fitting::minibatch::fit(&job)?
    } else {
        fit_in_memory(&a)?
    };
    fitting::write(&mut staged, &mut fitted, a.format.format)?;
    staged.commit()?;
    report_done(&a, &fitted);
    Ok(())
}

fn fit_in_memory(a: &FitArgs) -> Result<fitting::Fitted, Error> {
    let out = &a.output;
    let data = read_input(&a.data)?;
    let job = FitJob {
        command: "fit",
        x: &data.x,
        names: &data.names,
        input: data.info.clone(),
        input_path: &a.data.input,
        read_s: data.read_s,
        rank: a.rank,
        model: &a.model,
        start: &a.start,
        mask: &a.mask,
        smooth: &a.smooth,
        transpose: a.data.transpose,
        format: a.format.format,
        quiet: out.quiet || out.json,
    };
    fitting::fit(&job)
}

/// The closing line (or the report, with --json).
fn report_done(a: &FitArgs, fitted: &fitting::Fitted) {
    let out = &a.output;
    let r = &fitted.report.result;
    let what = match &fitted.report.minibatch {
        Some(mb) if !mb.full_batch => {
            format!("{} epochs ({} minibatch steps)", r.n_iter, mb.n_steps)
        }
        _ => format!("{} iterations", r.n_iter),
    };
    if out.json {
        crate::print_json(&fitted.report);
    } else if !out.quiet {
        let interrupted = if r.interrupted {
            " (interrupted: the factors so far were kept)"
        } else {
            ""
        };
        // A streamed fit has no ‖X‖ at hand: no relative error then.
        let rel = r
            .relative_error
            .map_or(String::new(), |e| format!(", relative error {e:.4e}"));
        nmfkit_io::note!(
            "{what}, stopped: {}{interrupted}; objective {:.6e}{rel}; wrote {}",
            r.stop_reason,
            r.objective,
            out.out.display()
        );
    }
}
