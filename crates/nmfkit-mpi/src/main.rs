//! `nmfkit-mpi`: nmfkit's solvers over MPI on a pr × pc process grid
//! (MPI-FAUN's communication-optimal scheme). Run it under `mpirun`.

mod block;
mod dist;
mod fit;
mod gather;
mod grid;

use clap::{Args, Parser, Subcommand};
use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use nmfkit_io::flags::{FormatFlag, ModelFlags, OutputFlags, StartFlags};
use nmfkit_io::Error as CliError;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "nmfkit-mpi",
    version,
    about = "Distributed NMF over MPI: the same solvers as `nmfkit fit` on a 2-D process grid",
    after_help = "Examples:\n  mpirun -np 4 nmfkit-mpi fit X.npy --rank 10 --out model\n  nmfkit-mpi partition X.npz --grid 2x2 --out X_blocks && mpirun -np 4 nmfkit-mpi fit X_blocks --rank 20 --out model\n  mpirun -np 64 --hostfile hosts nmfkit-mpi fit big.mtx --rank 50 --grid 16x4 --solver hals --out model\n\nExit codes: 0 success, 2 bad input or usage (one message, whichever rank found it), 1 internal error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Fit(Box<FitArgs>),
    Partition(PartitionArgs),
}

/// Factorize a matrix spread over the MPI ranks; rank 0 writes W, H and report.json.
#[derive(Args, Debug)]
pub(crate) struct FitArgs {
    /// The matrix (.npy, .mtx, .npz, .csv) or a folder from `nmfkit-mpi partition`.
    input: PathBuf,
    /// Number of components k.
    #[arg(long, short = 'k')]
    rank: usize,
    /// auto or random (random starts, identical to `nmfkit fit --init random`), or custom
    /// (with --w0 and --h0). NNDSVD needs an SVD of the whole matrix and is not offered here.
    #[command(flatten)]
    start: StartFlags,
    #[command(flatten)]
    model: ModelFlags,
    /// Process grid PRxPC with PR·PC = the number of ranks (default: the
    /// grid with the least communication for the shape).
    #[arg(long)]
    grid: Option<String>,
    #[command(flatten)]
    format: FormatFlag,
    #[command(flatten)]
    output: OutputFlags,
}

/// Write one file per block of a PRxPC grid, for ranks to read only their own.
#[derive(Args, Debug)]
struct PartitionArgs {
    input: PathBuf,
    #[arg(long)]
    grid: String,
    #[arg(long)]
    out: PathBuf,
}

/// An error already reported (by the first rank that had one).
pub(crate) struct Reported(pub i32);

/// Collective: whether every rank succeeded. If not, the lowest failing
/// rank prints its message and every rank gets the same exit code.
pub(crate) fn agree<T>(world: &SimpleCommunicator, r: Result<T, CliError>) -> Result<T, Reported> {
    let (me, size) = (world.rank(), world.size());
    let mine = [
        if r.is_err() { me } else { size },
        r.as_ref().err().map_or(0, |e| e.exit_code()),
    ];
    let (mut first, mut code) = (0i32, 0i32);
    world.all_reduce_into(&mine[0], &mut first, SystemOperation::min());
    world.all_reduce_into(&mine[1], &mut code, SystemOperation::max());
    match r {
        Ok(v) if first == size => Ok(v),
        Err(e) if me == first => {
            nmfkit_io::note!("nmfkit-mpi: error: {e}");
            Err(Reported(code))
        }
        _ => Err(Reported(code)),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Partition(a) => match partition(a) {
            Ok(()) => 0,
            Err(e) => {
                nmfkit_io::note!("nmfkit-mpi: error: {e}");
                e.exit_code()
            }
        },
        Command::Fit(a) => {
            // Serialized: the fit's loop runs on a thread of its rayon pool.
            let Some((universe, _)) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            else {
                nmfkit_io::note!("nmfkit-mpi: error: MPI could not be initialized");
                return ExitCode::from(1);
            };
            let world = universe.world();
            match fit::fit(&world, *a) {
                Ok(()) => 0,
                Err(Reported(c)) => c,
            }
        }
    };
    ExitCode::from(code as u8)
}

fn partition(a: PartitionArgs) -> Result<(), CliError> {
    let (pr, pc) = grid::parse_grid(&a.grid).map_err(CliError::usage)?;
    let meta = block::partition(&a.input, pr, pc, &a.out)?;
    nmfkit_io::note!(
        "wrote {pr}x{pc} blocks of the {}×{} matrix into {}",
        meta["shape"][0],
        meta["shape"][1],
        a.out.display()
    );
    Ok(())
}
