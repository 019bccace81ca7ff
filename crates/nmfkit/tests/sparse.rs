//! Sparse data: CSR read in place, and products that equal the dense ones
//! whichever way they are formed (scattered from rows or gathered from the
//! transposed copy).

use faer::Par;
use nmfkit::*;

fn small() -> (Vec<i32>, Vec<i32>, Vec<f64>) {
    // 3×4: rows [0: (1, 2.0), (3, 1.0)], [1: none], [2: (0, 4.0), (2, 0.5)].
    (vec![0, 2, 2, 4], vec![1, 3, 0, 2], vec![2.0, 1.0, 4.0, 0.5])
}

#[test]
fn canonical_scipy_arrays_are_read_in_place() {
    let (p, i, v) = small();
    let a = Csr::borrowed(3, 4, &p, &i, &v).unwrap();
    assert!(a.borrows_values());
    assert_eq!(a.values().as_ptr(), v.as_ptr());
    let p64: Vec<i64> = p.iter().map(|&x| x as i64).collect();
    let i64s: Vec<i64> = i.iter().map(|&x| x as i64).collect();
    let b = Csr::borrowed(3, 4, &p64, &i64s, &v).unwrap();
    assert!(b.borrows_values());
    assert_eq!(a, b);
    let owned = CsrMatrix::try_new(3, 4, vec![0, 2, 2, 4], vec![1, 3, 0, 2], v.clone()).unwrap();
    assert_eq!(a, owned);
    assert_eq!(a.to_dense(), owned.to_dense());
}

#[test]
fn unsorted_rows_and_duplicates_are_canonicalized_into_a_copy() {
    // Row 0 lists column 3, then 1 twice (summed, as scipy does).
    let p = vec![0i32, 3, 3, 4];
    let i = vec![3i32, 1, 1, 2];
    let v = vec![1.0, 2.0, 0.5, 7.0];
    let a = Csr::borrowed(3, 4, &p, &i, &v).unwrap();
    assert!(!a.borrows_values());
    assert_eq!(a.nnz(), 3);
    assert_eq!(a.row(0), (&[1u32, 3][..], &[2.5, 1.0][..]));
    assert_eq!(a.row(2), (&[2u32][..], &[7.0][..]));
}

#[test]
fn bad_index_arrays_name_the_problem() {
    let v = vec![1.0, 2.0];
    let err = |p: &[i64], i: &[i64]| Csr::borrowed(2, 3, p, i, &v).unwrap_err().to_string();
    assert!(
        err(&[0, 1, 2], &[0, -1]).contains("column index -1 out of range"),
        "{}",
        err(&[0, 1, 2], &[0, -1])
    );
    assert!(err(&[0, 1, 2], &[0, 3]).contains("column index 3 out of range"));
    assert!(err(&[0, 2, 1], &[0, 1]).contains("indptr"));
    assert!(err(&[0, 1], &[0, 1]).contains("expected nrows + 1"));
    let e32 = Csr::borrowed(2, 3, &[0i32, 1, 2], &[0i32, -5], &v)
        .unwrap_err()
        .to_string();
    assert!(e32.contains("out of range"), "{e32}");
}

#[test]
fn scattered_and_gathered_products_equal_the_dense_ones() {
    let planted = synth::sparse_low_rank::<f64>(300, 80, 4, 0.1, 7);
    let x = &planted.x;
    let dense = x.to_dense();
    let k = 5;
    let wt = Mat::<f64>::from_fn(k, 300, |a, i| ((a * 7 + i * 3) % 11) as f64 / 10.0);
    let h = Mat::<f64>::from_fn(k, 80, |a, j| ((a * 5 + j) % 13) as f64 / 12.0);
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let dd = DenseData::new(dense.as_ref());
            let mut want = Mat::zeros(k, 80);
            dd.cross(Side::H, &wt, &mut want, Par::Seq);
            let mut want_w = Mat::zeros(k, 80);
            dd.cross_weighted(Side::H, &wt, &h, |v, p| v / (p + 1.0), &mut want_w);
            let sd = SparseData::new(x).scattering(true);
            let mut scattered = Mat::zeros(k, 80);
            sd.cross(Side::H, &wt, &mut scattered, Par::Seq);
            let mut scattered_w = Mat::zeros(k, 80);
            sd.cross_weighted(Side::H, &wt, &h, |v, p| v / (p + 1.0), &mut scattered_w);
            let mut again = Mat::zeros(k, 80);
            sd.cross(Side::H, &wt, &mut again, Par::Seq);
            assert_eq!(again.data, scattered.data, "a scatter is reproducible");
            let sd = SparseData::new(x).scattering(false);
            let mut gathered = Mat::zeros(k, 80);
            sd.cross(Side::H, &wt, &mut gathered, Par::Seq);
            let mut gathered_w = Mat::zeros(k, 80);
            sd.cross_weighted(Side::H, &wt, &h, |v, p| v / (p + 1.0), &mut gathered_w);
            for (got, want) in [
                (&scattered, &want),
                (&gathered, &want),
                (&scattered_w, &want_w),
                (&gathered_w, &want_w),
            ] {
                for (a, b) in got.data.iter().zip(&want.data) {
                    assert!(
                        (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
                        "{threads} threads: {a} vs {b}"
                    );
                }
            }
        });
    }
}

#[test]
fn a_sparse_fit_is_reproducible_for_a_thread_count() {
    let planted = synth::sparse_low_rank::<f64>(400, 120, 5, 0.08, 2);
    let fit = || {
        let mut est = Nmf::new(5).solver(SolverKind::Hals).seed(4);
        est.max_iter = 30;
        est.threads = 2;
        est.fit(&planted.x).unwrap()
    };
    let (a, b) = (fit(), fit());
    assert_eq!(a.w.data, b.w.data);
    assert_eq!(a.h.data, b.h.data);
}
