use super::*;
use crate::{synth, CsrMatrix, Mat, SolverKind};

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

#[test]
fn cophenetic_and_dispersion_peak_at_the_planted_rank() {
    for (planted, seed) in [(3, 1), (4, 2)] {
        let x = synth::clustered::<f64>(60, 48, planted, 0.05, seed).x;
        let opts = SurveyOptions {
            n_runs: 12,
            ..Default::default()
        };
        let est = Nmf::new(1).solver(SolverKind::Hals).seed(5).max_iter(300);
        let ranks = [2, 3, 4, 5, 6];
        let mut seen = Vec::new();
        let table = est
            .survey(&x, &ranks, &opts, |r| {
                let c = r.consensus.to_dense(None);
                for i in 0..c.nrows {
                    assert_eq!(c.get(i, i), 1.0);
                    for j in 0..c.ncols {
                        assert_eq!(c.get(i, j), c.get(j, i));
                        assert!((0.0..=1.0).contains(&c.get(i, j)));
                    }
                }
                let mut o = r.order.clone();
                o.sort_unstable();
                assert_eq!(o, (0..60).collect::<Vec<_>>());
                seen.push(r.stats.rank);
            })
            .unwrap();
        assert_eq!(seen, ranks);
        let coph: Vec<f64> = table.iter().map(|s| s.cophenetic).collect();
        let disp: Vec<f64> = table.iter().map(|s| s.dispersion).collect();
        let sil: Vec<f64> = table.iter().map(|s| s.silhouette).collect();
        let at = ranks.iter().position(|&k| k == planted).unwrap();
        assert_eq!(argmax(&coph), at, "cophenetic {coph:?}");
        assert_eq!(argmax(&disp), at, "dispersion {disp:?}");
        assert_eq!(argmax(&sil), at, "silhouette {sil:?}");
        // At the planted rank the runs agree on the clusters of the data.
        let best = &table[at];
        assert!(best.cophenetic > 0.99 && best.dispersion > 0.99, "{best:?}");
        // Explained variance grows with the rank; every number is finite.
        for s in &table {
            for v in [
                s.best_objective,
                s.mean_objective,
                s.explained_variance,
                s.sparseness_w,
                s.sparseness_h,
                s.cophenetic,
                s.dispersion,
                s.silhouette,
            ] {
                assert!(v.is_finite());
            }
            assert!(s.mean_objective >= s.best_objective);
        }
        assert!(table[at].explained_variance > table[0].explained_variance);
    }
}

#[test]
fn the_tree_recovers_the_planted_clusters() {
    let data = synth::clustered::<f64>(45, 30, 3, 0.02, 4);
    let opts = SurveyOptions {
        n_runs: 8,
        ..Default::default()
    };
    let r = Nmf::new(3)
        .solver(SolverKind::Hals)
        .seed(2)
        .survey_rank(&data.x, &opts)
        .unwrap()
        .unwrap();
    for i in 0..45 {
        for j in 0..45 {
            assert_eq!(r.clusters[i] == r.clusters[j], i % 3 == j % 3);
        }
    }
    // Clusters form contiguous blocks in the leaf order.
    let blocks: Vec<usize> = r.order.iter().map(|&i| r.clusters[i]).collect();
    let changes = blocks.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(changes, 2);
}

#[test]
fn columns_axis_sparse_input_and_reproducibility() {
    // Clusters of features: the transpose of clustered samples.
    let x = synth::clustered::<f64>(36, 25, 3, 0.02, 8).x.transpose();
    let xs = CsrMatrix::from_dense(x.as_ref());
    let opts = SurveyOptions {
        n_runs: 6,
        axis: ClusterAxis::Columns,
        ..Default::default()
    };
    let est = Nmf::new(3).solver(SolverKind::Hals).seed(3).max_iter(100);
    let dense = est.survey_rank(&x, &opts).unwrap().unwrap();
    assert_eq!(dense.consensus.len(), 36);
    assert!(dense.stats.cophenetic > 0.99);
    let sparse = est.survey_rank(&xs, &opts).unwrap().unwrap();
    assert_eq!(dense.clusters, sparse.clusters);
    assert!((dense.stats.cophenetic - sparse.stats.cophenetic).abs() < 1e-9);
    for threads in [1, 2] {
        let again = Nmf {
            threads,
            ..est.clone()
        }
        .survey_rank(&x, &opts)
        .unwrap()
        .unwrap();
        assert_eq!(again.consensus, dense.consensus);
        assert_eq!(again.stats.best_objective, dense.stats.best_objective);
    }
}

#[test]
fn progress_cancel_and_bad_options() {
    let x = synth::clustered::<f64>(30, 20, 2, 0.05, 1).x;
    let est = Nmf::new(2).solver(SolverKind::Hals).seed(1);
    let calls = AtomicUsize::new(0);
    let count = |rank: usize, done: usize| {
        assert!(rank == 2 && (1..=4).contains(&done));
        calls.fetch_add(1, Ordering::Relaxed);
    };
    let opts = SurveyOptions {
        n_runs: 4,
        on_run: Some(&count),
        ..Default::default()
    };
    assert!(est.survey_rank(&x, &opts).unwrap().is_some());
    assert_eq!(calls.load(Ordering::Relaxed), 4);

    let stop = AtomicBool::new(true);
    let cancelled = SurveyOptions {
        n_runs: 4,
        cancel: Some(&stop),
        ..Default::default()
    };
    assert!(est.survey_rank(&x, &cancelled).unwrap().is_none());
    assert!(est
        .survey(&x, &[2, 3], &cancelled, |_| {})
        .unwrap()
        .is_empty());

    let none = SurveyOptions::default();
    assert!(est.survey_rank(&x, &none).is_err());
    let one = SurveyOptions {
        n_runs: 1,
        ..Default::default()
    };
    assert!(est.survey(&x, &[], &one, |_| {}).is_err());
    assert!(est.survey(&x, &[0], &one, |_| {}).is_err());
    // Rank 1 is legal and gives finite (trivially perfect) measures.
    let r1 = est.survey(&x, &[1], &one, |_| {}).unwrap();
    assert_eq!(r1[0].cophenetic, 1.0);
    assert_eq!(r1[0].silhouette, 0.0);
}

