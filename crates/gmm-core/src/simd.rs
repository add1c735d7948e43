//! `f64` lanes: eight as AVX-512 registers and four as AVX2+FMA registers
//! where the processor has them, four as plain arrays otherwise. The kernels
//! are written once, generic over [`Lanes`]; every implementation performs
//! the same IEEE operations (fused where the others fuse) in the same order
//! on each lane, so they give bit-identical results: a lane's value does not
//! depend on how many lanes a register holds. Kernels that sum across rows
//! lane by lane ([`crate::kernel::LaneStats`]) keep eight lanes everywhere
//! (two registers of four where a register holds four), so that their sums
//! are formed in one order on every processor.

use std::sync::OnceLock;

/// Operations on [`Lanes::N`] `f64` lanes.
pub(crate) trait Lanes: Copy {
    /// Lanes per register: 4 or 8.
    const N: usize;
    fn splat(v: f64) -> Self;
    /// Loads `s[0..N]`.
    #[cfg(test)]
    fn load(s: &[f64]) -> Self {
        assert!(s.len() >= Self::N);
        // SAFETY: checked above.
        unsafe { Self::loadp(s.as_ptr()) }
    }
    /// Loads `N` values at `p`.
    ///
    /// # Safety
    /// `p..p+N` must be valid for reads.
    unsafe fn loadp(p: *const f64) -> Self;
    /// Stores `N` values at `p`.
    ///
    /// # Safety
    /// `p..p+N` must be valid for writes.
    unsafe fn storep(self, p: *mut f64);
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// `self * b + c`, rounded once.
    fn mul_add(self, b: Self, c: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn max(self, o: Self) -> Self;
    #[cfg(test)]
    fn to_vec(self) -> Vec<f64>;
    /// `2^n` for lanes holding integers in `[-1022, 1023]`.
    fn pow2i(self) -> Self;
    /// `self * 2^n` (`n` as for [`Lanes::pow2i`]), but 0 in the lanes where
    /// `x < t`: the last step of [`Lanes::exp`].
    #[inline(always)]
    fn mul_pow2_or_zero(self, n: Self, x: Self, t: f64) -> Self {
        x.replace_below(t, Self::splat(0.0), self.mul(n.pow2i()))
    }
    /// Lanes where `self < t` become `v`.
    fn replace_below(self, t: f64, v: Self, x: Self) -> Self;
    /// Lanes where `self > t` become `v`.
    fn replace_above(self, t: f64, v: Self, x: Self) -> Self;
    /// Whether every lane is finite.
    fn all_finite(self) -> bool;
    /// For positive normal lanes `x = m 2^e` with `m` in `[1, 2)`: `(e, m)`.
    fn split_exponent(self) -> (Self, Self);

    /// `ln x` for positive normal `x`, within about one unit in the last place.
    #[inline(always)]
    fn ln(self) -> Self {
        let (e, m) = self.split_exponent();
        // Bring m into [sqrt(1/2), sqrt(2)).
        let big = m.replace_above(std::f64::consts::SQRT_2, Self::splat(1.0), Self::splat(0.0));
        let m = m.mul(Self::splat(1.0).sub(big.mul(Self::splat(0.5))));
        let e = e.add(big);
        // ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172.
        let t = m.sub(Self::splat(1.0)).div(m.add(Self::splat(1.0)));
        let t2 = t.mul(t);
        let p = horner_pairs(t2, &LN_ATANH);
        // 2t + t^3 p(t^2), then e ln 2 in two parts.
        let lm = t.mul(t2).mul_add(p, t.add(t));
        e.mul_add(Self::splat(LN2_HI), e.mul_add(Self::splat(LN2_LO), lm))
    }

    /// `e^x` for `x <= 709` (the kernels take it of `x <= 0`), within about
    /// one unit in the last place; 0 below -708.
    #[inline(always)]
    fn exp(self) -> Self {
        const LOG2E: f64 = std::f64::consts::LOG2_E;
        // 1.5 * 2^52: sums of it and |y| < 2^51 are whole numbers, so
        // `(y + SHIFTER) - SHIFTER` is y rounded to the nearest integer (ties
        // to even), the subtraction exact. With the product fused into the
        // sum, that is as many instructions as a product and a rounding
        // instruction, and one micro-operation fewer where rounding takes
        // two (AVX-512). The n differs from that of
        // rounding the rounded product only where x log2(e) lies within
        // half a unit in its last place of a half-integer; either gives
        // |r| <= ln2/2 up to rounding.
        const SHIFTER: f64 = 6_755_399_441_055_744.0;
        // Clamp below so that 2^n stays a normal number; the lanes below
        // -708 are set to zero at the end. No clamp above: at most 709,
        // n <= 1023 already.
        let x = self.max(Self::splat(-708.0));
        let n = x
            .mul_add(Self::splat(LOG2E), Self::splat(SHIFTER))
            .sub(Self::splat(SHIFTER));
        let r = n.mul_add(Self::splat(-LN2_HI), x);
        let r = n.mul_add(Self::splat(-LN2_LO), r);
        // Taylor series of e^r on |r| <= ln2/2, to r^13/13! ([`horner_pairs`]).
        let p = horner_pairs(r, &EXP_TAYLOR);
        p.mul_pow2_or_zero(n, self, -708.0)
    }
}

/// `[f(0), .., f(N - 1)]` of registers, always inlined. The kernels build
/// their small arrays of registers with this, not `std::array::from_fn`:
/// LLVM left that out of line in the scatter tiles' hot loop once
/// `accumulate` grew (a call per row of a tile, 45 % more per iteration at
/// 1M x 16, K = 8 on an Intel Xeon).
#[inline(always)]
pub(crate) fn regs_from<V: Lanes, const N: usize>(mut f: impl FnMut(usize) -> V) -> [V; N] {
    let mut out = [V::splat(0.0); N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = f(i);
    }
    out
}

/// `ln 2` split so that `n * LN2_HI` is exact for the `n` of range reduction.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// `1/i!` for `i = 0..=13`.
const EXP_TAYLOR: [f64; 14] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `2 / (2i + 3)` for `i = 0..=10`: `ln m = 2t + t^3 sum_i c_i t^(2i)`.
const LN_ATANH: [f64; 11] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
    2.0 / 23.0,
];

