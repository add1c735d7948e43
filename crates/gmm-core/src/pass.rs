//! Parallel passes over the rows, chunk by chunk. Chunks are fixed by
//! `chunk_rows` and the row index, never by the thread count; sums that cross
//! chunks are exact ([`ExactStats`]) or taken in chunk order ([`OrderedSums`]),
//! so every result is bit for bit the same for any number of threads.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::collective::{self, Collective, Reader, put_f64s, put_u64};
use crate::data::DataView;
use crate::estep::Prepared;
use crate::kernel::{self, BLOCK, Block, LaneStats};
use crate::model::GaussianMixture;
use crate::stats::{ExactStats, Layout, Scales, SecondMoment, SufficientStats};

/// Rows per chunk when nothing else is said: large enough that per-chunk
/// bookkeeping is negligible, small enough that a chunk and its
/// responsibilities stay in the L2 cache.
pub const DEFAULT_CHUNK_ROWS: usize = 1024;

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

/// Chunk-indexed partial sums, added up in chunk order at the end.
#[derive(Debug, Default)]
pub(crate) struct OrderedSums {
    width: usize,
    ids: Vec<usize>,
    values: Vec<f64>,
}

impl OrderedSums {
    pub fn new(width: usize) -> Self {
        OrderedSums {
            width,
            ids: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, chunk: usize, values: &[f64]) {
        debug_assert_eq!(values.len(), self.width);
        self.ids.push(chunk);
        self.values.extend_from_slice(values);
    }

    pub fn merge(mut self, other: OrderedSums) -> Self {
        self.ids.extend(other.ids);
        self.values.extend(other.values);
        self
    }

    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.ids.len() as u64);
        for &id in &self.ids {
            put_u64(out, id as u64);
        }
        put_f64s(out, &self.values);
    }

    fn decode(width: usize, r: &mut Reader<'_>) -> Self {
        let n = r.u64() as usize;
        let ids = (0..n).map(|_| r.u64() as usize).collect();
        OrderedSums {
            width,
            ids,
            values: r.f64s(),
        }
    }

    /// Every rank's sums (their chunk ids are global), on every rank.
    pub fn gathered(self, comm: &dyn Collective) -> Self {
        let width = self.width;
        collective::gather(comm, &self, Self::encode, |r| Self::decode(width, r))
            .into_iter()
            .fold(OrderedSums::new(width), OrderedSums::merge)
    }

    /// Column sums, adding the chunks in increasing chunk order.
    pub fn finish(self) -> Vec<f64> {
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        order.sort_unstable_by_key(|&i| self.ids[i]);
        let mut out = vec![0.0; self.width];
        for i in order {
            for (o, v) in out
                .iter_mut()
                .zip(&self.values[i * self.width..(i + 1) * self.width])
            {
                *o += v;
            }
        }
        out
    }
}

/// Runs `body(acc, chunk, start, end)` over all chunks in parallel and merges
/// the accumulators. The merge must not depend on the grouping of chunks.
pub(crate) fn chunked<A, I, B, M>(
    n_rows: usize,
    chunk_rows: usize,
    identity: I,
    body: B,
    merge: M,
) -> A
where
    A: Send,
    I: Fn() -> A + Sync + Send,
    B: Fn(&mut A, usize, usize, usize) + Sync + Send,
    M: Fn(A, A) -> A + Sync + Send,
{
    let n_chunks = n_rows.div_ceil(chunk_rows);
    // A handful of splits per thread keeps the number of accumulators small.
    let min_len = (n_chunks / (4 * rayon::current_num_threads()).max(1)).max(1);
    (0..n_chunks)
        .into_par_iter()
        .with_min_len(min_len)
        .fold(&identity, |mut acc, c| {
            let start = c * chunk_rows;
            let end = (start + chunk_rows).min(n_rows);
            body(&mut acc, c, start, end);
            acc
        })
        .reduce(&identity, merge)
}

