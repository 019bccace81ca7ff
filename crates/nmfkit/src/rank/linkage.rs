//! Average-linkage (UPGMA) hierarchical clustering by the nearest-neighbour
//! chain algorithm: O(n²) time on a condensed distance triangle, exact for
//! average linkage because it is reducible (Müllner 2011).

use super::consensus::condensed;

/// One merge: the two clusters joined (node ids: 0..n are the items,
/// n + t is the cluster made by merge t), at which distance, and its size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Merge {
    pub left: usize,
    pub right: usize,
    pub height: f64,
    pub size: usize,
}

/// The tree of an agglomerative clustering of `n` items: n − 1 merges in
/// the order they were made (children before parents).
#[derive(Clone, Debug, PartialEq)]
pub struct Dendrogram {
    pub n: usize,
    pub merges: Vec<Merge>,
}

/// Average linkage of `n` items from their condensed distances (the strict
/// upper triangle, row-major), which are overwritten.
///
/// Ties go to the chain's previous element, then to the lowest index, so
/// the tree is deterministic.
pub fn average_linkage(n: usize, dist: &mut [f64]) -> Dendrogram {
    assert_eq!(dist.len(), n * n.saturating_sub(1) / 2);
    let mut active = vec![true; n];
    let mut size = vec![1usize; n];
    let mut node: Vec<usize> = (0..n).collect();
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    let mut chain: Vec<usize> = Vec::new();
    let mut first_active = 0;
    while merges.len() + 1 < n {
        if chain.is_empty() {
            while !active[first_active] {
                first_active += 1;
            }
            chain.push(first_active);
        }
        let (a, b, h) = loop {
            let a = *chain.last().expect("chain is not empty");
            let prev = (chain.len() >= 2).then(|| chain[chain.len() - 2]);
            let (mut b, mut db) = match prev {
                Some(p) => (p, dist[condensed(n, a, p)]),
                None => (usize::MAX, f64::INFINITY),
            };
            for c in 0..n {
                if c != a && active[c] {
                    let d = dist[condensed(n, a, c)];
                    if d < db || (b == usize::MAX && d <= db) {
                        b = c;
                        db = d;
                    }
                }
            }
            if Some(b) == prev {
                chain.pop();
                chain.pop();
                break (a, b, db);
            }
            chain.push(b);
        };
        // Keep the cluster at the lower index; Lance–Williams update.
        let (keep, gone) = if a < b { (a, b) } else { (b, a) };
        let (sk, sg) = (size[keep] as f64, size[gone] as f64);
        for c in 0..n {
            if active[c] && c != keep && c != gone {
                let ik = condensed(n, keep, c);
                let ig = condensed(n, gone, c);
                dist[ik] = (sk * dist[ik] + sg * dist[ig]) / (sk + sg);
            }
        }
        active[gone] = false;
        merges.push(Merge {
            left: node[keep],
            right: node[gone],
            height: h,
            size: size[keep] + size[gone],
        });
        size[keep] += size[gone];
        node[keep] = n + merges.len() - 1;
    }
    Dendrogram { n, merges }
}

impl Dendrogram {
    /// The items in the order of the tree's leaves (left to right), which
    /// puts every cluster in one block — the order of a consensus heat map.
    pub fn leaf_order(&self) -> Vec<usize> {
        let n = self.n;
        if self.merges.is_empty() {
            return (0..n).collect();
        }
        let mut order = Vec::with_capacity(n);
        let mut stack = vec![n + self.merges.len() - 1];
        while let Some(v) = stack.pop() {
            if v < n {
                order.push(v);
            } else {
                let m = &self.merges[v - n];
                stack.push(m.right);
                stack.push(m.left);
            }
        }
        order
    }

