//! Every streamed layout gives back, row block by row block, what the
//! in-memory reader reads from the same file.

use super::*;
use crate::formats::{read_matrix, write_matrix, Matrix};
use nmfkit::{CsrMatrix, Mat};
use std::io::Write;

/// A sparse matrix with empty rows and columns, about a third filled.
fn sample(n: usize, m: usize, seed: u64) -> CsrMatrix<f64> {
    let mut t = Vec::new();
    let mut s = seed;
    for i in 0..n {
        for j in 0..m {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (s >> 33).is_multiple_of(3) && i % 7 != 3 && j != 2 {
                t.push((i, j, ((s >> 40) % 1000) as f64 / 100.0 + 0.5));
            }
        }
    }
    CsrMatrix::from_triplets(n, m, &t).unwrap()
}

/// All rows of `src`, read in blocks of `b`, as one dense matrix.
fn gathered(src: &dyn BatchSource<f64>, b: usize) -> Mat<f64> {
    let (n, m) = src.shape();
    let mut out = Mat::zeros(n, m);
    for start in (0..n).step_by(b) {
        let end = (start + b).min(n);
        let block = match src.rows(start, end).unwrap() {
            Batch::Dense(d) => d,
            Batch::Sparse(s) => Matrix::Sparse(s).to_dense(),
        };
        for i in 0..end - start {
            for j in 0..m {
                out.set(start + i, j, block.get(i, j));
            }
        }
    }
    out
}

fn transposed(x: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(x.ncols, x.nrows, |i, j| x.get(j, i))
}

#[test]
fn row_order_sorts_any_order_across_buckets_and_sums_duplicates() {
    let x = sample(53, 11, 1);
    let mut entries: Vec<(usize, usize, f64)> = Vec::new();
    for i in 0..x.nrows() {
        let (cols, vals) = x.row(i);
        for (&j, &v) in cols.iter().zip(vals) {
            // Each value as two halves: duplicates to be summed.
            entries.push((i, j as usize, v / 2.0));
            entries.push((i, j as usize, v / 2.0));
        }
    }
    // A fixed shuffle, so the entries arrive in no order.
    let len = entries.len();
    for q in 0..len {
        entries.swap(q, (q * 7919 + 13) % len);
    }
    let path = Path::new("test.mtx");
    // 16-byte entries, 64-byte buckets: one bucket for every row or so.
    let mut order = RowOrder::with_buckets_of(path, 53, 11, len, 64).unwrap();
    for &(i, j, v) in &entries {
        order.push(i, j, v).unwrap();
    }
    let rows = order.finish().unwrap();
    assert_eq!(rows.nnz(), x.nnz());
    let want = Matrix::Sparse(x).to_dense();
    for b in [1, 5, 53, 100] {
        assert_eq!(gathered(&rows, b), want, "blocks of {b}");
    }
    let mut order = RowOrder::new(path, 3, 4, 1).unwrap();
    let err = order.push(3, 0, 1.0).unwrap_err().to_string();
    assert!(err.contains("(3, 0)") && err.contains("3×4"), "{err}");
}

