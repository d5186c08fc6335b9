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
            let block: *mut u8 = unsafe { mi::mi_malloc(layout.size()).cast() };
            warm_next(block);
            block
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

/// Asks the cache for the block mimalloc will hand out next in `block`'s
/// size class, for writing.
///
/// mimalloc pops a block off its page's free list and, built as here
/// (release, not secure: free lists not encoded), leaves the block's first
/// word as it was: the link to the next free block. Those blocks were
/// mostly freed long before (a flow's state ends after its idle timeout),
/// so that next allocation's own pop read the link from memory: 6 to 10 %
/// of a thread's samples sat on that one load. Prefetched now, it is in
/// the cache by the time a later allocation of the size comes (1.3 a
/// packet, over a dozen sizes). The load and the prefetch are in assembly:
/// the word is uninitialised memory to Rust, and a prefetch of whatever
/// it holds (null, or an address freed since) never faults. Test:
/// `the_first_word_links_the_next_block`.
#[inline(always)]
fn warm_next(block: *mut u8) {
    #[cfg(target_arch = "x86_64")]
    if !block.is_null() {
        // SAFETY: `block` is a live block of at least a word (mimalloc's
        // smallest size class); the assembly only reads that word and
        // prefetches, which touches no state Rust sees.
        unsafe {
            std::arch::asm!(
                "mov {link}, qword ptr [{block}]",
                "prefetchw byte ptr [{link}]",
                block = in(reg) block,
                link = out(reg) _,
                options(nostack, readonly, preserves_flags)
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = block;
}

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() -> std::process::ExitCode {
    sift::cli::main()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first word of a block mimalloc hands out, read as `warm_next`
    /// reads it.
    #[cfg(target_arch = "x86_64")]
    fn first_word(block: *mut c_void) -> usize {
        let word: usize;
        // SAFETY: as in `warm_next`: a read of a live block's first word.
        unsafe {
            std::arch::asm!(
                "mov {word}, qword ptr [{block}]",
                block = in(reg) block,
                word = out(reg) word,
                options(nostack, readonly, preserves_flags)
            );
        }
        word
    }

    /// What `warm_next` prefetches, the link mimalloc leaves in a popped
    /// block, is the block the next allocation of the size gets, nearly
    /// always (1,758 to 1,998 of 1,999 here; not where a page's free list
    /// ends). Should a new mimalloc encode or clear it, this fails and the
    /// prefetch is dead weight.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_first_word_links_the_next_block() {
        for size in [16usize, 48, 136, 512] {
            // Freed and reused, as a run does: free lists of old blocks.
            for round in 0..3 {
                // SAFETY: plain allocations, each freed once below.
                let fresh: Vec<_> = (0..2000).map(|_| unsafe { mi::mi_malloc(size) }).collect();
                let links: Vec<_> = fresh.iter().map(|&b| first_word(b)).collect();
                let foretold = links
                    .iter()
                    .zip(&fresh[1..])
                    .filter(|(&link, &next)| link == next as usize)
                    .count();
                if round > 0 {
                    assert!(
                        foretold >= 1500,
                        "size {size}: {foretold} of 1999 links foretold the next block"
                    );
                }
                for &b in fresh.iter().rev() {
                    // SAFETY: each block allocated above, freed once.
                    unsafe { mi::mi_free(b) };
                }
            }
        }
    }
}