    /// Cluster labels 0..k after cutting the tree into `k` clusters (undoing
    /// its k − 1 highest merges); labels numbered by first appearance.
    pub fn cut(&self, k: usize) -> Vec<usize> {
        let n = self.n;
        let k = k.clamp(1, n.max(1));
        // Children come before parents and heights never decrease upwards,
        // so a stable sort by height keeps that order.
        let mut idx: Vec<usize> = (0..self.merges.len()).collect();
        idx.sort_by(|&a, &b| self.merges[a].height.total_cmp(&self.merges[b].height));
        let mut parent: Vec<usize> = (0..n + self.merges.len()).collect();
        for &t in idx.iter().take(n - k) {
            let m = &self.merges[t];
            parent[m.left] = n + t;
            parent[m.right] = n + t;
        }
        let root = |mut v: usize| {
            while parent[v] != v {
                v = parent[v];
            }
            v
        };
        let mut label_of = std::collections::HashMap::new();
        (0..n)
            .map(|i| {
                let r = root(i);
                let next = label_of.len();
                *label_of.entry(r).or_insert(next)
            })
            .collect()
    }

    /// Pearson correlation between the cophenetic distances (the height at
    /// which two items first share a cluster) and the original distances
    /// `d(i, j)`. 1 when both are constant (nothing to disagree about).
    pub fn cophenetic_correlation(&self, d: impl Fn(usize, usize) -> f64) -> f64 {
        let n = self.n;
        let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let (mut sc, mut scc, mut sd, mut sdd, mut scd) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for m in &self.merges {
            let h = m.height;
            let (a, b) = (&members[m.left], &members[m.right]);
            for &i in a {
                for &j in b {
                    let x = d(i, j);
                    sd += x;
                    sdd += x * x;
                    scd += h * x;
                }
            }
            let pairs = (a.len() * b.len()) as f64;
            sc += pairs * h;
            scc += pairs * h * h;
            let mut joined = std::mem::take(&mut members[m.left]);
            joined.append(&mut members[m.right]);
            members.push(joined);
        }
        let p = (n * n.saturating_sub(1) / 2) as f64;
        if p == 0.0 {
            return 1.0;
        }
        let cov = scd - sc * sd / p;
        let vc = (scc - sc * sc / p).max(0.0);
        let vd = (sdd - sd * sd / p).max(0.0);
        // Variances below rounding level of their sums count as zero.
        let tiny = |v: f64, s2: f64| v <= 1e-12 * s2.max(f64::MIN_POSITIVE);
        match (tiny(vc, scc), tiny(vd, sdd)) {
            (true, true) => 1.0,
            (true, false) | (false, true) => 0.0,
            _ => (cov / (vc * vd).sqrt()).clamp(-1.0, 1.0),
        }
    }
}

