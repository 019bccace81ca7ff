//! .csv / .tsv: delimiter detected; a header row and an index column
//! (row names) detected or given ([`Layout`]); every other cell must be a
//! number.

use super::Layout;
use crate::error::Error;
use crate::names::Detect;
use nmfkit::Mat;
use std::path::Path;

/// A table read from a CSV file: its numbers and the names around them.
pub(super) struct Table {
    pub x: Mat<f64>,
    pub row_names: Option<Vec<String>>,
    pub col_names: Option<Vec<String>>,
}

fn detect_delimiter(first_line: &str) -> u8 {
    let candidates = [b',', b'\t', b';', b' '];
    *candidates
        .iter()
        .max_by_key(|&&d| first_line.bytes().filter(|&b| b == d).count())
        .filter(|&&d| first_line.bytes().any(|b| b == d))
        .unwrap_or(&b',')
}

/// The non-empty records, cells trimmed (space-delimited files may pad).
fn records(path: &Path, text: &str) -> Result<Vec<(usize, Vec<String>)>, Error> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delim = detect_delimiter(first);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::input(path, format!("line {}: {e}", line + 1)))?;
        let cells: Vec<String> = rec
            .iter()
            .filter(|c| !(delim == b' ' && c.is_empty()))
            .map(str::to_string)
            .collect();
        if cells.is_empty() || (cells.len() == 1 && cells[0].is_empty()) {
            continue;
        }
        out.push((line + 1, cells));
    }
    Ok(out)
}

pub(super) fn read(path: &Path, layout: Layout) -> Result<Table, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::input(path, super::describe_io(&e)))?;
    let mut recs = records(path, &text)?;
    if recs.is_empty() {
        return Err(Error::input(path, "no numeric rows"));
    }
    let numeric = |c: &str| parse_number(c).is_some();
    let has_header = match layout.header {
        Detect::Yes => true,
        Detect::No => false,
        Detect::Auto => recs[0].1.iter().any(|c| !numeric(c)),
    };
    let header = has_header.then(|| recs.remove(0).1);
    if recs.is_empty() {
        return Err(Error::input(path, "no numeric rows below the header"));
    }
    let width = recs[0].1.len();
    let has_index = match layout.index {
        Detect::Yes => true,
        Detect::No => false,
        // Row names that are not numbers; pandas' empty corner cell; or
        // R's header with one cell fewer than the rows.
        Detect::Auto => {
            recs.iter().any(|(_, r)| !numeric(&r[0]))
                || header
                    .as_ref()
                    .is_some_and(|h| h[0].is_empty() || h.len() + 1 == width)
        }
    };
    let skip = usize::from(has_index);
    if width <= skip {
        return Err(Error::input(
            path,
            format!("line {}: no values beside the row name", recs[0].0),
        ));
    }
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(recs.len());
    let mut row_names = Vec::new();
    for (line, cells) in &recs {
        if cells.len() != width {
            return Err(Error::input(
                path,
                format!(
                    "line {line}: {} values, expected {width} like the first row",
                    cells.len()
                ),
            ));
        }
        let mut row = Vec::with_capacity(width - skip);
        for (col, c) in cells.iter().enumerate().skip(skip) {
            row.push(parse_number(c).ok_or_else(|| {
                let hint = if col == 0 {
                    " (give --index-col yes if the first column holds row names)"
                } else {
                    ""
                };
                Error::input(
                    path,
                    format!(
                        "line {line}, column {}: '{c}' is not a number{hint}",
                        col + 1
                    ),
                )
            })?);
        }
        rows.push(row);
        if has_index {
            row_names.push(cells[0].clone());
        }
    }
    let ncols = width - skip;
    let col_names = match header {
        None => None,
        Some(h) if h.len() == ncols => Some(h),
        Some(h) if h.len() == ncols + 1 && has_index => Some(h[1..].to_vec()),
        Some(h) => {
            return Err(Error::input(
                path,
                format!(
                    "the header has {} names for {ncols} columns of numbers",
                    h.len()
                ),
            ))
        }
    };
    let x = Mat::from_rows(&rows).map_err(|e| Error::input(path, e.to_string()))?;
    Ok(Table {
        x,
        row_names: has_index.then_some(row_names),
        col_names,
    })
}

fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" | "na" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

/// Writes `m` with an optional header (column names; with row names its
/// corner cell is empty, as pandas writes it) and index column.
pub(super) fn write(
    path: &Path,
    m: &Mat<f64>,
    delim: u8,
    row_names: Option<&[String]>,
    col_names: Option<&[String]>,
) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new().delimiter(delim).from_path(path)?;
    if let Some(cols) = col_names {
        let corner = row_names.map(|_| String::new());
        w.write_record(corner.iter().chain(cols))?;
    }
    for i in 0..m.nrows {
        let name = row_names.map(|r| r[i].clone());
        w.write_record(
            name.into_iter()
                .chain((0..m.ncols).map(|j| format!("{}", m.get(i, j)))),
        )?;
    }
    w.flush()
}
