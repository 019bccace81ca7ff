//! One file per subcommand.

pub mod demo;
pub mod eval;
pub mod fit;
pub mod gen;
pub mod impute;
pub mod plot;
pub mod rank;
pub mod smooth;
pub mod transform;

use crate::error::CliError;

/// Parses "HxW" (e.g. 32x32).
pub fn parse_shape(s: &str) -> Result<(usize, usize), CliError> {
    let bad = || CliError::usage(format!("image shape '{s}' must look like HxW, e.g. 32x32"));
    let (h, w) = s.split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let h: usize = h.trim().parse().map_err(|_| bad())?;
    let w: usize = w.trim().parse().map_err(|_| bad())?;
    if h == 0 || w == 0 {
        return Err(bad());
    }
    Ok((h, w))
}
