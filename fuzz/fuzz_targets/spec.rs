//! Arbitrary bytes as spec YAML through the loader and checker (and, when they pass, every
//! emitter). A spec, however broken, must come back as located diagnostics, never a panic; a
//! spec that passes every check must emit valid Rust.
//!
//! The input may hold several files, separated by a line `#---- next file ----`, so that rules
//! across files (definitions in one, references in another, duplicates) are reached too.

#![no_main]

use claudebench_codegen::emit::openapi::OpenApiOptions;
use claudebench_codegen::emit::rust::RustOptions;
use claudebench_codegen::emit::{docs, json_schema, mcp, openapi, rust, to_pretty_json};
use claudebench_codegen::{SpecSource, load_sources};
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &str = "\n#---- next file ----\n";
/// More files add nothing the first few do not reach.
const MAX_FILES: usize = 8;

fuzz_target!(|data: &[u8]| {
    // The build reads spec files as UTF-8 and reports anything else as an I/O error before the
    // loader runs; replacing invalid bytes lets every input reach the loader.
    let text = String::from_utf8_lossy(data);
    let sources: Vec<SpecSource> = text
        .split(SEPARATOR)
        .take(MAX_FILES)
        .enumerate()
        .map(|(i, text)| SpecSource { path: format!("spec/f{i}.yaml"), text: text.to_string() })
        .collect();

    match load_sources(&sources) {
        Err(diags) => {
            assert!(!diags.is_empty(), "an error result carries at least one diagnostic");
            for d in diags.iter() {
                assert!(!d.kind.as_str().is_empty() && !d.message.is_empty(), "a diagnostic says what is wrong: {d:?}");
                let loc = d.location.as_ref().unwrap_or_else(|| panic!("a spec error points at its place: {d:?}"));
                assert!(loc.line >= 1 && loc.column >= 1, "positions are 1-based: {d:?}");
                let _ = d.one_line();
            }
            let _ = diags.to_string();
        }
        Ok(spec) => {
            let source =
                rust::emit(&spec, &RustOptions { support: "crate".into(), handlers_dir: "src/handlers".into() });
            assert!(!source.contains("compile_error!"), "a checked spec emits valid Rust:\n{source}");
            let options = OpenApiOptions { version: "0.0.0".into(), server_url: "http://127.0.0.1:3000".into() };
            let _ = to_pretty_json(&openapi::emit(&spec, &options));
            let _ = to_pretty_json(&mcp::emit(&spec));
            let _ = docs::emit(&spec);
            for event in &spec.events {
                let _ = json_schema::event_input(&spec, event);
                let _ = json_schema::event_output(&spec, event);
            }
        }
    }
});
