//! The `check` and `scaffold` commands of `claudebench-codegen` (which `claudebench spec check` and
//! `claudebench scaffold` run, so the server binary does not link the generator): they print and
//! return the process exit code.

use std::path::Path;
use std::process::ExitCode;

use crate::{load_dir, scaffold};

/// Load the spec of `dir` and print every error, or a one-line summary.
pub fn check(dir: &Path) -> ExitCode {
    match load_dir(dir, &display(dir)) {
        Ok((spec, files)) => {
            println!(
                "spec ok: {} events, {} definitions in {} files",
                spec.events.len(),
                spec.definitions.len(),
                files.len()
            );
            ExitCode::SUCCESS
        }
        Err(diags) => {
            eprintln!("{diags}");
            ExitCode::FAILURE
        }
    }
}

/// Write a stub handler under `handlers_dir` for every event of the spec in `spec_dir` that has
/// none (never overwriting a file) and print what was written.
pub fn scaffold(spec_dir: &Path, handlers_dir: &Path) -> ExitCode {
    let spec = match load_dir(spec_dir, &display(spec_dir)) {
        Ok((spec, _)) => spec,
        Err(diags) => {
            eprintln!("{diags}");
            return ExitCode::FAILURE;
        }
    };
    match scaffold::scaffold(&spec, handlers_dir) {
        Ok(report) => {
            for file in &report.created {
                println!("created {}", file.display());
            }
            for file in &report.updated {
                println!("updated {}", file.display());
            }
            println!("{} stub(s) written, {} handler(s) already present", report.created.len(), report.kept);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write handler stubs under `{}`: {e}", handlers_dir.display());
            ExitCode::FAILURE
        }
    }
}

/// How a folder is named in diagnostics: as given, without a trailing slash.
fn display(dir: &Path) -> String {
    dir.to_string_lossy().trim_end_matches('/').to_string()
}
