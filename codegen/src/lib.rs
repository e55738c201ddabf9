//! ClaudeBench code generator: one YAML spec in, every artifact out.
//!
//! The stages are separate and individually testable:
//! `yaml` (spanned YAML tree) → `parse` (tree → model, collecting every error) →
//! `check` (semantic rules over the model) → [`model::Spec`] → `emit::{rust, json_schema, openapi, mcp, docs}`.
//! Emitters only ever see a valid model and never re-read YAML.

pub mod build;
pub mod cli;
pub mod diagnostics;
pub mod emit;
pub mod model;
pub mod scaffold;

mod check;
mod parse;
mod yaml;

use std::path::{Path, PathBuf};

pub use diagnostics::{Diagnostic, DiagnosticKind, Diagnostics};
pub use model::Spec;

/// One spec file's text and the path it is reported under (e.g. `spec/task.yaml`).
#[derive(Debug, Clone)]
pub struct SpecSource {
    pub path: String,
    pub text: String,
}

/// Parse and check spec sources into a valid model, or every diagnostic found.
pub fn load_sources(sources: &[SpecSource]) -> Result<Spec, Diagnostics> {
    let (parsed, mut diags) = parse::parse_sources(sources);
    let spec = check::check(parsed, &mut diags);
    if diags.is_empty() { Ok(spec) } else { Err(diags) }
}

/// Read every `*.yaml`/`*.yml` file of `dir` (sorted by name) and load them.
///
/// `display_root` is prefixed to file names in diagnostics (e.g. `spec`), so messages read
/// `spec/task.yaml:14:5` whatever the working directory. Returns the model and the files read
/// (for `rerun-if-changed`).
pub fn load_dir(dir: &Path, display_root: &str) -> Result<(Spec, Vec<PathBuf>), Diagnostics> {
    let files = spec_files(dir).map_err(|e| Diagnostics::single(Diagnostic::io(dir, &e)))?;
    let mut sources = Vec::with_capacity(files.len());
    let mut diags = Diagnostics::default();
    for file in &files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match std::fs::read_to_string(file) {
            Ok(text) => sources.push(SpecSource { path: format!("{display_root}/{name}"), text }),
            Err(e) => diags.push(Diagnostic::io(file, &e)),
        }
    }
    if sources.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::no_spec_files(dir));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    load_sources(&sources).map(|spec| (spec, files))
}

/// The YAML files of a spec folder, sorted by name.
pub fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    Ok(files)
}
