//! The engine's one hash: the 64-bit finalizer of SplitMix64 ([`mix64`]), a
//! fast bijection whose every output bit depends on every input bit. Every
//! hash of the project is built on it: which rows a sample keeps
//! ([`row_hash`]), the seeds of the random streams, which rows `gmm select`
//! holds out, and the fingerprints of checkpoints and cache files
//! ([`Fingerprint`]).
//!
//! The values of [`row_hash`] and [`splitmix64`] decide which rows and
//! random numbers a fit uses, so they are part of its output: they must
//! never change.
//!
//! ```
//! use gmm_core::hash::{Fingerprint, mix64, row_hash};
//!
//! assert_eq!(mix64(0), 0);
//! assert_ne!(row_hash(42, 0), row_hash(42, 1));
//! let mut a = Fingerprint::new();
//! a.write_u64(1);
//! a.write_bytes(b"columns");
//! assert_ne!(a.finish(), Fingerprint::new().finish());
//! ```

/// The golden-ratio increment of SplitMix64, `2^64 / phi`.
pub const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 finalizer (Stafford's variant 13): a bijection of `u64`
/// with full avalanche. `mix64(0) == 0`, so mix a key with a constant first.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One step of SplitMix64: [`mix64`] of `z + GOLDEN_GAMMA`.
#[inline]
pub fn splitmix64(z: u64) -> u64 {
    mix64(z.wrapping_add(GOLDEN_GAMMA))
}

/// A hash of (seed, row index in the whole table): which rows a sample
/// keeps, the same wherever the row is read (any rank, any chunking).
#[inline]
pub fn row_hash(seed: u64, row: u64) -> u64 {
    splitmix64(splitmix64(seed ^ 0x0005_a3b1_e0f0_0d5e) ^ row)
}

/// A running hash of a sequence of words and byte strings, for
/// fingerprints (of a checkpoint's data, of a cache's sources). Not
/// cryptographic: it tells apart inputs that differ by accident, not by
/// design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint::new()
    }
}

impl Fingerprint {
    pub fn new() -> Self {
        Fingerprint(splitmix64(0x6766_6d2d_6670_0001))
    }

    pub fn write_u64(&mut self, v: u64) {
        self.0 = splitmix64(self.0 ^ v);
    }

    /// The length, then the bytes in little-endian words (the last padded
    /// with zeros).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.write_u64(bytes.len() as u64);
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The fingerprint of one byte string.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut f = Fingerprint::new();
    f.write_bytes(bytes);
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values that decide fits must never change.
    #[test]
    fn row_hash_and_splitmix_keep_their_values() {
        // SplitMix64 from state 0: the published first output.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        let want = {
            // The formula as first written in init.rs.
            fn sm(mut z: u64) -> u64 {
                z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            }
            sm(sm(7 ^ 0x0005_a3b1_e0f0_0d5e) ^ 12345)
        };
        assert_eq!(row_hash(7, 12345), want);
    }

    #[test]
    fn fingerprints_tell_apart_lengths_and_order() {
        let of = |words: &[u64]| {
            let mut f = Fingerprint::new();
            words.iter().for_each(|&w| f.write_u64(w));
            f.finish()
        };
        assert_ne!(of(&[]), of(&[0]));
        assert_ne!(of(&[0]), of(&[0, 0]));
        assert_ne!(of(&[1, 2]), of(&[2, 1]));
        assert_ne!(hash_bytes(b""), hash_bytes(b"\0"));
        assert_ne!(hash_bytes(b"ab"), hash_bytes(b"ba"));
    }
}
