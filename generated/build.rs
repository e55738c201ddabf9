//! Generates `OUT_DIR/spec.rs` from `../spec` with `claudebench-codegen`. Only the real spec: the
//! codegen test fixtures are compiled by `claudebench-generated-fixtures` (`fixtures/`), a
//! dev-dependency, so a normal or release build never emits them. A bad spec fails the build
//! with one `cargo::error=` line per problem and the full rustc-style report on stderr, never a
//! panic.

use std::process::ExitCode;

use claudebench_codegen::build;
use claudebench_codegen::emit::rust::RustOptions;

fn main() -> ExitCode {
    let Some((manifest_dir, out_dir)) = build::dirs() else {
        return ExitCode::FAILURE;
    };
    // The handler traits are implemented by the `claudebench` crate, one file per event.
    let opts = RustOptions { support: "crate".into(), handlers_dir: "src/handlers".into() };
    if build::generate(&manifest_dir.join("../spec"), "spec", &out_dir.join("spec.rs"), &opts) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
