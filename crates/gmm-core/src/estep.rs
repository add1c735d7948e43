//! The E-step, written once for every pass that needs posteriors: the fit's
//! fused E+M pass, `score` and `predict`. A block of rows is loaded once
//! ([`EStep::load`]); then, for a mixture laid out for the kernels
//! ([`Prepared`]), [`EStep::run`] computes the weighted log-densities, their
//! max-shifted log-sum-exp (`ln p(x)`) and the responsibilities, with
//! labeled rows clamped to their class when the [`RowPolicy`] says so.

use crate::ahead::Ahead;
use crate::aligned::AlignedBuf;
use crate::data::DataView;
use crate::kernel::{self, BLOCK, Block};
use crate::prepared::Prepared;

/// How labeled rows enter a pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RowPolicy {
    /// Every row enters with its posterior responsibilities; labels are ignored.
    Unsupervised,
    /// Labeled rows are clamped to their class; unlabeled rows enter with
    /// their posteriors times `unlabeled_weight`.
    Clamped { unlabeled_weight: f64 },
    /// Labeled rows are left out.
    UnlabeledOnly,
}

impl RowPolicy {
    /// The weight a row carries in the objective.
    #[inline]
    pub fn effective_weight(self, w: f64, label: Option<u32>) -> f64 {
        match (self, label) {
            (RowPolicy::Unsupervised, _) => w,
            (RowPolicy::Clamped { unlabeled_weight }, None) => unlabeled_weight * w,
            (RowPolicy::Clamped { .. }, Some(_)) => w,
            (RowPolicy::UnlabeledOnly, None) => w,
            (RowPolicy::UnlabeledOnly, Some(_)) => 0.0,
        }
    }

    /// The same rows, every one with its plain weight: which rows a fitted
    /// model is scored on.
    pub fn scoring(self) -> RowPolicy {
        match self {
            RowPolicy::UnlabeledOnly => RowPolicy::UnlabeledOnly,
            _ => RowPolicy::Unsupervised,
        }
    }
}

/// Scratch space of one worker for the E-step of one block of rows.
#[derive(Debug, Default)]
pub(crate) struct EStep {
    /// The loaded rows, in lane layout.
    pub block: Block,
    /// `K x BLOCK` (`(K + 1) x BLOCK` with a noise component, its column
    /// last): log-probabilities, then responsibilities.
    pub lp: AlignedBuf,
    /// `ln p(x)` of every row of the block (for clamped rows, the
    /// log-probability of the row under its class).
    pub log_norm: AlignedBuf,
    /// Effective weight of each row of the block (0 for padding).
    pub ew: AlignedBuf,
    /// `(row in block, class, log-probability)` of clamped labeled rows.
    clamped: Vec<(usize, usize, f64)>,
    /// Rows of the block with a missing entry ([`DataView::missing_values`]),
    /// in order: their values in `block` are filled (so that the kernels
    /// stay finite), and [`EStep::set_aside`] leaves them to
    /// [`crate::missing`].
    pub incomplete: Vec<usize>,
}

impl EStep {
    /// Loads rows `start..end` (at most [`BLOCK`]), and
    /// their effective weights under `policy`; the kernels bring in the
    /// next block's rows meanwhile ([`EStep::look_ahead`]).
    pub fn load(&mut self, data: DataView<'_>, start: usize, end: usize, policy: RowPolicy) {
        self.block.load(data.rows(start, end), data.n_features());
        self.look_ahead(data, end);
        let w = BLOCK;
        self.ew.resize(w, 0.0);
        for (e, i) in self.ew.iter_mut().zip(start..end) {
            *e = policy.effective_weight(data.weight(i), data.label(i));
        }
        self.ew[end - start..].fill(0.0);
        self.log_norm.resize(w, 0.0);
        self.incomplete.clear();
        if data.missing {
            // Missing entries read as the column's fill (or 0), padding too.
            let rows = end - start;
            for (j, col) in self.block.xt.chunks_exact_mut(w).enumerate() {
                let fill = data.fill.map_or(0.0, |f| f[j]);
                for (i, v) in col.iter_mut().enumerate() {
                    if v.is_nan() {
                        *v = fill;
                        if i < rows {
                            self.incomplete.push(i);
                        }
                    }
                }
            }
            self.incomplete.sort_unstable();
            self.incomplete.dedup();
        }
    }

    /// Has the kernels that work on the loaded block prefetch the block of
    /// rows from `next` (if any are left), a share at a time: [`Ahead`].
    /// [`EStep::load`] looks at the block after the loaded one; call this
    /// after it to look elsewhere.
    pub fn look_ahead(&mut self, data: DataView<'_>, next: usize) {
        let end = next.saturating_add(BLOCK).min(data.n_rows());
        self.block.ahead = if next < end {
            Ahead::new(data.rows(next, end))
        } else {
            Ahead::default()
        };
    }

    /// Gives the loaded rows with a missing entry no weight in this block's
    /// kernels: a pass then integrates them out on their own.
    pub fn set_aside(&mut self) {
        for &i in &self.incomplete {
            self.ew[i] = 0.0;
        }
    }

    /// The E-step of the loaded block (whose first row is row `start` of
    /// `data`) under `model`: `lp` holds the responsibilities (unweighted)
    /// and `log_norm` each row's `ln p(x)`. Under [`RowPolicy::Clamped`],
    /// labeled rows get responsibility 1 for their class and, in
    /// `log_norm`, their log-probability under that class.
    pub fn run(&mut self, model: &Prepared, data: DataView<'_>, start: usize, policy: RowPolicy) {
        // No `accumulate` follows: `log_prob` asks for every line ahead.
        self.block.ahead.alone();
        self.responsibilities(model, data, start, policy, false);
        self.block.ahead.rest();
    }

