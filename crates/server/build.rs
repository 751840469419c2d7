//! Release builds of `portico` are linked for a small resident set (ARCHITECTURE "memory"):
//!
//! - the functions a running server executes come first in its code (`hot-code.txt`,
//!   written by bench/hot-code), so the code the kernel maps around each page touched is
//!   mostly code that runs. A name the linker does not find (the list is older than the
//!   code) is skipped without a warning; the build never fails on it.
//! - relative relocations are packed (`-z pack-relative-relocs`, DT_RELR): the loader reads
//!   9 KB of them at every start instead of 784 KB, which stayed mapped. The binary then
//!   needs glibc 2.36 or later (Debian 12, the Dockerfile's base).
//!
//! Only where the linker is Rust's own lld, the default of x86_64-unknown-linux-gnu since
//! Rust 1.90: GNU ld has no --symbol-ordering-file.

use std::env;
use std::path::Path;

fn main() {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("hot-code.txt");
    println!("cargo::rerun-if-changed={}", list.display());
    println!("cargo::rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let target = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    // Another linker (`-C linker=…`, `-C linker-flavor=…`) may not be lld; extra
    // `-C link-arg`s leave the linker as it is.
    let default_linker = env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_none()
        && !env::var("CARGO_ENCODED_RUSTFLAGS")
            .unwrap_or_default()
            .contains("linker");
    if !(release && target && default_linker) {
        return;
    }
    println!("cargo::rustc-link-arg-bin=portico=-Wl,-z,pack-relative-relocs");
    if list.is_file() {
        println!(
            "cargo::rustc-link-arg-bin=portico=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo::rustc-link-arg-bin=portico=-Wl,--no-warn-symbol-ordering");
    }
}
