//! The fused E+M pass of a fit: one read of the rows, block by block, serves
//! the E-step ([`crate::estep`]) and the accumulation of the M-step's
//! sufficient statistics of every restart at once. Statistics are summed
//! exactly and objectives in chunk order ([`crate::chunks`]), so a pass gives
//! the same bits for any number of threads or ranks.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::aligned::AlignedBuf;
use crate::chunks::{OrderedSums, chunked};
use crate::collective;
use crate::data::DataView;
use crate::error::Result;
use crate::estep::{EStep, RowPolicy};
use crate::kernel::{self, BLOCK, LaneStats};
use crate::missing::{Incomplete, Precisions};
use crate::prepared::Prepared;
use crate::stats::{ExactStats, Layout, Scales, SecondMoment, SufficientStats};
use crate::summary::DataSummary;
use crate::wire::{Reader, Writer};

/// The result of one EM pass for one model: the statistics around its means
/// and its total objective (log-likelihood, or the semi-supervised objective)
/// before the M-step.
#[derive(Debug, Clone)]
pub(crate) struct EmPassOutput {
    /// `None` if the exact accumulation overflowed (non-finite values).
    pub stats: Option<SufficientStats>,
    pub objective: f64,
    /// The noise component's share of the rows' weight (its summed
    /// weighted responsibilities); 0 without one.
    pub noise_total: f64,
    /// Up to `K` rows the model explains worst, worst first.
    pub worst_rows: Vec<Vec<f64>>,
}

fn layout_of(m: &Prepared) -> Layout {
    Layout {
        k: m.k,
        d: m.d,
        second: SecondMoment::for_covariance(m.covariance_type),
    }
}

