//! Staleness check of the committed artifacts (`generated/openapi.json`, `generated/mcp-tools.json`,
//! `generated/EVENTS.md`): each must equal what the emitters produce from the real `spec/`.
//!
//! On a mismatch the file is rewritten in place (so the fix is one commit away) and the test fails
//! with one line naming the file and the command to run.

use std::path::{Path, PathBuf};

use claudebench_codegen::emit::openapi::OpenApiOptions;
use claudebench_codegen::emit::{docs, mcp, openapi, to_pretty_json};
use claudebench_codegen::model::Spec;

const REGENERATE: &str = "cargo test -p claudebench-codegen --test it artifacts";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn real_spec() -> Spec {
    match claudebench_codegen::load_dir(&repo_root().join("spec"), "spec") {
        Ok((spec, _files)) => spec,
        Err(diags) => {
            panic!("spec/ does not load, fix it first (`cargo run -- spec check`):\n{diags}")
        }
    }
}

/// The options the committed OpenAPI document is built with.
pub fn openapi_options() -> OpenApiOptions {
    OpenApiOptions { version: env!("CARGO_PKG_VERSION").into(), server_url: "http://127.0.0.1:3000".into() }
}

/// Compares `expected` with the committed file (line endings normalised); rewrites it and fails
/// when they differ.
fn ensure_file(relative: &str, expected: &str) {
    let path = repo_root().join(relative);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current.replace("\r\n", "\n") == expected {
        return;
    }
    if let Err(e) = std::fs::write(&path, expected) {
        panic!("{relative} is stale and could not be rewritten ({e}); run `{REGENERATE}` and commit it");
    }
    panic!("{relative} was stale and has been regenerated: run `{REGENERATE}` and commit the file");
}

#[test]
fn artifacts_openapi_json_is_up_to_date() {
    ensure_file("generated/openapi.json", &to_pretty_json(&openapi::emit(&real_spec(), &openapi_options())));
}

#[test]
fn artifacts_mcp_tools_json_is_up_to_date() {
    ensure_file("generated/mcp-tools.json", &to_pretty_json(&mcp::emit(&real_spec())));
}

#[test]
fn artifacts_events_md_is_up_to_date() {
    ensure_file("generated/EVENTS.md", &docs::emit(&real_spec()));
}
