//! The UCI handwritten digits built into the binary (1797 images of 8×8
//! pixels, CC BY 4.0; see `data/README.md`) and `nmfkit demo digits`: NMF
//! learns parts of digits, as NMF.jl's MNIST notebook shows — the basis
//! images, a few examples' weights and reconstructions, the convergence.

use crate::fitting::{self, canonical, FitJob};
use crate::flags::{MaskFlags, SmoothFlags};
use crate::plot::{draw_model, examples, ModelView};
use nmfkit::Mat;
use nmfkit_io::flags::{InitFlag, SolverFlag, StartFlags};
use nmfkit_io::folder::Staged;
use nmfkit_io::formats::{Format, Matrix};
use nmfkit_io::names::Names;
use nmfkit_io::report::InputInfo;
use nmfkit_io::Error;
use serde_json::json;
use std::path::Path;

const RAW: &[u8] = include_bytes!("../data/digits.bin");
pub const IMAGES: usize = 1797;
pub const SIDE: usize = 8;
/// Components of the demo: more than the ten digits, so that parts
/// (strokes) rather than whole digits come out.
pub const RANK: usize = 16;

/// The images (1797 × 64, pixels row by row, 0–16) and their digits.
pub fn digits() -> (Mat<f64>, Vec<u8>) {
    let row = SIDE * SIDE + 1;
    let x = Mat::from_fn(IMAGES, SIDE * SIDE, |i, j| RAW[i * row + j] as f64);
    let labels = (0..IMAGES).map(|i| RAW[i * row + SIDE * SIDE]).collect();
    (x, labels)
}

/// Images named by their digit (`d7_0042`), pixels by row and column.
pub fn names(labels: &[u8]) -> Names {
    Names {
        rows: Some(
            labels
                .iter()
                .enumerate()
                .map(|(i, d)| format!("d{d}_{i:04}"))
                .collect(),
        ),
        cols: Some(
            (0..SIDE * SIDE)
                .map(|p| format!("r{}c{}", p / SIDE, p % SIDE))
                .collect(),
        ),
    }
}

/// The first image of each digit: the examples drawn.
pub fn first_of_each(labels: &[u8]) -> Vec<usize> {
    (0..10u8)
        .filter_map(|d| labels.iter().position(|&l| l == d))
        .collect()
}

/// Per digit, the components with the largest mean share of its images'
/// weights, largest first: (component, share).
pub fn components_per_digit(w: &Mat<f64>, labels: &[u8]) -> Vec<Vec<(usize, f64)>> {
    let k = w.ncols;
    (0..10u8)
        .map(|d| {
            let mut mean = vec![0.0; k];
            for (i, _) in labels.iter().enumerate().filter(|(_, &l)| l == d) {
                let s: f64 = (0..k).map(|c| w.get(i, c)).sum();
                if s > 0.0 {
                    (0..k).for_each(|c| mean[c] += w.get(i, c) / s);
                }
            }
            let total: f64 = mean.iter().sum();
            let mut v: Vec<(usize, f64)> = mean
                .iter()
                .enumerate()
                .map(|(c, &m)| (c, if total > 0.0 { m / total } else { 0.0 }))
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        })
        .collect()
}

/// `nmfkit demo digits`.
pub fn demo(out: &Path, force: bool, seed: u64, quiet: bool, json_out: bool) -> Result<(), Error> {
    let (x, labels) = digits();
    let x = Matrix::Dense(x);
    let names = names(&labels);
    let mut staged = Staged::new(out, force)?;
    staged.matrix("X.npy", &x)?;
    let lp = staged.path("labels.csv");
    nmfkit_io::formats::atomic_write(&lp, |p| {
        let text: String = std::iter::once("image,digit\n".to_string())
            .chain(
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, d)| format!("{},{d}\n", names.row(i))),
            )
            .collect();
        std::fs::write(p, text)
    })?;
    let x_path = canonical(Path::new(".")).join(out).join("X.npy");
    let input = InputInfo {
        path: x_path.clone(),
        shape: [IMAGES, SIDE * SIDE],
        nnz: x.nnz(),
        sparse: false,
        transposed: false,
    };
    let model = fitting::model_flags(seed, None, SolverFlag::Auto, 500, 1e-5);
    let start = StartFlags {
        init: InitFlag::Nndsvd,
        w0: None,
        h0: None,
    };
    let job = FitJob {
        command: "demo",
        x: &x,
        names: &names,
        input,
        input_path: &x_path,
        read_s: 0.0,
        rank: RANK,
        model: &model,
        start: &start,
        mask: &MaskFlags::default(),
        smooth: &SmoothFlags::default(),
        transpose: false,
        format: Format::Npy,
        quiet: quiet || json_out,
    };
    let mut fitted = fitting::fit(&job)?;
    fitted.report.image_shape = Some([SIDE, SIDE]);
    fitting::write(&mut staged, &mut fitted, Format::Npy)?;
    let view = ModelView {
        report: &fitted.report,
        w: &fitted.w,
        h: &fitted.h,
        names: &fitted.names,
    };
    let mut written = draw_model(staged.dir(), &view, Some((SIDE, SIDE)), Some(&x))?;
    let picks = first_of_each(&labels);
    let Matrix::Dense(xd) = &x else {
        unreachable!("the digits are dense")
    };
    staged.file("examples.png", |p| {
        examples(p, xd, &fitted.w, &fitted.h, &picks, &names, (SIDE, SIDE))
    })?;
    written.push("examples.png".into());
    let per_digit = components_per_digit(&fitted.w, &labels);
    let (_, sparse_h) = nmfkit::metrics::component_sparseness(&fitted.w, &fitted.h);
    let r = &fitted.report.result;
    let eval = json!({
        "relative_error": r.relative_error,
        "iterations": r.n_iter,
        "stop_reason": r.stop_reason,
        "hoyer_sparseness_h": sparse_h,
        "components_per_digit": per_digit.iter().enumerate().map(|(d, v)| json!({
            "digit": d,
            "top": v.iter().take(3).map(|(c, s)| json!({"component": c + 1, "share": s})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    staged.json("eval.json", &eval)?;
    staged.commit()?;
    if json_out {
        crate::print_json(
            &json!({"command": "demo", "report": fitted.report, "eval": eval, "plots": written}),
        );
        return Ok(());
    }
    if quiet {
        return Ok(());
    }
    crate::print_line(&format!(
        "nmfkit demo: handwritten digits (UCI, {IMAGES} images of {SIDE}×{SIDE}), rank {RANK}, Frobenius loss, auto solver"
    ));
    crate::print_line(&format!(
        "  fit: {} iterations ({}), relative error ‖X − WH‖/‖X‖ = {:.3e}, {:.2} s",
        r.n_iter,
        r.stop_reason,
        r.relative_error.unwrap_or(f64::NAN),
        fitted.fit_time_s
    ));
    crate::print_line(&format!(
        "  parts: the basis images are sparse strokes (Hoyer sparseness of H {sparse_h:.2}; 0 dense, 1 one pixel) — see components.png"
    ));
    crate::print_line("  the components each digit is made of (share of its images' weights):");
    for (d, v) in per_digit.iter().enumerate() {
        let top: Vec<String> = v
            .iter()
            .take(3)
            .map(|(c, s)| format!("component_{} {:.0}%", c + 1, 100.0 * s))
            .collect();
        crate::print_line(&format!("    {d}: {}", top.join(", ")));
    }
    crate::print_line("  wrote X.npy, labels.csv, W.npy, H.npy, report.json, eval.json and");
    for w in written {
        crate::print_line(&format!("        {}", out.join(w).display()));
    }
    Ok(())
}
