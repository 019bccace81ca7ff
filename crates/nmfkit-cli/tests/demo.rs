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
