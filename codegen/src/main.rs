//! `claudebench-codegen check [DIR]`: check a spec folder without building anything.
//!
//! The `claudebench` binary embeds the spec it was built from, so it cannot build while the spec
//! is broken; this small tool can, which makes it the fast loop while editing YAML.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => check(args.get(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("spec"))),
        Some("-h" | "--help") | None => {
            println!("usage: claudebench-codegen check [DIR]\n\nCheck the spec in DIR (default `spec`) and print every error, like the build would.");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown command `{other}`\n\nusage: claudebench-codegen check [DIR]");
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