    /// [`EStep::run`], with the responsibilities weighted by the rows'
    /// effective weights, for the M-step's statistics; returns the block's
    /// objective (the weighted log-likelihood, with clamped rows counted
    /// under their class).
    pub fn run_weighted(
        &mut self,
        model: &Prepared,
        data: DataView<'_>,
        start: usize,
        policy: RowPolicy,
    ) -> f64 {
        self.responsibilities(model, data, start, policy, true);
        let mut objective = 0.0;
        kernel::objective(&self.ew, &self.log_norm, &mut objective);
        objective
    }

    /// The weights multiply each posterior in [`kernel::normalize`], after
    /// its scaling (the same bits as weighting the posteriors afterwards).
    fn responsibilities(
        &mut self,
        model: &Prepared,
        data: DataView<'_>,
        start: usize,
        policy: RowPolicy,
        weighted: bool,
    ) {
        let (k, w, rows) = (model.k, BLOCK, self.block.rows);
        let columns = model.columns();
        self.lp.resize(columns * w, 0.0);
        // The fit's pass scatters the statistics next: its tiles read the
        // `x - mu` that `log_prob` forms.
        self.block.keep_centred = weighted && kernel::scatters_centred(model);
        kernel::log_prob(model, &mut self.block, &mut self.lp);
        if let Some(noise) = model.noise {
            self.lp[k * w..(k + 1) * w].fill(noise.log_density());
        }
        self.clamped.clear();
        if let (RowPolicy::Clamped { .. }, Some(_)) = (policy, data.labels()) {
            for i in 0..rows {
                if let Some(c) = data.label(start + i) {
                    let c = c as usize;
                    self.clamped.push((i, c, self.lp[c * w + i]));
                }
            }
        }
        let weights = weighted.then_some(&self.ew[..]);
        kernel::normalize(&mut self.lp, columns, &mut self.log_norm, weights);
        for &(i, c, _) in &self.clamped {
            let one = if weighted { self.ew[i] } else { 1.0 };
            for j in 0..columns {
                self.lp[j * w + i] = if j == c { one } else { 0.0 };
            }
            self.log_norm[i] = f64::NAN; // replaced below
        }
        for &(i, _, v) in &self.clamped {
            self.log_norm[i] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::ahead::take_asked;
    use crate::covariance::{CovarianceType, Covariances};
    use crate::model::GaussianMixture;

    /// Two components on `d` features with unit covariances.
    fn model(t: CovarianceType, d: usize) -> Prepared {
        Prepared::new(
            &GaussianMixture::new(
                Array1::from(vec![0.5, 0.5]),
                Array2::from_shape_fn((2, d), |(k, j)| (k * j) as f64 * 0.1),
                Covariances::from_dense(t, &[Array2::eye(d), Array2::eye(d)], &[0.5, 0.5]),
            )
            .unwrap(),
        )
    }

    /// A fit's block keeps the differences `x - mu` that `log_prob` forms
    /// where the scatter's tiles read them (full and tied models from 16
    /// features on); a scoring pass, fewer features and diagonal models do
    /// not.
    #[test]
    fn a_fit_block_keeps_differences_for_the_scatter() {
        for (t, d, want) in [
            (CovarianceType::Full, 16, true),
            (CovarianceType::Tied, 20, true),
            (CovarianceType::Full, 15, false),
            (CovarianceType::Diag, 16, false),
        ] {
            let x: Vec<f64> = (0..BLOCK * d).map(|i| (i % 5) as f64).collect();
            let data = DataView::new(&x, d).unwrap();
            let model = model(t, d);
            let mut e = EStep::default();
            let p = RowPolicy::Unsupervised;
            e.load(data, 0, BLOCK, p);
            e.run_weighted(&model, data, 0, p);
            assert_eq!(e.block.kept_for(&model.means), want, "{t:?} d={d}");
            e.load(data, 0, BLOCK, p);
            e.run(&model, data, 0, p);
            assert!(!e.block.kept_for(&model.means), "{t:?} d={d}: scoring");
        }
    }

    /// A scoring pass (no `accumulate`) asks for the lines of the next
    /// block, and only those, within the block's kernels; none past the
    /// last row.
    #[test]
    fn a_scoring_block_prefetches_the_next_block() {
        let d = 16;
        let n = 2 * BLOCK + 10;
        let x: Vec<f64> = (0..n * d).map(|i| (i % 5) as f64).collect();
        let data = DataView::new(&x, d).unwrap();
        let model = model(CovarianceType::Diag, d);
        let mut e = EStep::default();
        let line = |r: usize| (x[r * d..].as_ptr().addr()) / 64 * 64;
        for (start, end, ahead) in [
            (0, BLOCK, 2 * BLOCK),
            (BLOCK, 2 * BLOCK, n),
            (2 * BLOCK, n, n),
        ] {
            take_asked();
            e.load(data, start, end, RowPolicy::Unsupervised);
            assert!(take_asked().is_empty(), "nothing asked for at load");
            e.run(&model, data, start, RowPolicy::Unsupervised);
            assert_eq!(e.block.ahead.left(), 0);
            let want: Vec<usize> = if ahead > end {
                let last = x[..ahead * d].as_ptr_range().end.addr();
                (line(end)..last).step_by(64).collect()
            } else {
                vec![]
            };
            assert_eq!(take_asked(), want, "rows {start}..{end}");
        }
    }
}
