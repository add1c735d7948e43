//! Sufficient statistics of the M-step, accumulated around shift centers
//! (usually the current means) so that data far from the origin loses no
//! precision, and reduced across chunks exactly.
//!
//! Each chunk's statistics are summed in `f64` by one thread in a fixed order,
//! then converted to 128-bit fixed point with a per-entry scale derived from a
//! bound on the entry (total weight times column ranges). Integer addition is
//! associative, so the total is bit for bit the same whatever thread, machine
//! or order adds the chunks; the bound keeps about 120 bits of headroom, far
//! more than the 53 bits of an `f64`.

use crate::covariance::CovarianceType;
use crate::error::Result;
use crate::wire::{Reader, Writer};

/// Which second moments are accumulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecondMoment {
    /// `sum r (x - c_k)(x - c_k)^T` per component (full).
    Full,
    /// `sum_k sum r (x - c_k)(x - c_k)^T` pooled over components (tied).
    Pooled,
    /// `sum r (x - c_k)^2` per component and column (diag, spherical).
    Diag,
}

impl SecondMoment {
    pub fn for_covariance(covariance_type: CovarianceType) -> Self {
        match covariance_type {
            CovarianceType::Full => SecondMoment::Full,
            CovarianceType::Tied => SecondMoment::Pooled,
            CovarianceType::Diag | CovarianceType::Spherical => SecondMoment::Diag,
        }
    }
}

/// The shape of a set of statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub k: usize,
    pub d: usize,
    pub second: SecondMoment,
}

impl Layout {
    /// Length of the dense `f64` second-moment buffer.
    fn s2_len(&self) -> usize {
        match self.second {
            SecondMoment::Full => self.k * self.d * self.d,
            SecondMoment::Pooled => self.d * self.d,
            SecondMoment::Diag => self.k * self.d,
        }
    }

    /// Entries of the exact accumulator: `N`, `S1`, and the distinct entries of `S2`.
    fn n_exact(&self) -> usize {
        let tri = self.d * (self.d + 1) / 2;
        self.k
            + self.k * self.d
            + match self.second {
                SecondMoment::Full => self.k * tri,
                SecondMoment::Pooled => tri,
                SecondMoment::Diag => self.k * self.d,
            }
    }
}

/// Statistics in `f64`: of one chunk while it is accumulated, or the reduced
/// totals. `n[k] = sum r`, `s1[k] = sum r (x - c_k)`, `s2` per [`SecondMoment`]
/// (dense and symmetric once reduced).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SufficientStats {
    pub layout: Layout,
    pub n: Vec<f64>,
    pub s1: Vec<f64>,
    pub s2: Vec<f64>,
}

impl SufficientStats {
    pub fn zeros(layout: Layout) -> Self {
        SufficientStats {
            layout,
            n: vec![0.0; layout.k],
            s1: vec![0.0; layout.k * layout.d],
            s2: vec![0.0; layout.s2_len()],
        }
    }
}

/// Per-entry fixed-point scales for a pass: `value * 2^scale` fits in an
/// `i128` with room to spare for every chunk sum and the total.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scales {
    layout: Layout,
    exps: Vec<i32>,
}

/// Headroom: bounds are scaled to at most `2^HEADROOM_BITS`, leaving 7 bits of
/// an `i128` for rounding in the chunk sums.
const HEADROOM_BITS: i32 = 120;

impl Scales {
    /// `total_weight` bounds `sum r`; `col_max_abs[j]` bounds `|x_j|`; the
    /// centers are those the statistics are accumulated around.
    pub fn new(layout: Layout, centers: &[f64], col_max_abs: &[f64], total_weight: f64) -> Self {
        let Layout { k: kk, d, second } = layout;
        let cw = ceil_log2(total_weight);
        // ceil log2 of a bound on |x_j - c_kj|.
        let a: Vec<i32> = (0..kk * d)
            .map(|i| ceil_log2(col_max_abs[i % d] + centers[i].abs()))
            .collect();
        let mut exps = Vec::with_capacity(layout.n_exact());
        let scale = |bits: i32| (HEADROOM_BITS - bits).clamp(-1000, 1000);
        exps.extend((0..kk).map(|_| scale(cw)));
        exps.extend(a.iter().map(|&ak| scale(cw + ak)));
        match second {
            SecondMoment::Full => {
                for k in 0..kk {
                    let ak = &a[k * d..(k + 1) * d];
                    for i in 0..d {
                        for j in 0..=i {
                            exps.push(scale(cw + ak[i] + ak[j]));
                        }
                    }
                }
            }
            SecondMoment::Pooled => {
                let amax: Vec<i32> = (0..d)
                    .map(|j| (0..kk).map(|k| a[k * d + j]).max().unwrap_or(0))
                    .collect();
                for i in 0..d {
                    for j in 0..=i {
                        exps.push(scale(cw + amax[i] + amax[j]));
                    }
                }
            }
            SecondMoment::Diag => exps.extend(a.iter().map(|&ak| scale(cw + 2 * ak))),
        }
        debug_assert_eq!(exps.len(), layout.n_exact());
        Scales { layout, exps }
    }
}

