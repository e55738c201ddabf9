//! `claudebench-codegen`: check a spec folder or scaffold handlers without building the server.
//!
//! The `claudebench` binary embeds the spec it was built from, so it cannot build while the spec
//! is broken; this small tool can, which makes it the fast loop while editing YAML.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  claudebench-codegen check [SPEC_DIR]                   check the spec (default `spec`) and print every error
  claudebench-codegen scaffold [SPEC_DIR] [HANDLERS_DIR]  write a stub for every event without a handler
                                                          (default `spec` and `src/handlers`; never overwrites)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => check(args.get(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("spec"))),
        Some("scaffold") => scaffold(
            args.get(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("spec")),
            args.get(2).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("src/handlers")),
        ),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn check(dir: PathBuf) -> ExitCode {
    let display = dir.to_string_lossy().trim_end_matches('/').to_string();
    match claudebench_codegen::load_dir(&dir, &display) {
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

fn scaffold(spec_dir: PathBuf, handlers_dir: PathBuf) -> ExitCode {
    let display = spec_dir.to_string_lossy().trim_end_matches('/').to_string();
    let spec = match claudebench_codegen::load_dir(&spec_dir, &display) {
        Ok((spec, _)) => spec,
        Err(diags) => {
            eprintln!("{diags}");
            return ExitCode::FAILURE;
        }
    };
    match claudebench_codegen::scaffold::scaffold(&spec, &handlers_dir) {
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