/// One fused E+M pass for several models at once: each block of rows is
/// loaded once and serves every model while it is in cache.
pub(crate) fn em_pass(
    models: &[Prepared],
    data: DataView<'_>,
    policy: RowPolicy,
    chunk_rows: usize,
    summary: &DataSummary,
    cancel: Option<&AtomicBool>,
) -> Vec<EmPassOutput> {
    let layouts: Vec<Layout> = models.iter().map(layout_of).collect();
    let scales: Vec<Scales> = models
        .iter()
        .zip(&layouts)
        .map(|(m, &l)| summary.scales(l, &m.means))
        .collect();
    // Blocks loaded together: as many as any model's scatter takes.
    let pair = layouts
        .iter()
        .map(|&l| kernel::blocks_per_scatter(l))
        .max()
        .unwrap_or(1);
    debug_assert!(pair <= 2, "two E-step workspaces");
    // What rows with missing entries are integrated with, once per pass.
    let precisions: Vec<Option<Precisions>> = models
        .iter()
        .map(|m| data.missing_values().then(|| Precisions::new(m)))
        .collect();
    struct Acc {
        exact: Vec<ExactStats>,
        objective: OrderedSums,
        lanes: Vec<LaneStats>,
        partial: Vec<SufficientStats>,
        /// Up to two blocks, loaded together ([`kernel::blocks_per_scatter`]).
        esteps: [EStep; 2],
        scratch: AlignedBuf,
        objective_part: Vec<f64>,
        worst: Vec<WorstRows>,
        incomplete: Incomplete,
    }
    let identity = || Acc {
        exact: scales.iter().map(ExactStats::zeros).collect(),
        // Each model's objective, then its noise total.
        objective: OrderedSums::new(2 * models.len()),
        lanes: layouts.iter().map(|&l| LaneStats::zeros(l)).collect(),
        partial: layouts.iter().map(|&l| SufficientStats::zeros(l)).collect(),
        esteps: Default::default(),
        scratch: AlignedBuf::default(),
        objective_part: vec![0.0; 2 * models.len()],
        worst: models.iter().map(|m| WorstRows::new(m.k)).collect(),
        incomplete: Incomplete::default(),
    };
    let first_chunk = data.row_offset() / chunk_rows;
    let acc = chunked(
        data.n_rows(),
        chunk_rows,
        identity,
        |acc, c, start, end| {
            if cancel.is_some_and(|f| f.load(Ordering::Relaxed)) {
                return;
            }
            acc.objective_part.fill(0.0);
            acc.incomplete.clear();
            let mut b0 = start;
            while b0 < end {
                // The blocks starting at `b0, b0 + BLOCK, ...` before `end`.
                let nb = (end - b0).div_ceil(BLOCK).min(pair);
                for (s, e) in acc.esteps[..nb].iter_mut().enumerate() {
                    let s0 = b0 + s * BLOCK;
                    e.load(data, s0, (s0 + BLOCK).min(end), policy);
                    if nb > 1 {
                        // Its counterpart in the next group of blocks,
                        // which starts at `end` at the end of the chunk.
                        e.look_ahead(data, (b0 + nb * BLOCK).min(end) + s * BLOCK);
                    }
                    // Rows with a missing entry are integrated out per chunk.
                    e.set_aside();
                    for &i in &e.incomplete {
                        acc.incomplete.push(data, s0 + i);
                    }
                }
                for (m, model) in models.iter().enumerate() {
                    for (s, e) in acc.esteps[..nb].iter_mut().enumerate() {
                        let s0 = b0 + s * BLOCK;
                        acc.objective_part[m] += e.run_weighted(model, data, s0, policy);
                        if model.noise.is_some() {
                            let noise = &e.lp[model.k * BLOCK..(model.k + 1) * BLOCK];
                            acc.objective_part[models.len() + m] += noise.iter().sum::<f64>();
                        }
                        let rows = e.block.rows;
                        acc.worst[m].offer(data, s0, &e.log_norm[..rows], &e.ew);
                    }
                    let [e0, e1] = &acc.esteps;
                    let blocks = [(&e0.block, &e0.lp[..]), (&e1.block, &e1.lp[..])];
                    // As many at a time as this model's layout takes.
                    for group in blocks[..nb].chunks(kernel::blocks_per_scatter(layouts[m])) {
                        kernel::accumulate(
                            &model.means,
                            group,
                            &mut acc.lanes[m],
                            &mut acc.scratch,
                        );
                    }
                }
                b0 = (b0 + nb * BLOCK).min(end);
            }
            for m in 0..models.len() {
                acc.lanes[m].drain_into(&mut acc.partial[m]);
                if let (false, Some(pr)) = (acc.incomplete.is_empty(), &precisions[m]) {
                    let objective = &mut acc.objective_part[m];
                    acc.incomplete.run(
                        &models[m],
                        pr,
                        data,
                        policy,
                        Some(&mut acc.partial[m]),
                        |_, ew, log_norm, _| {
                            if ew > 0.0 {
                                *objective += ew * log_norm;
                            }
                        },
                    );
                }
                acc.exact[m].add(&scales[m], &acc.partial[m]);
            }
            acc.objective.push(first_chunk + c, &acc.objective_part);
        },
        |mut a, b| {
            for (x, y) in a.exact.iter_mut().zip(&b.exact) {
                x.merge(y);
            }
            a.objective = a.objective.merge(b.objective);
            for (x, y) in a.worst.iter_mut().zip(b.worst) {
                x.merge(y);
            }
            a
        },
    );
    let Acc {
        mut exact,
        mut objective,
        mut worst,
        ..
    } = acc;
    if let Some(p) = data.partition() {
        // The other ranks' chunks: combined as this rank combines its own.
        for (e, s) in exact.iter_mut().zip(&scales) {
            let all = collective::gather(p.comm, &*e, ExactStats::encode, |r| {
                ExactStats::decode(s, r)
            });
            *e = ExactStats::zeros(s);
            for x in &all {
                e.merge(x);
            }
        }
        objective = objective.gathered(p.comm);
        for w in worst.iter_mut() {
            *w = collective::gather(p.comm, &*w, WorstRows::encode, WorstRows::decode)
                .into_iter()
                .fold(WorstRows::new(w.m), |mut a, b| {
                    a.merge(b);
                    a
                });
        }
    }
    let sums = objective.finish();
    let (objectives, noise_totals) = sums.split_at(models.len());
    exact
        .iter()
        .zip(&scales)
        .zip(objectives.iter().zip(noise_totals))
        .zip(worst)
        .map(
            |(((e, s), (&objective, &noise_total)), worst)| EmPassOutput {
                stats: e.totals(s),
                objective,
                noise_total,
                worst_rows: worst.rows(),
            },
        )
        .collect()
}

