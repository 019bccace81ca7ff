//! Every bad input gives its typed error; none panics.

mod common;
use common::*;
use nmfkit::*;

fn err_of(r: Result<NmfFit<f64>>) -> NmfError {
    r.expect_err("expected an error")
}

#[test]
fn bad_entries_in_x_are_named() {
    let (x, _, _) = problem(10, 8, 2, 1);
    for (val, want_negative) in [
        (-1.0, true),
        (f64::NAN, false),
        (f64::INFINITY, false),
        (f64::NEG_INFINITY, false),
    ] {
        let mut bad = x.clone();
        bad.set(3, 5, val);
        let csr = CsrMatrix::from_dense(bad.as_ref());
        for input in [Input::from(&bad), Input::from(&csr)] {
            match err_of(Nmf::new(2).fit(input)) {
                NmfError::Negative { row, col, what, .. } if want_negative => {
                    assert_eq!((row, col, what), (3, 5, "X"))
                }
                NmfError::NonFinite { row, col, .. } if !want_negative => {
                    assert_eq!((row, col), (3, 5))
                }
                e => panic!("unexpected error for {val}: {e}"),
            }
        }
    }
}

#[test]
fn empty_matrix_and_zero_rank() {
    let empty = Mat::<f64>::zeros(0, 5);
    assert!(matches!(
        err_of(Nmf::new(2).fit(&empty)),
        NmfError::Empty { rows: 0, cols: 5 }
    ));
    let (x, _, _) = problem(10, 8, 2, 1);
    assert_eq!(err_of(Nmf::new(0).fit(&x)), NmfError::ZeroRank);
}

#[test]
fn rank_too_large_for_nndsvd_but_not_for_random() {
    let (x, _, _) = problem(10, 8, 2, 1);
    for init in [Init::Nndsvd, Init::Nndsvda, Init::Nndsvdar] {
        assert!(matches!(
            err_of(Nmf::new(9).init(init).fit(&x)),
            NmfError::RankTooLarge {
                rank: 9,
                max: 8,
                ..
            }
        ));
    }
    let fit = Nmf::new(9).init(Init::Random).max_iter(10).fit(&x).unwrap();
    assert_eq!(fit.h.nrows, 9);
    // Auto falls back to random.
    assert_eq!(
        Nmf::new(9).max_iter(3).fit(&x).unwrap().init,
        Some(Init::Random)
    );
}

#[test]
fn custom_factors_are_checked() {
    let (x, w0, h0) = problem(10, 8, 2, 1);
    let e = err_of(Nmf::new(2).fit_from(&x, &Mat::zeros(9, 2), &h0));
    assert!(
        matches!(
            e,
            NmfError::Shape {
                what: "W",
                got: (9, 2),
                expected: (10, 2)
            }
        ),
        "{e}"
    );
    let e = err_of(Nmf::new(2).fit_from(&x, &w0, &Mat::zeros(2, 7)));
    assert!(matches!(e, NmfError::Shape { what: "H", .. }));
    let mut neg = w0.clone();
    neg.set(1, 1, -0.5);
    assert!(matches!(
        err_of(Nmf::new(2).fit_from(&x, &neg, &h0)),
        NmfError::Negative {
            what: "W",
            row: 1,
            col: 1,
            ..
        }
    ));
    let mut nan = h0.clone();
    nan.set(0, 3, f64::NAN);
    assert!(matches!(
        err_of(Nmf::new(2).fit_from(&x, &w0, &nan)),
        NmfError::NonFinite { what: "H", .. }
    ));
    assert_eq!(
        err_of(Nmf::new(2).fit_from(&x, &Mat::zeros(10, 2), &h0)),
        NmfError::AllZero { what: "W" }
    );
    let e = Nmf::new(2).transform(&x, &Mat::zeros(2, 8)).unwrap_err();
    assert_eq!(e, NmfError::AllZero { what: "H" });
}