/// Writes a .npz of named .npy members, deflated as scipy's save_npz does.
fn npz(path: &Path, members: &[(&str, Vec<u8>)]) {
    let mut zip = npyz::zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = npyz::zip::write::FileOptions::default()
        .compression_method(npyz::zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

fn i32s(v: &[usize]) -> Vec<u8> {
    v.iter().flat_map(|&x| (x as i32).to_le_bytes()).collect()
}

fn f32s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect()
}

#[test]
fn every_npz_and_mtx_layout_streams_what_the_reader_reads() {
    let d = tempfile::tempdir().unwrap();
    let x = sample(40, 9, 2);
    let (n, m) = (x.nrows(), x.ncols());
    let mut files = Vec::new();
    for (name, m_) in [
        ("csr.npz", Matrix::Sparse(x.clone())),
        ("coord.mtx", Matrix::Sparse(x.clone())),
    ] {
        write_matrix(&d.path().join(name), &m_).unwrap();
        files.push(name.to_string());
    }
    let dense = Matrix::Sparse(x.clone()).to_dense();
    write_matrix(&d.path().join("array.mtx"), &Matrix::Dense(dense.clone())).unwrap();
    write_matrix(&d.path().join("dense.npz"), &Matrix::Dense(dense.clone())).unwrap();
    files.extend(["array.mtx".into(), "dense.npz".into()]);
    // CSC and COO, int32 indices, float32 values, deflated (scipy's default).
    let t = x.transpose();
    let shape: Vec<u8> = [n as i64, m as i64]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let idx: Vec<usize> = t.indices().iter().map(|&j| j as usize).collect();
    npz(
        &d.path().join("csc.npz"),
        &[
            ("format", npy::bytes("|S3", &[], b"csc")),
            ("shape", npy::bytes("<i8", &[2], &shape)),
            ("data", npy::bytes("<f4", &[t.nnz()], &f32s(t.values()))),
            ("indices", npy::bytes("<i4", &[t.nnz()], &i32s(&idx))),
            ("indptr", npy::bytes("<i4", &[m + 1], &i32s(t.indptr()))),
        ],
    );
    let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    for j in (0..m).rev() {
        for i in 0..n {
            if dense.get(i, j) != 0.0 {
                rows.push(i);
                cols.push(j);
                vals.push(dense.get(i, j));
            }
        }
    }
    npz(
        &d.path().join("coo.npz"),
        &[
            ("format", npy::bytes("|S3", &[], b"coo")),
            ("shape", npy::bytes("<i8", &[2], &shape)),
            ("row", npy::bytes("<i4", &[rows.len()], &i32s(&rows))),
            ("col", npy::bytes("<i4", &[cols.len()], &i32s(&cols))),
            ("data", npy::bytes("<f4", &[vals.len()], &f32s(&vals))),
        ],
    );
    files.extend(["csc.npz".into(), "coo.npz".into()]);
    // A symmetric pattern file: both triangles come back.
    std::fs::write(
        d.path().join("sym.mtx"),
        "%%MatrixMarket matrix coordinate pattern symmetric\n% c\n4 4 3\n1 1\n3 1\n4 2\n",
    )
    .unwrap();
    files.push("sym.mtx".into());
    write_matrix(&d.path().join("X.npy"), &Matrix::Dense(dense.clone())).unwrap();
    files.push("X.npy".into());
    for f in &files {
        let path = d.path().join(f);
        let want = read_matrix(&path).unwrap().to_dense();
        for transpose in [false, true] {
            let src = RowSource::open(&path, transpose).unwrap();
            let want = if transpose {
                transposed(&want)
            } else {
                want.clone()
            };
            assert_eq!(src.shape(), (want.nrows, want.ncols), "{f}");
            assert_eq!(gathered(&src, 6), want, "{f}, transpose {transpose}");
        }
    }
}

#[test]
fn malformed_archives_are_errors_naming_the_problem() {
    let d = tempfile::tempdir().unwrap();
    let shape: Vec<u8> = [3i64, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
    let bad_ptr = d.path().join("ptr.npz");
    npz(
        &bad_ptr,
        &[
            ("format", npy::bytes("|S3", &[], b"csr")),
            ("shape", npy::bytes("<i8", &[2], &shape)),
            ("data", npy::bytes("<f4", &[2], &f32s(&[1.0, 2.0]))),
            ("indices", npy::bytes("<i4", &[2], &i32s(&[0, 1]))),
            ("indptr", npy::bytes("<i4", &[4], &i32s(&[0, 2, 1, 2]))),
        ],
    );
    let out_of_range = d.path().join("range.npz");
    npz(
        &out_of_range,
        &[
            ("format", npy::bytes("|S3", &[], b"csr")),
            ("shape", npy::bytes("<i8", &[2], &shape)),
            ("data", npy::bytes("<f4", &[1], &f32s(&[1.0]))),
            ("indices", npy::bytes("<i4", &[1], &i32s(&[5]))),
            ("indptr", npy::bytes("<i4", &[4], &i32s(&[0, 1, 1, 1]))),
        ],
    );
    let short = d.path().join("short.mtx");
    std::fs::write(
        &short,
        "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1\n",
    )
    .unwrap();
    for (path, needle) in [
        (&bad_ptr, "decreases"),
        (&out_of_range, "out of range"),
        (&short, "announces 2 entries"),
    ] {
        let err = RowSource::open(path, false).err().unwrap().to_string();
        assert!(err.contains(needle), "{}: {err}", path.display());
    }
    let csv = d.path().join("x.csv");
    std::fs::write(&csv, "1,2\n3,4\n").unwrap();
    let err = RowSource::open(&csv, false).err().unwrap().to_string();
    assert!(err.contains("CSV"), "{err}");
}
