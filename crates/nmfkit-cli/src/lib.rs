//! The `nmfkit` command line, as a library so that its parts can be tested.
//!
//! * `flags` and `settings`: the command's own flags and what they mean
//!   (the flags every runner shares live in `nmfkit_io::flags`);
//! * `commands`: one file per subcommand;
//! * `fitting`, `survey`, `datasets`, `compare`, `plot`: what the
//!   subcommands share — a fit and its folder, a rank survey and its folder,
//!   the built-in data, matching against true factors, the PNG plots.
//!
//! Files, folders, reports and progress come from `nmfkit_io`.

pub mod commands;
pub mod compare;
pub mod datasets;
pub mod fitting;
pub mod flags;
pub mod plot;
pub mod settings;
pub mod survey;

use std::io::Write;

/// Prints a line on stdout; a closed pipe (`| head`) ends the output quietly.
pub fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|_| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(v: &impl serde::Serialize) {
    print_line(&serde_json::to_string_pretty(v).unwrap_or_default());
}
