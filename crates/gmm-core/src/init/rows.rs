//! The rows initializations read ([`InitRows`]): all of them, or a sample
//! that every rank and a single process agree on.

use crate::collective;
use crate::data::{DataView, Dataset, UNLABELED};
use crate::estep::RowPolicy;
use crate::hash::row_hash;
use crate::params::FitParams;

/// Rows per component that a sample for the initializations keeps at
/// least: K-means places a center from its cluster's rows, and a thousand
/// place it well wherever the table has them.
const ROWS_PER_COMPONENT: usize = 1_000;

/// How many rows the initializations read at most (about): `init_rows`, or
/// [`ROWS_PER_COMPONENT`] per component if that is more.
fn target_rows(p: &FitParams) -> usize {
    p.init_rows
        .max(ROWS_PER_COMPONENT.saturating_mul(p.n_components))
}

/// The rows initializations read: all rows when the table has at most
/// [`target_rows`] of them and they are all here; otherwise a uniform sample of
/// about that many rows (chosen by a hash of the seed and the row's index
/// in the whole table) plus every labeled row, gathered from all ranks in
/// table order. Either way every rank, and a single process, starts from
/// the same rows. Rows of an initial noise set are left out: the starts'
/// Gaussians fit the other rows, as mclust's do.
pub(crate) enum InitRows {
    All,
    Gathered(Dataset),
}

impl InitRows {
    pub fn new(data: DataView<'_>, policy: RowPolicy, p: &FitParams) -> Self {
        // The rows the starts may read: all but an initial noise set's.
        let local_set = data
            .initial_noise()
            .map_or(0, |s| s.iter().filter(|&&f| f != 0).count());
        let set = match data.partition() {
            Some(pt) if data.initial_noise().is_some() => {
                collective::gather(pt.comm, &(local_set as u64), |v, w| w.u64(*v), |r| r.u64())
                    .into_iter()
                    .sum::<u64>() as usize
            }
            _ => local_set,
        };
        let n = data.global_rows() - set;
        let target = target_rows(p);
        let sampled = n > target;
        if !sampled && data.partition().is_none() && data.initial_noise().is_none() {
            return InitRows::All;
        }
        // Row i is kept when hash(seed, i) / 2^64 < target / n.
        let threshold = if sampled {
            ((target as f64 / n as f64) * 2f64.powi(64)) as u64
        } else {
            u64::MAX
        };
        let d = data.n_features();
        let offset = data.row_offset();
        let mut x = Vec::new();
        let mut w = Vec::new();
        let mut l = Vec::new();
        for i in 0..data.n_rows() {
            let labeled = data.label(i).is_some() && policy != RowPolicy::Unsupervised;
            let h = row_hash(p.seed, (offset + i) as u64);
            if data.in_initial_noise(i) {
                continue;
            }
            if !sampled || labeled || h < threshold {
                data.extend_row_into(i, &mut x);
                w.push(data.weight(i));
                l.push(data.labels().map_or(UNLABELED, |ls| ls[i]));
            }
        }
        if let Some(pt) = data.partition() {
            let all = collective::gather(
                pt.comm,
                &(x, w, l),
                |(x, w, l), out| {
                    out.f64s(x);
                    out.f64s(w);
                    let l: Vec<f64> = l.iter().map(|&c| f64::from(c)).collect();
                    out.f64s(&l);
                },
                |r| {
                    let x = r.f64s()?;
                    let w = r.f64s()?;
                    let l: Vec<u32> = r.f64s()?.into_iter().map(|c| c as u32).collect();
                    Ok((x, w, l))
                },
            );
            (x, w, l) = all.into_iter().fold(
                (Vec::new(), Vec::new(), Vec::new()),
                |(mut x, mut w, mut l), (a, b, c)| {
                    x.extend(a);
                    w.extend(b);
                    l.extend(c);
                    (x, w, l)
                },
            );
        }
        let mut set = Dataset::from_row_major(x, d).expect("whole rows");
        if data.weights().is_some() {
            set = set.with_weights(w).expect("one weight per row");
        }
        if data.labels().is_some() {
            set = set
                .with_labels(l, data.n_classes())
                .expect("one label per row");
        }
        InitRows::Gathered(set)
    }

    pub fn view<'a>(&'a self, data: DataView<'a>) -> DataView<'a> {
        match self {
            InitRows::All => data,
            InitRows::Gathered(set) => set.view(),
        }
    }
}
