//! Each component's top features and samples, by weight, with their names
//! and shares: what `nmfkit top` prints and `report.json` lists (R NMF's
//! `extractFeatures`, gensim's `print_topics`).

use crate::names::Names;
use nmfkit::Mat;
use serde::{Deserialize, Serialize};

/// One feature or sample of a component.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// 0-based column (feature) or row (sample) of X.
    pub index: usize,
    /// Its name, or its number when the data had no names.
    pub name: String,
    pub weight: f64,
    /// Its weight over the component's total weight (0 for an empty one).
    pub share: f64,
}

/// A component's top features (its row of H) and top samples (its column
/// of W).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ComponentTop {
    /// 1-based, as in the factor files' `component_c`.
    pub component: usize,
    pub features: Vec<Entry>,
    pub samples: Vec<Entry>,
}

/// The `n` largest entries of `v` (ties by index), with positive weight.
fn largest(v: &[f64], n: usize, name: impl Fn(usize) -> String) -> Vec<Entry> {
    let total: f64 = v.iter().sum();
    let mut idx: Vec<usize> = (0..v.len()).filter(|&i| v[i] > 0.0).collect();
    idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
    idx.truncate(n);
    idx.into_iter()
        .map(|i| Entry {
            index: i,
            name: name(i),
            weight: v[i],
            share: if total > 0.0 { v[i] / total } else { 0.0 },
        })
        .collect()
}

/// Top `n` features and samples of every component of X ≈ W·H (W n×k,
/// H k×m), named by `names`.
///
/// ```
/// use nmfkit::Mat;
/// use nmfkit_io::{names::Names, top::top_components};
/// let w = Mat::from_rows(&[vec![1.0, 0.0], vec![0.2, 3.0]]).unwrap();
/// let h = Mat::from_rows(&[vec![0.0, 4.0, 1.0], vec![2.0, 0.0, 0.0]]).unwrap();
/// let names = Names { rows: None, cols: Some(vec!["a".into(), "b".into(), "c".into()]) };
/// let top = top_components(&w, &h, &names, 2);
/// assert_eq!(top[0].features[0].name, "b");
/// assert_eq!(top[0].features[0].share, 0.8);
/// assert_eq!(top[1].samples[0].index, 1);
/// ```
pub fn top_components(w: &Mat<f64>, h: &Mat<f64>, names: &Names, n: usize) -> Vec<ComponentTop> {
    (0..h.nrows)
        .map(|c| {
            let row: Vec<f64> = (0..h.ncols).map(|j| h.get(c, j)).collect();
            ComponentTop {
                component: c + 1,
                features: largest(&row, n, |j| names.col(j)),
                samples: largest(w.col(c), n, |i| names.row(i)),
            }
        })
        .collect()
}
