//! The `sift` binary: everything is in the library; see `sift --help`.

// The global allocator's calls into mimalloc are the binary's only unsafe
// code.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// mimalloc: per-thread heaps, and memory freed by another thread goes back
/// to its heap without a lock. With glibc's allocator two workers ran 1.5x
/// one (arena locks, memory handed between cores); see benches/HISTORY.md.
/// Built without transparent huge pages, which more than doubled the
/// resident memory of a run.
///
/// Every mimalloc block is aligned to at least a word, so requests that
/// need no more (nearly all of them) take mimalloc's plain fast path; the
/// aligned entry points, which test the alignment on each call, serve the
/// rest (about 48 against 15 instructions a call, 1.4 allocations a packet).
struct MiMalloc;

/// The alignment every mimalloc block has: its size classes are multiples
/// of a word.
const WORD: usize = std::mem::size_of::<usize>();

// SAFETY: every block comes from mimalloc, with at least the layout's size
// and alignment (a word, or mimalloc's aligned calls for more), and goes
// back to it through `mi_free`, which takes blocks of any alignment.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            // SAFETY: plain allocation of a non-zero size (GlobalAlloc's
            // contract); the block is word-aligned.
            unsafe { mi::mi_malloc(layout.size()).cast() }
        } else {
            // SAFETY: the alignment is a power of two (Layout's invariant).
            unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            // SAFETY: as in `alloc`.
            unsafe { mi::mi_zalloc(layout.size()).cast() }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (GlobalAlloc's contract).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= WORD {
            // SAFETY: `ptr` came from this allocator with `layout`; the new
            // block is word-aligned, as the layout asks.
            unsafe { mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast() }
        } else {
            // SAFETY: as above, keeping the layout's alignment.
            unsafe { mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast() }
        }
    }
}

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() -> std::process::ExitCode {
    sift::cli::main()
}