/// Facts about the rows that every fit needs once: the bound of each column
/// and the total weight under each row policy.
#[derive(Debug, Clone)]
pub(crate) struct DataSummary {
    pub col_max_abs: Vec<f64>,
    /// Weighted column means of the rows with positive effective weight.
    pub col_mean: Vec<f64>,
    /// Their weighted column variances (around `col_mean`).
    pub col_var: Vec<f64>,
    /// Total effective weight.
    pub total_weight: f64,
    /// Rows with positive effective weight.
    pub n_positive: usize,
    /// A bound on the total weight any policy gives the rows (raw weights
    /// times the largest row factor), used to scale exact sums.
    pub weight_bound: f64,
}

impl DataSummary {
    pub fn new(data: DataView<'_>, policy: RowPolicy, chunk_rows: usize) -> Self {
        let d = data.n_features();
        let part = data.partition();
        let first_chunk = data.row_offset() / chunk_rows;
        // Moments around the table's first row, so that data far from the
        // origin keeps its variance.
        let local_first = if data.n_rows() > 0 {
            data.row(0).to_vec()
        } else {
            Vec::new()
        };
        let origin = match part {
            None => local_first,
            Some(p) => {
                collective::gather(p.comm, &local_first, |v, o| put_f64s(o, v), |r| r.f64s())
                    .into_iter()
                    .find(|v| !v.is_empty())
                    .unwrap_or_default()
            }
        };
        let origin = if origin.is_empty() {
            vec![0.0; d]
        } else {
            origin
        };
        struct Acc {
            max_abs: Vec<f64>,
            sums: OrderedSums,
            n_positive: usize,
        }
        let acc = chunked(
            data.n_rows(),
            chunk_rows,
            || Acc {
                max_abs: vec![0.0; d],
                sums: OrderedSums::new(2 * d + 2),
                n_positive: 0,
            },
            |acc, c, start, end| {
                let mut part = vec![0.0; 2 * d + 2];
                for i in start..end {
                    let row = data.row(i);
                    for (m, v) in acc.max_abs.iter_mut().zip(row) {
                        *m = m.max(v.abs());
                    }
                    part[2 * d + 1] += data.weight(i);
                    let w = policy.effective_weight(data.weight(i), data.label(i));
                    if w > 0.0 {
                        acc.n_positive += 1;
                        for j in 0..d {
                            let t = row[j] - origin[j];
                            part[j] += w * t;
                            part[d + j] += w * t * t;
                        }
                        part[2 * d] += w;
                    }
                }
                acc.sums.push(first_chunk + c, &part);
            },
            |mut a, b| {
                for (x, y) in a.max_abs.iter_mut().zip(&b.max_abs) {
                    *x = x.max(*y);
                }
                a.sums = a.sums.merge(b.sums);
                a.n_positive += b.n_positive;
                a
            },
        );
        let (max_abs, sums, n_positive) = match part {
            None => (acc.max_abs, acc.sums, acc.n_positive),
            Some(p) => {
                let max_abs =
                    collective::gather(p.comm, &acc.max_abs, |v, o| put_f64s(o, v), |r| r.f64s())
                        .into_iter()
                        .fold(vec![0.0f64; d], |mut m, v| {
                            for (x, y) in m.iter_mut().zip(v) {
                                *x = x.max(y);
                            }
                            m
                        });
                let n_positive = collective::gather(
                    p.comm,
                    &acc.n_positive,
                    |&v, o| put_u64(o, v as u64),
                    |r| r.u64() as usize,
                )
                .into_iter()
                .sum();
                (max_abs, acc.sums.gathered(p.comm), n_positive)
            }
        };
        let sums = sums.finish();
        let total_weight = sums[2 * d];
        let (col_mean, col_var) = if total_weight > 0.0 {
            let shift: Vec<f64> = sums[..d].iter().map(|s| s / total_weight).collect();
            let mean = shift.iter().zip(&origin).map(|(s, o)| o + s).collect();
            let var = (0..d)
                .map(|j| (sums[d + j] / total_weight - shift[j] * shift[j]).max(0.0))
                .collect();
            (mean, var)
        } else {
            (vec![0.0; d], vec![0.0; d])
        };
        let factor = match policy {
            RowPolicy::Clamped { unlabeled_weight } => unlabeled_weight.max(1.0),
            _ => 1.0,
        };
        DataSummary {
            col_max_abs: max_abs,
            col_mean,
            col_var,
            total_weight,
            n_positive,
            weight_bound: sums[2 * d + 1] * factor,
        }
    }