/// The `m` rows with the lowest log-likelihood (ties to the lower index in
/// the whole table), with their values: where a re-seeded component starts.
#[derive(Debug, Clone)]
struct WorstRows {
    m: usize,
    /// `(ln p(x), row in the whole table, values)`, worst first.
    rows: Vec<(f64, usize, Vec<f64>)>,
}

impl WorstRows {
    fn new(m: usize) -> Self {
        WorstRows {
            m,
            rows: Vec::with_capacity(m + 1),
        }
    }

    fn worse(a: (f64, usize), b: (f64, usize)) -> std::cmp::Ordering {
        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
    }

    /// Considers the rows `first..` of `data` with log-likelihoods `ll` (rows
    /// with no effective weight are skipped).
    fn offer(&mut self, data: DataView<'_>, first: usize, ll: &[f64], ew: &[f64]) {
        let offset = data.row_offset();
        // Once `m` rows are held, a row above the last of them cannot enter:
        // one comparison per row, the full ordering only for the few others.
        let mut bar = self.bar();
        // Most blocks have no row at or under the bar: one pass without
        // branches settles them.
        if !ll.iter().fold(false, |any, &l| any | (l <= bar)) {
            return;
        }
        for (i, (&l, &w)) in ll.iter().zip(ew).enumerate() {
            if l <= bar && w > 0.0 && l.is_finite() {
                let cand = (l, offset + first + i);
                if self.rows.len() < self.m || {
                    let last = self.rows.last().expect("full");
                    Self::worse(cand, (last.0, last.1)).is_lt()
                } {
                    let pos = self
                        .rows
                        .partition_point(|r| Self::worse((r.0, r.1), cand).is_lt());
                    self.rows
                        .insert(pos, (cand.0, cand.1, data.row(first + i).to_vec()));
                    self.rows.truncate(self.m);
                    bar = self.bar();
                }
            }
        }
    }

    /// The largest log-likelihood a row may have to enter: the last held
    /// row's once `m` are held (a tie is decided by the row index).
    fn bar(&self) -> f64 {
        match self.rows.last() {
            Some(last) if self.rows.len() >= self.m => last.0,
            _ => f64::INFINITY,
        }
    }

    fn merge(&mut self, other: WorstRows) {
        self.rows.extend(other.rows);
        self.rows
            .sort_by(|a, b| Self::worse((a.0, a.1), (b.0, b.1)));
        self.rows.dedup_by_key(|r| r.1);
        self.rows.truncate(self.m);
    }

    fn rows(self) -> Vec<Vec<f64>> {
        self.rows.into_iter().map(|r| r.2).collect()
    }

