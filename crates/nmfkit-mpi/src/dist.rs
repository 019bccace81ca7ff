//! X spread over the grid, seen by the core's solvers through its products.
//!
//! The factors a solver holds are this rank's pieces (W's rows and H's
//! columns it owns). A product such as Wᵀ X all-gathers W_i along the grid
//! row, multiplies it with the local block X_ij, and reduce-scatters the
//! k × |C_j| result along the grid column so that each rank keeps the
//! columns of its H piece. Sums over factor entries (Grams, inner products,
//! norms) are all-reduced over the world through `reduce_sum`, so the
//! core's MU, HALS and ANLS run unchanged above this and every rank takes
//! the same decisions.

use crate::grid::Layout;
use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use nmfkit::{Data, Mat, MatRef, Problem, Side};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The world and the two grid communicators of one rank.
pub struct Comms {
    pub world: SimpleCommunicator,
    /// The pc ranks of grid row i, ordered by j.
    pub row: SimpleCommunicator,
    /// The pr ranks of grid column j, ordered by i.
    pub col: SimpleCommunicator,
}

impl Comms {
    pub fn new(world: SimpleCommunicator, layout: &Layout) -> Comms {
        let (i, j) = layout.coords(world.rank() as usize);
        let row = world
            .split_by_color_with_key(mpi::topology::Color::with_value(i as i32), j as i32)
            .expect("every rank has a colour");
        let col = world
            .split_by_color_with_key(mpi::topology::Color::with_value(j as i32), i as i32)
            .expect("every rank has a colour");
        Comms { world, row, col }
    }
}

/// Time spent in communication and the bytes received, as the collectives'
/// standard algorithms move them.
#[derive(Default)]
pub struct Traffic {
    nanos: AtomicU64,
    bytes: AtomicU64,
}

