//! The pr × pc process grid and who owns what (MPI-FAUN's layout).
//!
//! Rank (i, j) = world rank i·pc + j holds the block X_ij: row block R_i
//! (X's rows split into pr balanced ranges) × column block C_j (columns
//! split into pc ranges). W is split by rows over all p ranks: R_i is cut
//! into pc pieces and rank (i, j) owns the j-th. H is split by columns: C_j
//! is cut into pr pieces and rank (i, j) owns the i-th. So W's rows are in
//! world-rank order, H's columns in the order (j, i).

use std::ops::Range;

/// Offsets of `parts` balanced ranges of `0..len` (`parts + 1` entries; the
/// first `len % parts` ranges are one longer).
pub fn split(len: usize, parts: usize) -> Vec<usize> {
    let (base, extra) = (len / parts, len % parts);
    let mut off = vec![0];
    for q in 0..parts {
        off.push(off[q] + base + usize::from(q < extra));
    }
    off
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub n: usize,
    pub m: usize,
    pub pr: usize,
    pub pc: usize,
    rows: Vec<usize>,
    cols: Vec<usize>,
}

impl Layout {
    pub fn new(n: usize, m: usize, pr: usize, pc: usize) -> Layout {
        Layout {
            n,
            m,
            pr,
            pc,
            rows: split(n, pr),
            cols: split(m, pc),
        }
    }

    pub fn p(&self) -> usize {
        self.pr * self.pc
    }

    /// (i, j) of a world rank.
    pub fn coords(&self, rank: usize) -> (usize, usize) {
        (rank / self.pc, rank % self.pc)
    }

    pub fn row_block(&self, i: usize) -> Range<usize> {
        self.rows[i]..self.rows[i + 1]
    }

    pub fn col_block(&self, j: usize) -> Range<usize> {
        self.cols[j]..self.cols[j + 1]
    }

    /// Offsets (within R_i) of the pc pieces of W that grid row i holds.
    pub fn w_offsets(&self, i: usize) -> Vec<usize> {
        split(self.row_block(i).len(), self.pc)
    }

    /// Offsets (within C_j) of the pr pieces of H that grid column j holds.
    pub fn h_offsets(&self, j: usize) -> Vec<usize> {
        split(self.col_block(j).len(), self.pr)
    }

    /// The global rows of W that rank (i, j) owns.
    pub fn w_piece(&self, i: usize, j: usize) -> Range<usize> {
        let o = self.w_offsets(i);
        let s = self.rows[i];
        s + o[j]..s + o[j + 1]
    }

    /// The global columns of H that rank (i, j) owns.
    pub fn h_piece(&self, i: usize, j: usize) -> Range<usize> {
        let o = self.h_offsets(j);
        let s = self.cols[j];
        s + o[i]..s + o[i + 1]
    }
}

/// "PRxPC" → (pr, pc).
pub fn parse_grid(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--grid must look like 2x4 (rows x columns of processes), got '{s}'");
    let (a, b) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (pr, pc) = (
        a.trim().parse::<usize>().map_err(|_| bad())?,
        b.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if pr == 0 || pc == 0 {
        return Err(bad());
    }
    Ok((pr, pc))
}

/// The grid for p processes on an n×m matrix with the least communication
/// per iteration, k·((pc−1)·n + (pr−1)·m)/p words per rank (the all-gathers
/// and reduce-scatters of MPI-FAUN): pr/pc close to n/m. Ties go to the
/// squarer grid.
pub fn choose_grid(p: usize, n: usize, m: usize) -> (usize, usize) {
    (1..=p)
        .filter(|pr| p.is_multiple_of(*pr))
        .map(|pr| (pr, p / pr))
        .min_by(|&(a, b), &(c, d)| {
            let cost =
                |pr: usize, pc: usize| (pc - 1) as f64 * n as f64 + (pr - 1) as f64 * m as f64;
            cost(a, b).partial_cmp(&cost(c, d)).unwrap().then(
                (a as i64 - b as i64)
                    .abs()
                    .cmp(&(c as i64 - d as i64).abs()),
            )
        })
        .expect("p >= 1")
}

/// Words (f64) one rank receives per iteration in MPI-FAUN's scheme, for
/// the factor traffic: all-gather of W_i and H_j, reduce-scatter of
/// Wᵀ X_ij and X_ij Hᵀ, and the two k×k all-reduces (counted as 2·(p−1)/p
/// of their size, as a ring does).
pub fn faun_words(layout: &Layout, k: usize) -> f64 {
    let (n, m, pr, pc) = (
        layout.n as f64,
        layout.m as f64,
        layout.pr as f64,
        layout.pc as f64,
    );
    let p = pr * pc;
    let k = k as f64;
    2.0 * k * ((pc - 1.0) * n / p + (pr - 1.0) * m / p) + 2.0 * 2.0 * (p - 1.0) / p * k * k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_every_row_and_column_once() {
        for (n, m, pr, pc) in [(10, 7, 2, 2), (9, 13, 1, 4), (5, 3, 4, 1), (3, 2, 2, 3)] {
            let l = Layout::new(n, m, pr, pc);
            let mut rows = vec![0; n];
            let mut cols = vec![0; m];
            for r in 0..l.p() {
                let (i, j) = l.coords(r);
                for q in l.w_piece(i, j) {
                    rows[q] += 1;
                    assert!(l.row_block(i).contains(&q));
                }
                for q in l.h_piece(i, j) {
                    cols[q] += 1;
                    assert!(l.col_block(j).contains(&q));
                }
            }
            assert!(rows.iter().all(|&c| c == 1) && cols.iter().all(|&c| c == 1));
            // W's rows in world-rank order.
            let starts: Vec<usize> = (0..l.p())
                .map(|r| {
                    let (i, j) = l.coords(r);
                    l.w_piece(i, j).start
                })
                .collect();
            assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        }
    }

    #[test]
    fn grid_choice_and_parsing() {
        assert_eq!(choose_grid(4, 1000, 1000), (2, 2));
        assert_eq!(choose_grid(4, 100000, 100), (4, 1));
        assert_eq!(choose_grid(4, 100, 100000), (1, 4));
        assert_eq!(choose_grid(1, 5, 5), (1, 1));
        assert_eq!(parse_grid("2x3"), Ok((2, 3)));
        assert!(parse_grid("2by3").is_err() && parse_grid("0x2").is_err());
        assert_eq!(split(7, 3), vec![0, 3, 5, 7]);
    }
}
