//! The factors as heat maps, as R's NMF package draws them (`basismap`,
//! `coefmap`): `basis.png` — the components over the features (H, each
//! component scaled to its maximum), the top features named; and
//! `coefficients.png` — each sample's shares of the components (rows of W
//! scaled to sum to one), samples grouped by their dominant component
//! under a cluster track.

use super::heatmap::{cells, colorbar, downsample, Rect};
use super::style::{clip, component_color, draw_png, text, text_up};
use nmfkit::Mat;
use nmfkit_io::names::Names;
use nmfkit_io::Error as CliError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

/// At most this many features are drawn (each component's top ones).
pub const BASIS_ROWS: usize = 60;

fn argmax(v: impl Iterator<Item = f64>) -> usize {
    v.enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (i, x)| if x > b.1 { (i, x) } else { b },
        )
        .0
}

/// The features drawn in basis.png, grouped by dominant component and by
/// weight within a group.
pub fn basis_features(h: &Mat<f64>) -> Vec<usize> {
    let (k, m) = (h.nrows, h.ncols);
    let scale: Vec<f64> = (0..k)
        .map(|c| {
            (0..m)
                .map(|j| h.get(c, j))
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE)
        })
        .collect();
    let scaled = |c: usize, j: usize| h.get(c, j) / scale[c];
    let mut chosen: Vec<usize> = if m <= BASIS_ROWS {
        (0..m).collect()
    } else {
        let per = (BASIS_ROWS / k.max(1)).max(2);
        let mut set = Vec::new();
        for c in 0..k {
            let mut idx: Vec<usize> = (0..m).collect();
            idx.sort_by(|&a, &b| scaled(c, b).total_cmp(&scaled(c, a)).then(a.cmp(&b)));
            set.extend(idx.into_iter().take(per).filter(|&j| h.get(c, j) > 0.0));
        }
        set.sort_unstable();
        set.dedup();
        set
    };
    let dominant = |j: usize| argmax((0..k).map(|c| scaled(c, j)));
    chosen.sort_by(|&a, &b| {
        let (da, db) = (dominant(a), dominant(b));
        da.cmp(&db)
            .then(scaled(db, b).total_cmp(&scaled(da, a)))
            .then(a.cmp(&b))
    });
    chosen
}

pub fn basis(path: &Path, h: &Mat<f64>, names: &Names) -> Result<(), CliError> {
    let k = h.nrows;
    let rows = basis_features(h);
    let scale: Vec<f64> = (0..k)
        .map(|c| {
            (0..h.ncols)
                .map(|j| h.get(c, j))
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE)
        })
        .collect();
    let m = Mat::from_fn(rows.len(), k, |r, c| h.get(c, rows[r]) / scale[c]);
    let row_h = 16;
    let top = 110;
    let height = (top + row_h * rows.len() as i32 + 30).max(360);
    let cell_w = (60 - 3 * k as i32).clamp(24, 60);
    let width = 40 + cell_w * k as i32 + 290;
    draw_png(path, (width as u32, height as u32), |root| {
        let what = if rows.len() < h.ncols {
            format!(
                "basis: each component's top features ({} of {})",
                rows.len(),
                h.ncols
            )
        } else {
            "basis: the components over the features".to_string()
        };
        text(root, &what, (12, 10), 16, (HPos::Left, VPos::Top))?;
        let x0 = 40;
        let r = Rect {
            x0,
            y0: top,
            x1: x0 + cell_w * k as i32,
            y1: top + row_h * rows.len() as i32,
        };
        cells(root, &m, r, 0.0, 1.0)?;
        for c in 0..k {
            let x = x0 + cell_w * c as i32 + cell_w / 2;
            text_up(
                root,
                &format!("component_{}", c + 1),
                (x, top - 6),
                12,
                (HPos::Left, VPos::Center),
            )?;
            root.draw(&Rectangle::new(
                [
                    (x0 + cell_w * c as i32, top - 4),
                    (x0 + cell_w * (c as i32 + 1), top - 1),
                ],
                component_color(c).filled(),
            ))?;
        }
        for (i, &j) in rows.iter().enumerate() {
            let y = top + row_h * i as i32 + row_h / 2;
            text(
                root,
                &clip(&names.col(j), 28),
                (r.x1 + 6, y),
                12,
                (HPos::Left, VPos::Center),
            )?;
            let d = argmax((0..k).map(|c| m.get(i, c)));
            root.draw(&Rectangle::new(
                [(x0 - 14, y - row_h / 2), (x0 - 4, y + row_h / 2)],
                component_color(d).filled(),
            ))?;
        }
        let bar = Rect {
            x0: r.x1 + 210,
            y0: top + 14,
            x1: r.x1 + 224,
            y1: (top + 200).min(height - 20),
        };
        colorbar(root, bar, 0.0, 1.0, "/ max")?;
        Ok(())
    })
}

