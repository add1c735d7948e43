//! The hot loops of a pass, on blocks of rows in lane layout: each feature's
//! values for the block's rows are contiguous, so consecutive rows fill a
//! SIMD register (four or eight) and every formula runs on them at once.
//!
//! For a block and a model: [`log_prob`] writes `ln pi_k + ln N(x | k)` for
//! every component (the E-step's matrix products `(x - mu_k) P_k`, using that
//! `P_k` is upper triangular), [`normalize`] turns them into posterior
//! probabilities with a max-shifted log-sum-exp and vectorized `exp`
//! ([`classification`] then gives a score pass each row's entropy), and
//! [`accumulate`] adds the block's sufficient statistics around the
//! components' centers (rank-k updates of the scatter matrices, lower
//! triangle only, from the differences `x - mu_k` that `log_prob` kept in a
//! fit's pass from 16 features on; with few features, accumulators kept
//! across the rows instead of tiles) to per-lane accumulators that are
//! reduced once per chunk;
//! full covariances give it two blocks at a time up to 8 features on
//! AVX-512 and from 32 features on everywhere ([`blocks_per_scatter`]).
//!
//! Every kernel is written once, generic over [`Lanes`], and compiled for
//! AVX-512 (eight rows to a register), AVX2+FMA (four) and portably. All do
//! the same fused operations in the same order on each row and give
//! bit-identical results. [`accumulate`] sums rows lane by lane into
//! accumulators of [`LANES`] (eight) lanes, one AVX-512 register or two
//! narrower ones: its sums are formed in one order everywhere.

use crate::ahead::Ahead;
use crate::aligned::{AlignedArray, AlignedBuf};
use crate::covariance::CovarianceType;
use crate::prepared::Prepared;
use crate::simd::{Lanes, Level, Scalar4, level, regs_from, wide_registers};
use crate::stats::{Layout, SecondMoment, SufficientStats};
use crate::values::Values;

/// Lanes of the statistics' accumulators ([`LaneStats`]): one AVX-512
/// register, two AVX2 or portable ones, so that every processor forms the
/// same per-lane sums.
pub(crate) const LANES: usize = 8;

/// The sum of [`LANES`] per-lane partial sums, in one fixed tree.
#[inline(always)]
fn sum_lanes(v: &[f64]) -> f64 {
    ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
}

/// Rows that [`normalize`] sends to its row-by-row path together: four on
/// every processor (the AVX2 width it had first), so that the same rows
/// take it everywhere.
const ROW_GROUP: usize = 4;

/// Rows per block. A constant, so that the kernels address every feature of
/// a block at a fixed offset; 64 rows of 16 features and the scatter's
/// scratch (`r (x - mu)`, and `x - mu` unless `log_prob` kept it) fit the
/// L1 cache together; the differences `log_prob` keeps for all components
/// ([`scatters_centred`]) are read back from the second level.
pub(crate) const BLOCK: usize = 64;

/// Up to [`BLOCK`] rows in lane layout, as they are: `xt[j * BLOCK + i] =
/// x_ij`. The kernels subtract each component's mean from the values
/// themselves, so a difference is rounded once, at the scale of the row and
/// the mean (no shift by a common center, which one far outlier would drag
/// away from the other rows). Rows past `rows` are padding, copies of the
/// first row, whose densities are as finite as a real row's (their weight
/// is zero).
#[derive(Debug, Default, Clone)]
pub(crate) struct Block {
    pub rows: usize,
    pub d: usize,
    pub xt: AlignedBuf,
    /// The rows a pass reads after these, which [`log_prob`] and
    /// [`accumulate`] prefetch a share at a time (none after [`Block::load`]).
    pub ahead: Ahead,
    /// Whether [`log_prob`] keeps the differences `x - mu_k` it forms for
    /// a full or tied model in `centred`, for [`accumulate`]'s scatter to
    /// read instead of forming them again ([`scatters_centred`]). Asked
    /// for per block: every load clears it.
    pub keep_centred: bool,
    /// `x_ij - mu_kj` at `(k * d + j) * BLOCK + i`, as [`log_prob`] formed
    /// them, for the means that `centred_for` names.
    centred: AlignedBuf,
    /// The address and length of the means whose differences `centred`
    /// holds; `(0, 0)` for none. Cleared by every load and every
    /// `log_prob`: a pass borrows its models while it runs, so between a
    /// block's `log_prob` and its `accumulate` no other means can sit at
    /// that address.
    centred_for: (usize, usize),
}

impl Block {
    /// Loads the row-major `rows x d` values of `x` (at most [`BLOCK`] rows).
    pub fn load(&mut self, x: Values<'_>, d: usize) {
        let rows = x.len() / d;
        assert!(rows <= BLOCK);
        self.rows = rows;
        self.d = d;
        self.ahead = Ahead::default();
        self.keep_centred = false;
        self.centred_for = (0, 0);
        self.xt.resize(d * BLOCK, 0.0);
        match x {
            Values::F64(x) => transpose_any(x, d, &mut self.xt),
            Values::F32(x) => transpose_any(x, d, &mut self.xt),
        }
        if rows < BLOCK {
            for col in self.xt.chunks_exact_mut(BLOCK) {
                let first = if rows > 0 { col[0] } else { 0.0 };
                col[rows..].fill(first);
            }
        }
    }
}

/// Rows of `x` into the columns of `xt` (`BLOCK` apart), as `f64`; rows in
/// order, so that the data streams in from memory. Few features get a loop
/// of their own, unrolled over the row (a row of two values is as costly to
/// place as the EM work on it otherwise).
/// More features go through registers in tiles of four rows by four
/// features where AVX2 is detected (one value at a time, a transpose is a
/// scattered store per value).
#[inline(always)]
fn transpose_any<T: Widen>(x: &[T], d: usize, xt: &mut [f64]) {
    match d {
        1 => transpose::<T, 1>(x, xt),
        2 => transpose::<T, 2>(x, xt),
        3 => transpose::<T, 3>(x, xt),
        4 => transpose::<T, 4>(x, xt),
        _ => {
            #[cfg(target_arch = "x86_64")]
            if matches!(level(), Level::Avx2 | Level::Avx512) {
                // SAFETY: `level` reports these only when avx2 was detected.
                unsafe { tiles::transpose(x, d, xt) };
                return;
            }
            for (i, xi) in x.chunks_exact(d).enumerate() {
                for (j, &v) in xi.iter().enumerate() {
                    xt[j * BLOCK + i] = v.into();
                }
            }
        }
    }
}

/// The types rows are held in, widened to `f64` exactly.
pub(crate) trait Widen: Copy + Into<f64> {
    /// Four values at `p`, as `f64`.
    ///
    /// # Safety
    /// `p..p+4` must be readable, and AVX available.
    #[cfg(target_arch = "x86_64")]
    unsafe fn load4(p: *const Self) -> std::arch::x86_64::__m256d;
}

impl Widen for f64 {
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load4(p: *const Self) -> std::arch::x86_64::__m256d {
        // SAFETY: forwarded from the caller.
        unsafe { std::arch::x86_64::_mm256_loadu_pd(p) }
    }
}

impl Widen for f32 {
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn load4(p: *const Self) -> std::arch::x86_64::__m256d {
        use std::arch::x86_64::*;
        // SAFETY: forwarded from the caller.
        unsafe { _mm256_cvtps_pd(_mm_loadu_ps(p)) }
    }
}

#[cfg(target_arch = "x86_64")]
mod tiles {
    use std::arch::x86_64::*;

    use super::{BLOCK, Widen};

    /// Rows of `x` (`rows x d`) into the columns of `xt` (`BLOCK` apart):
    /// tiles of four rows by four features are loaded as four registers
    /// and stored as four, transposed in between; the rest one by one.
    #[target_feature(enable = "avx2")]
    pub(super) fn transpose<T: Widen>(x: &[T], d: usize, xt: &mut [f64]) {
        let rows = x.len() / d;
        assert!(rows <= BLOCK && x.len() == rows * d && xt.len() >= d * BLOCK);
        let (tiled_rows, tiled_cols) = (rows / 4 * 4, d / 4 * 4);
        for i in (0..tiled_rows).step_by(4) {
            for j in (0..tiled_cols).step_by(4) {
                // SAFETY: rows `i..i+4 <= rows` and features `j..j+4 <= d`
                // of `x`; `(j + 3) * BLOCK + i + 4 <= d * BLOCK` in `xt`.
                unsafe {
                    let p = x.as_ptr().add(i * d + j);
                    let r0 = T::load4(p);
                    let r1 = T::load4(p.add(d));
                    let r2 = T::load4(p.add(2 * d));
                    let r3 = T::load4(p.add(3 * d));
                    // t0 = [r0_0, r1_0, r0_2, r1_2], t1 = [r0_1, r1_1, r0_3, r1_3], ...
                    let t0 = _mm256_unpacklo_pd(r0, r1);
                    let t1 = _mm256_unpackhi_pd(r0, r1);
                    let t2 = _mm256_unpacklo_pd(r2, r3);
                    let t3 = _mm256_unpackhi_pd(r2, r3);
                    let q = xt.as_mut_ptr().add(j * BLOCK + i);
                    _mm256_storeu_pd(q, _mm256_permute2f128_pd::<0x20>(t0, t2));
                    _mm256_storeu_pd(q.add(BLOCK), _mm256_permute2f128_pd::<0x20>(t1, t3));
                    _mm256_storeu_pd(q.add(2 * BLOCK), _mm256_permute2f128_pd::<0x31>(t0, t2));
                    _mm256_storeu_pd(q.add(3 * BLOCK), _mm256_permute2f128_pd::<0x31>(t1, t3));
                }
            }
            for j in tiled_cols..d {
                for a in i..i + 4 {
                    xt[j * BLOCK + a] = x[a * d + j].into();
                }
            }
        }
        for a in tiled_rows..rows {
            for j in 0..d {
                xt[j * BLOCK + a] = x[a * d + j].into();
            }
        }
    }
}

#[inline(always)]
fn transpose<T: Widen, const D: usize>(x: &[T], xt: &mut [f64]) {
    assert!(x.len() <= D * BLOCK && xt.len() >= D * BLOCK);
    for (i, xi) in x.chunks_exact(D).enumerate() {
        let xi: &[T; D] = xi.try_into().expect("D values");
        for j in 0..D {
            xt[j * BLOCK + i] = xi[j].into();
        }
    }
}

/// Calls the generic kernel with the lanes of the detected level: AVX-512,
/// AVX2 or portable. Each level's function (the generic kernel inlined
/// into it) starts with [`aligned_frame`].
macro_rules! dispatch {
    ($name:ident, $generic:ident, ($($arg:ident: $ty:ty),*)) => {
        pub(crate) fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn avx512($($arg: $ty),*) {
                    aligned_frame();
                    $generic::<crate::simd::Avx512>($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    aligned_frame();
                    $generic::<crate::simd::Avx2>($($arg),*)
                }
                match level() {
                    // SAFETY: `level` reports Avx512 only when avx512f, avx2
                    // and fma were detected.
                    Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: `level` reports Avx2 only when avx2 and fma
                    // were detected.
                    Level::Avx2 => return unsafe { avx2($($arg),*) },
                    Level::Scalar => {}
                }
            }
            $generic::<Scalar4>($($arg),*)
        }
    };
}

/// Makes the function it is inlined into align its stack frame to 64 bytes
/// (a local of that alignment, which the compiler cannot remove), and with
/// it the slots its vector registers spill to. Spill slots are made while
/// registers are allocated, too late to realign the frame, so without an
/// aligned local they get the stack's 16 bytes and fall wherever the
/// caller's stack leaves them, most 64-byte ones across two cache lines:
/// `accumulate`'s moments kept in registers spill from d = 7 on AVX-512,
/// and with unaligned slots a fit at 1M x 8, K = 8, full covariances took
/// 16 % more per iteration, and 36 % more after a change elsewhere in the
/// function moved them (Intel Xeon, family 6, model 207, 1 thread).
#[inline(always)]
fn aligned_frame() {
    std::hint::black_box(&mut AlignedArray::<LANES>::default());
}

dispatch!(log_prob, log_prob_generic, (m: &Prepared, b: &mut Block, lp: &mut [f64]));
dispatch!(
    normalize,
    normalize_generic,
    (lp: &mut [f64], k: usize, log_norm: &mut [f64], weights: Option<&[f64]>)
);
dispatch!(
    objective,
    objective_generic,
    (ew: &[f64], log_norm: &[f64], out: &mut f64)
);
dispatch!(
    accumulate,
    accumulate_generic,
    (
        centers: &[f64],
        blocks: &[(&Block, &[f64])],
        acc: &mut LaneStats,
        scratch: &mut AlignedBuf
    )
);