impl Traffic {
    fn add(&self, t: Instant, bytes: f64) {
        self.nanos
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// (seconds, bytes) so far.
    pub fn read(&self) -> (f64, u64) {
        (
            self.nanos.load(Ordering::Relaxed) as f64 * 1e-9,
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// This rank's view of the distributed X.
pub struct DistData<D> {
    pub local: D,
    pub layout: Layout,
    pub comms: Comms,
    pub traffic: Traffic,
    i: usize,
    j: usize,
    nnz: usize,
    sq_norm: f64,
    sum: f64,
    has_zero: bool,
}

// SAFETY: MPI is initialized with MPI_THREAD_SERIALIZED, and the core calls
// the data's methods only from the one thread that runs the fit's loop (its
// parallel loops never call back into the data), so MPI is never entered
// from two threads at once.
unsafe impl<D: Send> Send for DistData<D> {}
unsafe impl<D: Sync> Sync for DistData<D> {}

impl<D: Data<f64>> DistData<D> {
    /// Collective: every rank calls it with its own block.
    pub fn new(local: D, layout: Layout, comms: Comms) -> DistData<D> {
        let (i, j) = layout.coords(comms.world.rank() as usize);
        let mut v = [
            local.nnz() as f64,
            local.sq_norm(),
            local.sum(),
            local.has_zero() as u8 as f64,
        ];
        let mut out = [0.0; 4];
        comms
            .world
            .all_reduce_into(&v[..], &mut out[..], SystemOperation::sum());
        v = out;
        DistData {
            local,
            layout,
            comms,
            traffic: Traffic::default(),
            i,
            j,
            nnz: v[0] as usize,
            sq_norm: v[1],
            sum: v[2],
            has_zero: v[3] > 0.0,
        }
    }

    pub fn coords(&self) -> (usize, usize) {
        (self.i, self.j)
    }

    /// The pieces of a k×len factor along `comm` (offsets `off`, in comm's
    /// rank order), concatenated: W_i from the W pieces of grid row i, or H_j.
    fn gather(&self, comm: &SimpleCommunicator, piece: &Mat<f64>, off: &[usize]) -> Mat<f64> {
        let k = piece.nrows;
        let total = *off.last().unwrap();
        let mut all = Mat::zeros(k, total);
        let counts: Vec<i32> = off.windows(2).map(|w| ((w[1] - w[0]) * k) as i32).collect();
        let displs: Vec<i32> = off[..off.len() - 1]
            .iter()
            .map(|&o| (o * k) as i32)
            .collect();
        let t = Instant::now();
        {
            let mut part = PartitionMut::new(&mut all.data[..], counts, displs);
            comm.all_gather_varcount_into(&piece.data[..], &mut part);
        }
        self.traffic.add(t, ((total - piece.ncols) * k * 8) as f64);
        all
    }

    /// Sums `full` (k×len) over `comm` and keeps this rank's columns
    /// `off[me]..off[me+1]` in `out`. Pieces are padded to one block size
    /// so that MPI_Reduce_scatter_block does it.
    fn reduce_scatter(
        &self,
        comm: &SimpleCommunicator,
        full: &Mat<f64>,
        off: &[usize],
        out: &mut Mat<f64>,
    ) {
        let k = full.nrows;
        let parts = off.len() - 1;
        let block = off.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0) * k;
        let me = comm.rank() as usize;
        if parts == 1 {
            out.data.copy_from_slice(&full.data);
            return;
        }
        let mut send = vec![0.0; block * parts];
        for q in 0..parts {
            let src = &full.data[off[q] * k..off[q + 1] * k];
            send[q * block..q * block + src.len()].copy_from_slice(src);
        }
        let mut recv = vec![0.0; block];
        let t = Instant::now();
        comm.reduce_scatter_block_into(&send[..], &mut recv[..], SystemOperation::sum());
        self.traffic.add(t, ((parts - 1) * block * 8) as f64);
        let own = (off[me + 1] - off[me]) * k;
        out.data.copy_from_slice(&recv[..own]);
    }

    fn all_reduce(&self, v: &mut [f64], op: SystemOperation) {
        let send = v.to_vec();
        let p = self.layout.p() as f64;
        let t = Instant::now();
        self.comms.world.all_reduce_into(&send[..], v, op);
        self.traffic
            .add(t, 2.0 * (p - 1.0) / p * (v.len() * 8) as f64);
    }

    fn w_i(&self, piece: &Mat<f64>) -> Mat<f64> {
        self.gather(&self.comms.row, piece, &self.layout.w_offsets(self.i))
    }

    fn h_j(&self, piece: &Mat<f64>) -> Mat<f64> {
        self.gather(&self.comms.col, piece, &self.layout.h_offsets(self.j))
    }

    /// Reduce-scatters a local product to the pieces of the factor `side` updates.
    fn scatter_side(&self, side: Side, full: &Mat<f64>, out: &mut Mat<f64>) {
        match side {
            Side::H => {
                self.reduce_scatter(&self.comms.col, full, &self.layout.h_offsets(self.j), out)
            }
            Side::W => {
                self.reduce_scatter(&self.comms.row, full, &self.layout.w_offsets(self.i), out)
            }
        }
    }

    fn local_len(&self, side: Side) -> usize {
        match side {
            Side::H => self.layout.col_block(self.j).len(),
            Side::W => self.layout.row_block(self.i).len(),
        }
    }
}

impl<D: Data<f64>> Data<f64> for DistData<D> {
    fn shape(&self) -> (usize, usize) {
        (self.layout.n, self.layout.m)
    }
    fn nnz(&self) -> usize {
        self.nnz
    }
    fn is_sparse(&self) -> bool {
        self.local.is_sparse()
    }
    fn sq_norm(&self) -> f64 {
        self.sq_norm
    }
    fn sum(&self) -> f64 {
        self.sum
    }
    fn has_zero(&self) -> bool {
        self.has_zero
    }

    fn cross(&self, side: Side, l: &Mat<f64>, out: &mut Mat<f64>, par: faer::Par) {
        let gathered = match side {
            Side::H => self.w_i(l),
            Side::W => self.h_j(l),
        };
        let mut full = Mat::zeros(l.nrows, self.local_len(side));
        self.local.cross(side, &gathered, &mut full, par);
        self.scatter_side(side, &full, out);
    }

    fn cross_weighted<G>(&self, side: Side, wt: &Mat<f64>, h: &Mat<f64>, g: G, out: &mut Mat<f64>)
    where
        G: Fn(f64, f64) -> f64 + Sync,
    {
        let (wi, hj) = (self.w_i(wt), self.h_j(h));
        let mut full = Mat::zeros(wt.nrows, self.local_len(side));
        self.local.cross_weighted(side, &wi, &hj, g, &mut full);
        self.scatter_side(side, &full, out);
    }

    fn cross_all<P>(&self, side: Side, wt: &Mat<f64>, h: &Mat<f64>, psi: P, out: &mut Mat<f64>)
    where
        P: Fn(f64) -> f64 + Sync,
    {
        let (wi, hj) = (self.w_i(wt), self.h_j(h));
        let mut full = Mat::zeros(wt.nrows, self.local_len(side));
        self.local.cross_all(side, &wi, &hj, psi, &mut full);
        self.scatter_side(side, &full, out);
    }

    fn fold_stored<F>(&self, wt: &Mat<f64>, h: &Mat<f64>, f: F) -> f64
    where
        F: Fn(f64, f64) -> f64 + Sync,
    {
        let (wi, hj) = (self.w_i(wt), self.h_j(h));
        let mut v = [self.local.fold_stored(&wi, &hj, f)];
        self.all_reduce(&mut v, SystemOperation::sum());
        v[0]
    }

    fn first_bad_entry(&self) -> Option<(usize, usize, f64)> {
        self.local.first_bad_entry().map(|(r, c, v)| {
            (
                r + self.layout.row_block(self.i).start,
                c + self.layout.col_block(self.j).start,
                v,
            )
        })
    }

    fn dense_matrix(&self) -> Option<MatRef<'_, f64>> {
        None
    }
}

impl<D: Data<f64>> Problem for DistData<D> {
    fn reduce_sum(&self, v: &mut [f64]) {
        self.all_reduce(v, SystemOperation::sum());
    }

    fn reduce_max(&self, v: &mut [f64]) {
        self.all_reduce(v, SystemOperation::max());
    }
}
