//! The fixed-size header of a cache file, written last and checked first.

use super::CACHE_FORMAT_VERSION;

pub(super) const MAGIC: &[u8; 8] = b"GMMCACHE";
pub(super) const HEADER_LEN: usize = 128;
/// Read back in another byte order, this reads differently.
pub(super) const BYTE_ORDER_CHECK: u32 = 0x0102_0304;
pub(super) const FLAG_WEIGHTS: u64 = 1;
pub(super) const FLAG_LABELS: u64 = 2;
/// The values are `f32` (4 bytes each) rather than `f64`.
pub(super) const FLAG_F32: u64 = 4;
/// The rows carry initial noise flags (a byte each).
pub(super) const FLAG_NOISE_INIT: u64 = 8;

/// The fixed-size start of a cache file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) n_rows: u64,
    pub(super) n_features: u64,
    pub(super) flags: u64,
    pub(super) x_offset: u64,
    pub(super) weights_offset: u64,
    pub(super) labels_offset: u64,
    pub(super) meta_offset: u64,
    pub(super) meta_len: u64,
    pub(super) file_len: u64,
    /// [`checksum`] of everything after the header.
    pub(super) checksum: u64,
    /// Written after `checksum`: a file without the flag reads as one
    /// written before the field existed (zero there).
    pub(super) noise_init_offset: u64,
}

/// A checksum of `bytes`: 1 MiB blocks hashed in parallel, their hashes
/// hashed in order (the same value whatever the thread count).
pub(super) fn checksum(bytes: &[u8]) -> u64 {
    use rayon::prelude::*;
    let blocks: Vec<u64> = bytes
        .par_chunks(1 << 20)
        .map(gmm_core::hash::hash_bytes)
        .collect();
    let mut f = gmm_core::hash::Fingerprint::new();
    for b in blocks {
        f.write_u64(b);
    }
    f.finish()
}

impl Header {
    /// Bytes one value takes.
    pub(super) fn value_bytes(&self) -> u64 {
        if self.flags & FLAG_F32 != 0 { 4 } else { 8 }
    }

    pub(super) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&CACHE_FORMAT_VERSION.to_ne_bytes());
        b[12..16].copy_from_slice(&BYTE_ORDER_CHECK.to_ne_bytes());
        let fields = [
            self.n_rows,
            self.n_features,
            self.flags,
            self.x_offset,
            self.weights_offset,
            self.labels_offset,
            self.meta_offset,
            self.meta_len,
            self.file_len,
            self.checksum,
            self.noise_init_offset,
        ];
        for (i, v) in fields.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    /// Parses and checks a header against the length of its file; `Err`
    /// says what is wrong.
    pub(super) fn parse(b: &[u8], file_len: u64) -> std::result::Result<Header, String> {
        if b.len() < HEADER_LEN || &b[..8] != MAGIC {
            return Err("not a gmm cache file".into());
        }
        let u32_at = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_ne_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let version = u32_at(8);
        if version != CACHE_FORMAT_VERSION {
            return Err(format!(
                "cache format version {version}, this gmm writes version {CACHE_FORMAT_VERSION}"
            ));
        }
        if u32_at(12) != BYTE_ORDER_CHECK {
            return Err("written on a machine of another byte order".into());
        }
        let h = Header {
            n_rows: u64_at(16),
            n_features: u64_at(24),
            flags: u64_at(32),
            x_offset: u64_at(40),
            weights_offset: u64_at(48),
            labels_offset: u64_at(56),
            meta_offset: u64_at(64),
            meta_len: u64_at(72),
            file_len: u64_at(80),
            checksum: u64_at(88),
            noise_init_offset: u64_at(96),
        };
        if h.file_len != file_len {
            return Err(format!(
                "the file holds {file_len} bytes but its header says {}; it is truncated or damaged",
                h.file_len
            ));
        }
        // Every region 8-aligned and inside the file.
        let inside = |offset: u64, len: Option<u64>| {
            offset.is_multiple_of(8)
                && len
                    .and_then(|l| offset.checked_add(l))
                    .is_some_and(|end| end <= file_len)
        };
        let x_len = h
            .n_rows
            .checked_mul(h.n_features)
            .and_then(|v| v.checked_mul(h.value_bytes()));
        let ok = h.n_features > 0
            && h.x_offset >= HEADER_LEN as u64
            && inside(h.x_offset, x_len)
            && (h.flags & FLAG_WEIGHTS == 0 || inside(h.weights_offset, h.n_rows.checked_mul(8)))
            && (h.flags & FLAG_LABELS == 0 || inside(h.labels_offset, h.n_rows.checked_mul(4)))
            && (h.flags & FLAG_NOISE_INIT == 0 || inside(h.noise_init_offset, Some(h.n_rows)))
            && inside(h.meta_offset, Some(h.meta_len));
        if !ok {
            return Err("its header is inconsistent; the file is damaged".into());
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_refuses_damage() {
        let h = Header {
            n_rows: 3,
            n_features: 2,
            flags: FLAG_WEIGHTS | FLAG_LABELS,
            x_offset: 128,
            weights_offset: 176,
            labels_offset: 200,
            meta_offset: 216,
            meta_len: 10,
            file_len: 226,
            checksum: 7,
            noise_init_offset: 0,
        };
        let b = h.to_bytes();
        assert_eq!(Header::parse(&b, 226), Ok(h));
        assert!(Header::parse(&b, 225).unwrap_err().contains("truncated"));
        let mut bad = b;
        bad[0] = b'X';
        assert!(
            Header::parse(&bad, 226)
                .unwrap_err()
                .contains("not a gmm cache")
        );
        let mut old = b;
        old[8..12].copy_from_slice(&99u32.to_ne_bytes());
        assert!(Header::parse(&old, 226).unwrap_err().contains("version 99"));
        let mut swapped = b;
        swapped[12..16].copy_from_slice(&BYTE_ORDER_CHECK.swap_bytes().to_ne_bytes());
        assert!(
            Header::parse(&swapped, 226)
                .unwrap_err()
                .contains("byte order")
        );
        // A region running past the end, or misaligned.
        // f32 values take half the room: 12 rows of f32 fit in the file,
        // 12 of f64 would not.
        let narrow = Header {
            n_rows: 12,
            flags: FLAG_F32,
            ..h
        };
        assert_eq!(Header::parse(&narrow.to_bytes(), 226), Ok(narrow));
        let wide = Header { flags: 0, ..narrow };
        assert!(
            Header::parse(&wide.to_bytes(), 226)
                .unwrap_err()
                .contains("inconsistent")
        );
        let past = Header { n_rows: 30, ..h };
        assert!(
            Header::parse(&past.to_bytes(), 226)
                .unwrap_err()
                .contains("inconsistent")
        );
        let flags = Header {
            flags: FLAG_NOISE_INIT,
            noise_init_offset: 216,
            ..h
        };
        assert_eq!(Header::parse(&flags.to_bytes(), 226), Ok(flags));
        let odd = Header {
            weights_offset: 177,
            ..h
        };
        assert!(
            Header::parse(&odd.to_bytes(), 226)
                .unwrap_err()
                .contains("inconsistent")
        );
    }
}