/// Blocks whose statistics [`accumulate`] takes in one call: two for full
/// second moments where AVX-512 keeps them in registers (up to
/// [`REGISTER_FEATURES`]) and everywhere from [`PAIR_FEATURES`] features
/// on, one otherwise.
///
/// Each tile of a component's scatter accumulators is loaded and stored
/// once per call, a store for every eight multiply-adds of a lane's tile
/// over one block: two blocks per call halve that traffic, at the cost of
/// the second block's rows, `x - mu` and `r (x - mu)` in the first-level
/// cache.
/// Measured on an Intel Xeon (family 6, model 207) with AVX-512, 1 thread,
/// K = 8, two blocks against one per call:
/// - with the tiles: 17 to 19 % slower per iteration at d = 14 and 16
///   (21 % at d = 16, K = 32), 9 % at d = 12, 8 % at d = 20, 5 % at
///   d = 24, even at d = 10 and 28; then 9 to 10 % faster at d = 32 to
///   48 and 25 % at d = 64 (K = 16), where one block's values no longer
///   fit that cache either. Again with the triangular diagonal tiles and
///   aligned frames (d041930): two blocks 25 % slower at d = 16, 8 % at
///   d = 24, 2 to 3 % at d = 10, 12 and 28. (A Zen 5 measured two blocks
///   ahead by 3 to 10 % from d = 2 to 24 with the unaligned buffers of
///   the time; not measured there since.) Again with the differences
///   kept by `log_prob` ([`scatters_centred`]): two blocks 5 % slower at
///   d = 16, 6 % at d = 20 and 4 % at d = 24.
/// - with the moments in registers ([`register_moments`], whose
///   accumulators are loaded and stored once per call too): within the
///   noise at d = 2 and 3, 7 % faster at d = 5 and 16 % at d = 8.
/// - AVX2 (3 x 4 tiles, moments in registers up to d = 4), on a Zen 5:
///   5 % faster at d = 16, but 8 % slower at d = 2 and 12 % at d = 8; the
///   Intel Xeon measured 18 % slower at d = 16 and 15 % faster at d = 64
///   with the tiles of the time.
///
/// Either way every lane adds its rows in the same order: the same bits.
/// (A pooled second moment would not keep its order; it takes one block
/// at a time.)
pub(crate) fn blocks_per_scatter(layout: Layout) -> usize {
    let registers = wide_registers() && layout.d <= REGISTER_FEATURES;
    match layout.second {
        SecondMoment::Full if registers || layout.d >= PAIR_FEATURES => 2,
        _ => 1,
    }
}

/// Whether a fit's pass has [`log_prob`] keep the differences `x - mu` of
/// `m` ([`Block::keep_centred`]) for [`accumulate`]'s tiles to read: for
/// full and tied models from [`CENTRED_FEATURES`] on. Each difference is
/// then formed once per block and component, where `log_prob`'s column
/// tiles formed it again for every tile to its right and the scatter once
/// more; the scatter's centring loop stores only `r (x - mu)`. The values
/// are the same: the same bits.
///
/// Measured on an Intel Xeon (family 6, model 207), 1 thread, K = 8, full,
/// against forming them in each kernel: 4 % less per iteration at d = 16
/// (tied 6 %), 12 % at d = 20, 20 % at d = 24, 17 % at d = 32 (two blocks
/// a call), 6 % at d = 64 (4 % at K = 16, 2 % at d = 16, K = 32); with
/// AVX2 6 % less at d = 16. Fewer features gain nothing (d = 14 within
/// the noise, d = 12 4 % slower on AVX-512, 2 % faster on AVX2), nor do
/// diagonal models, whose kernels do so little per value that the kept
/// values' traffic through the second-level cache costs more than the
/// subtraction (65 % slower at d = 16).
///
/// A block's kept differences take `K * d * BLOCK` values. Past
/// [`CENTRED_VALUES`] (1 MiB, K * d = 2048: d = 64 with K = 32) they are
/// not kept: a second-level cache holds 1 to 2 MiB, and a pair of blocks
/// keeps twice that. Measured up to 512 KiB (d = 64 with K = 16).
pub(crate) fn scatters_centred(m: &Prepared) -> bool {
    matches!(
        m.covariance_type,
        CovarianceType::Full | CovarianceType::Tied
    ) && m.d >= CENTRED_FEATURES
        && m.k * m.d * BLOCK <= CENTRED_VALUES
}

/// See [`scatters_centred`].
const CENTRED_FEATURES: usize = 16;

/// See [`scatters_centred`].
const CENTRED_VALUES: usize = (1 << 20) / size_of::<f64>();

/// What [`Block`] records of the means its kept differences are from.
fn key(means: &[f64]) -> (usize, usize) {
    (means.as_ptr().addr(), means.len())
}

#[cfg(test)]
thread_local! {
    /// Calls of [`accumulate`] on this thread that read kept differences.
    static KEPT_SCATTERS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The calls of [`accumulate`] on this thread that read kept differences
/// since the last call; the count starts again at zero.
#[cfg(test)]
pub(crate) fn take_kept_scatters() -> usize {
    KEPT_SCATTERS.with(|n| n.replace(0))
}

#[cfg(test)]
impl Block {
    /// Whether the block holds the differences from `means` that
    /// [`log_prob`] kept.
    pub fn kept_for(&self, means: &[f64]) -> bool {
        self.centred_for == key(means)
    }
}

/// The most features whose moments AVX-512 keeps in registers across the
/// rows ([`register_moments`]; AVX2 and the portable lanes up to 4): the
/// last of `accumulate_blocks`' register arms.
const REGISTER_FEATURES: usize = 8;

/// See [`blocks_per_scatter`].
const PAIR_FEATURES: usize = 32;

/// The largest scatter tile (rows x columns of accumulators) where
/// registers are 512 bits wide and 32 of them: its 24 accumulators, 4 `z`
/// and a `w` fit them: ten loads for 24 multiply-adds, where 3 x 4 tiles
/// take seven for 12. Against 3 x 4 tiles there, 1 thread, full, on a Zen
/// 5 (AMD EPYC): 8 to 12 % less per iteration at 1M x 16, K = 8, and 11 %
/// less at 200k x 64, K = 16. (4 x 4 and 4 x 5 fall in between.)
const WIDE_TILE: (usize, usize) = (4, 6);

/// `lp[k * BLOCK + i] = ln pi_k + ln N(x_i | k)` for the block's rows.
#[inline(always)]
fn log_prob_generic<V: Lanes>(m: &Prepared, b: &mut Block, lp: &mut [f64]) {
    let d = b.d;
    assert!(d == m.d && b.xt.len() >= d * BLOCK && lp.len() >= m.k * BLOCK);
    assert!(m.means.len() >= m.k * d);
    // Only full and tied log-probabilities form `x - mu` on their own.
    let keep = b.keep_centred
        && matches!(
            m.covariance_type,
            CovarianceType::Full | CovarianceType::Tied
        );
    b.centred_for = (0, 0);
    let zs = if keep {
        b.centred.resize(m.k * d * BLOCK, 0.0);
        b.centred.as_mut_ptr()
    } else {
        std::ptr::null_mut()
    };
    let xt = b.xt.as_ptr();
    // A share of the rows ahead per component: the first half of them
    // (all of them when no `accumulate` follows, `Ahead::alone`).
    let share = b.ahead.share(m.k);
    for k in 0..m.k {
        b.ahead.next(share);
        let mu = &m.means[k * d..(k + 1) * d];
        let c = V::splat(m.log_const[k]);
        let out = lp[k * BLOCK..(k + 1) * BLOCK].as_mut_ptr();
        let half = V::splat(-0.5);
        match m.covariance_type {
            CovarianceType::Full | CovarianceType::Tied => {
                let p = match m.covariance_type {
                    CovarianceType::Full => &m.precision[k * d * d..(k + 1) * d * d],
                    _ => &m.precision[..d * d],
                };
                // SAFETY: `xt` holds `d * BLOCK` values, `out` BLOCK
                // values, and when kept `centred` `K * d * BLOCK`.
                unsafe {
                    if keep {
                        let zc = zs.add(k * d * BLOCK);
                        full_log_prob::<V, true>(xt, zc, d, mu, p, out, half, c);
                    } else {
                        full_log_prob::<V, false>(xt, zs, d, mu, p, out, half, c);
                    }
                }
            }
            CovarianceType::Diag => {
                let p = &m.precision[k * d..(k + 1) * d];
                for v in (0..BLOCK).step_by(GROUPS * V::N) {
                    // SAFETY: `v + GROUPS * N <= BLOCK`, `xt` holds `d *
                    // BLOCK` values and `out` BLOCK values.
                    unsafe {
                        let q = diag_distance::<V, true>(xt.add(v), d, mu, p);
                        store_scaled(out.add(v), q, half, c);
                    }
                }
            }
            CovarianceType::Spherical => {
                let p = m.precision[k];
                let h = V::splat(-0.5 * p * p);
                for v in (0..BLOCK).step_by(GROUPS * V::N) {
                    // SAFETY: as above.
                    unsafe {
                        let q = diag_distance::<V, false>(xt.add(v), d, mu, &[]);
                        store_scaled(out.add(v), q, h, c);
                    }
                }
            }
            _ => unreachable!("prepared models hold a storage"),
        }
    }
    if keep {
        b.centred_for = key(&m.means);
    }
}

/// `out[r] = c + half * ||(x_r - mu) P||^2` for a block's rows `r`, full
/// or tied; with `KEEP`, each difference `x_rj - mu_j` is also stored at
/// `zc[j * BLOCK + r]` ([`mahalanobis`]).
///
/// # Safety
/// `xt` holds `d * BLOCK` values, `out` BLOCK values, and with `KEEP`
/// `zc` has room for `d * BLOCK`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn full_log_prob<V: Lanes, const KEEP: bool>(
    xt: *const f64,
    zc: *mut f64,
    d: usize,
    mu: &[f64],
    p: &[f64],
    out: *mut f64,
    half: V,
    c: V,
) {
    // SAFETY (every branch): the buffers per the caller, and `v + G * N <=
    // BLOCK` in each loop.
    unsafe {
        if d <= 3 || V::N == 8 {
            // Four registers of rows at once: with few columns, to hide the
            // latency (little work per register); on AVX-512, whose 32
            // registers hold the 4 x 4 accumulators, the loaded rows and a
            // broadcast, so that each precision matrix is read twice per
            // block, not four times.
            for v in (0..BLOCK).step_by(4 * V::N) {
                let q = mahalanobis::<V, 4, 4, KEEP>(xt.add(v), zc.wrapping_add(v), d, mu, p);
                store_scaled(out.add(v), q, half, c);
            }
        } else if V::N == 4 && d <= NARROW_COLUMNS {
            // Four registers of rows and two columns: eight accumulators in
            // 16 registers, as below, but twice the independent sums per
            // loaded precision entry.
            for v in (0..BLOCK).step_by(4 * V::N) {
                let q = mahalanobis::<V, 4, 2, KEEP>(xt.add(v), zc.wrapping_add(v), d, mu, p);
                store_scaled(out.add(v), q, half, c);
            }
        } else {
            for v in (0..BLOCK).step_by(2 * V::N) {
                let q = mahalanobis::<V, 2, 4, KEEP>(xt.add(v), zc.wrapping_add(v), d, mu, p);
                store_scaled(out.add(v), q, half, c);
            }
        }
    }
}

/// `out[g * N..(g + 1) * N] = scale * q[g] + c` for each of the `G`
/// registers.
///
/// # Safety
/// `out .. + G * N` must be writable.
#[inline(always)]
unsafe fn store_scaled<V: Lanes, const G: usize>(out: *mut f64, q: [V; G], scale: V, c: V) {
    for (g, q) in q.into_iter().enumerate() {
        // SAFETY: `g * N + N <= G * N`, per the caller.
        unsafe { scale.mul_add(q, c).storep(out.add(g * V::N)) };
    }
}

/// Registers of rows that [`diag_distance`] keeps going at once: four
/// independent sums hide the latency of the fused multiply-adds.
const GROUPS: usize = 4;

/// `sum_j ((x_j - mu_j) p_j)^2` (with `SCALED`; else `sum_j (x_j - mu_j)^2`)
/// for [`GROUPS`] registers of rows at `xt` (feature `j` at `xt + j *
/// BLOCK`). Each row's sum runs over `j` in order, as one register at a time
/// would: the same bits.
///
/// # Safety
/// `xt + j * BLOCK .. + GROUPS * N` must be readable for every `j < d`, and `p`
/// must hold `d` values when `SCALED`.
#[inline(always)]
unsafe fn diag_distance<V: Lanes, const SCALED: bool>(
    xt: *const f64,
    d: usize,
    mu: &[f64],
    p: &[f64],
) -> [V; GROUPS] {
    let mut q = [V::splat(0.0); GROUPS];
    for j in 0..d {
        let m = V::splat(mu[j]);
        let pj = if SCALED { V::splat(p[j]) } else { m };
        for (g, q) in q.iter_mut().enumerate() {
            // SAFETY: `g * N + N <= GROUPS * N`.
            let x = unsafe { V::loadp(xt.add(j * BLOCK + g * V::N)) };
            let t = x.sub(m);
            let t = if SCALED { t.mul(pj) } else { t };
            *q = t.mul_add(t, *q);
        }
    }
    q
}

/// From 4 up to this many features, [`log_prob`]'s full and tied
/// precisions go two columns at a time over four registers of rows where
/// registers hold four lanes (AVX2's sixteen, and the portable lanes), not
/// four columns over two registers. Measured on the AVX2 path
/// (`GMM_SIMD=avx2`) of an Intel Xeon (family 6, model 207; 1 thread, 1M
/// rows, K = 8), a whole iteration took 7, 5, 1 and 4 % less at d = 4, 6,
/// 8 and 10 than with four columns. (The Zen 3 figures first given here,
/// and its finding that d = 12 to 64 are slower with two columns, came
/// from profiles taken while the tiles' row update was left out of line;
/// they were not measured again.)
const NARROW_COLUMNS: usize = 10;