/// An order-independent sum of [`SufficientStats`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExactStats {
    acc: Vec<i128>,
    /// Set if a value did not fit its scale (a broken bound, or a non-finite value).
    overflow: bool,
}

impl ExactStats {
    pub fn zeros(scales: &Scales) -> Self {
        ExactStats {
            acc: vec![0; scales.exps.len()],
            overflow: false,
        }
    }

    pub fn add(&mut self, scales: &Scales, s: &SufficientStats) {
        let Layout { k: kk, d, second } = scales.layout;
        let mut idx = 0;
        let mut push = |v: f64, acc: &mut Vec<i128>, overflow: &mut bool| {
            match to_fixed(v, scales.exps[idx]).and_then(|f| acc[idx].checked_add(f)) {
                Some(sum) => acc[idx] = sum,
                None => *overflow = true,
            }
            idx += 1;
        };
        for &v in s.n.iter().chain(&s.s1) {
            push(v, &mut self.acc, &mut self.overflow);
        }
        match second {
            SecondMoment::Diag => {
                for &v in &s.s2 {
                    push(v, &mut self.acc, &mut self.overflow);
                }
            }
            SecondMoment::Full | SecondMoment::Pooled => {
                let blocks = if second == SecondMoment::Full { kk } else { 1 };
                for b in 0..blocks {
                    let m = &s.s2[b * d * d..(b + 1) * d * d];
                    for i in 0..d {
                        for j in 0..=i {
                            push(m[i * d + j], &mut self.acc, &mut self.overflow);
                        }
                    }
                }
            }
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        w.bool(self.overflow);
        w.i128s(&self.acc);
    }

    /// Reads what [`ExactStats::encode`] wrote for the same scales.
    pub fn decode(scales: &Scales, r: &mut Reader<'_>) -> Result<Self> {
        let overflow = r.bool()?;
        let acc = r.i128s()?;
        let mut e = ExactStats::zeros(scales);
        debug_assert_eq!(e.acc.len(), acc.len());
        e.acc = acc;
        e.overflow = overflow;
        Ok(e)
    }

    pub fn merge(&mut self, other: &ExactStats) {
        self.overflow |= other.overflow;
        for (a, b) in self.acc.iter_mut().zip(&other.acc) {
            match a.checked_add(*b) {
                Some(s) => *a = s,
                None => self.overflow = true,
            }
        }
    }

    /// The totals in `f64` (second moments made dense and symmetric), or
    /// `None` if the accumulation overflowed.
    pub fn totals(&self, scales: &Scales) -> Option<SufficientStats> {
        if self.overflow {
            return None;
        }
        let layout = scales.layout;
        let Layout { k: kk, d, second } = layout;
        let mut out = SufficientStats::zeros(layout);
        let mut vals = self
            .acc
            .iter()
            .zip(&scales.exps)
            .map(|(&a, &e)| from_fixed(a, e));
        for v in out.n.iter_mut().chain(out.s1.iter_mut()) {
            *v = vals.next().expect("layout");
        }
        match second {
            SecondMoment::Diag => out
                .s2
                .iter_mut()
                .for_each(|v| *v = vals.next().expect("layout")),
            SecondMoment::Full | SecondMoment::Pooled => {
                let blocks = if second == SecondMoment::Full { kk } else { 1 };
                for b in 0..blocks {
                    let m = &mut out.s2[b * d * d..(b + 1) * d * d];
                    for i in 0..d {
                        for j in 0..=i {
                            let v = vals.next().expect("layout");
                            m[i * d + j] = v;
                            m[j * d + i] = v;
                        }
                    }
                }
            }
        }
        Some(out)
    }
}

/// The smallest `c` with `x <= 2^c` (for `x > 0`); a very small number for 0.
fn ceil_log2(x: f64) -> i32 {
    if !(x > 0.0) || !x.is_finite() {
        return if x.is_infinite() { 1100 } else { -1100 };
    }
    let biased = ((x.to_bits() >> 52) & 0x7ff) as i32;
    if biased == 0 { -1022 } else { biased - 1022 }
}

/// `round(v * 2^e)` as an integer, or `None` if it does not fit in 127 bits.
fn to_fixed(v: f64, e: i32) -> Option<i128> {
    if v == 0.0 {
        return Some(0);
    }
    if !v.is_finite() {
        return None;
    }
    let bits = v.to_bits();
    let negative = bits >> 63 != 0;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    let shift = exp + e;
    let magnitude = if shift >= 0 {
        if shift > 73 {
            return None;
        }
        (mantissa as i128) << shift
    } else {
        let s = -shift;
        if s > 64 {
            0
        } else {
            // Round half away from zero, on the magnitude.
            (((mantissa as u128) + (1u128 << (s - 1))) >> s) as i128
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `a * 2^-e` in `f64`.
fn from_fixed(a: i128, e: i32) -> f64 {
    ldexp(a as f64, -e)
}

/// `x * 2^e`, exact unless the result under- or overflows.
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    let pow2 = |n: i32| f64::from_bits(((n + 1023) as u64) << 52);
    while e > 1000 {
        x *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= pow2(-1000);
        e += 1000;
    }
    x * pow2(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_round_trip_keeps_the_value() {
        for &v in &[1.0f64, -3.25, 1e-300, 123456.789, -0.1, 5e-324] {
            let e = HEADROOM_BITS - ceil_log2(v.abs());
            let back = from_fixed(to_fixed(v, e).unwrap(), e);
            assert_eq!(back, v, "{v}");
        }
        assert_eq!(to_fixed(1.0, 127), None);
        assert!(to_fixed(1.0, 126).is_none() && to_fixed(1.0, 120).is_some());
        assert_eq!(to_fixed(f64::NAN, 0), None);
    }

    #[test]
    fn ceil_log2_bounds() {
        for &x in &[1.0, 1.5, 2.0, 1000.0, 1e-10, 3e300] {
            let c = ceil_log2(x);
            assert!(x <= ldexp(1.0, c), "{x} {c}");
            assert!(x > ldexp(1.0, c - 2), "{x} {c}");
        }
    }

    fn layout() -> Layout {
        Layout {
            k: 2,
            d: 3,
            second: SecondMoment::Full,
        }
    }

    /// Statistics-like values of varied magnitudes.
    fn chunk(seed: u64) -> SufficientStats {
        let mut s = SufficientStats::zeros(layout());
        let f = |i: usize| ((i as f64 + seed as f64) * 0.37).sin() * 10.0;
        s.n.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = f(i).abs());
        s.s1.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = f(i + 7) * 3.0);
        for k in 0..2 {
            for a in 0..3 {
                for b in 0..=a {
                    s.s2[k * 9 + a * 3 + b] = f(k * 9 + a * 3 + b) * 20.0 + 1e-9 * f(a);
                }
            }
        }
        s
    }

    #[test]
    fn exact_sum_is_order_independent() {
        let centers = [0.5, -1.0, 2.0, 1.0, 0.0, -3.0];
        let scales = Scales::new(layout(), &centers, &[10.0; 3], 100.0);
        let chunks: Vec<_> = (0..5).map(chunk).collect();
        let mut fwd = ExactStats::zeros(&scales);
        for c in &chunks {
            fwd.add(&scales, c);
        }
        // Another grouping and order.
        let mut a = ExactStats::zeros(&scales);
        let mut b = ExactStats::zeros(&scales);
        for c in chunks.iter().rev().take(2) {
            a.add(&scales, c);
        }
        for c in chunks.iter().take(3) {
            b.add(&scales, c);
        }
        b.merge(&a);
        let (t1, t2) = (fwd.totals(&scales).unwrap(), b.totals(&scales).unwrap());
        assert_eq!(t1, t2);
        // And close to a plain f64 sum.
        let plain: f64 = chunks.iter().map(|c| c.s2[4]).sum();
        assert!((t1.s2[4] - plain).abs() <= 1e-12 * plain.abs());
        // Symmetric second moments.
        assert_eq!(t1.s2[1], t1.s2[3]);
    }
}
