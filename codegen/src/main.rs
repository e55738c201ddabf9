//! `claudebench-codegen`: check a spec folder or scaffold handlers without building the server.
//!
//! The `claudebench` binary embeds the spec it was built from, so it cannot build while the spec
//! is broken; this small tool can, which makes it the fast loop while editing YAML.

use std::path::PathBuf;
use std::process::ExitCode;

use claudebench_codegen::cli;

const USAGE: &str = "usage:
  claudebench-codegen check [SPEC_DIR]                   check the spec (default `spec`) and print every error
  claudebench-codegen scaffold [SPEC_DIR] [HANDLERS_DIR]  write a stub for every event without a handler
                                                          (default `spec` and `src/handlers`; never overwrites)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => cli::check(&args.get(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("spec"))),
        Some("scaffold") => cli::scaffold(
            &args.get(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("spec")),
            &args.get(2).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("src/handlers")),
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