/// `||(x - mu) P||^2` for `G` registers of rows at `xt` (feature `i` at
/// `xt + i * BLOCK`), with `P` upper triangular (row-major): output column
/// `j` needs rows `i <= j` of `P`. Columns go `J` (2 or 4) at a time so
/// that each loaded `x - mu` serves `J` products. Each `y_j` sums over `i`
/// in order and `||y||^2` over `j` in order, whatever `G` and `J`: the
/// same bits.
///
/// Without `KEEP`, each column tile forms the `x_i - mu_i` of its rows
/// again. With `KEEP`, each is formed once, in the tile whose triangle
/// holds row `i` (the first to need it), stored at `zc + i * BLOCK`, and
/// read back there by the tiles to its right.
///
/// # Safety
/// `xt + i * BLOCK .. + G * N` must be readable for every `i < d`, and
/// with `KEEP`, `zc + i * BLOCK .. + G * N` readable and writable.
#[inline(always)]
unsafe fn mahalanobis<V: Lanes, const G: usize, const J: usize, const KEEP: bool>(
    xt: *const f64,
    zc: *mut f64,
    d: usize,
    mu: &[f64],
    p: &[f64],
) -> [V; G] {
    const { assert!(J == 2 || J == 4) };
    assert!(mu.len() >= d && p.len() >= d * d);
    let mut q = [V::splat(0.0); G];
    let mut j0 = 0;
    // SAFETY: forwarded from the caller; `column_tile` reads columns `< d`.
    unsafe {
        while j0 + J <= d {
            column_tile::<V, G, J, KEEP>(xt, zc, d, mu, p, j0, &mut q);
            j0 += J;
        }
        match d - j0 {
            1 => column_tile::<V, G, 1, KEEP>(xt, zc, d, mu, p, j0, &mut q),
            2 => column_tile::<V, G, 2, KEEP>(xt, zc, d, mu, p, j0, &mut q),
            3 => column_tile::<V, G, 3, KEEP>(xt, zc, d, mu, p, j0, &mut q),
            _ => {}
        }
    }
    q
}

/// Adds `sum_j y_j^2` over output columns `j0..j0+J` of `y = (x - mu) P`.
/// Column `j` takes exactly the rows `i <= j` of `P`, whatever the tile:
/// the entries below the diagonal are never read, so a factor holding
/// values there, or an `x - mu` that overflowed, gives every tiling (and
/// so every SIMD level) the same bits.
///
/// # Safety
/// As [`mahalanobis`], with `j0 + J <= d`.
#[inline(always)]
unsafe fn column_tile<V: Lanes, const G: usize, const J: usize, const KEEP: bool>(
    xt: *const f64,
    zc: *mut f64,
    d: usize,
    mu: &[f64],
    p: &[f64],
    j0: usize,
    q: &mut [V; G],
) {
    let mut acc = [[V::splat(0.0); J]; G];
    // SAFETY: `i < d` at every call (reads of `xt` per the caller), and
    // `i * d + j0 + J <= d * d`.
    unsafe {
        for i in 0..j0 {
            add_row::<V, G, J, KEEP>(xt, zc, d, mu, p, j0, i, 0, &mut acc);
        }
        // The tile's own triangle: where each row `i` is first met.
        for t in 0..J {
            add_row::<V, G, J, KEEP>(xt, zc, d, mu, p, j0, j0 + t, t, &mut acc);
        }
    }
    for g in 0..G {
        for jj in 0..J {
            q[g] = acc[g][jj].mul_add(acc[g][jj], q[g]);
        }
    }
}

/// Row `i` of `P` times `x_i - mu_i`, added to the tile's columns `j0 +
/// first..j0 + J`. A function, not a closure: a closure is compiled
/// without the calling kernel's target features, so LLVM may leave it out
/// of line, and every intrinsic in it becomes a call (it did on AVX-512:
/// six times the time of `log_prob`).
///
/// # Safety
/// As [`column_tile`], with `i < d` and `first <= J`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn add_row<V: Lanes, const G: usize, const J: usize, const KEEP: bool>(
    xt: *const f64,
    zc: *mut f64,
    d: usize,
    mu: &[f64],
    p: &[f64],
    j0: usize,
    i: usize,
    first: usize,
    acc: &mut [[V; J]; G],
) {
    // SAFETY: per the caller.
    unsafe {
        let z: [V; G] = if KEEP && i < j0 {
            // Formed and kept in an earlier tile's triangle.
            regs_from(|g| V::loadp(zc.add(i * BLOCK + g * V::N)))
        } else {
            let m = V::splat(*mu.get_unchecked(i));
            let z = regs_from(|g| V::loadp(xt.add(i * BLOCK + g * V::N)).sub(m));
            if KEEP {
                for (g, z) in z.iter().enumerate() {
                    z.storep(zc.add(i * BLOCK + g * V::N));
                }
            }
            z
        };
        let row = p.as_ptr().add(i * d + j0);
        for jj in first..J {
            let pij = V::splat(*row.add(jj));
            for g in 0..G {
                acc[g][jj] = z[g].mul_add(pij, acc[g][jj]);
            }
        }
    }
}

/// Max-shifted log-sum-exp over the `k` components of every row: `lp`
/// (`k x BLOCK`) becomes the posterior probabilities (times the rows'
/// `weights`, when given) and `log_norm[i]` is `ln p(x_i)`.
///
/// In phases over the whole block (maxima, exponentials component by
/// component, then sums): each phase's vectors are independent, so their
/// long dependency chains (the `exp` polynomial, the `ln` division) overlap,
/// where one vector's max, exps, division and `ln` in turn would wait on
/// each other. Every lane sees the same operations in the same order.
///
/// A group of four rows ([`ROW_GROUP`]) with a row that no component gives any
/// density (or with an overflowed value) is normalized row by row instead
/// ([`log_sum_exp_normalize`]): by groups of four whatever the register
/// width, so that which rows take that path, and so every bit of the
/// result, is the same on every processor.
#[inline(always)]
fn normalize_generic<V: Lanes>(
    lp: &mut [f64],
    k: usize,
    log_norm: &mut [f64],
    weights: Option<&[f64]>,
) {
    assert!(lp.len() >= k * BLOCK && log_norm.len() >= BLOCK && k > 0);
    assert!(weights.is_none_or(|w| w.len() >= BLOCK));
    let mut max = AlignedArray::<BLOCK>::default();
    let mut sum = AlignedArray::<BLOCK>::default();
    // The row-by-row results of such groups: (row, posteriors, ln p(x)).
    let mut slow: Vec<(usize, Vec<f64>, f64)> = Vec::new();
    let base = lp.as_mut_ptr();
    // SAFETY (all pointer accesses here): `c * BLOCK + v + N <= k * BLOCK`,
    // and `max`, `sum`, `log_norm` and `weights` hold at least BLOCK values.
    for v in (0..BLOCK).step_by(V::N) {
        // The running maximum as the second operand: `max` returns its
        // second operand where either is NaN, so a NaN in component 0 stays
        // (the row then goes row by row) and a NaN after it is passed over.
        // Every argument of `exp` below is then at most 0, or NaN. (The
        // other way round, a NaN would reset the maximum to the next
        // component's value, and an earlier, larger one would give `exp` an
        // argument past its domain, where the levels' `exp` differ; the
        // row's NaN would still reach all its outputs, but nothing should
        // rest on that.)
        let mut m = unsafe { V::loadp(base.add(v)) };
        for c in 1..k {
            m = unsafe { V::loadp(base.add(c * BLOCK + v)) }.max(m);
        }
        unsafe { m.storep(max.as_mut_ptr().add(v)) };
        if !m.all_finite() {
            for g in (v..v + V::N).step_by(ROW_GROUP) {
                if max[g..g + ROW_GROUP].iter().all(|x| x.is_finite()) {
                    continue;
                }
                for i in g..g + ROW_GROUP {
                    let mut row: Vec<f64> = (0..k).map(|c| lp[c * BLOCK + i]).collect();
                    let ln = log_sum_exp_normalize(&mut row);
                    slow.push((i, row, ln));
                }
            }
        }
    }
    // Every vector goes through the vector path (a lane with no finite
    // maximum computes values that are then replaced, without traps).
    for c in 0..k {
        for v in (0..BLOCK).step_by(V::N) {
            unsafe {
                let p = base.add(c * BLOCK + v);
                let e = V::loadp(p).sub(V::loadp(max.as_ptr().add(v))).exp();
                e.storep(p);
                let s = if c == 0 {
                    V::splat(0.0)
                } else {
                    V::loadp(sum.as_ptr().add(v))
                };
                s.add(e).storep(sum.as_mut_ptr().add(v));
            }
        }
    }
    for v in (0..BLOCK).step_by(V::N) {
        unsafe {
            let s = V::loadp(sum.as_ptr().add(v));
            let m = V::loadp(max.as_ptr().add(v));
            m.add(s.ln()).storep(log_norm.as_mut_ptr().add(v));
            V::splat(1.0).div(s).storep(sum.as_mut_ptr().add(v));
        }
    }
    for c in 0..k {
        for v in (0..BLOCK).step_by(V::N) {
            unsafe {
                let p = base.add(c * BLOCK + v);
                let r = V::loadp(p).mul(V::loadp(sum.as_ptr().add(v)));
                match weights {
                    None => r.storep(p),
                    Some(w) => r.mul(V::loadp(w.as_ptr().add(v))).storep(p),
                }
            }
        }
    }
    for (i, row, ln) in slow {
        log_norm[i] = ln;
        for (c, r) in row.into_iter().enumerate() {
            lp[c * BLOCK + i] = weights.map_or(r, |w| r * w[i]);
        }
    }
}

/// `sum_i ew_i ln p(x_i)` over a block's rows with a positive weight
/// (padding rows have none), into `out`: in [`LANES`] lanes (lane `l` sums
/// rows `l, l + 8, ...` in order, each term a product and then a sum)
/// added in a fixed tree, the same bits on every processor, and no chain
/// of 64 dependent additions per block. In registers, not row by row: at
/// 1M x 2, K = 2 a row's whole iteration is about 17 cycles.
#[inline(always)]
fn objective_generic<V: Lanes>(ew: &[f64], log_norm: &[f64], out: &mut f64) {
    assert!(ew.len() >= BLOCK && log_norm.len() >= BLOCK);
    let mut acc = [V::splat(0.0); 2];
    for g in (0..BLOCK).step_by(LANES) {
        for (r, a) in acc.iter_mut().take(regs::<V>()).enumerate() {
            let i = g + r * V::N;
            // SAFETY: `i + V::N <= BLOCK` values in both.
            let (w, ln) = unsafe {
                (
                    V::loadp(ew.as_ptr().add(i)),
                    V::loadp(log_norm.as_ptr().add(i)),
                )
            };
            // Zero where the weight is not positive (NaN included).
            *a = a.add(w.replace_above(0.0, w.mul(ln), V::splat(0.0)));
        }
    }
    let mut lanes = AlignedArray::<LANES>::default();
    for (r, a) in acc.iter().take(regs::<V>()).enumerate() {
        // SAFETY: `(r + 1) * V::N <= LANES`.
        unsafe { a.storep(lanes.as_mut_ptr().add(r * V::N)) };
    }
    *out = sum_lanes(&lanes[..]);
}

/// Max-shifted log-sum-exp of one row of weighted log-probabilities. On return
/// `row` holds the posterior probabilities, and the result is `ln p(x)`.
pub(crate) fn log_sum_exp_normalize(row: &mut [f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        // No component gives the row any density (or a value overflowed);
        // spread it evenly.
        let u = 1.0 / row.len() as f64;
        row.iter_mut().for_each(|r| *r = u);
        return if max.is_nan() {
            f64::NAN
        } else {
            f64::NEG_INFINITY
        };
    }
    let mut sum = 0.0;
    for r in row.iter_mut() {
        *r = (*r - max).exp();
        sum += *r;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|r| *r *= inv);
    max + sum.ln()
}

/// The classification terms of every row of a block of posteriors `r`
/// (`k x BLOCK`, as [`normalize`] leaves them without weights): the entropy
/// `-sum_k r_k ln r_k` (a zero `r_k` adds nothing) and `ln max_k r_k`, by
/// [`Lanes::ln`]: the same bits on every processor.
#[inline(always)]
fn classification_generic<V: Lanes>(r: &[f64], k: usize, entropy: &mut [f64], ln_top: &mut [f64]) {
    assert!(r.len() >= k * BLOCK && entropy.len() >= BLOCK && ln_top.len() >= BLOCK);
    for v in (0..BLOCK).step_by(V::N) {
        let mut terms = Classify::new();
        for c in 0..k {
            // SAFETY: `c * BLOCK + v + N <= k * BLOCK <= r.len()`.
            terms.add(unsafe { V::loadp(r.as_ptr().add(c * BLOCK + v)) });
        }
        let (h, top) = terms.finish();
        // SAFETY: `v + N <= BLOCK`, which both hold (checked above).
        unsafe {
            h.storep(entropy.as_mut_ptr().add(v));
            top.storep(ln_top.as_mut_ptr().add(v));
        }
    }
}

/// `-sum x ln x` and `max x` over posteriors added one register at a time,
/// lane by lane.
struct Classify<V> {
    h: V,
    top: V,
}

impl<V: Lanes> Classify<V> {
    #[inline(always)]
    fn new() -> Self {
        Classify {
            h: V::splat(0.0),
            top: V::splat(0.0),
        }
    }

    #[inline(always)]
    fn add(&mut self, x: V) {
        self.h = self.h.sub(x.mul(ln_or_zero(x)));
        self.top = self.top.max(x);
    }

    /// `(-sum x ln x, ln max x)`.
    #[inline(always)]
    fn finish(self) -> (V, V) {
        (self.h, ln_or_zero(self.top))
    }
}

