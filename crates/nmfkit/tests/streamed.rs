//! Full-batch fits on data read a block of rows at a time (StreamedData):
//! the same iterations as the fit in memory, for every solver that reads X
//! through its products.

use nmfkit::minibatch::{Batch, BatchSource, InMemory};
use nmfkit::{synth, CsrMatrix, FitOptions, Loss, Mat, Nmf, SolverKind};

fn close(a: &Mat<f64>, b: &Mat<f64>, tol: f64) -> bool {
    let scale = b.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.data
        .iter()
        .zip(&b.data)
        .all(|(x, y)| (x - y).abs() <= tol * scale)
}

#[test]
fn streamed_full_batch_fits_equal_the_in_memory_fits() {
    let p = synth::low_rank::<f64>(230, 40, 4, 0.05, 1);
    let start = synth::low_rank::<f64>(230, 40, 4, 0.0, 2);
    let opts = || FitOptions {
        w0: Some(&start.w),
        h0: Some(&start.h),
        ..Default::default()
    };
    for (solver, loss) in [
        (SolverKind::Mu, Loss::Frobenius),
        (SolverKind::Mu, Loss::KullbackLeibler),
        (SolverKind::Mu, Loss::Beta(0.5)),
        (SolverKind::Hals, Loss::Frobenius),
        (SolverKind::Cd, Loss::Frobenius),
        (SolverKind::AnlsBpp, Loss::Frobenius),
    ] {
        let est = Nmf::new(4).solver(solver).loss(loss).max_iter(30).tol(0.0);
        let memory = est.fit_with(&p.x, opts()).unwrap();
        let streamed = est.fit_source(&InMemory::new(&p.x), 37, opts()).unwrap();
        assert!(
            close(&streamed.h, &memory.h, 1e-9),
            "{solver:?} {loss:?}: H"
        );
        assert!(
            close(&streamed.w, &memory.w, 1e-9),
            "{solver:?} {loss:?}: W"
        );
        let rel = (streamed.divergence - memory.divergence).abs() / memory.divergence;
        assert!(
            rel < 1e-9,
            "{solver:?} {loss:?}: {} vs {}",
            streamed.divergence,
            memory.divergence
        );
        assert_eq!(streamed.n_iter, memory.n_iter);
    }
    // Sparse batches with holes (HALS's inner sweeps count the stored
    // entries), and the random start of the in-memory fit.
    let holed = Mat::from_fn(
        230,
        40,
        |i, j| if (i + j) % 3 == 0 { 0.0 } else { p.x.get(i, j) },
    );
    let csr = CsrMatrix::from_dense(holed.as_ref());
    let est = Nmf::new(4)
        .solver(SolverKind::Hals)
        .init(nmfkit::Init::Random)
        .max_iter(20);
    let memory = est.fit(&csr).unwrap();
    let streamed = est
        .fit_source(&InMemory::new(&csr), 50, FitOptions::default())
        .unwrap();
    assert!(close(&streamed.h, &memory.h, 1e-9));
    let err = Nmf::new(4)
        .init(nmfkit::Init::Nndsvd)
        .fit_source(&InMemory::new(&p.x), 50, FitOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("in memory"), "{err}");
}

/// A source that fails after a number of reads (a file that went away).
struct Failing {
    x: Mat<f64>,
    ok_reads: usize,
    reads: std::sync::atomic::AtomicUsize,
}

impl BatchSource<f64> for Failing {
    fn shape(&self) -> (usize, usize) {
        (self.x.nrows, self.x.ncols)
    }
    fn rows(&self, start: usize, end: usize) -> nmfkit::Result<Batch<f64>> {
        let r = self
            .reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if r >= self.ok_reads {
            return Err(nmfkit::NmfError::InvalidParameter {
                name: "X",
                reason: format!("cannot read rows from {start}"),
            });
        }
        InMemory::new(&self.x).rows(start, end)
    }
}

#[test]
fn a_read_failure_during_the_fit_is_its_error() {
    let p = synth::low_rank::<f64>(100, 10, 2, 0.0, 3);
    let src = Failing {
        x: p.x.clone(),
        ok_reads: 40,
        reads: 0.into(),
    };
    let err = Nmf::new(2)
        .solver(SolverKind::Hals)
        .max_iter(100)
        .fit_source(&src, 25, FitOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read rows"), "{err}");
}
