//! How the companion's process runs its work: the async executor both the app and
//! `lit-companion serve` run on, and the memory allocator of every program that links this
//! crate. Both are chosen for the cached path: many callers at once, each answered in the order
//! it arrived, with a few short-lived buffers per answer.

use std::io;

/// mimalloc instead of the C library's allocator: an answer builds and drops a few kilobytes
/// of JSON per node, which glibc's allocator spends about a sixth of the cached path's CPU on
/// (merging and splitting free chunks); mimalloc's per-thread pages do the same in a fraction
/// (`scripts/bench-loopback`: about 10% more answers per second). Built without transparent
/// huge pages (the `no_thp` feature), which would otherwise back its segments with 2 MiB pages
/// and nearly double `serve`'s resident memory at rest (32 MiB against 18).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The multi-threaded tokio runtime the companion runs on (one worker per core).
///
/// A worker looks at the shared queue before its own on every scheduling tick (tokio's default
/// is every 31st). With hundreds of callers at once, a worker's own queue overflows into the
/// shared one, and tasks parked there otherwise wait while newer ones keep being served: under
/// 1,000 concurrent callers that made a few wait several times as long as the median (p99 ≈
/// 2 × p50, up to 10 × in some runs). Taking the shared queue first keeps callers close to first
/// come, first served (p99 ≈ 1.3 × p50) at no cost in throughput.
pub fn async_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .global_queue_interval(1)
        .build()
}