/// `sum_i c[i] x^i` by Horner's scheme in `x^2` over the pairs `c[2i] +
/// c[2i+1] x` (an odd count's last coefficient on its own): the pairs are
/// independent of each other, and the one dependent chain is half as long
/// as plain Horner's. For `e^x` (14 coefficients) that is 14 operations:
/// plain Horner takes 13 in a chain of 13, Estrin's tree (pairs, then
/// pairs of pairs with `x^2`, `x^4`, ...) 16 with every coefficient held
/// in a register, which AVX-512's `normalize` spilled and re-broadcast.
/// Measured in `normalize` (64-row blocks, K = 2, 8 and 16) on an Intel
/// Xeon (family 6, model 207), 1 thread: against Estrin, 6 to 7 % less
/// time with AVX-512 and 0 to 2 % less with AVX2; against plain Horner,
/// within 3 % with AVX-512 and 4 to 7 % less with AVX2. Over [-707, 0] `e^x`'s
/// relative error is at most 1 `f64::EPSILON` and 0.19 on average (Estrin:
/// 2 and 0.30; plain Horner: 1 and 0.04).
#[inline(always)]
fn horner_pairs<V: Lanes, const N: usize>(x: V, c: &[f64; N]) -> V {
    const { assert!(N > 0, "a polynomial has a coefficient") };
    let x2 = x.mul(x);
    let pair = |i: usize| {
        if 2 * i + 1 < N {
            V::splat(c[2 * i + 1]).mul_add(x, V::splat(c[2 * i]))
        } else {
            V::splat(c[2 * i])
        }
    };
    let last = N.div_ceil(2) - 1;
    let mut p = pair(last);
    for i in (0..last).rev() {
        p = p.mul_add(x2, pair(i));
    }
    p
}

/// Portable lanes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Scalar4([f64; 4]);

impl Scalar4 {
    /// The first lane.
    pub(crate) fn first(self) -> f64 {
        self.0[0]
    }
}

impl Lanes for Scalar4 {
    const N: usize = 4;

