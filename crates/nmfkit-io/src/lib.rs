//! # nmfkit-io — everything that is neither math nor a command
//!
//! The command line (`nmfkit`), the MPI runner (`nmfkit-mpi`) and the
//! benchmarks (`nmfkit-bench`) depend on this crate, never on each other:
//!
//! * [`formats`]: reading and writing matrices (.npy, .npz, .csv/.tsv,
//!   .mtx); sparse files stay sparse.
//! * [`folder`]: output folders written whole and swapped in atomically,
//!   so a folder never mixes two runs.
//! * [`model`]: the model folder — W, H (GW) and `report.json` — written
//!   and read by one schema.
//! * [`names`]: row and column names, from CSV headers or name files.
//! * [`top`]: each component's top features and samples.
//! * [`report`]: the reports as typed serde structs, with a schema version.
//! * [`progress`]: progress bars and lines, and the Ctrl-C flag.
//! * [`flags`] and [`settings`]: the command-line flags every runner shares
//!   (clap), and their resolution into the core's settings.
//! * [`stdout`] and [`note!`]: output that survives a closed pipe.
//! * [`error`]: one error type with exit codes (2: bad input or usage,
//!   1: internal).
//!
//! ```
//! use nmfkit_io::formats::{read_matrix, write_matrix, Matrix};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("X.csv");
//! let x = nmfkit::Mat::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
//! write_matrix(&path, &Matrix::Dense(x.clone())).unwrap();
//! assert_eq!(read_matrix(&path).unwrap().to_dense(), x);
//! ```

pub mod error;
pub mod flags;
pub mod folder;
pub mod formats;
pub mod model;
pub mod names;
pub mod progress;
pub mod report;
pub mod settings;
pub mod stdout;
pub mod top;

pub use error::Error;

/// `eprintln!` that never panics: a line on stderr, dropped when stderr is
/// a closed pipe (`nmfkit rank … 2>&1 | head -1`), so the run still ends
/// with its folder written.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
