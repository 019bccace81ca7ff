//! `nmfkit rank`: the survey, its folder and its plots.

mod common;
use common::*;

#[test]
fn rank_survey_finds_the_planted_clusters_and_writes_its_folder() {
    let d = tempfile::tempdir().unwrap();
    let x = p(d.path(), "C.npy");
    ok(&[
        "gen", "clusters", "--rows", "120", "--cols", "60", "--rank", "3", "--noise", "0.1",
        "--out", &x,
    ]);
    let out = d.path().join("survey");
    let o = ok(&[
        "rank",
        &x,
        "--ranks",
        "2..5",
        "--runs",
        "10",
        "--random-copy",
        "--seed",
        "4",
        "--out",
        &out.to_string_lossy(),
        "--json",
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r, json_file(&out.join("rank.json")));
    assert_eq!(r["suggested_rank"], 3);
    let table = r["table"].as_array().unwrap();
    assert_eq!(table.len(), 4);
    let best = |key: &str| {
        table
            .iter()
            .max_by(|a, b| {
                a[key]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b[key].as_f64().unwrap())
            })
            .unwrap()["rank"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(best("cophenetic"), 3);
    assert_eq!(best("dispersion"), 3);
    // The randomized copy has no cluster structure to agree on.
    let random = r["randomized_table"].as_array().unwrap();
    assert_eq!(random.len(), 4);
    assert!(random[1]["cophenetic"].as_f64().unwrap() < table[1]["cophenetic"].as_f64().unwrap());
    // The CSV holds the same rows as the JSON, data then randomized.
    let csv = std::fs::read_to_string(out.join("rank.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 4 + 4);
    assert!(lines[0].starts_with("data,rank,runs,best_objective"));
    assert!(lines[2].starts_with("data,3,10,"));
    assert!(lines[5].starts_with("randomized,2,10,"));
    // clusters.csv: item, then the cluster at each rank; at rank 3 the
    // planted clusters (item i in cluster i mod 3).
    let clusters = std::fs::read_to_string(out.join("clusters.csv")).unwrap();
    let rows: Vec<Vec<usize>> = clusters
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 120);
    for a in &rows {
        for b in &rows {
            assert_eq!(a[2] == b[2], a[0] % 3 == b[0] % 3);
        }
    }
    for k in 2..=5 {
        assert_eq!(
            png_size(&out.join(format!("consensus_{k}.png"))),
            nmfkit_cli::plot::CONSENSUS_SIZE
        );
    }
    assert_eq!(png_size(&out.join("rank.png")), nmfkit_cli::plot::RANK_SIZE);

    // Same seed, same table (timings aside).
    let again = d.path().join("again");
    let o2 = ok(&[
        "rank",
        &x,
        "--ranks",
        "2..5",
        "--runs",
        "10",
        "--random-copy",
        "--seed",
        "4",
        "--out",
        &again.to_string_lossy(),
        "--json",
        "--no-plots",
    ]);
    let r2: Value = serde_json::from_slice(&o2.stdout).unwrap();
    for (a, b) in table.iter().zip(r2["table"].as_array().unwrap()) {
        for key in ["best_objective", "cophenetic", "dispersion", "silhouette"] {
            assert_eq!(a[key], b[key]);
        }
    }
    assert!(!again.join("rank.png").exists());

    // Cross-validation: the held-out error is lowest at the planted rank.
    let cvd = d.path().join("cv");
    let o3 = ok(&[
        "rank",
        &x,
        "--ranks",
        "2..5",
        "--runs",
        "3",
        "--cv-folds",
        "2",
        "--seed",
        "4",
        "--out",
        &cvd.to_string_lossy(),
        "--json",
        "--no-plots",
    ]);
    let r3: Value = serde_json::from_slice(&o3.stdout).unwrap();
    let cv: Vec<f64> = r3["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cv_error"].as_f64().unwrap())
        .collect();
    let lowest = (0..cv.len()).fold(0, |b, i| if cv[i] < cv[b] { i } else { b });
    assert_eq!(lowest + 2, 3, "{cv:?}");
    assert!(std::fs::read_to_string(cvd.join("rank.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .ends_with(",cv_error"));

    // Bad requests: exit 2, one line, nothing written.
    for (args, needle) in [
        (vec!["--ranks", "0..3"], "ranks start at 1"),
        (vec!["--ranks", "5..2"], "empty"),
        (vec!["--runs", "0"], "--runs"),
        (vec!["--cluster", "diagonal"], "diagonal"),
        (vec!["--loss", "kl", "--solver", "cd"], "cd"),
        (
            vec!["--cv-folds", "2", "--cv-fraction", "1.5"],
            "--cv-fraction",
        ),
    ] {
        let bad = d.path().join("bad");
        let mut all = vec!["rank", x.as_str(), "--out"];
        let b = bad.to_string_lossy().into_owned();
        all.push(&b);
        all.extend(args.iter().copied());
        let o = nmfkit(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{all:?}: {err}");
        assert!(!bad.join("rank.json").exists());
    }
}
