//! Row and column names: read from a CSV/TSV header and index column or
//! from name files (one name per line), checked against the matrix,
//! carried through `--transpose`, and stored in the model folder as
//! `row_names.txt` and `column_names.txt`, so that factor files, clusters,
//! reports and plots can say which sample or feature they mean.

use crate::error::Error;
use crate::formats::describe_io;
use std::path::Path;

/// Whether a CSV file has a header row or an index column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Detect {
    /// A header when its first row has a cell that is not a number; an
    /// index column when the first column has one, or the header's first
    /// cell is empty (pandas), or the header is one cell short (R).
    #[default]
    Auto,
    Yes,
    No,
}

/// The names of X's rows (samples) and columns (features), when known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub rows: Option<Vec<String>>,
    pub cols: Option<Vec<String>>,
}

pub const ROW_NAMES: &str = "row_names.txt";
pub const COLUMN_NAMES: &str = "column_names.txt";

impl Names {
    /// The names of X's transpose.
    pub fn transposed(self) -> Names {
        Names {
            rows: self.cols,
            cols: self.rows,
        }
    }

    /// Checks the counts against an n×m matrix (`what` names the source).
    pub fn check(&self, n: usize, m: usize, what: &Path) -> Result<(), Error> {
        for (names, count, axis) in [(&self.rows, n, "rows"), (&self.cols, m, "columns")] {
            if let Some(v) = names {
                if v.len() != count {
                    return Err(Error::input(
                        what,
                        format!("{} {axis} names for a matrix with {count} {axis}", v.len()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Row `i`'s name, or its 0-based number.
    pub fn row(&self, i: usize) -> String {
        label(&self.rows, i)
    }

    /// Column `j`'s name, or its 0-based number.
    pub fn col(&self, j: usize) -> String {
        label(&self.cols, j)
    }

    /// Reads the names stored in a model folder (none when absent).
    pub fn read_folder(dir: &Path) -> Result<Names, Error> {
        let read = |name: &str| {
            let p = dir.join(name);
            p.is_file().then(|| read_name_file(&p)).transpose()
        };
        Ok(Names {
            rows: read(ROW_NAMES)?,
            cols: read(COLUMN_NAMES)?,
        })
    }
}

fn label(names: &Option<Vec<String>>, i: usize) -> String {
    names
        .as_ref()
        .and_then(|v| v.get(i).cloned())
        .unwrap_or_else(|| i.to_string())
}

/// Names one per line (a trailing empty line is ignored; an empty line
/// inside is an error, since it would shift every name after it).
pub fn read_name_file(path: &Path) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, describe_io(&e)))?;
    let mut names: Vec<String> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    while names.last().is_some_and(|l| l.trim().is_empty()) {
        names.pop();
    }
    if let Some(i) = names.iter().position(|l| l.trim().is_empty()) {
        return Err(Error::input(path, format!("line {}: an empty name", i + 1)));
    }
    if names.is_empty() {
        return Err(Error::input(path, "no names (one per line)"));
    }
    Ok(names)
}

/// The text of a name file.
pub fn name_file_text(names: &[String]) -> String {
    let mut s = names.join("\n");
    s.push('\n');
    s
}

/// Names for the k components: `component_1` … `component_k`.
pub fn component_names(k: usize) -> Vec<String> {
    (1..=k).map(|c| format!("component_{c}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_files_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.txt");
        std::fs::write(&p, "a\nb c\r\nd\n\n").unwrap();
        assert_eq!(read_name_file(&p).unwrap(), ["a", "b c", "d"]);
        std::fs::write(&p, "a\n\nb\n").unwrap();
        assert!(read_name_file(&p)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        let names = Names {
            rows: Some(vec!["x".into(), "y".into()]),
            cols: None,
        };
        names.check(2, 5, &p).unwrap();
        let e = names.check(3, 5, &p).unwrap_err().to_string();
        assert!(e.contains("2 rows names for a matrix with 3 rows"), "{e}");
        let t = names.transposed();
        assert_eq!(t.col(1), "y");
        assert_eq!(t.row(4), "4");
    }
}
