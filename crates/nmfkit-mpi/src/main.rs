//! `nmfkit-mpi`: nmfkit's solvers over MPI on a pr × pc process grid
//! (MPI-FAUN's communication-optimal scheme). Run it under `mpirun`.

mod block;
mod dist;
mod grid;

use clap::{Args, Parser, Subcommand};
use dist::{Comms, DistData};
use grid::Layout;
use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use nmfkit::{Data, DenseData, Init, Mat, Nmf, NmfFit, SparseData};
use nmfkit_cli::commands::fit::ModelArgs;
use nmfkit_cli::error::CliError;
use nmfkit_cli::io::{self, Matrix};
use nmfkit_cli::model_dir::Staged;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
    Fit(FitArgs),
    Partition(PartitionArgs),
}

/// Factorize a matrix spread over the MPI ranks; rank 0 writes W, H and report.json.
#[derive(Args, Debug)]
struct FitArgs {
    /// The matrix (.npy, .mtx, .npz, .csv) or a folder from `nmfkit-mpi partition`.
    input: PathBuf,
    /// Number of components k.
    #[arg(long, short = 'k')]
    rank: usize,
    /// auto or random (random starts, identical to `nmfkit fit --init random`), or custom
    /// (with --w0 and --h0). NNDSVD needs an SVD of the whole matrix and is not offered here.
    #[arg(long, default_value = "auto")]
    init: String,
    #[arg(long)]
    w0: Option<PathBuf>,
    #[arg(long)]
    h0: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// Process grid PRxPC with PR·PC = the number of ranks (default: the
    /// grid with the least communication for the shape).
    #[arg(long)]
    grid: Option<String>,
    /// Folder for W, H and report.json.
    #[arg(long)]
    out: PathBuf,
    /// Format of the factor files: npy, csv, tsv, mtx or npz.
    #[arg(long, default_value = "npy")]
    format: String,
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Print the report to stdout (rank 0).
    #[arg(long)]
    json: bool,
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
struct Reported(i32);

/// Collective: whether every rank succeeded. If not, the lowest failing
/// rank prints its message and every rank gets the same exit code.
fn agree<T>(world: &SimpleCommunicator, r: Result<T, CliError>) -> Result<T, Reported> {
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
            eprintln!("nmfkit-mpi: error: {e}");
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
                eprintln!("nmfkit-mpi: error: {e}");
                e.exit_code()
            }
        },
        Command::Fit(a) => {
            // Serialized: the fit's loop runs on a thread of its rayon pool.
            let Some((universe, _)) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            else {
                eprintln!("nmfkit-mpi: error: MPI could not be initialized");
                return ExitCode::from(1);
            };
            let world = universe.world();
            match fit(&world, a) {
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
    eprintln!(
        "wrote {pr}x{pc} blocks of the {}×{} matrix into {}",
        meta["shape"][0],
        meta["shape"][1],
        a.out.display()
    );
    Ok(())
}

/// What every rank agrees on before reading data.
struct Plan {
    est: Nmf,
    layout: Layout,
    threads: usize,
}

fn plan(world: &SimpleCommunicator, a: &FitArgs) -> Result<Plan, CliError> {
    io::Format::parse(&a.format)?;
    let mut est = a.model.estimator(a.rank)?;
    let beta = est.loss.beta();
    if beta != 2.0 && beta != 1.0 {
        return Err(CliError::usage(format!(
            "the distributed fit supports the Frobenius and KL losses, not beta = {beta}"
        )));
    }
    est = match a.init.as_str() {
        "auto" | "random" => est.init(Init::Random),
        "custom" => est,
        other => {
            return Err(CliError::usage(format!(
                "--init must be auto, random or custom here, got '{other}' (NNDSVD needs an SVD of the whole matrix)"
            )))
        }
    };
    if a.rank == 0 {
        return Err(CliError::nmf(None, nmfkit::NmfError::ZeroRank));
    }
    let (n, m) = block::shape_of(&a.input)?;
    if n == 0 || m == 0 {
        return Err(CliError::input(
            &a.input,
            format!("the matrix is empty ({n}×{m})"),
        ));
    }
    let p = world.size() as usize;
    let (pr, pc) = match &a.grid {
        Some(g) => grid::parse_grid(g).map_err(CliError::usage)?,
        None => grid::choose_grid(p, n, m),
    };
    if pr * pc != p {
        return Err(CliError::usage(format!(
            "--grid {pr}x{pc} needs {} ranks, but mpirun started {p}",
            pr * pc
        )));
    }
    if pr > n || pc > m {
        return Err(CliError::usage(format!(
            "a {pr}x{pc} grid has more process rows or columns than the {n}×{m} matrix"
        )));
    }
    // Ranks × threads must not oversubscribe a node.
    let local = std::env::var("OMPI_COMM_WORLD_LOCAL_SIZE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(p);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let threads = if a.model.threads > 0 {
        a.model.threads
    } else {
        (cores / local.max(1)).max(1)
    };
    Ok(Plan {
        est: est.threads(threads),
        layout: Layout::new(n, m, pr, pc),
        threads,
    })
}

fn fit(world: &SimpleCommunicator, a: FitArgs) -> Result<(), Reported> {
    let t0 = Instant::now();
    let plan = agree(world, plan(world, &a))?;
    let (i, j) = plan.layout.coords(world.rank() as usize);
    let blk = agree(world, block::read_block(&a.input, &plan.layout, i, j))?;
    // Every entry of every block checked, named by its place in X.
    let bad = match &blk {
        Matrix::Dense(d) => DenseData::new(d.as_ref()).first_bad_entry(),
        Matrix::Sparse(s) => SparseData::new(s).first_bad_entry(),
    };
    let checked = match bad {
        Some((r, c, v)) => {
            let (r, c) = (
                r + plan.layout.row_block(i).start,
                c + plan.layout.col_block(j).start,
            );
            let what = if v.is_finite() {
                "a negative"
            } else {
                "a non-finite"
            };
            Err(CliError::input(
                &a.input,
                format!("X has {what} entry {v} at ({r}, {c}); NMF needs non-negative finite data"),
            ))
        }
        None => Ok(()),
    };
    agree(world, checked)?;
    let read_s = t0.elapsed().as_secs_f64();
    let comms = Comms::new(world.duplicate(), &plan.layout);
    match &blk {
        Matrix::Dense(d) => run(
            world,
            &a,
            &plan,
            DistData::new(DenseData::new(d.as_ref()), plan.layout.clone(), comms),
            read_s,
        ),
        Matrix::Sparse(s) => run(
            world,
            &a,
            &plan,
            DistData::new(SparseData::new(s), plan.layout.clone(), comms),
            read_s,
        ),
    }
}

/// This rank's pieces of the initial factors: (Wt k×|W piece|, H k×|H piece|).
fn start<D: Data<f64>>(
    a: &FitArgs,
    plan: &Plan,
    x: &DistData<D>,
) -> Result<(Mat<f64>, Mat<f64>), CliError> {
    let (i, j) = x.coords();
    let k = a.rank;
    let (n, m) = (plan.layout.n, plan.layout.m);
    let (wr, hr) = (plan.layout.w_piece(i, j), plan.layout.h_piece(i, j));
    if a.init != "custom" {
        // One process's random start, each rank keeping only its pieces.
        return Ok(nmfkit::init::random_pieces(
            (n, m),
            x.sum(),
            k,
            plan.est.seed,
            wr,
            hr,
        ));
    }
    let (Some(wp), Some(hp)) = (&a.w0, &a.h0) else {
        return Err(CliError::usage("--init custom needs both --w0 and --h0"));
    };
    let (w, h) = (io::read_dense(wp)?, io::read_dense(hp)?);
    if (w.nrows, w.ncols) != (n, k) {
        return Err(CliError::input(
            wp,
            format!("W0 is {}×{} but must be {n}×{k}", w.nrows, w.ncols),
        ));
    }
    if (h.nrows, h.ncols) != (k, m) {
        return Err(CliError::input(
            hp,
            format!("H0 is {}×{} but must be {k}×{m}", h.nrows, h.ncols),
        ));
    }
    for (f, p) in [(&w, wp), (&h, hp)] {
        if let Some(v) = f.data.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(CliError::input(
                p,
                format!("has an entry {v}; factors must be finite and >= 0"),
            ));
        }
    }
    Ok((
        Mat::from_fn(k, wr.len(), |t, q| w.get(wr.start + q, t)),
        Mat::from_fn(k, hr.len(), |t, q| h.get(t, hr.start + q)),
    ))
}

