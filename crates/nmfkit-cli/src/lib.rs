//! The `nmfkit` command line, as a library so that its parts can be tested.
pub mod error;
pub mod io;
