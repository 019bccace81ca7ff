//! A .npy file read a block of rows at a time, for fits that never hold X
//! whole (minibatch NMF): each batch is read with positioned reads (no
//! mapping of the file is kept), so memory is one batch, whatever the
//! file's size. C order reads one contiguous range per batch, Fortran
//! order one range per column.

use crate::error::Error;
use nmfkit::minibatch::{Batch, BatchSource};
use nmfkit::{Mat, NmfError, Scalar};
use npyz::{DType, NpyFile, Order};
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The element types read in place: (numpy's code, bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Elem {
    F64,
    F32,
    I64,
    I32,
    U8,
}

impl Elem {
    fn size(self) -> usize {
        match self {
            Elem::F64 | Elem::I64 => 8,
            Elem::F32 | Elem::I32 => 4,
            Elem::U8 => 1,
        }
    }

    fn decode(self, b: &[u8]) -> f64 {
        match self {
            Elem::F64 => f64::from_le_bytes(b.try_into().expect("8 bytes")),
            Elem::F32 => f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64,
            Elem::I64 => i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64,
            Elem::I32 => i32::from_le_bytes(b.try_into().expect("4 bytes")) as f64,
            Elem::U8 => b[0] as f64,
        }
    }
}

/// Rows of a 2-D .npy file, read on demand.
pub struct NpyRows {
    path: PathBuf,
    file: File,
    rows: usize,
    cols: usize,
    fortran: bool,
    elem: Elem,
    /// Where the values start.
    offset: u64,
}

impl NpyRows {
    pub fn open(path: &Path) -> Result<NpyRows, Error> {
        let bad = |m: String| Error::input(path, m);
        let file = File::open(path).map_err(|e| Error::input(path, e.to_string()))?;
        let mut pre = [0u8; 12];
        (&file)
            .take(12)
            .read_exact(&mut pre)
            .map_err(|_| bad("not a .npy file (too short)".into()))?;
        if &pre[..6] != b"\x93NUMPY" {
            return Err(bad("not a .npy file (no \\x93NUMPY magic)".into()));
        }
        let offset = match pre[6] {
            1 => 10 + u16::from_le_bytes([pre[8], pre[9]]) as u64,
            2 | 3 => 12 + u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as u64,
            v => return Err(bad(format!("unsupported .npy version {v}"))),
        };
        let npy = NpyFile::new(BufReader::new(
            File::open(path).map_err(|e| Error::input(path, e.to_string()))?,
        ))
        .map_err(|e| bad(format!("cannot read the .npy header: {e}")))?;
        let (rows, cols) = match npy.shape() {
            [n, m] => (*n as usize, *m as usize),
            other => {
                return Err(bad(format!(
                    "streaming needs a 2-D array, got shape {other:?}"
                )))
            }
        };
        let descr = match npy.dtype() {
            DType::Plain(ts) => ts.to_string(),
            other => return Err(bad(format!("unsupported dtype {}", other.descr()))),
        };
        let elem = match descr.as_str() {
            "<f8" => Elem::F64,
            "<f4" => Elem::F32,
            "<i8" => Elem::I64,
            "<i4" => Elem::I32,
            "|u1" | "<u1" => Elem::U8,
            other => {
                return Err(bad(format!(
                    "dtype {other} cannot be streamed (float64, float32, int64, int32 or uint8, little-endian): convert the file"
                )))
            }
        };
        let need = offset + (rows * cols * elem.size()) as u64;
        let have = file
            .metadata()
            .map_err(|e| Error::input(path, e.to_string()))?
            .len();
        if have < need {
            return Err(bad(format!(
                "the file is truncated: {have} bytes, the header promises {need}"
            )));
        }
        Ok(NpyRows {
            path: path.to_path_buf(),
            file,
            rows,
            cols,
            fortran: npy.order() == Order::Fortran,
            elem,
            offset,
        })
    }

    /// (rows, columns) of the array.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    fn read(&self, at: u64, buf: &mut [u8], start: usize) -> nmfkit::Result<()> {
        self.file
            .read_exact_at(buf, at)
            .map_err(|e| NmfError::InvalidParameter {
                name: "X",
                reason: format!(
                    "{}: cannot read rows from {start} ({e})",
                    self.path.display()
                ),
            })
    }
}

/// Batches in float64, or float32 (numpy's float32 arrays fit in float32).
impl<T: Scalar> BatchSource<T> for NpyRows {
    fn shape(&self) -> (usize, usize) {
        NpyRows::shape(self)
    }

    fn rows(&self, start: usize, end: usize) -> nmfkit::Result<Batch<T>> {
        let (b, m, s) = (end - start, self.cols, self.elem.size());
        let mut out = Mat::zeros(b, m);
        if self.fortran {
            let mut buf = vec![0u8; b * s];
            for j in 0..m {
                let at = self.offset + ((j * self.rows + start) * s) as u64;
                self.read(at, &mut buf, start)?;
                for (i, chunk) in buf.chunks_exact(s).enumerate() {
                    out.data[j * b + i] = T::from_f64(self.elem.decode(chunk));
                }
            }
        } else {
            let mut buf = vec![0u8; b * m * s];
            self.read(self.offset + (start * m * s) as u64, &mut buf, start)?;
            for (q, chunk) in buf.chunks_exact(s).enumerate() {
                let (i, j) = (q / m, q % m);
                out.data[j * b + i] = T::from_f64(self.elem.decode(chunk));
            }
        }
        Ok(Batch::Dense(out))
    }
}

/// Peak resident memory of this process so far, in MB (Linux; None
/// elsewhere).
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
