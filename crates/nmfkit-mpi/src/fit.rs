//! `nmfkit-mpi fit`: every rank agrees on the plan, reads its block, runs
//! the core's solver on the distributed data, and rank 0 writes the model.

use crate::dist::{Comms, DistData};
use crate::gather::{gather, write_model};
use crate::grid::{self, Layout};
use crate::{agree, block, FitArgs, Reported};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use nmfkit::{Data, DenseData, Init, Mat, Nmf, SparseData};
use nmfkit_io::flags::InitFlag;
use nmfkit_io::formats::{read_dense, Matrix};
use nmfkit_io::progress::{interrupt_flag, Reporter};
use nmfkit_io::settings::StopDefaults;
use nmfkit_io::Error as CliError;
use std::time::Instant;

/// What every rank agrees on before reading data.
pub(crate) struct Plan {
    pub est: Nmf,
    pub layout: Layout,
    pub threads: usize,
}

fn plan(world: &SimpleCommunicator, a: &FitArgs) -> Result<Plan, CliError> {
    let mut est = a.model.estimator(a.rank, StopDefaults::FIT)?;
    let beta = est.loss.beta();
    if beta != 2.0 && beta != 1.0 {
        return Err(CliError::usage(format!(
            "the distributed fit supports the Frobenius and KL losses, not beta = {beta}"
        )));
    }
    est = match a.start.init {
        InitFlag::Auto | InitFlag::Random => est.init(Init::Random),
        InitFlag::Custom => est,
        other => {
            return Err(CliError::usage(format!(
                "--init must be auto, random or custom here, got '{}' (NNDSVD needs an SVD of the whole matrix)",
                format!("{other:?}").to_lowercase()
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

pub(crate) fn fit(world: &SimpleCommunicator, a: FitArgs) -> Result<(), Reported> {
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
    if a.start.init != InitFlag::Custom {
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
    let (Some(wp), Some(hp)) = (&a.start.w0, &a.start.h0) else {
        return Err(CliError::usage("--init custom needs both --w0 and --h0"));
    };
    let (w, h) = (read_dense(wp)?, read_dense(hp)?);
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
    let interrupted = interrupt_flag();
    let quiet = a.output.quiet || a.output.json;
    let mut reporter = root.then(|| Reporter::new(quiet, plan.est.max_iter));
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
        write_model(
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
