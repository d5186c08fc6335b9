//! Asking the CPU to start loading memory that is about to be read, so
//! that several cache misses overlap instead of following one another.
//! A hint only: it never faults, changes nothing, and does nothing on
//! other architectures than x86-64.

/// Starts loading the cache lines of `data[from..from+len]` (clamped to
/// `data`). Hardware prefetchers stop at 4 KiB page boundaries and
/// capture records sit at irregular strides, so without this every record
/// header is a cache miss.
#[inline(always)]
pub fn bytes(data: &[u8], from: usize, len: usize) {
    let end = from.saturating_add(len).min(data.len());
    let mut at = from;
    while at < end {
        line(data.as_ptr().wrapping_add(at));
        at += 64;
    }
}

/// Starts loading the cache line that holds `v`.
#[inline(always)]
pub fn value<T>(v: &T) {
    line((v as *const T).cast());
}

/// Starts loading, to be written, every cache line of the place `p`
/// points to (a value's place about to be overwritten whole): the writes
/// then find their lines at hand instead of each waiting for its own.
#[inline(always)]
pub fn place_for_writing<T>(p: *const T) {
    let misalign = p as usize & 63;
    let first = p.cast::<u8>().wrapping_sub(misalign);
    let mut at = 0;
    while at < misalign + std::mem::size_of::<T>() {
        line_for_writing(first.wrapping_add(at));
        at += 64;
    }
}

#[inline(always)]
#[allow(unsafe_code)]
fn line_for_writing(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0};
        // SAFETY: a prefetch never faults and does not change memory.
        unsafe { _mm_prefetch::<_MM_HINT_ET0>(p.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[inline(always)]
#[allow(unsafe_code)]
fn line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: callers pass a pointer into a live slice; a prefetch
        // never faults and does not change memory.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
