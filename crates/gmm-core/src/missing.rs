//! Rows with missing entries (NaN values of a dataset marked with
//! [`Dataset::with_missing_values`], `--missing marginalize`): EM for
//! incomplete data.
//!
//! A pass sets such rows aside from the blocked kernels ([`EStep::load`]
//! notes them) and hands them here, grouped by their pattern of missing
//! columns. For a row with observed columns `o` and missing `m`, under
//! component `k` with covariance `S` and precision `P = S^-1`:
//!
//! - its density is the marginal `N(x_o; mu_o, S_oo)` (a row with nothing
//!   observed has density 1: only the weights place it);
//! - the M-step's statistics take the conditional expectation of the
//!   missing values in place of the values, and add their conditional
//!   covariance to the second moments.
//!
//! All of it comes from the missing block of the precision (the Schur
//! complement): `S_oo^-1 = P_oo - P_om P_mm^-1 P_mo`, `ln det S_oo =
//! ln det P_mm - ln det P`, `E[x_m | x_o] = mu_m - P_mm^-1 P_mo (x_o -
//! mu_o)` and `Cov[x_m | x_o] = P_mm^-1`. So one factorization of the
//! `m x m` block per pattern and component serves every row of the group,
//! and the observed block, however large, is never factored. Rows are
//! taken in an order fixed by the chunk (pattern, then row), so results do
//! not depend on threads.
//!
//! [`EStep::load`]: crate::estep::EStep::load

use crate::covariance::CovarianceType;
use crate::data::{DataView, Dataset};
use crate::estep::RowPolicy;
use crate::prepared::{LN_2PI, Prepared};
use crate::stats::{SecondMoment, SufficientStats};

impl Dataset {
    /// With `true`, NaN values are missing entries that every pass
    /// integrates out (`--missing marginalize`); otherwise they are an
    /// error, as by default.
    pub fn with_missing_values(mut self, missing: bool) -> Self {
        self.missing = missing;
        self
    }

    /// Whether NaN values are missing entries ([`Dataset::with_missing_values`]).
    pub fn has_missing_values(&self) -> bool {
        self.missing
    }
}

impl<'a> DataView<'a> {
    /// With `true`, NaN values are missing entries ([`Dataset::with_missing_values`]).
    pub fn with_missing_values(mut self, missing: bool) -> Self {
        self.missing = missing;
        self
    }

    /// Whether NaN values are missing entries.
    pub fn missing_values(&self) -> bool {
        self.missing
    }

    /// The same rows, with missing entries read as `fill` (one value per
    /// column) wherever a pass needs complete rows: how initializations
    /// see them.
    pub(crate) fn with_fill(mut self, fill: &'a [f64]) -> Self {
        if self.missing {
            self.fill = Some(fill);
        }
        self
    }

    /// Row `i` as `f64`, its missing entries filled ([`DataView::with_fill`]).
    pub(crate) fn row_f64<'b>(&self, i: usize, scratch: &'b mut Vec<f64>) -> &'b [f64]
    where
        'a: 'b,
    {
        if self.fill.is_some() && self.row(i).iter().any(f64::is_nan) {
            scratch.clear();
            self.extend_row_into(i, scratch);
            scratch
        } else {
            self.row(i).as_f64(scratch)
        }
    }

    /// Appends row `i` to `out` as `f64`, its missing entries filled.
    pub(crate) fn extend_row_into(&self, i: usize, out: &mut Vec<f64>) {
        let start = out.len();
        self.row(i).extend_into(out);
        if let Some(fill) = self.fill {
            for (v, f) in out[start..].iter_mut().zip(fill) {
                if v.is_nan() {
                    *v = *f;
                }
            }
        }
    }

    /// Row `i` as `f64`, copied, its missing entries filled.
    pub(crate) fn row_vec(&self, i: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.n_features());
        self.extend_row_into(i, &mut out);
        out
    }
}

/// The precision matrices `P_k = U_k U_k^T` of a prepared model, dense
/// (one for a tied covariance), and `ln det P_k`.
pub(crate) struct Precisions {
    d: usize,
    /// Diagonal (diag, spherical): `P_mo = 0`, nothing to regress on.
    diagonal: bool,
    p: Vec<f64>,
    log_det: Vec<f64>,
}