    /// Scales for statistics accumulated around `centers`. Effective weights
    /// may exceed raw weights by the unlabeled weight, which the total covers.
    pub fn scales(&self, layout: Layout, centers: &[f64]) -> Scales {
        Scales::new(layout, centers, &self.col_max_abs, self.weight_bound)
    }
}

/// Scratch space of one worker for the block kernels.
#[derive(Default)]
struct Work {
    block: Block,
    /// `K x width`: log-probabilities, then responsibilities.
    lp: Vec<f64>,
    log_norm: Vec<f64>,
    /// Effective weight of each row of the block (0 for padding).
    ew: Vec<f64>,
    scratch: Vec<f64>,
    /// `(row in block, class, log-probability)` of clamped labeled rows.
    clamped: Vec<(usize, usize, f64)>,
}

impl Work {
    /// Loads rows `start..end` and their effective weights.
    fn load(
        &mut self,
        data: DataView<'_>,
        start: usize,
        end: usize,
        center: &[f64],
        policy: RowPolicy,
    ) {
        self.block
            .load(data.rows(start, end), data.n_features(), center);
        let w = BLOCK;
        self.ew.clear();
        self.ew
            .extend((start..end).map(|i| policy.effective_weight(data.weight(i), data.label(i))));
        self.ew.resize(w, 0.0);
        self.log_norm.resize(w, 0.0);
    }

    /// The E-step of the loaded block under `model`: responsibilities
    /// weighted by the row policy in `lp`; returns the block's objective
    /// (weighted log-likelihood, with clamped rows counted under their class).
    fn e_step(
        &mut self,
        model: &Prepared,
        data: DataView<'_>,
        start: usize,
        policy: RowPolicy,
    ) -> f64 {
        let (k, w, rows) = (model.k, BLOCK, self.block.rows);
        self.lp.resize(k * w, 0.0);
        kernel::log_prob(model, &self.block, &mut self.lp);
        self.clamped.clear();
        if let (RowPolicy::Clamped { .. }, Some(_)) = (policy, data.labels()) {
            for i in 0..rows {
                if let Some(c) = data.label(start + i) {
                    let c = c as usize;
                    self.clamped.push((i, c, self.lp[c * w + i]));
                }
            }
        }
        kernel::normalize(&mut self.lp, k, &mut self.log_norm);
        for &(i, c, _) in &self.clamped {
            for j in 0..k {
                self.lp[j * w + i] = if j == c { 1.0 } else { 0.0 };
            }
            self.log_norm[i] = f64::NAN; // replaced below
        }
        for &(i, _, v) in &self.clamped {
            self.log_norm[i] = v;
        }
        let mut objective = 0.0;
        for i in 0..rows {
            let ew = self.ew[i];
            if ew > 0.0 {
                objective += ew * self.log_norm[i];
            }
        }
        for j in 0..k {
            for (r, ew) in self.lp[j * w..(j + 1) * w].iter_mut().zip(&self.ew) {
                *r *= ew;
            }
        }
        objective
    }
}

