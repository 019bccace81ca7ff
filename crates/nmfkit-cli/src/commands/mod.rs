//! One file per subcommand. Each depends on the flags, their settings and
//! the shared runners (`fitting`, `survey`, `plot`), never on another
//! subcommand's file.

pub mod demo;
pub mod eval;
pub mod fit;
pub mod gen;
pub mod impute;
pub mod plot;
pub mod rank;
pub mod top;
pub mod transform;