/// Mean silhouette width of a clustering under the distance `d` (Rousseeuw
/// 1987): for each item, (b − a)/max(a, b) with a its mean distance to its
/// own cluster and b the least mean distance to another one; 0 for items
/// alone in their cluster, and 0 overall when there is a single cluster.
pub fn silhouette(labels: &[usize], d: impl Fn(usize, usize) -> f64 + Sync) -> f64 {
    use rayon::prelude::*;
    let n = labels.len();
    let k = labels.iter().max().map_or(0, |&l| l + 1);
    if k < 2 {
        return 0.0;
    }
    let mut counts = vec![0usize; k];
    for &l in labels {
        counts[l] += 1;
    }
    // Per-item values collected, then summed in order: the same bits in
    // every run (a parallel sum's order depends on work stealing).
    let each: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let own = labels[i];
            if counts[own] < 2 {
                return 0.0;
            }
            let mut sums = vec![0.0; k];
            for j in 0..n {
                if j != i {
                    sums[labels[j]] += d(i, j);
                }
            }
            let a = sums[own] / (counts[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && counts[c] > 0)
                .map(|c| sums[c] / counts[c] as f64)
                .fold(f64::INFINITY, f64::min);
            let m = a.max(b);
            if m > 0.0 {
                (b - a) / m
            } else {
                0.0
            }
        })
        .collect();
    each.iter().sum::<f64>() / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive O(n³) UPGMA on a dense matrix: the reference.
    fn naive(n: usize, d: &[Vec<f64>]) -> Vec<(Vec<usize>, f64)> {
        let mut clusters: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut out = Vec::new();
        while clusters.len() > 1 {
            let mut best = (0, 1, f64::INFINITY);
            for a in 0..clusters.len() {
                for b in a + 1..clusters.len() {
                    let mut s = 0.0;
                    for &i in &clusters[a] {
                        for &j in &clusters[b] {
                            s += d[i][j];
                        }
                    }
                    let v = s / (clusters[a].len() * clusters[b].len()) as f64;
                    if v < best.2 {
                        best = (a, b, v);
                    }
                }
            }
            let mut joined = clusters.remove(best.1);
            joined.extend_from_slice(&clusters[best.0]);
            joined.sort_unstable();
            clusters[best.0] = joined.clone();
            out.push((joined, best.2));
        }
        out
    }

    fn points(n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let p: Vec<(f64, f64)> = (0..n).map(|_| (next(), next())).collect();
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| ((p[i].0 - p[j].0).powi(2) + (p[i].1 - p[j].1).powi(2)).sqrt())
                    .collect()
            })
            .collect()
    }

    fn condense(d: &[Vec<f64>]) -> Vec<f64> {
        let n = d.len();
        let mut v = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                v.push(d[i][j]);
            }
        }
        v
    }

    #[test]
    fn nn_chain_equals_naive_average_linkage() {
        for seed in 1..6 {
            let n = 23;
            let d = points(n, seed);
            let tree = average_linkage(n, &mut condense(&d));
            let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
            let mut got: Vec<(Vec<usize>, f64)> = tree
                .merges
                .iter()
                .map(|m| {
                    let mut j = members[m.left].clone();
                    j.extend_from_slice(&members[m.right]);
                    j.sort_unstable();
                    members.push(j.clone());
                    assert_eq!(j.len(), m.size);
                    (j, m.height)
                })
                .collect();
            let mut want = naive(n, &d);
            got.sort_by(|a, b| a.1.total_cmp(&b.1));
            want.sort_by(|a, b| a.1.total_cmp(&b.1));
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.0, w.0);
                assert!((g.1 - w.1).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn two_blobs_cut_order_cophenetic_silhouette() {
        // Items 0..4 near each other, 4..8 near each other, far apart.
        let n = 8;
        let blob = |i: usize| i / 4;
        let d = |i: usize, j: usize| {
            if i == j {
                0.0
            } else if blob(i) == blob(j) {
                0.1 + 0.01 * ((i + j) % 3) as f64
            } else {
                0.9
            }
        };
        let full: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| d(i, j)).collect()).collect();
        let tree = average_linkage(n, &mut condense(&full));
        let labels = tree.cut(2);
        for i in 0..n {
            assert_eq!(labels[i] == labels[0], blob(i) == 0);
        }
        assert_eq!(tree.cut(1), vec![0; n]);
        let mut all = tree.cut(n);
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>());
        // Leaves keep each blob in one block.
        let order = tree.leaf_order();
        let blocks: Vec<usize> = order.iter().map(|&i| blob(i)).collect();
        assert!(blocks == [0, 0, 0, 0, 1, 1, 1, 1] || blocks == [1, 1, 1, 1, 0, 0, 0, 0]);
        let r = tree.cophenetic_correlation(d);
        assert!(r > 0.95 && r <= 1.0, "{r}");
        let s = silhouette(&labels, d);
        assert!(s > 0.8, "{s}");
        // A clustering against the structure has a negative silhouette.
        let wrong: Vec<usize> = (0..n).map(|i| i % 2).collect();
        assert!(silhouette(&wrong, d) < 0.0);
    }

    #[test]
    fn degenerate_sizes_and_constant_distances() {
        assert!(average_linkage(0, &mut []).merges.is_empty());
        let one = average_linkage(1, &mut []);
        assert_eq!(one.leaf_order(), vec![0]);
        assert_eq!(one.cut(3), vec![0]);
        let mut zeros = vec![0.0; 6];
        let t = average_linkage(4, &mut zeros);
        assert_eq!(t.cophenetic_correlation(|_, _| 0.0), 1.0);
        assert_eq!(silhouette(&[0, 0, 0], |_, _| 0.0), 0.0);
    }
}