impl Precisions {
    pub fn new(m: &Prepared) -> Self {
        let d = m.d;
        let u = &m.precision;
        let (count, diagonal) = match m.covariance_type {
            CovarianceType::Full => (m.k, false),
            CovarianceType::Tied => (1, false),
            CovarianceType::Diag | CovarianceType::Spherical => (m.k, true),
            _ => unreachable!("prepared models hold a storage"),
        };
        let mut p = vec![0.0; count * d * d];
        let mut log_det = vec![0.0; count];
        for c in 0..count {
            let pc = &mut p[c * d * d..(c + 1) * d * d];
            if diagonal {
                for j in 0..d {
                    let v = match m.covariance_type {
                        CovarianceType::Diag => u[c * d + j],
                        _ => u[c],
                    };
                    pc[j * d + j] = v * v;
                    log_det[c] += 2.0 * v.ln();
                }
                continue;
            }
            // `U` upper triangular, row-major: `P_ij = sum_{t >= max(i, j)} U_it U_jt`.
            let uc = &u[c * d * d..(c + 1) * d * d];
            for i in 0..d {
                log_det[c] += 2.0 * uc[i * d + i].ln();
                for j in 0..=i {
                    let v: f64 = (i..d).map(|t| uc[i * d + t] * uc[j * d + t]).sum();
                    pc[i * d + j] = v;
                    pc[j * d + i] = v;
                }
            }
        }
        Precisions {
            d,
            diagonal,
            p,
            log_det,
        }
    }

    fn get(&self, c: usize, i: usize, j: usize) -> f64 {
        self.p[(c * self.d + i) * self.d + j]
    }

    fn count(&self) -> usize {
        self.log_det.len()
    }
}

/// One pattern under one precision matrix: the Schur complement of the
/// missing block gives the marginal of the observed columns,
/// `S_oo^-1 = P_oo - P_om P_mm^-1 P_mo` and `ln det S_oo = ln det P_mm -
/// ln det P`, and the conditional law of the missing ones,
/// `E[x_m | x_o] = mu_m - P_mm^-1 P_mo (x_o - mu_o)` with covariance
/// `P_mm^-1`: only the `m x m` block is factored, however many columns are
/// observed.
#[derive(Debug, Default)]
struct Factors {
    m: usize,
    /// Per precision matrix: the lower Cholesky factor of `P_mm` (`m x m`).
    l: Vec<f64>,
    /// `P_mm^-1` (`m x m`): the conditional covariance.
    c: Vec<f64>,
    /// `-1/2 (o ln 2 pi + ln det S_oo)`, or -inf for a block that lost
    /// its positive definiteness to rounding (no density there).
    log_norm: Vec<f64>,
    y: Vec<f64>,
}

impl Factors {
    fn build(&mut self, pr: &Precisions, obs: usize, mis: &[usize]) {
        let m = mis.len();
        self.m = m;
        let count = pr.count();
        self.l.clear();
        self.l.resize(count * m * m, 0.0);
        self.c.clear();
        self.c.resize(count * m * m, 0.0);
        self.log_norm.clear();
        for k in 0..count {
            let (l, c) = (
                &mut self.l[k * m * m..(k + 1) * m * m],
                &mut self.c[k * m * m..(k + 1) * m * m],
            );
            // det P_mm as a product of the pivots (one logarithm), or a
            // sum of their logarithms where the product leaves f64's range.
            let (mut det_mm, mut in_range) = (1.0f64, true);
            let mut ok = true;
            for a in 0..m {
                for b in 0..=a {
                    let mut s = pr.get(k, mis[a], mis[b]);
                    for t in 0..b {
                        s -= l[a * m + t] * l[b * m + t];
                    }
                    if a == b {
                        ok &= s > 0.0;
                        l[a * m + a] = if s > 0.0 { s.sqrt() } else { 1.0 };
                        det_mm *= s;
                        in_range &= det_mm.is_normal();
                    } else {
                        l[a * m + b] = s / l[b * m + b];
                    }
                }
            }
            let log_det_mm = if in_range {
                det_mm.ln()
            } else {
                (0..m).map(|a| 2.0 * l[a * m + a].ln()).sum()
            };
            // P_mm^-1 = L^-T L^-1, column by column.
            let y = &mut self.y;
            y.clear();
            y.resize(m, 0.0);
            for col in 0..m {
                for a in 0..m {
                    let mut s = if a == col { 1.0 } else { 0.0 };
                    for t in 0..a {
                        s -= l[a * m + t] * y[t];
                    }
                    y[a] = s / l[a * m + a];
                }
                for a in (0..m).rev() {
                    let mut s = y[a];
                    for t in a + 1..m {
                        s -= l[t * m + a] * c[t * m + col];
                    }
                    c[a * m + col] = s / l[a * m + a];
                }
            }
            // Nothing observed: the marginal is the empty product, exactly 1.
            let log_det_oo = if obs == 0 {
                0.0
            } else {
                log_det_mm - pr.log_det[k]
            };
            self.log_norm.push(if ok {
                -0.5 * (obs as f64 * LN_2PI + log_det_oo)
            } else {
                f64::NEG_INFINITY
            });
        }
    }
}

