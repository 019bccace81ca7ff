//! `nmfkit demo`: every demo recovers its ground truth.

mod common;
use common::*;

#[test]
fn demos_recover_their_ground_truth() {
    let d = tempfile::tempdir().unwrap();
    for (kind, max_angle) in [("swimmer", 10.0), ("spectra", 5.0), ("lowrank", 10.0)] {
        let out = d.path().join(kind);
        let o = ok(&["demo", kind, "--out", &out.to_string_lossy()]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("recovered"), "{text}");
        let ev = json_file(&out.join("eval.json"));
        let comps = ev["truth"]["components"].as_array().unwrap();
        let worst = comps
            .iter()
            .map(|c| c["angle_deg"].as_f64().unwrap())
            .fold(0.0, f64::max);
        assert!(worst < max_angle, "{kind}: worst matched angle {worst}°");
        if kind == "swimmer" {
            assert_eq!(comps.len(), 17);
        }
        if kind == "spectra" {
            assert!(
                comps.iter().all(|c| c["w_mse"].as_f64().unwrap() < 0.02),
                "spectra maps: {comps:?}"
            );
        }
        for png in ["convergence.png", "components.png", "reconstruction.png"] {
            png_size(&out.join(png));
        }
    }
}

#[test]
fn clusters_demo_suggests_the_planted_rank() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    let o = ok(&["demo", "clusters", "--out", &out.to_string_lossy()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("suggested rank 4 (planted: 4)"), "{text}");
    assert_eq!(json_file(&out.join("rank.json"))["suggested_rank"], 4);
}

#[test]
fn digits_demo_learns_parts_of_real_handwritten_digits() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("digits");
    let o = ok(&["demo", "digits", "--out", &out.to_string_lossy()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("1797 images") && text.contains("9: component_"),
        "{text}"
    );
    let ev = json_file(&out.join("eval.json"));
    let rel = ev["relative_error"].as_f64().unwrap();
    assert!(rel < 0.35, "relative error {rel}");
    // Parts: sparse basis images (a dense one would be near 0).
    assert!(ev["hoyer_sparseness_h"].as_f64().unwrap() > 0.5);
    assert_eq!(ev["components_per_digit"].as_array().unwrap().len(), 10);
    for png in [
        "convergence.png",
        "components.png",
        "basis.png",
        "coefficients.png",
        "reconstruction.png",
    ] {
        png_size(&out.join(png));
    }
    let (w, h) = png_size(&out.join("examples.png"));
    assert_eq!(w, nmfkit_cli::plot::EXAMPLES_WIDTH);
    assert_eq!(h, 40 + 10 * nmfkit_cli::plot::EXAMPLE_ROW + 10);
    // The data's names: every image named by its digit.
    let rows = std::fs::read_to_string(out.join("row_names.txt")).unwrap();
    assert!(rows.starts_with("d0_0000\nd1_0001\n"));
    let labels = std::fs::read_to_string(out.join("labels.csv")).unwrap();
    assert_eq!(labels.lines().count(), 1798);
    // The same data from `gen`: 1797×64 pixels 0–16 and the labels, no truth.
    let x = d.path().join("digits.npy");
    ok(&["gen", "digits", "--out", &x.to_string_lossy(), "-q"]);
    let m = read_matrix(&x).unwrap().to_dense();
    assert_eq!((m.nrows, m.ncols), (1797, 64));
    assert_eq!(m.data.iter().cloned().fold(0.0, f64::max), 16.0);
    assert!(d.path().join("digits_labels.npy").exists());
    assert!(!d.path().join("digits_W.npy").exists());
}
