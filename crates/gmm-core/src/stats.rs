//! Sufficient statistics of the M-step, accumulated around shift centers
//! (usually the current means) so that data far from the origin loses no
//! precision, and reduced across chunks exactly.
//!
//! Each chunk's statistics are summed in `f64` by one thread in a fixed order,
//! then converted to fixed point of two `i128` words per entry, with a scale
//! derived from a bound on the entry (total weight times column ranges): 120
//! bits below the bound in the first word, 120 more in the second (so that a
//! far value, which makes the bound loose for every other component, rounds
//! nothing away). Integer addition is associative, so the total is bit for
//! bit the same whatever thread, machine or order adds the chunks.

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
        match covariance_type.storage() {
            CovarianceType::Full => SecondMoment::Full,
            CovarianceType::Tied => SecondMoment::Pooled,
            CovarianceType::Diag | CovarianceType::Spherical => SecondMoment::Diag,
            _ => unreachable!("storage is one of the four"),
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
///
/// Each entry is a fixed-point number of two `i128` words: `hi` in units of
/// `2^-e` (its scale, from a bound on the values) and `lo` in units of
/// `2^-(e + LO_BITS)`, kept in `[0, 2^LO_BITS)`. The bound comes from the
/// columns' largest magnitudes, so one far outlier makes it loose for every
/// other component; the second word keeps another `LO_BITS` bits below it,
/// so that a cluster of unit variance next to a value of 1e20 keeps its
/// variance to full precision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExactStats {
    hi: Vec<i128>,
    lo: Vec<i128>,
    /// Set if a value did not fit its scale (a broken bound, or a non-finite value).
    overflow: bool,
}

/// Bits of the low word; `lo` stays below `2^LO_BITS`, so a sum of two
/// never overflows before it is carried.
const LO_BITS: i32 = 120;

impl ExactStats {
    pub fn zeros(scales: &Scales) -> Self {
        ExactStats {
            hi: vec![0; scales.exps.len()],
            lo: vec![0; scales.exps.len()],
            overflow: false,
        }
    }

    /// Adds `(hi, lo)` to entry `i`, carrying so that `lo` stays in range.
    #[inline(always)]
    fn add_entry(&mut self, i: usize, hi: i128, lo: i128) {
        // Values within 2^68 of their bound have no low word: the common case.
        let carry = if lo == 0 {
            0
        } else {
            let lo = self.lo[i] + lo;
            let carry = lo >> LO_BITS;
            self.lo[i] = lo - (carry << LO_BITS);
            carry
        };
        match self.hi[i]
            .checked_add(hi)
            .and_then(|h| h.checked_add(carry))
        {
            Some(h) => self.hi[i] = h,
            None => self.overflow = true,
        }
    }

    /// Adds `v` at its scale `2^-e` to entry `i`.
    #[inline(always)]
    fn push(&mut self, i: usize, v: f64, e: i32) {
        // The common case inline: a normal value that is a whole number of
        // units of its scale (within 2^68 of the bound) and fits 127 bits,
        // as `to_fixed` would give it, with no low word.
        let bits = v.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let shift = biased - 1075 + e;
        if biased != 0 && biased != 0x7ff && (0..=MAX_SHIFT).contains(&shift) {
            let m = ((bits & ((1u64 << 52) - 1)) | (1u64 << 52)) as i128;
            let sign = ((bits as i64) >> 63) as i128;
            let hi = ((m << shift) ^ sign) - sign;
            match self.hi[i].checked_add(hi) {
                Some(h) => self.hi[i] = h,
                None => self.overflow = true,
            }
        } else {
            self.push_rest(i, v, e);
        }
    }

    /// [`ExactStats::push`] for every other value: zeros, subnormals,
    /// non-finite values, values whose mantissa sits below their unit
    /// (which may leave a low word), and values that do not fit.
    #[cold]
    #[inline(never)]
    fn push_rest(&mut self, i: usize, v: f64, e: i32) {
        match to_fixed(v, e) {
            Some((hi, lo)) => self.add_entry(i, hi, lo),
            None => self.overflow = true,
        }
    }

