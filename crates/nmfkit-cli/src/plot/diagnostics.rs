//! `diagnostics.png`: the θ coefficients, each factor's relative change
//! and the KKT residual against the iteration, on one log axis (as the
//! analysis of multiplicative updates plots them).

use super::style::{component_color, draw_png, log_axis, log_range, text, tick};
use nmfkit_io::report::HistoryRecord;
use nmfkit_io::Error as CliError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

pub const DIAGNOSTICS_SIZE: (u32, u32) = (1000, 480);

type Get = fn(&nmfkit_io::report::DiagnosticsRecord) -> Option<f64>;

/// The curves: (label, value).
const CURVES: [(&str, Get); 5] = [
    ("θ_W", |d| d.theta_w),
    ("θ_H", |d| d.theta_h),
    ("‖ΔW‖/‖W‖", |d| d.change_w),
    ("‖ΔH‖/‖H‖", |d| d.change_h),
    ("KKT residual / start", |d| d.kkt),
];

/// Whether the history holds diagnostics to draw.
pub fn has_diagnostics(h: &[HistoryRecord]) -> bool {
    h.iter().any(|e| e.diagnostics.is_some())
}

pub fn diagnostics(path: &Path, history: &[HistoryRecord]) -> Result<(), CliError> {
    let series: Vec<(&str, Vec<(f64, f64)>)> = CURVES
        .iter()
        .map(|(label, get)| {
            let pts = history
                .iter()
                .filter_map(|e| {
                    e.diagnostics
                        .as_ref()
                        .and_then(get)
                        .map(|v| (e.iter as f64, v))
                })
                .filter(|p| p.1 > 0.0 && p.1.is_finite())
                .collect();
            (*label, pts)
        })
        .filter(|(_, p): &(&str, Vec<(f64, f64)>)| !p.is_empty())
        .collect();
    draw_png(path, DIAGNOSTICS_SIZE, |root| {
        let (header, body) = root.split_vertically(36);
        let mut x = 16;
        for (t, (label, _)) in series.iter().enumerate() {
            let c = component_color(t);
            header.draw(&Rectangle::new([(x, 14), (x + 22, 18)], c.filled()))?;
            text(&header, label, (x + 28, 16), 14, (HPos::Left, VPos::Center))?;
            x += 40 + 9 * label.chars().count() as i32;
        }
        let Some((lo, hi)) = log_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1))) else {
            text(
                &body,
                "no diagnostics to draw (fit with --diagnostics)",
                (20, 20),
                16,
                (HPos::Left, VPos::Top),
            )?;
            return Ok(());
        };
        let xmax = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(&body)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..xmax * 1.02, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc("log scale")
            .x_labels(10)
            .y_labels(0)
            .x_label_formatter(&|v| tick(*v))
            .draw()?;
        log_axis(&mut chart, root, (lo, hi), xmax * 1.02)?;
        for (t, (_, pts)) in series.iter().enumerate() {
            let c = component_color(t);
            chart.draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1.log10())),
                c.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}
