//! The charts, drawn with plotters and an embedded DejaVu font (no system
//! fonts): convergence, components, X beside WH, rank measures, consensus.

use nmfkit::Mat;
use nmfkit_io::formats::{self as io, Matrix};
use nmfkit_io::Error as CliError;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

pub const CONVERGENCE_SIZE: (u32, u32) = (1000, 420);
pub const COMPONENTS_WIDTH: u32 = 1000;
pub const RECONSTRUCTION_SIZE: (u32, u32) = (1000, 480);

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Draws into a temporary PNG beside `path` and renames it into place.
fn draw_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> DrawResult<()>,
) -> Result<(), CliError> {
    register_fonts();
    io::atomic_write(path, |tmp| {
        let tmp_png = tmp.with_extension("png");
        let res = (|| -> DrawResult<()> {
            let root = BitMapBackend::new(&tmp_png, size).into_drawing_area();
            root.fill(&WHITE)?;
            draw(&root)?;
            root.present()?;
            Ok(())
        })();
        match res {
            Ok(()) => std::fs::rename(&tmp_png, tmp),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_png);
                Err(std::io::Error::other(e.to_string()))
            }
        }
    })
}

/// Objective against iteration and against time, log scale.
pub fn convergence(path: &Path, iters: &[(f64, f64, f64)]) -> Result<(), CliError> {
    // (iteration, seconds, objective)
    let pts: Vec<(f64, f64, f64)> = iters
        .iter()
        .copied()
        .filter(|p| p.2 > 0.0 && p.2.is_finite())
        .collect();
    draw_png(path, CONVERGENCE_SIZE, |root| {
        let (left, right) = root.split_horizontally(CONVERGENCE_SIZE.0 / 2);
        if pts.is_empty() {
            left.draw_text(
                "no positive objective values to draw",
                &("sans-serif", 18).into_font().color(&BLACK),
                (20, 20),
            )?;
            return Ok(());
        }
        let ymin = pts.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
        let ymax = pts.iter().map(|p| p.2).fold(0.0, f64::max);
        let (ylo, yhi) = (ymin * 0.95, ymax * 1.05 + f64::MIN_POSITIVE);
        for (area, xs, label) in [(&left, 0usize, "iteration"), (&right, 1, "time (s)")] {
            let get = |p: &(f64, f64, f64)| if xs == 0 { p.0 } else { p.1 };
            let xmax = pts.iter().map(get).fold(0.0, f64::max).max(1e-9);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("objective vs {label}"), ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(80)
                .build_cartesian_2d(0.0..xmax * 1.02, (ylo..yhi).log_scale())?;
            chart
                .configure_mesh()
                .x_desc(label)
                .y_desc("objective")
                .y_label_formatter(&|v| format!("{v:.3e}"))
                .draw()?;
            chart.draw_series(LineSeries::new(
                pts.iter().map(|p| (get(p), p.2)),
                BLUE.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

/// A perceptual-ish colormap (viridis stops) for values in [0, 1].
fn color(v: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 5] = [
        (68, 1, 84),
        (59, 82, 139),
        (33, 145, 140),
        (94, 201, 98),
        (253, 231, 37),
    ];
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    } * 4.0;
    let i = (v.floor() as usize).min(3);
    let f = v - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + f * (y as f64 - x as f64)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Block-averages a matrix down to at most `max_r`×`max_c` cells.
fn downsample(m: &Mat<f64>, max_r: usize, max_c: usize) -> Mat<f64> {
    let br = m.nrows.div_ceil(max_r.max(1)).max(1);
    let bc = m.ncols.div_ceil(max_c.max(1)).max(1);
    let (r, c) = (m.nrows.div_ceil(br), m.ncols.div_ceil(bc));
    Mat::from_fn(r, c, |i, j| {
        let (mut s, mut cnt) = (0.0, 0.0);
        for ii in i * br..((i + 1) * br).min(m.nrows) {
            for jj in j * bc..((j + 1) * bc).min(m.ncols) {
                s += m.get(ii, jj);
                cnt += 1.0;
            }
        }
        s / cnt
    })
}

fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    m: &Mat<f64>,
    title: &str,
    vmax: f64,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(6)
        .build_cartesian_2d(0..m.ncols, 0..m.nrows)?;
    chart.draw_series((0..m.nrows).flat_map(|i| {
        (0..m.ncols).map(move |j| {
            let c = color(m.get(i, j) / vmax);
            // Row 0 at the top, as matrices are read.
            Rectangle::new([(j, m.nrows - 1 - i), (j + 1, m.nrows - i)], c.filled())
        })
    }))?;
    Ok(())
}

/// Rows of H as images (with an image shape, plus the columns of W as
/// curves below), or as curves.
pub fn components(
    path: &Path,
    w: &Mat<f64>,
    h: &Mat<f64>,
    image: Option<(usize, usize)>,
) -> Result<(), CliError> {
    let k = h.nrows;
    match image {
        Some((ih, iw)) => {
            if ih * iw != h.ncols {
                return Err(CliError::usage(format!(
                    "image shape {ih}x{iw} has {} pixels but H has {} columns",
                    ih * iw,
                    h.ncols
                )));
            }
            let cols = k.min(6);
            let rows = k.div_ceil(cols);
            let cell = COMPONENTS_WIDTH / cols as u32;
            let img_h = (cell as f64 * ih as f64 / iw as f64).round() as u32 + 24;
            let curves_h = 300;
            let size = (COMPONENTS_WIDTH, img_h * rows as u32 + curves_h);
            draw_png(path, size, |root| {
                let (top, bottom) = root.split_vertically(img_h * rows as u32);
                let areas = top.split_evenly((rows, cols));
                for t in 0..k {
                    let img = Mat::from_fn(ih, iw, |y, x| h.get(t, y * iw + x));
                    let vmax = img
                        .data
                        .iter()
                        .cloned()
                        .fold(0.0, f64::max)
                        .max(f64::MIN_POSITIVE);
                    heatmap(&areas[t], &img, &format!("component {t}"), vmax)?;
                }
                curves(&bottom, &w.transpose(), "columns of W")
            })
        }
        None => {
            let size = (COMPONENTS_WIDTH, (120 * k as u32).clamp(300, 2400));
            draw_png(path, size, |root| curves(root, h, "rows of H (components)"))
        }
    }
}

fn curves<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &Mat<f64>,
    title: &str,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let ymax = rows
        .data
        .iter()
        .cloned()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..rows.ncols.max(2) as f64 - 1.0, 0.0..ymax * 1.05)?;
    chart
        .configure_mesh()
        .y_label_formatter(&|v| format!("{v:.2e}"))
        .draw()?;
    for t in 0..rows.nrows {
        let c = Palette99::pick(t).mix(0.9);
        chart
            .draw_series(LineSeries::new(
                (0..rows.ncols).map(|j| (j as f64, rows.get(t, j))),
                c.stroke_width(2),
            ))?
            .label(format!("{t}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], c.stroke_width(2)));
    }
    if rows.nrows <= 20 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

/// X beside W·H as heat maps (downsampled to at most 300×300 cells).
pub fn reconstruction(path: &Path, x: &Matrix, w: &Mat<f64>, h: &Mat<f64>) -> Result<(), CliError> {
    let rel = nmfkit::relative_error(x.input(), w, h);
    let (n, m) = x.shape();
    let (mr, mc) = (300, 300);
    // Dense X only at the downsampled size: sparse X is binned entry by entry.
    let xs = match x {
        Matrix::Dense(d) => downsample(d, mr, mc),
        Matrix::Sparse(s) => {
            let br = n.div_ceil(mr).max(1);
            let bc = m.div_ceil(mc).max(1);
            let mut out = Mat::zeros(n.div_ceil(br), m.div_ceil(bc));
            for i in 0..n {
                let (cols, vals) = s.row(i);
                for (&j, &v) in cols.iter().zip(vals) {
                    let (a, b) = (i / br, j as usize / bc);
                    out.set(a, b, out.get(a, b) + v / (br * bc) as f64);
                }
            }
            out
        }
    };
    // Block averages of W·H are products of block averages of W's rows and
    // H's columns (WH is bilinear), so WH is never formed.
    let (wa, ha) = (downsample(w, mr, w.ncols), downsample(h, h.nrows, mc));
    let whs = nmfkit::inverse_transform(&wa, &ha);
    let vmax = xs
        .data
        .iter()
        .chain(&whs.data)
        .cloned()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    draw_png(path, RECONSTRUCTION_SIZE, |root| {
        let (title, body) = root.split_vertically(40);
        title.draw_text(
            &format!("X ({n}×{m}) beside W·H — relative error ‖X − WH‖/‖X‖ = {rel:.3e}"),
            &("sans-serif", 20).into_font().color(&BLACK),
            (20, 10),
        )?;
        let (l, r) = body.split_horizontally(RECONSTRUCTION_SIZE.0 / 2);
        heatmap(&l, &xs, "X", vmax)?;
        heatmap(&r, &whs, "W·H", vmax)
    })
}

pub const RANK_SIZE: (u32, u32) = (1200, 760);
pub const CONSENSUS_SIZE: (u32, u32) = (640, 680);

/// One measure per panel against the rank (as R's NMF package draws its
/// rank survey): each panel is (title, [(label, dashed, points)]).
pub type Panel = (String, Vec<(String, bool, Vec<(f64, f64)>)>);

/// The rank-survey measures, one panel each, data solid and the
/// randomized copy dashed.
pub fn rank_measures(path: &Path, panels: &[Panel]) -> Result<(), CliError> {
    draw_png(path, RANK_SIZE, |root| {
        let cols = 3;
        let rows = panels.len().div_ceil(cols).max(1);
        let areas = root.split_evenly((rows, cols));
        for (area, (title, series)) in areas.iter().zip(panels) {
            let pts = series
                .iter()
                .flat_map(|s| s.2.iter())
                .filter(|p| p.1.is_finite());
            let (mut x0, mut x1, mut y0, mut y1) = (
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
            );
            for &(x, y) in pts {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
            if !x0.is_finite() {
                continue;
            }
            let pad = ((y1 - y0) * 0.08).max(1e-3 * y1.abs().max(1e-12));
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(70)
                .build_cartesian_2d(x0 - 0.3..x1 + 0.3, y0 - pad..y1 + pad)?;
            chart
                .configure_mesh()
                .x_desc("rank")
                .x_labels(((x1 - x0) as usize + 1).min(20))
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.3}"))
                .draw()?;
            for (t, (label, dashed, p)) in series.iter().enumerate() {
                let c = Palette99::pick(t).mix(0.95);
                let style = c.stroke_width(2);
                let p: Vec<(f64, f64)> = p.iter().copied().filter(|q| q.1.is_finite()).collect();
                let s = if *dashed {
                    chart.draw_series(DashedLineSeries::new(p.clone(), 6, 4, style))?
                } else {
                    chart.draw_series(LineSeries::new(p.clone(), style))?
                };
                s.label(label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], style));
                chart.draw_series(p.iter().map(|&q| Circle::new(q, 3, c.filled())))?;
            }
            if series.len() > 1 {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()?;
            }
        }
        Ok(())
    })
}

/// A consensus matrix (already ordered and reduced to at most a few
/// hundred cells a side) as a heat map from 0 to 1.
pub fn consensus(path: &Path, c: &Mat<f64>, title: &str) -> Result<(), CliError> {
    draw_png(path, CONSENSUS_SIZE, |root| heatmap(root, c, title, 1.0))
}
