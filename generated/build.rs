//! Generates `OUT_DIR/spec.rs` from `../spec` (and `OUT_DIR/fixture.rs` from the codegen test
//! fixture) with `claudebench-codegen`. A bad spec fails the build with one `cargo::error=` line
//! per problem and the full rustc-style report on stderr, never a panic.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "tests/fixtures/kitchen_sink.rs"]
mod kitchen_sink;

use claudebench_codegen::emit::rust::{RustOptions, emit};
use claudebench_codegen::{Diagnostics, Spec, load_dir};

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed=tests/fixtures/kitchen_sink.rs");
    let (Some(manifest_dir), Some(out_dir)) = (std::env::var_os("CARGO_MANIFEST_DIR"), std::env::var_os("OUT_DIR"))
    else {
        println!("cargo::error=CARGO_MANIFEST_DIR and OUT_DIR must be set (run this through cargo)");
        return ExitCode::FAILURE;
    };
    let root = PathBuf::from(manifest_dir).join("..");
    let out_dir = PathBuf::from(out_dir);

    let mut ok = true;
    for (dir, display, file) in [
        (root.join("spec"), "spec", "spec.rs"),
        (root.join("codegen/tests/fixtures/spec"), "codegen/tests/fixtures/spec", "fixture.rs"),
    ] {
        match load(&dir, display) {
            Ok(spec) => {
                let source = emit(&spec, &RustOptions { support: "crate".into(), handlers_dir: "src/handlers".into() });
                if let Err(e) = write_if_changed(&out_dir.join(file), &source) {
                    println!("cargo::error=cannot write {file} to OUT_DIR: {e}");
                    ok = false;
                }
            }
            Err(diags) => {
                for d in diags.iter() {
                    println!("cargo::error={}", d.one_line());
                }
                eprintln!("{diags}");
                ok = false;
            }
        }
    }
    // A model using every feature of the spec language, for the integration tests (which
    // `include!` it with the support crate named by its external path).
    let kitchen_sink = emit(
        &kitchen_sink::spec(),
        &RustOptions { support: "::claudebench_generated".into(), handlers_dir: "src/handlers".into() },
    );
    if let Err(e) = write_if_changed(&out_dir.join("kitchen_sink.rs"), &kitchen_sink) {
        println!("cargo::error=cannot write kitchen_sink.rs to OUT_DIR: {e}");
        ok = false;
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Load a spec folder, telling cargo to rerun when the folder or any file in it changes.
///
/// A folder with no YAML yet (a fresh checkout, or the fixture before it exists) generates an
/// empty spec: every module is still there, just without events, so dependants keep compiling.
fn load(dir: &Path, display: &str) -> Result<Spec, Diagnostics> {
    let watched = nearest_existing(dir);
    println!("cargo::rerun-if-changed={}", watched.display());
    let has_yaml = claudebench_codegen::spec_files(dir).is_ok_and(|files| !files.is_empty());
    if !has_yaml {
        if display == "spec" {
            println!("cargo::warning=no spec files in {display}/: generating an empty spec");
        }
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
