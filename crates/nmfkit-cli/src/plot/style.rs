//! What every chart shares: the embedded font (no system fonts), PNGs
//! written atomically, the heat-map colour scale, one colour per component
//! (the same in every plot of every run), and readable numbers on axes.

use nmfkit_io::formats as io;
use nmfkit_io::stdout::format_number;
use nmfkit_io::Error as CliError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

pub type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

pub const FONT: &str = "sans-serif";

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Draws into a temporary PNG beside `path` and renames it into place.
pub fn draw_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult<()>,
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

/// Viridis (five stops) for values in [0, 1].
pub fn color(v: f64) -> RGBColor {
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

/// Component `c`'s colour (0-based), the same in every plot: the ten
/// colours of matplotlib's tab10, then darker repeats.
pub fn component_color(c: usize) -> RGBColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TAB10[c % 10];
    let dim = 1.0 - 0.25 * ((c / 10) % 3) as f64;
    let f = |x: u8| (x as f64 * dim).round() as u8;
    RGBColor(f(r), f(g), f(b))
}

/// A tick label: integers as integers, four significant digits otherwise.
pub fn tick(v: f64) -> String {
    // Ticks of plotters come with float noise (0.30000000000000004).
    let r = (v * 1e9).round() / 1e9;
    format_number(if r == 0.0 { 0.0 } else { r })
}

/// Round tick values (steps of 1, 2 or 5 times a power of ten) from `lo`
/// to `hi`, at most `max_n` of them.
pub fn nice_ticks(lo: f64, hi: f64, max_n: usize) -> Vec<f64> {
    if !(hi > lo) || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / max_n.max(2) as f64;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|&s| (hi - lo) / s <= max_n as f64)
        .unwrap_or(10.0 * p);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Tick values for a log axis from `lo` to `hi` (> 0): powers of ten over
/// three decades or more, 1-2-5 steps over one to three, round linear
/// steps under one decade — several ticks on any range.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return vec![];
    }
    let decades = (hi / lo).log10();
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    if decades >= 3.0 {
        let step = (decades / 6.0).ceil().max(1.0) as i32;
        (a..=b)
            .filter(|e| e % step == 0)
            .map(|e| 10f64.powi(e))
            .filter(within)
            .collect()
    } else if decades >= 1.0 {
        (a..=b)
            .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
            .filter(within)
            .collect()
    } else {
        nice_ticks(lo, hi, 6)
    }
}

/// The range of log10 of positive `values` (padded), for a log axis drawn
/// linearly in log10: plotters' own log scale labels only powers of ten,
/// which leaves one tick on a range under a decade.
pub fn log_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return None;
    }
    let (a, b) = (lo.log10(), hi.log10());
    let pad = ((b - a) * 0.05).max(1e-4);
    Some((a - pad, b + pad))
}

/// A chart whose y axis is log10 of its values, x linear.
pub type LogChart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Grid lines and labels at round values ([`log_ticks`]) across a chart
/// whose y is log10 from `lo` to `hi` and x runs from 0 to `xmax`; the
/// labels go on `root` left of the plotting area (plotters' log scale
/// labels only powers of ten).
pub fn log_axis(
    chart: &mut LogChart<'_, '_>,
    root: &Area<'_>,
    (lo, hi): (f64, f64),
    xmax: f64,
) -> DrawResult<()> {
    let grid = RGBColor(200, 200, 200);
    for v in log_ticks(10f64.powf(lo), 10f64.powf(hi)) {
        let y = v.log10();
        chart.draw_series(LineSeries::new([(0.0, y), (xmax, y)], grid))?;
        let (px, py) = chart.backend_coord(&(0.0, y));
        text(
            root,
            &tick(v),
            (px - 6, py),
            12,
            (HPos::Right, VPos::Center),
        )?;
    }
    Ok(())
}

/// Text at pixel `pos` with anchoring (`h`, `v`), size `px`.
pub fn text(
    area: &Area<'_>,
    s: &str,
    pos: (i32, i32),
    px: u32,
    anchor: (HPos, VPos),
) -> DrawResult<()> {
    let style = TextStyle::from((FONT, px).into_font())
        .color(&BLACK)
        .pos(Pos::new(anchor.0, anchor.1));
    area.draw_text(s, &style, pos)?;
    Ok(())
}

/// Text turned a quarter left (for labels along a vertical axis or above
/// narrow columns).
pub fn text_up(
    area: &Area<'_>,
    s: &str,
    pos: (i32, i32),
    px: u32,
    anchor: (HPos, VPos),
) -> DrawResult<()> {
    let style = TextStyle::from((FONT, px).into_font().transform(FontTransform::Rotate270))
        .color(&BLACK)
        .pos(Pos::new(anchor.0, anchor.1));
    area.draw_text(s, &style, pos)?;
    Ok(())
}

/// `s` cut to `n` characters (with an ellipsis).
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_well() {
        assert_eq!(tick(10.0), "10");
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(tick(1e-17), "0");
        let (a, b) = log_range([120.0, 150.0].into_iter()).unwrap();
        assert!(a < 120f64.log10() && b > 150f64.log10() && b - a < 0.2);
        assert!(log_range([0.0, f64::NAN].into_iter()).is_none());
        assert_ne!(component_color(0), component_color(10));
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(nice_ticks(0.0, 1.739, 5).len(), 4);
        assert_eq!(nice_ticks(3.0, 3.0, 5), [3.0]);
        assert_eq!(log_ticks(1e-25, 100.0).len(), 6);
        assert_eq!(log_ticks(3.0, 300.0), [5.0, 10.0, 20.0, 50.0, 100.0, 200.0]);
        assert_eq!(log_ticks(11.5, 33.0), [15.0, 20.0, 25.0, 30.0]);
    }
}
