//! The `esa-sim` binary: everything is in the library; see `cli.rs`.

fn main() {
    std::process::exit(esa_sim::cli::main());
}