/// `ln x` for `x > 0`, subnormal lanes included (scaled by `2^54` into the
/// normal range first); 0 for `x <= 0`; unspecified for NaN.
#[inline(always)]
fn ln_or_zero<V: Lanes>(x: V) -> V {
    const SCALE: f64 = (1u64 << 54) as f64;
    let tiny = f64::MIN_POSITIVE;
    // Zero stays zero when scaled: its lanes take ln 1, then 0.
    let scaled = x.replace_below(tiny, x.mul(V::splat(SCALE)), x);
    let shift = x.replace_below(tiny, V::splat(54.0 * std::f64::consts::LN_2), V::splat(0.0));
    let ln = scaled
        .replace_below(tiny, V::splat(1.0), scaled)
        .ln()
        .sub(shift);
    scaled.replace_below(tiny, V::splat(0.0), ln)
}

dispatch!(
    classification,
    classification_generic,
    (r: &[f64], k: usize, entropy: &mut [f64], ln_top: &mut [f64])
);

/// [`classification`] of one row's posteriors (a row with missing entries,
/// integrated out on its own): `(entropy, ln max_k r_k)`, the bits a block's
/// lane gives.
pub(crate) fn classification_row(r: &[f64]) -> (f64, f64) {
    let mut terms = Classify::<Scalar4>::new();
    for &x in r {
        terms.add(Scalar4::splat(x));
    }
    let (h, top) = terms.finish();
    (h.first(), top.first())
}

/// Per-lane partial sums of a chunk's statistics, reduced to
/// [`SufficientStats`] once per chunk.
#[derive(Debug, Clone)]
pub(crate) struct LaneStats {
    pub layout: Layout,
    /// `K x LANES`.
    n: AlignedBuf,
    /// `K x d x LANES`.
    s1: AlignedBuf,
    /// Full: `K x d x d x LANES` (lower triangle used); pooled: `d x d x
    /// LANES`; diag: `K x d x LANES`.
    s2: AlignedBuf,
}

impl LaneStats {
    pub fn zeros(layout: Layout) -> Self {
        let Layout { k, d, .. } = layout;
        LaneStats {
            layout,
            n: AlignedBuf::filled(0.0, k * LANES),
            s1: AlignedBuf::filled(0.0, k * d * LANES),
            s2: AlignedBuf::filled(0.0, Self::second_entries(layout) * LANES),
        }
    }

    /// Entries of the second moments' accumulators (each of [`LANES`]).
    fn second_entries(layout: Layout) -> usize {
        let Layout { k, d, second } = layout;
        match second {
            SecondMoment::Full => k * d * d,
            SecondMoment::Pooled => d * d,
            SecondMoment::Diag => k * d,
        }
    }

    /// Where component `k`'s full or pooled second moment (`d x d` entries)
    /// starts in `s2`: its own, or the one all components share.
    fn scatter_at(&self, k: usize) -> usize {
        let d = self.layout.d;
        match self.layout.second {
            SecondMoment::Full => k * d * d * LANES,
            SecondMoment::Pooled => 0,
            SecondMoment::Diag => unreachable!("diagonal moments have no scatter"),
        }
    }

    /// Sums the lanes (in a fixed order) into `out`, overwriting it, and
    /// leaves them at zero for the next chunk: the one pass over the
    /// accumulators that reads them also clears them (at d = 64, K = 16
    /// they are 4 MiB). The scatter's upper triangle is neither read nor
    /// cleared: no path writes it.
    pub fn drain_into(&mut self, out: &mut SufficientStats) {
        let d = self.layout.d;
        take_each(&mut out.n, &mut self.n);
        take_each(&mut out.s1, &mut self.s1);
        match self.layout.second {
            SecondMoment::Diag => take_each(&mut out.s2, &mut self.s2),
            SecondMoment::Full | SecondMoment::Pooled => {
                for (block, acc) in out
                    .s2
                    .chunks_exact_mut(d * d)
                    .zip(self.s2.chunks_exact_mut(d * d * LANES))
                {
                    for a in 0..d {
                        for b in 0..=a {
                            let v =
                                take_lanes(&mut acc[(a * d + b) * LANES..(a * d + b + 1) * LANES]);
                            block[a * d + b] = v;
                            block[b * d + a] = v;
                        }
                    }
                }
            }
        }
    }
}

/// The lanes' sum ([`sum_lanes`]), the lanes left at zero.
#[inline(always)]
fn take_lanes(v: &mut [f64]) -> f64 {
    let s = sum_lanes(v);
    v.fill(0.0);
    s
}

/// `out[i]` = [`take_lanes`] of the `i`-th group of [`LANES`] in `lanes`.
fn take_each(out: &mut [f64], lanes: &mut [f64]) {
    for (o, v) in out.iter_mut().zip(lanes.chunks_exact_mut(LANES)) {
        *o = take_lanes(v);
    }
}

/// Registers of `V` per accumulator of [`LANES`] lanes: 1 for AVX-512, 2
/// for AVX2 and the portable lanes. Lane `l` of an accumulator sums the
/// block's rows `l, l + LANES, l + 2 LANES, ...` in that order on every
/// processor.
#[inline(always)]
const fn regs<V: Lanes>() -> usize {
    LANES / V::N
}

/// Adds the statistics of `blocks` (in order), each with its
/// responsibilities (`K x BLOCK`, already weighted; zero for padding rows),
/// around the centers (`K x d`).
#[inline(always)]
fn accumulate_generic<V: Lanes>(
    centers: &[f64],
    blocks: &[(&Block, &[f64])],
    acc: &mut LaneStats,
    scratch: &mut AlignedBuf,
) {
    // The count as a constant: one block's loops compile as they would
    // alone. A pooled second moment sums every component's rows of a
    // block before the next block's: one block at a time keeps that order.
    match blocks {
        [one, two] if acc.layout.second != SecondMoment::Pooled => {
            accumulate_blocks::<V, 2>(centers, &[*one, *two], acc, scratch)
        }
        _ => {
            for one in blocks {
                accumulate_blocks::<V, 1>(centers, &[*one], acc, scratch);
            }
        }
    }
}

#[inline(always)]
fn accumulate_blocks<V: Lanes, const NB: usize>(
    centers: &[f64],
    blocks: &[(&Block, &[f64]); NB],
    acc: &mut LaneStats,
    scratch: &mut AlignedBuf,
) {
    const {
        assert!(
            LANES == V::N || LANES == 2 * V::N,
            "one or two registers a lane set"
        )
    };
    let Layout { k: kk, d, second } = acc.layout;
    assert!(centers.len() >= kk * d);
    for (b, r) in blocks {
        assert!(b.d == d && b.xt.len() >= d * BLOCK && r.len() >= kk * BLOCK);
    }
    assert!(acc.n.len() >= kk * LANES && acc.s1.len() >= kk * d * LANES);
    assert!(acc.s2.len() >= LaneStats::second_entries(acc.layout) * LANES);
    // The tiled path's `x - c_k` (unless kept) and `r (x - c_k)` of every
    // block, feature `j`'s rows at `j * stride`, the blocks one after
    // another.
    let stride = NB * BLOCK;
    scratch.resize(2 * d * stride, 0.0);
    let (zs, ws) = scratch.split_at_mut(d * stride);
    let (zs, ws) = (zs.as_mut_ptr(), ws.as_mut_ptr());
    // The second half of the rows ahead of each block, a share per
    // component (`log_prob` asked for the first).
    let shares = blocks.map(|(b, _)| b.ahead.share(kk));
    // Whether `log_prob` kept every block's `x - c_k` for these centers
    // (all `K` components of them).
    let kept = blocks
        .iter()
        .all(|(b, _)| b.centred_for == key(centers) && b.centred.len() >= kk * d * BLOCK);
    if kept {
        #[cfg(test)]
        KEPT_SCATTERS.with(|n| n.set(n.get() + 1));
        // Debug builds check the first and last kept values against the
        // rows and centers (release builds index nothing here).
        if cfg!(debug_assertions) {
            for (b, _) in blocks {
                let (first, last) = (
                    b.xt[0] - centers[0],
                    b.xt[d * BLOCK - 1] - centers[kk * d - 1],
                );
                assert_eq!(b.centred[0].to_bits(), first.to_bits());
                assert_eq!(b.centred[kk * d * BLOCK - 1].to_bits(), last.to_bits());
            }
        }
    }
    for k in 0..kk {
        for ((b, _), &share) in blocks.iter().zip(&shares) {
            b.ahead.next(share);
        }
        let mu = &centers[k * d..(k + 1) * d];
        // SAFETY (pointer accesses in this loop body): every block's
        // responsibilities hold `K x BLOCK` values and its `xt` `d x
        // BLOCK`, `zs` and `ws` hold `d * stride`, the accumulators were
        // sized by the layout (asserted above and in `LaneStats::zeros`),
        // and `v + N <= BLOCK`. Each register of an accumulator (`h`) sums
        // its lanes' rows in order, block after block, as every path of the
        // moments below does.
        unsafe {
            for h in 0..regs::<V>() {
                let np = acc.n.as_mut_ptr().add(k * LANES + h * V::N);
                let mut n = V::loadp(np);
                for (_, r) in blocks {
                    let rk = r.as_ptr().add(k * BLOCK);
                    for v in (h * V::N..BLOCK).step_by(LANES) {
                        n = n.add(V::loadp(rk.add(v)));
                    }
                }
                n.storep(np);
            }
            if second == SecondMoment::Diag {
                for (b, r) in blocks {
                    let (xt, rk) = (b.xt.as_ptr(), r.as_ptr().add(k * BLOCK));
                    // Columns a few at a time: independent sums, one load
                    // of `r` for them all.
                    let mut j0 = 0;
                    while j0 < d {
                        match d - j0 {
                            1 => diag_moments::<V, 1>(xt, rk, mu, j0, d, k, acc),
                            2 => diag_moments::<V, 2>(xt, rk, mu, j0, d, k, acc),
                            3 => diag_moments::<V, 3>(xt, rk, mu, j0, d, k, acc),
                            _ => diag_moments::<V, 4>(xt, rk, mu, j0, d, k, acc),
                        }
                        j0 += 4;
                    }
                }
                continue;
            }
            // Few features: the accumulators kept across the rows
            // (`register_moments`); more: the centring loop and tiles.
            match d {
                1 => register_moments::<V, 1, NB>(blocks, mu, k, acc),
                2 => register_moments::<V, 2, NB>(blocks, mu, k, acc),
                3 => register_moments::<V, 3, NB>(blocks, mu, k, acc),
                4 => register_moments::<V, 4, NB>(blocks, mu, k, acc),
                5 if V::N == LANES => register_moments::<V, 5, NB>(blocks, mu, k, acc),
                6 if V::N == LANES => register_moments::<V, 6, NB>(blocks, mu, k, acc),
                7 if V::N == LANES => register_moments::<V, 7, NB>(blocks, mu, k, acc),
                // The arms of 5 to 7 features end at this one.
                REGISTER_FEATURES if V::N == LANES => {
                    const { assert!(REGISTER_FEATURES == 8) };
                    register_moments::<V, REGISTER_FEATURES, NB>(blocks, mu, k, acc)
                }
                _ => tiled_moments::<V, NB>(blocks, mu, k, acc, zs, ws, kept),
            }
        }
    }
}

/// The first and (full or pooled) second moments of component `k` by the
/// centring loop, which stores `w = r z` of every row (and `z = x - mu`
/// too, unless [`log_prob`] kept it for these centers in every block), and
/// [`scatter_triangle`]'s tiles over them.
///
/// # Safety
/// Every block's `xt` holds `d * BLOCK` values and its responsibilities
/// `(k + 1) * BLOCK`; `zs` and `ws` hold `d * NB * BLOCK` values; `acc` is
/// laid out for `mu.len()` features and at least `k + 1` components;
/// with `kept`, every block's `centred` holds component `k`'s `x - mu`.
#[inline(always)]
unsafe fn tiled_moments<V: Lanes, const NB: usize>(
    blocks: &[(&Block, &[f64]); NB],
    mu: &[f64],
    k: usize,
    acc: &mut LaneStats,
    zs: *mut f64,
    ws: *mut f64,
    kept: bool,
) {
    let d = mu.len();
    let stride = NB * BLOCK;
    // SAFETY: forwarded from the caller; `v + N <= BLOCK`. Each register
    // of an accumulator (`h`) sums its lanes' rows in order, block after
    // block, as in the tiles.
    unsafe {
        // Where block `s`'s `z` of feature `j` are: `z[s] + j * zstride`.
        let (z, zstride): ([*const f64; NB], usize) = if kept {
            (
                std::array::from_fn(|s| blocks[s].0.centred.as_ptr().add(k * d * BLOCK)),
                BLOCK,
            )
        } else {
            (
                std::array::from_fn(|s| zs.add(s * BLOCK).cast_const()),
                stride,
            )
        };
        // w = r z (z = x - c_k formed here, unless kept), with their first
        // moments; z and w kept for the scatter below.
        for j in 0..d {
            let m = V::splat(mu[j]);
            for h in 0..regs::<V>() {
                let s1p = acc.s1.as_mut_ptr().add((k * d + j) * LANES + h * V::N);
                let mut t1 = V::loadp(s1p);
                for (s, (b, r)) in blocks.iter().enumerate() {
                    let (xt, rk) = (b.xt.as_ptr(), r.as_ptr().add(k * BLOCK));
                    for v in (h * V::N..BLOCK).step_by(LANES) {
                        let o = j * stride + s * BLOCK + v;
                        let z = if kept {
                            V::loadp(z[s].add(j * BLOCK + v))
                        } else {
                            let z = V::loadp(xt.add(j * BLOCK + v)).sub(m);
                            z.storep(zs.add(o));
                            z
                        };
                        let wz = V::loadp(rk.add(v)).mul(z);
                        t1 = t1.add(wz);
                        wz.storep(ws.add(o));
                    }
                }
                t1.storep(s1p);
            }
        }
        let at = acc.scatter_at(k);
        let s2 = acc.s2[at..at + d * d * LANES].as_mut_ptr();
        let rows = Rows {
            z,
            zstride,
            w: std::array::from_fn(|s| ws.add(s * BLOCK).cast_const()),
            wstride: stride,
        };
        if V::N == LANES {
            scatter_triangle::<V, { WIDE_TILE.0 }, { WIDE_TILE.1 }, NB>(rows, d, s2)
        } else {
            scatter_triangle::<V, 3, 4, NB>(rows, d, s2)
        }
    }
}