fn run<D: Data<f64> + Send>(
    world: &SimpleCommunicator,
    a: &FitArgs,
    plan: &Plan,
    x: DistData<D>,
    read_s: f64,
) -> Result<(), Reported> {
    let root = world.rank() == 0;
    let (wt, h) = agree(world, start(a, plan, &x))?;
    let pool = agree(
        world,
        rayon::ThreadPoolBuilder::new()
            .num_threads(plan.threads)
            .build()
            .map_err(|e| CliError::Internal(e.to_string())),
    )?;
    // Every rank watches Ctrl-C (mpirun forwards it); the core all-reduces
    // the flag, so all stop at the same iteration and keep their factors.
    let interrupted = nmfkit_cli::progress::interrupt_flag();
    let mut reporter =
        root.then(|| nmfkit_cli::progress::Reporter::new(a.quiet, plan.est.max_iter));
    let mut cb = |p: &nmfkit::Progress| match reporter.as_mut() {
        Some(r) => r.update(p),
        None if interrupted.load(std::sync::atomic::Ordering::SeqCst) => {
            std::ops::ControlFlow::Break(())
        }
        None => std::ops::ControlFlow::Continue(()),
    };
    let t1 = Instant::now();
    let fitted = pool.install(|| plan.est.fit_pieces(&x, wt, h, Some(&mut cb)));
    let fit_s = t1.elapsed().as_secs_f64();
    if let Some(r) = reporter.as_mut() {
        r.finish();
    }
    let fit = agree(world, fitted.map_err(|e| CliError::nmf(Some(&a.input), e)))?;
    let (comm_s, bytes) = x.traffic.read();
    let iters = fit.n_iter.max(1) as f64;

    // Per-iteration figures of every rank, to rank 0.
    let mine = [
        comm_s / iters,
        bytes as f64 / iters,
        (fit_s - comm_s) / iters,
    ];
    let (w_full, h_full, stats) = gather(world, &plan.layout, &fit, &mine);
    let outcome = if root {
        write(
            a,
            plan,
            &fit,
            w_full.unwrap(),
            h_full.unwrap(),
            &stats,
            read_s,
            fit_s,
            x.sq_norm(),
        )
    } else {
        Ok(())
    };
    agree(world, outcome)
}