/// The result of one EM pass for one model: the statistics around its means
/// and its total objective (log-likelihood, or the semi-supervised objective)
/// before the M-step.
#[derive(Debug, Clone)]
pub(crate) struct EmPassOutput {
    /// `None` if the exact accumulation overflowed (non-finite values).
    pub stats: Option<SufficientStats>,
    pub objective: f64,
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
/// loaded once and serves every model while it is in cache. The models must
/// share one center (the data's mean).
pub(crate) fn em_pass(
    models: &[Prepared],
    data: DataView<'_>,
    policy: RowPolicy,
    chunk_rows: usize,
    summary: &DataSummary,
    cancel: Option<&AtomicBool>,
) -> Vec<EmPassOutput> {
    let center = &summary.col_mean;
    let layouts: Vec<Layout> = models.iter().map(layout_of).collect();
    let scales: Vec<Scales> = models
        .iter()
        .zip(&layouts)
        .map(|(m, &l)| summary.scales(l, &m.means))
        .collect();
    let br = BLOCK;
    struct Acc {
        exact: Vec<ExactStats>,
        objective: OrderedSums,
        lanes: Vec<LaneStats>,
        partial: Vec<SufficientStats>,
        work: Work,
        objective_part: Vec<f64>,
        worst: Vec<WorstRows>,
    }
    let identity = || Acc {
        exact: scales.iter().map(ExactStats::zeros).collect(),
        objective: OrderedSums::new(models.len()),
        lanes: layouts.iter().map(|&l| LaneStats::zeros(l)).collect(),
        partial: layouts.iter().map(|&l| SufficientStats::zeros(l)).collect(),
        work: Work::default(),
        objective_part: vec![0.0; models.len()],
        worst: models.iter().map(|m| WorstRows::new(m.k)).collect(),
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
            acc.lanes.iter_mut().for_each(LaneStats::reset);
            acc.objective_part.fill(0.0);
            let mut b0 = start;
            while b0 < end {
                let b1 = (b0 + br).min(end);
                acc.work.load(data, b0, b1, center, policy);
                for (m, model) in models.iter().enumerate() {
                    acc.objective_part[m] += acc.work.e_step(model, data, b0, policy);
                    acc.worst[m].offer(data, b0, &acc.work.log_norm[..b1 - b0], &acc.work.ew);
                    let Work {
                        block, lp, scratch, ..
                    } = &mut acc.work;
                    kernel::accumulate(&model.means_c, block, lp, &mut acc.lanes[m], scratch);
                }
                b0 = b1;
            }
            for m in 0..models.len() {
                acc.lanes[m].reduce_into(&mut acc.partial[m]);
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
    let objectives = objective.finish();
    exact
        .iter()
        .zip(&scales)
        .zip(objectives)
        .zip(worst)
        .map(|(((e, s), objective), worst)| EmPassOutput {
            stats: e.totals(s),
            objective,
            worst_rows: worst.rows(),
        })
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
        for (i, (&l, &w)) in ll.iter().zip(ew).enumerate() {
            if w > 0.0 && l.is_finite() {
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
                }
            }
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

    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.m as u64);
        put_u64(out, self.rows.len() as u64);
        for (l, i, x) in &self.rows {
            put_f64s(out, &[*l]);
            put_u64(out, *i as u64);
            put_f64s(out, x);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Self {
        let m = r.u64() as usize;
        let n = r.u64() as usize;
        let rows = (0..n)
            .map(|_| {
                let l = r.f64s()[0];
                let i = r.u64() as usize;
                (l, i, r.f64s())
            })
            .collect();
        WorstRows { m, rows }
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
    let scales = summary.scales(layout, centers);
    let d = layout.d;
    let kk = layout.k;
    let center = &summary.col_mean;
    let centers_c: Vec<f64> = centers
        .iter()
        .enumerate()
        .map(|(i, c)| c - center[i % d])
        .collect();
    let br = BLOCK;
    struct Acc {
        exact: ExactStats,
        lanes: LaneStats,
        partial: SufficientStats,
        work: Work,
        r: Vec<f64>,
    }
    let acc = chunked(
        data.n_rows(),
        chunk_rows,
        || Acc {
            exact: ExactStats::zeros(&scales),
            lanes: LaneStats::zeros(layout),
            partial: SufficientStats::zeros(layout),
            work: Work::default(),
            r: Vec::new(),
        },
        |acc, _c, start, end| {
            acc.lanes.reset();
            let mut b0 = start;
            while b0 < end {
                let b1 = (b0 + br).min(end);
                acc.work.load(data, b0, b1, center, policy);
                let w = BLOCK;
                acc.r.resize((b1 - b0) * kk, 0.0);
                resp(b0, b1, &mut acc.r);
                acc.work.lp.clear();
                acc.work.lp.resize(kk * w, 0.0);
                for (i, row) in acc.r.chunks_exact(kk).enumerate() {
                    for (k, r) in row.iter().enumerate() {
                        acc.work.lp[k * w + i] = r * acc.work.ew[i];
                    }
                }
                let Work {
                    block, lp, scratch, ..
                } = &mut acc.work;
                kernel::accumulate(&centers_c, block, lp, &mut acc.lanes, scratch);
                b0 = b1;
            }
            acc.lanes.reduce_into(&mut acc.partial);
            acc.exact.add(&scales, &acc.partial);
        },
        |mut a, b| {
            a.exact.merge(&b.exact);
            a
        },
    );
    acc.exact.totals(&scales)
}

/// Total weighted `ln p(x)` and total weight of the rows a policy scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreSums {
    pub total: f64,
    pub weight: f64,
    /// Weighted classification entropy `-sum_i w_i sum_k r_ik ln r_ik` (for ICL).
    pub entropy: f64,
}

impl ScoreSums {
    pub fn mean(&self) -> f64 {
        self.total / self.weight
    }
}

pub(crate) fn score(model: &GaussianMixture, data: DataView<'_>) -> ScoreSums {
    score_with(model, data, RowPolicy::Unsupervised, DEFAULT_CHUNK_ROWS)
}

pub(crate) fn score_with(
    model: &GaussianMixture,
    data: DataView<'_>,
    policy: RowPolicy,
    chunk_rows: usize,
) -> ScoreSums {
    let prepared = Prepared::new(model);
    let br = BLOCK;
    let first_chunk = data.row_offset() / chunk_rows;
    struct Acc {
        sums: OrderedSums,
        work: Work,
    }
    let acc = chunked(
        data.n_rows(),
        chunk_rows,
        || Acc {
            sums: OrderedSums::new(3),
            work: Work::default(),
        },
        |acc, c, start, end| {
            let c = first_chunk + c;
            let mut part = [0.0, 0.0, 0.0];
            let mut b0 = start;
            while b0 < end {
                let b1 = (b0 + br).min(end);
                let work = &mut acc.work;
                work.load(data, b0, b1, &prepared.center, policy);
                work.lp.resize(prepared.k * BLOCK, 0.0);
                kernel::log_prob(&prepared, &work.block, &mut work.lp);
                kernel::normalize(&mut work.lp, prepared.k, &mut work.log_norm);
                for i in 0..b1 - b0 {
                    let w = work.ew[i];
                    if w > 0.0 {
                        part[0] += w * work.log_norm[i];
                        part[1] += w;
                        let mut h = 0.0;
                        for k in 0..prepared.k {
                            let r = work.lp[k * BLOCK + i];
                            if r > 0.0 {
                                h -= r * r.ln();
                            }
                        }
                        part[2] += w * h;
                    }
                }
                b0 = b1;
            }
            acc.sums.push(c, &part);
        },
        |a, b| Acc {
            sums: a.sums.merge(b.sums),
            ..a
        },
    );
    let sums = match data.partition() {
        None => acc.sums,
        Some(p) => acc.sums.gathered(p.comm),
    };
    let s = sums.finish();
    ScoreSums {
        total: s[0],
        weight: s[1],
        entropy: s[2],
    }
}

/// Fills `log_norm[i] = ln p(x_i)` and, if given, the posterior probabilities
/// (`n x K`, row-major) of every row.
pub(crate) fn predict_rows(
    model: &GaussianMixture,
    data: DataView<'_>,
    log_norm: &mut [f64],
    proba: Option<&mut [f64]>,
) {
    let prepared = Prepared::new(model);
    let k = prepared.k;
    let br = BLOCK;
    let run = |start: usize, ln: &mut [f64], mut pr: Option<&mut [f64]>, work: &mut Work| {
        let rows = ln.len();
        work.load(
            data,
            start,
            start + rows,
            &prepared.center,
            RowPolicy::Unsupervised,
        );
        let w = BLOCK;
        work.lp.resize(k * w, 0.0);
        kernel::log_prob(&prepared, &work.block, &mut work.lp);
        kernel::normalize(&mut work.lp, k, &mut work.log_norm);
        ln.copy_from_slice(&work.log_norm[..rows]);
        if let Some(pr) = pr.as_deref_mut() {
            for (i, row) in pr.chunks_exact_mut(k).enumerate() {
                for (j, p) in row.iter_mut().enumerate() {
                    *p = work.lp[j * w + i];
                }
            }
        }
    };
    match proba {
        Some(proba) => log_norm
            .par_chunks_mut(br)
            .zip(proba.par_chunks_mut(br * k))
            .enumerate()
            .for_each_init(Work::default, |work, (b, (ln, pr))| {
                run(b * br, ln, Some(pr), work)
            }),
        None => log_norm
            .par_chunks_mut(br)
            .enumerate()
            .for_each_init(Work::default, |work, (b, ln)| run(b * br, ln, None, work)),
    }
}