/// The `z` and `w` values of a scatter's rows, `NB` blocks of [`BLOCK`]:
/// block `s`'s values of feature `j` at `z[s] + j * zstride` and `w[s] +
/// j * wstride`.
#[derive(Clone, Copy)]
struct Rows<const NB: usize> {
    z: [*const f64; NB],
    zstride: usize,
    w: [*const f64; NB],
    wstride: usize,
}

/// The lower triangle of a second moment by bands of `AM` rows: the
/// columns left of the band's diagonal block in tiles of up to `AM x BM`
/// accumulators (one register of each at a time), which with the `AM`
/// loaded `z` values and one `w` must fit the registers: 3 x 4 for 16,
/// [`WIDE_TILE`] for AVX-512's 32; then the diagonal block's own lower
/// triangle (a tile that takes 10 of a 4 x 4 tile's 16 products). No
/// product above the diagonal is formed: 136 at d = 16, where 4 x 6
/// tiles running to each band's last column took 160 (3 x 4 ones 151). Each accumulator sums the same rows in the
/// same order whatever the tiles: the same bits.
///
/// # Safety
/// As [`scatter_tile`] for every tile of the triangle.
#[inline(always)]
unsafe fn scatter_triangle<V: Lanes, const AM: usize, const BM: usize, const NB: usize>(
    rows: Rows<NB>,
    d: usize,
    s2: *mut f64,
) {
    // The two shapes whose left tiles the arms below cover.
    const { assert!((AM == 4 && BM == 6) || (AM == 3 && BM == 4)) };
    let mut a0 = 0;
    while a0 < d {
        let an = (d - a0).min(AM);
        // The `a0` columns left of the diagonal block, in as few tiles as
        // `BM` allows, of widths within one of each other (8 columns: two
        // of 4, not 6 and 2; 16: 6, 5 and 5):
        // 4 to 6 columns with the wide tiles (`a0` a multiple of 4), 3 or 4
        // with the narrow ones (of 3).
        let tiles = a0.div_ceil(BM);
        let mut b0 = 0;
        for left in (1..=tiles).rev() {
            let bn = (a0 - b0).div_ceil(left);
            let t = Tile { d, a0, b0 };
            // SAFETY: `a0 + an <= d` and `b0 + bn <= a0 <= d`.
            unsafe {
                match (an, bn) {
                    (1, 3) => scatter_tile::<V, 1, 3, false, NB>(rows, t, s2),
                    (1, 4) => scatter_tile::<V, 1, 4, false, NB>(rows, t, s2),
                    (1, 5) => scatter_tile::<V, 1, 5, false, NB>(rows, t, s2),
                    (1, 6) => scatter_tile::<V, 1, 6, false, NB>(rows, t, s2),
                    (2, 3) => scatter_tile::<V, 2, 3, false, NB>(rows, t, s2),
                    (2, 4) => scatter_tile::<V, 2, 4, false, NB>(rows, t, s2),
                    (2, 5) => scatter_tile::<V, 2, 5, false, NB>(rows, t, s2),
                    (2, 6) => scatter_tile::<V, 2, 6, false, NB>(rows, t, s2),
                    (3, 3) => scatter_tile::<V, 3, 3, false, NB>(rows, t, s2),
                    (3, 4) => scatter_tile::<V, 3, 4, false, NB>(rows, t, s2),
                    (3, 5) => scatter_tile::<V, 3, 5, false, NB>(rows, t, s2),
                    (3, 6) => scatter_tile::<V, 3, 6, false, NB>(rows, t, s2),
                    (4, 4) => scatter_tile::<V, 4, 4, false, NB>(rows, t, s2),
                    (4, 5) => scatter_tile::<V, 4, 5, false, NB>(rows, t, s2),
                    (4, 6) => scatter_tile::<V, 4, 6, false, NB>(rows, t, s2),
                    _ => unreachable!("left tiles are 3 to 6 columns wide"),
                }
            }
            b0 += bn;
        }
        let t = Tile { d, a0, b0: a0 };
        // SAFETY: `a0 + an <= d`.
        unsafe {
            match an {
                1 => scatter_tile::<V, 1, 1, true, NB>(rows, t, s2),
                2 => scatter_tile::<V, 2, 2, true, NB>(rows, t, s2),
                3 => scatter_tile::<V, 3, 3, true, NB>(rows, t, s2),
                4 => scatter_tile::<V, 4, 4, true, NB>(rows, t, s2),
                _ => unreachable!("bands are at most 4 rows"),
            }
        }
        a0 += AM;
    }
}

/// For columns `j0..j0 + J` of component `k`: `s1 += r z` and `s2 += r z^2`
/// per lane, with `z = x - mu`, over the block's rows in order (each sum in
/// the order of one column at a time: the same bits).
///
/// # Safety
/// `xt` holds `d * BLOCK` values, `rk` BLOCK values, `j0 + J <= d`, and
/// `acc` is laid out for diagonal second moments of at least `k + 1`
/// components of `d` columns.
#[inline(always)]
unsafe fn diag_moments<V: Lanes, const J: usize>(
    xt: *const f64,
    rk: *const f64,
    mu: &[f64],
    j0: usize,
    d: usize,
    k: usize,
    acc: &mut LaneStats,
) {
    // SAFETY: forwarded from the caller; `v + h * N + N <= BLOCK`.
    unsafe {
        let m: [V; J] = regs_from(|t| V::splat(mu[j0 + t]));
        // One register of each accumulator at a time (`h`): the rows of
        // its lanes in order, with the fewest registers live.
        for h in 0..regs::<V>() {
            let s1p = acc.s1.as_mut_ptr().add((k * d + j0) * LANES + h * V::N);
            let s2p = acc.s2.as_mut_ptr().add((k * d + j0) * LANES + h * V::N);
            let mut t1: [V; J] = regs_from(|t| V::loadp(s1p.add(t * LANES)));
            let mut t2: [V; J] = regs_from(|t| V::loadp(s2p.add(t * LANES)));
            for v in (h * V::N..BLOCK).step_by(LANES) {
                let r = V::loadp(rk.add(v));
                for t in 0..J {
                    let z = V::loadp(xt.add((j0 + t) * BLOCK + v)).sub(m[t]);
                    let wz = r.mul(z);
                    t1[t] = t1[t].add(wz);
                    t2[t] = wz.mul_add(z, t2[t]);
                }
            }
            for t in 0..J {
                t1[t].storep(s1p.add(t * LANES));
                t2[t].storep(s2p.add(t * LANES));
            }
        }
    }
}

/// The first and (full or pooled) second moments of `D` features in one
/// pass over the blocks' rows, the accumulators of `x - mu` and the lower
/// triangle kept across the rows (in registers, some spilled to the stack
/// from d = 7 on AVX-512): `x - mu` and `r (x - mu)` are never stored,
/// where the centring loop of [`tiled_moments`] stores `r (x - mu)` for
/// its tiles, and `x - mu` too unless `log_prob` kept it.
/// The same operations in the same order per lane as that path: the same
/// bits.
///
/// Used up to 8 features on AVX-512 and up to 4 elsewhere. Against the
/// centring loop and the tiles, 1 thread, K = 8, 1M rows, on an Intel Xeon
/// (family 6, model 207): with AVX-512, 13 to 19 % less per iteration from
/// d = 2 to d = 8 (9 % tied at d = 8), 25 to 35 % more at d = 10 and 12;
/// with AVX2 (16 registers), 12 % less at d = 3, 5 % less at d = 4 and 7 %
/// more at d = 5.
///
/// # Safety
/// Every block's `xt` holds `D * BLOCK` values and its responsibilities
/// `(k + 1) * BLOCK`; `acc` is laid out for full or pooled second moments
/// of `D` features and at least `k + 1` components (asserted in
/// `accumulate_blocks`).
#[inline(always)]
unsafe fn register_moments<V: Lanes, const D: usize, const NB: usize>(
    blocks: &[(&Block, &[f64]); NB],
    mu: &[f64],
    k: usize,
    acc: &mut LaneStats,
) {
    let s2_at = acc.scatter_at(k);
    // SAFETY: forwarded from the caller; `v + N <= BLOCK`.
    unsafe {
        let m: [V; D] = regs_from(|j| V::splat(mu[j]));
        for h in 0..regs::<V>() {
            let s1p = acc.s1.as_mut_ptr().add(k * D * LANES + h * V::N);
            let s2p = acc.s2.as_mut_ptr().add(s2_at + h * V::N);
            let at = |a: usize, b: usize| s2p.add((a * D + b) * LANES);
            let mut t1: [V; D] = regs_from(|j| V::loadp(s1p.add(j * LANES)));
            let mut t2 = [[V::splat(0.0); D]; D];
            for a in 0..D {
                for b in 0..=a {
                    t2[a][b] = V::loadp(at(a, b));
                }
            }
            for (block, resp) in blocks {
                let (xt, rk) = (block.xt.as_ptr(), resp.as_ptr().add(k * BLOCK));
                for v in (h * V::N..BLOCK).step_by(LANES) {
                    let r = V::loadp(rk.add(v));
                    let z: [V; D] = regs_from(|j| V::loadp(xt.add(j * BLOCK + v)).sub(m[j]));
                    let w: [V; D] = regs_from(|j| r.mul(z[j]));
                    for j in 0..D {
                        t1[j] = t1[j].add(w[j]);
                    }
                    for a in 0..D {
                        for b in 0..=a {
                            t2[a][b] = z[a].mul_add(w[b], t2[a][b]);
                        }
                    }
                }
            }
            for j in 0..D {
                t1[j].storep(s1p.add(j * LANES));
            }
            for a in 0..D {
                for b in 0..=a {
                    t2[a][b].storep(at(a, b));
                }
            }
        }
    }
}

/// Where a scatter tile sits: rows `a0..` and columns `b0..` of a `d x d`
/// second moment.
#[derive(Clone, Copy)]
struct Tile {
    d: usize,
    a0: usize,
    b0: usize,
}

/// `S2[a][b] += sum_rows z_a w_b` for `a in a0..a0+A`, `b in b0..b0+B`,
/// per lane, over the rows of every block of `rows` in order; with
/// `LOWER` (a diagonal block: `A == B`, `a0 == b0`), only for `b <= a`.
///
/// # Safety
/// `rows` holds `d` features of [`BLOCK`] values per block, `s2` holds
/// `d * d * LANES`, and `a0 + A <= d`, `b0 + B <= d`.
#[inline(always)]
unsafe fn scatter_tile<
    V: Lanes,
    const A: usize,
    const B: usize,
    const LOWER: bool,
    const NB: usize,