/// Rank 0 gets W (n×k), H (k×m) and every rank's `mine`.
fn gather(
    world: &SimpleCommunicator,
    layout: &Layout,
    fit: &NmfFit<f64>,
    mine: &[f64; 3],
) -> (Option<Mat<f64>>, Option<Mat<f64>>, Vec<f64>) {
    let k = fit.h.nrows;
    let p = layout.p();
    let root = world.process_at_rank(0);
    let wt = fit.w.transpose();
    if world.rank() != 0 {
        root.gather_varcount_into(&wt.data[..]);
        root.gather_varcount_into(&fit.h.data[..]);
        root.gather_into(&mine[..]);
        return (None, None, Vec::new());
    }
    let pieces = |f: &dyn Fn(usize, usize) -> std::ops::Range<usize>| -> (Vec<i32>, Vec<i32>) {
        let mut counts = Vec::new();
        let mut displs = Vec::new();
        let mut at = 0;
        for r in 0..p {
            let (i, j) = layout.coords(r);
            let len = (f(i, j).len() * k) as i32;
            counts.push(len);
            displs.push(at);
            at += len;
        }
        (counts, displs)
    };
    let mut w_all = vec![0.0; layout.n * k];
    let (c, d) = pieces(&|i, j| layout.w_piece(i, j));
    root.gather_varcount_into_root(&wt.data[..], &mut PartitionMut::new(&mut w_all[..], c, d));
    let mut h_all = vec![0.0; layout.m * k];
    let (c, d) = pieces(&|i, j| layout.h_piece(i, j));
    root.gather_varcount_into_root(
        &fit.h.data[..],
        &mut PartitionMut::new(&mut h_all[..], c.clone(), d.clone()),
    );
    let mut stats = vec![0.0; 3 * p];
    root.gather_into_root(&mine[..], &mut stats[..]);
    // W's rows come in world-rank order; H's pieces are placed by their columns.
    let w = Mat::from_col_major(k, layout.n, w_all)
        .expect("k × n")
        .transpose();
    let mut h = Mat::zeros(k, layout.m);
    for r in 0..p {
        let (i, j) = layout.coords(r);
        let cols = layout.h_piece(i, j);
        let src = &h_all[d[r] as usize..d[r] as usize + c[r] as usize];
        h.data[cols.start * k..cols.end * k].copy_from_slice(src);
    }
    (Some(w), Some(h), stats)
}

