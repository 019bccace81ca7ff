//! The errors of everything that reads, writes or runs (the CLI, the MPI
//! runner, the benchmarks) and their exit codes: 2 for bad input or usage
//! (with a one-line message naming the file and the problem), 1 for
//! internal errors.

use nmfkit::NmfError;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum Error {
    /// Wrong arguments.
    Usage(String),
    /// A file that cannot be read or makes no sense.
    Input { path: PathBuf, msg: String },
    /// A file that cannot be written.
    Output { path: PathBuf, msg: String },
    /// The core rejected the data or the parameters.
    Nmf {
        context: Option<PathBuf>,
        err: NmfError,
    },
    /// A bug or an environment failure.
    Internal(String),
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }
    pub fn input(path: &Path, msg: impl Into<String>) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }
    pub fn output(path: &Path, msg: impl Into<String>) -> Self {
        Error::Output {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }
    pub fn nmf(context: Option<&Path>, err: NmfError) -> Self {
        Error::Nmf {
            context: context.map(Path::to_path_buf),
            err,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 1,
            Error::Nmf {
                err: NmfError::Numerical(_),
                ..
            } => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "{m}"),
            Error::Input { path, msg } => write!(f, "{}: {msg}", path.display()),
            Error::Output { path, msg } => write!(f, "cannot write {}: {msg}", path.display()),
            Error::Nmf {
                context: Some(p),
                err,
            } => write!(f, "{}: {err}", p.display()),
            Error::Nmf { context: None, err } => write!(f, "{err}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<NmfError> for Error {
    fn from(err: NmfError) -> Self {
        Error::Nmf { context: None, err }
    }
}
