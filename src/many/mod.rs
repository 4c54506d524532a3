//! Many runs of one scenario (DESIGN.md §7): replications with confidence
//! intervals, sweeps over a grid of `--vary` values, and the files they
//! write. Every figure is reduced from the (point, replication) runs in
//! index order, so results do not depend on thread count or sharding.

pub mod output;
