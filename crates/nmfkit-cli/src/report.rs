//! The JSON report of a fit.

use nmfkit::{HistoryEntry, Nmf, NmfFit};
use serde_json::{json, Value};

pub fn history(h: &[HistoryEntry]) -> Value {
    Value::Array(
        h.iter()
            .map(|e| {
                json!({
                    "iter": e.iter,
                    "time_s": e.time_s,
                    "loss": e.objective,
                    "divergence": e.divergence,
                    "rel_decrease": e.rel_decrease,
                    "violation": e.violation,
                })
            })
            .collect(),
    )
}

pub fn params(est: &Nmf) -> Value {
    let r = est.regularization;
    json!({
        "rank": est.rank,
        "loss": est.loss.name(),
        "beta": est.loss.beta(),
        "solver": est.solver.name(),
        "init": est.init.name(),
        "seed": est.seed,
        "max_iter": est.max_iter,
        "tol": est.tol,
        "time_limit_s": est.time_limit.map(|d| d.as_secs_f64()),
        "alpha_w": r.alpha_w,
        "alpha_h": r.alpha_h.unwrap_or(r.alpha_w),
        "l1_ratio": r.l1_ratio,
        "shuffle": est.shuffle,
        "extrapolate": est.extrapolate,
        "threads": if est.threads == 0 { rayon_threads() } else { est.threads },
    })
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// ‖X − WH‖_F / ‖X‖_F from the fit's loss when it is Frobenius.
pub fn result(fit: &NmfFit<f64>, x_sq_norm: f64, beta: f64) -> Value {
    let rel = if beta == 2.0 && x_sq_norm > 0.0 {
        Some(fit.reconstruction_err / x_sq_norm.sqrt())
    } else {
        None
    };
    json!({
        "n_iter": fit.n_iter,
        "stop_reason": fit.stop.name(),
        "converged": fit.converged(),
        "interrupted": fit.stop == nmfkit::StopReason::Cancelled,
        "objective": fit.objective,
        "loss": fit.divergence,
        "reconstruction_err": fit.reconstruction_err,
        "relative_error": rel,
        "init_used": fit.init.map(|i| i.name()),
    })
}
