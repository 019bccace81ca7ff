//! Factorizes a generated low-rank matrix with each solver and says how well
//! the planted factors were recovered. Run: `cargo run --release --example demo`.

use nmfkit::{synth, Loss, Nmf, SolverKind};
use std::time::Instant;

fn main() -> nmfkit::Result<()> {
    let (n, m, k) = (1000, 400, 8);
    let data = synth::low_rank::<f64>(n, m, k, 0.01, 42);
    println!("data: {n}×{m}, planted rank {k}, small non-negative noise");
    for (name, est) in [
        (
            "hals (Frobenius)",
            Nmf::new(k).solver(SolverKind::Hals).tol(1e-6).max_iter(500),
        ),
        (
            "cd   (Frobenius)",
            Nmf::new(k).solver(SolverKind::Cd).tol(1e-6).max_iter(500),
        ),
        (
            "mu   (Frobenius)",
            Nmf::new(k).solver(SolverKind::Mu).tol(1e-6).max_iter(500),
        ),
        (
            "mu   (KL)       ",
            Nmf::new(k)
                .solver(SolverKind::Mu)
                .loss(Loss::KullbackLeibler)
                .tol(1e-6)
                .max_iter(500),
        ),
    ] {
        let t = Instant::now();
        let fit = est.seed(1).fit(&data.x)?;
        let rel = (fit.reconstruct().data.iter().zip(&data.x.data))
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
            / data.x.norm();
        println!(
            "{name}: {:4} iterations ({}), {:7.1} ms, relative error ‖X − WH‖/‖X‖ = {rel:.2e}",
            fit.n_iter,
            fit.stop.name(),
            t.elapsed().as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