    pub fn add(&mut self, scales: &Scales, s: &SufficientStats) {
        let Layout { k: kk, d, second } = scales.layout;
        let exps = &scales.exps[..];
        assert!(self.hi.len() == exps.len() && self.lo.len() == exps.len());
        let mut idx = 0;
        for &v in s.n.iter().chain(&s.s1) {
            self.push(idx, v, exps[idx]);
            idx += 1;
        }
        match second {
            SecondMoment::Diag => {
                for &v in &s.s2 {
                    self.push(idx, v, exps[idx]);
                    idx += 1;
                }
            }
            SecondMoment::Full | SecondMoment::Pooled => {
                let blocks = if second == SecondMoment::Full { kk } else { 1 };
                for b in 0..blocks {
                    let m = &s.s2[b * d * d..(b + 1) * d * d];
                    for i in 0..d {
                        for &v in &m[i * d..i * d + i + 1] {
                            self.push(idx, v, exps[idx]);
                            idx += 1;
                        }
                    }
                }
            }
        }
        debug_assert_eq!(idx, exps.len());
    }

    pub fn encode(&self, w: &mut Writer) {
        w.bool(self.overflow);
        w.i128s(&self.hi);
        w.i128s(&self.lo);
    }

    /// Reads what [`ExactStats::encode`] wrote for the same scales.
    pub fn decode(scales: &Scales, r: &mut Reader<'_>) -> Result<Self> {
        let overflow = r.bool()?;
        let hi = r.i128s()?;
        let lo = r.i128s()?;
        let n = scales.exps.len();
        let in_range = lo.iter().all(|l| (0..1i128 << LO_BITS).contains(l));
        if hi.len() != n || lo.len() != n || !in_range {
            return Err(crate::error::GmmError::Malformed {
                offset: 0,
                reason: "sufficient statistics of the wrong shape".into(),
            });
        }
        Ok(ExactStats { hi, lo, overflow })
    }

    pub fn merge(&mut self, other: &ExactStats) {
        self.overflow |= other.overflow;
        for i in 0..self.hi.len() {
            self.add_entry(i, other.hi[i], other.lo[i]);
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
        let mut vals =
            (0..self.hi.len()).map(|i| from_fixed(self.hi[i], self.lo[i], scales.exps[i]));
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

/// The largest left shift of a mantissa (below 2^53) that `to_fixed` and
/// [`ExactStats::push`]'s inline path take: the word stays below 2^126.
const MAX_SHIFT: i32 = 73;

/// `v * 2^e` as `(hi, lo)` with `v * 2^e = hi + lo * 2^-LO_BITS`, `hi` the
/// integer part and `lo` the fraction rounded (half away from zero) to
/// `LO_BITS` bits, both with the sign of `v`; `None` if `hi` would not fit
/// in 127 bits or `v` is not finite.
fn to_fixed(v: f64, e: i32) -> Option<(i128, i128)> {
    if v == 0.0 {
        return Some((0, 0));
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
    let m = mantissa as u128;
    // v * 2^e = m * 2^shift.
    let shift = exp + e;
    let (hi, lo) = if shift >= 0 {
        if shift > MAX_SHIFT {
            return None;
        }
        (m << shift, 0)
    } else {
        let s = -shift;
        // The integer part, then the fraction's bits (m < 2^53).
        let hi = if s >= 64 { 0 } else { m >> s };
        let rest = if s >= 64 { m } else { m & ((1u128 << s) - 1) };
        let lo = if s <= LO_BITS {
            rest << (LO_BITS - s)
        } else if s - LO_BITS > 64 {
            0
        } else {
            let t = s - LO_BITS;
            (rest + (1u128 << (t - 1))) >> t
        };
        (hi, lo)
    };
    let (hi, lo) = (hi as i128, lo as i128);
    Some(if negative { (-hi, -lo) } else { (hi, lo) })
}

/// `(hi + lo * 2^-LO_BITS) * 2^-e` in `f64`, a function of the two words
/// only (so of the exact total, whatever order it was summed in).
fn from_fixed(hi: i128, lo: i128, e: i32) -> f64 {
    // While it fits, the whole number is exact in one i128 and rounds once.
    if hi.unsigned_abs() < 1 << (126 - LO_BITS) {
        return ldexp(((hi << LO_BITS) + lo) as f64, -e - LO_BITS);
    }
    // Otherwise |total| >= 2^LO_BITS units of lo: `hi` is rounded to f64
    // and the fraction added, so the result may be one unit in the last
    // place off a correctly rounded one (a double rounding), and is still
    // a function of the words alone.
    ldexp(hi as f64 + ldexp(lo as f64, -LO_BITS), -e)
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
mod tests;
