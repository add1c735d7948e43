//! Typed views of a mapped cache file.

use std::marker::PhantomData;
use std::sync::Arc;

use memmap2::Mmap;

/// A region of a mapped cache file seen as a slice of `T`; it keeps the
/// mapping alive.
pub(super) struct Region<T> {
    map: Arc<Mmap>,
    offset: usize,
    len: usize,
    _type: PhantomData<fn() -> T>,
}

/// Plain numbers that any bit pattern of their size is a valid value of.
pub(super) trait Plain: Copy + 'static {}
impl Plain for f64 {}
impl Plain for f32 {}
impl Plain for u32 {}
impl Plain for u8 {}

/// `len` values of `T` at byte `offset` of the mapping, borrowed from it.
/// Panics unless they lie inside the mapping, aligned for `T`.
pub(super) fn typed<T: Plain>(map: &Mmap, offset: usize, len: usize) -> &[T] {
    let bytes = len * std::mem::size_of::<T>();
    assert!(offset + bytes <= map.len(), "region inside the file");
    assert!(
        (map.as_ptr() as usize + offset).is_multiple_of(std::mem::align_of::<T>()),
        "region aligned"
    );
    // SAFETY: checked above that the values lie inside the mapping and are
    // aligned for `T`; every bit pattern is a valid `T` (`Plain`); the
    // mapping is read-only and outlives the borrow.
    unsafe { std::slice::from_raw_parts(map.as_ptr().add(offset).cast::<T>(), len) }
}

impl<T: Plain> Region<T> {
    pub(super) fn new(map: &Arc<Mmap>, offset: u64, len: u64) -> Self {
        let (offset, len) = (offset as usize, len as usize);
        typed::<T>(map, offset, len);
        Region {
            map: map.clone(),
            offset,
            len,
            _type: PhantomData,
        }
    }
}

impl<T: Plain> AsRef<[T]> for Region<T> {
    fn as_ref(&self) -> &[T] {
        typed(&self.map, self.offset, self.len)
    }
}
