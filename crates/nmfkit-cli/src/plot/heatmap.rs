//! Heat maps drawn cell by cell in pixels, each with its colour bar, and
//! the layout of a titled panel holding one.

use super::style::{color, nice_ticks, text, tick, Area, DrawResult};
use nmfkit::Mat;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// A pixel rectangle: left, top, right, bottom.
#[derive(Clone, Copy, Debug)]
pub struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    pub fn w(&self) -> i32 {
        self.x1 - self.x0
    }
    pub fn h(&self) -> i32 {
        self.y1 - self.y0
    }
}

/// Block-averages a matrix down to at most `max_r`×`max_c` cells.
pub fn downsample(m: &Mat<f64>, max_r: usize, max_c: usize) -> Mat<f64> {
    let br = m.nrows.div_ceil(max_r.max(1)).max(1);
    let bc = m.ncols.div_ceil(max_c.max(1)).max(1);
    if br == 1 && bc == 1 {
        return m.clone();
    }
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

/// The cells of `m` (row 0 at the top) filling `r`, coloured from `vmin`
/// (dark) to `vmax` (bright).
pub fn cells(area: &Area<'_>, m: &Mat<f64>, r: Rect, vmin: f64, vmax: f64) -> DrawResult<()> {
    let span = (vmax - vmin).max(f64::MIN_POSITIVE);
    let (rows, cols) = (m.nrows.max(1) as f64, m.ncols.max(1) as f64);
    for i in 0..m.nrows {
        let y0 = r.y0 + (i as f64 * r.h() as f64 / rows).round() as i32;
        let y1 = r.y0 + ((i + 1) as f64 * r.h() as f64 / rows).round() as i32;
        for j in 0..m.ncols {
            let x0 = r.x0 + (j as f64 * r.w() as f64 / cols).round() as i32;
            let x1 = r.x0 + ((j + 1) as f64 * r.w() as f64 / cols).round() as i32;
            let c = color((m.get(i, j) - vmin) / span);
            area.draw(&Rectangle::new(
                [(x0, y0), (x1.max(x0 + 1), y1.max(y0 + 1))],
                c.filled(),
            ))?;
        }
    }
    area.draw(&Rectangle::new(
        [(r.x0, r.y0), (r.x1, r.y1)],
        BLACK.stroke_width(1),
    ))?;
    Ok(())
}

/// A vertical colour bar in `r` from `vmin` (bottom) to `vmax` (top), with
/// five ticks on its right and `label` above.
pub fn colorbar(area: &Area<'_>, r: Rect, vmin: f64, vmax: f64, label: &str) -> DrawResult<()> {
    let h = r.h().max(1);
    for y in 0..h {
        let v = 1.0 - y as f64 / (h - 1).max(1) as f64;
        area.draw(&Rectangle::new(
            [(r.x0, r.y0 + y), (r.x1, r.y0 + y + 1)],
            color(v).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(r.x0, r.y0), (r.x1, r.y1)],
        BLACK.stroke_width(1),
    ))?;
    // Fewer ticks on a short bar, so labels never overlap.
    let max_n = (h / 28).clamp(2, 6) as usize;
    for v in nice_ticks(vmin, vmax, max_n) {
        let f = (v - vmin) / (vmax - vmin).max(f64::MIN_POSITIVE);
        let y = r.y1 - (f * h as f64).round() as i32;
        area.draw(&PathElement::new(vec![(r.x1, y), (r.x1 + 4, y)], BLACK))?;
        text(
            area,
            &tick(v),
            (r.x1 + 6, y),
            12,
            (HPos::Left, VPos::Center),
        )?;
    }
    if !label.is_empty() {
        text(
            area,
            label,
            (r.x0, r.y0 - 6),
            12,
            (HPos::Left, VPos::Bottom),
        )?;
    }
    Ok(())
}

/// Width a colour bar with its tick labels takes beside a heat map.
pub const COLORBAR_W: i32 = 78;

/// A heat map of `m` with a title above and its colour bar on the right,
/// filling `r`; returns the rectangle the cells took.
pub fn panel(
    area: &Area<'_>,
    r: Rect,
    m: &Mat<f64>,
    title: &str,
    (vmin, vmax): (f64, f64),
    bar_label: &str,
) -> DrawResult<Rect> {
    text(
        area,
        title,
        (r.x0 + r.w() / 2, r.y0 + 4),
        15,
        (HPos::Center, VPos::Top),
    )?;
    let body = Rect {
        x0: r.x0 + 6,
        y0: r.y0 + 42,
        x1: r.x1 - COLORBAR_W,
        y1: r.y1 - 8,
    };
    // Square-ish cells where the shape allows: keep the aspect of m.
    let aspect = m.nrows.max(1) as f64 / m.ncols.max(1) as f64;
    let (mut w, mut h) = (body.w(), body.h());
    if (h as f64) > w as f64 * aspect {
        h = (w as f64 * aspect).round().max(1.0) as i32;
    } else {
        w = (h as f64 / aspect).round().max(1.0) as i32;
    }
    let cells_r = Rect {
        x0: body.x0 + (body.w() - w) / 2,
        y0: body.y0,
        x1: body.x0 + (body.w() - w) / 2 + w,
        y1: body.y0 + h,
    };
    cells(area, m, cells_r, vmin, vmax)?;
    let bar = Rect {
        x0: cells_r.x1 + 10,
        y0: cells_r.y0 + 12,
        x1: cells_r.x1 + 24,
        y1: cells_r.y1.max(cells_r.y0 + 60),
    };
    colorbar(area, bar, vmin, vmax, bar_label)?;
    Ok(cells_r)
}

/// The smallest and largest finite values (0..1 when there are none).
pub fn value_range(values: &[f64]) -> (f64, f64) {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo.min(0.0), hi)
    } else {
        (lo.min(0.0), lo.min(0.0) + 1.0)
    }
}