#[allow(clippy::too_many_arguments)]
fn write(
    a: &FitArgs,
    plan: &Plan,
    fit: &NmfFit<f64>,
    w: Mat<f64>,
    h: Mat<f64>,
    stats: &[f64],
    read_s: f64,
    fit_s: f64,
    x_sq: f64,
) -> Result<(), CliError> {
    let format = io::Format::parse(&a.format)?;
    let p = plan.layout.p();
    let col = |c: usize| -> Vec<f64> { (0..p).map(|r| stats[3 * r + c]).collect() };
    let (comm, bytes, compute) = (col(0), col(1), col(2));
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let faun = 8.0 * grid::faun_words(&plan.layout, a.rank);
    let full = NmfFit {
        w,
        h,
        ..fit.clone()
    };
    let mut report = json!({
        "nmfkit_version": env!("CARGO_PKG_VERSION"),
        "command": "nmfkit-mpi fit",
        "input": a.input,
        "params": nmfkit_cli::report::params(&plan.est),
        "factor_format": format.extension(),
        "result": nmfkit_cli::report::result(&full, x_sq, plan.est.loss.beta()),
        "timings": {"read_s": read_s, "fit_s": fit_s},
        "history": nmfkit_cli::report::history(&fit.history),
        "distributed": {
            "ranks": p,
            "grid": [plan.layout.pr, plan.layout.pc],
            "threads_per_rank": plan.threads,
            "per_iteration": {
                "time_s": fit_s / fit.n_iter.max(1) as f64,
                "compute_s_max": max(&compute),
                "communicate_s_max": max(&comm),
                "communicate_s_mean": mean(&comm),
                "bytes_received_per_rank_mean": mean(&bytes),
                "bytes_received_per_rank_max": max(&bytes),
                "mpi_faun_formula_bytes": faun,
            },
        },
    });
    report["params"]["init"] = json!(a.init);
    let mut staged = Staged::new(&a.out)?;
    staged.matrix(
        &format!("W.{}", format.extension()),
        &Matrix::Dense(full.w.clone()),
    )?;
    staged.matrix(
        &format!("H.{}", format.extension()),
        &Matrix::Dense(full.h.clone()),
    )?;
    staged.json("report.json", &report)?;
    staged.commit()?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else if !a.quiet {
        let v: &Value = &report["result"];
        eprintln!(
            "{} ranks ({}x{}): {} iterations, stopped: {}, loss {:.6e}; wrote {}",
            p,
            plan.layout.pr,
            plan.layout.pc,
            fit.n_iter,
            v["stop_reason"].as_str().unwrap_or(""),
            fit.divergence,
            a.out.display()
        );
    }
    Ok(())
}