#[test]
fn non_positive_beta_with_zeros_is_an_error() {
    let (x, _, _) = problem(10, 8, 2, 1);
    let holes = with_holes(&x);
    for loss in [Loss::ItakuraSaito, Loss::Beta(-1.0)] {
        let e = err_of(Nmf::new(2).solver(SolverKind::Mu).loss(loss).fit(&holes));
        assert!(matches!(e, NmfError::ZerosWithNonPositiveBeta { .. }));
        // Sparse data: the unstored entries are zeros too.
        let csr = CsrMatrix::from_dense(holes.as_ref());
        let e = err_of(Nmf::new(2).solver(SolverKind::Mu).loss(loss).fit(&csr));
        assert!(matches!(e, NmfError::ZerosWithNonPositiveBeta { .. }));
        // Without zeros the same loss is accepted.
        let ok_dense = Nmf::new(2)
            .solver(SolverKind::Mu)
            .loss(loss)
            .max_iter(5)
            .fit(&x);
        assert!(ok_dense.is_ok());
    }
}

#[test]
fn unsupported_combinations_and_bad_parameters() {
    let (x, _, _) = problem(10, 8, 2, 1);
    for s in [SolverKind::Cd, SolverKind::Hals] {
        assert!(matches!(
            err_of(Nmf::new(2).solver(s).loss(Loss::KullbackLeibler).fit(&x)),
            NmfError::Unsupported { .. }
        ));
    }
    let bad_reg = [
        Regularization {
            alpha_w: -1.0,
            alpha_h: None,
            l1_ratio: 0.0,
        },
        Regularization {
            alpha_w: 0.0,
            alpha_h: Some(f64::NAN),
            l1_ratio: 0.0,
        },
        Regularization {
            alpha_w: 0.0,
            alpha_h: None,
            l1_ratio: 1.5,
        },
    ];
    for r in bad_reg {
        assert!(matches!(
            err_of(Nmf::new(2).regularization(r).fit(&x)),
            NmfError::InvalidParameter { .. }
        ));
    }
    assert!(matches!(
        err_of(Nmf::new(2).tol(-1.0).fit(&x)),
        NmfError::InvalidParameter { name: "tol", .. }
    ));
    assert!(matches!(
        err_of(Nmf::new(2).max_iter(0).fit(&x)),
        NmfError::InvalidParameter {
            name: "max_iter",
            ..
        }
    ));
    // Every solver's name parses back to it (the CLI and Python pass names).
    for kind in [
        SolverKind::Mu,
        SolverKind::Cd,
        SolverKind::Hals,
        SolverKind::AnlsBpp,
    ] {
        assert_eq!(SolverKind::parse(kind.name()).unwrap(), kind);
    }
    assert!(SolverKind::parse("nonsense")
        .unwrap_err()
        .to_string()
        .contains("anls"));
    assert!(Loss::parse("nonsense").is_err());
    assert_eq!(Loss::parse("2").unwrap(), Loss::Frobenius);
    assert_eq!(Loss::parse("0.5").unwrap(), Loss::Beta(0.5));
}

#[test]
fn malformed_sparse_matrices_are_rejected() {
    let e = CsrMatrix::<f64>::try_new(2, 3, vec![0, 1], vec![0], vec![1.0]).unwrap_err();
    assert!(e.to_string().contains("indptr"));
    let e = CsrMatrix::<f64>::try_new(2, 3, vec![0, 1, 2], vec![0, 3], vec![1.0, 2.0]).unwrap_err();
    assert!(e.to_string().contains("out of range"));
    let e = CsrMatrix::<f64>::try_new(2, 3, vec![0, 2, 1], vec![0, 1], vec![1.0, 2.0]).unwrap_err();
    assert!(e.to_string().contains("indptr"));
    // Unsorted indices and duplicates are canonicalized (duplicates summed).
    let m =
        CsrMatrix::<f64>::try_new(1, 3, vec![0, 3], vec![2, 0, 2], vec![1.0, 2.0, 3.0]).unwrap();
    assert_eq!(m.indices(), &[0, 2]);
    assert_eq!(m.values(), &[2.0, 4.0]);
}