    fn encode(&self, w: &mut Writer) {
        w.usize(self.m);
        w.usize(self.rows.len());
        for (l, i, x) in &self.rows {
            w.f64(*l);
            w.usize(*i);
            w.f64s(x);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let m = r.usize()?;
        let n = r.usize()?;
        let rows = (0..n)
            .map(|_| Ok((r.f64()?, r.usize()?, r.f64s()?)))
            .collect::<Result<_>>()?;
        Ok(WorstRows { m, rows })
    }
}

/// Statistics of given responsibilities, around `centers` (`K x d`): how
/// initializations turn assignments into parameters. `resp(start, end, out)`
/// fills the responsibilities of rows `start..end` (`rows x K`, row-major,
/// unweighted; this pass applies the row policy's weights).
pub(crate) fn stats_from_responsibilities<F>(
    data: DataView<'_>,
    layout: Layout,
    centers: &[f64],
    policy: RowPolicy,
    chunk_rows: usize,
    summary: &DataSummary,
    resp: F,
) -> Option<SufficientStats>
where
    F: Fn(usize, usize, &mut [f64]) + Sync + Send,
{
    let kk = layout.k;
    let pass = StatsPass {
        data,
        layout,
        centers,
        policy,
        chunk_rows,
        summary,
    };
    pass.run(false, |rows, b0, _, r| {
        // The rows and their weights as the E-step loads them; the
        // responsibilities are given instead of computed.
        let n = rows.block.rows;
        r.clear();
        r.resize(n * kk, 0.0);
        resp(b0, b0 + n, r);
        rows.lp.resize(kk * BLOCK, 0.0);
        rows.lp.fill(0.0);
        for (i, row) in r.chunks_exact(kk).enumerate() {
            for (k, r) in row.iter().enumerate() {
                rows.lp[k * BLOCK + i] = r * rows.ew[i];
            }
        }
    })
}

/// A pass that turns assignments of rows to components into statistics
/// around `centers`, summed exactly across chunks.
pub(crate) struct StatsPass<'a> {
    pub data: DataView<'a>,
    pub layout: Layout,
    pub centers: &'a [f64],
    pub policy: RowPolicy,
    pub chunk_rows: usize,
    pub summary: &'a DataSummary,
}

impl StatsPass<'_> {
    /// Loads every block of rows (with the policy's weights) and calls
    /// `block(rows, first_row, stats, scratch)` (`scratch` is the worker's,
    /// kept between blocks): with `direct`, it adds the block's
    /// statistics to the chunk's `stats` itself; otherwise it leaves the
    /// weighted responsibilities in `rows.lp` (`K x BLOCK`) for the scatter
    /// kernel. `None` if the exact sums overflowed.
    pub fn run<F>(&self, direct: bool, block: F) -> Option<SufficientStats>
    where
        F: Fn(&mut EStep, usize, &mut SufficientStats, &mut Vec<f64>) + Sync + Send,
    {
        let (data, layout, policy) = (self.data, self.layout, self.policy);
        let scales = self.summary.scales(layout, self.centers);
        struct Acc {
            exact: ExactStats,
            lanes: LaneStats,
            partial: SufficientStats,
            rows: EStep,
            scratch: AlignedBuf,
            block_scratch: Vec<f64>,
        }
        let acc = chunked(
            data.n_rows(),
            self.chunk_rows,
            || Acc {
                exact: ExactStats::zeros(&scales),
                lanes: LaneStats::zeros(layout),
                partial: SufficientStats::zeros(layout),
                rows: EStep::default(),
                scratch: AlignedBuf::default(),
                block_scratch: Vec::new(),
            },
            |acc, _c, start, end| {
                let p = &mut acc.partial;
                for v in [&mut p.n, &mut p.s1, &mut p.s2] {
                    v.fill(0.0);
                }
                let mut b0 = start;
                while b0 < end {
                    let b1 = (b0 + BLOCK).min(end);
                    acc.rows.load(data, b0, b1, policy);
                    block(&mut acc.rows, b0, &mut acc.partial, &mut acc.block_scratch);
                    if !direct {
                        kernel::accumulate(
                            self.centers,
                            &[(&acc.rows.block, &acc.rows.lp[..])],
                            &mut acc.lanes,
                            &mut acc.scratch,
                        );
                    }
                    // What the kernels of this pass did not ask for.
                    acc.rows.block.ahead.rest();
                    b0 = b1;
                }
                if !direct {
                    acc.lanes.drain_into(&mut acc.partial);
                }
                acc.exact.add(&scales, &acc.partial);
            },
            |mut a, b| {
                a.exact.merge(&b.exact);
                a
            },
        );
        let mut exact = acc.exact;
        if let Some(p) = data.partition() {
            // The other ranks' chunks, combined as this rank combines its own.
            let all = collective::gather(p.comm, &exact, ExactStats::encode, |r| {
                ExactStats::decode(&scales, r)
            });
            exact = ExactStats::zeros(&scales);
            for x in &all {
                exact.merge(x);
            }
        }
        exact.totals(&scales)
    }
}

#[cfg(test)]
mod tests;
