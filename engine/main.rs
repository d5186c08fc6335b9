//! The `sift` binary: everything is in the library; see `sift --help`.

/// mimalloc: per-thread heaps, and memory freed by another thread goes back
/// to its heap without a lock. With glibc's allocator two workers ran 1.5x
/// one (arena locks, memory handed between cores); see benches/HISTORY.md.
/// Built without transparent huge pages, which more than doubled the
/// resident memory of a run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sift::cli::main()
}