    #[inline(always)]
    fn splat(v: f64) -> Self {
        Scalar4([v; 4])
    }
    #[inline(always)]
    unsafe fn loadp(p: *const f64) -> Self {
        // SAFETY: the caller guarantees four readable values.
        unsafe { Scalar4([*p, *p.add(1), *p.add(2), *p.add(3)]) }
    }
    #[inline(always)]
    unsafe fn storep(self, p: *mut f64) {
        // SAFETY: the caller guarantees four writable values.
        unsafe { std::ptr::copy_nonoverlapping(self.0.as_ptr(), p, 4) }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Scalar4(std::array::from_fn(|i| self.0[i] + o.0[i]))
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Scalar4(std::array::from_fn(|i| self.0[i] - o.0[i]))
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Scalar4(std::array::from_fn(|i| self.0[i] * o.0[i]))
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        Scalar4(std::array::from_fn(|i| self.0[i].mul_add(b.0[i], c.0[i])))
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        Scalar4(std::array::from_fn(|i| self.0[i] / o.0[i]))
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        // As maxpd: the second operand when either is NaN or they are equal.
        Scalar4(std::array::from_fn(|i| {
            if self.0[i] > o.0[i] {
                self.0[i]
            } else {
                o.0[i]
            }
        }))
    }
    #[cfg(test)]
    fn to_vec(self) -> Vec<f64> {
        self.0.to_vec()
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        Scalar4(std::array::from_fn(|i| {
            f64::from_bits(((self.0[i] as i64 + 1023) as u64) << 52)
        }))
    }
    #[inline(always)]
    fn replace_below(self, t: f64, v: Self, x: Self) -> Self {
        Scalar4(std::array::from_fn(|i| {
            if self.0[i] < t { v.0[i] } else { x.0[i] }
        }))
    }
    #[inline(always)]
    fn replace_above(self, t: f64, v: Self, x: Self) -> Self {
        Scalar4(std::array::from_fn(|i| {
            if self.0[i] > t { v.0[i] } else { x.0[i] }
        }))
    }
    #[inline(always)]
    fn all_finite(self) -> bool {
        self.0.iter().all(|v| v.is_finite())
    }
    #[inline(always)]
    fn split_exponent(self) -> (Self, Self) {
        let e = self
            .0
            .map(|v| ((v.to_bits() >> 52) & 0x7ff) as f64 - 1023.0);
        let m = self
            .0
            .map(|v| f64::from_bits((v.to_bits() & ((1u64 << 52) - 1)) | 0x3ff0_0000_0000_0000));
        (Scalar4(e), Scalar4(m))
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx2::Avx2;

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// AVX2 lanes. Only used inside functions compiled with
    /// `#[target_feature(enable = "avx2,fma")]`, called after the features
    /// were detected.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Avx2(__m256d);

    impl Lanes for Avx2 {
        const N: usize = 4;

        #[inline(always)]
        fn splat(v: f64) -> Self {
            unsafe { Avx2(_mm256_set1_pd(v)) }
        }
        #[inline(always)]
        unsafe fn loadp(p: *const f64) -> Self {
            // SAFETY: the caller guarantees four readable values.
            unsafe { Avx2(_mm256_loadu_pd(p)) }
        }
        #[inline(always)]
        unsafe fn storep(self, p: *mut f64) {
            // SAFETY: the caller guarantees four writable values.
            unsafe { _mm256_storeu_pd(p, self.0) }
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            unsafe { Avx2(_mm256_add_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            unsafe { Avx2(_mm256_sub_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            unsafe { Avx2(_mm256_mul_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Avx2(_mm256_fmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            unsafe { Avx2(_mm256_div_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            unsafe { Avx2(_mm256_max_pd(self.0, o.0)) }
        }
        #[cfg(test)]
        fn to_vec(self) -> Vec<f64> {
            let mut out = [0.0; 4];
            unsafe { _mm256_storeu_pd(out.as_mut_ptr(), self.0) };
            out.to_vec()
        }
        #[inline(always)]
        fn pow2i(self) -> Self {
            unsafe {
                // n + 2^52 + 1023 puts n + 1023 in the low mantissa bits.
                let magic = _mm256_set1_pd(4_503_599_627_370_496.0 + 1023.0);
                let bits = _mm256_castpd_si256(_mm256_add_pd(self.0, magic));
                Avx2(_mm256_castsi256_pd(_mm256_slli_epi64::<52>(bits)))
            }
        }
        #[inline(always)]
        fn replace_below(self, t: f64, v: Self, x: Self) -> Self {
            unsafe {
                let mask = _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, _mm256_set1_pd(t));
                Avx2(_mm256_blendv_pd(x.0, v.0, mask))
            }
        }
        #[inline(always)]
        fn replace_above(self, t: f64, v: Self, x: Self) -> Self {
            unsafe {
                let mask = _mm256_cmp_pd::<_CMP_GT_OQ>(self.0, _mm256_set1_pd(t));
                Avx2(_mm256_blendv_pd(x.0, v.0, mask))
            }
        }
        #[inline(always)]
        fn all_finite(self) -> bool {
            unsafe {
                // x - x is 0 for finite lanes and NaN otherwise.
                let z = _mm256_sub_pd(self.0, self.0);
                let ok = _mm256_cmp_pd::<_CMP_EQ_OQ>(z, _mm256_setzero_pd());
                _mm256_movemask_pd(ok) == 0b1111
            }
        }
        #[inline(always)]
        fn split_exponent(self) -> (Self, Self) {
            unsafe {
                let bits = _mm256_castpd_si256(self.0);
                // The biased exponent as the low bits of 2^52 + e_biased.
                let eb = _mm256_or_si256(
                    _mm256_srli_epi64::<52>(bits),
                    _mm256_set1_epi64x(0x4330_0000_0000_0000),
                );
                let e = _mm256_sub_pd(
                    _mm256_castsi256_pd(eb),
                    _mm256_set1_pd(4_503_599_627_370_496.0 + 1023.0),
                );
                let mant = _mm256_and_si256(bits, _mm256_set1_epi64x(((1u64 << 52) - 1) as i64));
                let m = _mm256_or_si256(mant, _mm256_set1_epi64x(0x3ff0_0000_0000_0000));
                (Avx2(e), Avx2(_mm256_castsi256_pd(m)))
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx512::Avx512;

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// AVX-512 lanes: eight rows per register. Only used inside functions
    /// compiled with `#[target_feature(enable = "avx512f,avx2,fma")]`,
    /// called after the features were detected. Every operation is the same
    /// IEEE operation as [`super::Avx2`]'s on each lane, so the two give the
    /// same bits.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Avx512(__m512d);

    impl Lanes for Avx512 {
        const N: usize = 8;

        #[inline(always)]
        fn splat(v: f64) -> Self {
            unsafe { Avx512(_mm512_set1_pd(v)) }
        }
        #[inline(always)]
        unsafe fn loadp(p: *const f64) -> Self {
            // SAFETY: the caller guarantees eight readable values.
            unsafe { Avx512(_mm512_loadu_pd(p)) }
        }
        #[inline(always)]
        unsafe fn storep(self, p: *mut f64) {
            // SAFETY: the caller guarantees eight writable values.
            unsafe { _mm512_storeu_pd(p, self.0) }
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            unsafe { Avx512(_mm512_add_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            unsafe { Avx512(_mm512_sub_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            unsafe { Avx512(_mm512_mul_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Avx512(_mm512_fmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            unsafe { Avx512(_mm512_div_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            unsafe { Avx512(_mm512_max_pd(self.0, o.0)) }
        }
        #[cfg(test)]
        fn to_vec(self) -> Vec<f64> {
            let mut out = [0.0; 8];
            unsafe { _mm512_storeu_pd(out.as_mut_ptr(), self.0) };
            out.to_vec()
        }
        #[inline(always)]
        fn pow2i(self) -> Self {
            unsafe {
                // n + 2^52 + 1023 puts n + 1023 in the low mantissa bits.
                let magic = _mm512_set1_pd(4_503_599_627_370_496.0 + 1023.0);
                let bits = _mm512_castpd_si512(_mm512_add_pd(self.0, magic));
                Avx512(_mm512_castsi512_pd(_mm512_slli_epi64::<52>(bits)))
            }
        }
        #[inline(always)]
        fn mul_pow2_or_zero(self, n: Self, x: Self, t: f64) -> Self {
            unsafe {
                // The lanes to keep: x >= t, or NaN (as `replace_below`).
                let keep = _mm512_cmp_pd_mask::<_CMP_NLT_UQ>(x.0, _mm512_set1_pd(t));
                // self * 2^floor(n), rounded once: for the integer n of
                // `exp` (where 2^n and the product are normal numbers), the
                // bits of `self * pow2i(n)`.
                Avx512(_mm512_maskz_scalef_pd(keep, self.0, n.0))
            }
        }
        #[inline(always)]
        fn replace_below(self, t: f64, v: Self, x: Self) -> Self {
            unsafe {
                let mask = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, _mm512_set1_pd(t));
                Avx512(_mm512_mask_blend_pd(mask, x.0, v.0))
            }
        }
        #[inline(always)]
        fn replace_above(self, t: f64, v: Self, x: Self) -> Self {
            unsafe {
                let mask = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(self.0, _mm512_set1_pd(t));
                Avx512(_mm512_mask_blend_pd(mask, x.0, v.0))
            }
        }
        #[inline(always)]
        fn all_finite(self) -> bool {
            unsafe {
                // x - x is 0 for finite lanes and NaN otherwise.
                let z = _mm512_sub_pd(self.0, self.0);
                _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(z, _mm512_setzero_pd()) == 0xff
            }
        }
        #[inline(always)]
        fn split_exponent(self) -> (Self, Self) {
            unsafe {
                let bits = _mm512_castpd_si512(self.0);
                // The biased exponent as the low bits of 2^52 + e_biased.
                let eb = _mm512_or_si512(
                    _mm512_srli_epi64::<52>(bits),
                    _mm512_set1_epi64(0x4330_0000_0000_0000),
                );
                let e = _mm512_sub_pd(
                    _mm512_castsi512_pd(eb),
                    _mm512_set1_pd(4_503_599_627_370_496.0 + 1023.0),
                );
                let mant = _mm512_and_si512(bits, _mm512_set1_epi64(((1u64 << 52) - 1) as i64));
                let m = _mm512_or_si512(mant, _mm512_set1_epi64(0x3ff0_0000_0000_0000));
                (Avx512(e), Avx512(_mm512_castsi512_pd(m)))
            }
        }
    }
}

/// Which lanes implementation this processor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512 for every kernel.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// Detected once. `GMM_SIMD=scalar` or `GMM_SIMD=avx2` caps the level (for
/// comparisons; results are the same bits at every level). Other values are
/// the front ends' to refuse (the command line does); here they cap nothing.
pub(crate) fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = std::env::var("GMM_SIMD").unwrap_or_default();
        if cap == "scalar" {
            return Level::Scalar;
        }
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            if cap != "avx2" && is_x86_feature_detected!("avx512f") {
                return Level::Avx512;
            }
            return Level::Avx2;
        }
        Level::Scalar
    })
}

/// Whether the kernels run at AVX-512 ([`Level::Avx512`]): eight rows to a
/// register and 32 registers. Always false off x86-64, where that level
/// does not exist.
pub(crate) fn wide_registers() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        level() == Level::Avx512
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp_scalar(x: f64) -> f64 {
        Scalar4::splat(x).exp().to_vec()[0]
    }

    #[test]
    fn horner_pairs_sums_every_term_once() {
        // Small integers and powers of two: every partial sum is exact, so
        // the result must equal the plain sum whatever the order.
        fn check<const N: usize>() {
            let c: [f64; N] =
                std::array::from_fn(|i| (3 * i + 1) as f64 * if i % 2 == 0 { 1.0 } else { -1.0 });
            for x in [0.5f64, -2.0, 1.0, 0.0] {
                let want: f64 = c
                    .iter()
                    .enumerate()
                    .map(|(i, ci)| ci * x.powi(i as i32))
                    .sum();
                let got = horner_pairs(Scalar4::splat(x), &c).first();
                assert_eq!(got, want, "N = {N}, x = {x}");
            }
        }
        check::<1>();
        check::<2>();
        check::<3>();
        check::<4>();
        check::<11>();
        check::<14>();
    }

    #[test]
    fn exp_is_accurate_over_the_range_used() {
        // Relative errors in units of `f64::EPSILON`: the worst and the
        // mean over the range the kernels use. Estrin's scheme for the same
        // polynomial gave 2 and 0.30.
        let (mut worst, mut sum, mut count) = (0.0f64, 0.0, 0.0);
        let mut x = -707.0;
        while x <= 0.0 {
            let (got, want) = (exp_scalar(x), x.exp());
            let e = ((got - want) / want).abs() / f64::EPSILON;
            (worst, sum, count) = (worst.max(e), sum + e, count + 1.0);
            x += 0.00731;
        }
        let mean = sum / count;
        for &x in &[1.0, 2.5, 30.0, 700.0, 709.0, -1e-12, 1e-9, 0.0] {
            let (got, want) = (exp_scalar(x), f64::exp(x));
            worst = worst.max(((got - want) / want).abs() / f64::EPSILON);
        }
        assert!(worst <= 1.5, "worst relative error {worst} epsilons");
        assert!(mean < 0.25, "mean relative error {mean} epsilons");
        assert_eq!(exp_scalar(-709.0), 0.0);
        assert_eq!(exp_scalar(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_scalar(0.0), 1.0);
    }

    #[test]
    fn ln_is_accurate() {
        let mut worst: f64 = 0.0;
        let mut x = 1e-300;
        while x < 1e300 {
            for y in [x, x * 1.37, x * std::f64::consts::SQRT_2, x * 1.99] {
                let got = Scalar4::splat(y).ln().to_vec()[0];
                let want = y.ln();
                worst = worst.max((got - want).abs() / want.abs().max(1.0));
            }
            x *= 3.1;
        }
        for y in [1.0, 1.0 + 1e-12, 2.0, 0.5, 1.5, 32.0, 1.000_001] {
            let got = Scalar4::splat(y).ln().to_vec()[0];
            assert!(
                (got - y.ln()).abs() <= 2.0 * f64::EPSILON * y.ln().abs().max(1e-300),
                "{y}: {got} vs {}",
                y.ln()
            );
        }
        assert!(worst < 3.0 * f64::EPSILON, "worst error {worst:e}");
        assert_eq!(Scalar4::splat(1.0).ln().to_vec()[0], 0.0);
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Inputs for `exp` (and, made positive, `ln`) in groups of eight: the
    /// range the kernels use, the clamp's edge and values no row should
    /// bring but a kernel must not mistreat.
    fn inputs() -> Vec<f64> {
        let mut v = vec![
            -708.0,
            -708.0 - 1e-13,
            -707.9,
            // The top of exp's domain (no larger argument is taken).
            709.0,
            f64::NEG_INFINITY,
            f64::NAN,
            0.0,
            -0.0,
            -1e-300,
            f64::MIN_POSITIVE,
            -745.2,
            -1e308,
            0.5 * std::f64::consts::LN_2,
        ];
        let mut x = -720.0;
        while x < 5.0 {
            v.extend([x, x * 0.5, x * 0.25 - 1.0, -x * 1e-3]);
            x += 0.731;
        }
        v.resize(v.len().div_ceil(8) * 8, 1.0);
        v
    }

    /// `exp` and `ln` of every input, `V::N` at a time.
    fn apply<V: Lanes>(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (mut e, mut l) = (Vec::new(), Vec::new());
        for c in x.chunks_exact(V::N) {
            e.extend(V::load(c).exp().to_vec());
            let pos: Vec<f64> = c
                .iter()
                .map(|y| y.abs().exp().clamp(1e-300, 1e300))
                .collect();
            l.extend(V::load(&pos).ln().to_vec());
        }
        (e, l)
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_avx512_lanes_match_scalar_bit_for_bit() {
        let x = inputs();
        let (e, l) = apply::<Scalar4>(&x);
        if !is_x86_feature_detected!("avx512f") {
            eprintln!("this processor has no AVX-512: those lanes are not compared");
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            #[target_feature(enable = "avx2,fma")]
            fn run(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
                apply::<Avx2>(x)
            }
            // SAFETY: the features were detected above.
            let (ea, la) = unsafe { run(&x) };
            assert_eq!(bits(&ea), bits(&e), "exp, AVX2");
            assert_eq!(bits(&la), bits(&l), "ln, AVX2");
        }
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
        {
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn run(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
                apply::<Avx512>(x)
            }
            // SAFETY: as above.
            let (ea, la) = unsafe { run(&x) };
            assert_eq!(bits(&ea), bits(&e), "exp, AVX-512");
            assert_eq!(bits(&la), bits(&l), "ln, AVX-512");
        }
    }
}
