//! Records the compiler's version for `esa-sim bench`'s machine description.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok());
    if let Some(v) = version {
        println!("cargo:rustc-env=ESA_SIM_RUSTC_VERSION={}", v.trim());
    }
}
