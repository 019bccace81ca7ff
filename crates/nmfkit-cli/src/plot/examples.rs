//! A few samples as the model sees them: each image, its reconstruction
//! W_i·H on the same colour scale, and its weights on the components
//! (bars in the components' colours) — what NMF.jl's MNIST notebook shows.

use super::heatmap::{cells, Rect};
use super::style::{component_color, draw_png, text, tick};
use nmfkit::Mat;
use nmfkit_io::names::Names;
use nmfkit_io::Error as CliError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

pub const EXAMPLE_ROW: u32 = 110;
pub const EXAMPLES_WIDTH: u32 = 1000;

pub fn examples(
    path: &Path,
    x: &Mat<f64>,
    w: &Mat<f64>,
    h: &Mat<f64>,
    picks: &[usize],
    names: &Names,
    (ih, iw): (usize, usize),
) -> Result<(), CliError> {
    if ih * iw != x.ncols {
        return Err(CliError::usage(format!(
            "image shape {ih}x{iw} does not fit {} columns",
            x.ncols
        )));
    }
    let k = w.ncols;
    let top = 40;
    let size = (
        EXAMPLES_WIDTH,
        top as u32 + EXAMPLE_ROW * picks.len() as u32 + 10,
    );
    draw_png(path, size, |root| {
        text(
            root,
            "examples: image, reconstruction W_i·H, weights on the components",
            (12, 10),
            16,
            (HPos::Left, VPos::Top),
        )?;
        let wmax = picks
            .iter()
            .flat_map(|&i| (0..k).map(move |c| w.get(i, c)))
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        for (r, &i) in picks.iter().enumerate() {
            let y0 = top + r as i32 * EXAMPLE_ROW as i32;
            let img = Mat::from_fn(ih, iw, |a, b| x.get(i, a * iw + b));
            let rec = Mat::from_fn(ih, iw, |a, b| {
                (0..k).map(|c| w.get(i, c) * h.get(c, a * iw + b)).sum()
            });
            let vmax = img
                .data
                .iter()
                .chain(&rec.data)
                .cloned()
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE);
            text(
                root,
                &names.row(i),
                (12, y0 + 45),
                13,
                (HPos::Left, VPos::Center),
            )?;
            let side = EXAMPLE_ROW as i32 - 16;
            let cell_w = (side as f64 * iw as f64 / ih as f64).round() as i32;
            cells(
                root,
                &img,
                Rect {
                    x0: 110,
                    y0,
                    x1: 110 + cell_w,
                    y1: y0 + side,
                },
                0.0,
                vmax,
            )?;
            cells(
                root,
                &rec,
                Rect {
                    x0: 130 + cell_w,
                    y0,
                    x1: 130 + 2 * cell_w,
                    y1: y0 + side,
                },
                0.0,
                vmax,
            )?;
            // The weights: one bar per component, on one scale for all rows.
            let x0 = 170 + 2 * cell_w;
            let x1 = EXAMPLES_WIDTH as i32 - 70;
            let bw = ((x1 - x0) / k.max(1) as i32).max(2);
            for c in 0..k {
                let v = w.get(i, c) / wmax;
                let bx = x0 + c as i32 * bw;
                let by = y0 + side - (v * side as f64).round() as i32;
                root.draw(&Rectangle::new(
                    [(bx + 1, by), (bx + bw - 1, y0 + side)],
                    component_color(c).filled(),
                ))?;
            }
            root.draw(&PathElement::new(
                vec![(x0, y0 + side), (x0 + bw * k as i32, y0 + side)],
                BLACK,
            ))?;
            if r + 1 == picks.len() {
                for c in (0..k).step_by(if k > 20 { 5 } else { 1 }) {
                    text(
                        root,
                        &(c + 1).to_string(),
                        (x0 + c as i32 * bw + bw / 2, y0 + side + 2),
                        11,
                        (HPos::Center, VPos::Top),
                    )?;
                }
            }
        }
        text(
            root,
            &format!("max weight {}", tick(wmax)),
            (EXAMPLES_WIDTH as i32 - 12, 14),
            12,
            (HPos::Right, VPos::Top),
        )?;
        Ok(())
    })
}
