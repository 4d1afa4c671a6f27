//! `lit-companion`: Lit session signatures from the command line, for servers and CI (the
//! command itself lives in the crate's library).

/// mimalloc instead of the C library's allocator: an answer builds and drops a few kilobytes
/// of JSON per node, which glibc's allocator spends about a sixth of the cached path's CPU on
/// (merging and splitting free chunks); mimalloc's per-thread pages do the same in a fraction
/// (`scripts/bench-loopback`: about 10% more answers per second). Built without transparent
/// huge pages (the `no_thp` feature), which would otherwise back its segments with 2 MiB pages
/// and nearly double `serve`'s resident memory at rest (32 MiB against 18).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lit_companion_cli::main(std::env::args_os())
}
