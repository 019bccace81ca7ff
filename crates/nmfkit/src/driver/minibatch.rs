//! scikit-learn's stopping rule for minibatch steps: the relative change of
//! H below `tol`, or no new minimum of the batch costs' exponentially
//! weighted average (weight batch/(n + 1)) for `max_no_improvement` steps.
//! The first step is ignored: H has not moved yet.

#[derive(Default)]
pub(crate) struct MinibatchStop {
    steps: usize,
    ewa: Option<f64>,
    ewa_min: Option<f64>,
    no_improvement: usize,
}

impl MinibatchStop {
    /// One step's batch cost (per row), rows and H change; true to stop.
    pub fn step(
        &mut self,
        (cost, rows): (f64, usize),
        h_change: f64,
        n_samples: usize,
        tol: f64,
        max_no_improvement: Option<usize>,
    ) -> bool {
        self.steps += 1;
        if self.steps == 1 {
            return false;
        }
        let ewa = match self.ewa {
            None => cost,
            Some(e) => {
                let alpha = (rows as f64 / (n_samples as f64 + 1.0)).min(1.0);
                e * (1.0 - alpha) + cost * alpha
            }
        };
        self.ewa = Some(ewa);
        if tol > 0.0 && h_change <= tol {
            return true;
        }
        if self.ewa_min.is_none_or(|m| ewa < m) {
            self.no_improvement = 0;
            self.ewa_min = Some(ewa);
        } else {
            self.no_improvement += 1;
        }
        max_no_improvement.is_some_and(|m| self.no_improvement >= m)
    }

    /// The smoothed batch cost so far (None before the second step).
    pub fn smoothed(&self) -> Option<f64> {
        self.ewa
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_max_no_improvement_steps_without_a_new_minimum() {
        let mut s = MinibatchStop::default();
        // Falling costs: never stops; then flat: stops after 3 more.
        assert!(!s.step((10.0, 5), 1.0, 100, 0.0, Some(3)));
        for c in [9.0, 8.0, 7.0] {
            assert!(!s.step((c, 5), 1.0, 100, 0.0, Some(3)));
        }
        let mut stopped_at = None;
        for i in 0..10 {
            if s.step((50.0, 5), 1.0, 100, 0.0, Some(3)) {
                stopped_at = Some(i);
                break;
            }
        }
        assert_eq!(stopped_at, Some(2));
        // A small change of H stops at once (but never at the first step).
        let mut s = MinibatchStop::default();
        assert!(!s.step((1.0, 5), 0.0, 100, 1e-4, None));
        assert!(s.step((1.0, 5), 1e-5, 100, 1e-4, None));
    }
}
