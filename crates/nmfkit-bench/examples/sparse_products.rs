//! Times the sparse product Wᵀ X both ways — scattered from the rows and
//! gathered from the transposed copy — and H Xᵀ, on a file:
//!
//!     cargo run --release -p nmfkit-bench --example sparse_products -- X.mtx 20
//!
//! Median of 15 after 3 warm-ups; the figures behind `SparseData::scatters`.

use nmfkit::{Data, Mat, Side, SparseData};
use nmfkit_io::formats::{read_matrix, Matrix};
use std::path::Path;
use std::time::Instant;

fn median_ms(f: &mut dyn FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut t: Vec<f64> = (0..15)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[7]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(k)) = (
        args.get(1),
        args.get(2).and_then(|k| k.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: sparse_products FILE K");
        std::process::exit(2);
    };
    let x = match read_matrix(Path::new(path)) {
        Ok(Matrix::Sparse(s)) => s,
        Ok(_) => {
            eprintln!("{path}: not a sparse matrix");
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let (n, m) = (x.nrows(), x.ncols());
    let wt = Mat::<f64>::from_fn(k, n, |a, i| ((a * 7 + i * 3) % 11) as f64 / 10.0);
    let h = Mat::<f64>::from_fn(k, m, |a, j| ((a * 5 + j) % 13) as f64 / 12.0);
    let par = faer::Par::rayon(0);
    let mut out = Mat::zeros(k, m);
    let mut time_h =
        |d: &SparseData<'_, f64>| median_ms(&mut || d.cross(Side::H, &wt, &mut out, par));
    let scatter = time_h(&SparseData::new(&x).scattering(true));
    let gather = time_h(&SparseData::new(&x).scattering(false));
    let mut out_w = Mat::zeros(k, n);
    let d = SparseData::new(&x);
    let w_side = median_ms(&mut || d.cross(Side::W, &h, &mut out_w, par));
    println!(
        "{path} {n}×{m} k={k}: WᵀX scattered {scatter:.2} ms, gathered {gather:.2} ms; H Xᵀ {w_side:.2} ms"
    );
}
