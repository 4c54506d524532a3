//! The `esa-sim` binary: everything is in the library; see `cli.rs`.
//!
//! mimalloc is the allocator. A run allocates its histograms (a few hundred
//! KB each) afresh, and glibc's malloc handed them back to the kernel
//! between runs, so every run of a sweep paid page faults and page clearing
//! to get them again; with mimalloc the benches' runs take about 6 % less
//! wall time (README, Performance).

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(esa_sim::cli::main());
}
