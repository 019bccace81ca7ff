//! Just enough .npy (format 1.0, little-endian, C order) to hand matrices
//! to the scikit-learn side of the benchmark.

use nmfkit::Mat;
use std::io::Write;
use std::path::Path;

fn write(path: &Path, descr: &str, shape: &[usize], bytes: &[u8]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut f = std::fs::File::create(path).expect("create .npy");
    f.write_all(b"\x93NUMPY\x01\x00").unwrap();
    f.write_all(&(header.len() as u16).to_le_bytes()).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    f.write_all(bytes).unwrap();
}

pub fn write_f64(path: &Path, m: &Mat<f64>) {
    let bytes: Vec<u8> = m
        .to_row_major()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    write(path, "<f8", &[m.nrows, m.ncols], &bytes);
}

pub fn write_vec_f64(path: &Path, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|v| v.to_le_bytes()).collect();
    write(path, "<f8", &[v.len()], &bytes);
}

pub fn write_i64(path: &Path, v: &[i64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|v| v.to_le_bytes()).collect();
    write(path, "<i8", &[v.len()], &bytes);
}

/// Reads a 2-D little-endian f64 C-order array written by `write_f64`.
pub fn read_f64(path: &Path) -> Mat<f64> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
    let header = std::str::from_utf8(&b[10..10 + hlen]).unwrap();
    assert!(
        header.contains("'<f8'") && header.contains("False"),
        "{}: expected <f8 C order",
        path.display()
    );
    let shape = &header[header.find("'shape': (").unwrap() + 10..];
    let dims: Vec<usize> = shape[..shape.find(')').unwrap()]
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let vals: Vec<f64> = b[10 + hlen..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    Mat::from_row_major(dims[0], dims[1], &vals).unwrap()
}