>(
    rows: Rows<NB>,
    t: Tile,
    s2: *mut f64,
) {
    const { assert!(!LOWER || A == B) };
    // `!LOWER || b <= a` below: whether the tile takes entry `(a, b)`,
    // known as it compiles (the loops are unrolled).
    let Tile { d, a0, b0 } = t;
    let Rows {
        z,
        zstride,
        w,
        wstride,
    } = rows;
    // SAFETY: forwarded from the caller; `v + N <= BLOCK`.
    unsafe {
        // One register of each accumulator at a time, as in `diag_moments`.
        for h in 0..regs::<V>() {
            let at = |a: usize, b: usize| s2.add(((a0 + a) * d + b0 + b) * LANES + h * V::N);
            let mut t = [[V::splat(0.0); B]; A];
            for a in 0..A {
                for b in 0..B {
                    if !LOWER || b <= a {
                        t[a][b] = V::loadp(at(a, b));
                    }
                }
            }
            for s in 0..NB {
                let za_base = z[s].add(a0 * zstride);
                let wb_base = w[s].add(b0 * wstride);
                for v in (h * V::N..BLOCK).step_by(LANES) {
                    let za: [V; A] = regs_from(|a| V::loadp(za_base.add(a * zstride + v)));
                    for b in 0..B {
                        let wb = V::loadp(wb_base.add(b * wstride + v));
                        for a in 0..A {
                            if !LOWER || b <= a {
                                t[a][b] = za[a].mul_add(wb, t[a][b]);
                            }
                        }
                    }
                }
            }
            for a in 0..A {
                for b in 0..B {
                    if !LOWER || b <= a {
                        t[a][b].storep(at(a, b));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::Covariances;
    use crate::model::GaussianMixture;
    use crate::prepared::LN_2PI;
    use ndarray::{Array2, array};

    /// `$f::<V>(..)` at every level of lanes this processor has, named: the
    /// portable lanes first, then AVX2 and AVX-512 where detected, each
    /// through a function compiled for that level (as [`dispatch!`]'s), so
    /// that the kernels inline as they do in a fit. `$f` is a generic
    /// function item in scope; each argument is written `name: type =
    /// value`.
    macro_rules! at_every_level {
        ($f:ident($($arg:ident: $ty:ty = $val:expr),* $(,)?) -> $out:ty) => {{
            #[allow(unused_mut)]
            let mut levels: Vec<(&str, $out)> = vec![("portable", $f::<Scalar4>($($val),*))];
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) -> $out {
                    $f::<crate::simd::Avx2>($($arg),*)
                }
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn avx512($($arg: $ty),*) -> $out {
                    $f::<crate::simd::Avx512>($($arg),*)
                }
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    // SAFETY: the features were detected.
                    levels.push(("AVX2", unsafe { avx2($($val),*) }));
                    if is_x86_feature_detected!("avx512f") {
                        // SAFETY: as above.
                        levels.push(("AVX-512", unsafe { avx512($($val),*) }));
                    }
                }
            }
            levels
        }};
    }

    /// Three components on `d` features, with correlations: every tile and
    /// column group of the kernels for small `d`.
    fn model_gen(t: CovarianceType, d: usize) -> GaussianMixture {
        // Diagonally dominant, so positive definite.
        let dense: Vec<Array2<f64>> = (0..3)
            .map(|k| {
                Array2::from_shape_fn((d, d), |(i, j)| {
                    if i == j {
                        1.0 + 0.3 * k as f64 + 0.1 * i as f64
                    } else {
                        0.05 * ((i + j + k) as f64).cos()
                    }
                })
            })
            .collect();
        let means = Array2::from_shape_fn((3, d), |(k, i)| 2.0 * ((i + 2 * k) as f64).sin());
        let w = [0.2, 0.5, 0.3];
        GaussianMixture::new(
            array![0.2, 0.5, 0.3],
            means,
            Covariances::from_dense(t, &dense, &w),
        )
        .unwrap()
    }

    fn model(t: CovarianceType) -> GaussianMixture {
        let dense = [
            array![
                [2.0, 0.5, 0.1, 0.0, 0.2],
                [0.5, 1.0, -0.2, 0.1, 0.0],
                [0.1, -0.2, 0.7, 0.0, 0.1],
                [0.0, 0.1, 0.0, 1.5, -0.3],
                [0.2, 0.0, 0.1, -0.3, 0.9]
            ],
            array![
                [1.0, 0.0, 0.3, 0.0, 0.0],
                [0.0, 0.5, 0.0, 0.0, 0.1],
                [0.3, 0.0, 2.0, 0.2, 0.0],
                [0.0, 0.0, 0.2, 0.8, 0.0],
                [0.0, 0.1, 0.0, 0.0, 1.2]
            ],
            array![
                [0.4, 0.1, 0.0, 0.0, 0.0],
                [0.1, 0.6, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.5, 0.0, 0.0],
                [0.0, 0.0, 0.0, 0.7, 0.1],
                [0.0, 0.0, 0.0, 0.1, 0.3]
            ],
        ];
        let w = [0.2, 0.5, 0.3];
        let means = array![
            [1.0, -1.0, 0.5, 0.0, 2.0],
            [0.0, 2.0, -3.0, 1.0, 0.0],
            [-2.0, 0.0, 0.0, -1.0, 1.0]
        ];
        GaussianMixture::new(
            array![0.2, 0.5, 0.3],
            means,
            Covariances::from_dense(t, &dense, &w),
        )
        .unwrap()
    }

    /// The kernels on lanes `V`, as a fit's pass runs them.
    /// A block of the rows `x`, their log-probabilities under `m`, and
    /// `ln p(x)` and the weighted responsibilities as a fit's pass makes
    /// them (padding rows weigh nothing).
    fn estep<V: Lanes>(m: &Prepared, x: &[f64]) -> (Block, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut b = Block::default();
        b.load(Values::F64(x), m.d);
        let mut lp = vec![0.0; m.k * BLOCK];
        log_prob_generic::<V>(m, &mut b, &mut lp);
        let lp0 = lp.clone();
        let mut ln = vec![0.0; BLOCK];
        let w: Vec<f64> = (0..BLOCK)
            .map(|i| {
                if i < b.rows {
                    0.5 + (i % 3) as f64 * 0.25
                } else {
                    0.0
                }
            })
            .collect();
        normalize_generic::<V>(&mut lp, m.k, &mut ln, Some(&w));
        (b, lp0, ln, lp)
    }

    fn run<V: Lanes>(m: &Prepared, x: &[f64]) -> (Vec<f64>, Vec<f64>, SufficientStats) {
        let (b, lp0, ln, lp) = estep::<V>(m, x);
        let layout = Layout {
            k: m.k,
            d: m.d,
            second: SecondMoment::for_covariance(m.covariance_type),
        };
        let mut acc = LaneStats::zeros(layout);
        accumulate_generic::<V>(&m.means, &[(&b, &lp)], &mut acc, &mut AlignedBuf::default());
        let mut out = SufficientStats::zeros(layout);
        acc.drain_into(&mut out);
        (lp0, ln, out)
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_and_portable_kernels_agree_bit_for_bit() {
        use crate::simd::{Avx2, Avx512};
        #[target_feature(enable = "avx2,fma")]
        fn run_avx2(m: &Prepared, x: &[f64]) -> (Vec<f64>, Vec<f64>, SufficientStats) {
            run::<Avx2>(m, x)
        }
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn run_avx512(m: &Prepared, x: &[f64]) -> (Vec<f64>, Vec<f64>, SufficientStats) {
            run::<Avx512>(m, x)
        }
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        let avx512 = avx2 && is_x86_feature_detected!("avx512f");
        if !avx512 {
            eprintln!("this processor has no AVX-512 (AVX2: {avx2}): those lanes are not compared");
        }
        // Both paths of the second moments, every tile shape of both widths
        // (AVX-512's scatter tiles up to 4 x 6 from d = 9, the others' up
        // to 3 x 4 from d = 5: d = 14, 15, 17 and 19 reach the last
        // shapes), partial and full blocks, far rows
        // whose densities underflow for some components, and (`outlier`) a
        // row 4 no component gives any density: its group of four rows takes
        // the row-by-row path on every processor, the rows of its eight-row
        // register (0..4) do not.
        let cases = (1..=15)
            .chain([17, 19])
            .flat_map(|d| [(d, 23, false), (d, 64, false), (d, 23, true)]);
        for (d, rows, outlier) in cases {
            let mut x: Vec<f64> = (0..rows * d)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) * if i % 17 == 3 { 9.0 } else { 0.05 })
                .collect();
            if outlier {
                x[4 * d] = 1e200;
            }
            for t in CovarianceType::ALL {
                let m = Prepared::new(&model_gen(t, d));
                let s = run::<Scalar4>(&m, &x);
                let mut got = Vec::new();
                if avx2 {
                    // SAFETY: the features were detected above.
                    got.push(("AVX2", unsafe { run_avx2(&m, &x) }));
                }
                if avx512 {
                    // SAFETY: as above.
                    got.push(("AVX-512", unsafe { run_avx512(&m, &x) }));
                }
                for (name, a) in got {
                    assert_eq!(bits(&a.0), bits(&s.0), "{name} {t} d={d} log_prob");
                    assert_eq!(bits(&a.1), bits(&s.1), "{name} {t} d={d} log_norm");
                    // Debug form: the outlier's statistics overflow.
                    assert_eq!(
                        format!("{:?}", a.2),
                        format!("{:?}", s.2),
                        "{name} {t} d={d} stats"
                    );
                }
            }
        }
    }

    /// `log_prob` asks for about half the lines of the rows ahead and
    /// `accumulate` for the rest, one block or two at a time, for every
    /// storage and number of features (three components); the lines asked
    /// for are those of the rows ahead, each once.
    #[test]
    fn a_pass_kernels_ask_for_every_line_ahead() {
        for t in [
            CovarianceType::Full,
            CovarianceType::Diag,
            CovarianceType::Spherical,
            CovarianceType::Tied,
        ] {
            for d in [2, 5, 16, 33] {
                crate::ahead::take_asked();
                let m = Prepared::new(&model_gen(t, d));
                let x: Vec<f64> = (0..4 * BLOCK * d).map(|i| (i % 7) as f64 * 0.3).collect();
                let layout = Layout {
                    k: m.k,
                    d,
                    second: SecondMoment::for_covariance(t),
                };
                let mut blocks = [Block::default(), Block::default()];
                let mut lps = [vec![0.0; m.k * BLOCK], vec![0.0; m.k * BLOCK]];
                let mut want = Vec::new();
                for (s, (b, lp)) in blocks.iter_mut().zip(&mut lps).enumerate() {
                    let next = &x[(s + 2) * BLOCK * d..(s + 3) * BLOCK * d];
                    b.ahead = Ahead::new(Values::F64(next));
                    b.load(Values::F64(&x[s * BLOCK * d..(s + 1) * BLOCK * d]), d);
                    assert_eq!(b.ahead.left(), 0, "none after a load");
                    b.ahead = Ahead::new(Values::F64(next));
                    let lines = b.ahead.left();
                    assert!(lines >= BLOCK * d * 8 / 64);
                    let start = next.as_ptr().addr();
                    want.extend((start / 64 * 64..start + BLOCK * d * 8).step_by(64));
                    log_prob(&m, b, lp);
                    let asked = lines - b.ahead.left();
                    assert!(
                        asked >= lines / 2 && asked < lines,
                        "{t:?} d={d}: {asked} of {lines}"
                    );
                }
                let group = [(&blocks[0], &lps[0][..]), (&blocks[1], &lps[1][..])];
                let mut acc = LaneStats::zeros(layout);
                accumulate(&m.means, &group, &mut acc, &mut AlignedBuf::default());
                for b in &blocks {
                    assert_eq!(b.ahead.left(), 0, "{t:?} d={d}");
                }
                let mut asked = crate::ahead::take_asked();
                asked.sort_unstable();
                want.sort_unstable();
                assert_eq!(asked, want, "{t:?} d={d}");
            }
        }
    }

    /// Every way a block is loaded (few features, tiles of four by four
    /// and their remainders, f64 and f32) places each value where one
    /// value at a time does, and pads with the first row.
    #[test]
    fn block_load_transposes_every_shape() {
        for d in [1, 2, 3, 4, 5, 7, 8, 16, 18] {
            for rows in [64, 23, 4, 3, 1] {
                let x: Vec<f64> = (0..rows * d).map(|i| i as f64 * 0.5 - 3.0).collect();
                let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                for values in [Values::F64(&x), Values::F32(&x32)] {
                    let mut b = Block::default();
                    b.load(values, d);
                    for j in 0..d {
                        for i in 0..BLOCK {
                            let want = if i < rows { x[i * d + j] } else { x[j] };
                            assert_eq!(b.xt[j * BLOCK + i], want, "d={d} rows={rows} ({i}, {j})");
                        }
                    }
                }
            }
        }
    }

    /// The wide tiles cover the lower triangle as the narrow ones do, entry
    /// for entry and bit for bit, on every processor (the portable lanes
    /// run both shapes), and neither writes above the diagonal: d = 1..=20
    /// reaches every tile shape of both.
    #[test]
    fn wide_and_narrow_scatter_tiles_add_the_same_bits() {
        for d in 1..=20 {
            let stride = 2 * BLOCK;
            let val = |i: usize| ((i * 37 % 101) as f64 - 50.0) * 0.03 + 1.0 / (i + 3) as f64;
            let zs: Vec<f64> = (0..d * stride).map(val).collect();
            let ws: Vec<f64> = (0..d * stride).map(|i| val(i + 7) * 0.5).collect();
            let start: Vec<f64> = (0..d * d * LANES).map(|i| val(i + 11)).collect();
            let run = |wide: bool| {
                let mut s2 = start.clone();
                let (z, w, out) = (zs.as_ptr(), ws.as_ptr(), s2.as_mut_ptr());
                // SAFETY: `zs` and `ws` hold `d * stride` values, two
                // blocks' worth of each feature, `s2` `d * d * LANES`.
                unsafe {
                    let rows = Rows::<2> {
                        z: [z, z.add(BLOCK)],
                        zstride: stride,
                        w: [w, w.add(BLOCK)],
                        wstride: stride,
                    };
                    if wide {
                        scatter_triangle::<Scalar4, { WIDE_TILE.0 }, { WIDE_TILE.1 }, 2>(
                            rows, d, out,
                        )
                    } else {
                        scatter_triangle::<Scalar4, 3, 4, 2>(rows, d, out)
                    }
                }
                s2
            };
            let (wide, narrow) = (run(true), run(false));
            for a in 0..d {
                for b in 0..=a {
                    let at = (a * d + b) * LANES;
                    let (x, y) = (&wide[at..at + LANES], &narrow[at..at + LANES]);
                    assert_eq!(bits(x), bits(y), "d={d} entry ({a}, {b})");
                    assert_ne!(bits(x), bits(&start[at..at + LANES]), "d={d} ({a}, {b})");
                }
                for b in a + 1..d {
                    let at = (a * d + b) * LANES;
                    let before = bits(&start[at..at + LANES]);
                    assert_eq!(
                        bits(&wide[at..at + LANES]),
                        before,
                        "d={d} above ({a}, {b})"
                    );
                    assert_eq!(
                        bits(&narrow[at..at + LANES]),
                        before,
                        "d={d} above ({a}, {b})"
                    );
                }
            }
        }
    }

    /// The moments kept across the rows add the same bits as the centring
    /// loop and the tiles, for full and pooled second moments, one block
    /// or two per call, at every `d` the register path takes (portable
    /// lanes, so that a machine without AVX-512 checks the sizes only
    /// AVX-512 uses).
    #[test]
    fn moments_in_registers_add_the_same_bits_as_the_tiles() {
        fn both<const D: usize, const NB: usize>(t: CovarianceType) {
            let m = Prepared::new(&model_gen(t, D));
            let rows = NB * BLOCK - 9;
            let x: Vec<f64> = (0..rows * D)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) * 0.05)
                .collect();
            let blocks: Vec<(Block, Vec<f64>)> = x
                .chunks(BLOCK * D)
                .map(|rows| {
                    let (b, _, _, lp) = estep::<Scalar4>(&m, rows);
                    (b, lp)
                })
                .collect();
            let group: [(&Block, &[f64]); NB] =
                std::array::from_fn(|i| (&blocks[i].0, &blocks[i].1[..]));
            let layout = Layout {
                k: m.k,
                d: D,
                second: SecondMoment::for_covariance(t),
            };
            let mut start = LaneStats::zeros(layout);
            for (i, v) in start.s1.iter_mut().chain(start.s2.iter_mut()).enumerate() {
                *v = ((i * 31 % 17) as f64 - 8.0) * 0.125;
            }
            let (mut regs, mut tiles) = (start.clone(), start.clone());
            let mut scratch = vec![0.0; 2 * D * NB * BLOCK];
            let (zs, ws) = scratch.split_at_mut(D * NB * BLOCK);
            for k in 0..m.k {
                let mu = &m.means[k * D..(k + 1) * D];
                // SAFETY: `NB` blocks of `D` features, `K` components'
                // responsibilities each, accumulators laid out for them,
                // `zs` and `ws` of `D * NB * BLOCK` values.
                unsafe {
                    register_moments::<Scalar4, D, NB>(&group, mu, k, &mut regs);
                    tiled_moments::<Scalar4, NB>(
                        &group,
                        mu,
                        k,
                        &mut tiles,
                        zs.as_mut_ptr(),
                        ws.as_mut_ptr(),
                        false,
                    );
                }
            }
            let case = format!("{t} d={D} blocks={NB}");
            assert_eq!(bits(&regs.s1), bits(&tiles.s1), "{case}");
            assert_ne!(bits(&regs.s1), bits(&start.s1), "{case}");
            let entries = if layout.second == SecondMoment::Full {
                m.k
            } else {
                1
            };
            for e in 0..entries {
                for a in 0..D {
                    for b in 0..=a {
                        let at = ((e * D + a) * D + b) * LANES;
                        let (r, s) = (&regs.s2[at..at + LANES], &tiles.s2[at..at + LANES]);
                        assert_eq!(bits(r), bits(s), "{case} ({e}: {a}, {b})");
                        assert_ne!(bits(r), bits(&start.s2[at..at + LANES]), "{case}");
                    }
                }
            }
        }
        fn each_d<const NB: usize>(t: CovarianceType) {
            both::<1, NB>(t);
            both::<2, NB>(t);
            both::<3, NB>(t);
            both::<4, NB>(t);
            both::<5, NB>(t);
            both::<6, NB>(t);
            both::<7, NB>(t);
            both::<8, NB>(t);
        }
        for t in [CovarianceType::Full, CovarianceType::Tied] {
            each_d::<1>(t);
            each_d::<2>(t);
        }
    }

    /// Two blocks in one call add the same bits as one call per block, and
    /// as the portable lanes, at every level, for every layout (d = 5 and
    /// 33: AVX-512 pairs blocks at both, the other levels from 32 features
    /// on), with a partial second block.
    #[test]
    fn blocks_taken_together_give_the_same_bits_as_one_at_a_time() {
        fn both<V: Lanes>(m: &Prepared, x: &[f64], d: usize) -> (SufficientStats, SufficientStats) {
            let layout = Layout {
                k: m.k,
                d,
                second: SecondMoment::for_covariance(m.covariance_type),
            };
            let blocks: Vec<(Block, Vec<f64>)> = [&x[..BLOCK * d], &x[BLOCK * d..]]
                .into_iter()
                .map(|rows| {
                    let (b, _, _, lp) = estep::<V>(m, rows);
                    (b, lp)
                })
                .collect();
            let pairs: Vec<(&Block, &[f64])> = blocks.iter().map(|(b, lp)| (b, &lp[..])).collect();
            let (mut one, mut two) = (LaneStats::zeros(layout), LaneStats::zeros(layout));
            let mut scratch = AlignedBuf::default();
            for p in &pairs {
                accumulate_generic::<V>(&m.means, std::slice::from_ref(p), &mut one, &mut scratch);
            }
            accumulate_generic::<V>(&m.means, &pairs, &mut two, &mut scratch);
            let (mut a, mut b) = (
                SufficientStats::zeros(layout),
                SufficientStats::zeros(layout),
            );
            one.drain_into(&mut a);
            two.drain_into(&mut b);
            (a, b)
        }
        for d in [5, 33] {
            let rows = BLOCK + 23;
            let x: Vec<f64> = (0..rows * d)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) * 0.05)
                .collect();
            for t in CovarianceType::ALL {
                let m = Prepared::new(&model_gen(t, d));
                let runs = at_every_level!(both(
                    m: &Prepared = &m,
                    x: &[f64] = &x,
                    d: usize = d,
                ) -> (SufficientStats, SufficientStats));
                // One call per block against two blocks in one call, and
                // every level's against the portable lanes'.
                let (_, (_, portable)) = &runs[0];
                for (_, (one, two)) in &runs {
                    for (what, a, b, p) in [
                        ("n", &one.n, &two.n, &portable.n),
                        ("s1", &one.s1, &two.s1, &portable.s1),
                        ("s2", &one.s2, &two.s2, &portable.s2),
                    ] {
                        assert_eq!(bits(a), bits(b), "{t}, d = {d}: {what}");
                        assert_eq!(bits(b), bits(p), "{t}, d = {d}: {what} across levels");
                    }
                }
            }
        }
    }

    /// `log_prob` keeping the differences `x - mu_k` (as a fit's pass has
    /// it for full and tied models from 16 features on) keeps exactly
    /// those values and leaves its log-probabilities as they were; the
    /// scatter reading them adds the same bits as forming them itself, one
    /// block or two at a call, at every level; other centers than the
    /// means `log_prob` used are formed anew, and so are a pair's where one
    /// block kept none.
    #[test]
    fn kept_differences_give_the_same_bits() {
        type Runs = Vec<(Vec<u64>, Vec<u64>)>;
        /// The raw log-probabilities and the statistics (one block at a
        /// call, then two): without and with kept differences, around the
        /// means; then around other centers, with and without; then kept
        /// by the first block only.
        fn runs<V: Lanes>(m: &Prepared, x: &[f64], d: usize) -> Runs {
            let layout = Layout {
                k: m.k,
                d,
                second: SecondMoment::for_covariance(m.covariance_type),
            };
            let other: Vec<f64> = m.means.iter().map(|c| c + 0.25).collect();
            let mut out = Vec::new();
            for (keep, centers) in [
                ([false; 2], &m.means),
                ([true; 2], &m.means),
                ([true; 2], &other),
                ([false; 2], &other),
                ([true, false], &m.means),
            ] {
                let mut blocks = Vec::new();
                let mut raw = Vec::new();
                for (rows, keep) in [&x[..BLOCK * d], &x[BLOCK * d..]].into_iter().zip(keep) {
                    let mut b = Block::default();
                    b.load(Values::F64(rows), d);
                    b.keep_centred = keep;
                    let mut lp = vec![0.0; m.k * BLOCK];
                    log_prob_generic::<V>(m, &mut b, &mut lp);
                    if keep {
                        assert_eq!(b.centred_for, key(&m.means));
                        for k in 0..m.k {
                            for j in 0..d {
                                for i in 0..BLOCK {
                                    let z = b.xt[j * BLOCK + i] - m.means[k * d + j];
                                    let kept = b.centred[(k * d + j) * BLOCK + i];
                                    assert_eq!(kept.to_bits(), z.to_bits(), "k={k} j={j} i={i}");
                                }
                            }
                        }
                    } else {
                        assert_eq!(b.centred_for, (0, 0));
                    }
                    raw.extend_from_slice(&lp);
                    let mut ln = vec![0.0; BLOCK];
                    normalize_generic::<V>(&mut lp, m.k, &mut ln, None);
                    blocks.push((b, lp));
                }
                let pairs: Vec<(&Block, &[f64])> =
                    blocks.iter().map(|(b, lp)| (b, &lp[..])).collect();
                let mut stats = Vec::new();
                let mut scratch = AlignedBuf::default();
                for group in [&pairs[..1], &pairs[1..], &pairs[..]] {
                    let mut acc = LaneStats::zeros(layout);
                    accumulate_generic::<V>(centers, group, &mut acc, &mut scratch);
                    let mut sums = SufficientStats::zeros(layout);
                    acc.drain_into(&mut sums);
                    for v in [&sums.n, &sums.s1, &sums.s2] {
                        stats.extend(bits(v));
                    }
                }
                out.push((bits(&raw), stats));
            }
            out
        }
        for d in [5, 16, 33] {
            let rows = BLOCK + 23;
            let x: Vec<f64> = (0..rows * d)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) * 0.05 + 0.01 / (i + 3) as f64)
                .collect();
            for t in [CovarianceType::Full, CovarianceType::Tied] {
                let m = Prepared::new(&model_gen(t, d));
                let levels: Vec<Runs> = at_every_level!(runs(
                    m: &Prepared = &m,
                    x: &[f64] = &x,
                    d: usize = d,
                ) -> Runs)
                .into_iter()
                .map(|(_, level)| level)
                .collect();
                for (l, level) in levels.iter().enumerate() {
                    for (r, run) in level.iter().enumerate() {
                        let want = &levels[0][if r == 2 || r == 3 { 3 } else { 0 }];
                        assert!(run == want, "{t}, d = {d}: level {l}, run {r}");
                    }
                    assert!(level[0].1 != level[3].1, "{t}, d = {d}: other centers");
                }
            }
        }
    }

    /// The statistics against a direct row-by-row computation.
    #[test]
    fn accumulate_matches_direct_sums() {
        let x: Vec<f64> = (0..13 * 5)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) * 0.05)
            .collect();
        for t in CovarianceType::ALL {
            let m = Prepared::new(&model(t));
            let (_, _, got) = run::<Scalar4>(&m, &x);
            // Direct: responsibilities from the reference log-sum-exp.
            let mut b = Block::default();
            b.load(Values::F64(&x), 5);
            let mut lp = vec![0.0; m.k * BLOCK];
            log_prob_generic::<Scalar4>(&m, &mut b, &mut lp);
            let second = SecondMoment::for_covariance(t);
            let mut want = SufficientStats::zeros(Layout { k: 3, d: 5, second });
            for i in 0..13 {
                let mut row: Vec<f64> = (0..3).map(|k| lp[k * BLOCK + i]).collect();
                log_sum_exp_normalize(&mut row);
                // The weights `run` gives the rows.
                let wi = 0.5 + (i % 3) as f64 * 0.25;
                row.iter_mut().for_each(|r| *r *= wi);
                let xi = &x[i * 5..(i + 1) * 5];
                for k in 0..3 {
                    let z: Vec<f64> = (0..5).map(|j| xi[j] - m.means[k * 5 + j]).collect();
                    want.n[k] += row[k];
                    for a in 0..5 {
                        want.s1[k * 5 + a] += row[k] * z[a];
                        match second {
                            SecondMoment::Diag => want.s2[k * 5 + a] += row[k] * z[a] * z[a],
                            SecondMoment::Full => {
                                for bb in 0..5 {
                                    want.s2[k * 25 + a * 5 + bb] += row[k] * z[a] * z[bb];
                                }
                            }
                            SecondMoment::Pooled => {
                                for bb in 0..5 {
                                    want.s2[a * 5 + bb] += row[k] * z[a] * z[bb];
                                }
                            }
                        }
                    }
                }
            }
            let close = |a: &[f64], b: &[f64], what: &str| {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                        "{t} {what}[{i}]: {x} vs {y}"
                    );
                }
            };
            close(&got.n, &want.n, "n");
            close(&got.s1, &want.s1, "s1");
            close(&got.s2, &want.s2, "s2");
        }
    }

    #[test]
    fn log_sum_exp_is_shift_invariant_and_normalizes() {
        let mut row = [-1000.0, -1001.0, -1002.0];
        let lse = log_sum_exp_normalize(&mut row);
        let want = -1000.0 + (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
        assert!((lse - want).abs() < 1e-12);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!(row[0] > row[1] && row[1] > row[2]);
    }

    /// The Mahalanobis distances by four or two columns at a time, over two
    /// or four registers of rows, give the same bits, and never read below
    /// the factor's diagonal (here filled with other values).
    #[test]
    fn column_tiles_of_two_and_four_give_the_same_bits() {
        for d in 1..=13 {
            let m = Prepared::new(&model_gen(CovarianceType::Full, d));
            let x: Vec<f64> = (0..BLOCK * d)
                .map(|i| ((i * 29 % 97) as f64 - 48.0) * 0.07)
                .collect();
            let mut b = Block::default();
            b.load(Values::F64(&x), d);
            let mu = &m.means[d..2 * d];
            let clean = &m.precision[d * d..2 * d * d];
            let mut p = clean.to_vec();
            for i in 0..d {
                for j in 0..i {
                    assert_eq!(p[i * d + j], 0.0, "the factor is upper triangular");
                    p[i * d + j] = 1.5 + (i * j) as f64;
                }
            }
            let xt = b.xt.as_ptr();
            let none = std::ptr::null_mut();
            let mut kept = [vec![f64::NAN; d * BLOCK], vec![f64::NAN; d * BLOCK]];
            let [z4, z2] = kept.each_mut().map(|z| z.as_mut_ptr());
            for v in (0..BLOCK).step_by(16) {
                // SAFETY: `v + 16 <= BLOCK` rows of `d` features; `kept`
                // has room for `d * BLOCK` values.
                let (four, two, pairs, tidy, keeping) = unsafe {
                    (
                        mahalanobis::<Scalar4, 4, 4, false>(xt.add(v), none, d, mu, &p),
                        mahalanobis::<Scalar4, 4, 2, false>(xt.add(v), none, d, mu, &p),
                        [
                            mahalanobis::<Scalar4, 2, 4, false>(xt.add(v), none, d, mu, &p),
                            mahalanobis::<Scalar4, 2, 4, false>(xt.add(v + 8), none, d, mu, &p),
                        ],
                        mahalanobis::<Scalar4, 4, 4, false>(xt.add(v), none, d, mu, clean),
                        [
                            mahalanobis::<Scalar4, 4, 4, true>(xt.add(v), z4.add(v), d, mu, &p),
                            mahalanobis::<Scalar4, 4, 2, true>(xt.add(v), z2.add(v), d, mu, &p),
                        ],
                    )
                };
                let pairs = [pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1]];
                let all =
                    |q: [Scalar4; 4]| bits(&q.iter().flat_map(|r| r.to_vec()).collect::<Vec<_>>());
                assert_eq!(all(four), all(two), "d={d}: two columns at a time");
                assert_eq!(all(four), all(pairs), "d={d}: two registers of rows");
                assert_eq!(all(four), all(tidy), "d={d}: read below the diagonal");
                for q in keeping {
                    assert_eq!(all(four), all(q), "d={d}: differences kept");
                }
                assert!(all(four).iter().all(|&q| f64::from_bits(q) > 0.0));
            }
            // Every difference kept, by every tiling.
            for z in &kept {
                for (at, &z) in z.iter().enumerate() {
                    let want = b.xt[at] - mu[at / BLOCK];
                    assert_eq!(z.to_bits(), want.to_bits(), "d={d}: kept at {at}");
                }
            }
        }
    }

    /// The entropy and log of the largest posterior of every row of a block:
    /// the same bits on every level and one row at a time, and within a few
    /// units in the last place of the platform's `ln`. Rows of plain
    /// posteriors with zeros, rows of subnormal values only (one whose
    /// largest is the smallest subnormal), and rows of zeros.
    #[test]
    fn classification_terms_match_one_row_at_a_time() {
        type Terms = (Vec<f64>, Vec<f64>);
        fn terms<V: Lanes>(r: &[f64], k: usize) -> Terms {
            let (mut h, mut top) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
            classification_generic::<V>(r, k, &mut h, &mut top);
            (h, top)
        }
        let k = 5;
        let mut r = vec![0.0; k * BLOCK];
        for i in 0..BLOCK {
            let raw: Vec<f64> = (0..k)
                .map(|c| match (i + c) % 7 {
                    0 => 0.0,
                    1 => 1e-310 * (1 + i) as f64,
                    2 => f64::from_bits(1 + i as u64),
                    _ => ((i * 31 + c * 17) % 23 + 1) as f64,
                })
                .collect();
            let total: f64 = raw.iter().sum();
            for c in 0..k {
                r[c * BLOCK + i] = match i % 8 {
                    1 | 5 => raw[c].min(1e-300) * 1e-10, // subnormal or 0
                    2 => 0.0,
                    3 if c == 0 => f64::from_bits(1),
                    3 => 0.0,
                    _ => raw[c] / total,
                };
            }
        }
        let mut levels = at_every_level!(terms(r: &[f64] = &r, k: usize = k) -> Terms);
        let (_, portable) = levels.remove(0);
        levels.push(("dispatched", {
            let (mut h, mut top) = (vec![0.0; BLOCK], vec![0.0; BLOCK]);
            classification(&r, k, &mut h, &mut top);
            (h, top)
        }));
        for (name, (h, top)) in &levels {
            assert_eq!(
                bits(h),
                bits(&portable.0),
                "entropy, {name} against portable"
            );
            assert_eq!(
                bits(top),
                bits(&portable.1),
                "ln max, {name} against portable"
            );
        }
        let (h, top) = portable;
        let near =
            |a: f64, b: f64| (a - b).abs() <= 8.0 * f64::EPSILON * b.abs() + f64::MIN_POSITIVE;
        for i in 0..BLOCK {
            let row: Vec<f64> = (0..k).map(|c| r[c * BLOCK + i]).collect();
            let one = classification_row(&row);
            assert_eq!(
                (one.0.to_bits(), one.1.to_bits()),
                (h[i].to_bits(), top[i].to_bits())
            );
            let (mut want_h, mut want_top) = (0.0, 0.0f64);
            for &x in &row {
                if x > 0.0 {
                    want_h -= x * x.ln();
                }
                want_top = want_top.max(x);
            }
            let want_top = if want_top > 0.0 { want_top.ln() } else { 0.0 };
            assert!(
                near(h[i], want_h),
                "row {i}: entropy {} against {want_h}",
                h[i]
            );
            assert!(
                near(top[i], want_top),
                "row {i}: ln max {} against {want_top}",
                top[i]
            );
        }
        // The rows of zeros and the subnormal ones were there.
        assert!((0..BLOCK).any(|i| h[i] == 0.0 && top[i] == 0.0));
        assert!((0..BLOCK).any(|i| top[i] < f64::MIN_POSITIVE.ln() && h[i] > 0.0));
        assert!((0..BLOCK).any(|i| near(top[i], f64::from_bits(1).ln())));
    }

    /// `normalize` gives every level's bits, and row by row's NaNs, for
    /// rows with NaN or infinite log-densities, which no fit should bring
    /// but a kernel must not mistreat: a NaN in any component, before or
    /// after a finite maximum far above the rest (`[-10, NaN, -1000]`),
    /// rows of NaN, of -inf, of +inf, weighted and not. (Which maximum such
    /// a row gets does not show here: its NaN reaches every output either
    /// way.)
    #[test]
    fn normalize_agrees_on_every_level_with_nan_densities() {
        type Out = (Vec<f64>, Vec<f64>);
        fn norm<V: Lanes>(lp: &[f64], k: usize, w: Option<&[f64]>) -> Out {
            let (mut lp, mut ln) = (lp.to_vec(), vec![0.0; BLOCK]);
            normalize_generic::<V>(&mut lp, k, &mut ln, w);
            (lp, ln)
        }
        let (k, nan, inf) = (3, f64::NAN, f64::INFINITY);
        let special = [
            [-10.0, nan, -1000.0],
            [-1000.0, -10.0, nan],
            [nan, -10.0, -1000.0],
            [-10.0, -1000.0, nan],
            [nan, nan, nan],
            [-inf, -inf, -inf],
            [-inf, -3.0, -inf],
            [inf, -1.0, -2.0],
            [-2.0, -1.0, inf],
        ];
        let mut lp = vec![0.0; k * BLOCK];
        for i in 0..BLOCK {
            let row = match i % 12 {
                s if s < special.len() && i < 48 => special[s],
                _ => [-1.5 - i as f64, -0.25 * i as f64, -3.0 - 0.5 * i as f64],
            };
            for c in 0..k {
                lp[c * BLOCK + i] = row[c];
            }
        }
        let w: Vec<f64> = (0..BLOCK).map(|i| 0.5 + (i % 5) as f64).collect();
        for weights in [None, Some(&w[..])] {
            let mut levels = at_every_level!(norm(
                lp: &[f64] = &lp,
                k: usize = k,
                w: Option<&[f64]> = weights,
            ) -> Out);
            let (_, portable) = levels.remove(0);
            for (name, (p, ln)) in &levels {
                assert_eq!(bits(p), bits(&portable.0), "{name} posteriors");
                assert_eq!(bits(ln), bits(&portable.1), "{name} ln p(x)");
            }
            // As row by row (`log_sum_exp_normalize`): a NaN anywhere makes
            // the row's density NaN, and a row with one finite component
            // gives it all of the row's weight.
            let (p, ln) = &portable;
            for (i, row) in special.iter().enumerate().take(4) {
                let mut r = row.to_vec();
                assert!(log_sum_exp_normalize(&mut r).is_nan(), "row {row:?}");
                assert!(ln[i].is_nan(), "ln p(x) of {row:?}: {}", ln[i]);
            }
            let (i, scale) = (6, weights.map_or(1.0, |w| w[6]));
            assert_eq!((ln[i], p[BLOCK + i]), (-3.0, scale), "[-inf, -3, -inf]");
            assert_eq!((p[i], p[2 * BLOCK + i]), (0.0, 0.0), "[-inf, -3, -inf]");
        }
    }

    /// The objective's lanes: rows `l, l + 8, ...` summed in order in lane
    /// `l`, products rounded before the sum, rows without a positive
    /// weight left out whatever their log-density (padding rows carry
    /// copies; a NaN or infinite one must not reach the sum).
    #[test]
    fn objective_sums_weighted_rows_in_lanes_on_every_level() {
        fn sum<V: Lanes>(ew: &[f64], ln: &[f64]) -> f64 {
            let mut out = f64::NAN;
            objective_generic::<V>(ew, ln, &mut out);
            out
        }
        let ew: Vec<f64> = (0..BLOCK)
            .map(|i| match i % 11 {
                0 => 0.0,
                7 => -0.0,
                _ => 0.1 + (i * 37 % 17) as f64 / 3.0,
            })
            .collect();
        let ln: Vec<f64> = (0..BLOCK)
            .map(|i| match i {
                0 => f64::NAN,
                11 => f64::NEG_INFINITY,
                _ => -((i * 53 % 29) as f64) * 1.37 - 1e-3 * i as f64,
            })
            .collect();
        let mut lanes = [0.0; LANES];
        for (i, (&w, &l)) in ew.iter().zip(&ln).enumerate() {
            if w > 0.0 {
                lanes[i % LANES] += w * l;
            }
        }
        let want = sum_lanes(&lanes);
        let plain: f64 = ew
            .iter()
            .zip(&ln)
            .filter(|(w, _)| **w > 0.0)
            .map(|(w, l)| w * l)
            .sum();
        assert!(
            (want - plain).abs() <= 1e-12 * plain.abs(),
            "{want} against {plain}"
        );
        let mut got = at_every_level!(sum(ew: &[f64] = &ew, ln: &[f64] = &ln) -> f64);
        got.push(("dispatched", {
            let mut out = f64::NAN;
            objective(&ew, &ln, &mut out);
            out
        }));
        for (name, v) in got {
            assert_eq!(v.to_bits(), want.to_bits(), "{name}: {v} against {want}");
        }
    }

    /// The kernels against the density written out, for every covariance type.
    #[test]
    fn kernels_match_closed_form_densities() {
        let dense = [
            array![[2.0, 0.5, 0.1], [0.5, 1.0, -0.2], [0.1, -0.2, 0.7]],
            array![[1.0, 0.0, 0.3], [0.0, 0.5, 0.0], [0.3, 0.0, 2.0]],
        ];
        let means = array![[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]];
        let weights = [0.3, 0.7];
        let rows: Vec<[f64; 3]> = (0..11)
            .map(|i| [i as f64 * 0.3 - 1.0, (i as f64).sin(), 0.1 * i as f64])
            .collect();
        for t in CovarianceType::ALL {
            let cov = Covariances::from_dense(t, &dense, &weights);
            let model = GaussianMixture::new(array![0.3, 0.7], means.clone(), cov.clone()).unwrap();
            let prep = Prepared::new(&model);
            let x: Vec<f64> = rows.iter().flatten().copied().collect();
            let mut block = Block::default();
            block.load(Values::F64(&x), 3);
            let mut lp = vec![0.0; 2 * BLOCK];
            log_prob(&prep, &mut block, &mut lp);
            for (i, xi) in rows.iter().enumerate() {
                for k in 0..2 {
                    let s = cov.dense(k, 3);
                    let want = log_density(&s, &means.row(k).to_vec(), xi) + weights[k].ln();
                    let got = lp[k * BLOCK + i];
                    assert!(
                        (got - want).abs() < 1e-12 * want.abs().max(1.0),
                        "{t} row {i} k {k}: {got} vs {want}"
                    );
                }
            }
            let mut log_norm = vec![0.0; BLOCK];
            normalize(&mut lp, 2, &mut log_norm, None);
            for i in 0..rows.len() {
                assert!((lp[i] + lp[BLOCK + i] - 1.0).abs() < 1e-14);
            }
        }
    }

    /// `ln N(x | mu, S)` by Cholesky, independently of the kernels.
    fn log_density(s: &Array2<f64>, mu: &[f64], x: &[f64]) -> f64 {
        let l = crate::linalg::cholesky_lower(s.view()).unwrap();
        let d = mu.len();
        // Solve L y = x - mu.
        let mut y = vec![0.0; d];
        for i in 0..d {
            let mut v = x[i] - mu[i];
            for j in 0..i {
                v -= l[(i, j)] * y[j];
            }
            y[i] = v / l[(i, i)];
        }
        let m: f64 = y.iter().map(|v| v * v).sum();
        let log_det: f64 = (0..d).map(|i| 2.0 * l[(i, i)].ln()).sum();
        -0.5 * (d as f64 * LN_2PI + log_det + m)
    }
}