#[test]
fn suggestion_prefers_dispersion_among_the_best_cophenetic() {
    let row = |rank, cophenetic, dispersion| RankStats {
        rank,
        runs: 1,
        best_objective: 0.0,
        mean_objective: 0.0,
        explained_variance: 0.0,
        relative_error: 0.0,
        sparseness_w: 0.0,
        sparseness_h: 0.0,
        cophenetic,
        dispersion,
        silhouette: 0.0,
        mean_iterations: 0.0,
        seconds_per_run: 0.0,
        cv_error: None,
    };
    // The measured 5000×500 survey (planted 6): a dip at 3 must not win.
    let t = [
        row(2, 0.9777, 0.22),
        row(3, 0.9746, 0.39),
        row(6, 0.9998, 0.986),
        row(7, 0.9998, 0.982),
        row(8, 0.9995, 0.96),
    ];
    assert_eq!(suggested_rank(&t), Some(6));
    assert_eq!(suggested_rank(&t[..2]), Some(3));
    assert_eq!(suggested_rank(&[]), None);
    // Rank 1 (one cluster: cophenetic and dispersion 1) never wins.
    let with_one = [row(1, 1.0, 1.0), row(2, 0.95, 0.5), row(3, 0.9, 0.6)];
    assert_eq!(suggested_rank(&with_one), Some(2));
    assert_eq!(suggested_rank(&with_one[..1]), None);
}

#[test]
fn cross_validation_error_is_lowest_at_the_planted_rank() {
    let x = synth::low_rank::<f64>(60, 50, 4, 0.05, 11).x;
    let opts = SurveyOptions {
        n_runs: 2,
        cv_folds: 2,
        cv_fraction: 0.1,
        ..Default::default()
    };
    let est = Nmf::new(1).solver(SolverKind::Hals).seed(3).max_iter(300);
    let table = est.survey(&x, &[2, 3, 4, 5, 6, 7], &opts, |_| {}).unwrap();
    let cv: Vec<f64> = table.iter().map(|s| s.cv_error.unwrap()).collect();
    assert_eq!(
        table[argmax(&cv.iter().map(|v| -v).collect::<Vec<_>>())].rank,
        4,
        "{cv:?}"
    );
    // Sparse data: the same minimum, on stored entries and as many zeros.
    let xs = crate::CsrMatrix::from_dense(x.as_ref());
    let table = est.survey(&xs, &[2, 3, 4, 5, 6, 7], &opts, |_| {}).unwrap();
    let cv: Vec<f64> = table.iter().map(|s| s.cv_error.unwrap()).collect();
    assert_eq!(
        table[argmax(&cv.iter().map(|v| -v).collect::<Vec<_>>())].rank,
        4,
        "sparse {cv:?}"
    );
    assert!(cross_validation_error(&est, x.as_ref(), 0, 0.1, 0).is_err());
    assert!(cross_validation_error(&est, x.as_ref(), 1, 1.5, 0).is_err());
    assert!(cross_validation_error_sparse(&est, &xs, 0, 0.1, 0).is_err());
    let e = cross_validation_error_sparse(&est, &xs, 1, 0.1, 5).unwrap();
    assert_eq!(
        e,
        cross_validation_error_sparse(&est, &xs, 1, 0.1, 5).unwrap()
    );
}

#[test]
fn sparse_cross_validation_scores_held_out_zeros() {
    // Block-diagonal X = WH: two thirds of it are exact (unstored) zeros.
    // Rank 3 predicts the held-out counts and zeros; rank 1 cannot.
    let w = Mat::from_fn(60, 3, |i, c| {
        if i % 3 == c {
            1.0 + (i % 7) as f64
        } else {
            0.0
        }
    });
    let h = Mat::from_fn(3, 45, |c, j| {
        if j % 3 == c {
            1.0 + (j % 5) as f64
        } else {
            0.0
        }
    });
    let x = crate::inverse_transform(&w, &h);
    let xs = CsrMatrix::from_dense(x.as_ref());
    assert_eq!(xs.nnz(), 60 * 45 / 3);
    let est = Nmf::new(3)
        .solver(SolverKind::Hals)
        .seed(2)
        .max_iter(500)
        .tol(0.0);
    let e3 = cross_validation_error_sparse(&est, &xs, 2, 0.1, 4).unwrap();
    let e1 = cross_validation_error_sparse(
        &Nmf {
            rank: 1,
            ..est.clone()
        },
        &xs,
        2,
        0.1,
        4,
    )
    .unwrap();
    assert!(e3 < 0.02 && e1 > 0.3, "rank 3: {e3}, rank 1: {e1}");
}
