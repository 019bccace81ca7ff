//! The line charts and the model's heat maps: convergence, components
//! (image tiles, or one small panel per component), X beside W·H, and the
//! rank-survey measures.

use super::heatmap::{downsample, panel, value_range, Rect};
use super::style::{
    clip, component_color, draw_png, log_axis, log_range, text, tick, Area, DrawResult, FONT,
};
use nmfkit::Mat;
use nmfkit_io::formats::Matrix;
use nmfkit_io::names::Names;
use nmfkit_io::stdout::format_number;
use nmfkit_io::Error as CliError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

pub const CONVERGENCE_SIZE: (u32, u32) = (1000, 420);
pub const COMPONENTS_WIDTH: u32 = 1000;
pub const RECONSTRUCTION_SIZE: (u32, u32) = (1100, 520);

/// Objective against iteration and against time, on log axes with ticks
/// across any range.
pub fn convergence(path: &Path, iters: &[(f64, f64, f64)]) -> Result<(), CliError> {
    // (iteration, seconds, objective)
    let pts: Vec<(f64, f64, f64)> = iters
        .iter()
        .copied()
        .filter(|p| p.2 > 0.0 && p.2.is_finite())
        .collect();
    draw_png(path, CONVERGENCE_SIZE, |root| {
        let (left, right) = root.split_horizontally(CONVERGENCE_SIZE.0 / 2);
        let Some((ylo, yhi)) = log_range(pts.iter().map(|p| p.2)) else {
            text(
                root,
                "no positive objective values to draw",
                (20, 20),
                18,
                (HPos::Left, VPos::Top),
            )?;
            return Ok(());
        };
        for (area, by_time) in [(&left, false), (&right, true)] {
            let get = |p: &(f64, f64, f64)| if by_time { p.1 } else { p.0 };
            let xmax = pts.iter().map(get).fold(0.0, f64::max).max(1e-9);
            let label = if by_time { "time (s)" } else { "iteration" };
            let mut chart = ChartBuilder::on(area)
                .caption(format!("objective vs {label}"), (FONT, 20))
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(80)
                .build_cartesian_2d(0.0..xmax * 1.02, ylo..yhi)?;
            chart
                .configure_mesh()
                .x_desc(label)
                .y_desc("objective (log scale)")
                .x_labels(8)
                .y_labels(0)
                .x_label_formatter(&|v| tick(*v))
                .draw()?;
            log_axis(&mut chart, root, (ylo, yhi), xmax * 1.02)?;
            chart.draw_series(LineSeries::new(
                pts.iter().map(|p| (get(p), p.2.log10())),
                component_color(0).stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

/// Rows of H as image tiles, each with its colour bar (with an image
/// shape), or one small panel per component of its weight over the
/// features with the top three named.
pub fn components(
    path: &Path,
    h: &Mat<f64>,
    image: Option<(usize, usize)>,
    names: &Names,
) -> Result<(), CliError> {
    let k = h.nrows;
    if let Some((ih, iw)) = image {
        if ih * iw != h.ncols {
            return Err(CliError::usage(format!(
                "image shape {ih}x{iw} has {} pixels but H has {} columns",
                ih * iw,
                h.ncols
            )));
        }
        let cols = k.clamp(1, 5);
        let rows = k.div_ceil(cols);
        let cell_w = COMPONENTS_WIDTH / cols as u32;
        let img_h = ((cell_w - 90) as f64 * ih as f64 / iw as f64).round() as u32 + 56;
        let size = (COMPONENTS_WIDTH, img_h * rows as u32);
        return draw_png(path, size, |root| {
            for t in 0..k {
                let (r, c) = ((t / cols) as i32, (t % cols) as i32);
                let img = Mat::from_fn(ih, iw, |y, x| h.get(t, y * iw + x));
                let rect = Rect {
                    x0: c * cell_w as i32,
                    y0: r * img_h as i32,
                    x1: (c + 1) * cell_w as i32,
                    y1: (r + 1) * img_h as i32,
                };
                panel(
                    root,
                    rect,
                    &img,
                    &format!("component_{}", t + 1),
                    value_range(&img.data),
                    "",
                )?;
            }
            Ok(())
        });
    }
    let cols = if k <= 3 { k.max(1) } else { 3 };
    let rows = k.div_ceil(cols);
    let size = (COMPONENTS_WIDTH, 260 * rows as u32);
    draw_png(path, size, |root| {
        let areas = root.split_evenly((rows, cols));
        for (t, area) in areas.iter().enumerate().take(k) {
            small_multiple(area, h, t, names)?;
        }
        Ok(())
    })
}

fn small_multiple(area: &Area<'_>, h: &Mat<f64>, t: usize, names: &Names) -> DrawResult<()> {
    let m = h.ncols;
    let row: Vec<f64> = (0..m).map(|j| h.get(t, j)).collect();
    let ymax = row
        .iter()
        .cloned()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let c = component_color(t);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("component_{}", t + 1), (FONT, 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5..m as f64 - 0.5, 0.0..ymax * 1.18)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("feature (column of X)")
        .y_desc("weight")
        .x_labels(6)
        .y_labels(4)
        .x_label_formatter(&|v| tick(v.round()))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    if m <= 200 {
        chart.draw_series(row.iter().enumerate().map(|(j, &v)| {
            Rectangle::new([(j as f64 - 0.4, 0.0), (j as f64 + 0.4, v)], c.filled())
        }))?;
    } else {
        chart.draw_series(LineSeries::new(
            row.iter().enumerate().map(|(j, &v)| (j as f64, v)),
            c.stroke_width(1),
        ))?;
    }
    // Name the three largest in a corner (labels on adjacent bars collide).
    let mut idx: Vec<usize> = (0..m).filter(|&j| row[j] > 0.0).collect();
    idx.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
    let top: Vec<String> = idx
        .iter()
        .take(3)
        .map(|&j| clip(&names.col(j), 16))
        .collect();
    if !top.is_empty() {
        let (w, _) = area.dim_in_pixel();
        text(
            area,
            &format!("top: {}", top.join(", ")),
            (w as i32 - 14, 34),
            12,
            (HPos::Right, VPos::Top),
        )?;
    }
    Ok(())
}

/// X beside W·H as heat maps on one colour scale (downsampled to at most
/// 300×300 cells), with the colour bar.
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
    let mut all = xs.data.clone();
    all.extend_from_slice(&whs.data);
    let range = value_range(&all);
    draw_png(path, RECONSTRUCTION_SIZE, |root| {
        text(
            root,
            &format!(
                "X ({n}×{m}) beside W·H: relative error ‖X − WH‖/‖X‖ = {}",
                format_number(rel)
            ),
            (20, 12),
            18,
            (HPos::Left, VPos::Top),
        )?;
        let half = RECONSTRUCTION_SIZE.0 as i32 / 2;
        let bottom = RECONSTRUCTION_SIZE.1 as i32;
        panel(
            root,
            Rect {
                x0: 0,
                y0: 44,
                x1: half,
                y1: bottom,
            },
            &xs,
            "X",
            range,
            "value",
        )?;
        panel(
            root,
            Rect {
                x0: half,
                y0: 44,
                x1: 2 * half,
                y1: bottom,
            },
            &whs,
            "W·H",
            range,
            "value",
        )?;
        Ok(())
    })
}

pub const RANK_SIZE: (u32, u32) = (1200, 800);

/// One measure per panel against the rank (as R's NMF package draws its
/// rank survey): each panel is (title, [(label, dashed, points)]).
pub type Panel = (String, Vec<Series>);

/// One line of a panel: its label, whether dashed, its points.
pub type Series = (String, bool, Vec<(f64, f64)>);

/// The rank-survey measures, one panel each; the data solid, a randomized
/// copy dashed; one legend for all in the header, so none covers data.
pub fn rank_measures(path: &Path, panels: &[Panel]) -> Result<(), CliError> {
    draw_png(path, RANK_SIZE, |root| {
        let (header, body) = root.split_vertically(40);
        let dashed = panels.iter().any(|p| p.1.iter().any(|s| s.1));
        let legend = if dashed {
            "solid: the data   dashed: a copy with every column permuted (no structure)"
        } else {
            "each measure against the rank"
        };
        text(&header, legend, (16, 12), 15, (HPos::Left, VPos::Top))?;
        let cols = 3;
        let rows = panels.len().div_ceil(cols).max(1);
        let areas = body.split_evenly((rows, cols));
        for (area, (title, series)) in areas.iter().zip(panels) {
            measure_panel(area, title, series)?;
        }
        Ok(())
    })
}

fn measure_panel(area: &Area<'_>, title: &str, series: &[Series]) -> DrawResult<()> {
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
        return Ok(());
    }
    let pad = ((y1 - y0) * 0.1).max(1e-3 * y1.abs().max(1e-12));
    // Two series of one kind (W and H) get a short legend in the title.
    let kinds: Vec<&str> = series
        .iter()
        .filter(|s| !s.1)
        .map(|s| s.0.split(' ').next().unwrap_or(""))
        .collect();
    let caption = if kinds.len() > 1 {
        let named: Vec<String> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k}: {}", ["blue", "orange", "green"][i % 3]))
            .collect();
        format!("{title} ({})", named.join(", "))
    } else {
        title.to_string()
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x0 - 0.3..x1 + 0.3, y0 - pad..y1 + pad)?;
    let n_ranks = (x1 - x0).round() as usize + 1;
    chart
        .configure_mesh()
        .x_desc("rank")
        .x_labels(n_ranks.min(12))
        .y_labels(5)
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    let mut kind: usize = 0;
    for (label, dashed, p) in series {
        if !dashed && !label.is_empty() {
            kind += 1;
        }
        let c = component_color(kind.saturating_sub(1));
        let style = c.stroke_width(2);
        let p: Vec<(f64, f64)> = p.iter().copied().filter(|q| q.1.is_finite()).collect();
        if *dashed {
            chart.draw_series(DashedLineSeries::new(p.clone(), 6, 4, style))?;
        } else {
            chart.draw_series(LineSeries::new(p.clone(), style))?;
        }
        chart.draw_series(p.iter().map(|&q| Circle::new(q, 3, c.filled())))?;
    }
    Ok(())
}