/// A chunk's (or block's) rows with missing entries, taken in the order of
/// their pattern of missing columns, then of their row.
#[derive(Debug, Default)]
pub(crate) struct Incomplete {
    /// Words of a pattern (a bit per column, set where missing).
    words: usize,
    /// The patterns, `words` per noted row.
    bits: Vec<u64>,
    rows: Vec<usize>,
    order: Vec<usize>,
    factors: Factors,
}

impl Incomplete {
    pub fn clear(&mut self) {
        self.bits.clear();
        self.rows.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Notes row `i` of `data` (which has a NaN value).
    pub fn push(&mut self, data: DataView<'_>, i: usize) {
        self.words = data.n_features().div_ceil(64);
        let at = self.bits.len();
        self.bits.resize(at + self.words, 0);
        for (j, v) in data.row(i).iter().enumerate() {
            if v.is_nan() {
                self.bits[at + j / 64] |= 1 << (j % 64);
            }
        }
        self.rows.push(i);
    }

    /// Integrates out the missing entries of the noted rows under `model`:
    /// calls `each(row, effective weight, ln p(x_o), responsibilities)`
    /// for every row (responsibilities unweighted; labeled rows clamped to
    /// their class under [`RowPolicy::Clamped`], as the E-step does), and
    /// adds their statistics around the model's means to `stats`. `pr` is
    /// [`Precisions::new`] of `model`, built once per pass.
    pub fn run<F>(
        &mut self,
        model: &Prepared,
        pr: &Precisions,
        data: DataView<'_>,
        policy: RowPolicy,
        mut stats: Option<&mut SufficientStats>,
        mut each: F,
    ) where
        F: FnMut(usize, f64, f64, &[f64]),
    {
        let (kk, d, w) = (model.k, model.d, self.words);
        let pattern = |i: usize| &self.bits[i * w..(i + 1) * w];
        self.order.clear();
        self.order.extend(0..self.rows.len());
        let mut order = std::mem::take(&mut self.order);
        order.sort_unstable_by(|&a, &b| {
            pattern(a)
                .cmp(pattern(b))
                .then(self.rows[a].cmp(&self.rows[b]))
        });
        let clamp = matches!(policy, RowPolicy::Clamped { .. });
        let (mut x, mut lp, mut e) = (Vec::with_capacity(d), vec![0.0; kk], vec![0.0; d]);
        let (mut r, mut v, mut y) = (Vec::new(), Vec::new(), Vec::new());
        let (mut obs, mut mis) = (Vec::with_capacity(d), Vec::with_capacity(d));
        // The missing columns' regression offsets, per component.
        let mut offsets = vec![0.0; kk * d];
        let mut start = 0;
        while start < order.len() {
            let bits = pattern(order[start]);
            let end = start + order[start..].partition_point(|&i| pattern(i) == bits);
            let missing = |j: usize| bits[j / 64] >> (j % 64) & 1 == 1;
            obs.clear();
            obs.extend((0..d).filter(|&j| !missing(j)));
            mis.clear();
            mis.extend((0..d).filter(|&j| missing(j)));
            let m = mis.len();
            self.factors.build(pr, obs.len(), &mis);
            let f = &self.factors;
            for &idx in &order[start..end] {
                let i = self.rows[idx];
                x.clear();
                data.row(i).extend_into(&mut x);
                for k in 0..kk {
                    let c = k.min(pr.count() - 1);
                    let mu = &model.means[k * d..(k + 1) * d];
                    let pc = &pr.p[c * d * d..(c + 1) * d * d];
                    r.clear();
                    r.extend(obs.iter().map(|&j| x[j] - mu[j]));
                    // r^T P_oo r, then v = P_mo r and |L^-1 v|^2.
                    let mut q = 0.0;
                    for (a, &ja) in obs.iter().enumerate() {
                        let row = &pc[ja * d..(ja + 1) * d];
                        let mut s = 0.5 * row[ja] * r[a];
                        if !pr.diagonal {
                            for (b, &jb) in obs[..a].iter().enumerate() {
                                s += row[jb] * r[b];
                            }
                        }
                        q += 2.0 * r[a] * s;
                    }
                    let off = &mut offsets[k * d..k * d + m];
                    if pr.diagonal {
                        off.fill(0.0);
                    } else {
                        v.clear();
                        v.extend(mis.iter().map(|&jm| {
                            let row = &pc[jm * d..(jm + 1) * d];
                            obs.iter()
                                .zip(&r)
                                .map(|(&jo, ra)| row[jo] * ra)
                                .sum::<f64>()
                        }));
                        let l = &f.l[c * m * m..(c + 1) * m * m];
                        y.clear();
                        for a in 0..m {
                            let s = v[a] - (0..a).map(|t| l[a * m + t] * y[t]).sum::<f64>();
                            y.push(s / l[a * m + a]);
                        }
                        q -= y.iter().map(|t| t * t).sum::<f64>();
                        // E[x_m | x_o] - mu_m = -P_mm^-1 v.
                        let cm = &f.c[c * m * m..(c + 1) * m * m];
                        for (b, o) in off.iter_mut().enumerate() {
                            *o = -(0..m).map(|t| cm[b * m + t] * v[t]).sum::<f64>();
                        }
                    }
                    lp[k] = model.log_weights[k] + f.log_norm[c] - 0.5 * q;
                }
                let label = data.label(i).filter(|_| clamp).map(|c| c as usize);
                let log_norm = match label {
                    Some(c) => {
                        let v = lp[c];
                        lp.iter_mut()
                            .enumerate()
                            .for_each(|(k, r)| *r = if k == c { 1.0 } else { 0.0 });
                        v
                    }
                    None => crate::kernel::log_sum_exp_normalize(&mut lp),
                };
                let ew = policy.effective_weight(data.weight(i), data.label(i));
                each(i, ew, log_norm, &lp);
                let Some(s) = stats.as_deref_mut() else {
                    continue;
                };
                if !(ew > 0.0) {
                    continue;
                }
                for k in 0..kk {
                    let c = k.min(pr.count() - 1);
                    let q = lp[k] * ew;
                    // (Nor from a block whose factor failed.)
                    if q == 0.0 || f.log_norm[c] == f64::NEG_INFINITY {
                        continue;
                    }
                    let mu = &model.means[k * d..(k + 1) * d];
                    for &j in &obs {
                        e[j] = x[j] - mu[j];
                    }
                    for (b, &j) in mis.iter().enumerate() {
                        e[j] = offsets[k * d + b];
                    }
                    add_row(s, k, q, &e, &mis, &f.c[c * m * m..(c + 1) * m * m]);
                }
            }
            start = end;
        }
        self.order = order;
    }
}

/// Adds one row's weighted contribution to component `k`'s statistics:
/// `e` is the completed row minus the center, `c` the conditional
/// covariance of the missing columns `mis`.
fn add_row(s: &mut SufficientStats, k: usize, q: f64, e: &[f64], mis: &[usize], c: &[f64]) {
    let d = e.len();
    let m = mis.len();
    s.n[k] += q;
    for (s1, v) in s.s1[k * d..(k + 1) * d].iter_mut().zip(e) {
        *s1 += q * v;
    }
    match s.layout.second {
        SecondMoment::Diag => {
            let s2 = &mut s.s2[k * d..(k + 1) * d];
            for (t, v) in s2.iter_mut().zip(e) {
                *t += q * v * v;
            }
            for (b, &j) in mis.iter().enumerate() {
                s2[j] += q * c[b * m + b];
            }
        }
        SecondMoment::Full | SecondMoment::Pooled => {
            let base = if s.layout.second == SecondMoment::Full {
                k * d * d
            } else {
                0
            };
            // The lower triangle, which the exact sums read.
            let s2 = &mut s.s2[base..base + d * d];
            for (i, &ei) in e.iter().enumerate() {
                let qe = q * ei;
                for (t, &ej) in s2[i * d..i * d + i + 1].iter_mut().zip(&e[..=i]) {
                    *t += qe * ej;
                }
            }
            for (b1, &i) in mis.iter().enumerate() {
                for (b2, &j) in mis[..=b1].iter().enumerate() {
                    s2[i * d + j] += q * c[b1 * m + b2];
                }
            }
        }
    }
}
