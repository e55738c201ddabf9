//! For build scripts that turn a spec folder into Rust: `claudebench-generated`'s (the real spec)
//! and the test fixtures crate's. They follow cargo's conventions: every input is watched with
//! `cargo::rerun-if-changed`, a file is written only when its content changed (so dependants are
//! not rebuilt for nothing), and a bad spec is reported with one `cargo::error=` line per problem
//! plus the rustc-style report on stderr, never a panic.

use std::path::{Path, PathBuf};

use crate::emit::rust::{RustOptions, emit};
use crate::{Diagnostics, Spec, load_dir, spec_files};

/// `CARGO_MANIFEST_DIR` and `OUT_DIR`, or `None` (after a `cargo::error=` line) outside cargo.
pub fn dirs() -> Option<(PathBuf, PathBuf)> {
    match (std::env::var_os("CARGO_MANIFEST_DIR"), std::env::var_os("OUT_DIR")) {
        (Some(manifest_dir), Some(out_dir)) => Some((PathBuf::from(manifest_dir), PathBuf::from(out_dir))),
        _ => {
            println!("cargo::error=CARGO_MANIFEST_DIR and OUT_DIR must be set (run this through cargo)");
            None
        }
    }
}

/// Generate `out` from the spec folder `dir` (named `display` in diagnostics, e.g. `spec`).
/// Returns whether it succeeded; every problem has been reported to cargo.
pub fn generate(dir: &Path, display: &str, out: &Path, opts: &RustOptions) -> bool {
    match load(dir, display) {
        Ok(spec) => write_rust(&spec, opts, out),
        Err(diags) => {
            for d in diags.iter() {
                println!("cargo::error={}", d.one_line());
            }
            eprintln!("{diags}");
            false
        }
    }
}

/// Emit `spec` as Rust into `out`. Returns whether it could be written (reported when not).
pub fn write_rust(spec: &Spec, opts: &RustOptions, out: &Path) -> bool {
    match write_if_changed(out, &emit(spec, opts)) {
        Ok(()) => true,
        Err(e) => {
            println!("cargo::error=cannot write {}: {e}", out.display());
            false
        }
    }
}

/// Load a spec folder, telling cargo to rerun when the folder or any file in it changes.
///
/// A folder with no YAML yet (a fresh checkout) generates an empty spec: every module is still
/// there, just without events, so dependants keep compiling.
fn load(dir: &Path, display: &str) -> Result<Spec, Diagnostics> {
    let watched = nearest_existing(dir);
    println!("cargo::rerun-if-changed={}", watched.display());
    let has_yaml = spec_files(dir).is_ok_and(|files| !files.is_empty());
    if !has_yaml {
        println!("cargo::warning=no spec files in {display}/: generating an empty spec");
        return Ok(Spec { definitions: Vec::new(), events: Vec::new() });
    }
    let (spec, files) = load_dir(dir, display)?;
    for f in files {
        println!("cargo::rerun-if-changed={}", f.display());
    }
    Ok(spec)
}

/// The folder itself, or its closest existing ancestor (cargo reruns forever on a missing path).
fn nearest_existing(dir: &Path) -> &Path {
    let mut p = dir;
    while !p.exists() {
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    p
}

/// Leave an unchanged file alone so its mtime does not trigger needless rebuilds.
fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    std::fs::write(path, content)
}
