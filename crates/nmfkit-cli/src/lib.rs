//! The `nmfkit` command line, as a library so that its parts can be tested.
//!
//! * `flags` and `settings`: the command's own flags and what they mean
//!   (the flags every runner shares live in `nmfkit_io::flags`);
//! * `commands`: one file per subcommand;
//! * `fitting`, `survey`, `datasets`, `compare`, `plot`: what the
//!   subcommands share — a fit and its folder, a rank survey and its folder,
//!   the built-in data (`digits`: the UCI handwritten digits), matching against true factors, the PNG plots.
//!
//! Files, folders, reports and progress come from `nmfkit_io`.

pub mod commands;
pub mod compare;
pub mod datasets;
pub mod digits;
pub mod fitting;
pub mod flags;
pub mod plot;
pub mod settings;
pub mod survey;

pub use nmfkit_io::stdout::{print_json, print_line};
