//! What the CLI integration tests share: running the binary, reading its
//! files, comparing matrices.
#![allow(dead_code)]

// Every test file takes what it needs of these.
#[allow(unused_imports)]
pub use nmfkit::Mat;
#[allow(unused_imports)]
pub use nmfkit_io::formats::{read_matrix, write_matrix, Matrix};
#[allow(unused_imports)]
pub use serde_json::Value;
#[allow(unused_imports)]
pub use std::path::{Path, PathBuf};
#[allow(unused_imports)]
pub use std::process::{Command, Output};

pub fn nmfkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmfkit"))
        .args(args)
        .output()
        .expect("run nmfkit")
}

pub fn ok(args: &[&str]) -> Output {
    let out = nmfkit(args);
    assert!(
        out.status.success(),
        "nmfkit {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn p(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

pub fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!((a.nrows, a.ncols), (b.nrows, b.ncols));
    let scale = b.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    (
        u32::from_be_bytes(b[16..20].try_into().unwrap()),
        u32::from_be_bytes(b[20..24].try_into().unwrap()),
    )
}

/// A zip archive holding two arrays under names scipy does not use.
pub fn zip_with(name: &str, npy: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = npyz::zip::ZipWriter::new(&mut buf);
        let o = npyz::zip::write::FileOptions::default();
        z.start_file(format!("{name}.npy"), o).unwrap();
        z.write_all(npy).unwrap();
        z.start_file("second.npy", o).unwrap();
        z.write_all(npy).unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

/// A 400×300 noisy rank-10 matrix in `dir/X.npy`: slow enough to interrupt.
pub fn noisy_rank_10(dir: &Path) {
    ok(&[
        "gen",
        "lowrank",
        "--rows",
        "400",
        "--cols",
        "300",
        "--rank",
        "10",
        "--noise",
        "0.1",
        "--out",
        &p(dir, "X.npy"),
        "-q",
    ]);
}
