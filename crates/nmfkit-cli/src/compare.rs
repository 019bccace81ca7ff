//! Fitted components against true ones: the best one-to-one matching
//! (Hungarian assignment) and the errors of the matched pairs.

use nmfkit::metrics::{map_errors, match_rows};
use nmfkit::Mat;
use serde_json::{json, Value};

/// Matches estimated components to true ones by the rows of H (or, with
/// only W given, the columns of W). Estimated pairs are rescaled so that
/// their H rows have the true norms before errors are taken.
pub fn compare(w: &Mat<f64>, h: &Mat<f64>, tw: Option<&Mat<f64>>, th: Option<&Mat<f64>>) -> Value {
    let by_h = th.is_some();
    let (est, tru) = match (tw, th) {
        (_, Some(th)) => (h.clone(), th.clone()),
        (Some(tw), None) => (w.transpose(), tw.transpose()),
        (None, None) => return Value::Null,
    };
    if est.ncols != tru.ncols || est.nrows < tru.nrows {
        return json!({"error": format!("true factors ({}×{}) do not fit the model's ({}×{})", tru.nrows, tru.ncols, est.nrows, est.ncols)});
    }
    let matching = match_rows(&est, &tru);
    let norm = |m: &Mat<f64>, i: usize| {
        (0..m.ncols)
            .map(|j| m.get(i, j).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut comps = Vec::new();
    for (t, &e) in matching.assignment.iter().enumerate() {
        let ne = norm(&est, e);
        let s = if ne > 0.0 { norm(&tru, t) / ne } else { 1.0 };
        let erow: Vec<f64> = (0..est.ncols).map(|j| est.get(e, j) * s).collect();
        let trow: Vec<f64> = (0..tru.ncols).map(|j| tru.get(t, j)).collect();
        let errs = map_errors(&erow, &trow);
        let mut c = json!({"truth": t, "estimate": e, "angle_deg": matching.angles[t], "mse": errs.mse, "mae": errs.mae, "r2": errs.r2});
        // The other factor, scaled the other way.
        let other = match (by_h, tw) {
            (true, Some(tw)) if tw.nrows == w.nrows => Some((
                (0..w.nrows).map(|i| w.get(i, e) / s).collect::<Vec<_>>(),
                (0..tw.nrows).map(|i| tw.get(i, t)).collect::<Vec<_>>(),
            )),
            _ => None,
        };
        if let Some((ew, twc)) = other {
            c["w_angle_deg"] = json!(nmfkit::metrics::spectral_angle(&ew, &twc));
            c["w_mse"] = json!(map_errors(&ew, &twc).mse);
        }
        comps.push(c);
    }
    let angles = &matching.angles;
    json!({
        "matched_by": if by_h { "rows of H" } else { "columns of W" },
        "mean_angle_deg": angles.iter().sum::<f64>() / angles.len().max(1) as f64,
        "max_angle_deg": angles.iter().cloned().fold(0.0, f64::max),
        "components": comps,
    })
}
