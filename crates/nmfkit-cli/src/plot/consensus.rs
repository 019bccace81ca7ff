//! A consensus map as R's NMF package draws one (`consensusmap`): the
//! consensus matrix in the tree's leaf order, its average-linkage
//! dendrogram on the top and the left, a cluster track beside each, and a
//! 0–1 colour bar.

use super::heatmap::{cells, colorbar, Rect};
use super::style::{component_color, draw_png, text, Area, DrawResult};
use nmfkit::rank::Dendrogram;
use nmfkit::Mat;
use nmfkit_io::Error as CliError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

pub const CONSENSUS_SIZE: (u32, u32) = (820, 800);

/// What one consensus map shows.
pub struct ConsensusMap<'a> {
    /// The consensus in leaf order, block-averaged to a few hundred cells.
    pub matrix: &'a Mat<f64>,
    pub tree: &'a Dendrogram,
    /// The items in leaf order.
    pub order: &'a [usize],
    /// Each item's cluster (by item).
    pub clusters: &'a [usize],
    pub title: &'a str,
}

const DENDRO: i32 = 90;
const TRACK: i32 = 14;

pub fn consensus(path: &Path, c: &ConsensusMap<'_>) -> Result<(), CliError> {
    draw_png(path, CONSENSUS_SIZE, |root| {
        text(
            root,
            c.title,
            (CONSENSUS_SIZE.0 as i32 / 2, 10),
            16,
            (HPos::Center, VPos::Top),
        )?;
        let side = (CONSENSUS_SIZE.1 as i32 - 40 - DENDRO - TRACK - 20)
            .min(CONSENSUS_SIZE.0 as i32 - DENDRO - TRACK - 110);
        let x0 = 10 + DENDRO + TRACK + 4;
        let y0 = 40 + DENDRO + TRACK + 4;
        let heat = Rect {
            x0,
            y0,
            x1: x0 + side,
            y1: y0 + side,
        };
        cells(root, c.matrix, heat, 0.0, 1.0)?;
        // Cluster tracks: the items' clusters in leaf order.
        let n = c.order.len().max(1);
        for (p, &item) in c.order.iter().enumerate() {
            let col = component_color(c.clusters.get(item).copied().unwrap_or(0)).filled();
            let a = (p as f64 * side as f64 / n as f64).round() as i32;
            let b = ((p + 1) as f64 * side as f64 / n as f64).round() as i32;
            root.draw(&Rectangle::new(
                [(x0 + a, y0 - TRACK - 2), (x0 + b.max(a + 1), y0 - 2)],
                col,
            ))?;
            root.draw(&Rectangle::new(
                [(x0 - TRACK - 2, y0 + a), (x0 - 2, y0 + b.max(a + 1))],
                col,
            ))?;
        }
        dendrogram(root, c.tree, c.order, heat, true)?;
        dendrogram(root, c.tree, c.order, heat, false)?;
        let bar = Rect {
            x0: heat.x1 + 14,
            y0: heat.y0 + 14,
            x1: heat.x1 + 28,
            y1: heat.y1,
        };
        colorbar(root, bar, 0.0, 1.0, "consensus")?;
        text(
            root,
            "cluster",
            (x0 - TRACK - 4, y0 - TRACK - 4),
            11,
            (HPos::Right, VPos::Bottom),
        )?;
        Ok(())
    })
}

/// The tree above (`top`) or left of the heat map: leaves at the items'
/// positions, each merge drawn at its height (0 at the map, the highest
/// merge at the far edge).
fn dendrogram(
    area: &Area<'_>,
    tree: &Dendrogram,
    order: &[usize],
    heat: Rect,
    top: bool,
) -> DrawResult<()> {
    let n = tree.n;
    if n < 2 || tree.merges.is_empty() {
        return Ok(());
    }
    let side = if top { heat.w() } else { heat.h() } as f64;
    let mut pos = vec![0.0f64; n + tree.merges.len()];
    for (p, &item) in order.iter().enumerate() {
        pos[item] = (p as f64 + 0.5) * side / n as f64;
    }
    let hmax = tree
        .merges
        .iter()
        .map(|m| m.height)
        .fold(0.0, f64::max)
        .max(1e-12);
    let mut height = vec![0.0f64; n + tree.merges.len()];
    let edge = if top {
        heat.y0 - TRACK - 4
    } else {
        heat.x0 - TRACK - 4
    };
    let at = |along: f64, h: f64| -> (i32, i32) {
        let depth = edge - (h / hmax * (DENDRO - 4) as f64).round() as i32;
        if top {
            (heat.x0 + along.round() as i32, depth)
        } else {
            (depth, heat.y0 + along.round() as i32)
        }
    };
    let style = RGBColor(60, 60, 60).stroke_width(1);
    for (t, m) in tree.merges.iter().enumerate() {
        let node = n + t;
        pos[node] = (pos[m.left] + pos[m.right]) / 2.0;
        height[node] = m.height;
        let (a, b) = (m.left, m.right);
        area.draw(&PathElement::new(
            vec![
                at(pos[a], height[a]),
                at(pos[a], m.height),
                at(pos[b], m.height),
                at(pos[b], height[b]),
            ],
            style,
        ))?;
    }
    Ok(())
}