/// Samples in coefficients.png's order: by dominant component, then by
/// its share.
pub fn coefficient_order(shares: &Mat<f64>) -> Vec<usize> {
    let k = shares.ncols;
    let dom: Vec<usize> = (0..shares.nrows)
        .map(|i| argmax((0..k).map(|c| shares.get(i, c))))
        .collect();
    let mut order: Vec<usize> = (0..shares.nrows).collect();
    order.sort_by(|&a, &b| {
        dom[a]
            .cmp(&dom[b])
            .then(shares.get(b, dom[b]).total_cmp(&shares.get(a, dom[a])))
            .then(a.cmp(&b))
    });
    order
}

pub fn coefficients(path: &Path, w: &Mat<f64>, names: &Names) -> Result<(), CliError> {
    let (n, k) = (w.nrows, w.ncols);
    let shares = Mat::from_fn(n, k, |i, c| {
        let s: f64 = (0..k).map(|t| w.get(i, t)).sum();
        if s > 0.0 {
            w.get(i, c) / s
        } else {
            0.0
        }
    });
    let order = coefficient_order(&shares);
    // Components × samples, in order; wide sample sets block-averaged.
    let ordered = Mat::from_fn(k, n, |c, p| shares.get(order[p], c));
    let drawn = downsample(&ordered, k, 800);
    let labelled = n <= 80;
    let row_h = 26;
    let top = 70;
    let bottom_labels = if labelled { 130 } else { 40 };
    let height = top + row_h * k as i32 + bottom_labels;
    let width = 1000;
    draw_png(path, (width as u32, height.max(220) as u32), |root| {
        text(root, &format!("coefficients: each sample's shares of the components ({n} samples, grouped by dominant component)"), (12, 10), 15, (HPos::Left, VPos::Top))?;
        let x0 = 110;
        let r = Rect {
            x0,
            y0: top,
            x1: width - 110,
            y1: top + row_h * k as i32,
        };
        cells(root, &drawn, r, 0.0, 1.0)?;
        // The cluster track: each sample's dominant component.
        for (p, &i) in order.iter().enumerate() {
            let d = argmax((0..k).map(|c| shares.get(i, c)));
            let a = r.x0 + (p as f64 * r.w() as f64 / n as f64).round() as i32;
            let b = r.x0 + ((p + 1) as f64 * r.w() as f64 / n as f64).round() as i32;
            root.draw(&Rectangle::new(
                [(a, top - 14), (b.max(a + 1), top - 3)],
                component_color(d).filled(),
            ))?;
        }
        text(
            root,
            "dominant",
            (x0 - 6, top - 8),
            11,
            (HPos::Right, VPos::Center),
        )?;
        for c in 0..k {
            let y = top + row_h * c as i32 + row_h / 2;
            text(
                root,
                &format!("component_{}", c + 1),
                (x0 - 6, y),
                12,
                (HPos::Right, VPos::Center),
            )?;
        }
        if labelled {
            for (p, &i) in order.iter().enumerate() {
                let x = r.x0 + ((p as f64 + 0.5) * r.w() as f64 / n as f64).round() as i32;
                text_up(
                    root,
                    &clip(&names.row(i), 18),
                    (x, r.y1 + 4),
                    11,
                    (HPos::Right, VPos::Center),
                )?;
            }
        } else {
            text(
                root,
                "samples (columns), in order",
                (r.x0, r.y1 + 8),
                12,
                (HPos::Left, VPos::Top),
            )?;
        }
        let bar = Rect {
            x0: r.x1 + 16,
            y0: top + 12,
            x1: r.x1 + 30,
            y1: r.y1.max(top + 80),
        };
        colorbar(root, bar, 0.0, 1.0, "share")?;
        Ok(())
    })
}
