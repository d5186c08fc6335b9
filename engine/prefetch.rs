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
        line::<false>(data.as_ptr().wrapping_add(at));
        at += 64;
    }
}

/// Starts loading the cache line that holds `v`.
#[inline(always)]
pub fn value<T>(v: &T) {
    line::<false>((v as *const T).cast());
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
        line::<true>(first.wrapping_add(at));
        at += 64;
    }
}

/// Asks for the cache line that holds `p`: to be read, or with `WRITE`
/// to be written (the line comes owned, so the stores need not ask).
/// `prefetchw` is written out: the intrinsic's write hint compiles to
/// nothing for the baseline x86-64 target (no `prfchw` feature), while
/// the instruction itself runs on every x86-64 CPU (a no-op on Intel's
/// before Broadwell).
#[inline(always)]
#[allow(unsafe_code)]
fn line<const WRITE: bool>(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch never faults and does not change memory.
        unsafe {
            if WRITE {
                std::arch::asm!(
                    "prefetchw byte ptr [{p}]",
                    p = in(reg) p,
                    options(nostack, readonly, preserves_flags)
                );
            } else {
                _mm_prefetch::<_MM_HINT_T0>(p.cast());
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
