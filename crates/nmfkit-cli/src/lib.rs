//! The `nmfkit` command line, as a library so that its parts can be tested
//! and reused (the benchmark harness writes its files with [`io`]).
pub mod commands;
pub mod error;
pub mod io;
pub mod model_dir;
pub mod plot;
pub mod progress;
pub mod report;
