//! .csv / .tsv: delimiter and header detected; every cell must be a number.

use crate::error::Error;
use nmfkit::Mat;
use std::path::Path;

fn detect_delimiter(first_line: &str) -> u8 {
    let candidates = [b',', b'\t', b';', b' '];
    *candidates
        .iter()
        .max_by_key(|&&d| first_line.bytes().filter(|&b| b == d).count())
        .filter(|&&d| first_line.bytes().any(|b| b == d))
        .unwrap_or(&b',')
}

pub(super) fn read(path: &Path) -> Result<Mat<f64>, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::input(path, super::describe_io(&e)))?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delim = detect_delimiter(first);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut ncols = None;
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::input(path, format!("line {}: {e}", line + 1)))?;
        // Space-delimited files may pad with repeated spaces.
        let cells: Vec<&str> = rec
            .iter()
            .filter(|c| !(delim == b' ' && c.is_empty()))
            .collect();
        if cells.is_empty() || (cells.len() == 1 && cells[0].is_empty()) {
            continue;
        }
        let parsed: Vec<Option<f64>> = cells.iter().map(|c| parse_number(c)).collect();
        if line == 0 && rows.is_empty() && parsed.iter().any(Option::is_none) {
            // A header: remember its width, skip it.
            ncols = Some(cells.len());
            continue;
        }
        if let Some(col) = parsed.iter().position(Option::is_none) {
            return Err(Error::input(
                path,
                format!(
                    "line {}, column {}: '{}' is not a number",
                    line + 1,
                    col + 1,
                    cells[col]
                ),
            ));
        }
        let expected = *ncols.get_or_insert(cells.len());
        if cells.len() != expected {
            return Err(Error::input(
                path,
                format!(
                    "line {}: {} values, expected {expected} like the first row",
                    line + 1,
                    cells.len()
                ),
            ));
        }
        rows.push(parsed.into_iter().map(|v| v.unwrap()).collect());
    }
    if rows.is_empty() {
        return Err(Error::input(path, "no numeric rows"));
    }
    Mat::from_rows(&rows).map_err(|e| Error::input(path, e.to_string()))
}

fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

pub(super) fn write(path: &Path, m: &Mat<f64>, delim: u8) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new().delimiter(delim).from_path(path)?;
    for i in 0..m.nrows {
        w.write_record((0..m.ncols).map(|j| format!("{}", m.get(i, j))))?;
    }
    w.flush()
}
